"""Tests of the handlers, called as plain functions: no engine, no server.

Run them with `rohas test` (it brings src/generated/ up to date and puts
src/ on the import path), or `python -m unittest discover -s tests` with
`PYTHONPATH=src`. pytest runs them too.

Each test builds what the engine would pass (generated types, a `State`
whose host records what the handler logs) and checks what comes back.
"""

import unittest
from datetime import datetime
from typing import Any

from generated.api.CreateUser import CreateUserInput, User
from generated.events.UserCreated import UserCreated
from generated.runtime import HandlerContext, HttpError
from generated.state import State
from generated.websockets.Chat import WebSocketMessage
from handlers.api import create_user, health
from handlers.cron import daily_cleanup
from handlers.events import send_welcome_email
from handlers.websockets import chat
from middlewares import auth


class RecordingHost:
    """Stands in for the engine: keeps what a handler logs and sends."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, str, dict[str, Any]]] = []
        self.sent: list[tuple[str, Any]] = []

    def log(self, level: str, message: str, fields: dict[str, Any]) -> None:
        self.logs.append((level, message, fields))

    def broadcast(self, endpoint: str, message: Any) -> None:
        self.sent.append((endpoint, message))

    def send(self, connection_id: str, message: Any) -> None:
        self.sent.append((connection_id, message))


def state_for(handler: str) -> tuple[State, RecordingHost]:
    host = RecordingHost()
    return State(handler, trace_id="test-trace", host=host), host


class ApiTests(unittest.IsolatedAsyncioTestCase):
    async def test_health_answers_ok(self) -> None:
        answer = await health.handler()
        self.assertEqual(answer.status, "ok")
        datetime.fromisoformat(answer.timestamp)

    async def test_create_user_returns_the_user_and_logs_it(self) -> None:
        state, host = state_for("CreateUser")
        user = await create_user.handler(CreateUserInput(name="Ada", email="ada@example.com"), state)
        self.assertEqual((user.name, user.email), ("Ada", "ada@example.com"))
        self.assertGreater(user.id, 0)
        self.assertEqual(host.logs[0][0], "info")
        self.assertEqual(host.logs[0][2]["email"], "ada@example.com")


class EventTests(unittest.IsolatedAsyncioTestCase):
    async def test_welcome_email_is_logged_for_the_user(self) -> None:
        state, host = state_for("send_welcome_email")
        event = UserCreated.from_payload(User(id=7, name="Ada", email="ada@example.com"))
        await send_welcome_email.handler(event, state)
        self.assertIn("ada@example.com", host.logs[0][1])
        self.assertEqual(host.logs[0][2]["user_id"], 7)


class CronTests(unittest.IsolatedAsyncioTestCase):
    async def test_daily_cleanup_runs(self) -> None:
        state, host = state_for("DailyCleanup")
        await daily_cleanup.handler(state)
        self.assertEqual(len(host.logs), 1)


class WebSocketTests(unittest.IsolatedAsyncioTestCase):
    async def test_a_message_comes_back_stamped(self) -> None:
        state, _ = state_for("Chat")
        reply = await chat.on_message(WebSocketMessage(user="ada", text="hi"), state)
        self.assertEqual((reply.user, reply.text), ("ada", "hi"))
        self.assertIsNotNone(reply.sent_at)

    async def test_connect_and_disconnect_are_logged(self) -> None:
        state, host = state_for("Chat")
        context = HandlerContext(handler_name="Chat", metadata={"connection_id": "c1"})
        await chat.on_connect(context, state)
        await chat.on_disconnect(context, state)
        self.assertEqual([fields["connection"] for _, _, fields in host.logs], ["c1", "c1"])


class MiddlewareTests(unittest.IsolatedAsyncioTestCase):
    async def test_a_request_without_a_token_is_refused(self) -> None:
        state, _ = state_for("auth")
        with self.assertRaises(HttpError) as refused:
            await auth.handler(HandlerContext(metadata={"headers": {}}), state)
        self.assertEqual(refused.exception.status, 401)

    async def test_a_request_with_a_token_goes_through(self) -> None:
        state, _ = state_for("auth")
        context = HandlerContext(metadata={"headers": {"authorization": "Bearer secret"}})
        await auth.handler(context, state)  # raises HttpError when it refuses


if __name__ == "__main__":
    unittest.main()
