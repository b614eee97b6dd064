"""The Celery app of bench/events/run.py: one task, `tick`, doing what Rohas's
on_tick handler does, with the same code (rohas-python/src/tick_counter.py).

    celery -A celery_app worker --pool prefork --concurrency 1

Broker: the local Redis, db $BENCH_EVENTS_REDIS_DB (13 by default);
`acks_late` (a message is acknowledged after its task ran, as Rohas's
durable adapter would), no result backend.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rohas-python" / "src"))

import tick_counter  # noqa: E402
from celery import Celery  # noqa: E402

port = os.environ.get("BENCH_EVENTS_REDIS_PORT", "6379")
db = os.environ.get("BENCH_EVENTS_REDIS_DB", "13")
app = Celery("bench_events", broker=f"redis://127.0.0.1:{port}/{db}")
app.conf.update(
    task_acks_late=True,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="tick")
def tick(run: str, expected: int, t: int) -> None:
    tick_counter.handled(run, expected, t)
