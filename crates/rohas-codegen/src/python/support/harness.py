"""The machinery of the test harness: `generated.testing.Harness` is this
class with the project's schema filled in and typed per handler.

Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

Handlers run through `generated.dispatch`, the code the engine's Python host
runs them with (which file and function, what each parameter gets, how a
failure is reported). What the engine itself does around a call is
repeated here, following its rules: an api's middlewares before it, the
events a handler set or triggered published only after it succeeded (its
`triggers` first, with the payload `set_payload` gave or else its return
value, then every `trigger_event`), an event delivered to each of its
handlers and then its own `triggers`, a ws message's reply sent to the
client or broadcast. Differences from a running engine, on purpose:

* nothing runs in the background: `call_api` and friends queue the events
  they cause, `run_due()` delivers the queue, `publish()` delivers one event
  and everything it causes at once;
* a failed event delivery is reported, not retried;
* time is `clock`, which moves only when the test says so (`State.now()`,
  event timestamps, cron's `scheduled_at` and delayed events read it);
* request bodies are not checked against the schema (the engine answers 400
  before any handler runs); responses are read back into their generated
  types, so a handler answering what the schema does not say fails the test.

Query parameters: `call_api(..., query=...)` of an api without `query:` puts
the mapping in `query_params`, as given. For an api with typed query
parameters (`query:`), `query` is the generated `<Api>Query` (or the named
record) or a mapping of the schema's field names to typed values (`3`, not
`"3"`): the handler gets it in wire form as the request's `query` (a `None`
value left out, as a parameter the client did not send), and the strings a
URL would carry as `query_params` (`true`/`false`, a list's last item, as
the engine's map keeps the last of a repeated parameter).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, Literal, TypeVar

from generated import dispatch
from generated.runtime import HttpError, to_wire

__all__ = [
    "ApiResult",
    "Clock",
    "EventRun",
    "HandlerRun",
    "HarnessBase",
    "HarnessError",
    "LogLine",
    "MiddlewareResult",
    "PendingEvent",
    "Sent",
    "Tables",
    "TriggeredEvent",
    "WsSession",
    "WsStep",
]

T = TypeVar("T")


class HarnessError(Exception):
    """The test asked for something the schema or project does not have (an
    unknown handler, a handler file that does not load), or events that
    trigger each other without end."""


# ---------------------------------------------------------------- what a run records


@dataclasses.dataclass(frozen=True)
class LogLine:
    """One log line of a handler: `state.logger`, `print`, `logging`."""

    level: str
    """trace, debug, info, warn or error (`print` is info, stderr warn)."""
    message: str
    fields: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class TriggeredEvent:
    """An event a handler caused, as the engine would publish it."""

    name: str
    payload: Any
    """JSON-ready, as it travels on the bus."""
    delay: timedelta | None = None


@dataclasses.dataclass(frozen=True)
class Sent:
    """A WebSocket message a handler sent (`connection.send`, a ws reply)
    or broadcast (`state.broadcast`, the reply of a `broadcast: true` ws)."""

    kind: Literal["send", "broadcast"]
    to: str
    """The connection id (send) or the ws endpoint (broadcast)."""
    message: Any


@dataclasses.dataclass
class HandlerRun:
    """One call of one handler."""

    handler: str
    """The handler id: `api:CreateUser`, `event:UserCreated:send_welcome_email` …"""
    name: str
    """The schema name: `CreateUser`, `send_welcome_email` …"""
    kind: str
    ok: bool
    value: Any = None
    """What it returned, as JSON."""
    error: HttpError | None = None
    """Why it failed: its `HttpError`, or a 500 with the exception's text."""
    exception: BaseException | None = None
    """The exception it raised, as raised."""
    retryable: bool = True
    """False when it raised `NonRetryableError` (the engine would not retry)."""
    event: str | None = None
    """The event it was delivered (event handlers)."""
    logs: list[LogLine] = dataclasses.field(default_factory=list)
    triggered: list[TriggeredEvent] = dataclasses.field(default_factory=list)
    """The events it caused (none when it failed)."""
    sent: list[Sent] = dataclasses.field(default_factory=list)
    payloads: dict[str, Any] = dataclasses.field(default_factory=dict)
    """What it gave `state.set_payload`, by event."""


@dataclasses.dataclass
class ApiResult(Generic[T]):
    """What an api call answered, and what it caused."""

    value: T | None
    """The response, read back into its generated type (None on failure)."""
    wire: Any
    """The response as the client gets it (JSON)."""
    error: HttpError | None
    """The `HttpError` the client gets: the handler's, a middleware's
    refusal, or a 500 for any other exception."""
    exception: BaseException | None
    events: list[TriggeredEvent]
    """What the engine would publish (queued for `Harness.run_due`)."""
    logs: list[LogLine]
    """The api handler's log lines."""
    middlewares: list[HandlerRun]

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The HTTP status the client would see."""
        return 200 if self.error is None else self.error.status

    def unwrap(self) -> T:
        """The response; fails the test with the error when there is none."""
        if self.error is not None:
            raise AssertionError(f"the call failed: {self.error.status} {self.error.message}") from self.exception
        return self.value  # type: ignore[return-value]


@dataclasses.dataclass
class EventRun:
    """Every handler run an event caused, in order, to any depth."""

    runs: list[HandlerRun]
    delivered: list[TriggeredEvent]
    """The events delivered, in order (the first is the one published)."""
    scheduled: list[PendingEvent]
    """Delayed events it caused, waiting for the clock (`run_due`)."""

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    @property
    def handlers(self) -> list[str]:
        """The schema names of the handlers that ran, in order."""
        return [run.name for run in self.runs]

    @property
    def events(self) -> list[str]:
        return [event.name for event in self.delivered]

    @property
    def failures(self) -> list[HandlerRun]:
        return [run for run in self.runs if not run.ok]

    def run_of(self, handler: str) -> HandlerRun:
        """The (first) run of the handler named `handler`."""
        for run in self.runs:
            if handler in (run.name, run.handler):
                return run
        raise AssertionError(f"`{handler}` did not run; these did: {', '.join(self.handlers) or 'none'}")


@dataclasses.dataclass
class MiddlewareResult:
    """What a middleware decided."""

    allowed: bool
    error: HttpError | None
    """Its refusal (or the 500 of any other exception)."""
    context: dict[str, Any]
    """The context the next middleware or the handler gets (changed when the
    middleware returned one)."""
    run: HandlerRun


@dataclasses.dataclass(frozen=True)
class PendingEvent:
    """An event waiting in the harness's queue until `due`."""

    name: str
    payload: Any
    due: datetime
    trace_id: str
    source: str


@dataclasses.dataclass
class WsStep:
    """What one WebSocket step (connect, a message, disconnect) ran and sent."""

    runs: list[HandlerRun]
    sent: list[Sent]
    error: HttpError | None = None
    """A refused connection, or a failed message's error (also sent to the client)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def replies(self) -> list[Any]:
        """Messages that reached this client: sent to it, or broadcast."""
        return [s.message for s in self.sent]


@dataclasses.dataclass(frozen=True)
class Tables:
    """The schema, as the harness needs it (written by codegen)."""

    specs: list[dict[str, Any]]
    """Every handler spec, exactly as the engine hands them to its host."""
    apis: dict[str, dict[str, Any]]
    events: dict[str, dict[str, Any]]
    crons: dict[str, dict[str, Any]]
    websockets: dict[str, dict[str, Any]]
    middlewares: list[str]
    decoders: dict[str, Callable[[Any], Any]]
    """Per api: its JSON response into the generated type."""


# ---------------------------------------------------------------- time


class Clock:
    """The time handlers see in tests: it moves only with `advance`/`set`."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start if start is not None else datetime(2030, 1, 1, tzinfo=timezone.utc)
        self._now = start if start.tzinfo is not None else start.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta | float) -> datetime:
        """Move forward by a `timedelta` or a number of seconds."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if step < timedelta(0):
            raise ValueError(f"the clock only moves forward, not by {step}")
        self._now += step
        return self._now

    def set(self, to: datetime) -> None:
        self._now = to if to.tzinfo is not None else to.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- one call


class _Call:
    """A call as `generated.dispatch` reads it, recording what it logs and sends."""

    def __init__(self, handler: dispatch.Handler, trace_id: str, harness: HarnessBase) -> None:
        self.handler = handler
        self.trace_id = trace_id
        self.state: Any = None
        self.request = "null"
        self.context = "{}"
        self.endpoint: str | None = None
        self.connection: str | None = None
        self.buffers: dict[str, str] = {}
        self.logs: list[LogLine] = []
        self.sent: list[Sent] = []
        self.harness = harness

    def log(self, level: str, message: str, fields: Any = None) -> None:
        self.logs.append(LogLine(level, message, dict(to_wire(fields or {}))))


class _Host:
    """The `host` of `State` and `Connection` in tests: records, and tells the time."""

    def __init__(self, call: _Call) -> None:
        self.call = call

    def log(self, level: str, message: str, fields: dict[str, Any]) -> None:
        self.call.log(level, message, fields)

    def broadcast(self, endpoint: str, message: Any) -> None:
        self.call.sent.append(Sent("broadcast", endpoint, message))

    def send(self, connection_id: str, message: Any) -> None:
        self.call.sent.append(Sent("send", connection_id, message))

    def now(self) -> datetime:
        return self.call.harness.clock.now()


def _wire(value: Any) -> Any:
    """`value` as the engine's JSON writer sends it (NaN refused as there)."""
    return json.loads(json.dumps(to_wire(value), ensure_ascii=False, allow_nan=False))


def _typed_query(query: Any) -> dict[str, Any]:
    """A typed query (`query:`) in wire form, `None` values left out."""
    wired = _wire(dict(query) if isinstance(query, Mapping) else query) if query is not None else {}
    if not isinstance(wired, dict):
        raise HarnessError(f"query must be the generated query object or a mapping, not {type(query).__name__}")
    return {str(k): v for k, v in wired.items() if v is not None}


def _query_string(value: Any) -> str:
    """A wire value as a URL carries it (a list: its last item, as the engine keeps)."""
    if isinstance(value, list):
        return _query_string(value[-1])
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_of(body: dict[str, Any]) -> HttpError:
    if isinstance(body.get("status"), int):
        return HttpError(body["status"], body.get("message") or "", body.get("details"))
    if body.get("timeout"):
        return HttpError(504, "handler timed out")
    return HttpError(500, str(body.get("message", "")))


# ---------------------------------------------------------------- the harness


class HarnessBase:
    """Runs the project's handlers as the engine would, in-process."""

    TABLES: Tables

    def __init__(self, *, now: datetime | None = None, max_depth: int = 32, project: str | None = None) -> None:
        """`now`: where the fake clock starts (default 2030-01-01 UTC);
        `max_depth`: how many levels of events triggering events `publish`
        follows before it stops with an error (a cycle)."""
        self.clock = Clock(now)
        self.max_depth = max_depth
        src = os.path.dirname(os.path.dirname(os.path.abspath(dispatch.__file__)))
        self.project = project if project is not None else os.path.dirname(src)
        if src not in sys.path:
            sys.path.insert(0, src)
        self.pending: list[PendingEvent] = []
        """Events waiting to be delivered (`run_due`), in order."""
        self._specs = {spec["id"]: spec for spec in self.TABLES.specs}
        self._handlers: dict[str, dispatch.Handler] = {}
        self._modules: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifetime

    def close(self) -> None:
        """Close the event loop async handlers ran on."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def __enter__(self) -> HarnessBase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.close()

    # -- the handler kinds

    def _call_api(
        self,
        name: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        query: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResult[Any]:
        api = self._known(self.TABLES.apis, name, "api")
        trace_id = _trace_id()
        wire_body = _wire(body)
        typed_query: dict[str, Any] | None = None
        if api.get("query"):
            typed_query = _typed_query(query)
            query_params = {k: _query_string(v) for k, v in typed_query.items() if v != []}
        else:
            query_params = dict(_wire(dict(query or {})))
        header_map = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        middlewares: list[HandlerRun] = []
        if api["middlewares"]:
            context = {
                "payload": wire_body,
                "query_params": query_params,
                "headers": header_map,
                "api": name,
                "trace_id": trace_id,
            }
            refused, context = self._run_middlewares(api["middlewares"], context, trace_id, middlewares)
            if refused is not None:
                return ApiResult(None, None, refused.error, refused.run.exception, [], [], middlewares)
            wire_body = context.get("payload")
            query_params = dict(context.get("query_params") or {})
            header_map = {str(k): str(v) for k, v in dict(context.get("headers") or {}).items()}
        path_params = {str(k): str(v) for k, v in (params or {}).items()}
        missing = [p for p in api["params"] if p not in path_params]
        if missing:
            raise HarnessError(f"api `{name}` ({api['path']}) needs path parameters {missing}: pass params={{...}}")
        request: dict[str, Any] = dict(path_params)
        if typed_query is not None:
            request["query"] = typed_query
        request.update({"query_params": query_params, "body": wire_body, "headers": header_map})
        context = {
            "handler_name": name,
            "payload": wire_body,
            "query_params": query_params,
            "metadata": {
                "path_params": path_params,
                "headers": header_map,
                "api": name,
                "attempt": 1,
                "trace_id": trace_id,
                "handler_kind": "api",
            },
        }
        run = self._run(f"api:{name}", request, context, trace_id, api["triggers"], fallback=None)
        if not run.ok:
            return ApiResult(None, None, run.error, run.exception, [], run.logs, middlewares)
        self._queue(run.triggered, trace_id, run.handler)
        try:
            value = self.TABLES.decoders[name](run.value)
        except Exception as e:  # noqa: BLE001 - any mismatch is the handler's
            raise HarnessError(
                f"api `{name}` answered {json.dumps(run.value)[:200]}, which is not its schema response type: "
                f"{type(e).__name__}: {e}"
            ) from e
        return ApiResult(value, run.value, None, None, run.triggered, run.logs, middlewares)

    def _middleware(self, name: str, context: Mapping[str, Any] | None = None) -> MiddlewareResult:
        """Run middleware `name` on `context` (`payload`, `query_params`,
        `headers`, as the engine builds it for an api or ws)."""
        if name not in self.TABLES.middlewares:
            self._unknown(name, "middleware", self.TABLES.middlewares)
        full: dict[str, Any] = {"payload": None, "query_params": {}, "headers": {}}
        full.update(_wire(dict(context or {})))
        runs: list[HandlerRun] = []
        refused, after = self._run_middlewares([name], full, _trace_id(), runs)
        if refused is not None:
            return refused
        return MiddlewareResult(True, None, after, runs[0])

    def _run_middlewares(
        self, names: list[str], context: dict[str, Any], trace_id: str, runs: list[HandlerRun]
    ) -> tuple[MiddlewareResult | None, dict[str, Any]]:
        """The engine's `run_middlewares`: in order, each may pass, replace
        the context's payload, query or headers, or refuse."""
        for name in names:
            handler_context = {
                "handler_name": name,
                "payload": context.get("payload"),
                "query_params": context.get("query_params") or {},
                "metadata": {
                    "headers": context.get("headers"),
                    "trace_id": trace_id,
                    "handler_kind": "middleware",
                },
            }
            run = self._run(f"middleware:{name}", context, handler_context, trace_id, [], fallback=None)
            runs.append(run)
            if not run.ok:
                return MiddlewareResult(False, run.error, context, run), context
            changes = run.value
            if isinstance(changes, dict):
                changes = dict(changes)
                metadata = changes.pop("metadata", None)
                if isinstance(metadata, dict) and "headers" in metadata:
                    changes.setdefault("headers", metadata["headers"])
                context = dict(context)
                for key in ("payload", "query_params", "headers"):
                    if key in changes:
                        context[key] = changes[key]
        return None, context

    def _run_cron(self, name: str) -> HandlerRun:
        cron = self._known(self.TABLES.crons, name, "cron")
        trace_id = _trace_id()
        request = {"name": name, "scheduled_at": self.clock.now().isoformat()}
        context = {
            "handler_name": name,
            "payload": None,
            "query_params": {},
            "metadata": {"schedule": cron["schedule"], "trace_id": trace_id, "handler_kind": "cron"},
        }
        run = self._run(f"cron:{name}", request, context, trace_id, cron["triggers"], fallback=None)
        if run.ok:
            self._queue(run.triggered, trace_id, run.handler)
        return run

    def _publish(self, event: str, payload: Any = None) -> EventRun:
        self._known(self.TABLES.events, event, "event")
        wire = _wire(payload)
        problem = self._payload_problem(event, wire)
        if problem is not None:
            raise HarnessError(problem)
        return self._deliver([PendingEvent(event, wire, self.clock.now(), _trace_id(), "test")])

    def run_due(self) -> EventRun:
        """Deliver every queued event whose time has come (events api calls,
        cron runs and ws messages caused, delayed ones once the clock passed
        their delay), and everything they cause."""
        now = self.clock.now()
        due = [p for p in self.pending if p.due <= now]
        self.pending = [p for p in self.pending if p.due > now]
        due.sort(key=lambda p: p.due)
        return self._deliver(due)

    def _ws(self, name: str, *, headers: Mapping[str, str] | None = None, connection_id: str | None = None) -> WsSession:
        ws = self._known(self.TABLES.websockets, name, "ws")
        return WsSession(self, name, ws, connection_id or f"conn-{uuid.uuid4().hex[:8]}", dict(headers or {}))

    # -- events

    def _deliver(self, first: list[PendingEvent]) -> EventRun:
        runs: list[HandlerRun] = []
        delivered: list[TriggeredEvent] = []
        scheduled: list[PendingEvent] = []
        queue: list[tuple[PendingEvent, tuple[str, ...]]] = [(p, (p.name,)) for p in first]
        while queue:
            message, chain = queue.pop(0)
            if len(chain) > self.max_depth:
                raise HarnessError(
                    f"events kept triggering events past {self.max_depth} levels: {' → '.join(chain[-8:])} …; "
                    "a cycle in `triggers`/`trigger_event`? (raise max_depth= if the chain is meant to be this long)"
                )
            delivered.append(TriggeredEvent(message.name, message.payload))
            event = self.TABLES.events.get(message.name, {"triggers": [], "declared": False})
            request = _event_request(message)
            succeeded: list[HandlerRun] = []
            handler_ids = [s["id"] for s in self.TABLES.specs if s["kind"] == "event" and s["id"].split(":")[1] == message.name]
            for handler_id in handler_ids:
                context = {
                    "handler_name": self._specs[handler_id]["name"],
                    "payload": message.payload,
                    "query_params": {},
                    "metadata": {
                        "message_id": uuid.uuid4().hex,
                        "attempt": 1,
                        "event": message.name,
                        "source": message.source,
                        "trace_id": message.trace_id,
                        "handler_kind": "event",
                    },
                }
                run = self._run(handler_id, request, context, message.trace_id, [], fallback=None)
                run.event = message.name
                runs.append(run)
                if run.ok:
                    succeeded.append(run)
                    self._follow(run.triggered, message, chain, run.handler, queue, scheduled)
            if event["triggers"] and handler_ids and len(succeeded) == len(handler_ids):
                payloads: dict[str, Any] = {}
                for run in succeeded:
                    payloads.update(run.payloads)
                own = [TriggeredEvent(t, payloads.get(t, message.payload)) for t in event["triggers"]]
                problems = [p for p in (self._payload_problem(t.name, t.payload) for t in own) if p]
                if problems:
                    # The engine logs this and publishes none of them.
                    raise HarnessError(f"event `{message.name}`: triggers not published: {problems[0]}")
                self._follow(own, message, chain, f"event:{message.name}", queue, scheduled)
        return EventRun(runs, delivered, scheduled)

    def _follow(
        self,
        triggered: list[TriggeredEvent],
        cause: PendingEvent,
        chain: tuple[str, ...],
        source: str,
        queue: list[tuple[PendingEvent, tuple[str, ...]]],
        scheduled: list[PendingEvent],
    ) -> None:
        now = self.clock.now()
        for t in triggered:
            pending = PendingEvent(t.name, t.payload, now + (t.delay or timedelta(0)), cause.trace_id, source)
            if t.delay:
                self.pending.append(pending)
                scheduled.append(pending)
            else:
                queue.append((pending, chain + (t.name,)))

    def _queue(self, triggered: list[TriggeredEvent], trace_id: str, source: str) -> None:
        now = self.clock.now()
        for t in triggered:
            self.pending.append(PendingEvent(t.name, t.payload, now + (t.delay or timedelta(0)), trace_id, source))

    def _payload_problem(self, event: str, payload: Any) -> str | None:
        """Why `payload` cannot be published as `event`: it does not read as
        the event's generated type (the engine checks it against the schema
        before publishing anything)."""
        if event not in self.TABLES.events or not self.TABLES.events[event]["payload"]:
            return None
        cls = dispatch.generated_class(f"generated.events.{event}", event, optional=True)
        if cls is None:
            return None
        try:
            cls.from_wire(_event_request(PendingEvent(event, payload, self.clock.now(), "", "")))
        except Exception as e:  # noqa: BLE001 - a mismatch may surface as anything
            return f"the payload of event `{event}` does not match the schema: {type(e).__name__}: {e}"
        return None

    # -- calling one handler

    def _run(
        self,
        handler_id: str,
        request: Any,
        context: dict[str, Any],
        trace_id: str,
        triggers: list[str],
        fallback: Any,
        endpoint: str | None = None,
        connection: str | None = None,
    ) -> HandlerRun:
        handler = self._handler(handler_id)
        call = _Call(handler, trace_id, self)
        call.request = json.dumps(request)
        call.context = json.dumps(context)
        call.endpoint = endpoint
        call.connection = connection
        run = HandlerRun(handler=handler.id, name=handler.name, kind=handler.kind, ok=False)
        try:
            value = self._invoke(call)
            run.value = _wire(value)
            state = call.state
            payloads = dict(getattr(state, "_payloads", {}) or {})
            base = run.value if fallback is None else fallback
            events = [TriggeredEvent(t, payloads.get(t, base)) for t in triggers]
            for item in getattr(state, "_triggered", ()) or ():
                delay = timedelta(milliseconds=item[2]) if len(item) > 2 else None
                events.append(TriggeredEvent(item[0], item[1], delay))
            problems = [p for p in (self._payload_problem(e.name, e.payload) for e in events) if p]
            if problems:
                # As the engine: the call fails, publishing none of its events.
                raise ValueError(problems[0])
            run.triggered = events
            run.payloads = payloads
            run.ok = True
        except HarnessError:
            raise
        except BaseException as error:  # noqa: BLE001 - a handler's failure is its result
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            body = dispatch.failure(error, stack=False)
            run.error = _error_of(body)
            run.exception = error
            run.retryable = body.get("retryable", True) is not False
        run.logs = call.logs
        run.sent = call.sent
        return run

    def _invoke(self, call: _Call) -> Any:
        """Call the handler with its arguments built by `generated.dispatch`,
        with `print` and `logging` captured as its log lines."""
        context = contextvars.copy_context()
        context.run(dispatch.CALL.set, call)
        stdout, stderr = sys.stdout, sys.stderr
        root = logging.getLogger()
        capture = dispatch.LogHandler(lambda level, message, fields: None)
        level = root.level
        sys.stdout = dispatch.CapturedStream(stdout, "info")
        sys.stderr = dispatch.CapturedStream(stderr, "warn")
        root.addHandler(capture)
        root.setLevel(logging.INFO)  # as the engine sets it
        try:
            arguments = context.run(dispatch.arguments, call, _Host)
            if call.handler.is_async:
                if _loop_running():
                    raise HarnessError(
                        "the harness is synchronous and runs async handlers on its own event loop: "
                        "call it from a plain (not async) test function"
                    )
                if self._loop is None:
                    self._loop = asyncio.new_event_loop()
                coroutine = context.run(call.handler.function, *arguments)
                # Created inside `context`, the task runs in (a copy of) it.
                task = context.run(self._loop.create_task, coroutine)
                return self._loop.run_until_complete(task)
            return context.run(call.handler.function, *arguments)
        finally:
            context.run(dispatch.flush, call)
            sys.stdout, sys.stderr = stdout, stderr
            root.removeHandler(capture)
            root.setLevel(level)

    def _handler(self, handler_id: str) -> dispatch.Handler:
        handler = self._handlers.get(handler_id)
        if handler is not None:
            return handler
        spec = self._specs[handler_id]
        handlers, problems = dispatch.load([spec], self.project, self._modules)
        if problems:
            raise HarnessError(_describe_problem(problems[0]))
        handler = handlers.get(handler_id)
        if handler is None:
            raise HarnessError(f"`{handler_id}` has no function: expected one of {spec['functions']} in {spec['files']}")
        self._handlers[handler_id] = handler
        return handler

    # -- names

    def _known(self, table: dict[str, dict[str, Any]], name: str, kind: str) -> dict[str, Any]:
        found = table.get(name)
        if found is None:
            self._unknown(name, kind, list(table))
        return found  # type: ignore[return-value]

    @staticmethod
    def _unknown(name: str, kind: str, known: list[str]) -> None:
        listed = ", ".join(sorted(known)) or "none"
        raise HarnessError(f"no {kind} named `{name}` in the schema; the {kind}s are: {listed}")


class WsSession:
    """One client of a WebSocket endpoint: `connect()`, `message(..)`, `disconnect()`."""

    def __init__(self, harness: HarnessBase, name: str, table: dict[str, Any], connection_id: str, headers: dict[str, str]) -> None:
        self.harness = harness
        self.name = name
        self.table = table
        self.connection_id = connection_id
        self.headers = {str(k).lower(): str(v) for k, v in headers.items()}

    def _hooks(self, kind: str) -> list[str]:
        ids = [s["id"] for s in self.harness.TABLES.specs if s["kind"] == kind and s["id"].split(":")[1] == self.name]
        present = []
        for handler_id in ids:
            try:
                self.harness._handler(handler_id)
            except HarnessError:
                if self.harness._specs[handler_id].get("optional"):
                    continue  # a single-module ws without this function
                raise
            present.append(handler_id)
        return present

    def _context(self, kind: str, trace_id: str, payload: Any = None) -> dict[str, Any]:
        return {
            "handler_name": self.name,
            "payload": payload,
            "query_params": {},
            "metadata": {
                "connection_id": self.connection_id,
                "ws": self.name,
                "headers": self.headers,
                "trace_id": trace_id,
                "handler_kind": kind,
            },
        }

    def connect(self) -> WsStep:
        """The ws's middlewares, then its connect handlers; a refusal is the step's error."""
        trace_id = _trace_id()
        runs: list[HandlerRun] = []
        if self.table["middlewares"]:
            context = {"payload": None, "query_params": {}, "headers": self.headers, "ws": self.name, "trace_id": trace_id}
            refused, _ = self.harness._run_middlewares(self.table["middlewares"], context, trace_id, runs)
            if refused is not None:
                return WsStep(runs, [], refused.error)
        for handler_id in self._hooks("ws_connect"):
            run = self._run(handler_id, None, "ws_connect", trace_id)
            runs.append(run)
            if not run.ok:
                return WsStep(runs, self._sent(runs), run.error)
        return WsStep(runs, self._sent(runs))

    def message(self, message: Any) -> WsStep:
        """A message from this client: each message handler's reply is sent
        back (or broadcast); a failure sends the client the error."""
        trace_id = _trace_id()
        wire = _wire(message)
        runs: list[HandlerRun] = []
        error: HttpError | None = None
        for handler_id in self._hooks("ws_message"):
            run = self._run(handler_id, wire, "ws_message", trace_id, triggers=self.table["triggers"])
            runs.append(run)
            if not run.ok:
                error = run.error
                # The engine's error body, sent to this client alone.
                text = run.error.message if run.error else ""
                run.sent.append(Sent("send", self.connection_id, {"error": {"message": text, "trace_id": trace_id}}))
                continue
            self.harness._queue(run.triggered, trace_id, run.handler)
            if run.value is not None:
                if self.table["broadcast"]:
                    run.sent.append(Sent("broadcast", self.name, run.value))
                else:
                    run.sent.append(Sent("send", self.connection_id, run.value))
        return WsStep(runs, self._sent(runs), error)

    def disconnect(self) -> WsStep:
        trace_id = _trace_id()
        runs = [self._run(h, None, "ws_disconnect", trace_id) for h in self._hooks("ws_disconnect")]
        errors = [r.error for r in runs if r.error is not None]
        return WsStep(runs, self._sent(runs), errors[0] if errors else None)

    def _run(self, handler_id: str, message: Any, kind: str, trace_id: str, triggers: list[str] | None = None) -> HandlerRun:
        request = message if kind == "ws_message" else self._context(kind, trace_id)
        context = self._context(kind, trace_id, message)
        fallback = message if kind == "ws_message" else None
        return self.harness._run(
            handler_id,
            request,
            context,
            trace_id,
            triggers or [],
            fallback=fallback,
            endpoint=self.name,
            connection=self.connection_id,
        )

    @staticmethod
    def _sent(runs: list[HandlerRun]) -> list[Sent]:
        return [s for run in runs for s in run.sent]


def _event_request(message: PendingEvent) -> dict[str, Any]:
    """The event object a handler receives (the engine's `event_request`):
    the payload's fields at top level, then `payload`, `name`, `timestamp`
    and `trace_id` unless the payload has fields of those names."""
    request: dict[str, Any] = dict(message.payload) if isinstance(message.payload, dict) else {}
    for key, value in (
        ("payload", message.payload),
        ("name", message.name),
        ("timestamp", message.due.isoformat()),
        ("trace_id", message.trace_id),
    ):
        request.setdefault(key, value)
    request["payload"] = message.payload
    return request


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _trace_id() -> str:
    return uuid.uuid4().hex


def _describe_problem(problem: dict[str, Any]) -> str:
    kind = problem.get("kind")
    if kind == "missing":
        return f"handler `{problem['handler']}` has no file: looked for {', '.join(problem['looked_for'])}"
    if kind == "no_function":
        return f"handler `{problem['handler']}`: {problem['file']} has no function {problem['expected']}"
    return str(problem.get("message", problem))
