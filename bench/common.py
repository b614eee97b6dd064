"""What the three HTTP benchmarks share: bench/http, bench/typescript and
bench/rust measure the same cases the same way, so the way lives here once.

A driver describes its servers as `Spec`s (how to start one on a port) for
two modes and hands them to `run_suite`:

- one core: every server pinned to `--server-cpu` (CPU 0), wrk to
  `--client-cpu` (CPU 1);
- all cores: every server in its multi-core setup and nothing pinned (see
  `add_load_arguments` for why, on a 2-core machine).

Per server and case `measure` records req/s, p50/p99 latency (at
`--connections`, 64 by default), the CPU time of the server's whole process
tree, and the peak RSS of that tree sampled while it is loaded; the suite
also records the tree's RSS once started, before any load. `bench_startup`
times process start to the first answered GET /health. The report helpers
turn those into Markdown tables of ratios (Rohas over each peer).

Standard library only: the drivers install the peers themselves.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NoReturn

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = Path.home() / ".cache" / "rohas-bench"

USER_BODY = {"name": "Ada Lovelace", "email": "ada@example.com"}
CASES: dict[str, tuple[str, str, Any]] = {
    # name: (method, path, body)
    "health": ("GET", "/health", None),
    "users": ("POST", "/users", USER_BODY),
    "objects": ("GET", "/objects", None),
}
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
CLOCK = os.sysconf("SC_CLK_TCK")

# Per server: per case, the kept round's figures.
Results = dict[str, dict[str, dict[str, Any]]]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def die(message: str) -> NoReturn:
    print(f"[bench] error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------- setup


def rohas_binary(skip_build: bool) -> Path:
    """$ROHAS_BIN, or the release binary built from this workspace."""
    given = os.environ.get("ROHAS_BIN")
    if given:
        path = Path(given)
        if not path.is_file():
            die(f"ROHAS_BIN={given} does not exist")
        return path
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "rohas-target"))
    binary = target / "release" / "rohas"
    if not skip_build:
        log("building rohas (cargo build --release -p rohas-cli) …")
        env = dict(os.environ, CARGO_TARGET_DIR=str(target))
        done = subprocess.run(["cargo", "build", "--release", "-p", "rohas-cli"], cwd=REPO, env=env)
        if done.returncode != 0:
            if not binary.is_file():
                die("cargo build failed; fix the build or pass ROHAS_BIN=/path/to/rohas")
            log(f"warning: cargo build failed; measuring the existing {binary} (built {built_at(binary)}) instead")
    if not binary.is_file():
        die(f"{binary} is missing: build it with `cargo build --release -p rohas-cli` or set ROHAS_BIN")
    return binary


def built_at(path: Path) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))


def rohas_versions(rohas: Path) -> dict[str, str]:
    """The binary's version and build time, and the workspace commit when it
    was built from here. Read before the run: others may rebuild it meanwhile."""
    found = {
        "rohas": subprocess.run([str(rohas), "--version"], capture_output=True, text=True).stdout.strip(),
        "rohas_binary": f"{rohas} (built {built_at(rohas)})",
        "python": platform.python_version(),
    }
    if not os.environ.get("ROHAS_BIN"):
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        found["workspace_commit"] = commit.stdout.strip()
    return found


def rohas_codegen(rohas: Path, project: Path) -> None:
    """`rohas codegen` on a bench project (its src/generated/ is not committed)."""
    done = subprocess.run([str(rohas), "-C", str(project), "codegen"], capture_output=True, text=True)
    if done.returncode != 0:
        die(f"rohas codegen failed:\n{done.stdout}{done.stderr}")


def load_generator() -> str:
    """`wrk` (installed with apt-get when neither it nor oha is there) or `oha`."""
    if shutil.which("wrk"):
        return "wrk"
    if shutil.which("oha"):
        return "oha"
    log("installing wrk (apt-get install -y wrk) …")
    install = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        install.insert(0, "sudo")
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(install[:-3] + ["update"], stdout=subprocess.DEVNULL)
        subprocess.run(install, stdout=subprocess.DEVNULL)
    if shutil.which("wrk"):
        return "wrk"
    die("no load generator: install wrk (apt-get install wrk) or oha (cargo install oha)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu: str | None, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if cpu else command


def cpu_count(cpu: str | None) -> int:
    """How many CPUs a taskset list names ("0", "0-3", "0,2"), or, unpinned,
    how many this process may run on: the N of uvicorn --workers N and kin."""
    if not cpu:
        return len(os.sched_getaffinity(0))
    count = 0
    for part in cpu.split(","):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "kernel": platform.release(), "load_average": os.getloadavg()}


def busy_fraction(seconds: float = 1.0) -> float:
    """How busy the machine's CPUs were over `seconds` (0 to 1), from /proc/stat:
    taken while the server under test is idle, it is what *other* processes use."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            # user nice system idle iowait irq softirq steal (guest time is inside user)
            values = [int(v) for v in f.readline().split()[1:9]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return idle, sum(values)

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return 0.0
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_quiet(args: argparse.Namespace, what: str) -> float:
    """Other processes' CPU use now; with --wait-quiet, wait (up to that many
    seconds) until it drops under --quiet-threshold."""
    busy = busy_fraction()
    deadline = time.monotonic() + args.wait_quiet
    while busy > args.quiet_threshold and time.monotonic() < deadline:
        log(f"machine {busy:.0%} busy before {what}; waiting for it to calm down …")
        time.sleep(4)
        busy = busy_fraction()
    if busy > args.quiet_threshold:
        log(f"warning: the machine is {busy:.0%} busy with other work before {what}: numbers will be low and noisy")
    return busy


# ---------------------------------------------------------------- process trees


def proc_stat(pid: int | str) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (fields[0] is field 3, state)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def session_pids(sid: int) -> list[int]:
    """Every process of the session a server leads: the servers start in a
    session of their own, so this is Rohas and its Node workers, uvicorn and
    its workers, Robyn's processes, a node:cluster primary and its workers."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(entry)
            if fields is not None and int(fields[3]) == sid:  # field 6: session
                pids.append(int(entry))
    return pids


def session_cpu_seconds(sid: int) -> float:
    """User + system CPU seconds used so far by the session's live processes."""
    total = 0
    for pid in session_pids(sid):
        fields = proc_stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLOCK


def process_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; PSS is 0 when smaps_rollup is unreadable."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            rss = int(f.read().split()[1]) * PAGE
    except (OSError, IndexError):
        return 0, 0
    pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return rss, pss


def session_memory(sid: int) -> dict[str, float]:
    """The session's RSS summed over its processes (what the tables show), its
    PSS (shared pages split between the processes sharing them: the sum that
    does not count a forked worker's shared libraries twice) and its size."""
    pids = session_pids(sid)
    rss = pss = 0
    for pid in pids:
        r, p = process_memory(pid)
        rss, pss = rss + r, pss + p
    return {"rss_mb": round(rss / MB, 1), "pss_mb": round(pss / MB, 1), "processes": len(pids)}


class MemorySampler:
    """Samples a session's RSS on a thread while a load runs; `peak` is the
    highest sum seen. Four samples a second: a /proc scan costs ~1 ms."""

    def __init__(self, sid: int, every: float = 0.25) -> None:
        self.sid, self.every = sid, every
        self.peak: dict[str, float] = {"rss_mb": 0.0, "pss_mb": 0.0, "processes": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            now = session_memory(self.sid)
            if now["rss_mb"] > self.peak["rss_mb"]:
                self.peak = now

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- servers


@dataclass
class Spec:
    """How to start one server: `command(port)` run in `cwd` with `env`."""

    name: str
    command: Callable[[int], list[str]]
    cwd: Path
    env: dict[str, str]
    logs: Path


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_s: float = 0.0  # process start to the first 200 on GET /health

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it when it lingers
        (Robyn ignores SIGTERM)."""
        stop_group(self.process, grace=5)


def stop_group(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM `process`'s group, SIGKILL it after `grace` seconds; then
    whatever is left in the group (a worker) goes too."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def launch(spec: Spec, cpu: str | None, poll: float = 0.1, timeout: float = 60) -> Server:
    """Start a server on a free port and wait for GET /health to answer 200,
    polling every `poll` seconds; `started_s` is how long that took."""
    port = free_port()
    return start_server(spec.name, spec.command(port), cpu, spec.cwd, spec.env, port, spec.logs, poll, timeout)


def start_server(
    name: str,
    command: list[str],
    cpu: str | None,
    cwd: Path,
    env: dict[str, str],
    port: int,
    logs: Path,
    poll: float = 0.1,
    timeout: float = 60,
) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    out = open(log_path, "wb")
    t0 = time.perf_counter()
    process = subprocess.Popen(
        pinned(cpu, command),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            die(f"{name} exited with {process.returncode} before answering; its log ({log_path}):\n{tail}")
        if health_ok(port):
            server.started_s = time.perf_counter() - t0
            return server
        time.sleep(poll)
    server.stop()
    die(f"{name} did not answer GET /health on port {port} within {timeout:.0f} s; see {log_path}")


def health_ok(port: int) -> bool:
    try:
        status, _ = request(port, "GET", "/health", timeout=1)
    except OSError:
        return False
    return status == 200


def request(port: int, method: str, path: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if payload is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, data.decode(errors="replace")
    finally:
        conn.close()


def check_cases(server: Server) -> None:
    """Every server must answer every case the same way before it is measured."""
    status, value = request(server.port, "GET", "/health")
    if status != 200 or value != {"status": "ok"}:
        die(f"{server.name} GET /health answered {status} {value!r}")
    status, value = request(server.port, "POST", "/users", USER_BODY)
    if status != 200 or value != USER_BODY:
        die(f"{server.name} POST /users answered {status} {value!r}")
    status, value = request(server.port, "GET", "/objects")
    if status != 200 or not isinstance(value, list) or len(value) != 100 or value[1]["name"] != "item-1":
        die(f"{server.name} GET /objects answered {status} {str(value)[:200]!r}")


# ---------------------------------------------------------------- load


WRK_SCRIPT = """
wrk.method = "{method}"
{body}
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH-JSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d," ..
    "\\"status_errors\\":%d,\\"socket_errors\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    raw: dict[str, Any] = field(default_factory=dict)


def run_load(
    tool: str, cpu: str | None, port: int, case: str, seconds: float, connections: int, threads: int = 1
) -> Load:
    """One load run of a case against a server; wrk with `threads` threads
    (oha is multi-threaded on its own)."""
    if tool == "wrk":
        return run_wrk(cpu, port, case, seconds, connections, threads)
    return run_oha(cpu, port, case, seconds, connections)


def run_wrk(cpu: str | None, port: int, case: str, seconds: float, connections: int, threads: int) -> Load:
    method, path, body = CASES[case]
    url = f"http://127.0.0.1:{port}{path}"
    lua = WRK_SCRIPT.format(
        method=method,
        body=(
            f"wrk.body = {json.dumps(json.dumps(body))}\nwrk.headers[\"Content-Type\"] = \"application/json\""
            if body is not None
            else ""
        ),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    try:
        threads = max(1, min(threads, connections))
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script, url]
        done = subprocess.run(pinned(cpu, command), capture_output=True, text=True)
    finally:
        os.unlink(script)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH-JSON ")), None)
    if line is None:
        die(f"wrk printed no result for {url}:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line[len("BENCH-JSON ") :])
    return Load(
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        requests=raw["requests"],
        errors=raw["status_errors"] + raw["socket_errors"],
        raw=raw,
    )


def run_oha(cpu: str | None, port: int, case: str, seconds: float, connections: int) -> Load:
    method, path, body = CASES[case]
    url = f"http://127.0.0.1:{port}{path}"
    command = ["oha", "--no-tui", "-j", "-z", f"{max(1, round(seconds))}s", "-c", str(connections), "-m", method]
    if body is not None:
        command += ["-d", json.dumps(body), "-H", "content-type: application/json"]
    done = subprocess.run(pinned(cpu, [*command, url]), capture_output=True, text=True)
    try:
        raw = json.loads(done.stdout)
    except ValueError:
        die(f"oha printed no JSON for {url}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    codes = raw.get("statusCodeDistribution", {})
    ok = sum(n for code, n in codes.items() if str(code).startswith("2"))
    total = sum(codes.values()) + sum(raw.get("errorDistribution", {}).values())
    return Load(
        rps=raw["summary"]["requestsPerSec"],
        p50_ms=raw["latencyPercentiles"]["p50"] * 1000,
        p99_ms=raw["latencyPercentiles"]["p99"] * 1000,
        requests=total,
        errors=total - ok,
        raw={"summary": raw.get("summary"), "status": codes},
    )


@dataclass
class Mode:
    """Where servers and load generator run: the one-core mode pins them
    apart, the all-cores mode gives each server every core."""

    name: str
    server_cpu: str | None
    client_cpu: str | None
    client_threads: int


def one_core(args: argparse.Namespace) -> Mode:
    return Mode("one core", args.server_cpu or None, args.client_cpu or None, 1)


def all_cores(args: argparse.Namespace) -> Mode:
    return Mode("all cores", args.all_cores_server_cpu or None, args.all_cores_client_cpu or None,
                args.all_cores_client_threads)


def measure(server: Server, tool: str, args: argparse.Namespace, mode: Mode, case: str, connections: int) -> dict[str, Any]:
    """Warm up, then measure one case on one server: the load's figures, the
    CPU the server's process tree used (1.0 = one whole core) and its peak
    RSS while loaded."""
    if args.warmup > 0:
        run_load(tool, mode.client_cpu, server.port, case, args.warmup, connections, mode.client_threads)
    cpu0, t0 = session_cpu_seconds(server.pid), time.monotonic()
    with MemorySampler(server.pid) as memory:
        load = run_load(tool, mode.client_cpu, server.port, case, args.duration, connections, mode.client_threads)
    cpu_seconds = session_cpu_seconds(server.pid) - cpu0
    if server.process.poll() is not None:
        die(f"{server.name} died during {case} (exit {server.process.returncode}); see {server.log_path}")
    return {
        "rps": round(load.rps, 1),
        "mean_us": round(1e6 * connections / load.rps, 1) if load.rps else None,
        "p50_ms": round(load.p50_ms, 3),
        "p99_ms": round(load.p99_ms, 3),
        "requests": load.requests,
        "errors": load.errors,
        # CPU share of the measured time, over all the tree's processes.
        "server_cpu": round(cpu_seconds / max(1e-9, time.monotonic() - t0), 2),
        # CPU time per request: what a request costs, whatever share of the
        # machine the other processes left the server.
        "cpu_us_per_req": round(1e6 * cpu_seconds / load.requests, 1) if load.requests else None,
        "rss_peak_mb": memory.peak["rss_mb"],
        "pss_peak_mb": memory.peak["pss_mb"],
        "processes": memory.peak["processes"],
    }


@dataclass
class Suite:
    """A mode's figures: per server and case (the median round), per server
    its memory, idle and under load."""

    mode: str
    server_cpu: str | None
    connections: int
    http: Results
    memory: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "server_cpu": self.server_cpu or "unpinned", "connections": self.connections,
                "http": self.http, "memory": self.memory}


def run_suite(
    args: argparse.Namespace, tool: str, specs: list[Spec], mode: Mode, cases: list[str], connections: int
) -> Suite:
    """Every server is started first (idle ones cost nothing) and its idle
    RSS taken; then, case by case, the servers are measured one after the
    other, `--rounds` times, so a change in the machine's load hits them
    alike. The round with the median req/s is kept per server and case."""
    servers: dict[str, Server] = {}
    idle: dict[str, dict[str, float]] = {}
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {s.name: {c: [] for c in cases} for s in specs}
    try:
        for spec in specs:
            servers[spec.name] = server = launch(spec, mode.server_cpu)
            time.sleep(args.settle)
            idle[spec.name] = session_memory(server.pid)
            check_cases(server)
        for round_ in range(1, args.rounds + 1):
            for case in cases:
                for name, server in servers.items():
                    others = wait_quiet(args, f"{name} {case} ({mode.name})")
                    r = measure(server, tool, args, mode, case, connections)
                    r["others_busy"] = round(others, 2)
                    rounds[name][case].append(r)
                    log(
                        f"{mode.name} round {round_}  {name:9} {case:8} -c{connections} {r['rps']:10,.0f} req/s  "
                        f"p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  server CPU {r['server_cpu']:.0%}  "
                        f"RSS {r['rss_peak_mb']:.0f} MB  others' CPU {others:.0%}"
                    )
    finally:
        for server in servers.values():
            server.stop()
    return Suite(mode.name, mode.server_cpu, connections, median_rounds(rounds), memory_summary(idle, rounds))


def memory_summary(idle: dict[str, dict[str, float]], rounds: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Per server: idle RSS/PSS and process count, and the peak under load
    over every measured run (with the case it was seen in)."""
    found: dict[str, Any] = {}
    for name, by_case in rounds.items():
        runs = [(case, r) for case, rs in by_case.items() for r in rs]
        peak_case, peak = max(runs, key=lambda cr: cr[1]["rss_peak_mb"], default=(None, None))
        found[name] = {
            "idle_rss_mb": idle[name]["rss_mb"],
            "idle_pss_mb": idle[name]["pss_mb"],
            "idle_processes": idle[name]["processes"],
            "load_rss_mb": peak["rss_peak_mb"] if peak else None,
            "load_pss_mb": peak["pss_peak_mb"] if peak else None,
            "load_processes": peak["processes"] if peak else None,
            "load_case": peak_case,
        }
    return found


def median_rounds(rounds: dict[str, dict[str, list[dict[str, Any]]]]) -> Results:
    """Per server and case, the round with the median req/s (with every
    round's req/s beside it when there were several)."""
    results: Results = {}
    for name, by_case in rounds.items():
        results[name] = {}
        for case, runs in by_case.items():
            if not runs:
                continue
            ordered = sorted(runs, key=lambda r: r["rps"])
            kept = dict(ordered[(len(ordered) - 1) // 2])
            if len(runs) > 1:
                kept["rounds_rps"] = [r["rps"] for r in runs]
            results[name][case] = kept
    return results


# ---------------------------------------------------------------- start-up


def bench_startup(specs: list[Spec], cpu: str | None, tries: int) -> dict[str, dict[str, Any]]:
    """Per server, `tries` cold starts: from spawning the process to its first
    200 on GET /health, polled every 5 ms on a new connection; the median is
    kept. Servers alternate within each try, so a busy moment hits all."""
    times: dict[str, list[float]] = {spec.name: [] for spec in specs}
    for attempt in range(1, tries + 1):
        for spec in specs:
            server = launch(spec, cpu, poll=0.005)
            server.stop()
            times[spec.name].append(server.started_s * 1000)
            log(f"start-up try {attempt}  {spec.name:9} {times[spec.name][-1]:8.0f} ms")
    return {
        name: {"median_ms": round(statistics.median(ms), 1), "tries_ms": [round(t, 1) for t in ms]}
        for name, ms in times.items()
    }


# ---------------------------------------------------------------- report


def times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def divide(a: float | None, b: float | None) -> float | None:
    try:
        return a / b  # type: ignore[operator]
    except (TypeError, ZeroDivisionError):
        return None


def figure(results: Results, server: str, case: str, key: str) -> float | None:
    return results.get(server, {}).get(case, {}).get(key)


def ratio(results: Results, a: str, b: str, case: str, key: str = "rps") -> float | None:
    """`key` of server `a` over server `b` in one case (None when either is missing)."""
    return divide(figure(results, a, case, key), figure(results, b, case, key))


def label(pair: tuple[str, str]) -> str:
    return f"{pair[0]}/{pair[1]}"


def throughput_table(results: Results) -> list[str]:
    """One row per server and case: the raw figures the ratio tables divide."""
    lines = [
        "| server | case | req/s | p99 ms | errors | server CPU | CPU µs/req | peak RSS MB | others' CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, by_case in results.items():
        for case, r in by_case.items():
            cost = f"{r['cpu_us_per_req']:.1f}" if r.get("cpu_us_per_req") is not None else "–"
            lines.append(
                f"| {name} | {case} | {r['rps']:,.0f} | {r['p99_ms']:.2f} | {r['errors']} | {r['server_cpu']:.0%} "
                f"| {cost} | {r['rss_peak_mb']:.0f} | {r['others_busy']:.0%} |"
            )
    return lines


def all_cores_ratio_table(cores: Results, one: Results | None, pairs: list[tuple[str, str]], cases: list[str],
                          one_pairs: list[tuple[str, str]] | None = None) -> list[str]:
    """req/s ratios on all cores, each beside the same ratio on one core (the
    goal: the same ratios). `one_pairs` names the one-core servers matching
    `pairs` when they differ (TypeScript's rohas-2w is `rohas` on all cores)."""
    one_pairs = one_pairs or pairs
    lines = [
        "| case | " + " | ".join(f"{label(p)} (one core)" for p in pairs) + " |",
        "|---|" + "---:|" * len(pairs),
    ]
    for case in cases:
        cells = []
        for pair, one_pair in zip(pairs, one_pairs):
            here = ratio(cores, *pair, case)
            there = ratio(one, *one_pair, case) if one else None
            cells.append(f"{times(here)} ({times(there)})")
        lines.append(f"| {case} | {' | '.join(cells)} |")
    return lines


def latency_table(suites: list[tuple[Suite, list[tuple[str, str]]]], cases: list[str]) -> list[str]:
    """Per mode measured: p99 per server and case, then Rohas p99 / peer p99
    (≤ 1 is the goal)."""
    lines: list[str] = []
    for suite, pairs in suites:
        names = list(suite.http)
        lines += [""] if lines else []
        lines += [
            f"{suite.mode}, {suite.connections} connections:",
            "",
            "| case | " + " | ".join(f"{n} p99 ms" for n in names) + " | "
            + " | ".join(f"{label(p)} p99" for p in pairs) + " |",
            "|---|" + "---:|" * (len(names) + len(pairs)),
        ]
        for case in cases:
            p99s = [f"{figure(suite.http, n, case, 'p99_ms') or 0:.2f}" for n in names]
            ratios = [times(ratio(suite.http, *p, case, "p99_ms")) for p in pairs]
            lines.append(f"| {case} | {' | '.join(p99s)} | {' | '.join(ratios)} |")
    return lines


def memory_table(suites: list[tuple[Suite, list[tuple[str, str]]]]) -> list[str]:
    """RSS of each server's process tree idle and at its peak under load, then
    Rohas over each peer for both."""
    lines = [
        "| mode | server | processes | idle RSS MB | loaded RSS MB (case) | idle PSS MB | loaded PSS MB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for suite, _ in suites:
        for name, m in suite.memory.items():
            loaded = f"{m['load_rss_mb']:.0f} ({m['load_case']})" if m["load_rss_mb"] is not None else "–"
            load_pss = f"{m['load_pss_mb']:.0f}" if m["load_pss_mb"] is not None else "–"
            procs = m["load_processes"] or m["idle_processes"]
            lines.append(
                f"| {suite.mode} | {name} | {procs} | {m['idle_rss_mb']:.0f} | {loaded} "
                f"| {m['idle_pss_mb']:.0f} | {load_pss} |"
            )
    lines += ["", "| mode | ratio | idle RSS | loaded RSS |", "|---|---|---:|---:|"]
    for suite, pairs in suites:
        for a, b in pairs:
            ma, mb = suite.memory.get(a), suite.memory.get(b)
            if ma is None or mb is None:
                continue
            idle = divide(ma["idle_rss_mb"], mb["idle_rss_mb"])
            loaded = divide(ma["load_rss_mb"], mb["load_rss_mb"])
            lines.append(f"| {suite.mode} | {a}/{b} | {times(idle)} | {times(loaded)} |")
    return lines


def startup_table(startup: dict[str, dict[str, Any]], pairs: list[tuple[str, str]]) -> list[str]:
    """Median start-up per server, and Rohas over each peer (≤ 1: Rohas starts sooner)."""
    lines = ["| server | median ms | tries ms |", "|---|---:|---|"]
    for name, s in startup.items():
        lines.append(f"| {name} | {s['median_ms']:.0f} | {', '.join(f'{t:.0f}' for t in s['tries_ms'])} |")
    cells = [
        f"{label(p)} {times(divide(startup[p[0]]['median_ms'], startup[p[1]]['median_ms']))}"
        for p in pairs
        if p[0] in startup and p[1] in startup
    ]
    if cells:
        lines += ["", "start-up ratios: " + ", ".join(cells)]
    return lines


def extra_report(one: Suite | None, cores: Suite | None, startup: dict | None, cases: list[str],
                 pairs: list[tuple[str, str]], cores_pairs: list[tuple[str, str]],
                 one_pairs_for_cores: list[tuple[str, str]] | None = None) -> list[str]:
    """The tables issue 19 adds under each driver's one-core report: all
    cores, latency, memory, start-up (each only when measured)."""
    lines: list[str] = []
    suites = [(s, p) for s, p in ((one, pairs), (cores, cores_pairs)) if s is not None]
    if cores is not None:
        lines += ["", f"All cores ({cores_note(cores)}):", ""]
        lines += throughput_table(cores.http)
        lines += ["", "req/s ratios on all cores, and in brackets on one core (goal: the same):", ""]
        lines += all_cores_ratio_table(cores.http, one.http if one else None, cores_pairs, cases, one_pairs_for_cores)
    if suites:
        lines += ["", "Latency: p99 and Rohas p99 / peer p99:", ""] + latency_table(suites, cases)
        lines += ["", "Memory: the server's process tree, summed:", ""] + memory_table(suites)
    if startup:
        lines += ["", "Start-up: process start to the first answered GET /health:", ""]
        lines += startup_table(startup, pairs)
    return lines


def cores_note(suite: Suite) -> str:
    where = f"servers on CPUs {suite.server_cpu}" if suite.server_cpu else "nothing pinned"
    return f"{where}, {cpu_count(suite.server_cpu)} CPUs per server"


# ---------------------------------------------------------------- arguments


def add_load_arguments(parser: argparse.ArgumentParser, servers: list[str], cases: list[str], output: Path) -> None:
    """The options every driver shares: load shape, servers, cases, CPU
    pinning, quiet-machine handling, which measures run and the results file.

    All cores on a 2-core machine: no core is left to give the load generator
    to itself, so by default neither the server nor wrk is pinned and wrk runs
    one thread: it takes at most one core's time, the same share against
    every server, and each server has all cores to spread over. On a larger
    machine, pin them apart with --all-cores-server-cpu/--all-cores-client-cpu
    (N, the peers' worker count, is then the size of the server's CPU list)."""
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per case (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per case (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every case this many times, keep the median")
    parser.add_argument("--connections", type=int, default=64,
                        help="concurrent connections, also the p99 latency's (default 64)")
    parser.add_argument("--servers", default=",".join(servers), help=f"comma-separated: {','.join(servers)}")
    parser.add_argument("--cases", default=",".join(cases), help=f"comma-separated: {','.join(cases)}")
    parser.add_argument("--skip-build", action="store_true", help="use the rohas release binary as it is")
    parser.add_argument("--server-cpu", default="0", help="taskset CPU list for servers ('' to not pin)")
    parser.add_argument("--client-cpu", default="1", help="taskset CPU list for the load generator ('' to not pin)")
    parser.add_argument("--no-one-core", action="store_true", help="skip the one-core runs")
    parser.add_argument("--no-all-cores", action="store_true", help="skip the all-cores runs")
    parser.add_argument("--all-cores-server-cpu", default="", help="taskset CPU list for servers on all cores "
                        "(default '': unpinned)")
    parser.add_argument("--all-cores-client-cpu", default="", help="taskset CPU list for the load generator on "
                        "all cores (default '': unpinned)")
    parser.add_argument("--all-cores-client-threads", type=int, default=1,
                        help="wrk threads on all cores (default 1: at most one core's time, as on one core)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up times")
    parser.add_argument("--startup-tries", type=int, default=5, help="cold starts per server (default 5, median kept)")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds after a server answers before its idle RSS is taken (default 1)")
    parser.add_argument("--wait-quiet", type=float, default=0,
                        help="wait up to this many seconds before each case for other processes to go quiet")
    parser.add_argument("--quiet-threshold", type=float, default=0.15,
                        help="CPU share (0-1) of other processes above which a case is flagged (default 0.15)")
    parser.add_argument("--output", type=Path, default=output)


def check_load_arguments(args: argparse.Namespace, servers: list[str], cases: list[str]) -> None:
    """Split and check `--servers`/`--cases`; stop on SIGTERM through the
    `finally` blocks that stop the servers; need taskset when pinning."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.servers = [s for s in args.servers.split(",") if s]
    args.cases = [c for c in args.cases.split(",") if c]
    for s in args.servers:
        if s not in servers:
            die(f"unknown server `{s}`; choose from {', '.join(servers)}")
    for c in args.cases:
        if c not in cases:
            die(f"unknown case `{c}`; choose from {', '.join(cases)}")
    pins = [args.server_cpu, args.client_cpu, args.all_cores_server_cpu, args.all_cores_client_cpu]
    if any(pins) and not shutil.which("taskset"):
        die("taskset is missing (apt-get install util-linux), or pass --server-cpu '' --client-cpu ''")


def suite_seconds(args: argparse.Namespace, servers: int, cases: int, connections_runs: int = 1) -> float:
    """A suite's expected length: per server and case and round, the
    others'-CPU probe (1 s), warm-up and measure; plus ~3 s to start each."""
    per_run = 1 + args.warmup + max(1, round(args.duration)) + 0.3
    return servers * (3 + args.settle) + args.rounds * cases * servers * per_run * connections_runs


def startup_seconds(args: argparse.Namespace, servers: int) -> float:
    return 0 if args.no_startup else args.startup_tries * servers * 2.5


def announce(seconds: float) -> None:
    log(f"estimated measuring time: ~{seconds / 60:.1f} min (plus builds and installs)")


def write_results(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    log(f"results written to {path}")
