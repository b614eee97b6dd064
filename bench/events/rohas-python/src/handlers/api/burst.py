"""POST /burst {"run", "count", "expected"}: publish `count` Tick events,
each stamped with its publish time (ns since the epoch)."""

import time

from generated.api.Burst import BurstInput
from generated.state import State


async def handler(input: BurstInput, state: State) -> dict:
    run, expected, now = input.run, input.expected, time.time_ns
    for _ in range(input.count):
        state.trigger_event("Tick", {"run": run, "expected": expected, "t": now()})
    return {"published": input.count}
