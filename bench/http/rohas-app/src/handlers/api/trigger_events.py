"""POST /events/trigger {"count": N}: publish N BenchTick events."""

from generated.api.TriggerEvents import TriggerInput
from generated.state import State


async def handler(input: TriggerInput, state: State) -> dict:
    for n in range(input.count):
        state.trigger_event("BenchTick", {"n": n})
    return {"triggered": input.count}
