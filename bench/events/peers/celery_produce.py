"""The Celery producer of bench/events/run.py: `count` `tick` tasks of run
`run`, each stamped with its publish time, sent with apply_async (Celery has
no bulk send); with a `rate` (events/s), `chunk` of them every chunk/rate
seconds, else as fast as it goes. Prints one JSON line: published, seconds.

    python celery_produce.py RUN COUNT EXPECTED CHUNK [RATE]
"""

from __future__ import annotations

import json
import sys
import time

from celery_app import tick


def main() -> None:
    run, count, expected, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    send, now = tick.apply_async, time.time_ns
    send(args=(f"{run}-connect", 1, now()))  # open the broker connection before the clock starts
    start = time.perf_counter()
    published = 0
    ticks = 0
    while published < count:
        if rate > 0:
            wait = start + ticks * chunk / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            ticks += 1
        for _ in range(min(chunk, count - published)):
            send(args=(run, expected, now()))
        published += min(chunk, count - published)
    print(json.dumps({"published": published, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
