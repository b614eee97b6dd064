#!/usr/bin/env python3
"""Schemathesis against a project's own `/openapi.json`, on loopback only:
does every answer of the engine match the document it publishes?

For each project it starts `rohas dev` on a free loopback port, waits for
it to be ready and runs schemathesis on its `/openapi.json` with four
checks: no 5xx (`not_a_server_error`), every status documented
(`status_code_conformance`), every content type documented
(`content_type_conformance`) and every body, error bodies included,
valid against the documented schema (`response_schema_conformance`).
Schemathesis sends valid and invalid requests (`--mode all`): path
parameters, nested bodies, arrays, enums, optional fields and the
`@min`/`@max`/`@pattern` constraints, each case shrunk to the smallest
one that still fails. The engine's own log is read too: every 5xx it
logged and every "response does not match the schema" warning of
`rohas dev` count as failures.

Without --project it runs the three fixtures that cover every kind of
input, `crates/rohas-cli/tests/fixtures/every-input-{python,typescript,rust}`
(the same schema and handlers in each language).

    python3 bench/attack/schemathesis.py                    # 3 languages, 50 examples per operation
    python3 bench/attack/schemathesis.py --languages python,rust --max-examples 500
    python3 bench/attack/schemathesis.py --project path/to/my-app --seed 7
    python3 bench/attack/schemathesis.py --install-only     # prints ROHAS_SCHEMATHESIS=…

It installs schemathesis (the pinned version below) into a virtual
environment it keeps, `~/.cache/rohas-tools/schemathesis` (or
`$ROHAS_TOOLS_DIR/schemathesis`, or --venv), the first time. The `rohas`
binary is --rohas, else `$ROHAS_BIN`, else the debug build in
`$CARGO_TARGET_DIR` (`~/.cache/rohas-target`), built with cargo when
missing. The projects are served in place: `rohas dev` writes only what
their `.gitignore` lists (`src/generated/`, `.rohas/`, a Rust `target/`).

Python 3's standard library apart from schemathesis itself. Bounded: at
most 5000 examples per operation and 3600 s per project (--max-time;
schemathesis is stopped and the project counted as failed past it), the
server bound to 127.0.0.1 and refused if it says it is elsewhere. Exit
status 0 when every project passed, 1 otherwise, 2 when schemathesis
could not be installed or a server could not start.
"""

import argparse
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

SCHEMATHESIS_VERSION = "4.32.5"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
LANGUAGES = ("python", "typescript", "rust")
MAX_EXAMPLES = 5000
MAX_TIME = 3600.0
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "crates" / "rohas-cli" / "tests" / "fixtures"
READY = "Rohas ready on "
# What `rohas dev` logs for a response that breaks the api's declared type.
RESPONSE_WARNING = "response does not match the schema"
# How the engine logs an answer of 500 and above: `… ERROR api:Name trace=… 500 message`.
LOGGED_5XX = re.compile(r" ERROR \S+ trace=\S+ 5\d\d ")
# Exit status when the run could not happen at all (no schemathesis, no server).
CANNOT_RUN = 2


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--languages", default=",".join(LANGUAGES), help="fixtures to run: python,typescript,rust")
    p.add_argument("--project", action="append", type=Path, help="a project folder to run instead (repeatable)")
    p.add_argument("--max-examples", type=int, default=50, help="examples per operation and phase (default 50)")
    p.add_argument("--max-time", type=float, default=900.0, help="seconds per project before it counts as failed")
    p.add_argument("--seed", type=int, help="schemathesis's random seed (default: a new one, printed)")
    # One worker: with more, schemathesis's threads race on a Hypothesis cache now and then and
    # abandon an operation with "Runtime Error: Inconsistent results" (no request involved); one
    # worker also makes a seed repeat the same cases.
    p.add_argument("--workers", type=int, default=1, help="schemathesis's concurrent workers (default 1)")
    p.add_argument("--startup-timeout", type=float, default=900.0, help="seconds to wait for `rohas dev` (a Rust build)")
    p.add_argument("--rohas", type=Path, help="the rohas binary (default $ROHAS_BIN or the workspace's debug build)")
    p.add_argument("--venv", type=Path, help="where schemathesis is installed (default ~/.cache/rohas-tools/schemathesis)")
    p.add_argument("--report-dir", type=Path, help="where logs and reports go (default: a new temporary folder)")
    p.add_argument("--install-only", action="store_true", help="install schemathesis, print ROHAS_SCHEMATHESIS=…, exit")
    args = p.parse_args()
    if not 1 <= args.max_examples <= MAX_EXAMPLES:
        p.error(f"--max-examples must be between 1 and {MAX_EXAMPLES}")
    if not 0 < args.max_time <= MAX_TIME:
        p.error(f"--max-time must be between 0 and {MAX_TIME:g} seconds")
    if not 1 <= args.workers <= 16:
        p.error("--workers must be between 1 and 16")
    if args.project:
        for project in args.project:
            if not (project / "config" / "rohas.toml").is_file() and not (project / "schema").is_dir():
                p.error(f"--project {project}: no Rohas project there (no config/rohas.toml or schema/)")
        args.projects = [(project.resolve().name, project.resolve()) for project in args.project]
    else:
        languages = [name.strip() for name in args.languages.split(",") if name.strip()]
        unknown = [name for name in languages if name not in LANGUAGES]
        if unknown or not languages:
            p.error(f"--languages: {', '.join(unknown) or 'none given'}; choose from {', '.join(LANGUAGES)}")
        args.projects = [(name, FIXTURES / f"every-input-{name}") for name in languages]
    return args


def venv_folder(given):
    if given:
        return given
    tools = os.environ.get("ROHAS_TOOLS_DIR") or Path.home() / ".cache" / "rohas-tools"
    return Path(tools) / "schemathesis"


def install_schemathesis(venv):
    """`st` of the pinned version in `venv`, installed from PyPI when it is missing or another version."""
    st = venv / "bin" / "st"
    if st.exists():
        out = subprocess.run([str(st), "--version"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.split()[-1:] == [SCHEMATHESIS_VERSION]:
            return st
    print(f"installing schemathesis {SCHEMATHESIS_VERSION} into {venv}", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
             f"schemathesis=={SCHEMATHESIS_VERSION}"],
            check=True, stdout=sys.stderr,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"cannot install schemathesis into {venv}: {e}", file=sys.stderr)
        sys.exit(CANNOT_RUN)
    return st


def rohas_binary(given):
    """--rohas, $ROHAS_BIN, or the workspace's debug build (built when missing)."""
    if given or os.environ.get("ROHAS_BIN"):
        binary = Path(given or os.environ["ROHAS_BIN"])
        if not binary.is_file():
            sys.exit(f"the rohas binary {binary} does not exist")
        return binary
    target = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "rohas-target")
    binary = target / "debug" / "rohas"
    if not binary.is_file():
        print(f"building rohas ({binary})", file=sys.stderr)
        env = dict(os.environ, CARGO_TARGET_DIR=str(target))
        if subprocess.run(["cargo", "build", "-p", "rohas-cli"], cwd=REPO, env=env).returncode != 0:
            sys.exit("cargo build -p rohas-cli failed; fix the build or pass --rohas")
    return binary


class Server:
    """`rohas dev` on a free loopback port, its output kept line by line."""

    def __init__(self, rohas, project, log_path, startup_timeout):
        self.lines = []
        self.log = open(log_path, "w", encoding="utf-8")
        env = dict(os.environ, NO_COLOR="1", ROHAS_SERVER_HOST="127.0.0.1", PYTHONDONTWRITEBYTECODE="1")
        # Its own session: stopping it also stops what it started (Node.js workers, cargo).
        self.process = subprocess.Popen(
            [str(rohas), "-C", str(project), "dev", "--port", "0", "--watch", "false"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True, text=True, errors="replace",
        )
        self.ready = threading.Event()
        self.base = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(startup_timeout) or self.base is None:
            self.stop()
            tail = "\n".join(self.lines[-30:])
            raise RuntimeError(f"rohas dev did not get ready within {startup_timeout:g} s:\n{tail}")
        host = urllib.parse.urlsplit(self.base).hostname or ""
        if not ipaddress.ip_address(host).is_loopback:
            self.stop()
            raise RuntimeError(f"rohas dev is serving on {self.base}, which is not loopback: refused")

    def _read(self):
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            self.log.write(line + "\n")
            if READY in line and self.base is None:
                self.base = line.split(READY, 1)[1].strip()
                self.ready.set()
        self.ready.set()

    def stop(self):
        """Ctrl-C as a user would (a graceful drain), then a kill after 20 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        # The reader writes the last lines (the drain) into the log first.
        self.reader.join(10)
        self.log.close()


def wait_for_openapi(base, seconds=30):
    """The document loads (the ready line comes first)."""
    until = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/openapi.json", timeout=5) as answer:
                return len(json.load(answer).get("paths", {}))
        except (OSError, ValueError):
            if time.monotonic() > until:
                raise
            time.sleep(0.2)


def run_schemathesis(st, base, args, out_dir):
    """Run it with a wall-clock bound: (exit code or None when stopped, its JSON report or None)."""
    report = out_dir / "schemathesis.json"
    command = [
        str(st), "run", f"{base}/openapi.json",
        "--checks", CHECKS,
        "--mode", "all",
        "--max-examples", str(args.max_examples),
        "--workers", str(args.workers),
        "--request-timeout", "20",
        "--generation-database", "none",
        "--no-color",
        "--report", "json",
        "--report-json-path", str(report),
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    with open(out_dir / "schemathesis.log", "w", encoding="utf-8") as log:
        # In the report folder: schemathesis keeps a `.schemathesis/` cache in its working directory.
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=out_dir, start_new_session=True
        )
        try:
            code = process.wait(args.max_time)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
    try:
        return code, json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return code, None


def failures_text(log_path):
    """Schemathesis's ERRORS and FAILURES sections (each failing case and its curl), or its last lines."""
    text = log_path.read_text(encoding="utf-8", errors="replace")
    starts = [i for i in (text.find(" ERRORS "), text.find(" FAILURES ")) if i >= 0]
    start = min(starts, default=-1)
    if start >= 0:
        end = text.find(" SUMMARY ", start)
        return text[text.rfind("\n", 0, start) + 1 : end if end > 0 else None].rstrip("=\n ")
    return "\n".join(text.splitlines()[-40:])


def run_project(name, project, rohas, st, args, out_dir):
    """One project served and tested: a result row."""
    out_dir.mkdir(parents=True, exist_ok=True)
    row = {"project": name, "path": str(project)}
    started = time.monotonic()
    print(f"== {name}: starting rohas dev on {project}", flush=True)
    try:
        server = Server(rohas, project, out_dir / "rohas.log", args.startup_timeout)
    except (RuntimeError, OSError) as e:
        row.update(passed=False, problem=str(e))
        return row
    try:
        paths = wait_for_openapi(server.base)
    except (OSError, ValueError) as e:
        server.stop()
        row.update(passed=False, problem=f"{server.base}/openapi.json does not load: {e}")
        return row
    print(f"   serving {paths} path(s) on {server.base}; running schemathesis", flush=True)
    tested = time.monotonic()
    try:
        code, report = run_schemathesis(st, server.base, args, out_dir)
        row["seconds"] = round(time.monotonic() - tested, 1)
    finally:
        server.stop()
    row["startup_seconds"] = round(tested - started, 1)
    logged_5xx = [line for line in server.lines if LOGGED_5XX.search(line)]
    warnings = [line for line in server.lines if RESPONSE_WARNING in line]
    panics = [line for line in server.lines if "panicked" in line]
    row.update(
        exit_code=code,
        operations=(report or {}).get("operations", {}).get("tested"),
        test_cases=(report or {}).get("test_cases", {}).get("generated"),
        failures=(report or {}).get("test_cases", {}).get("unique_failures"),
        errors=len((report or {}).get("errors", [])),
        logged_5xx=len(logged_5xx),
        response_warnings=len(warnings),
        panics=len(panics),
        seed=(report or {}).get("seed"),
    )
    problems = []
    if code is None:
        problems.append(f"schemathesis still running after {args.max_time:g} s: stopped")
    elif code != 0 or report is None:
        problems.append(f"schemathesis exited with {code}")
    if report is not None and not report.get("complete", False):
        problems.append(f"the run did not complete ({report.get('stop_reason')})")
    for what, lines in (("5xx logged", logged_5xx), ("response warnings", warnings), ("panics", panics)):
        if lines:
            problems.append(f"{len(lines)} {what}, first: {lines[0]}")
    row["passed"] = not problems
    row["problem"] = "; ".join(problems)
    if problems and (out_dir / "schemathesis.log").exists():
        print(failures_text(out_dir / "schemathesis.log"))
    return row


def print_summary(rows, out_root):
    columns = ("project", "operations", "test_cases", "failures", "errors", "logged_5xx",
               "response_warnings", "seconds", "seed")
    print()
    print("| " + " | ".join(columns) + " | result |")
    print("|" + "---|" * (len(columns) + 1))
    for row in rows:
        cells = ["" if row.get(c) is None else str(row.get(c)) for c in columns]
        print("| " + " | ".join(cells) + f" | {'passed' if row['passed'] else 'FAILED'} |")
    for row in rows:
        if not row["passed"]:
            print(f"{row['project']}: {row['problem']}")
    total_cases = sum(row.get("test_cases") or 0 for row in rows)
    passed = sum(1 for row in rows if row["passed"])
    print(f"schemathesis: {passed} passed, {len(rows) - passed} failed ({total_cases} test cases); "
          f"logs and reports in {out_root}")


def main():
    args = parse_args()
    st = install_schemathesis(venv_folder(args.venv))
    if args.install_only:
        print(f"ROHAS_SCHEMATHESIS={st}")
        return 0
    rohas = rohas_binary(args.rohas)
    out_root = args.report_dir or Path(tempfile.mkdtemp(prefix="rohas-schemathesis-"))
    out_root.mkdir(parents=True, exist_ok=True)
    print(f"schemathesis {SCHEMATHESIS_VERSION}, checks {CHECKS}, {args.max_examples} examples per operation; "
          f"rohas {rohas}")
    rows = []
    for name, project in args.projects:
        row = run_project(name, project, rohas, st, args, out_root / name)
        if "exit_code" not in row:
            print(f"{name}: {row['problem']}", file=sys.stderr)
            print_summary(rows + [row], out_root)
            return CANNOT_RUN
        rows.append(row)
    (out_root / "summary.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print_summary(rows, out_root)
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
