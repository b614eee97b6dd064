#!/usr/bin/env python3
"""What a change does to telemetry's cost: two `rohas` binaries (before and
after) with telemetry on and off, round after round in one run, so a burst
of other work on a busy machine lands on both alike (run.py measures one
binary; two of its runs minutes apart disagreed by more than a change).

    python3 bench/telemetry/ab.py --before /path/to/rohas-before --after /path/to/rohas-after
    python3 bench/telemetry/ab.py --before A --after B --language python --rounds 4 --duration 3

Each round starts each binary twice (on, off; the order reversed every
other round), warms it up for a second and loads /health then /users for
`--duration` seconds, pinned as run.py pins (server on CPU 0, wrk on 1).
Prints per binary and case the median req/s on/off and the server's CPU
µs per request on and off, median and minimum (the minimum is what other
processes disturb least). Results go to bench/telemetry/results/ab.json
(not committed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
# run.py imports bench/http/run.py as `run`: loaded under another name.
_spec = importlib.util.spec_from_file_location("telemetry_run", HERE / "run.py")
assert _spec and _spec.loader
tr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tr)
http = tr.http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--after", required=True, type=Path)
    parser.add_argument("--language", default="rust", choices=sorted(tr.APPS))
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    bins = {"before": args.before, "after": args.after}
    for path in bins.values():
        if not path.is_file():
            http.die(f"{path} does not exist")
    tool = http.load_generator()
    done = subprocess.run([str(args.after), "-C", str(tr.APPS[args.language]), "codegen"], capture_output=True, text=True)
    if done.returncode != 0:
        http.die(f"rohas codegen failed:\n{done.stderr}")
    runs: dict[str, list[dict[str, float]]] = {}
    order = [(name, on) for name in bins for on in (True, False)]
    scratch = Path("/tmp/rohas-bench-telemetry-ab")
    for round_no in range(args.rounds):
        for name, on in order if round_no % 2 == 0 else list(reversed(order)):
            label = "on" if on else "off"
            folder = scratch / f"{name}-{label}"
            subprocess.run(["rm", "-rf", str(folder)])
            server = tr.start(bins[name], args.language, on, folder)
            try:
                for case in tr.CASES:
                    http.run_load(tool, "1", server.port, case, 1, args.connections)  # warm-up
                    cpu_before = tr.cpu_seconds(server.pid)
                    load = http.run_load(tool, "1", server.port, case, args.duration, args.connections)
                    cpu = (tr.cpu_seconds(server.pid) - cpu_before) / max(load.requests, 1) * 1e6
                    runs.setdefault(f"{name} {case} {label}", []).append({"rps": load.rps, "cpu_us_per_req": cpu})
                    http.log(f"round {round_no} {name} {case} telemetry {label}: {load.rps:,.0f} req/s, {cpu:.1f} µs/req")
            finally:
                server.stop()
    lines = [
        "| binary | case | on/off req/s (median) | CPU µs/req on / off, median | minimum |",
        "|---|---|---|---|---|",
    ]
    for name in bins:
        for case in tr.CASES:
            on, off = runs[f"{name} {case} on"], runs[f"{name} {case} off"]
            rps_on = statistics.median(r["rps"] for r in on)
            rps_off = statistics.median(r["rps"] for r in off)
            med_on = statistics.median(r["cpu_us_per_req"] for r in on)
            med_off = statistics.median(r["cpu_us_per_req"] for r in off)
            min_on = min(r["cpu_us_per_req"] for r in on)
            min_off = min(r["cpu_us_per_req"] for r in off)
            lines.append(
                f"| {name} | {case} | {rps_on / rps_off:.2f} ({rps_on:,.0f} / {rps_off:,.0f}) | "
                f"{med_on:.1f} / {med_off:.1f} ({med_on - med_off:+.1f}) | {min_on:.1f} / {min_off:.1f} ({min_on - min_off:+.1f}) |"
            )
    table = "\n".join(lines)
    print(table)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "ab.json").write_text(json.dumps({"language": args.language, "runs": runs, "table": table}, indent=2))


if __name__ == "__main__":
    main()
