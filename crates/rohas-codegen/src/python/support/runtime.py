"""What every Python handler can use: `HandlerContext`, `HttpError`,
`NonRetryableError`, `Connection`, and the wire conversions of generated types.

Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

The contract with the engine's Python runtime
----------------------------------------------
The engine embeds CPython, imports handler modules and calls them; it builds
the objects below itself and passes each handler only the parameters its
annotations ask for.

* Data crosses the boundary as JSON-ready values (dicts, lists, str, int,
  float, bool, None). Generated types are built with `Type.from_wire(data)`
  and turned back with `to_wire(value)` (this module), which also accepts
  dataclasses, dicts, lists, datetimes, enums and pydantic models.
* `host` is any object with `log(level, message, fields)`,
  `broadcast(endpoint, message)` and `send(connection_id, message)`
  (`Host` below); messages and fields it receives are already JSON-ready.
* An api request is `<Api>Request.from_wire({<path params>, "query_params",
  "body", "headers"})`; an event is `<Event>.from_wire({<payload fields>,
  "payload", "name", "timestamp", "trace_id"})`; a context is
  `HandlerContext.from_wire({"handler_name", "payload", "query_params",
  "metadata"})`.
* A handler fails by raising: `HttpError(status, message, details)` answers
  that status, any other exception answers 500. An event handler's failed
  delivery is retried, unless it raised `NonRetryableError` (or a subclass):
  that message goes to the dead letters at once. The engine's host
  recognises both by class name, so a copy loaded from another path counts.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from typing import Any, Protocol

__all__ = [
    "Connection",
    "HandlerContext",
    "Host",
    "HttpError",
    "NonRetryableError",
    "PrintHost",
    "format_datetime",
    "parse_datetime",
    "to_wire",
    "utc_now",
]


class Host(Protocol):
    """What the engine provides while a handler runs."""

    def log(self, level: str, message: str, fields: dict[str, Any]) -> None:
        """One structured log line; `level` is trace, debug, info, warn or error."""

    def broadcast(self, endpoint: str, message: Any) -> None:
        """Send `message` to every client of WebSocket endpoint `endpoint`."""

    def send(self, connection_id: str, message: Any) -> None:
        """Send `message` to one WebSocket connection."""


class PrintHost:
    """A host for handlers run outside the engine (unit tests): prints to stderr."""

    def log(self, level: str, message: str, fields: dict[str, Any]) -> None:
        print(f"[{level}] {message} {fields if fields else ''}".rstrip(), file=sys.stderr)

    def broadcast(self, endpoint: str, message: Any) -> None:
        print(f"[broadcast] {endpoint}: {message}", file=sys.stderr)

    def send(self, connection_id: str, message: Any) -> None:
        print(f"[send] {connection_id}: {message}", file=sys.stderr)


class HttpError(Exception):
    """Raise it to answer with an HTTP status: `raise HttpError(404, "no such user")`.

    `details` (any JSON-ready value) is sent to the client beside the message.
    """

    def __init__(self, status: int, message: str = "", details: Any = None) -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}"


class NonRetryableError(Exception):
    """Raise it when retrying cannot help (a malformed order, a declined card):
    `raise NonRetryableError("order 7 has no lines")`.

    An event delivery that raises it is not retried: the message goes to the
    dead letters after this attempt. Anywhere else it answers 500 like any
    other exception. Subclass it to name your own permanent failures.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(kw_only=True)
class HandlerContext:
    """Everything the engine knows about one call, for handlers that ask for it."""

    handler_name: str = ""
    """The api, event handler, cron, ws or middleware name."""
    payload: Any = None
    """The request body or event payload, as JSON."""
    query_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    """URL query parameters (api handlers)."""
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Path parameters, headers, trace id, handler kind, attempt, connection id …"""

    @property
    def headers(self) -> dict[str, str]:
        """Request headers (lower-case names)."""
        headers = self.metadata.get("headers")
        if not isinstance(headers, Mapping):
            return {}
        return {str(k): str(v) for k, v in headers.items()}

    def header(self, name: str) -> str | None:
        """A request header, by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    @property
    def trace_id(self) -> str:
        """The trace this call belongs to."""
        return str(self.metadata.get("trace_id", ""))

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> HandlerContext:
        """Build a context from its JSON form."""
        return cls(
            handler_name=str(data.get("handler_name", "")),
            payload=data.get("payload"),
            query_params=dict(data.get("query_params") or {}),
            metadata=dict(data.get("metadata") or {}),
        )

    def to_wire(self) -> dict[str, Any]:
        """The JSON form (what a middleware returns to change the context)."""
        return {
            "handler_name": self.handler_name,
            "payload": to_wire(self.payload),
            "query_params": to_wire(self.query_params),
            "metadata": to_wire(self.metadata),
        }


class Connection:
    """One WebSocket client: its id, and `send` to reply to it alone."""

    def __init__(self, id: str, host: Host) -> None:
        self.id = id
        self._host = host

    def send(self, message: Any) -> None:
        """Send `message` (a generated type, dict, list, str …) to this client."""
        self._host.send(self.id, to_wire(message))

    def __repr__(self) -> str:
        return f"Connection(id={self.id!r})"


def utc_now() -> datetime:
    """The current time, in UTC (the default of `@default(now)` fields)."""
    return datetime.now(timezone.utc)


def parse_datetime(value: Any) -> datetime:
    """An RFC 3339 string (or a datetime) as an aware datetime."""
    if isinstance(value, datetime):
        return value
    if type(value) is str:
        # Python 3.11 reads RFC 3339 as the engine writes it (`Z` and all)
        # in a fifth of the time the general way below takes, which every
        # event's `timestamp` paid.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python before 3.11 reads only the ISO subset with an upper-case `T`.
    if len(text) > 10 and text[10] in "t ":
        text = text[:10] + "T" + text[11:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def format_datetime(value: datetime) -> str:
    """RFC 3339 text; a naive datetime is taken as local time."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.isoformat()


_PLAIN = frozenset((str, int, float, bool, type(None)))
"""Types that are JSON as they are (exactly these: a subclass, such as an
`IntEnum`, takes the general way)."""


def to_wire(value: Any) -> Any:
    """`value` as JSON-ready data: generated types, dataclasses, pydantic
    models, enums, datetimes, dicts, lists, tuples and sets, recursively."""
    # Plain data first, by exact type: a dict of numbers and strings (most
    # payloads) used to go through a dozen checks and three failed
    # attribute lookups before being found to be a mapping.
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        # A flat dict of plain values (most event payloads) is copied
        # whole: half the time of a call per value.
        for k, v in value.items():
            if type(k) is not str or type(v) not in _PLAIN:
                break
        else:
            return dict(value)
        return {k if type(k) is str else str(k): to_wire(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_wire(v) for v in value]
    if isinstance(value, enum.Enum):
        return to_wire(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    own = getattr(value, "to_wire", None)
    if callable(own) and not isinstance(value, type):
        return to_wire(own())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)  # pydantic 2
    if callable(dump):
        return to_wire(dump(mode="json"))
    legacy = getattr(value, "dict", None)  # pydantic 1
    if callable(legacy) and hasattr(value, "__fields__"):
        return to_wire(legacy())
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_wire(v) for v in value]
    raise TypeError(
        f"cannot send a {type(value).__name__} as JSON: return a generated type, "
        "a dataclass, dict, list, str, int, float, bool, None, datetime, enum or pydantic model"
    )
