#!/usr/bin/env python3
"""The Python half of Rohas's bridge alone: calls per second through
crates/rohas-runtime-python/src/host.py, without HTTP, tokio or the GIL hand-off.

    python3 bench/http/host_micro.py            # after `rohas -C bench/http/rohas-app codegen`
    python3 bench/http/host_micro.py --profile  # cProfile of the objects case

It loads host.py with a stand-in `_rohas` module, loads the bench project's
handlers, and feeds batches of call jobs shaped like the ones the engine sends
(`call_job` in crates/rohas-runtime-python/src/lib.rs), as `drain` would, then
runs the loop until every call completed. What it reports is the upper bound
the Python side puts on req/s per core, per case; run.py's numbers include the
HTTP server, the JSON on the Rust side and the thread hand-offs on top.

Replies are written as JSON in Rust (`_rohas.dumps`, `_rohas.success`), which
exists only inside the embedded interpreter: here the Python encoder they
replaced stands in (crates/rohas-runtime-python/tests/json_reference.py), so
the objects case counts that encoder's cost, not the Rust writer's. The
Rust writer's own figure: `cargo nextest run -p rohas-runtime-python --release
--run-ignored only measure --no-capture`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOST = REPO / "crates" / "rohas-runtime-python" / "src" / "host.py"
JSON_REFERENCE = REPO / "crates" / "rohas-runtime-python" / "tests" / "json_reference.py"
APP = HERE / "rohas-app"

HEADERS = {"host": "127.0.0.1:3000", "user-agent": "wrk", "content-type": "application/json"}
USER = {"name": "Ada Lovelace", "email": "ada@example.com"}


def spec(kind: str, name: str, file: str, **types_: str | None) -> dict:
    prefix = "event" if kind == "event" else kind
    return {
        "id": f"{prefix}:{name}",
        "kind": kind,
        "name": name,
        "files": [file],
        "functions": ["handler"],
        "request_type": types_.get("request_type"),
        "body_type": types_.get("body_type"),
        "message_type": None,
        "event_type": types_.get("event_type"),
        "optional": False,
    }


SPECS = [
    spec("api", "Health", "src/handlers/api/health.py", request_type="HealthRequest"),
    spec("api", "CreateUser", "src/handlers/api/create_user.py", request_type="CreateUserRequest",
         body_type="CreateUserInput"),
    spec("api", "Objects", "src/handlers/api/objects.py", request_type="ObjectsRequest"),
    spec("event", "BenchTick:count_tick", "src/handlers/events/count_tick.py", event_type="BenchTick"),
]


def api_call(name: str, body: object) -> tuple[str, str]:
    """The request and context JSON texts the engine sends for one api call
    (see lib.rs `call_job`)."""
    trace = "0123456789abcdef0123456789abcdef"
    request = json.dumps({"query_params": {}, "body": body, "headers": HEADERS})
    context = json.dumps({
        "handler_name": name,
        "payload": body,
        "query_params": {},
        "metadata": {
            "path_params": {},
            "headers": HEADERS,
            "api": name,
            "attempt": 1,
            "trace_id": trace,
            "handler_kind": "api",
        },
    })
    return request, context


def event_call(handler: str, payload: dict) -> tuple[str, str]:
    """The request (the event object) and context JSON texts of one event
    delivery (see `event_request` in crates/rohas-engine/src/dispatch.rs)."""
    trace = "0123456789abcdef0123456789abcdef"
    event = {**payload, "payload": payload, "name": "BenchTick", "timestamp": "2026-11-25T00:00:00Z",
             "trace_id": trace}
    context = {"handler_name": handler, "payload": payload, "query_params": {},
               "metadata": {"attempt": 1, "event": "BenchTick", "source": "api:TriggerEvents",
                            "trace_id": trace, "handler_kind": "event"}}
    return json.dumps(event), json.dumps(context)


CASES = {
    "health": ("api:Health", api_call("Health", None)),
    "users": ("api:CreateUser", api_call("CreateUser", USER)),
    "objects": ("api:Objects", api_call("Objects", None)),
    "event": ("event:BenchTick:count_tick", event_call("count_tick", {"n": 1})),
}


def load_host() -> tuple[types.ModuleType, list]:
    done: list = []
    def wait_abandoned(timeout_ms: int) -> list[int]:
        time.sleep(timeout_ms / 1000)
        return []

    reference = types.ModuleType("json_reference")
    exec(compile(JSON_REFERENCE.read_text(), str(JSON_REFERENCE), "exec"), reference.__dict__)
    fake = types.ModuleType("_rohas")
    fake.__dict__.update(
        dumps=reference.dumps,
        success=reference.success,
        complete=lambda call_id, ok, body: done.append((call_id, ok, body)),
        complete_many=done.extend,
        log=lambda *a: None,
        broadcast=lambda *a: None,
        send=lambda *a: None,
        ready=lambda: None,
        wait_abandoned=wait_abandoned,
        take_batch=lambda: [],
    )
    sys.modules["_rohas"] = fake
    host = types.ModuleType("rohas_host")
    host.__dict__["__file__"] = str(HOST)
    exec(compile(HOST.read_text(), "rohas_host.py", "exec"), host.__dict__)
    return host, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=64, help="calls per drain (the engine's queue depth)")
    parser.add_argument("--profile", action="store_true", help="cProfile the objects case")
    args = parser.parse_args()
    if not (APP / "src" / "generated").is_dir():
        sys.exit("run `rohas -C bench/http/rohas-app codegen` first")

    host, done = load_host()
    runtime = host.Runtime(str(APP), dev=False)
    runtime.prepare_paths()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime.loop = loop
    problems = runtime.load(SPECS)["problems"]
    if problems:
        sys.exit(f"cannot load the handlers: {problems}")

    def run(handler: str, data: tuple[str, str], calls: int) -> float:
        done.clear()
        start = time.perf_counter()
        call_id = 0
        while call_id < calls:
            for _ in range(min(args.batch, calls - call_id)):
                call_id += 1
                runtime.start(call_id, "call", handler, "trace", data[0], data[1], None, None)
            while len(done) < call_id:
                loop.run_until_complete(asyncio.sleep(0))
        elapsed = time.perf_counter() - start
        if not all(ok for _, ok, _ in done):
            sys.exit(f"{handler} failed: {next(body for _, ok, body in done if not ok)}")
        return elapsed

    for case, (handler, data) in CASES.items():
        run(handler, data, 500)  # warm-up
        calls = args.calls if case != "objects" else max(1, args.calls // 10)
        # Best of three: the machine may be shared, and only the fastest run
        # says what the code costs.
        elapsed = min(run(handler, data, calls) for _ in range(3))
        print(f"{case:8} {calls / elapsed:10,.0f} calls/s  {elapsed / calls * 1e6:7.1f} µs per call (Python side)")

    if args.profile:
        handler, data = CASES["objects"]
        profiler = cProfile.Profile()
        profiler.enable()
        run(handler, data, 1000)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
