#!/usr/bin/env python3
"""The HTTP benchmark of issues 4 and 19: Rohas (Python handlers) beside FastAPI and Robyn.

    python3 bench/http/run.py                     # everything, 10 s per case
    python3 bench/http/run.py --duration 3        # a quick run
    python3 bench/http/run.py --no-all-cores --no-startup --skip-events --skip-reload

Measures, each skippable:

- one core (`--no-one-core`): each server pinned to one core (`taskset -c 0`:
  Rohas, uvicorn with one worker, Robyn `--processes 1 --workers 1`), the
  load generator (wrk, or oha when wrk is missing) on the other
  (`taskset -c 1`). Per case: a 2 s warm-up, then `--duration` seconds
  measured at 64 connections; req/s, p99, the server's CPU, the ratios
  Rohas/Robyn and Rohas/FastAPI;
- all cores (`--no-all-cores`): the same cases with every core to each
  server: Rohas with its defaults (one runtime worker per core), uvicorn
  `--workers N`, Robyn `--processes N`, N the CPUs the server may use; the
  ratios beside the one-core ones. Nothing is pinned: see bench/common.py's
  add_load_arguments for the load generator's share on a 2-core machine;
- latency and memory, from those runs: p99 at 64 connections with Rohas
  p99 / peer p99, and the RSS of each server's process tree once started
  (idle) and at its peak under load (sampled 4 times a second);
- start-up (`--no-startup`): process start to the first answered
  GET /health, polled every 5 ms, in the one-core setup; median of
  `--startup-tries`.

Two Rohas-only measures follow:
- events/s: POST /events/trigger publishes N events on the memory bus to a
  Python handler that counts them; GET /events/count is polled until all N
  were handled;
- hot reload: `rohas dev` on a copy of the project, a handler file is
  rewritten with a new return value, and GET /version is polled until the new
  value is served (median of `--reload-tries`).

Results go to bench/http/results/latest.json (not committed). Standard
library only: the peers are installed into their own venv
(~/.cache/rohas-bench/venv, or $ROHAS_BENCH_VENV) by this script. The
machinery shared with bench/typescript and bench/rust is bench/common.py;
bench/events and bench/telemetry import this file for it (hence the names
re-exported below).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402  (bench/common.py)
from common import (  # noqa: E402,F401  (re-exported for bench/events and bench/telemetry)
    CASES,
    Server,
    Spec,
    Suite,
    die,
    free_port,
    load_generator,
    log,
    pinned,
    request,
    rohas_binary,
    run_load,
    wait_quiet,
)

REPO = HERE.parent.parent
APP = HERE / "rohas-app"
PEERS = HERE / "peers"
RESULTS = HERE / "results"
VENV = Path(os.environ.get("ROHAS_BENCH_VENV", common.CACHE / "venv"))
PEER_PACKAGES = ["fastapi", "uvicorn[standard]", "robyn"]

SERVERS = ["rohas", "robyn", "fastapi"]
PAIRS = [("rohas", "robyn"), ("rohas", "fastapi")]


# ---------------------------------------------------------------- setup


def peer_python() -> Path:
    """The bench venv's python, with FastAPI, uvicorn[standard] and Robyn installed."""
    python = VENV / "bin" / "python"
    if not python.is_file():
        log(f"creating the peers' venv in {VENV} …")
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = "import fastapi, uvicorn, uvloop, httptools, robyn, pydantic"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode != 0:
        log(f"installing {', '.join(PEER_PACKAGES)} into {VENV} …")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=False)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES])
        if done.returncode != 0:
            die(f"pip install {' '.join(PEER_PACKAGES)} failed in {VENV}")
    return python


def versions(python: Path | None, rohas: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    script = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in "
        "['fastapi', 'uvicorn', 'uvloop', 'httptools', 'robyn', 'pydantic']}))"
    )
    if python is not None:
        found = json.loads(subprocess.run([str(python), "-c", script], capture_output=True, text=True).stdout)
    found.update(common.rohas_versions(rohas))
    return found


# ---------------------------------------------------------------- servers


def rohas_spec(rohas: Path, project: Path = APP, dev: bool = False) -> Spec:
    """`rohas start` (or `rohas dev`) on a project, with its default workers."""
    env = dict(os.environ, ROHAS_LOG_LEVEL=os.environ.get("ROHAS_LOG_LEVEL", "warn"))
    if (VENV / "bin" / "python").is_file() and "VIRTUAL_ENV" not in os.environ:
        # The bench venv has uvloop (uvicorn[standard] brings it): Rohas's Python
        # runtime uses it when the project's venv has it, as uvicorn does.
        env["VIRTUAL_ENV"] = str(VENV)
    verb = "dev" if dev else "start"
    return Spec(
        "rohas-dev" if dev else "rohas",
        lambda port: [str(rohas), "-C", str(project), verb, "--port", str(port)],
        project,
        env,
        RESULTS / "logs",
    )


def peer_spec(name: str, python: Path | None, processes: int) -> Spec:
    """uvicorn with `processes` workers, or Robyn with `processes` processes
    (one worker thread each, as in the one-core setup)."""
    if python is None:
        die(f"{name} needs the peers' venv")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if name == "fastapi":
        def command(port: int) -> list[str]:
            return [str(python), "fastapi_app.py", str(port), "--workers", str(processes)]
    else:
        def command(port: int) -> list[str]:
            return [str(python), "robyn_app.py", str(port), "--processes", str(processes), "--workers", "1",
                    "--log-level", "WARN"]
    return Spec(name, command, PEERS, env, RESULTS / "logs")


def specs(args: argparse.Namespace, rohas: Path, python: Path | None, processes: int) -> list[Spec]:
    return [rohas_spec(rohas) if name == "rohas" else peer_spec(name, python, processes) for name in args.servers]


def start_rohas(rohas: Path, cpu: str | None, project: Path = APP, dev: bool = False) -> Server:
    """Start Rohas on a project (bench/telemetry and the measures below use it)."""
    return common.launch(rohas_spec(rohas, project, dev), cpu)


# ---------------------------------------------------------------- events


def bench_events(args: argparse.Namespace, rohas: Path) -> dict[str, Any]:
    """Events/s through the memory bus to the Python `count_tick` handler."""
    others = wait_quiet(args, "events")
    server = start_rohas(rohas, args.server_cpu)
    try:
        # Warm-up: imports, the event path's first calls.
        run_events(server, min(2000, args.events), timeout=60)
        runs = [run_events(server, args.events, timeout=args.events_timeout) for _ in range(args.event_runs)]
    finally:
        server.stop()
    best = max(runs, key=lambda r: r["events_per_s"])
    return {"events": args.events, "runs": runs, "events_per_s": best["events_per_s"], "others_busy": round(others, 2)}


def run_events(server: Server, count: int, timeout: float) -> dict[str, Any]:
    _, before = request(server.port, "GET", "/events/count")
    start = before["count"]
    answered: dict[str, Any] = {}

    def trigger() -> None:
        t0 = time.perf_counter()
        try:
            answered["status"], answered["body"] = request(
                server.port, "POST", "/events/trigger", {"count": count}, timeout=timeout
            )
        except OSError as e:
            answered["status"], answered["body"] = None, str(e)
        answered["seconds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    thread = threading.Thread(target=trigger, daemon=True)
    thread.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    handled = 0
    try:
        while True:
            conn.request("GET", "/events/count")
            handled = json.loads(conn.getresponse().read())["count"] - start
            elapsed = time.perf_counter() - t0
            if handled >= count:
                break
            if elapsed > timeout or server.process.poll() is not None:
                die(
                    f"events: {handled}/{count} handled after {elapsed:.1f} s "
                    f"(trigger answered {answered.get('status')} {str(answered.get('body'))[:200]}); "
                    f"see {server.log_path}"
                )
            time.sleep(0.005)
    finally:
        conn.close()
    thread.join(timeout)
    if answered.get("status") != 200:
        die(f"POST /events/trigger answered {answered.get('status')} {str(answered.get('body'))[:300]}")
    rate = count / elapsed
    log(f"events   {count} handled in {elapsed:.2f} s: {rate:,.0f} events/s "
        f"(trigger request answered after {answered['seconds']:.2f} s)")
    return {
        "events": count,
        "seconds": round(elapsed, 3),
        "events_per_s": round(rate, 1),
        "trigger_answered_s": round(answered["seconds"], 3),
    }


# ---------------------------------------------------------------- hot reload

VERSION_HANDLER = '''"""GET /version: rewritten by run.py to measure hot reload."""


async def handler() -> dict:
    return {{"version": {version}}}
'''


def bench_reload(args: argparse.Namespace, rohas: Path) -> dict[str, Any]:
    """`rohas dev` on a copy of the project: time from saving a handler to
    the new code answering."""
    with tempfile.TemporaryDirectory(prefix="rohas-bench-reload-") as tmp:
        project = Path(tmp) / "app"
        shutil.copytree(APP, project, ignore=shutil.ignore_patterns("generated", ".rohas", "__pycache__"))
        handler = project / "src" / "handlers" / "api" / "version.py"
        server = start_rohas(rohas, args.server_cpu, project=project, dev=True)
        times: list[float] = []
        try:
            time.sleep(1.0)  # let the watcher settle after start-up codegen
            for attempt in range(1, args.reload_tries + 1):
                times.append(reload_once(server, handler, attempt, timeout=30))
                log(f"reload   try {attempt}: {times[-1]:.0f} ms")
                time.sleep(1.0)
        finally:
            server.stop()
    return {"tries_ms": [round(t, 1) for t in times], "median_ms": round(statistics.median(times), 1)}


def reload_once(server: Server, handler: Path, version: int, timeout: float) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        t0 = time.perf_counter()
        handler.write_text(VERSION_HANDLER.format(version=version))
        while True:
            conn.request("GET", "/version")
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - t0
            if response.status == 200 and json.loads(data).get("version") == version:
                return elapsed * 1000
            if elapsed > timeout:
                die(f"hot reload: version {version} not served after {timeout} s (last answer {data[:200]!r})")
            time.sleep(0.002)
    finally:
        conn.close()


# ---------------------------------------------------------------- report


def report(one: Suite | None, cores: Suite | None, startup: dict | None, events: dict | None,
           reload: dict | None, cases: list[str]) -> str:
    lines: list[str] = []
    if one is not None:
        lines += ["One core:", ""] + common.throughput_table(one.http)
        lines += ["", "| case | Rohas/Robyn (goal 2×) | Rohas/FastAPI (goal 3×) |", "|---|---:|---:|"]
        for case in cases:
            lines.append(f"| {case} | {common.times(common.ratio(one.http, 'rohas', 'robyn', case))} "
                         f"| {common.times(common.ratio(one.http, 'rohas', 'fastapi', case))} |")
    lines += common.extra_report(one, cores, startup, cases, PAIRS, PAIRS)
    lines.append("")
    if events:
        lines.append(f"events through the memory bus to a Python handler: {events['events_per_s']:,.0f} events/s "
                     f"({events['events']} events, best of {len(events['runs'])})")
    if reload:
        lines.append(f"hot reload (save → new code served, rohas dev): median {reload['median_ms']:.0f} ms "
                     f"(tries: {', '.join(f'{t:.0f}' for t in reload['tries_ms'])} ms)")
    return "\n".join(lines)


def ratios(suite: Suite | None, cases: list[str]) -> dict[str, dict[str, float | None]] | None:
    if suite is None:
        return None
    return {
        case: {
            **{f"{a}_over_{b}": common.ratio(suite.http, a, b, case) for a, b in PAIRS},
            **{f"{a}_over_{b}_p99": common.ratio(suite.http, a, b, case, "p99_ms") for a, b in PAIRS},
        }
        for case in cases
    }


def estimate(args: argparse.Namespace) -> float:
    n, c = len(args.servers), len(args.cases)
    seconds = common.startup_seconds(args, n)
    seconds += 0 if args.skip_http or args.no_one_core else common.suite_seconds(args, n, c)
    seconds += 0 if args.skip_http or args.no_all_cores else common.suite_seconds(args, n, c)
    seconds += 0 if args.skip_events else 5 + args.event_runs * args.events / 20_000
    seconds += 0 if args.skip_reload else 5 + args.reload_tries * 1.5
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_load_arguments(parser, list(SERVERS), list(CASES), RESULTS / "latest.json")
    parser.add_argument("--events", type=int, default=50_000, help="events per events/s run (default 50000)")
    parser.add_argument("--event-runs", type=int, default=3, help="events/s runs, best reported (default 3)")
    parser.add_argument("--events-timeout", type=float, default=300, help="give up on an events run after (s)")
    parser.add_argument("--reload-tries", type=int, default=5, help="hot reload tries (default 5)")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP runs (one core, all cores)")
    parser.add_argument("--skip-events", action="store_true")
    parser.add_argument("--skip-reload", action="store_true")
    args = parser.parse_args()
    common.check_load_arguments(args, list(SERVERS), list(CASES))

    rohas = rohas_binary(args.skip_build)
    tool = load_generator()
    needs_peers = any(s != "rohas" for s in args.servers) and not (args.skip_http and args.no_startup)
    python = peer_python() if needs_peers else None
    common.rohas_codegen(rohas, APP)
    found_versions = versions(python, rohas)
    common.announce(estimate(args))

    one_core, all_cores = common.one_core(args), common.all_cores(args)
    n = common.cpu_count(all_cores.server_cpu)
    one = cores = None
    if not args.skip_http and not args.no_one_core:
        one = common.run_suite(args, tool, specs(args, rohas, python, 1), one_core, args.cases, args.connections)
    if not args.skip_http and not args.no_all_cores:
        cores = common.run_suite(args, tool, specs(args, rohas, python, n), all_cores, args.cases, args.connections)
    startup = None if args.no_startup else common.bench_startup(
        specs(args, rohas, python, 1), one_core.server_cpu, args.startup_tries)
    events = None if args.skip_events else bench_events(args, rohas)
    reload = None if args.skip_reload else bench_reload(args, rohas)

    print(report(one, cores, startup, events, reload, args.cases))
    common.write_results(args.output, {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": common.machine(),
        "settings": {
            "tool": tool,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "connections": args.connections,
            "server_cpu": args.server_cpu,
            "client_cpu": args.client_cpu,
            "all_cores_server_cpu": args.all_cores_server_cpu,
            "all_cores_client_cpu": args.all_cores_client_cpu,
            "all_cores_client_threads": args.all_cores_client_threads,
            "all_cores_processes": n,
        },
        "versions": found_versions,
        "http": one.http if one else {},
        "ratios": ratios(one, args.cases),
        "memory": one.memory if one else None,
        "all_cores": {**cores.to_json(), "ratios": ratios(cores, args.cases)} if cores else None,
        "startup": startup,
        "events": events,
        "reload": reload,
    })


if __name__ == "__main__":
    main()
