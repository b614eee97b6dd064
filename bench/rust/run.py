#!/usr/bin/env python3
"""The HTTP benchmark of issues 6 and 19: Rohas with Rust handlers beside bare axum.

    python3 bench/rust/run.py                 # everything, 10 s per case
    python3 bench/rust/run.py --duration 3    # a quick run

The same three cases as bench/http/run.py (GET /health, POST /users,
GET /objects), served by `rohas start` on bench/rust/rohas-app (its handlers
are a release-built cdylib) and by bench/rust/axum-app (the same handlers on
bare axum). Measures, each skippable:

- one core (`--no-one-core`): each server pinned to one core
  (`taskset -c 0`), wrk to the other (`taskset -c 1`); per case the servers
  are measured one after the other; req/s, p99, the server's CPU time per
  request, the ratio Rohas/axum (goal ≥ 0.9×);
- all cores (`--no-all-cores`): both unpinned, Rohas with its defaults and
  axum on tokio's multi-thread runtime (one worker per core), the ratio
  beside the one-core one (see bench/common.py's add_load_arguments for the
  load generator's share on a 2-core machine);
- latency and memory from those runs: p99 at 64 connections with Rohas p99
  / axum p99; RSS idle and at its peak under load;
- start-up (`--no-startup`): process start to the first answered
  GET /health, with the cdylib already built, in the one-core setup; median
  of `--startup-tries`;
- the per-call cost of the C ABI boundary alone (`--skip-boundary`):
  `cargo run --release -p rohas-runtime-rust --example boundary`, pinned to
  the server core as well.

The machinery (building rohas, finding wrk, starting and checking servers,
the load, /proc readings, the tables) is bench/common.py's. Results go to
bench/rust/results/latest.json (not committed). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402  (bench/common.py)
from common import Spec, Suite, die, log, pinned  # noqa: E402

REPO = HERE.parent.parent
ROHAS_APP = HERE / "rohas-app"
AXUM_APP = HERE / "axum-app"
RESULTS = HERE / "results"
# The user crate's and the axum crate's builds, apart from the workspace's.
USER_TARGET = Path(os.environ.get("ROHAS_CARGO_TARGET_DIR") or common.CACHE / "rust-target")
AXUM_TARGET = common.CACHE / "axum-target"
SERVERS = ["rohas", "axum"]
PAIRS = [("rohas", "axum")]


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


def rohas_spec(rohas: Path) -> Spec:
    env = dict(
        os.environ,
        ROHAS_LOG_LEVEL=os.environ.get("ROHAS_LOG_LEVEL", "warn"),
        ROHAS_CARGO_TARGET_DIR=str(USER_TARGET),
    )
    return Spec("rohas", lambda port: [str(rohas), "-C", str(ROHAS_APP), "start", "--port", str(port)],
                ROHAS_APP, env, RESULTS / "logs")


def axum_spec(binary: Path, current_thread: bool) -> Spec:
    env = dict(os.environ)
    env.pop("AXUM_BENCH_CURRENT_THREAD", None)
    if current_thread:
        env["AXUM_BENCH_CURRENT_THREAD"] = "1"
    return Spec("axum", lambda port: [str(binary), str(port)], AXUM_APP, env, RESULTS / "logs")


def specs(args: argparse.Namespace, rohas: Path, axum: Path, current_thread: bool) -> list[Spec]:
    return [rohas_spec(rohas) if n == "rohas" else axum_spec(axum, current_thread) for n in args.servers]


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
    others = common.wait_quiet(args, "boundary")
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


def report(one: Suite | None, cores: Suite | None, startup: dict | None, boundary: dict | None,
           cases: list[str]) -> str:
    lines: list[str] = []
    if one is not None:
        lines += ["One core:", ""] + common.throughput_table(one.http)
        lines += ["", "| case | Rohas/axum req/s | goal ≥ 0.9× | axum/Rohas CPU per request |", "|---|---:|---|---:|"]
        for case in cases:
            r = common.ratio(one.http, "rohas", "axum", case)
            verdict = "–" if r is None else ("met" if r >= 0.9 else "not met")
            cost = common.ratio(one.http, "axum", "rohas", case, "cpu_us_per_req")
            lines.append(f"| {case} | {common.times(r)} | {verdict} | {common.times(cost)} |")
    lines += common.extra_report(one, cores, startup, cases, PAIRS, PAIRS)
    if boundary:
        lines += ["", f"C ABI boundary, Health handler through the runtime, no HTTP (best of {len(boundary['runs'])}, "
                      f"CPU {boundary['cpu']}, others' CPU {boundary['others_busy']:.0%}):"]
        for case, v in boundary["best"].items():
            lines.append(f"- {case}: {v['us_per_call']:.2f} µs/call ({v['calls_per_s']:,} calls/s)")
    return "\n".join(lines)


def ratios(suite: Suite | None, cases: list[str]) -> dict[str, Any] | None:
    if suite is None:
        return None
    return {
        case: {
            "rohas_over_axum_rps": common.ratio(suite.http, "rohas", "axum", case),
            "rohas_over_axum_p99": common.ratio(suite.http, "rohas", "axum", case, "p99_ms"),
        }
        for case in cases
    }


def versions(rohas: Path, axum: Path, tool: str) -> dict[str, str]:
    found = common.rohas_versions(rohas)
    found["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    lock = (AXUM_APP / "Cargo.lock").read_text()
    for crate in ("axum", "hyper", "tokio", "serde_json", "mimalloc"):
        match = re.search(rf'name = "{crate}"\nversion = "([^"]+)"', lock)
        if match:
            found[f"axum-app {crate}"] = match[1]
    said = subprocess.run([tool, "--version"], capture_output=True, text=True)
    found[tool] = (said.stdout + said.stderr).strip().split("\n")[0]
    return found


def estimate(args: argparse.Namespace) -> float:
    n, c = len(args.servers), len(args.cases)
    seconds = common.startup_seconds(args, n)
    seconds += 0 if args.skip_http or args.no_one_core else common.suite_seconds(args, n, c)
    seconds += 0 if args.skip_http or args.no_all_cores else common.suite_seconds(args, n, c)
    seconds += 0 if args.skip_boundary else 10 + args.boundary_runs * args.boundary_calls / 200_000
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_load_arguments(parser, list(SERVERS), list(common.CASES), RESULTS / "latest.json")
    parser.add_argument("--axum-current-thread", action="store_true",
                        help="axum on a current-thread tokio runtime on one core (default: multi-thread, as rohas; "
                             "all cores always multi-thread)")
    parser.add_argument("--boundary-calls", type=int, default=200_000, help="calls per boundary run (default 200000)")
    parser.add_argument("--boundary-runs", type=int, default=3, help="boundary runs, best reported (default 3)")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP runs (one core, all cores)")
    parser.add_argument("--skip-boundary", action="store_true")
    args = parser.parse_args()
    common.check_load_arguments(args, list(SERVERS), list(common.CASES))

    rohas = common.rohas_binary(args.skip_build)
    tool = common.load_generator()
    axum = build_axum()
    # Now, before another session's build replaces the shared binary.
    found_versions = versions(rohas, axum, tool)
    if not (args.skip_http and args.no_startup):
        prepare_rohas_app(rohas)
    common.announce(estimate(args))

    one_core, all_cores = common.one_core(args), common.all_cores(args)
    one = cores = None
    if not args.skip_http and not args.no_one_core:
        one = common.run_suite(args, tool, specs(args, rohas, axum, args.axum_current_thread), one_core,
                               args.cases, args.connections)
    if not args.skip_http and not args.no_all_cores:
        cores = common.run_suite(args, tool, specs(args, rohas, axum, False), all_cores, args.cases,
                                 args.connections)
    startup = None if args.no_startup else common.bench_startup(
        specs(args, rohas, axum, args.axum_current_thread), one_core.server_cpu, args.startup_tries)
    boundary = None if args.skip_boundary else bench_boundary(args)

    print(report(one, cores, startup, boundary, args.cases))
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
            "axum_runtime": "current_thread" if args.axum_current_thread else "multi_thread",
            "all_cores_server_cpu": args.all_cores_server_cpu,
            "all_cores_client_cpu": args.all_cores_client_cpu,
            "all_cores_client_threads": args.all_cores_client_threads,
        },
        "versions": found_versions,
        "http": one.http if one else {},
        "ratios": ratios(one, args.cases),
        "memory": one.memory if one else None,
        "all_cores": {**cores.to_json(), "ratios": ratios(cores, args.cases)} if cores else None,
        "startup": startup,
        "boundary": boundary,
    })


if __name__ == "__main__":
    main()
