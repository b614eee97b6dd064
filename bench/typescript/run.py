#!/usr/bin/env python3
"""The HTTP benchmark of issue 5: Rohas (TypeScript handlers) beside Fastify and node:http.

    python3 bench/typescript/run.py                 # everything, 10 s per case
    python3 bench/typescript/run.py --duration 3    # a quick run

Four servers, the same three handlers (GET /health, POST /users with a
validated body, GET /objects building 100 objects):

- rohas-1w: `rohas start` with one Node.js worker (ROHAS_RUNTIME_WORKERS=1);
- rohas-2w: the same with two workers (the default pool on this 2-core
  machine; set explicitly, since under `taskset -c 0` the default would be 1);
- fastify: Fastify 5, one process, JSON schemas for the body and responses;
- node-http: plain node:http, one process, the floor for a Node.js server.

Every server runs on CPU 0 (`taskset -c 0`, inherited by Rohas's Node.js
workers, so engine and workers share that one core) and wrk on CPU 1. Per
case and server: a 2 s warm-up, then `--duration` seconds with 64
connections. Besides req/s and p99, the server's own CPU time per request
(from /proc, engine and workers together) is recorded: on a shared machine it
says what a request costs whatever share of the core the server got. Then the
bridge overhead: rohas-1w and node-http (and Fastify, for reference) with a
single connection (`wrk -c1`), where the time per request is latency alone;
rohas-1w's minus node-http's is what the engine and its bridge to Node add to
one call (`--skip-throughput` runs only this part).

The helpers (build, wrk, server start/stop, load, others' CPU) are
bench/http/run.py's, imported. Fastify is installed with npm into
~/.cache/rohas-bench/node (or $ROHAS_BENCH_NODE). Results go to
bench/typescript/results/latest.json (not committed). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HTTP_BENCH = HERE.parent / "http"
# bench/http/run.py shares this file's name: put its folder first so `import run` finds it.
sys.path.insert(0, str(HTTP_BENCH))
import run as http_bench  # noqa: E402

if Path(http_bench.__file__).resolve().parent != HTTP_BENCH:
    sys.exit(f"[bench] error: imported {http_bench.__file__} instead of {HTTP_BENCH / 'run.py'}")

from run import Load, Server, die, log, run_load, wait_quiet  # noqa: E402

APP = HERE / "rohas-app"
PEERS = HERE / "peers"
RESULTS = HERE / "results"
NODE_DIR = Path(os.environ.get("ROHAS_BENCH_NODE", Path.home() / ".cache" / "rohas-bench" / "node"))
PEER_FILES = ["package.json", "fastify_app.mjs", "node_http_app.mjs"]

# The imported helpers write server logs under their RESULTS folder: ours instead.
http_bench.RESULTS = RESULTS

CASES = list(http_bench.CASES)
SERVERS = ["rohas-1w", "rohas-2w", "fastify", "node-http"]
ROHAS_WORKERS = {"rohas-1w": 1, "rohas-2w": 2}
OVERHEAD_SERVERS = ["rohas-1w", "node-http", "fastify"]


# ---------------------------------------------------------------- setup


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        die("node is missing: install Node.js 20 or later (the peers and Rohas's TypeScript workers need it)")
    return node


def install_peers(skip_install: bool) -> None:
    """Copy the peers next to their node_modules in NODE_DIR and `npm install`
    there when fastify is missing or package.json changed."""
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    manifest = (PEERS / "package.json").read_text()
    installed = NODE_DIR / "node_modules" / "fastify" / "package.json"
    stale = not installed.is_file() or (NODE_DIR / "package.json").read_text() != manifest
    for name in PEER_FILES:
        shutil.copyfile(PEERS / name, NODE_DIR / name)
    if stale and not skip_install:
        if shutil.which("npm") is None:
            die("npm is missing: it installs Fastify for the benchmark (it comes with Node.js)")
        log(f"installing the peers' dependencies (npm install) into {NODE_DIR} …")
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--omit=dev"], cwd=NODE_DIR)
        if done.returncode != 0:
            die(f"npm install failed in {NODE_DIR}")
    if not installed.is_file():
        die(f"fastify is not installed in {NODE_DIR}: run without --skip-install")


def versions(rohas: Path) -> dict[str, str]:
    found = http_bench.versions(None, rohas)
    found["python"] = platform.python_version()
    found["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    fastify = NODE_DIR / "node_modules" / "fastify" / "package.json"
    if fastify.is_file():
        found["fastify"] = json.loads(fastify.read_text())["version"]
    return found


def start(name: str, rohas: Path, cpu: str | None) -> Server:
    port = http_bench.free_port()
    if name in ROHAS_WORKERS:
        env = dict(
            os.environ,
            ROHAS_LOG_LEVEL=os.environ.get("ROHAS_LOG_LEVEL", "warn"),
            ROHAS_RUNTIME_WORKERS=str(ROHAS_WORKERS[name]),
        )
        command = [str(rohas), "-C", str(APP), "start", "--port", str(port)]
        server = http_bench.start_server(name, command, cpu, APP, env, port)
    else:
        script = "fastify_app.mjs" if name == "fastify" else "node_http_app.mjs"
        env = dict(os.environ, NODE_ENV="production")
        server = http_bench.start_server(name, ["node", script, str(port)], cpu, NODE_DIR, env, port)
    if name in ROHAS_WORKERS:
        workers = len([p for p in session_pids(server.pid) if p != server.pid])
        if workers != ROHAS_WORKERS[name]:
            log(f"warning: {name} runs {workers} worker process(es), expected {ROHAS_WORKERS[name]}")
    return server


# ---------------------------------------------------------------- CPU use


def session_pids(sid: int) -> list[int]:
    """Every process of the session a server leads (Rohas and its Node workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state (field 3); the session id is field 6.
        if int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def session_cpu_seconds(sid: int) -> float:
    """User + system CPU seconds used so far by the session's live processes."""
    total = 0
    for pid in session_pids(sid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def measured(server: Server, tool: str, args: argparse.Namespace, case: str, connections: int) -> dict[str, Any]:
    """Warm up, then measure one case on one server; also how much CPU the
    server's processes got while under load (1.0 = its whole core)."""
    if args.warmup > 0:
        run_load(tool, args.client_cpu, server.port, case, args.warmup, connections)
    cpu0, t0 = session_cpu_seconds(server.pid), time.monotonic()
    load: Load = run_load(tool, args.client_cpu, server.port, case, args.duration, connections)
    cpu_seconds = session_cpu_seconds(server.pid) - cpu0
    cpu = cpu_seconds / max(1e-9, time.monotonic() - t0)
    if server.process.poll() is not None:
        die(f"{server.name} died during {case} (exit {server.process.returncode}); see {server.log_path}")
    return {
        "rps": round(load.rps, 1),
        "mean_us": round(1e6 * connections / load.rps, 1) if load.rps else None,
        "p50_ms": round(load.p50_ms, 3),
        "p99_ms": round(load.p99_ms, 3),
        "requests": load.requests,
        "errors": load.errors,
        "server_cpu": round(cpu, 2),
        # CPU time the server spent per request: what it costs, whatever share
        # of its core the other processes on the machine left it.
        "cpu_us_per_req": round(1e6 * cpu_seconds / load.requests, 1) if load.requests else None,
    }


# ---------------------------------------------------------------- runs


def bench(args: argparse.Namespace, rohas: Path, tool: str) -> tuple[dict, dict]:
    """All servers start first (idle ones cost nothing); case by case they are
    measured one after the other, so a change in the machine's load hits them
    alike; with --rounds the median round is kept. Then the 1-connection runs."""
    servers: dict[str, Server] = {}
    cases = [] if args.skip_throughput else args.cases
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {s: {c: [] for c in cases} for s in args.servers}
    overhead_runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    try:
        for name in args.servers:
            servers[name] = start(name, rohas, args.server_cpu)
            http_bench.check_cases(servers[name])
        for round_ in range(1, 0 if args.skip_throughput else args.rounds + 1):
            for case in args.cases:
                for name, server in servers.items():
                    others = wait_quiet(args, f"{name} {case}")
                    r = measured(server, tool, args, case, args.connections)
                    r["others_busy"] = round(others, 2)
                    rounds[name][case].append(r)
                    log(
                        f"round {round_}  {name:9} {case:8} {r['rps']:10,.0f} req/s  p99 {r['p99_ms']:7.2f} ms  "
                        f"errors {r['errors']}  server CPU {r['server_cpu']:.0%}  others' CPU {others:.0%}"
                    )
        if not args.skip_overhead:
            for round_ in range(1, args.rounds + 1):
                for case in args.overhead_cases:
                    for name in [s for s in OVERHEAD_SERVERS if s in servers]:
                        others = wait_quiet(args, f"{name} {case} -c1")
                        r = measured(servers[name], tool, args, case, 1)
                        r["others_busy"] = round(others, 2)
                        overhead_runs.setdefault(name, {}).setdefault(case, []).append(r)
                        log(
                            f"round {round_}  {name:9} {case:8} -c1 {r['mean_us']:8.1f} µs/request  "
                            f"p50 {r['p50_ms'] * 1000:6.0f} µs  server CPU {r['server_cpu']:.0%}  "
                            f"others' CPU {others:.0%}"
                        )
    finally:
        for server in servers.values():
            server.stop()
    return http_bench.median_rounds(rounds), http_bench.median_rounds(overhead_runs)




def overheads(single: dict[str, dict[str, Any]], cases: list[str]) -> dict[str, dict[str, float]]:
    """Per case: µs per request on rohas-1w minus on node-http (and Fastify)
    at one connection, from the mean (1 / req/s) and from the median."""
    found: dict[str, dict[str, float]] = {}
    for case in cases:
        try:
            rohas, node = single["rohas-1w"][case], single["node-http"][case]
        except KeyError:
            continue
        found[case] = {
            "rohas_us": rohas["mean_us"],
            "node_http_us": node["mean_us"],
            "overhead_mean_us": round(rohas["mean_us"] - node["mean_us"], 1),
            "overhead_p50_us": round((rohas["p50_ms"] - node["p50_ms"]) * 1000, 1),
            "rohas_cpu_us": rohas["cpu_us_per_req"],
            "node_http_cpu_us": node["cpu_us_per_req"],
            "overhead_cpu_us": round(rohas["cpu_us_per_req"] - node["cpu_us_per_req"], 1),
        }
        if "fastify" in single and case in single["fastify"]:
            found[case]["fastify_us"] = single["fastify"][case]["mean_us"]
    return found


# ---------------------------------------------------------------- report


def ratio(results: dict[str, dict[str, Any]], a: str, b: str, case: str) -> float | None:
    return http_bench.ratio(results, a, b, case)


def cpu_ratio(results: dict[str, dict[str, Any]], a: str, b: str, case: str) -> float | None:
    """Requests per CPU-second of `a` over `b`: b's CPU time per request over a's."""
    try:
        return results[b][case]["cpu_us_per_req"] / results[a][case]["cpu_us_per_req"]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def times(value: float | None) -> str:
    return f"{value:.2f}×" if value else "–"


def report(results: dict[str, dict[str, Any]], over: dict[str, dict[str, float]], cases: list[str]) -> str:
    lines = [
        "| server | case | req/s | p99 ms | errors | server CPU | CPU µs/req | others' CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, by_case in results.items():
        for case, r in by_case.items():
            lines.append(
                f"| {name} | {case} | {r['rps']:,.0f} | {r['p99_ms']:.2f} | {r['errors']} "
                f"| {r['server_cpu']:.0%} | {r['cpu_us_per_req']:.0f} | {r['others_busy']:.0%} |"
            )
    lines += [] if not cases else [
        "",
        "req/s ratios (and, in brackets, requests per CPU-second ratios):",
        "",
        "| case | rohas-1w/Fastify | rohas-2w/Fastify | rohas-1w/node:http | rohas-2w/node:http |",
        "|---|---:|---:|---:|---:|",
    ]
    for case in cases:
        cells = [
            f"{times(ratio(results, r, p, case))} ({times(cpu_ratio(results, r, p, case))})"
            for p in ("fastify", "node-http")
            for r in ("rohas-1w", "rohas-2w")
        ]
        lines.append(f"| {case} | {' | '.join(cells)} |")
    if over:
        lines += [
            "",
            "One connection (`wrk -c1`): time per request (1 / req/s), and the server's CPU time per request.",
            "",
            "| case | rohas-1w µs/req | node:http µs/req | Fastify µs/req | overhead (mean) | overhead (p50) "
            "| rohas-1w CPU µs/req | node:http CPU µs/req | overhead (CPU) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for case, o in over.items():
            fastify = f"{o['fastify_us']:.0f}" if "fastify_us" in o else "–"
            lines.append(
                f"| {case} | {o['rohas_us']:.0f} | {o['node_http_us']:.0f} | {fastify} "
                f"| {o['overhead_mean_us']:+.0f} µs | {o['overhead_p50_us']:+.0f} µs "
                f"| {o['rohas_cpu_us']:.0f} | {o['node_http_cpu_us']:.0f} | {o['overhead_cpu_us']:+.0f} µs |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    http_bench.add_load_arguments(parser, list(SERVERS), list(CASES), RESULTS / "latest.json")
    parser.add_argument("--overhead-cases", default="health,users",
                        help="cases measured at one connection for the bridge overhead (default health,users)")
    parser.add_argument("--skip-overhead", action="store_true", help="no 1-connection runs")
    parser.add_argument("--skip-throughput", action="store_true", help="only the 1-connection runs")
    parser.add_argument("--skip-install", action="store_true", help="no npm install (fastify must be there)")
    args = parser.parse_args()
    http_bench.check_load_arguments(args, list(SERVERS), list(CASES))
    args.overhead_cases = [c for c in args.overhead_cases.split(",") if c]
    for c in args.overhead_cases:
        if c not in CASES:
            die(f"unknown case `{c}`; choose from {', '.join(CASES)}")

    node_binary()
    rohas = http_bench.rohas_binary(args.skip_build)
    tool = http_bench.load_generator()
    if any(s in ("fastify", "node-http") for s in args.servers):
        install_peers(args.skip_install)
    codegen = subprocess.run([str(rohas), "-C", str(APP), "codegen"], capture_output=True, text=True)
    if codegen.returncode != 0:
        die(f"rohas codegen failed:\n{codegen.stdout}{codegen.stderr}")

    # Read before the run: others may rebuild the shared binary meanwhile.
    found_versions = versions(rohas)
    results, single = bench(args, rohas, tool)
    over = overheads(single, args.overhead_cases)
    print(report(results, over, [] if args.skip_throughput else args.cases))
    output = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_average": os.getloadavg()},
        "settings": {
            "tool": tool,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "connections": args.connections,
            "server_cpu": args.server_cpu,
            "client_cpu": args.client_cpu,
        },
        "versions": found_versions,
        "http": results,
        "ratios": {
            case: {
                **{
                    f"{r}_over_{p}": ratio(results, r, p, case)
                    for r in ("rohas-1w", "rohas-2w")
                    for p in ("fastify", "node-http")
                },
                **{
                    f"{r}_over_{p}_per_cpu_second": cpu_ratio(results, r, p, case)
                    for r in ("rohas-1w", "rohas-2w")
                    for p in ("fastify", "node-http")
                },
            }
            for case in args.cases
        },
        "one_connection": single,
        "overhead_us": over,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    main()
