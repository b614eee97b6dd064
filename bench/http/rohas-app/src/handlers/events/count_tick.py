"""Every BenchTick event: count it."""

import bench_counter
from generated.events.BenchTick import BenchTick


async def handler(event: BenchTick) -> None:
    bench_counter.count += 1
