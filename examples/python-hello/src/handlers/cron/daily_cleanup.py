"""Cron `DailyCleanup`: every night at midnight."""

from generated.state import State


async def handler(state: State) -> None:
    state.logger.info("daily cleanup: nothing to clean up yet")
