#!/usr/bin/env python3
"""Slow-client attack against a running `rohas dev` (or `rohas start`), on
loopback only: does the server keep answering everyone else?

It opens N connections that send half a request header and stop
(slowloris), N connections that connect and send nothing, holds them, and
every second sends one normal request on a fresh connection. It prints
what the normal requests got and when the server closed the attacking
connections (after `[server] header_read_timeout_ms`, 10 s by default).

With --attack-from and --normal-from the attacking connections and the
normal requests come from two loopback addresses, which the server sees
as two clients: `[server] max_connections_per_client` then caps the
attacker while the normal requests keep being answered. Linux routes all
of 127.0.0.0/8 to loopback; macOS needs `sudo ifconfig lo0 alias
127.0.0.2 up` (and 127.0.0.3) first.

    rohas dev                                  # in the project, port 3000
    python3 bench/attack/slowloris.py          # 500 + 500 connections, 15 s
    python3 bench/attack/slowloris.py --url http://127.0.0.1:3000/health \\
        --half 2000 --idle 2000 --hold 20
    python3 bench/attack/slowloris.py --half 1000 --idle 1000 \\
        --attack-from 127.0.0.2 --normal-from 127.0.0.3

Python 3 standard library only. Bounded: at most 5000 connections of each
kind and 120 s of holding; the target must be a loopback address. Exit
status 0 when every normal request was answered with a status below 500,
1 otherwise.
"""

import argparse
import http.client
import ipaddress
import resource
import select
import socket
import sys
import time
import urllib.parse

MAX_EACH = 5000
MAX_HOLD = 120.0
HALF_HEADER = b"GET / HTTP/1.1\r\nHost: slowloris\r\nX-Slow: "
# What the refusal over `max_connections_per_client` says, as opposed to
# the one over `max_connections`.
PER_CLIENT = b"this client has too many open connections"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:3000/", help="a normal request's URL (GET)")
    p.add_argument("--half", type=int, default=500, help="connections that send half a header")
    p.add_argument("--idle", type=int, default=500, help="connections that send nothing")
    p.add_argument("--hold", type=float, default=15.0, help="seconds to hold them")
    p.add_argument("--attack-from", help="loopback address the attacking connections come from (e.g. 127.0.0.2)")
    p.add_argument("--normal-from", help="loopback address the normal requests come from (e.g. 127.0.0.3)")
    args = p.parse_args()
    for name in ("attack_from", "normal_from"):
        value = getattr(args, name)
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        try:
            if not ipaddress.ip_address(value).is_loopback:
                p.error(f"{flag} must be a loopback address, got {value}")
        except ValueError:
            p.error(f"{flag} must be an IP address, got {value!r}")
        try:
            socket.create_server((value, 0)).close()
        except OSError as e:
            p.error(
                f"cannot use {value} as a source address ({e}); on macOS add it first: "
                f"sudo ifconfig lo0 alias {value} up"
            )
    for name in ("half", "idle"):
        if not 0 <= getattr(args, name) <= MAX_EACH:
            p.error(f"--{name} must be between 0 and {MAX_EACH}")
    if not 0 < args.hold <= MAX_HOLD:
        p.error(f"--hold must be between 0 and {MAX_HOLD:g} seconds")
    return args


def loopback_target(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        sys.exit(f"--url must be http://HOST:PORT/PATH, got {url!r}")
    port = parts.port or 80
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as e:
        sys.exit(f"cannot resolve {parts.hostname}: {e}")
    addresses = {info[4][0] for info in infos}
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
            sys.exit(f"{parts.hostname} resolves to {address}, which is not loopback: this script only attacks loopback")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, port, path


def raise_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"note: the open file limit is {soft}; fewer connections than asked will open")


def source(address):
    """`source_address` for a connection from `address` (None: the system picks)."""
    return (address, 0) if address else None


def normal_request(host, port, path, source_address=None):
    """(status or error text, seconds)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=5, source_address=source_address)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except (OSError, http.client.HTTPException) as e:
        return f"failed ({type(e).__name__}: {e})", time.monotonic() - started
    finally:
        conn.close()


class Attackers:
    """Connections of one kind, and when the server closed each."""

    def __init__(self, kind, source_address):
        self.kind = kind
        self.source_address = source_address
        self.open = {}  # fd -> socket
        self.closed_at = []  # seconds since the attack began
        self.answers = {}  # first line the server sent -> count
        self.failed = 0
        self.refused = 0
        self.refused_per_client = 0

    def connect(self, host, port, first_bytes):
        try:
            s = socket.create_connection((host, port), timeout=5, source_address=self.source_address)
            if first_bytes:
                s.sendall(first_bytes)
            s.setblocking(False)
            self.open[s.fileno()] = s
        except OSError:
            self.failed += 1

    def notice_closes(self, since):
        if not self.open:
            return
        poller = select.poll()
        for fd in self.open:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        for fd, _ in poller.poll(0):
            s = self.open[fd]
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                self.answers[line] = self.answers.get(line, 0) + 1
                if " 503 " in line:
                    # Refused over a connection cap, not timed out.
                    if PER_CLIENT in data:
                        self.refused_per_client += 1
                    else:
                        self.refused += 1
                    del self.open[fd]
                    s.close()
                continue
            del self.open[fd]
            s.close()
            self.closed_at.append(time.monotonic() - since)

    def summary(self, asked):
        opened = asked - self.failed
        text = f"{self.kind}: {opened}/{asked} opened"
        if self.refused:
            text += f", {self.refused} refused at once with 503 (over max_connections)"
        if self.refused_per_client:
            text += f", {self.refused_per_client} refused at once with 503 (over max_connections_per_client)"
        text += f", {len(self.closed_at)} closed by the server"
        if self.closed_at:
            text += f" (first seen after {min(self.closed_at):.1f} s, last after {max(self.closed_at):.1f} s)"
        others = {line: n for line, n in self.answers.items() if " 503 " not in line}
        if others:
            text += "; it answered: " + ", ".join(f"{n}x {line!r}" for line, n in others.items())
        return text

    def close_all(self):
        for s in self.open.values():
            s.close()
        self.open.clear()


def main():
    args = parse_args()
    host, port, path = loopback_target(args.url)
    raise_file_limit(args.half + args.idle + 64)

    attack_from = source(args.attack_from)
    normal_from = source(args.normal_from)
    print(f"target: {host}:{port}, normal request GET {path}")
    if attack_from or normal_from:
        print(
            f"attacking from {args.attack_from or 'the default address'}, "
            f"normal requests from {args.normal_from or 'the default address'}"
        )
    status, took = normal_request(host, port, path, normal_from)
    print(f"before the attack: {status} in {took * 1000:.1f} ms")
    if not isinstance(status, int):
        sys.exit("the server does not answer; start it first (rohas dev)")

    began = time.monotonic()
    half = Attackers("half-header connections", attack_from)
    idle = Attackers("idle connections", attack_from)
    for _ in range(args.half):
        half.connect(host, port, HALF_HEADER)
    for _ in range(args.idle):
        idle.connect(host, port, b"")
    print(
        f"opened {len(half.open)} half-header and {len(idle.open)} idle connections "
        f"in {time.monotonic() - began:.1f} s; holding for {args.hold:g} s "
        "(closes are checked once a second)"
    )

    results = []
    holding = time.monotonic()
    try:
        while time.monotonic() - holding < args.hold:
            tick = time.monotonic()
            status, took = normal_request(host, port, path, normal_from)
            results.append((status, took))
            half.notice_closes(began)
            idle.notice_closes(began)
            print(
                f"  t={tick - began:5.1f} s  normal request: {status} in {took * 1000:7.1f} ms   "
                f"still open: {len(half.open)} half-header, {len(idle.open)} idle",
                flush=True,
            )
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    finally:
        half.close_all()
        idle.close_all()

    answered = [took for status, took in results if isinstance(status, int) and status < 500]
    print()
    print(half.summary(args.half))
    print(idle.summary(args.idle))
    slowest = f" (slowest {max(answered) * 1000:.1f} ms)" if answered else ""
    print(f"normal requests answered during the attack: {len(answered)}/{len(results)}{slowest}")
    others = [status for status, _ in results if not (isinstance(status, int) and status < 500)]
    if others:
        print("not answered: " + ", ".join(str(s) for s in others))
    return 0 if results and len(answered) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
