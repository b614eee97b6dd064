#!/usr/bin/env python3
"""The HTTP benchmark of issues 5 and 19: Rohas (TypeScript handlers) beside Fastify and node:http.

    python3 bench/typescript/run.py                 # everything, 10 s per case
    python3 bench/typescript/run.py --duration 3    # a quick run
    python3 bench/typescript/run.py --skip-throughput --rounds 3   # only the 1-connection runs

The same three handlers (GET /health, POST /users with a validated body,
GET /objects building 100 objects) on:

- rohas-1w: `rohas start` with one Node.js worker (ROHAS_RUNTIME_WORKERS=1,
  the default under `taskset -c 0`);
- rohas-2w: the same with two workers (the default pool on this 2-core
  machine; set explicitly, since under `taskset -c 0` the default would be 1);
- fastify: Fastify 5, one process, JSON schemas for the body and responses;
- node-http: plain node:http, one process, the floor for a Node.js server.

Measures, each skippable:

- one core (`--no-one-core`): every server on CPU 0 (`taskset -c 0`,
  inherited by Rohas's Node.js workers, so engine and workers share that
  one core) and wrk on CPU 1; per case and server a 2 s warm-up, then
  `--duration` seconds at 64 connections. Besides req/s and p99, the CPU
  time per request of the server's whole process tree (engine and workers)
  is recorded: on a shared machine it says what a request costs whatever
  share of the core the server got;
- all cores (`--no-all-cores`): `rohas` with its defaults (one Node.js
  worker per core), Fastify and node:http under node:cluster with N workers
  (peers/cluster.mjs), N the CPUs the server may use, nothing pinned (see
  bench/common.py's add_load_arguments); the req/s ratios beside the
  one-core ones of rohas-1w (Rohas's default there);
- latency and memory from those runs: p99 at 64 connections with Rohas p99
  / peer p99; RSS idle and at its peak under load, summed over the process
  tree (engine + Node workers, node:cluster primary + workers);
- start-up (`--no-startup`): process start to the first answered
  GET /health in the one-core setup, median of `--startup-tries`;
- bridge overhead (`--skip-overhead`): rohas-1w and node-http (and Fastify,
  for reference) with a single connection (`wrk -c1`), where the time per
  request is latency alone; rohas-1w's minus node-http's is what the engine
  and its bridge to Node add to one call (`--skip-throughput` runs only
  this part).

The machinery is bench/common.py's. Fastify is installed with npm into
~/.cache/rohas-bench/node (or $ROHAS_BENCH_NODE). Results go to
bench/typescript/results/latest.json (not committed). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402  (bench/common.py)
from common import Spec, Suite, die, log  # noqa: E402

APP = HERE / "rohas-app"
PEERS = HERE / "peers"
RESULTS = HERE / "results"
NODE_DIR = Path(os.environ.get("ROHAS_BENCH_NODE", common.CACHE / "node"))
PEER_FILES = ["package.json", "fastify_app.mjs", "node_http_app.mjs", "cluster.mjs"]
PEER_SCRIPTS = {"fastify": "fastify_app.mjs", "node-http": "node_http_app.mjs"}

CASES = list(common.CASES)
SERVERS = ["rohas-1w", "rohas-2w", "fastify", "node-http"]
ROHAS_WORKERS = {"rohas-1w": 1, "rohas-2w": 2}
OVERHEAD_SERVERS = ["rohas-1w", "node-http", "fastify"]
PAIRS = [(r, p) for p in ("fastify", "node-http") for r in ("rohas-1w", "rohas-2w")]
CORES_PAIRS = [("rohas", "fastify"), ("rohas", "node-http")]
# On all cores `rohas` runs its default pool; on one core that default is one worker.
CORES_ONE_PAIRS = [("rohas-1w", "fastify"), ("rohas-1w", "node-http")]


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
    found = common.rohas_versions(rohas)
    found["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    fastify = NODE_DIR / "node_modules" / "fastify" / "package.json"
    if fastify.is_file():
        found["fastify"] = json.loads(fastify.read_text())["version"]
    return found


# ---------------------------------------------------------------- servers


def rohas_spec(name: str, rohas: Path, workers: int | None) -> Spec:
    """`rohas start` with `workers` Node.js workers, or its default pool."""
    env = dict(os.environ, ROHAS_LOG_LEVEL=os.environ.get("ROHAS_LOG_LEVEL", "warn"))
    env.pop("ROHAS_RUNTIME_WORKERS", None)
    # A queue folder each: rohas-1w and rohas-2w run side by side, and a
    # queue takes one engine.
    env["ROHAS_ADAPTER_PATH"] = f".rohas/queue-{name}"
    if workers is not None:
        env["ROHAS_RUNTIME_WORKERS"] = str(workers)
    return Spec(name, lambda port: [str(rohas), "-C", str(APP), "start", "--port", str(port)], APP, env,
                RESULTS / "logs")


def peer_spec(name: str, processes: int) -> Spec:
    """A peer alone, or under node:cluster with `processes` workers."""
    script = PEER_SCRIPTS[name]
    env = dict(os.environ, NODE_ENV="production")
    if processes == 1:
        def command(port: int) -> list[str]:
            return ["node", script, str(port)]
    else:
        def command(port: int) -> list[str]:
            return ["node", "cluster.mjs", str(processes), script, str(port)]
    return Spec(name, command, NODE_DIR, env, RESULTS / "logs")


def one_core_specs(rohas: Path, names: list[str]) -> list[Spec]:
    return [rohas_spec(n, rohas, ROHAS_WORKERS[n]) if n in ROHAS_WORKERS else peer_spec(n, 1) for n in names]


def all_cores_specs(rohas: Path, names: list[str], processes: int) -> list[Spec]:
    """`rohas` (default pool) when either Rohas server was asked for, and the peers."""
    specs = [rohas_spec("rohas", rohas, None)] if any(n in ROHAS_WORKERS for n in names) else []
    return specs + [peer_spec(n, processes) for n in names if n in PEER_SCRIPTS]


# ---------------------------------------------------------------- overhead


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


def cpu_ratio(results: common.Results, a: str, b: str, case: str) -> float | None:
    """Requests per CPU-second of `a` over `b`: b's CPU time per request over a's."""
    return common.ratio(results, b, a, case, "cpu_us_per_req")


def one_core_report(results: common.Results, cases: list[str]) -> list[str]:
    lines = ["One core:", ""] + common.throughput_table(results)
    lines += [
        "",
        "req/s ratios (and, in brackets, requests per CPU-second ratios):",
        "",
        "| case | " + " | ".join(common.label(p) for p in PAIRS) + " |",
        "|---|" + "---:|" * len(PAIRS),
    ]
    for case in cases:
        cells = [f"{common.times(common.ratio(results, *p, case))} ({common.times(cpu_ratio(results, *p, case))})"
                 for p in PAIRS]
        lines.append(f"| {case} | {' | '.join(cells)} |")
    return lines


def overhead_report(over: dict[str, dict[str, float]]) -> list[str]:
    lines = [
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
    return lines


def report(one: Suite | None, cores: Suite | None, startup: dict | None, over: dict[str, dict[str, float]],
           cases: list[str]) -> str:
    lines = one_core_report(one.http, cases) if one else []
    lines += common.extra_report(one, cores, startup, cases, PAIRS, CORES_PAIRS, CORES_ONE_PAIRS)
    if over:
        lines += overhead_report(over)
    return "\n".join(lines)


def ratios(suite: Suite | None, pairs: list[tuple[str, str]], cases: list[str]) -> dict[str, Any] | None:
    if suite is None:
        return None
    return {
        case: {
            **{f"{a}_over_{b}": common.ratio(suite.http, a, b, case) for a, b in pairs},
            **{f"{a}_over_{b}_per_cpu_second": cpu_ratio(suite.http, a, b, case) for a, b in pairs},
            **{f"{a}_over_{b}_p99": common.ratio(suite.http, a, b, case, "p99_ms") for a, b in pairs},
        }
        for case in cases
    }


def estimate(args: argparse.Namespace) -> float:
    n, c = len(args.servers), len(args.cases)
    cores = len(all_cores_specs(Path("rohas"), args.servers, 2))
    overhead = len([s for s in OVERHEAD_SERVERS if s in args.servers])
    seconds = common.startup_seconds(args, n)
    seconds += 0 if args.no_one_core else common.suite_seconds(args, n, c)
    seconds += 0 if args.no_all_cores else common.suite_seconds(args, cores, c)
    seconds += 0 if args.skip_overhead else common.suite_seconds(args, overhead, len(args.overhead_cases))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_load_arguments(parser, list(SERVERS), list(CASES), RESULTS / "latest.json")
    parser.add_argument("--overhead-cases", default="health,users",
                        help="cases measured at one connection for the bridge overhead (default health,users)")
    parser.add_argument("--skip-overhead", action="store_true", help="no 1-connection runs")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="only the 1-connection runs (implies --no-one-core --no-all-cores --no-startup)")
    parser.add_argument("--skip-install", action="store_true", help="no npm install (fastify must be there)")
    args = parser.parse_args()
    common.check_load_arguments(args, list(SERVERS), list(CASES))
    args.overhead_cases = [c for c in args.overhead_cases.split(",") if c]
    for c in args.overhead_cases:
        if c not in CASES:
            die(f"unknown case `{c}`; choose from {', '.join(CASES)}")
    if args.skip_throughput:
        args.no_one_core = args.no_all_cores = args.no_startup = True

    node_binary()
    rohas = common.rohas_binary(args.skip_build)
    tool = common.load_generator()
    if any(s in PEER_SCRIPTS for s in args.servers):
        install_peers(args.skip_install)
    common.rohas_codegen(rohas, APP)
    # Read before the run: others may rebuild the shared binary meanwhile.
    found_versions = versions(rohas)
    common.announce(estimate(args))

    one_core, all_cores = common.one_core(args), common.all_cores(args)
    n = common.cpu_count(all_cores.server_cpu)
    one = cores = None
    if not args.no_one_core:
        one = common.run_suite(args, tool, one_core_specs(rohas, args.servers), one_core, args.cases,
                               args.connections)
    if not args.no_all_cores:
        cores = common.run_suite(args, tool, all_cores_specs(rohas, args.servers, n), all_cores, args.cases,
                                 args.connections)
    startup = None if args.no_startup else common.bench_startup(
        one_core_specs(rohas, args.servers), one_core.server_cpu, args.startup_tries)
    single: common.Results = {}
    if not args.skip_overhead:
        names = [s for s in OVERHEAD_SERVERS if s in args.servers]
        single = common.run_suite(args, tool, one_core_specs(rohas, names), one_core, args.overhead_cases, 1).http
    over = overheads(single, args.overhead_cases)

    print(report(one, cores, startup, over, args.cases))
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
        "ratios": ratios(one, PAIRS, args.cases),
        "memory": one.memory if one else None,
        "all_cores": {**cores.to_json(), "ratios": ratios(cores, CORES_PAIRS, args.cases)} if cores else None,
        "startup": startup,
        "one_connection": single,
        "overhead_us": over,
    })


if __name__ == "__main__":
    main()
