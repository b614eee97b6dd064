"""How a Python handler is found, called and answered: the one definition
the engine's Python host and the test harness (`generated.testing`) share.

Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

The engine compiles this same file into the `rohas` binary (as the module
`rohas_dispatch`) and its host calls handlers through it; `generated.testing`
imports this copy. Whatever decides a handler's behaviour lives here, once:

* loading: which candidate file and function a handler spec names, imported
  with `from __future__ import annotations` (annotations are read as text);
* parameter roles (`signature_binders`): what each parameter gets, from its
  annotation, then its name, then its position;
* arguments (`arguments`): generated types built from the call's JSON;
* failures (`failure`): `HttpError` with its status, `NonRetryableError`,
  anything else as a 500 with the user's traceback;
* output capture: `print`, `sys.stderr` and `logging` as log lines of the
  call in progress (`CALL`).

Nothing here imports `generated` at module level: the engine loads this
module before the project is on the import path.
"""

from __future__ import annotations

import __future__
import contextvars
import importlib
import importlib.util
import inspect
import io
import json
import logging
import os
import sys
import traceback
from typing import Any, Callable, Protocol

ANNOTATIONS_FLAG = __future__.annotations.compiler_flag


class Call(Protocol):
    """One handler invocation: what `arguments` reads and output capture
    writes to. The engine's host and the harness each have their own."""

    handler: Handler
    trace_id: str
    state: Any
    request: str
    """The request (api), event, message or context, as JSON."""
    context: str
    """`HandlerContext`'s wire form, as JSON."""
    endpoint: str | None
    connection: str | None
    buffers: dict[str, str]
    """Output of `print` not yet ended by a newline, per level."""

    def log(self, level: str, message: str, fields: Any = None) -> None: ...


CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("rohas_call", default=None)
"""The call whose handler runs in this context (None: not inside a handler)."""


# ---------------------------------------------------------------- output capture


def flush(call: Call) -> None:
    """Log what the handler printed without a final newline."""
    for level, rest in call.buffers.items():
        if rest:
            call.log(level, rest)
    call.buffers.clear()


class CapturedStream(io.TextIOBase):
    """`sys.stdout`/`sys.stderr`: inside a handler, each line becomes a log
    record of the call; elsewhere, the real stream."""

    def __init__(self, original: Any, level: str) -> None:
        self.original = original
        self.level = level

    def write(self, text: str) -> int:
        call = CALL.get()
        if call is None:
            return int(self.original.write(text))
        pending = call.buffers.get(self.level, "") + text
        *lines, rest = pending.split("\n")
        call.buffers[self.level] = rest
        for line in lines:
            call.log(self.level, line)
        return len(text)

    def flush(self) -> None:
        if CALL.get() is None:
            self.original.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error", "CRITICAL": "error"}


class LogHandler(logging.Handler):
    """`logging` records as log lines of the call in progress; outside any
    call, to `outside(level, message, fields)`."""

    def __init__(self, outside: Callable[[str, str, dict[str, Any]], None]) -> None:
        super().__init__()
        self.outside = outside

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            level = LEVELS.get(record.levelname, "info")
            fields = {"logger": record.name}
            call = CALL.get()
            if call is None:
                self.outside(level, message, fields)
            else:
                call.log(level, message, fields)
        except Exception:  # never let logging break a handler
            self.handleError(record)


# ---------------------------------------------------------------- handlers


class Handler:
    """A loaded handler: its function and how to build each argument."""

    __slots__ = ("id", "name", "kind", "function", "binders", "makers", "is_async", "spec", "file")

    def __init__(self, spec: dict[str, Any], function: Any, file: str) -> None:
        self.id: str = spec["id"]
        self.name: str = spec["name"]
        self.kind: str = spec["kind"]
        self.spec = spec
        self.function = function
        self.file = file
        self.is_async = inspect.iscoroutinefunction(function)
        self.binders = signature_binders(spec, function)
        if "event" in self.binders and class_for(self, "event") is not None:
            # Its generated class reads the payload from `payload`: the
            # engine leaves out the copy of its fields at the top level.
            self.binders = ["typed_event" if role == "event" else role for role in self.binders]
        self.makers: list[tuple[str, Any]] | None = None
        """(role, generated class) per parameter, resolved at the first call."""


def annotation_name(annotation: Any) -> str | None:
    """`State` from `State`, `"generated.state.State"`, `Optional[State]`, a class …"""
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, type):
        return annotation.__name__
    text = str(annotation).strip().strip("'\"")
    for wrapper in ("Optional[", "typing.Optional["):
        if text.startswith(wrapper) and text.endswith("]"):
            text = text[len(wrapper) : -1]
    text = text.split("|")[0].strip()
    return text.rsplit(".", 1)[-1] or None


PRIMARY = {
    "api": "request",
    "event": "event",
    "cron": "context",
    "ws_connect": "context",
    "ws_message": "message",
    "ws_disconnect": "context",
    "middleware": "context",
}
BY_PARAMETER_NAME = {
    "state": "state",
    "context": "context",
    "ctx": "context",
    "connection": "connection",
    "conn": "connection",
    "websocket": "connection",
    "ws": "connection",
    "event": "event",
    "message": "message",
    "msg": "message",
    "req": "request",
    "request": "request",
    "input": "body",
    "body": "body",
    "payload": "body",
}


def signature_binders(spec: dict[str, Any], function: Any) -> list[str]:
    """What each parameter asks for, from its annotation, then its name, then
    its position (`(request, state)` when nothing says otherwise)."""
    by_type = {"State": "state", "HandlerContext": "context", "Connection": "connection"}
    for key, typed_role in (
        ("request_type", "request"),
        ("body_type", "body"),
        ("event_type", "event"),
        ("message_type", "message"),
    ):
        if spec.get(key):
            by_type.setdefault(spec[key], typed_role)
    if spec["kind"].startswith("ws_"):
        by_type.setdefault("WebSocketMessage", "message")
    parameters = [
        p
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty
    ]
    roles: list[str] = []
    for index, p in enumerate(parameters):
        name = annotation_name(p.annotation)
        role = by_type.get(name or "") or BY_PARAMETER_NAME.get(p.name)
        if role is None:
            role = PRIMARY[spec["kind"]] if index == 0 else "state"
        roles.append(role)
    return roles


# ---------------------------------------------------------------- loading


def load(
    specs: list[dict[str, Any]], project: str, modules: dict[str, Any]
) -> tuple[dict[str, Handler], list[dict[str, Any]]]:
    """Import the handler of every spec (`modules`: file → module, reused).
    Returns the handlers by id and the problems (a missing file or
    function, an import that raised), which the engine turns into its
    load errors."""
    handlers: dict[str, Handler] = {}
    errors: list[dict[str, Any]] = []
    for spec in specs:
        files = [os.path.join(project, f) for f in spec["files"]]
        file = next((f for f in files if os.path.isfile(f)), None)
        if file is None:
            if spec.get("optional"):
                continue
            errors.append({"kind": "missing", "handler": spec["id"], "looked_for": spec["files"]})
            continue
        try:
            module = import_file(file, project, modules)
        except BaseException as e:  # noqa: BLE001 - user code may raise anything at import
            errors.append({"kind": "failed", "message": describe_import_error(file, project, e)})
            continue
        function = next((getattr(module, n) for n in spec["functions"] if callable(getattr(module, n, None))), None)
        if function is None:
            if spec.get("optional"):
                continue
            errors.append(
                {
                    "kind": "no_function",
                    "handler": spec["id"],
                    "file": os.path.relpath(file, project),
                    "expected": " or ".join(f"`{n}`" for n in spec["functions"]),
                }
            )
            continue
        try:
            handlers[spec["id"]] = Handler(spec, function, file)
        except (ValueError, TypeError) as e:
            errors.append({"kind": "failed", "message": f"{os.path.relpath(file, project)}: {e}"})
    return handlers, errors


def describe_import_error(file: str, project: str, error: BaseException) -> str:
    relative = os.path.relpath(file, project)
    if isinstance(error, SyntaxError):
        where = f"{relative}:{error.lineno}:{error.offset or 0}"
        return f"{where}: syntax error: {error.msg}\n    {(error.text or '').rstrip()}"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "generated":
        return f"{relative}: cannot import `{error.name}`: src/generated/ is missing or stale; run `rohas codegen`"
    return f"{relative}: raised on import: {type(error).__name__}: {error}\n" + user_traceback(error).rstrip()


def import_file(file: str, project: str, modules: dict[str, Any]) -> Any:
    """The module of a handler file, named for its path under `src/`
    (`handlers.api.health`). A module already imported from that file under
    that name (a test imported the handler itself) is the one used, so both
    see the same globals."""
    cached = modules.get(file)
    if cached is not None:
        return cached
    src = os.path.join(project, "src")
    relative = os.path.relpath(file, src)
    name = relative[:-3].replace(os.sep, ".") if not relative.startswith("..") else "rohas_handler_" + str(len(modules))
    previous = sys.modules.get(name)
    if previous is not None and os.path.abspath(getattr(previous, "__file__", "") or "") == os.path.abspath(file):
        modules[file] = previous
        return previous
    with open(file, "rb") as f:
        source = f.read()
    code = compile(source, file, "exec", flags=ANNOTATIONS_FLAG, dont_inherit=True)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise
    modules[file] = module
    return module


# ---------------------------------------------------------------- arguments


def arguments(call: Call, host: Callable[[Any], Any]) -> list[Any]:
    """What the handler's parameters ask for, built from the call's JSON,
    which is parsed only when a parameter needs it. `host(call)` gives the
    object `State` and `Connection` talk to."""
    handler = call.handler
    makers = handler.makers
    if makers is None:
        makers = handler.makers = [(role, class_for(handler, role)) for role in handler.binders]
    if not makers:
        return []
    request: Any = None
    built: list[Any] = []
    for role, cls in makers:
        if role == "state":
            if call.state is None:
                call.state = cls(handler.name, call.trace_id, host(call), call.endpoint)
            built.append(call.state)
            continue
        if role == "context":
            built.append(cls.from_wire(read_json(call.context)))
            continue
        if role == "connection":
            built.append(cls(call.connection or "", host(call)))
            continue
        if request is None:
            request = read_json(call.request)
        value = request
        if role == "body":
            value = request.get("body" if handler.kind == "api" else "payload") if isinstance(request, dict) else None
        if cls is not None and isinstance(value, dict):
            value = cls.from_wire(value)
        built.append(value)
    return built


# The scanner is an attribute the typing stubs do not list.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def read_json(text: str) -> Any:
    """`json.loads` for the engine's compact JSON: its C scanner called
    directly. `json.loads` wraps it in three Python calls and two regular
    expression matches (for surrounding whitespace), which were more than
    half of reading an event (1.5 µs against 0.6). Text the scanner does
    not read whole from its first character goes through `json.loads`,
    which says what is wrong with it."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


def class_for(handler: Handler, role: str) -> Any:
    """The generated class a role is built with (None: the plain JSON)."""
    spec = handler.spec
    if role == "state":
        return generated_class("generated.state", "State")
    if role == "context":
        return generated_class("generated.runtime", "HandlerContext")
    if role == "connection":
        return generated_class("generated.runtime", "Connection")
    if role == "request" and handler.kind == "api":
        cls = generated_class(f"generated.api.{spec['name']}", spec["request_type"], optional=True)
    elif role == "body" and spec.get("body_type"):
        cls = find_type(spec["body_type"], f"generated.api.{spec['name']}")
    elif role in ("event", "typed_event") and spec.get("event_type"):
        cls = generated_class(f"generated.events.{spec['event_type']}", spec["event_type"], optional=True)
    elif role == "message" and spec.get("message_type"):
        ws = spec["id"].split(":")[1]
        cls = find_type(spec["message_type"], f"generated.websockets.{ws}")
    else:
        cls = None
    return cls if cls is not None and hasattr(cls, "from_wire") else None


def find_type(name: str, first_module: str) -> Any:
    for module in (first_module, "generated.models", "generated.types"):
        cls = generated_class(module, name, optional=True)
        if cls is not None:
            return cls
    return None


def generated_class(module: str, name: str, optional: bool = False) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        if not optional:
            raise RuntimeError(f"`{module}.{name}` is missing: src/generated/ is stale; run `rohas codegen`")
        return None


# ---------------------------------------------------------------- failures


def failure(error: BaseException, stack: bool, note: str = "", timed_out: bool = False) -> dict[str, Any]:
    """The wire form of a failed call: `HttpError` (by class name, so a copy
    loaded from another path counts) keeps its status, message and details;
    a timeout says so; anything else is a 500 message, with the user's
    traceback when `stack`, and `retryable: false` for `NonRetryableError`."""
    status = getattr(error, "status", None)
    if type(error).__name__ == "HttpError" and isinstance(status, int):
        return {
            "status": status,
            "message": str(getattr(error, "message", "") or error),
            "details": getattr(error, "details", None),
        }
    if timed_out:
        return {"timeout": True, "message": "handler timed out"}
    body: dict[str, Any] = {
        "message": f"{note}{type(error).__name__}: {error}",
        "stack": user_traceback(error) if stack and not note else None,
    }
    if is_non_retryable(error):
        body["retryable"] = False
    return body


def is_non_retryable(error: BaseException) -> bool:
    """A `generated.runtime.NonRetryableError`, or a subclass: by class name,
    as `HttpError` is recognised, so a copy imported from another path (an
    old `src/generated/`, a vendored one) still counts."""
    return any(cls.__name__ == "NonRetryableError" for cls in type(error).__mro__)


INTERNAL_FILES = {"rohas_host.py", "rohas_dispatch.py", __file__}
"""Frames left out of a user's traceback: the engine's and this module's."""


def user_traceback(error: BaseException) -> str:
    """The traceback without the runtime's frames: the user's code only."""
    summary = traceback.TracebackException.from_exception(error)
    summary.stack = traceback.StackSummary.from_list([f for f in summary.stack if f.filename not in INTERNAL_FILES])
    return "".join(summary.format())
