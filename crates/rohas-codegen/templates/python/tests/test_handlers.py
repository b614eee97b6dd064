"""Tests of the handlers, run as the engine runs them: no server needed.

`generated.testing.Harness` calls each handler by its schema name through
the engine's own dispatch code (the same parameter binding, `HttpError`
handling and event rules), and records what it returned, logged, sent and
triggered. Time is the harness's clock, which handlers read with
`state.now()`.

Run them with `rohas test` (it brings src/generated/ up to date first), or
`python -m pytest` / `python -m unittest discover -s tests` with `src/` on
the import path (`PYTHONPATH=src`; pytest reads it from pyproject.toml).
"""

import unittest
from datetime import datetime, timedelta, timezone

from generated.api.CreateUser import CreateUserInput, User
from generated.testing import Harness
from generated.websockets.Chat import WebSocketMessage

START = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
TOKEN = {"authorization": "Bearer secret"}


class HarnessTest(unittest.TestCase):
    def setUp(self) -> None:
        self.harness = Harness(now=START)
        self.addCleanup(self.harness.close)


class ApiTests(HarnessTest):
    def test_health_answers_ok(self) -> None:
        answer = self.harness.call_api("Health").unwrap()
        self.assertEqual(answer.status, "ok")

    def test_create_user_returns_the_user_and_publishes_user_created(self) -> None:
        ada = CreateUserInput(name="Ada", email="ada@example.com")
        result = self.harness.call_api("CreateUser", ada, headers=TOKEN)
        user = result.unwrap()
        self.assertEqual((user.name, user.email, user.created_at), ("Ada", "ada@example.com", START))
        self.assertEqual([event.name for event in result.events], ["UserCreated"])
        self.assertEqual(result.logs[0].fields["email"], "ada@example.com")

    def test_create_user_without_a_token_is_refused(self) -> None:
        result = self.harness.call_api("CreateUser", {"name": "Ada", "email": "ada@example.com"})
        self.assertEqual(result.status, 401)
        self.assertEqual(result.events, [])


class EventTests(HarnessTest):
    def test_a_new_user_gets_a_welcome_email(self) -> None:
        self.harness.call_api("CreateUser", CreateUserInput(name="Ada", email="ada@example.com"), headers=TOKEN)
        run = self.harness.run_due()
        self.assertEqual(run.handlers, ["send_welcome_email"])
        self.assertIn("ada@example.com", run.runs[0].logs[0].message)

    def test_publishing_user_created_runs_its_handlers(self) -> None:
        run = self.harness.publish("UserCreated", User(id=7, name="Bo", email="bo@example.com", created_at=START))
        self.assertTrue(run.ok, run.failures)
        self.assertEqual(run.run_of("send_welcome_email").logs[0].fields["user_id"], 7)


class CronTests(HarnessTest):
    def test_daily_cleanup_runs(self) -> None:
        self.harness.clock.advance(timedelta(hours=15))  # midnight
        run = self.harness.run_cron("DailyCleanup")
        self.assertTrue(run.ok, run.error)
        self.assertEqual(len(run.logs), 1)


class WebSocketTests(HarnessTest):
    def test_a_message_is_broadcast_stamped(self) -> None:
        chat = self.harness.ws("Chat")
        self.assertTrue(chat.connect().ok)
        step = chat.message(WebSocketMessage(user="ada", text="hi"))
        self.assertEqual([sent.kind for sent in step.sent], ["broadcast"])
        self.assertEqual(step.replies[0]["text"], "hi")
        self.assertEqual(step.replies[0]["sentAt"], START.isoformat())
        self.assertTrue(chat.disconnect().ok)


class MiddlewareTests(HarnessTest):
    def test_a_request_without_a_token_is_refused(self) -> None:
        refused = self.harness.middleware("auth", {"headers": {}})
        self.assertFalse(refused.allowed)
        self.assertEqual(refused.error.status if refused.error else None, 401)

    def test_a_request_with_a_token_goes_through(self) -> None:
        self.assertTrue(self.harness.middleware("auth", {"headers": TOKEN}).allowed)


if __name__ == "__main__":
    unittest.main()
