"""The Python half of Rohas's Python runtime, run inside the engine's embedded
CPython (the Rust half is `src/bridge.rs`).

One thread runs an asyncio loop (uvloop when installed). The engine never
takes the GIL to call a handler: it queues calls in Rust and wakes the loop
through a socket; the loop takes the whole queue at once (`_rohas.take_batch`),
starts one task per call and reports the results of each loop iteration
together with `_rohas.complete_many`.
Plain `def` handlers run in a thread pool so they cannot stall the loop.

Handler modules are compiled with `from __future__ import annotations`, so
annotations naming types a handler never imported (`-> Response`,
`context: HandlerContext` without an import) are never evaluated: signatures are read from the annotation *text*.

A second thread, the watchdog, waits for calls the engine gave up on (timeout):
it cancels their task and, when the handler never yields (a CPU loop), raises
`HandlerTimeout` inside the thread running it.
"""

from __future__ import annotations

import __future__
import asyncio
import concurrent.futures
import contextvars
import ctypes
import gc
import importlib.util
import inspect
import io
import json
import logging
import os
import site
import sys
import threading
import time
import traceback
import types
from typing import Any

import _rohas

HOST_FILE = "rohas_host.py"
ANNOTATIONS_FLAG = __future__.annotations.compiler_flag
# Seconds between two ticks of the loop-lag measure (`Host.tick`).
TICK = 0.5
CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("rohas_call", default=None)


class HandlerTimeout(BaseException):
    """Raised inside a handler the engine stopped waiting for."""


# ---------------------------------------------------------------- output capture


class Call:
    """One handler invocation in flight."""

    __slots__ = (
        "id",
        "handler",
        "trace_id",
        "task",
        "thread",
        "state",
        "buffers",
        "request",
        "context",
        "endpoint",
        "connection",
    )

    def __init__(self, id: int, handler: Handler, trace_id: str) -> None:
        self.id = id
        self.handler = handler
        self.trace_id = trace_id
        self.task: asyncio.Task[Any] | None = None
        self.thread: int | None = None
        self.state: Any = None
        self.buffers: dict[str, str] = {}
        self.request = "null"
        """The request (api), event, message or context, as JSON."""
        self.context = "{}"
        """`HandlerContext`'s wire form, as JSON."""
        self.endpoint: str | None = None
        self.connection: str | None = None

    def log(self, level: str, message: str, fields: Any = None) -> None:
        try:
            text = dumps(fields or {})
        except (TypeError, ValueError):
            text = dumps({str(k): repr(v) for k, v in (fields or {}).items()})
        _rohas.log(self.handler.name, self.trace_id, level, message, text)

    def flush(self) -> None:
        for level, rest in self.buffers.items():
            if rest:
                self.log(level, rest)
        self.buffers.clear()


class CapturedStream(io.TextIOBase):
    """`sys.stdout`/`sys.stderr`: inside a handler, each line becomes a log
    record tagged with the handler and trace id; elsewhere, the real stream."""

    def __init__(self, original: Any, level: str) -> None:
        self.original = original
        self.level = level

    def write(self, text: str) -> int:
        call = CALL.get()
        if call is None:
            return self.original.write(text)
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


class EngineLogHandler(logging.Handler):
    """`logging` records go to the engine's log stream, tagged like `print`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            level = LEVELS.get(record.levelname, "info")
            fields = {"logger": record.name}
            call = CALL.get()
            if call is None:
                _rohas.log("", "", level, message, dumps(fields))
            else:
                call.log(level, message, fields)
        except Exception:  # never let logging break a handler
            self.handleError(record)


class CallHost:
    """The `host` that generated `State` and `Connection` talk to."""

    __slots__ = ("call",)

    def __init__(self, call: Call) -> None:
        self.call = call

    def log(self, level: str, message: str, fields: dict[str, Any]) -> None:
        self.call.log(level, message, fields)

    def broadcast(self, endpoint: str, message: Any) -> None:
        _rohas.broadcast(endpoint, dumps(message))

    def send(self, connection_id: str, message: Any) -> None:
        _rohas.send(connection_id, dumps(message))


# ---------------------------------------------------------------- JSON


# JSON is written in Rust (`src/json/`), walking the values themselves:
# dicts, lists, tuples, str, int, float, bool, None (and subclasses) as
# `json` writes them; enums, datetimes, dates, times, generated types
# (`to_wire`), dataclasses, pydantic models and sets as their JSON form.
# Anything else raises TypeError, NaN and infinities ValueError, and a value
# that contains itself RecursionError.
dumps = _rohas.dumps


NOTHING = '{"value":null,"triggered":[],"payloads":{}}'
"""The reply of a handler that returned nothing and published nothing."""


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
    for key, role in (
        ("request_type", "request"),
        ("body_type", "body"),
        ("event_type", "event"),
        ("message_type", "message"),
    ):
        if spec.get(key):
            by_type.setdefault(spec[key], role)
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


# ---------------------------------------------------------------- the runtime


class Runtime:
    def __init__(self, project: str, dev: bool) -> None:
        self.project = os.path.abspath(project)
        self.src = os.path.join(self.project, "src")
        self.dev = dev
        self.handlers: dict[str, Handler] = {}
        self.modules: dict[str, Any] = {}
        self.calls: dict[int, Call] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = 0
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="rohas-py-sync")
        self.answers: list[tuple[int, bool, str]] = []
        """Results waiting for the end of this loop iteration."""
        self.eager: Call | None = None
        """The call whose first step runs right now, outside any Task."""

    # -- setup

    def prepare_paths(self) -> None:
        if self.src not in sys.path:
            sys.path.insert(0, self.src)
        venvs = [os.environ.get("VIRTUAL_ENV"), os.path.join(self.project, ".venv"), os.path.join(self.project, "venv")]
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        for venv in venvs:
            if venv:
                packages = os.path.join(venv, "lib", version, "site-packages")
                if os.path.isdir(packages):
                    site.addsitedir(packages)
                    break

    def run(self, wake_fd: int) -> None:
        """The loop thread's body: serve until `stop`."""
        try:
            import uvloop  # type: ignore[import-not-found]

            loop = uvloop.new_event_loop()
        except ImportError:
            loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        self.loop_thread = threading.get_ident()
        os.set_blocking(wake_fd, False)
        loop.add_reader(wake_fd, self.drain, wake_fd)
        threading.Thread(target=self.watchdog, name="rohas-py-watchdog", daemon=True).start()
        loop.call_later(TICK, self.tick, loop.time() + TICK)
        _rohas.ready()
        while not loop.is_closed():
            try:
                loop.run_forever()
                break
            except HandlerTimeout:
                continue  # landed between two steps of a task: keep serving
        self.pool.shutdown(wait=False, cancel_futures=True)

    def tick(self, due: float) -> None:
        """Every half second: how late this ran is the loop's lag (a
        handler blocking the loop makes it late), for the engine's metrics."""
        assert self.loop is not None
        now = self.loop.time()
        _rohas.loop_lag(now - due)
        self.loop.call_later(TICK, self.tick, now + TICK)

    def drain(self, wake_fd: int) -> None:
        try:
            while os.read(wake_fd, 4096):
                pass
        except BlockingIOError:
            pass
        for item in _rohas.take_batch():
            self.start(*item)

    def start(
        self,
        call_id: int,
        op: str,
        handler_id: str,
        trace_id: str,
        data: str,
        context_json: str,
        endpoint: str | None,
        connection: str | None,
    ) -> None:
        if op == "call":
            handler = self.handlers.get(handler_id)
            if handler is None:
                self.answer(call_id, False, dumps({"message": f"handler `{handler_id}` is not loaded"}))
                return
            call = Call(call_id, handler, trace_id)
            call.request = data
            call.context = context_json
            call.endpoint = endpoint
            call.connection = connection
            self.calls[call_id] = call
            context = contextvars.copy_context()
            context.run(CALL.set, call)
            if handler.is_async:
                context.run(self.start_async, call, context)
            else:
                future = self.loop.run_in_executor(self.pool, context.run, self.invoke_sync, call)  # type: ignore[union-attr]
                future.add_done_callback(lambda f, c=call: self.finish_sync(c, f))
        elif op == "load":
            self.reply(call_id, self.load(json.loads(data)))
        elif op == "invalidate":
            self.reply(call_id, self.invalidate(json.loads(data)))
        elif op == "stop":
            self.loop.stop()  # type: ignore[union-attr]

    def answer(self, call_id: int, ok: bool, text: str) -> None:
        """Queue a call's result; the results of one loop iteration go to the
        engine in one `_rohas.complete_many` call (one GIL-held crossing and
        one lock for many calls under load)."""
        if not self.answers:
            self.loop.call_soon(self.send_answers)  # type: ignore[union-attr]
        self.answers.append((call_id, ok, text))

    def send_answers(self) -> None:
        answers, self.answers = self.answers, []
        _rohas.complete_many(answers)

    def reply(self, call_id: int, value: Any) -> None:
        _rohas.complete(call_id, True, dumps(value))

    # -- loading

    def load(self, specs: list[dict[str, Any]]) -> dict[str, Any]:
        """Import every handler; on any error keep the previous set. The
        reply lists the problems, and each loaded handler's parameter roles
        (the engine builds only what they read)."""
        self.prepare_paths()
        handlers: dict[str, Handler] = {}
        errors: list[dict[str, Any]] = []
        for spec in specs:
            files = [os.path.join(self.project, f) for f in spec["files"]]
            file = next((f for f in files if os.path.isfile(f)), None)
            if file is None:
                if spec.get("optional"):
                    continue
                errors.append({"kind": "missing", "handler": spec["id"], "looked_for": spec["files"]})
                continue
            try:
                module = self.import_file(file)
            except BaseException as e:  # noqa: BLE001 - user code may raise anything at import
                errors.append({"kind": "failed", "message": self.describe_import_error(file, e)})
                continue
            function = next((getattr(module, n) for n in spec["functions"] if callable(getattr(module, n, None))), None)
            if function is None:
                if spec.get("optional"):
                    continue
                errors.append(
                    {
                        "kind": "no_function",
                        "handler": spec["id"],
                        "file": os.path.relpath(file, self.project),
                        "expected": " or ".join(f"`{n}`" for n in spec["functions"]),
                    }
                )
                continue
            try:
                handlers[spec["id"]] = Handler(spec, function, file)
            except (ValueError, TypeError) as e:
                errors.append({"kind": "failed", "message": f"{os.path.relpath(file, self.project)}: {e}"})
        if not errors:
            self.handlers = handlers
            # What is loaded now lives as long as the process: keep it out of
            # the collector's way, and collect young objects less often.
            gc.collect()
            gc.freeze()
            gc.set_threshold(20_000, 20, 20)
        return {"problems": errors, "roles": {id: h.binders for id, h in handlers.items()} if not errors else {}}

    def describe_import_error(self, file: str, error: BaseException) -> str:
        relative = os.path.relpath(file, self.project)
        if isinstance(error, SyntaxError):
            where = f"{relative}:{error.lineno}:{error.offset or 0}"
            return f"{where}: syntax error: {error.msg}\n    {(error.text or '').rstrip()}"
        if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "generated":
            return f"{relative}: cannot import `{error.name}`: src/generated/ is missing or stale; run `rohas codegen`"
        return f"{relative}: raised on import: {type(error).__name__}: {error}\n" + user_traceback(error).rstrip()

    def import_file(self, file: str) -> Any:
        cached = self.modules.get(file)
        if cached is not None:
            return cached
        relative = os.path.relpath(file, self.src)
        name = relative[:-3].replace(os.sep, ".") if not relative.startswith("..") else "rohas_handler_" + str(len(self.modules))
        with open(file, "rb") as f:
            source = f.read()
        code = compile(source, file, "exec", flags=ANNOTATIONS_FLAG, dont_inherit=True)
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        previous = sys.modules.get(name)
        sys.modules[name] = module
        try:
            exec(code, module.__dict__)
        except BaseException:
            if previous is not None:
                sys.modules[name] = previous
            else:
                sys.modules.pop(name, None)
            raise
        self.modules[file] = module
        return module

    def invalidate(self, paths: list[str]) -> None:
        """Forget every module loaded from the project's `src/`: handlers
        import each other and the generated code, so a change anywhere may
        matter anywhere. The next `load` imports them again."""
        prefix = self.src + os.sep
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None) or ""
            if file.startswith(prefix):
                del sys.modules[name]
        self.modules.clear()
        importlib.invalidate_caches()

    # -- calling

    def arguments(self, call: Call) -> list[Any]:
        """What the handler's parameters ask for, built from the call's JSON,
        which is parsed only when a parameter needs it."""
        handler = call.handler
        makers = handler.makers
        if makers is None:
            makers = handler.makers = [(role, self.class_for(handler, role)) for role in handler.binders]
        if not makers:
            return []
        request: Any = None
        built: list[Any] = []
        for role, cls in makers:
            if role == "state":
                if call.state is None:
                    call.state = cls(handler.name, call.trace_id, CallHost(call), call.endpoint)
                built.append(call.state)
                continue
            if role == "context":
                built.append(cls.from_wire(json.loads(call.context)))
                continue
            if role == "connection":
                built.append(cls(call.connection or "", CallHost(call)))
                continue
            if request is None:
                request = json.loads(call.request)
            value = request
            if role == "body":
                value = request.get("body" if handler.kind == "api" else "payload") if isinstance(request, dict) else None
            if cls is not None and isinstance(value, dict):
                value = cls.from_wire(value)
            built.append(value)
        return built

    def class_for(self, handler: Handler, role: str) -> Any:
        """The generated class a role is built with (None: the plain JSON)."""
        spec = handler.spec
        if role == "state":
            return self.generated_class("generated.state", "State")
        if role == "context":
            return self.generated_class("generated.runtime", "HandlerContext")
        if role == "connection":
            return self.generated_class("generated.runtime", "Connection")
        if role == "request" and handler.kind == "api":
            cls = self.generated_class(f"generated.api.{spec['name']}", spec["request_type"], optional=True)
        elif role == "body" and spec.get("body_type"):
            cls = self.find_type(spec["body_type"], f"generated.api.{spec['name']}")
        elif role == "event" and spec.get("event_type"):
            cls = self.generated_class(f"generated.events.{spec['event_type']}", spec["event_type"], optional=True)
        elif role == "message" and spec.get("message_type"):
            ws = spec["id"].split(":")[1]
            cls = self.find_type(spec["message_type"], f"generated.websockets.{ws}")
        else:
            cls = None
        return cls if cls is not None and hasattr(cls, "from_wire") else None

    def find_type(self, name: str, first_module: str) -> Any:
        for module in (first_module, "generated.models", "generated.types"):
            cls = self.generated_class(module, name, optional=True)
            if cls is not None:
                return cls
        return None

    def generated_class(self, module: str, name: str, optional: bool = False) -> Any:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            if not optional:
                raise RuntimeError(f"`{module}.{name}` is missing: src/generated/ is stale; run `rohas codegen`")
            return None

    def start_async(self, call: Call, context: contextvars.Context) -> None:
        """Run the handler's first step right here; only a handler that
        really waits (I/O, sleep) gets an asyncio Task for the rest. Most
        handlers finish in that first step, and skip the Task and a trip
        through the loop's ready queue."""
        coroutine = self.invoke(call)
        self.eager = call
        try:
            pending = coroutine.send(None)
        except StopIteration:
            return
        finally:
            self.eager = None
        call.task = self.loop.create_task(resume(coroutine, pending), context=context)  # type: ignore[union-attr]

    async def invoke(self, call: Call) -> None:
        try:
            arguments = self.arguments(call)
            value = await call.handler.function(*arguments)
            self.succeed(call, value)
        except BaseException as error:  # noqa: BLE001 - every failure becomes an answer
            self.fail(call, error)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise

    def invoke_sync(self, call: Call) -> Any:
        call.thread = threading.get_ident()
        try:
            return call.handler.function(*self.arguments(call))
        finally:
            call.thread = None

    def finish_sync(self, call: Call, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            self.fail(call, HandlerTimeout())
            return
        error = future.exception()
        if error is not None:
            self.fail(call, error)
        else:
            self.succeed(call, future.result())

    def succeed(self, call: Call, value: Any) -> None:
        if self.calls.pop(call.id, None) is None:
            return
        call.flush()
        state = call.state
        if value is None and (state is None or not (getattr(state, "_triggered", None) or getattr(state, "_payloads", None))):
            self.answer(call.id, True, NOTHING)
            return
        try:
            # The reply stays a Rust string: `complete_many` takes it as is.
            text = _rohas.success(value, getattr(state, "_triggered", ()), getattr(state, "_payloads", {}))
        except Exception as error:  # noqa: BLE001 - a `to_wire` or property may raise anything
            self.calls[call.id] = call
            self.fail(call, error, note=f"{call.handler.name} returned a value that is not JSON: ")
            return
        self.answer(call.id, True, text)

    def fail(self, call: Call, error: BaseException, note: str = "") -> None:
        if self.calls.pop(call.id, None) is None:
            return
        call.flush()
        status = getattr(error, "status", None)
        if type(error).__name__ == "HttpError" and isinstance(status, int):
            body = {
                "status": status,
                "message": str(getattr(error, "message", "") or error),
                "details": getattr(error, "details", None),
            }
        elif isinstance(error, (HandlerTimeout, asyncio.CancelledError)):
            body = {"timeout": True, "message": "handler timed out"}
        else:
            stack = user_traceback(error) if self.dev and not note else None
            body = {"message": f"{note}{type(error).__name__}: {error}", "stack": stack}
            if is_non_retryable(error):
                body["retryable"] = False
        try:
            text = dumps(body)
        except (TypeError, ValueError) as e:
            text = dumps({"message": f"{body.get('message')} (its details are not JSON: {e})"})
        self.answer(call.id, False, text)

    # -- timeouts

    def watchdog(self) -> None:
        """Stop calls the engine gave up on: cancel the task, then, if the
        handler never yields, raise `HandlerTimeout` in its thread."""
        abandoned: dict[int, float] = {}
        while True:
            for call_id in _rohas.wait_abandoned(50):
                if call_id < 0:
                    return
                call = self.calls.get(call_id)
                if call is not None:
                    abandoned[call_id] = time.monotonic()
                    if call.task is not None and self.loop is not None:
                        self.loop.call_soon_threadsafe(call.task.cancel)
            now = time.monotonic()
            for call_id, since in list(abandoned.items()):
                call = self.calls.get(call_id)
                if call is None:
                    del abandoned[call_id]
                    continue
                if now - since < 0.2:
                    continue
                if call.thread is not None:
                    interrupt(call.thread)
                elif self.eager is call or (
                    call.task is not None and self.loop is not None and asyncio.current_task(self.loop) is call.task
                ):
                    interrupt(self.loop_thread)


@types.coroutine
def resume(coroutine: Any, pending: Any) -> Any:
    """Continue a coroutine that already ran its first step, inside a Task:
    hand the Task what the coroutine waits for, and pass back what the Task
    sends or throws (cancellation included)."""
    while True:
        try:
            try:
                received = yield pending
            except BaseException as error:  # noqa: BLE001 - forwarded, not handled
                pending = coroutine.throw(error)
            else:
                pending = coroutine.send(received)
        except StopIteration as stop:
            return stop.value


def is_non_retryable(error: BaseException) -> bool:
    """A `generated.runtime.NonRetryableError`, or a subclass: by class name,
    as `HttpError` is recognised, so a copy imported from another path (an
    old `src/generated/`, a vendored one) still counts."""
    return any(cls.__name__ == "NonRetryableError" for cls in type(error).__mro__)


def user_traceback(error: BaseException) -> str:
    """The traceback without this module's frames: the user's code only."""
    summary = traceback.TracebackException.from_exception(error)
    summary.stack = traceback.StackSummary.from_list([f for f in summary.stack if f.filename != HOST_FILE])
    return "".join(summary.format())


def interrupt(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(HandlerTimeout))


RUNTIME: Runtime | None = None


def main(project: str, dev: bool, wake_fd: int) -> None:
    """Entry point the Rust side calls on the loop thread."""
    global RUNTIME
    sys.argv = ["rohas"]
    sys.stdout = CapturedStream(sys.__stdout__, "info")
    sys.stderr = CapturedStream(sys.__stderr__, "warn")
    root = logging.getLogger()
    root.handlers = [EngineLogHandler()]
    root.setLevel(logging.INFO)
    RUNTIME = Runtime(project, dev)
    RUNTIME.prepare_paths()
    RUNTIME.run(wake_fd)
