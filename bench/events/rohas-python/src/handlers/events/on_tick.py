"""Every Tick event: count it and keep its latency (tick_counter.py, the same
code the Celery task runs)."""

import tick_counter
from generated.events.Tick import Tick


async def handler(event: Tick) -> None:
    tick_counter.handled(event.run, event.expected, event.t)
