#!/usr/bin/env python3
"""The events benchmark: Rohas's event bus beside Celery and BullMQ.

    python3 bench/events/run.py                          # everything (~15 min)
    python3 bench/events/run.py --events 20000 --rounds 1 --systems rohas-rust,bullmq

Events go from a publisher to one handler that does the same trivial work in
every system (take the time, count, keep publish-to-handled latency; when
the run's last event arrives, write a marker file with the times and
latencies). Systems:

- rohas-python / rohas-rust: `rohas start` on bench/events/rohas-python or
  rohas-rust; `POST /burst` runs an API handler that publishes the events with
  `state.trigger_event`, handled by the `on_tick` event handler. One server
  per adapter of `--adapters` (memory, local-batch, local-always), chosen
  with ROHAS_ADAPTER_TYPE / ROHAS_ADAPTER_SYNC; an adapter this rohas does
  not know is reported and skipped.
- celery: Celery 5.7 on the local Redis (db --redis-db), acks_late, a
  prefork worker with one process per core it is pinned to; apply_async.
- bullmq: BullMQ 6.7 on the same Redis, a Node worker with concurrency 50;
  Queue.addBulk.

Two measures, in interleaved rounds (every system once per round):
- throughput: --events events published at once; events/s from the first
  publish to the last handled (times taken by the publisher and the handler);
- latency: --rate events/s offered for --latency-seconds (one chunk every
  --tick-ms), p50 and p99 from publish to handled.

The server or worker is pinned to --server-cpu, the publisher to
--client-cpu (for Rohas the publisher is the API handler, inside the server:
the client only sends the POSTs). Redis is the machine's, not pinned. The
median of the rounds is reported, with the range; the ratios are Rohas over
Celery and over BullMQ. Results go to bench/events/results/ (not committed).
Standard library only: Celery goes into ~/.cache/rohas-bench-events/venv and
BullMQ into ~/.cache/rohas-bench-events/node.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402  (bench/common.py)

REPO = HERE.parent.parent
PEERS = HERE / "peers"
RESULTS = HERE / "results"
MARKERS = RESULTS / "markers"
PROJECTS = {"rohas-python": HERE / "rohas-python", "rohas-rust": HERE / "rohas-rust"}
CACHE = Path(os.environ.get("ROHAS_BENCH_EVENTS_CACHE", Path.home() / ".cache" / "rohas-bench-events"))
VENV = CACHE / "venv"
NODE_DIR = CACHE / "node"
USER_TARGET = Path(os.environ.get("ROHAS_CARGO_TARGET_DIR") or CACHE / "rust-target")
# Each Rohas system gets a new telemetry store under here (emptied when its
# server starts): the project's own store grew by some 100 MB a run, and a
# larger store costs its writer more per span, so later runs of a day were
# measured against a heavier store than the first. ROHAS_TELEMETRY_PATH,
# when set, is used as it is.
TELEMETRY = RESULTS / "telemetry"
CELERY_PACKAGES = ["celery[redis]==5.7.0"]
NODE_FILES = ["package.json", "bullmq_common.mjs", "bullmq_worker.mjs", "bullmq_produce.mjs"]

# adapter name -> the environment overrides of config/rohas.toml's [adapter]
ADAPTERS = {
    "memory": {"ROHAS_ADAPTER_TYPE": "memory"},
    # One queue folder each: the servers of one project run side by side,
    # and a queue takes one engine.
    "local-batch": {"ROHAS_ADAPTER_TYPE": "local", "ROHAS_ADAPTER_SYNC": "batch", "ROHAS_ADAPTER_PATH": ".rohas/queue-batch"},
    "local-always": {"ROHAS_ADAPTER_TYPE": "local", "ROHAS_ADAPTER_SYNC": "always", "ROHAS_ADAPTER_PATH": ".rohas/queue-always"},
}
SYSTEMS = ["rohas-python", "rohas-rust", "celery", "bullmq"]
# (system, adapter or None) -> goals shown beside the figures
GOALS = {
    ("rohas-rust", "memory"): {"events_per_s": 300_000},
    ("rohas-rust", "local-batch"): {"events_per_s": 100_000, "over_celery": 3, "over_bullmq": 2},
    ("rohas-python", "local-batch"): {"events_per_s": 50_000, "over_celery": 3, "over_bullmq": 2},
}


def import_http_bench():
    """bench/http/run.py as a module: building rohas, pinning, CPU checks."""
    spec = importlib.util.spec_from_file_location("http_bench", HERE.parent / "http" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["http_bench"] = module
    spec.loader.exec_module(module)
    return module


http_bench = import_http_bench()
http_bench.RESULTS = RESULTS
log, die, pinned = http_bench.log, http_bench.die, http_bench.pinned


# ---------------------------------------------------------------- setup


def celery_python(skip_install: bool) -> Path:
    python = VENV / "bin" / "python"
    if not python.is_file():
        if skip_install:
            die(f"{VENV} is missing: run without --skip-install")
        log(f"creating {VENV} …")
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = "import importlib.metadata as m, sys; sys.exit(m.version('celery') != '5.7.0')"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode != 0:
        if skip_install:
            die(f"celery 5.7.0 is not installed in {VENV}: run without --skip-install")
        log(f"installing {', '.join(CELERY_PACKAGES)} into {VENV} …")
        if subprocess.run([str(python), "-m", "pip", "install", "-q", *CELERY_PACKAGES]).returncode != 0:
            die(f"pip install {' '.join(CELERY_PACKAGES)} failed in {VENV}")
    return python


def install_bullmq(skip_install: bool) -> None:
    """Copy the BullMQ scripts next to their node_modules in NODE_DIR (ES
    modules resolve packages from their own folder) and `npm install` there
    when bullmq is missing or package.json changed."""
    if shutil.which("node") is None:
        die("node is missing: install Node.js 20 or later, or leave bullmq out of --systems")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    manifest = (PEERS / "package.json").read_text()
    installed = NODE_DIR / "node_modules" / "bullmq" / "package.json"
    stale = not installed.is_file() or not (NODE_DIR / "package.json").is_file() or (
        NODE_DIR / "package.json"
    ).read_text() != manifest
    for name in NODE_FILES:
        shutil.copyfile(PEERS / name, NODE_DIR / name)
    if stale and not skip_install:
        if shutil.which("npm") is None:
            die("npm is missing: it installs BullMQ (it comes with Node.js)")
        log(f"installing BullMQ (npm install) into {NODE_DIR} …")
        if subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--omit=dev"], cwd=NODE_DIR).returncode != 0:
            die(f"npm install failed in {NODE_DIR}")
    if not installed.is_file():
        die(f"bullmq is not installed in {NODE_DIR}: run without --skip-install")


def cargo_env(target: Path) -> dict[str, str]:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    for name in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET_DIR"):
        env.pop(name, None)
    return env


def prepare_projects(rohas: Path, systems: list[str]) -> None:
    """`rohas codegen` on the Rohas projects; the Rust one's release cdylib is
    built ahead of `rohas start` (a first build takes longer than its start-up
    wait)."""
    for name in systems:
        project = PROJECTS.get(name)
        if project is None:
            continue
        done = subprocess.run([str(rohas), "-C", str(project), "codegen"], capture_output=True, text=True)
        if done.returncode != 0:
            die(f"rohas codegen failed on {project}:\n{done.stdout}{done.stderr}")
        if name == "rohas-rust":
            log(f"building bench/events/rohas-rust (release cdylib, target {USER_TARGET}) …")
            command = ["cargo", "build", "--lib", "--release", "--manifest-path", str(project / "Cargo.toml")]
            if subprocess.run(command, cwd=project, env=cargo_env(USER_TARGET)).returncode != 0:
                die("cargo build of bench/events/rohas-rust failed (see above)")


# ---------------------------------------------------------------- redis


def redis_command(port: int, db: int, *words: str) -> bytes:
    """One command to the local Redis on db `db` (SELECT first), RESP by hand."""

    def encode(args: tuple[str, ...]) -> bytes:
        out = f"*{len(args)}\r\n".encode()
        for a in args:
            b = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(b), b)
        return out

    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(encode(("SELECT", str(db))) + encode(words))
        data = b""

        def complete() -> bool:
            parts = data.split(b"\r\n", 2)
            if len(parts) < 3:
                return False
            if not parts[1].startswith(b"$"):
                return True
            return len(parts[2]) >= max(0, int(parts[1][1:])) + 2

        while not complete():
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        first, rest = data.split(b"\r\n", 1)
        if not first.startswith(b"+OK"):
            raise OSError(f"redis SELECT {db}: {first!r}")
        if rest.startswith(b"-"):
            raise OSError(f"redis {words[0]}: {rest.strip()!r}")
        return rest


def redis_pid(port: int, db: int) -> int | None:
    try:
        info = redis_command(port, db, "INFO", "server").decode(errors="replace")
    except OSError:
        return None
    for line in info.splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":")[1])
    return None


# ---------------------------------------------------------------- systems


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every process of group `pgid` (a Celery worker's
    parent and children, a Node worker, rohas)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pid_cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class System:
    name: str  # e.g. rohas-rust/memory, celery
    kind: str  # rohas-python, rohas-rust, celery, bullmq
    adapter: str | None
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    port: int = 0
    error: str | None = None
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"throughput": [], "latency": []})

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None:
            common.stop_group(self.process, grace=10)


def spawn(system: System, command: list[str], cwd: Path, env: dict[str, str], cpu: str | None) -> None:
    RESULTS.joinpath("logs").mkdir(parents=True, exist_ok=True)
    system.log_path = RESULTS / "logs" / f"{system.name.replace('/', '-')}.log"
    out = open(system.log_path, "wb")
    system.process = subprocess.Popen(
        pinned(cpu, command), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
        stderr=subprocess.STDOUT, start_new_session=True,
    )


def base_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    # Every ROHAS_ADAPTER_* the caller set would reach every Rohas server.
    for name in [k for k in env if k.startswith("ROHAS_ADAPTER_")]:
        env.pop(name)
    env.update(
        BENCH_EVENTS_MARKERS=str(MARKERS),
        BENCH_EVENTS_REDIS_PORT=str(args.redis_port),
        BENCH_EVENTS_REDIS_DB=str(args.redis_db),
        PYTHONUNBUFFERED="1",
    )
    return env


def start_rohas(system: System, rohas: Path, args: argparse.Namespace) -> None:
    """`rohas start` with the adapter's overrides; waits for GET /health. A
    server that exits first (an adapter this rohas does not know is a config
    error) is reported in `system.error`, not fatal."""
    project = PROJECTS[system.kind]
    system.port = http_bench.free_port()
    env = base_env(args)
    env.update(ADAPTERS[system.adapter])
    env["ROHAS_LOG_LEVEL"] = os.environ.get("ROHAS_LOG_LEVEL", "warn")
    env["ROHAS_CARGO_TARGET_DIR"] = str(USER_TARGET)
    if "ROHAS_TELEMETRY_PATH" not in os.environ:
        # One per system: every system's server runs for the whole run.
        store = TELEMETRY / re.sub(r"[^A-Za-z0-9_.-]", "-", system.name)
        shutil.rmtree(store, ignore_errors=True)
        env["ROHAS_TELEMETRY_PATH"] = str(store)
    queue = ADAPTERS[system.adapter].get("ROHAS_ADAPTER_PATH")
    if queue:
        # A new queue each run, as the telemetry store: acknowledged
        # messages are kept for `retention_hours` (24), and the file had
        # grown to 724,000 of them over two runs.
        shutil.rmtree(project / queue, ignore_errors=True)
    spawn(system, [str(rohas), "-C", str(project), "start", "--port", str(system.port)], project, env, args.server_cpu)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if system.process.poll() is not None:
            tail = system.log_tail().strip().splitlines()
            said = " / ".join(tail[-6:])
            # `error: /path/config/rohas.toml:22: unknown adapter "local": …` → from "unknown" on
            said = re.sub(r"\S+\.toml:\d+: ", "", said)
            system.error = f"rohas exited with {system.process.returncode} at start-up: {said}"
            return
        try:
            status, _ = http_bench.request(system.port, "GET", "/health", timeout=1)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    system.error = f"no answer on GET /health within 120 s (see {system.log_path})"


def start_celery(system: System, python: Path, args: argparse.Namespace) -> None:
    cores = len(cpu_list(args.server_cpu)) or os.cpu_count() or 1
    command = [
        str(python), "-m", "celery", "-A", "celery_app", "worker", "--pool", "prefork",
        "--concurrency", str(cores), "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
    ]
    spawn(system, command, PEERS, base_env(args), args.server_cpu)


def start_bullmq(system: System, args: argparse.Namespace) -> None:
    command = ["node", "bullmq_worker.mjs", str(args.bullmq_concurrency)]
    spawn(system, command, NODE_DIR, base_env(args), args.server_cpu)


def cpu_list(spec: str | None) -> list[int]:
    cpus: list[int] = []
    for part in (spec or "").split(","):
        if "-" in part:
            a, b = part.split("-")
            cpus += list(range(int(a), int(b) + 1))
        elif part.strip():
            cpus.append(int(part))
    return cpus


# ---------------------------------------------------------------- runs


def producer_command(system: System, args: argparse.Namespace, run: str, count: int, rate: float, celery_py: Path | None) -> tuple[list[str], Path]:
    """The publisher of one run (pinned to --client-cpu) and its folder.
    Burst runs (rate 0): Rohas one POST, BullMQ addBulk of --bulk, Celery one
    apply_async each. Steady runs: a chunk every --tick-ms."""
    chunk = max(1, round(rate * args.tick_ms / 1000)) if rate > 0 else args.bulk
    tail = [run, str(count), str(count), str(chunk)] + ([str(rate)] if rate > 0 else [])
    if system.kind.startswith("rohas"):
        return [sys.executable, str(HERE / "rohas_produce.py"), str(system.port), *tail], HERE
    if system.kind == "celery":
        return [str(celery_py), "celery_produce.py", *tail], PEERS
    return ["node", "bullmq_produce.mjs", *tail], NODE_DIR


def one_run(system: System, args: argparse.Namespace, measure: str, round_: int, count: int, rate: float,
            celery_py: Path | None, timeout: float, env: dict[str, str], redis: int | None) -> dict[str, Any]:
    run = f"{system.name.replace('/', '-')}-{measure}-{round_}-{uuid.uuid4().hex[:8]}"
    marker = MARKERS / f"{run}.json"
    command, cwd = producer_command(system, args, run, count, rate, celery_py)
    cpu0, redis0, wall0 = group_cpu_seconds(system.process.pid), pid_cpu_seconds(redis), time.monotonic()
    producer = subprocess.Popen(pinned(args.client_cpu, command), cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + timeout
    outcome: dict[str, Any] = {"run": run}
    try:
        while not marker.exists():
            if time.monotonic() > deadline:
                outcome["error"] = f"no marker after {timeout:.0f} s"
                break
            if not system.alive():
                outcome["error"] = f"{system.name} exited ({system.process.returncode}): {system.log_tail(600)}"
                break
            if producer.poll() not in (None, 0):
                outcome["error"] = f"publisher failed ({producer.returncode}): {(producer.stdout.read() + producer.stderr.read())[-600:]}"
                break
            time.sleep(0.002)
        cpu, redis_cpu, wall = (group_cpu_seconds(system.process.pid) - cpu0, pid_cpu_seconds(redis) - redis0,
                                time.monotonic() - wall0)
        try:
            out, err = producer.communicate(timeout=max(5, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(producer.pid, signal.SIGKILL)
            out, err = producer.communicate()
            outcome.setdefault("error", "the publisher did not finish")
    finally:
        if producer.poll() is None:
            os.killpg(producer.pid, signal.SIGKILL)
            producer.wait()
    if "error" in outcome:
        return outcome
    published = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    m = json.loads(marker.read_text())
    seconds = (m["last_handled_ns"] - m["first_publish_ns"]) / 1e9
    outcome.update(
        events=m["count"],
        seconds=round(seconds, 4),
        events_per_s=round(m["count"] / seconds, 1),
        p50_ms=round(m["p50_ns"] / 1e6, 3),
        p99_ms=round(m["p99_ns"] / 1e6, 3),
        max_ms=round(m["max_ns"] / 1e6, 3),
        mean_ms=round(m["mean_ns"] / 1e6, 3),
        publish_s=round(published.get("seconds", 0), 4),
        offered_per_s=round(published["published"] / published["seconds"], 1) if published.get("seconds") else None,
        # CPU time of the server or worker (all its processes), and of Redis,
        # per event, over the run (until its marker appeared).
        cpu_us_per_event=round(cpu * 1e6 / count, 2),
        redis_cpu_us_per_event=round(redis_cpu * 1e6 / count, 2) if system.kind in ("celery", "bullmq") else None,
        server_cpu_share=round(cpu / wall, 3) if wall > 0 else None,
    )
    return outcome


def describe(system: System, measure: str, r: dict[str, Any], others: float) -> str:
    if "error" in r:
        return f"{system.name:22} {measure:10} error: {r['error'][:300]}"
    text = (f"{system.name:22} {measure:10} {r['events_per_s']:>10,.0f} ev/s  p50 {r['p50_ms']:8.2f} ms  "
            f"p99 {r['p99_ms']:8.2f} ms  CPU {r['cpu_us_per_event']:.1f} µs/ev")
    if r.get("redis_cpu_us_per_event") is not None:
        text += f" (+ redis {r['redis_cpu_us_per_event']:.1f})"
    if measure == "latency" and r.get("offered_per_s"):
        text += f"  offered {r['offered_per_s']:,.0f}/s"
    return text + f"  others' CPU {others:.0%}"


def start_system(system: System, args: argparse.Namespace, rohas: Path | None, celery_py: Path | None,
                 env: dict[str, str], redis: int | None) -> None:
    """Start a system and warm it up (for the peers, also the proof that the
    worker is ready); a failure is kept in `system.error` and it is skipped."""
    log(f"starting {system.name} …")
    if system.kind.startswith("rohas"):
        start_rohas(system, rohas, args)
    else:
        # A worker restarted after a failed run starts on an empty queue.
        redis_command(args.redis_port, args.redis_db, "FLUSHDB")
        if system.kind == "celery":
            start_celery(system, celery_py, args)
        else:
            start_bullmq(system, args)
    if system.error:
        log(f"{system.name}: {system.error}; skipped")
        return
    warm = one_run(system, args, "warmup", 0, args.warmup_events, 0, celery_py, 120, env, redis)
    if "error" in warm:
        system.error = f"warm-up failed: {warm['error']}"
        log(f"{system.name}: {system.error}; skipped")
        system.stop()
    else:
        log(f"{system.name} ready (warm-up: {warm['events_per_s']:,.0f} events/s)")


def bench(systems: list[System], args: argparse.Namespace, rohas: Path | None, celery_py: Path | None) -> None:
    env = base_env(args)
    redis = redis_pid(args.redis_port, args.redis_db) if any(s.kind in ("celery", "bullmq") for s in systems) else None
    try:
        for system in systems:
            start_system(system, args, rohas, celery_py, env, redis)
        live = [s for s in systems if not s.error]
        steady_count = max(1, round(args.rate * args.latency_seconds))
        for round_ in range(1, args.rounds + 1):
            for measure in ("throughput", "latency"):
                for system in live:
                    if system.error:
                        continue
                    count = args.events if measure == "throughput" else steady_count
                    if measure == "throughput" and system.kind == "celery" and args.celery_events:
                        count = args.celery_events
                    rate = 0.0 if measure == "throughput" else args.rate
                    # Celery handles 300-1,000 events/s here, less when the machine is busy.
                    timeout = args.timeout or max(60.0, count / 150 + (args.latency_seconds if rate else 0))
                    others = http_bench.wait_quiet(args, f"{system.name} {measure}")
                    r = one_run(system, args, measure, round_, count, rate, celery_py, timeout, env, redis)
                    r["others_busy"] = round(others, 2)
                    log(f"round {round_}  " + describe(system, measure, r, others))
                    system.runs[measure].append(r)
                    if "error" in r:
                        # What it did not handle would run into the next runs:
                        # a fresh server or worker (and, for the peers, queue).
                        log(f"restarting {system.name} after the failed run …")
                        system.stop()
                        start_system(system, args, rohas, celery_py, env, redis)
    finally:
        for system in systems:
            system.stop()


# ---------------------------------------------------------------- report


def summary(runs: list[dict[str, Any]], key: str) -> tuple[float | None, float | None, float | None]:
    values = [r[key] for r in runs if "error" not in r and r.get(key) is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def summarize(system: System) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": system.kind, "adapter": system.adapter, "error": system.error}
    for measure in ("throughput", "latency"):
        runs = system.runs[measure]
        med, lo, hi = summary(runs, "events_per_s")
        out[measure] = {
            "events_per_s": med, "events_per_s_range": [lo, hi],
            "p50_ms": summary(runs, "p50_ms")[0], "p99_ms": summary(runs, "p99_ms")[0],
            "p99_ms_range": list(summary(runs, "p99_ms")[1:]),
            "offered_per_s": summary(runs, "offered_per_s")[0],
            "cpu_us_per_event": summary(runs, "cpu_us_per_event")[0],
            "redis_cpu_us_per_event": summary(runs, "redis_cpu_us_per_event")[0],
            "failed_runs": sum(1 for r in runs if "error" in r),
            "runs": runs,
        }
    return out


def fmt(v: float | None, spec: str = ",.0f", suffix: str = "") -> str:
    return "–" if v is None else f"{v:{spec}}{suffix}"


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    celery = (results.get("celery") or {}).get("throughput", {}).get("events_per_s")
    bullmq = (results.get("bullmq") or {}).get("throughput", {}).get("events_per_s")
    lines = [
        f"Throughput: {args.events:,} events published at once (Celery: {args.celery_events or args.events:,}); "
        f"latency: {args.rate:,.0f} events/s offered for {args.latency_seconds:g} s. "
        f"Medians of {args.rounds} round(s); range of the throughput runs; others' CPU: other processes' "
        "share of the machine before each run.",
        "",
        "| system | adapter | events/s | range | CPU µs/event | p50 ms @rate | p99 ms @rate | offered /s "
        "| Rohas/Celery | Rohas/BullMQ | goal | others' CPU |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, r in results.items():
        adapter = r["adapter"] or "redis"
        if r["error"] and not r["throughput"]["runs"]:
            said = r["error"].split("error: ", 1)[-1].split(": expected one of")[0]
            lines.append(f"| {r['kind']} | {adapter} | not run: {said[:120]} | | | | | | | | | |")
            continue
        t, l = r["throughput"], r["latency"]
        rate = t["events_per_s"]
        lo, hi = t["events_per_s_range"]
        cpu = fmt(t["cpu_us_per_event"], ".1f")
        if t["redis_cpu_us_per_event"] is not None:
            cpu += f" + {t['redis_cpu_us_per_event']:.1f} redis"
        is_rohas = r["kind"].startswith("rohas")
        over_c = rate / celery if is_rohas and rate and celery else None
        over_b = rate / bullmq if is_rohas and rate and bullmq else None
        goal = GOALS.get((r["kind"], r["adapter"]))
        verdict = []
        if goal and rate:
            verdict.append(f"≥ {goal['events_per_s']:,}/s {'met' if rate >= goal['events_per_s'] else 'not met'}")
            if "over_celery" in goal and over_c:
                verdict.append(f"≥ {goal['over_celery']}× Celery {'met' if over_c >= goal['over_celery'] else 'not met'}")
            if "over_bullmq" in goal and over_b:
                verdict.append(f"≥ {goal['over_bullmq']}× BullMQ {'met' if over_b >= goal['over_bullmq'] else 'not met'}")
        p99 = fmt(l["p99_ms"], ".2f")
        if l["events_per_s"] and l["offered_per_s"] and l["events_per_s"] < 0.9 * l["offered_per_s"]:
            p99 += f" (kept up with {l['events_per_s']:,.0f}/s only)"
        busy = [x["others_busy"] for x in t["runs"] + l["runs"] if "others_busy" in x]
        others = f"{min(busy):.0%}–{max(busy):.0%}" if busy else "–"
        failed = t["failed_runs"] + l["failed_runs"]
        note = f" ({failed} failed runs)" if failed else ""
        lines.append(
            f"| {r['kind']} | {adapter} | {fmt(rate)}{note} | {f'{lo:,.0f}–{hi:,.0f}' if lo is not None else '–'} | {cpu} "
            f"| {fmt(l['p50_ms'], '.2f')} | {p99} | {fmt(l['offered_per_s'])} "
            f"| {fmt(over_c, '.1f', '×')} | {fmt(over_b, '.1f', '×')} | {'; '.join(verdict)} | {others} |"
        )
    return "\n".join(lines)


def versions(rohas: Path | None, celery_py: Path | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if rohas is not None:
        found["rohas"] = subprocess.run([str(rohas), "--version"], capture_output=True, text=True).stdout.strip()
        found["rohas_binary"] = f"{rohas} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(rohas.stat().st_mtime))})"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    found["workspace_commit"] = commit.stdout.strip()
    found["python"] = platform.python_version()
    if celery_py is not None:
        script = "import importlib.metadata as m; print(m.version('celery'), m.version('kombu'), m.version('redis'))"
        said = subprocess.run([str(celery_py), "-c", script], capture_output=True, text=True).stdout.split()
        if len(said) == 3:
            found["celery"], found["kombu"], found["redis-py"] = said
    bullmq = NODE_DIR / "node_modules" / "bullmq" / "package.json"
    if bullmq.is_file():
        found["bullmq"] = json.loads(bullmq.read_text())["version"]
        found["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        found["redis-server"] = redis_command(6379, 0, "INFO", "server").decode().split("redis_version:")[1].split()[0]
    except (OSError, IndexError):
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="events per throughput run (default 100000)")
    parser.add_argument("--celery-events", type=int, default=0,
                        help="events per Celery throughput run (default: --events; Celery handles ~1,000/s here)")
    parser.add_argument("--rate", type=float, default=10_000, help="events/s offered in the latency runs (default 10000)")
    parser.add_argument("--latency-seconds", type=float, default=3, help="length of a latency run (default 3)")
    parser.add_argument("--tick-ms", type=float, default=10, help="latency runs publish a chunk every this many ms")
    parser.add_argument("--bulk", type=int, default=1000, help="BullMQ addBulk size in throughput runs (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, medians reported (default 3)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated: {','.join(SYSTEMS)}")
    parser.add_argument("--adapters", default=",".join(ADAPTERS), help=f"Rohas adapters: {','.join(ADAPTERS)}")
    parser.add_argument("--warmup-events", type=int, default=2000, help="events of the warm-up run per system")
    parser.add_argument("--bullmq-concurrency", type=int, default=50)
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=13, help="Redis db for Celery and BullMQ, flushed (default 13)")
    parser.add_argument("--timeout", type=float, default=0, help="give up on a run after (s); default from its size")
    parser.add_argument("--server-cpu", default="0", help="taskset CPU list for servers and workers ('' to not pin)")
    parser.add_argument("--client-cpu", default="1", help="taskset CPU list for the publishers ('' to not pin)")
    parser.add_argument("--wait-quiet", type=float, default=0,
                        help="wait up to this many seconds before each run for other processes to go quiet")
    parser.add_argument("--quiet-threshold", type=float, default=0.15)
    parser.add_argument("--skip-build", action="store_true", help="use the rohas release binary as it is")
    parser.add_argument("--skip-install", action="store_true", help="no pip/npm install (they must be there)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = [s for s in args.systems.split(",") if s]
    adapters = [a for a in args.adapters.split(",") if a]
    for k in kinds:
        if k not in SYSTEMS:
            die(f"unknown system `{k}`; choose from {', '.join(SYSTEMS)}")
    for a in adapters:
        if a not in ADAPTERS:
            die(f"unknown adapter `{a}`; choose from {', '.join(ADAPTERS)}")
    if (args.server_cpu or args.client_cpu) and not shutil.which("taskset"):
        die("taskset is missing (apt-get install util-linux), or pass --server-cpu '' --client-cpu ''")

    rohas = None
    if any(k.startswith("rohas") for k in kinds):
        rohas = http_bench.rohas_binary(args.skip_build)
        prepare_projects(rohas, kinds)
    celery_py = celery_python(args.skip_install) if "celery" in kinds else None
    if "bullmq" in kinds:
        install_bullmq(args.skip_install)
    if celery_py is not None and len(cpu_list(args.server_cpu)) > 1:
        die("the Celery task counts per process: give the worker one core (--server-cpu N)")
    if "celery" in kinds or "bullmq" in kinds:
        try:
            redis_command(args.redis_port, args.redis_db, "FLUSHDB")
        except OSError as e:
            die(f"the local Redis (127.0.0.1:{args.redis_port}) does not answer: {e}")
    found_versions = versions(rohas, celery_py)  # now, before another build replaces the binary

    if MARKERS.exists():
        shutil.rmtree(MARKERS)
    MARKERS.mkdir(parents=True)
    systems = []
    for k in kinds:
        if k.startswith("rohas"):
            systems += [System(f"{k}/{a}", k, a) for a in adapters]
        else:
            systems.append(System(k, k, None))
    try:
        bench(systems, args, rohas, celery_py)
    finally:
        if "celery" in kinds or "bullmq" in kinds:
            try:
                redis_command(args.redis_port, args.redis_db, "FLUSHDB")
            except OSError:
                pass

    results = {s.name: summarize(s) for s in systems}
    text = report(results, args)
    print(text)
    output = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_average": os.getloadavg()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "versions": found_versions,
        "results": results,
        "table": text,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    if args.output == RESULTS / "latest.json":  # and a copy that the next run keeps
        RESULTS.joinpath(time.strftime("run-%Y%m%d-%H%M.json")).write_text(json.dumps(output, indent=2) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    main()
