"""The Python half of Rohas's Python runtime, run inside the engine's embedded
CPython (the Rust half is `src/bridge.rs`).

One thread runs an asyncio loop (uvloop when installed). The engine never
takes the GIL to call a handler: it queues calls in Rust and wakes the loop
through a socket; the loop takes the whole queue at once (`_rohas.take_batch`),
starts one task per call and reports the results of each loop iteration
together with `_rohas.complete_many`.
Plain `def` handlers run in a thread pool so they cannot stall the loop.

How a handler is loaded, what its parameters get and how a failure is
reported is `rohas_dispatch`: the generated `dispatch.py`, compiled into the
binary too, which the project's test harness (`generated.testing`) runs
handlers through as well.

A second thread, the watchdog, waits for calls the engine gave up on (timeout):
it cancels their task and, when the handler never yields (a CPU loop), raises
`HandlerTimeout` inside the thread running it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import ctypes
import gc
import importlib
import json
import logging
import os
import site
import sys
import threading
import time
import types
from typing import Any

import _rohas
import rohas_dispatch as dispatch
from rohas_dispatch import CALL, Handler

# Seconds between two ticks of the loop-lag measure (`Host.tick`).
TICK = 0.5


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
        handlers, errors = dispatch.load(specs, self.project, self.modules)
        if not errors:
            self.handlers = handlers
            # What is loaded now lives as long as the process: keep it out of
            # the collector's way, and collect young objects less often.
            gc.collect()
            gc.freeze()
            gc.set_threshold(20_000, 20, 20)
        return {"problems": errors, "roles": {id: h.binders for id, h in handlers.items()} if not errors else {}}

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
            arguments = dispatch.arguments(call, CallHost)
            value = await call.handler.function(*arguments)
            self.succeed(call, value)
        except BaseException as error:  # noqa: BLE001 - every failure becomes an answer
            self.fail(call, error)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise

    def invoke_sync(self, call: Call) -> Any:
        call.thread = threading.get_ident()
        try:
            return call.handler.function(*dispatch.arguments(call, CallHost))
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
        dispatch.flush(call)
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
        dispatch.flush(call)
        timed_out = isinstance(error, (HandlerTimeout, asyncio.CancelledError))
        body = dispatch.failure(error, stack=self.dev, note=note, timed_out=timed_out)
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


def interrupt(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(HandlerTimeout))


def outside_call(level: str, message: str, fields: dict[str, Any]) -> None:
    """A `logging` record from no handler (a module's import, a thread)."""
    _rohas.log("", "", level, message, dumps(fields))


RUNTIME: Runtime | None = None


def main(project: str, dev: bool, wake_fd: int) -> None:
    """Entry point the Rust side calls on the loop thread."""
    global RUNTIME
    sys.argv = ["rohas"]
    sys.stdout = dispatch.CapturedStream(sys.__stdout__, "info")
    sys.stderr = dispatch.CapturedStream(sys.__stderr__, "warn")
    root = logging.getLogger()
    root.handlers = [dispatch.LogHandler(outside_call)]
    root.setLevel(logging.INFO)
    RUNTIME = Runtime(project, dev)
    RUNTIME.prepare_paths()
    RUNTIME.run(wake_fd)
