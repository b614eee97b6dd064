"""GET /events/count: how many BenchTick events the Python handler processed."""

import bench_counter


async def handler() -> dict:
    return {"count": bench_counter.count}
