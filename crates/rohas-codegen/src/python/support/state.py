"""`State`: what a handler uses to log, trigger events and broadcast.

Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

The engine builds one `State(handler_name, trace_id, host, endpoint)` per
call (`endpoint` is the WebSocket endpoint of ws handlers). Log lines,
broadcasts and sends go to `host` at once. Events are only collected, in
`_triggered` and `_payloads` (already JSON-ready): the engine publishes them
after the handler succeeds, and drops them when it fails. A `_triggered`
entry is `(event, payload)`, or `(event, payload, delay_ms)` for a delayed
`trigger_event`: the host sends each as that list.

`State.now()` is the time handlers should read: the current UTC time under
the engine, the harness's fake clock in tests (a host with a `now()`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from generated.runtime import Connection, Host, PrintHost, to_wire, utc_now

__all__ = ["Connection", "Logger", "State"]


class Logger:
    """Structured log lines tagged with the handler, trace id and level:
    `state.logger.info("user created", user_id=user.id)`. The message is
    positional, so any name (even `message`) can be a field."""

    def __init__(self, host: Host) -> None:
        self._host = host

    def log(self, level: str, message: str, /, **fields: Any) -> None:
        """A line at `level` (trace, debug, info, warn or error)."""
        self._host.log(level, str(message), to_wire(fields))

    def trace(self, message: str, /, **fields: Any) -> None:
        self.log("trace", message, **fields)

    def debug(self, message: str, /, **fields: Any) -> None:
        self.log("debug", message, **fields)

    def info(self, message: str, /, **fields: Any) -> None:
        self.log("info", message, **fields)

    def warn(self, message: str, /, **fields: Any) -> None:
        self.log("warn", message, **fields)

    def warning(self, message: str, /, **fields: Any) -> None:
        """Same as `warn`, for those used to `logging`."""
        self.log("warn", message, **fields)

    def error(self, message: str, /, **fields: Any) -> None:
        self.log("error", message, **fields)


class State:
    """The handler's view of the engine: logging, events, WebSocket broadcast."""

    def __init__(
        self,
        handler_name: str,
        trace_id: str = "",
        host: Host | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.handler_name = handler_name
        self.trace_id = trace_id
        self.endpoint = endpoint
        self._host: Host = host if host is not None else PrintHost()
        self.logger = Logger(self._host)
        self._triggered: list[tuple[str, Any] | tuple[str, Any, int]] = []
        self._payloads: dict[str, Any] = {}

    def now(self) -> datetime:
        """The current time (aware, UTC). Read it here rather than from
        `datetime.now()`: tests move it with the harness's clock."""
        clock = getattr(self._host, "now", None)
        if callable(clock):
            now: datetime = clock()
            return now
        return utc_now()

    def trigger_event(
        self, name: str, payload: Any = None, delay: timedelta | float | None = None
    ) -> None:
        """Publish event `name` with `payload` once this handler succeeds.

        `delay` (a `timedelta`, or a number of seconds) holds the event back:
        it is delivered no earlier than that long after this handler
        succeeded. `state.trigger_event("Reminder", r, delay=timedelta(hours=1))`.
        """
        if delay is None:
            self._triggered.append((name, to_wire(payload)))
        else:
            self._triggered.append((name, to_wire(payload), _delay_ms(name, delay)))

    def set_payload(self, event: str, payload: Any) -> None:
        """Set the payload of `event`, one of this handler's `triggers`.
        Without it, a triggered event's payload is the handler's return value."""
        self._payloads[event] = to_wire(payload)

    def broadcast(self, message: Any, endpoint: str | None = None) -> None:
        """Send `message` to every client of WebSocket `endpoint` (by default
        the endpoint this ws handler serves)."""
        target = endpoint if endpoint is not None else self.endpoint
        if target is None:
            raise ValueError(
                f"{self.handler_name} is not a WebSocket handler: "
                "name the endpoint, as in state.broadcast(message, endpoint=\"Chat\")"
            )
        self._host.broadcast(target, to_wire(message))


def _delay_ms(event: str, delay: timedelta | float) -> int:
    """`delay` in whole milliseconds, rounded up: the event may come late,
    never early. Fails naming `event` for anything but a finite,
    non-negative duration."""
    if isinstance(delay, bool) or not isinstance(delay, (timedelta, int, float)):
        raise TypeError(
            f"the delay of event `{event}` must be a timedelta or a number of seconds, "
            f"not {type(delay).__name__}"
        )
    if isinstance(delay, timedelta):
        if delay < timedelta(0):
            raise ValueError(f"the delay of event `{event}` cannot be negative ({delay.total_seconds()} s)")
        # Exact: a timedelta counts whole microseconds.
        micros = (delay.days * 86_400 + delay.seconds) * 1_000_000 + delay.microseconds
    else:
        if not math.isfinite(delay):
            raise ValueError(f"the delay of event `{event}` must be a finite number of seconds, not {delay}")
        if delay < 0:
            raise ValueError(f"the delay of event `{event}` cannot be negative ({delay} s)")
        # Through whole microseconds, as timedelta rounds: `1.1` s is then
        # 1100 ms, not the 1101 that `ceil(1.1 * 1000)` gives.
        micros = round(delay * 1_000_000)
    return -(-micros // 1000)
