#!/usr/bin/env python3
"""The HTTP benchmark of issue 6: Rohas with Rust handlers beside bare axum.

    python3 bench/rust/run.py                 # everything, 10 s per case
    python3 bench/rust/run.py --duration 3    # a quick run

The same three cases as bench/http/run.py (GET /health, POST /users,
GET /objects), served by `rohas start` on bench/rust/rohas-app (its handlers
are a release-built cdylib) and by bench/rust/axum-app (the same handlers on
bare axum). Each server is pinned to one core (`taskset -c 0`), wrk to the
other (`taskset -c 1`); per case the servers are measured one after the
other. Then the per-call cost of the C ABI boundary alone:
`cargo run --release -p rohas-runtime-rust --example boundary`, pinned to
the server core as well.

The machinery (building rohas, finding wrk, starting and checking servers,
the load, measuring other processes' CPU) is bench/http/run.py's, imported.
Results go to bench/rust/results/latest.json (not committed). Standard
library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ROHAS_APP = HERE / "rohas-app"
AXUM_APP = HERE / "axum-app"
RESULTS = HERE / "results"
CACHE = Path.home() / ".cache" / "rohas-bench"
# The user crate's and the axum crate's builds, apart from the workspace's.
USER_TARGET = Path(os.environ.get("ROHAS_CARGO_TARGET_DIR") or CACHE / "rust-target")
AXUM_TARGET = CACHE / "axum-target"
SERVERS = ["rohas", "axum"]


def import_http_bench():
    """bench/http/run.py as a module (imported by path: this file is `run.py` too)."""
    spec = importlib.util.spec_from_file_location("http_bench", HERE.parent / "http" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["http_bench"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


http_bench = import_http_bench()
http_bench.RESULTS = RESULTS  # servers' logs go to bench/rust/results/logs
log, die, pinned = http_bench.log, http_bench.die, http_bench.pinned


# ---------------------------------------------------------------- builds


def cargo_env(target: Path) -> dict[str, str]:
    """cargo's environment for a crate outside the workspace: its own target
    folder, no rustflags (as `rohas` builds user crates)."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    for name in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET_DIR"):
        env.pop(name, None)
    return env


def build_axum() -> Path:
    log(f"building bench/rust/axum-app (release, target {AXUM_TARGET}) …")
    done = subprocess.run(["cargo", "build", "--release", "--locked"], cwd=AXUM_APP, env=cargo_env(AXUM_TARGET))
    binary = AXUM_TARGET / "release" / "axum-bench"
    if done.returncode != 0 or not binary.is_file():
        die("cargo build of bench/rust/axum-app failed (see above)")
    return binary


def prepare_rohas_app(rohas: Path) -> None:
    """`rohas codegen` (writes src/generated/ and the handler glue), then the
    release build `rohas start` would run, ahead of time: a first build takes
    minutes, more than the servers' start-up wait. `rohas start` then finds
    it fresh."""
    codegen = subprocess.run([str(rohas), "-C", str(ROHAS_APP), "codegen"], capture_output=True, text=True)
    if codegen.returncode != 0:
        die(f"rohas codegen failed:\n{codegen.stdout}{codegen.stderr}")
    log(f"building bench/rust/rohas-app (release cdylib, target {USER_TARGET}) …")
    command = ["cargo", "build", "--lib", "--release", "--manifest-path", str(ROHAS_APP / "Cargo.toml")]
    if subprocess.run(command, cwd=ROHAS_APP, env=cargo_env(USER_TARGET)).returncode != 0:
        die("cargo build of bench/rust/rohas-app failed (see above)")


# ---------------------------------------------------------------- servers


def start_rohas(rohas: Path, cpu: str | None) -> Any:
    port = http_bench.free_port()
    env = dict(
        os.environ,
        ROHAS_LOG_LEVEL=os.environ.get("ROHAS_LOG_LEVEL", "warn"),
        ROHAS_CARGO_TARGET_DIR=str(USER_TARGET),
    )
    command = [str(rohas), "-C", str(ROHAS_APP), "start", "--port", str(port)]
    return http_bench.start_server("rohas", command, cpu, ROHAS_APP, env, port)


def start_axum(binary: Path, cpu: str | None, current_thread: bool) -> Any:
    port = http_bench.free_port()
    env = dict(os.environ)
    if current_thread:
        env["AXUM_BENCH_CURRENT_THREAD"] = "1"
    return http_bench.start_server("axum", [str(binary), str(port)], cpu, AXUM_APP, env, port)


def bench_http(args: argparse.Namespace, rohas: Path, axum: Path, tool: str) -> dict[str, dict[str, Any]]:
    """As bench/http/run.py's bench_http: both servers started, then case by
    case one after the other, `--rounds` times; the median round is kept."""
    servers = {}
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {n: {c: [] for c in args.cases} for n in args.servers}
    try:
        for name in args.servers:
            if name == "rohas":
                server = start_rohas(rohas, args.server_cpu)
            else:
                server = start_axum(axum, args.server_cpu, args.axum_current_thread)
            servers[name] = server
            http_bench.check_cases(server)
        for round_ in range(1, args.rounds + 1):
            for case in args.cases:
                for name, server in servers.items():
                    others = http_bench.wait_quiet(args, f"{name} {case}")
                    if args.warmup > 0:
                        http_bench.run_load(tool, args.client_cpu, server.port, case, args.warmup, args.connections)
                    cpu0, wall0 = process_cpu_seconds(server.pid), time.monotonic()
                    load = http_bench.run_load(tool, args.client_cpu, server.port, case, args.duration, args.connections)
                    cpu, wall = process_cpu_seconds(server.pid) - cpu0, time.monotonic() - wall0
                    if server.process.poll() is not None:
                        die(f"{name} died during {case} (exit {server.process.returncode}); see {server.log_path}")
                    log(
                        f"round {round_}  {name:6} {case:8} {load.rps:10.0f} req/s  p99 {load.p99_ms:7.2f} ms  "
                        f"errors {load.errors}  server CPU {cpu / wall:.0%}, {cpu * 1e6 / max(1, load.requests):.1f} µs/req  "
                        f"others' CPU {others:.0%}"
                    )
                    rounds[name][case].append(
                        {
                            "rps": round(load.rps, 1),
                            "p50_ms": round(load.p50_ms, 3),
                            "p99_ms": round(load.p99_ms, 3),
                            "requests": load.requests,
                            "errors": load.errors,
                            "server_cpu_share": round(cpu / wall, 3),
                            "cpu_us_per_request": round(cpu * 1e6 / max(1, load.requests), 2),
                            "others_busy": round(others, 2),
                        }
                    )
    finally:
        for server in servers.values():
            server.stop()
    return http_bench.median_rounds(rounds)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from
    /proc: divided by the requests served, it is the server's cost per
    request whatever else the machine is doing, and over the wall time it
    tells whether the server had its core to itself."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of stat(5) (utime, stime), counted after the ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- boundary

BOUNDARY_LINE = re.compile(r"^\s*(?P<case>.+?): (?P<calls>\d+) calls in [\d.]+ s: (?P<us>[\d.]+) µs/call, (?P<rate>\d+) calls/s")


def bench_boundary(args: argparse.Namespace) -> dict[str, Any]:
    """The boundary example (crates/rohas-runtime-rust/examples/boundary.rs):
    `rohas init --lang rust`'s Health handler invoked through the runtime, no
    HTTP; built first, then run pinned to the server core."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "rohas-target"))
    env = dict(os.environ, CARGO_TARGET_DIR=str(target), ROHAS_CARGO_TARGET_DIR=str(USER_TARGET))
    log("building the boundary example (cargo build --release -p rohas-runtime-rust --example boundary) …")
    build = ["cargo", "build", "--release", "-p", "rohas-runtime-rust", "--example", "boundary"]
    if subprocess.run(build, cwd=REPO, env=env).returncode != 0:
        die("cargo build of the boundary example failed (see above)")
    others = http_bench.wait_quiet(args, "boundary")
    runs = []
    for run in range(1, args.boundary_runs + 1):
        command = pinned(args.server_cpu, [str(target / "release" / "examples" / "boundary"), str(args.boundary_calls)])
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            die(f"the boundary example failed:\n{done.stdout}{done.stderr[-3000:]}")
        found = {}
        for line in done.stdout.splitlines():
            match = BOUNDARY_LINE.match(line)
            if match:
                found[match["case"].strip()] = {
                    "calls": int(match["calls"]),
                    "us_per_call": float(match["us"]),
                    "calls_per_s": int(match["rate"]),
                }
        if not found:
            die(f"the boundary example printed no result:\n{done.stdout}")
        log(f"boundary run {run}: " + "; ".join(f"{k} {v['us_per_call']:.2f} µs/call" for k, v in found.items()))
        runs.append(found)
    best = {case: min((r[case] for r in runs if case in r), key=lambda v: v["us_per_call"]) for case in runs[0]}
    return {"runs": runs, "best": best, "others_busy": round(others, 2), "cpu": args.server_cpu or "any"}


# ---------------------------------------------------------------- report


def report(results: dict[str, dict[str, Any]], boundary: dict | None, cases: list[str]) -> str:
    lines = [
        "| server | case | req/s | p99 ms | errors | server CPU | CPU µs/req | others' CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, by_case in results.items():
        for case, r in by_case.items():
            lines.append(
                f"| {name} | {case} | {r['rps']:,.0f} | {r['p99_ms']:.2f} | {r['errors']} | "
                f"{r['server_cpu_share']:.0%} | {r['cpu_us_per_request']:.1f} | {r['others_busy']:.0%} |"
            )
    lines += ["", "| case | Rohas/axum req/s | goal ≥ 0.9× | axum/Rohas CPU per request |", "|---|---:|---|---:|"]
    for case in cases:
        r = http_bench.ratio(results, "rohas", "axum", case)
        verdict = "–" if r is None else ("met" if r >= 0.9 else "not met")
        try:
            cost = results["axum"][case]["cpu_us_per_request"] / results["rohas"][case]["cpu_us_per_request"]
        except (KeyError, ZeroDivisionError):
            cost = None
        lines.append(f"| {case} | {f'{r:.2f}×' if r else '–'} | {verdict} | {f'{cost:.2f}×' if cost else '–'} |")
    if boundary:
        lines += ["", f"C ABI boundary, Health handler through the runtime, no HTTP (best of {len(boundary['runs'])}, "
                      f"CPU {boundary['cpu']}, others' CPU {boundary['others_busy']:.0%}):"]
        for case, v in boundary["best"].items():
            lines.append(f"- {case}: {v['us_per_call']:.2f} µs/call ({v['calls_per_s']:,} calls/s)")
    return "\n".join(lines)


def versions(rohas: Path, axum: Path, tool: str) -> dict[str, str]:
    found = {"rohas": subprocess.run([str(rohas), "--version"], capture_output=True, text=True).stdout.strip()}
    found["rohas_binary"] = f"{rohas} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(rohas.stat().st_mtime))})"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    found["workspace_commit"] = commit.stdout.strip()
    found["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    lock = (AXUM_APP / "Cargo.lock").read_text()
    for crate in ("axum", "hyper", "tokio", "serde_json", "mimalloc"):
        match = re.search(rf'name = "{crate}"\nversion = "([^"]+)"', lock)
        if match:
            found[f"axum-app {crate}"] = match[1]
    said = subprocess.run([tool, "--version"], capture_output=True, text=True)
    found[tool] = (said.stdout + said.stderr).strip().split("\n")[0]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    http_bench.add_load_arguments(parser, list(SERVERS), list(http_bench.CASES), RESULTS / "latest.json")
    parser.add_argument("--axum-current-thread", action="store_true",
                        help="axum on a current-thread tokio runtime (default: multi-thread, as rohas)")
    parser.add_argument("--boundary-calls", type=int, default=200_000, help="calls per boundary run (default 200000)")
    parser.add_argument("--boundary-runs", type=int, default=3, help="boundary runs, best reported (default 3)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-boundary", action="store_true")
    args = parser.parse_args()
    http_bench.check_load_arguments(args, list(SERVERS), list(http_bench.CASES))

    rohas = http_bench.rohas_binary(args.skip_build)
    tool = http_bench.load_generator()
    axum = build_axum()
    # Now, before another session's build replaces the shared binary.
    found_versions = versions(rohas, axum, tool)
    results: dict[str, dict[str, Any]] = {}
    if not args.skip_http:
        prepare_rohas_app(rohas)
        results = bench_http(args, rohas, axum, tool)
    boundary = None if args.skip_boundary else bench_boundary(args)

    print(report(results, boundary, args.cases))
    output = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_average": os.getloadavg()},
        "settings": {
            "tool": tool,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "server_cpu": args.server_cpu,
            "client_cpu": args.client_cpu,
            "axum_runtime": "current_thread" if args.axum_current_thread else "multi_thread",
        },
        "versions": found_versions,
        "http": results,
        "ratios": {case: {"rohas_over_axum_rps": http_bench.ratio(results, "rohas", "axum", case)} for case in args.cases},
        "boundary": boundary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    main()
