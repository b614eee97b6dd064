"""The events benchmark's handler logic, shared by Rohas's `on_tick` and the
Celery task (bench/events/peers/celery_app.py imports this file), so both
do exactly the same work per event.

Per event: take the time, count it, keep its publish-to-handled latency. When
a run has seen `expected` events, write its marker: a JSON file named after
the run in the folder $BENCH_EVENTS_MARKERS (written to a temporary name,
then renamed, so run.py never reads half of it). The state is per process;
each run has a new `run` id, which resets it.
"""

from __future__ import annotations

import json
import os
import time

_run: str | None = None
_count = 0
_first_publish = 0
_latencies: list[int] = []


def handled(run: str, expected: int, t: int) -> None:
    global _run, _count, _first_publish, _latencies
    now = time.time_ns()
    if run != _run:
        _run, _count, _first_publish, _latencies = run, 0, t, []
    _count += 1
    if t < _first_publish:
        _first_publish = t
    _latencies.append(now - t)
    if _count == expected:
        write_marker(run, _count, _first_publish, now, _latencies)


def percentile(ordered: list[int], q: float) -> int:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[int(rank) - 1]


def write_marker(run: str, count: int, first_publish: int, last_handled: int, latencies: list[int]) -> None:
    ordered = sorted(latencies)
    marker = {
        "run": run,
        "count": count,
        "first_publish_ns": first_publish,
        "last_handled_ns": last_handled,
        "p50_ns": percentile(ordered, 0.50),
        "p99_ns": percentile(ordered, 0.99),
        "max_ns": ordered[-1],
        "mean_ns": sum(ordered) // len(ordered),
        "pid": os.getpid(),
    }
    folder = os.environ.get("BENCH_EVENTS_MARKERS", ".")
    tmp = os.path.join(folder, f".{run}.tmp")
    with open(tmp, "w") as f:
        json.dump(marker, f)
    os.replace(tmp, os.path.join(folder, f"{run}.json"))
