#!/usr/bin/env python3
"""The HTTP benchmark of issue 4: Rohas (Python handlers) beside FastAPI and Robyn.

    python3 bench/http/run.py                 # everything, 10 s per case
    python3 bench/http/run.py --duration 3    # a quick run

Each server runs pinned to one core (`taskset -c 0`) and the load generator
(wrk, or oha when wrk is missing) to the other (`taskset -c 1`). Per case: a
2 s warm-up, then `--duration` seconds measured; the table gives req/s and
p99 latency, then the ratios Rohas/Robyn and Rohas/FastAPI.

Two Rohas-only measures follow:
- events/s: POST /events/trigger publishes N events on the memory bus to a
  Python handler that counts them; GET /events/count is polled until all N
  were handled;
- hot reload: `rohas dev` on a copy of the project, a handler file is
  rewritten with a new return value, and GET /version is polled until the new
  value is served (median of `--reload-tries`).

Results go to bench/http/results/latest.json (not committed). Standard
library only: the peers are installed into their own venv
(~/.cache/rohas-bench/venv, or $ROHAS_BENCH_VENV) by this script.
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
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
APP = HERE / "rohas-app"
PEERS = HERE / "peers"
RESULTS = HERE / "results"
VENV = Path(os.environ.get("ROHAS_BENCH_VENV", Path.home() / ".cache" / "rohas-bench" / "venv"))
PEER_PACKAGES = ["fastapi", "uvicorn[standard]", "robyn"]

USER_BODY = {"name": "Ada Lovelace", "email": "ada@example.com"}
CASES = {
    # name: (method, path, body, expected JSON check)
    "health": ("GET", "/health", None),
    "users": ("POST", "/users", USER_BODY),
    "objects": ("GET", "/objects", None),
}
SERVERS = ["rohas", "robyn", "fastapi"]


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
            built = time.strftime("%Y-%m-%d %H:%M", time.localtime(binary.stat().st_mtime))
            log(f"warning: cargo build failed; measuring the existing {binary} (built {built}) instead")
    if not binary.is_file():
        die(f"{binary} is missing: build it with `cargo build --release -p rohas-cli` or set ROHAS_BIN")
    return binary


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
    found["rohas"] = subprocess.run([str(rohas), "--version"], capture_output=True, text=True).stdout.strip()
    found["rohas_binary"] = f"{rohas} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(rohas.stat().st_mtime))})"
    if not os.environ.get("ROHAS_BIN"):
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        found["workspace_commit"] = commit.stdout.strip()
    found["python"] = platform.python_version()
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def pinned(cpu: str | None, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if cpu else command


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it when it lingers
        (Robyn ignores SIGTERM)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        # Children left in the group (a Robyn worker) go too.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_server(name: str, command: list[str], cpu: str | None, cwd: Path, env: dict[str, str], port: int) -> Server:
    RESULTS.joinpath("logs").mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / "logs" / f"{name}.log"
    out = open(log_path, "wb")
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            die(f"{name} exited with {process.returncode} before answering; its log ({log_path}):\n{tail}")
        try:
            status, _ = request(port, "GET", "/health", timeout=1)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    die(f"{name} did not answer GET /health on port {port} within 60 s; see {log_path}")


def start_rohas(rohas: Path, cpu: str | None, project: Path = APP, dev: bool = False) -> Server:
    port = free_port()
    env = dict(os.environ, ROHAS_LOG_LEVEL=os.environ.get("ROHAS_LOG_LEVEL", "warn"))
    if (VENV / "bin" / "python").is_file() and "VIRTUAL_ENV" not in os.environ:
        # The bench venv has uvloop (uvicorn[standard] brings it): Rohas's Python
        # runtime uses it when the project's venv has it, as uvicorn does.
        env["VIRTUAL_ENV"] = str(VENV)
    if dev:
        command = [str(rohas), "-C", str(project), "dev", "--port", str(port)]
    else:
        command = [str(rohas), "-C", str(project), "start", "--port", str(port)]
    return start_server("rohas-dev" if dev else "rohas", command, cpu, project, env, port)


def start_peer(name: str, python: Path | None, cpu: str | None) -> Server:
    if python is None:
        die(f"{name} needs the peers' venv")
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if name == "fastapi":
        command = [str(python), "fastapi_app.py", str(port)]
    else:
        command = [str(python), "robyn_app.py", str(port), "--processes", "1", "--workers", "1", "--log-level", "WARN"]
    return start_server(name, command, cpu, PEERS, env, port)


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


def run_load(tool: str, cpu: str | None, port: int, case: str, seconds: float, connections: int) -> Load:
    method, path, body = CASES[case]
    url = f"http://127.0.0.1:{port}{path}"
    if tool == "wrk":
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
            command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script, url]
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
    # oha
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


def bench_http(args: argparse.Namespace, rohas: Path, python: Path | None, tool: str) -> dict[str, dict[str, Any]]:
    """Every server is started first (idle ones cost nothing); then, case by
    case, the servers are measured one after the other, `--rounds` times, so a
    change in the machine's load hits them alike. The round with the median
    req/s is kept per server and case."""
    servers: dict[str, Server] = {}
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {name: {case: [] for case in args.cases} for name in args.servers}
    try:
        for name in args.servers:
            server = start_rohas(rohas, args.server_cpu) if name == "rohas" else start_peer(name, python, args.server_cpu)
            servers[name] = server
            check_cases(server)
        for round_ in range(1, args.rounds + 1):
            for case in args.cases:
                for name, server in servers.items():
                    others = wait_quiet(args, f"{name} {case}")
                    if args.warmup > 0:
                        run_load(tool, args.client_cpu, server.port, case, args.warmup, args.connections)
                    load = run_load(tool, args.client_cpu, server.port, case, args.duration, args.connections)
                    if server.process.poll() is not None:
                        die(f"{name} died during {case} (exit {server.process.returncode}); see {server.log_path}")
                    log(
                        f"round {round_}  {name:8} {case:8} {load.rps:10.0f} req/s  p99 {load.p99_ms:7.2f} ms  "
                        f"errors {load.errors}  others' CPU {others:.0%}"
                    )
                    rounds[name][case].append(
                        {
                            "rps": round(load.rps, 1),
                            "p50_ms": round(load.p50_ms, 3),
                            "p99_ms": round(load.p99_ms, 3),
                            "requests": load.requests,
                            "errors": load.errors,
                            "others_busy": round(others, 2),
                        }
                    )
    finally:
        for server in servers.values():
            server.stop()
    return median_rounds(rounds)


def median_rounds(rounds: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, dict[str, Any]]:
    """Per server and case, the round with the median req/s (with every
    round's req/s beside it when there were several). Shared by the drivers."""
    results: dict[str, dict[str, Any]] = {}
    for name, by_case in rounds.items():
        results[name] = {}
        for case, runs in by_case.items():
            ordered = sorted(runs, key=lambda r: r["rps"])
            kept = dict(ordered[(len(ordered) - 1) // 2])
            if len(runs) > 1:
                kept["rounds_rps"] = [r["rps"] for r in runs]
            results[name][case] = kept
    return results


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


def ratio(results: dict[str, dict[str, Any]], a: str, b: str, case: str) -> float | None:
    try:
        return results[a][case]["rps"] / results[b][case]["rps"]
    except (KeyError, ZeroDivisionError):
        return None


def report(http_results: dict[str, dict[str, Any]], events: dict | None, reload: dict | None, cases: list[str]) -> str:
    lines = [
        "| server | case | req/s | p99 ms | errors | others' CPU |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, by_case in http_results.items():
        for case, r in by_case.items():
            lines.append(
                f"| {name} | {case} | {r['rps']:,.0f} | {r['p99_ms']:.2f} | {r['errors']} | {r['others_busy']:.0%} |"
            )
    lines += ["", "| case | Rohas/Robyn | Rohas/FastAPI |", "|---|---:|---:|"]
    for case in cases:
        robyn = ratio(http_results, "rohas", "robyn", case)
        fastapi = ratio(http_results, "rohas", "fastapi", case)
        lines.append(
            f"| {case} | {f'{robyn:.2f}×' if robyn else '–'} | {f'{fastapi:.2f}×' if fastapi else '–'} |"
        )
    lines.append("")
    if events:
        lines.append(f"events through the memory bus to a Python handler: {events['events_per_s']:,.0f} events/s "
                     f"({events['events']} events, best of {len(events['runs'])})")
    if reload:
        lines.append(f"hot reload (save → new code served, rohas dev): median {reload['median_ms']:.0f} ms "
                     f"(tries: {', '.join(f'{t:.0f}' for t in reload['tries_ms'])} ms)")
    return "\n".join(lines)


def add_load_arguments(parser: argparse.ArgumentParser, servers: list[str], cases: list[str], output: Path) -> None:
    """The options every benchmark driver shares (bench/rust and
    bench/typescript import this module): load shape, servers, cases, CPU
    pinning, quiet-machine handling and the results file."""
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per case (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per case (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every case this many times, keep the median")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--servers", default=",".join(servers), help=f"comma-separated: {','.join(servers)}")
    parser.add_argument("--cases", default=",".join(cases), help=f"comma-separated: {','.join(cases)}")
    parser.add_argument("--skip-build", action="store_true", help="use the rohas release binary as it is")
    parser.add_argument("--server-cpu", default="0", help="taskset CPU list for servers ('' to not pin)")
    parser.add_argument("--client-cpu", default="1", help="taskset CPU list for the load generator ('' to not pin)")
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
    if (args.server_cpu or args.client_cpu) and not shutil.which("taskset"):
        die("taskset is missing (apt-get install util-linux), or pass --server-cpu '' --client-cpu ''")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser, list(SERVERS), list(CASES), RESULTS / "latest.json")
    parser.add_argument("--events", type=int, default=50_000, help="events per events/s run (default 50000)")
    parser.add_argument("--event-runs", type=int, default=3, help="events/s runs, best reported (default 3)")
    parser.add_argument("--events-timeout", type=float, default=300, help="give up on an events run after (s)")
    parser.add_argument("--reload-tries", type=int, default=5, help="hot reload tries (default 5)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-events", action="store_true")
    parser.add_argument("--skip-reload", action="store_true")
    args = parser.parse_args()
    check_load_arguments(args, list(SERVERS), list(CASES))

    rohas = rohas_binary(args.skip_build)
    tool = load_generator()
    needs_peers = any(s != "rohas" for s in args.servers) and not args.skip_http
    python = peer_python() if needs_peers else None
    codegen = subprocess.run([str(rohas), "-C", str(APP), "codegen"], capture_output=True, text=True)
    if codegen.returncode != 0:
        die(f"rohas codegen failed:\n{codegen.stdout}{codegen.stderr}")

    http_results = {} if args.skip_http else bench_http(args, rohas, python, tool)
    events = None if args.skip_events else bench_events(args, rohas)
    reload = None if args.skip_reload else bench_reload(args, rohas)

    text = report(http_results, events, reload, args.cases)
    print(text)
    ratios = {
        case: {"rohas_over_robyn": ratio(http_results, "rohas", "robyn", case),
               "rohas_over_fastapi": ratio(http_results, "rohas", "fastapi", case)}
        for case in args.cases
    }
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
        },
        "versions": versions(python, rohas),
        "http": http_results,
        "ratios": ratios,
        "events": events,
        "reload": reload,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    main()
