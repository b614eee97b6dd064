"""WebSocket `Chat` at /ws/chat: the schema sets `broadcast: true`, so the
message `on_message` returns goes to every connected client."""

import dataclasses

from generated.runtime import HandlerContext
from generated.state import State
from generated.websockets.Chat import WebSocketMessage


async def on_connect(context: HandlerContext, state: State) -> None:
    state.logger.info("client connected", connection=context.metadata.get("connection_id"))


async def on_message(message: WebSocketMessage, state: State) -> WebSocketMessage:
    return dataclasses.replace(message, sent_at=state.now())


async def on_disconnect(context: HandlerContext, state: State) -> None:
    state.logger.info("client disconnected", connection=context.metadata.get("connection_id"))
