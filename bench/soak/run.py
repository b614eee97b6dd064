#!/usr/bin/env python3
"""Soak test: a steady mix of requests, events and WebSocket traffic against
the project `rohas init` makes, for each language, while RSS, open file
descriptors, threads and req/s are sampled. Does anything grow?

    python3 bench/soak/run.py                       # 3 languages, 10 minutes each
    python3 bench/soak/run.py --lang python --duration 120 --warmup 30
    ROHAS_BIN=target/debug/rohas python3 bench/soak/run.py --duration 20 --warmup 5 --no-plot

The load, per second, at `--rate` (400 by default) HTTP requests over
`--http-threads` keep-alive connections (each reconnects every 100
requests): 45 % GET /health, 40 % POST /users (its handler succeeds and
publishes UserCreated, whose handler runs), and 5 % each of requests that
must fail: no bearer token (401), an invalid body (422), an unknown path
(404). Beside it, `--ws-clients` WebSocket clients stay connected to
/ws/chat and read every broadcast, one of them sends a message every
second, and a churn client connects, sends, reads its echo and closes
`--ws-churn` times a second.

Every `--interval` seconds it records the server's process tree RSS and
the engine's open fds, threads and RSS (from its /metrics), req/s, queue
depth and WebSocket connections. It passes (exit 0) when: no request got
a status its kind does not expect and no connection failed; after the
load, the queue drains and every published event was delivered; the
engine's fds and threads once the load stops are what they were before it
(within a few); and, for runs at least 2 minutes longer than `--warmup`,
the RSS of the last minute is less than 5 % above the RSS of the minute
after `--warmup`. The warm-up is 5 minutes by default because the
telemetry store's SQLite page cache (32 MiB, a bound) fills at this load
for about 4: a steady ~35 MB climb that then stops.

Results go to bench/results/soak/ (not committed): <lang>.json with every
sample and the verdict, and <lang>.png (RSS, fds and req/s over time)
drawn with matplotlib from a virtual environment this script makes under
~/.cache/rohas-bench/ (--no-plot skips it). Loopback only; bounded by
--duration (at most an hour per language).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

RESULTS = common.BENCH / "results" / "soak"
LANGUAGES = ["python", "typescript", "rust"]
# kind: (method, path, body, auth, statuses it must get)
KINDS: dict[str, tuple[str, str, Any, bool, set[int]]] = {
    "health": ("GET", "/health", None, False, {200}),
    "create": ("POST", "/users", {"name": "Ada", "email": "ada@example.com"}, True, {200, 201}),
    "unauthorized": ("POST", "/users", {"name": "Ada", "email": "ada@example.com"}, False, {401}),
    "invalid": ("POST", "/users", {"name": "", "email": "no-at-sign"}, True, {400, 422}),
    "missing": ("GET", "/no/such/route", None, False, {404}),
}
MIX = ["health"] * 9 + ["create"] * 8 + ["unauthorized", "invalid", "missing"]
# Tolerances of the verdict.
RSS_GROWTH = 0.05
FD_SLACK = 6
THREAD_SLACK = 4


class Counters:
    """What the load threads count, read by the sampler."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_kind: dict[str, int] = {k: 0 for k in KINDS}
        self.unexpected: list[str] = []
        self.ws_sent = 0
        self.ws_received = 0
        self.ws_cycles = 0

    def count(self, kind: str) -> None:
        with self.lock:
            self.requests += 1
            self.by_kind[kind] += 1

    def wrong(self, what: str) -> None:
        with self.lock:
            if len(self.unexpected) < 1000:
                self.unexpected.append(what)


# --- HTTP load -------------------------------------------------------------

def http_worker(port: int, pace: float, stop: threading.Event, counters: Counters, seed: int) -> None:
    rng = random.Random(seed)
    conn: http.client.HTTPConnection | None = None
    used = 0
    next_at = time.monotonic()
    while not stop.is_set():
        if conn is None or used >= 100:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            used = 0
        kind = rng.choice(MIX)
        method, path, body, auth, expected = KINDS[kind]
        headers = {"content-type": "application/json"} if body is not None else {}
        if auth:
            headers["authorization"] = "Bearer soak"
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            response.read()
            used += 1
            counters.count(kind)
            if response.status not in expected:
                counters.wrong(f"{kind}: {method} {path} got {response.status}")
            if response.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            counters.wrong(f"{kind}: {method} {path} failed: {e!r}")
            conn.close()
            conn = None
            time.sleep(0.1)
        next_at += pace
        delay = next_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        elif delay < -1:
            next_at = time.monotonic()  # behind by a second: do not burst to catch up
    if conn is not None:
        conn.close()


# --- WebSocket load (RFC 6455, client side, text frames) -------------------

def ws_connect(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the WebSocket handshake")
        head += chunk
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status:
        raise ConnectionError(f"handshake answered {status.decode(errors='replace')}")
    return sock


def ws_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class FrameReader:
    """Unmasked server frames out of a byte stream."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= 2:
            opcode, n, at = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if n == 126:
                if len(self.buffer) < 4:
                    break
                n, at = int.from_bytes(self.buffer[2:4], "big"), 4
            elif n == 127:
                if len(self.buffer) < 10:
                    break
                n, at = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < at + n:
                break
            frames.append((opcode, self.buffer[at : at + n]))
            self.buffer = self.buffer[at + n :]
        return frames


def ws_message(user: str) -> bytes:
    return json.dumps({"user": user, "text": "hello from the soak"}).encode()


def ws_listeners(port: int, clients: int, stop: threading.Event, counters: Counters) -> None:
    """`clients` connections that read everything; the first sends once a second."""
    socks = []
    try:
        for _ in range(clients):
            sock = ws_connect(port, "/ws/chat")
            sock.setblocking(False)
            socks.append((sock, FrameReader()))
    except OSError as e:
        counters.wrong(f"ws: a listener could not connect: {e!r}")
    import selectors

    selector = selectors.DefaultSelector()
    for sock, reader in socks:
        selector.register(sock, selectors.EVENT_READ, reader)
    next_send = time.monotonic()
    try:
        while not stop.is_set() and socks:
            if time.monotonic() >= next_send:
                socks[0][0].setblocking(True)
                socks[0][0].sendall(ws_frame(0x1, ws_message("listener")))
                socks[0][0].setblocking(False)
                with counters.lock:
                    counters.ws_sent += 1
                next_send += 1.0
            for key, _ in selector.select(timeout=0.2):
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    counters.wrong("ws: the server closed a listener")
                    selector.unregister(sock)
                    continue
                for opcode, payload in key.data.feed(data):
                    if opcode == 0x1:
                        with counters.lock:
                            counters.ws_received += 1
                    elif opcode == 0x9:  # ping
                        sock.setblocking(True)
                        sock.sendall(ws_frame(0xA, payload))
                        sock.setblocking(False)
                    elif opcode == 0x8:
                        counters.wrong(f"ws: a listener got a close frame {payload[:2].hex()}")
    except OSError as e:
        counters.wrong(f"ws: a listener failed: {e!r}")
    finally:
        for sock, _ in socks:
            try:
                sock.setblocking(True)
                sock.sendall(ws_frame(0x8, (1000).to_bytes(2, "big")))
            except OSError:
                pass
            sock.close()


def ws_churn(port: int, per_second: float, stop: threading.Event, counters: Counters) -> None:
    """Connect, send, read the echo back (the room broadcasts it), close."""
    pace = 1.0 / per_second
    while not stop.is_set():
        started = time.monotonic()
        try:
            sock = ws_connect(port, "/ws/chat")
            sock.sendall(ws_frame(0x1, ws_message("churn")))
            reader, echoed = FrameReader(), False
            deadline = time.monotonic() + 10
            while not echoed and time.monotonic() < deadline:
                data = sock.recv(65536)
                if not data:
                    break
                echoed = any(op == 0x1 and b'"churn"' in p for op, p in reader.feed(data))
            if not echoed:
                counters.wrong("ws: a churn client's message did not come back within 10 s")
            sock.sendall(ws_frame(0x8, (1000).to_bytes(2, "big")))
            sock.close()
            with counters.lock:
                counters.ws_cycles += 1
        except OSError as e:
            counters.wrong(f"ws: a churn cycle failed: {e!r}")
        stop.wait(max(0.0, pace - (time.monotonic() - started)))


# --- sampling ---------------------------------------------------------------

def metrics(port: int) -> dict[str, float]:
    """Sums per metric name of the engine's /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    sums: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$", line)
        if match:
            sums[match[1]] = sums.get(match[1], 0.0) + float(match[2])
    return sums


def sample(server: common.Server, started: float, counters: Counters) -> dict[str, Any]:
    m = metrics(server.port)
    with counters.lock:
        requests, unexpected = counters.requests, len(counters.unexpected)
        ws_received = counters.ws_received
    return {
        "t": round(time.monotonic() - started, 1),
        "tree_rss_mb": round(common.session_memory(server.pid)["rss_mb"], 1),
        "engine_rss_mb": round(m.get("process_resident_memory_bytes", 0) / common.MB, 1),
        "fds": int(m.get("process_open_fds", 0)),
        "threads": int(m.get("process_threads", 0)),
        "ws_connections": int(m.get("rohas_websocket_connections", 0)),
        "queue_depth": int(m.get("rohas_queue_depth", 0)),
        "published": int(m.get("rohas_events_published_total", 0)),
        "delivered": int(m.get("rohas_events_delivered_total", 0)),
        "requests": requests,
        "ws_received": ws_received,
        "unexpected": unexpected,
    }


def quiet_sample(server: common.Server, started: float, counters: Counters, settle: float) -> dict[str, Any]:
    """A sample once connections closed by the load have gone."""
    time.sleep(settle)
    return sample(server, started, counters)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


# --- one language -----------------------------------------------------------

def make_project(rohas: Path, lang: str, work: Path) -> Path:
    project = work / f"soak-{lang}"
    done = subprocess.run([str(rohas), "init", str(project), "--lang", lang], capture_output=True, text=True)
    if done.returncode != 0:
        common.die(f"rohas init --lang {lang} failed:\n{done.stdout}{done.stderr}")
    return project


def soak(rohas: Path, lang: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    project = make_project(rohas, lang, work)
    port = common.free_port()
    common.log(f"{lang}: starting rohas start in {project} (a Rust project builds first) …")
    server = common.start_server(
        f"soak-{lang}",
        [str(rohas), "-C", str(project), "start", "--port", str(port)],
        None,
        project,
        dict(os.environ, NO_COLOR="1"),
        port,
        args.out / "logs",
        timeout=900,
    )
    counters = Counters()
    stop = threading.Event()
    samples: list[dict[str, Any]] = []
    try:
        # Sample times count from the start of the load.
        before = quiet_sample(server, time.monotonic() + 1.0, counters, 1.0)
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=http_worker,
                args=(port, args.http_threads / args.rate, stop, counters, n),
                daemon=True,
            )
            for n in range(args.http_threads)
        ]
        threads.append(threading.Thread(target=ws_listeners, args=(port, args.ws_clients, stop, counters), daemon=True))
        if args.ws_churn > 0:
            threads.append(threading.Thread(target=ws_churn, args=(port, args.ws_churn, stop, counters), daemon=True))
        for t in threads:
            t.start()
        common.log(f"{lang}: load running for {args.duration:.0f} s")
        while time.monotonic() - started < args.duration:
            time.sleep(args.interval)
            samples.append(sample(server, started, counters))
            s = samples[-1]
            common.log(
                f"{lang}: t={s['t']:>6.0f}s rss={s['tree_rss_mb']:.0f} MB fds={s['fds']} threads={s['threads']} "
                f"requests={s['requests']} queue={s['queue_depth']} ws={s['ws_connections']} unexpected={s['unexpected']}"
            )
            if server.process.poll() is not None:
                counters.wrong(f"the server exited with {server.process.returncode}")
                break
        stop.set()
        for t in threads:
            t.join(timeout=30)
        drained = drain(server, started, counters)
        after = quiet_sample(server, started, counters, 3.0)
    finally:
        stop.set()
        server.stop()
    return verdict(lang, args, before, samples, after, drained, counters)


def drain(server: common.Server, started: float, counters: Counters) -> dict[str, Any]:
    """Wait (up to 60 s) for every published event to be delivered."""
    deadline = time.monotonic() + 60
    while True:
        s = sample(server, started, counters)
        if (s["queue_depth"] == 0 and s["published"] <= s["delivered"]) or time.monotonic() > deadline:
            return s
        time.sleep(0.5)


def verdict(
    lang: str,
    args: argparse.Namespace,
    before: dict[str, Any],
    samples: list[dict[str, Any]],
    after: dict[str, Any],
    drained: dict[str, Any],
    counters: Counters,
) -> dict[str, Any]:
    checks: list[tuple[str, bool, str]] = []
    with counters.lock:
        unexpected = list(counters.unexpected)
        by_kind = dict(counters.by_kind)
        ws = {"sent": counters.ws_sent, "received": counters.ws_received, "churn_cycles": counters.ws_cycles}
    checks.append(("no unexpected answer or failure", not unexpected, f"{len(unexpected)}: {unexpected[:5]}"))
    checks.append(
        (
            "every published event delivered",
            drained["queue_depth"] == 0 and drained["published"] == drained["delivered"],
            f"published {drained['published']}, delivered {drained['delivered']}, queue {drained['queue_depth']}",
        )
    )
    checks.append(
        ("fds back to where they were", after["fds"] <= before["fds"] + FD_SLACK, f"{before['fds']} → {after['fds']}")
    )
    checks.append(
        (
            "threads back to where they were",
            after["threads"] <= before["threads"] + THREAD_SLACK,
            f"{before['threads']} → {after['threads']}",
        )
    )
    growth = None
    if args.duration >= args.warmup + 120:
        early = [s["tree_rss_mb"] for s in samples if args.warmup <= s["t"] <= args.warmup + 60]
        late = [s["tree_rss_mb"] for s in samples if s["t"] >= samples[-1]["t"] - 60]
        growth = median(late) / median(early) - 1 if early and median(early) > 0 else None
        checks.append(
            (
                f"RSS growth after warm-up below {RSS_GROWTH:.0%}",
                growth is not None and growth < RSS_GROWTH,
                f"{median(early):.1f} MB → {median(late):.1f} MB ({(growth or 0):+.1%})",
            )
        )
    else:
        checks.append(("RSS growth", True, "not judged: the run is not 2 minutes longer than its warm-up"))
    elapsed = samples[-1]["t"] - samples[0]["t"] if len(samples) > 1 else 0
    rps = (samples[-1]["requests"] - samples[0]["requests"]) / elapsed if elapsed else 0.0
    result = {
        "language": lang,
        "settings": {
            k: getattr(args, k)
            for k in ("duration", "warmup", "rate", "http_threads", "ws_clients", "ws_churn", "interval")
        },
        "requests_by_kind": by_kind,
        "websocket": ws,
        "requests_per_second": round(rps, 1),
        "before": before,
        "after": after,
        "drained": drained,
        "rss_growth": growth,
        "samples": samples,
        "checks": [{"check": c, "passed": ok, "detail": d} for c, ok, d in checks],
        "passed": all(ok for _, ok, _ in checks),
    }
    for c, ok, d in checks:
        common.log(f"{lang}: {'PASS' if ok else 'FAIL'} {c}: {d}")
    return result


# --- plot ---------------------------------------------------------------------

PLOT = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
result = json.load(open(sys.argv[1]))
s = result["samples"]
t = [x["t"] for x in s]
fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
axes[0].plot(t, [x["tree_rss_mb"] for x in s], label="process tree RSS")
axes[0].plot(t, [x["engine_rss_mb"] for x in s], label="engine RSS")
axes[0].set_ylabel("MB"); axes[0].legend(); axes[0].set_ylim(bottom=0)
axes[1].plot(t, [x["fds"] for x in s], label="open fds")
axes[1].plot(t, [x["threads"] for x in s], label="threads")
axes[1].legend(); axes[1].set_ylim(bottom=0)
rps = [0] + [(b["requests"] - a["requests"]) / (b["t"] - a["t"]) for a, b in zip(s, s[1:])]
axes[2].plot(t, rps, label="req/s"); axes[2].set_ylabel("req/s"); axes[2].set_xlabel("seconds")
axes[2].set_ylim(bottom=0)
fig.suptitle(f"rohas soak, {result['language']}: " + ("passed" if result["passed"] else "FAILED"))
fig.tight_layout(); fig.savefig(sys.argv[2], dpi=100)
"""


def plot(result_path: Path, png: Path) -> None:
    venv = common.CACHE / "plot-venv"
    python = venv / "bin" / "python"
    if not python.exists() or subprocess.run([str(python), "-c", "import matplotlib"], capture_output=True).returncode:
        common.log(f"installing matplotlib into {venv} …")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "matplotlib==3.9.2"]
        )
        if pip.returncode != 0:
            common.log("warning: matplotlib could not be installed; no PNG (the JSON has every sample)")
            return
    done = subprocess.run([str(python), "-c", PLOT, str(result_path), str(png)], capture_output=True, text=True)
    if done.returncode != 0:
        common.log(f"warning: plotting failed: {done.stderr[-500:]}")
    else:
        common.log(f"plot: {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", action="append", choices=LANGUAGES, help="a language to soak (repeatable; default all)")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load per language (default 600)")
    parser.add_argument("--warmup", type=float, default=300, help="seconds before RSS is taken as the baseline")
    parser.add_argument("--rate", type=float, default=400, help="HTTP requests per second in all")
    parser.add_argument("--http-threads", type=int, default=4)
    parser.add_argument("--ws-clients", type=int, default=50, help="WebSocket clients that stay connected")
    parser.add_argument("--ws-churn", type=float, default=5, help="WebSocket connect-send-close cycles per second")
    parser.add_argument("--interval", type=float, default=5, help="seconds between samples")
    parser.add_argument("--skip-build", action="store_true", help="use the rohas release binary as it is")
    parser.add_argument("--no-plot", action="store_true", help="write the JSON only")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"folder for the results (default {RESULTS})")
    args = parser.parse_args()
    if not 5 <= args.duration <= 3600:
        common.die("--duration is bounded: 5 to 3600 seconds")
    if args.rate <= 0 or args.http_threads <= 0 or args.interval <= 0 or args.ws_clients < 1:
        common.die("--rate, --http-threads, --interval and --ws-clients must be positive")
    rohas = common.rohas_binary(args.skip_build)
    args.out.mkdir(parents=True, exist_ok=True)
    passed = True
    with tempfile.TemporaryDirectory(prefix="rohas-soak-") as work:
        for lang in args.lang or LANGUAGES:
            result = soak(rohas, lang, args, Path(work))
            result["rohas"] = common.rohas_versions(rohas)
            path = args.out / f"{lang}.json"
            path.write_text(json.dumps(result, indent=2))
            common.log(f"{lang}: {path}")
            if not args.no_plot:
                plot(path, args.out / f"{lang}.png")
            passed &= result["passed"]
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
