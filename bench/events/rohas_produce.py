"""The Rohas producer of bench/events/run.py: `POST /burst` to a Rohas
server, whose API handler publishes the events with state.trigger_event
(each stamped with its publish time there). Without a rate, one request
publishes all `count` events; with a `rate` (events/s), one request of
`chunk` events every chunk/rate seconds, on one keep-alive connection.
Prints one JSON line: published, seconds. Standard library only.

    python3 rohas_produce.py PORT RUN COUNT EXPECTED CHUNK [RATE]
"""

from __future__ import annotations

import http.client
import json
import sys
import time


def main() -> None:
    port, run, count, expected, chunk = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    rate = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    if rate <= 0:
        chunk = count
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.connect()
    headers = {"content-type": "application/json"}
    start = time.perf_counter()
    published = 0
    ticks = 0
    while published < count:
        if rate > 0:
            wait = start + ticks * chunk / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            ticks += 1
        n = min(chunk, count - published)
        conn.request("POST", "/burst", json.dumps({"run": run, "count": n, "expected": expected}), headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            print(json.dumps({"error": f"POST /burst answered {response.status}: {body[:300]!r}"}))
            sys.exit(1)
        published += n
    print(json.dumps({"published": published, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
