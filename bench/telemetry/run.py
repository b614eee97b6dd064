#!/usr/bin/env python3
"""What telemetry costs: the /health and /users cases of each language's
bench app with telemetry on (its default: every span and log stored,
metrics counted) against off, in one run, rounds interleaved.

    python3 bench/telemetry/run.py --skip-build               # python, 5 s per case, 3 rounds
    python3 bench/telemetry/run.py --languages python,typescript,rust --duration 5 --rounds 3

The server is pinned to one core (`taskset -c 0`) and wrk to the other, as
in bench/http. Reports per language and case: req/s on and off, the ratio
(goal: on ≥ 0.90 × off), p99, then the store: spans written per second
while loaded, bytes per million spans, and records dropped. Beside req/s it
gives the server's CPU time per request (from /proc; a TypeScript app's
Node.js workers included), which other processes on a busy machine disturb
far less: off/on of it is the share of
throughput telemetry leaves on a saturated core. Off means
ROHAS_TELEMETRY_ENABLE_TRACES/LOGS/METRICS=false.

Reuses bench/http/run.py's helpers (server start, wrk, pinning). Results go
to bench/telemetry/results/latest.json (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "http"))
import run as http  # noqa: E402  (bench/http/run.py)

APPS = {
    "python": HERE.parent / "http" / "rohas-app",
    "typescript": HERE.parent / "typescript" / "rohas-app",
    "rust": HERE.parent / "rust" / "rohas-app",
}
CASES = ["health", "users"]
OFF = {
    "ROHAS_TELEMETRY_ENABLE_TRACES": "false",
    "ROHAS_TELEMETRY_ENABLE_LOGS": "false",
    "ROHAS_TELEMETRY_ENABLE_METRICS": "false",
}


def start(rohas: Path, language: str, on: bool, folder: Path) -> http.Server:
    keep = dict(os.environ)
    try:
        for k in OFF:
            os.environ.pop(k, None)
        if not on:
            os.environ.update(OFF)
        os.environ["ROHAS_TELEMETRY_PATH"] = str(folder)
        return http.start_rohas(rohas, "0", APPS[language])
    finally:
        os.environ.clear()
        os.environ.update(keep)


def spans_in(folder: Path) -> tuple[int, int]:
    """(spans stored, bytes of the store's files)."""
    db = folder / "telemetry.db"
    if not db.exists():
        return 0, 0
    files = [*folder.glob("telemetry.db*"), *folder.glob("spans/*.seg")]
    size = sum(p.stat().st_size for p in files)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        (n,) = conn.execute("SELECT coalesce(sum(spans), 0) FROM span_blocks").fetchone()
    return n, size


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, its threads and its live child
    processes (the Node.js workers of a TypeScript app), on Linux."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def dropped(port: int) -> float:
    status, text = http.request(port, "GET", "/metrics")
    if status != 200 or not isinstance(text, str):
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith("rohas_telemetry_dropped_total") or line.startswith("rohas_telemetry_unstored_total"):
            total += float(line.split()[-1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", default="python")
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    languages = [l for l in args.languages.split(",") if l]
    for l in languages:
        if l not in APPS:
            http.die(f"unknown language {l}: one of {', '.join(APPS)}")
    rohas = http.rohas_binary(args.skip_build)
    tool = http.load_generator()
    results: dict = {}
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / "rohas-bench-telemetry"
    for language in languages:
        results[language] = {}
        # `rohas start` serves what was generated; a Rust app also builds.
        done = subprocess.run([str(rohas), "-C", str(APPS[language]), "codegen"], capture_output=True, text=True)
        if done.returncode != 0:
            http.die(f"rohas codegen failed for {APPS[language]}:\n{done.stderr}")
        for round_no in range(args.rounds):
            for on in ([True, False] if round_no % 2 == 0 else [False, True]):
                label = "on" if on else "off"
                folder = scratch / f"{language}-{label}"
                subprocess.run(["rm", "-rf", str(folder)])
                server = start(rohas, language, on, folder)
                try:
                    for case in CASES:
                        http.run_load(tool, "1", server.port, case, 1, args.connections)  # warm-up
                        before, _ = spans_in(folder)
                        began = time.monotonic()
                        cpu_before = cpu_seconds(server.pid)
                        load = http.run_load(tool, "1", server.port, case, args.duration, args.connections)
                        cpu = cpu_seconds(server.pid) - cpu_before
                        # Let the writer catch up, then count what it stored.
                        time.sleep(1.5)
                        after, size = spans_in(folder)
                        took = time.monotonic() - began
                        entry = results[language].setdefault(case, {}).setdefault(label, [])
                        entry.append(
                            {
                                "rps": load.rps,
                                # CPU per request: what telemetry costs, read
                                # apart from what other processes take.
                                "cpu_us_per_req": cpu / max(load.requests, 1) * 1e6,
                                "p99_ms": load.p99_ms,
                                "errors": load.errors,
                                "spans": after - before,
                                "spans_per_s": (after - before) / took,
                                "store_bytes": size,
                                "spans_total": after,
                                "dropped": dropped(server.port) if on else 0,
                            }
                        )
                        http.log(f"{language} {case} telemetry {label}: {load.rps:,.0f} req/s, {after - before} spans")
                finally:
                    server.stop()
    lines = ["| language | case | req/s on | req/s off | on/off | CPU µs/req on | off | off/on (CPU) | p99 on | p99 off | spans stored/s | bytes per 1M spans | dropped |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for language, cases in results.items():
        for case, sides in cases.items():
            on = sides.get("on", [])
            off = sides.get("off", [])
            if not on or not off:
                continue
            rps_on = statistics.median(r["rps"] for r in on)
            rps_off = statistics.median(r["rps"] for r in off)
            cpu_on = statistics.median(r["cpu_us_per_req"] for r in on)
            cpu_off = statistics.median(r["cpu_us_per_req"] for r in off)
            last = max(on, key=lambda r: r["spans_total"])
            per_million = last["store_bytes"] / last["spans_total"] * 1e6 if last["spans_total"] else 0
            lines.append(
                f"| {language} | {case} | {rps_on:,.0f} | {rps_off:,.0f} | {rps_on / rps_off:.2f} | "
                f"{cpu_on:.1f} | {cpu_off:.1f} | {cpu_off / cpu_on:.2f} | "
                f"{statistics.median(r['p99_ms'] for r in on):.2f} ms | {statistics.median(r['p99_ms'] for r in off):.2f} ms | "
                f"{statistics.median(r['spans_per_s'] for r in on):,.0f} | {per_million / 1e6:,.0f} MB | "
                f"{max(r['dropped'] for r in on):,.0f} |"
            )
    table = "\n".join(lines)
    print(table)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"results": results, "table": table}, indent=2))


if __name__ == "__main__":
    main()
