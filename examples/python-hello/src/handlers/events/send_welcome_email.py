"""Runs for every `UserCreated` event (retried on failure)."""

from generated.events.UserCreated import UserCreated
from generated.state import State


async def handler(event: UserCreated, state: State) -> None:
    state.logger.info(f"sending a welcome email to {event.email}", user_id=event.id)
