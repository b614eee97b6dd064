#!/usr/bin/env python3
"""What recording spans costs once the telemetry store sits at its size cap.

    python3 bench/telemetry/at_cap.py BIN [BIN ...] [--bursts 150] [--cap-mb 40] [--rounds 2]

Each binary in turn (rounds interleaved) runs `rohas start` on
bench/events/rohas-rust (memory adapter, a new telemetry store under a
temporary folder, `ROHAS_TELEMETRY_MAX_SIZE_MB=--cap-mb`), pinned to CPU 0.
It is sent --bursts `POST /burst` requests of --events Tick events each,
one after the other, each waited for through its marker file: about two
spans an event, so 150 bursts of 100,000 write some 30 million spans and
pass a 40 MB cap many times over. Reported per binary: user and system
CPU time of the server per event (from /proc/PID/stat, over all bursts
but the first), and the store's size on disk at the end (the database,
its WAL and the segment files). The Rust project's library is built by
`rohas start` (or earlier by bench/events/run.py). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402  (bench/common.py)

PROJECT = HERE.parent / "events" / "rohas-rust"


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(user, system) clock ticks of a process and its threads."""
    fields = common.proc_stat(pid)
    if fields is None:
        common.die(f"process {pid} is gone")
    return int(fields[11]), int(fields[12])


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_one(binary: str, args: argparse.Namespace, port: int) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="rohas-at-cap-"))
    markers, store = scratch / "markers", scratch / "telemetry"
    markers.mkdir()
    env = dict(
        os.environ,
        ROHAS_ADAPTER_TYPE="memory",
        ROHAS_LOG_LEVEL="warn",
        BENCH_EVENTS_MARKERS=str(markers),
        ROHAS_TELEMETRY_PATH=str(store),
        ROHAS_TELEMETRY_MAX_SIZE_MB=str(args.cap_mb),
        ROHAS_CARGO_TARGET_DIR=os.environ.get(
            "ROHAS_CARGO_TARGET_DIR", str(Path.home() / ".cache/rohas-bench-events/rust-target")
        ),
    )
    common.rohas_codegen(Path(binary), PROJECT)
    log = open(scratch / "server.log", "w")
    server = subprocess.Popen(
        common.pinned(args.server_cpu, [binary, "start", "--port", str(port)]),
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 300
        while not common.health_ok(port):
            if time.time() > deadline or server.poll() is not None:
                common.die(f"{binary} did not start; see {scratch / 'server.log'}")
            time.sleep(0.2)
        start = None
        for n in range(args.bursts):
            run = f"b{n}"
            status, answer = common.request(
                port, "POST", "/burst", {"run": run, "count": args.events, "expected": args.events}, timeout=300
            )
            if status != 200:
                common.die(f"POST /burst answered {status}: {answer}")
            marker = markers / f"{run}.json"
            deadline = time.time() + 300
            while not marker.exists():
                if time.time() > deadline:
                    common.die(f"burst {run} not handled in 300 s; see {scratch / 'server.log'}")
                time.sleep(0.01)
            if n == 0:
                start = cpu_ticks(server.pid)
        end = cpu_ticks(server.pid)
        events = args.events * (args.bursts - 1)
        assert start is not None
        return {
            "binary": binary,
            "user_us_per_event": (end[0] - start[0]) / common.CLOCK / events * 1e6,
            "system_us_per_event": (end[1] - start[1]) / common.CLOCK / events * 1e6,
            "store_mb": folder_bytes(store) / 1e6,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+", help="rohas binaries to compare")
    parser.add_argument("--bursts", type=int, default=150)
    parser.add_argument("--events", type=int, default=100_000, help="events per burst")
    parser.add_argument("--cap-mb", type=int, default=40, help="[telemetry] max_size_mb")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--server-cpu", default="0")
    args = parser.parse_args()
    results = []
    for round_ in range(args.rounds):
        for binary in args.binaries:
            r = run_one(binary, args, common.free_port())
            r["round"] = round_ + 1
            results.append(r)
            print(
                f"[at-cap] round {r['round']}  {binary}: user {r['user_us_per_event']:.2f} µs/event, "
                f"system {r['system_us_per_event']:.2f} µs/event, store {r['store_mb']:.1f} MB",
                flush=True,
            )
    print("\n| binary | round | user µs/event | system µs/event | store MB at the end |\n|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['binary']} | {r['round']} | {r['user_us_per_event']:.2f} | "
            f"{r['system_us_per_event']:.2f} | {r['store_mb']:.1f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
