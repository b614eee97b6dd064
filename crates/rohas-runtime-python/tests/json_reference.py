"""The JSON the Python runtime wrote before it was written in Rust: the
specification `src/json/` is tested against (`src/json/tests.rs`), and the
stand-in for `_rohas.dumps`/`_rohas.success` in `bench/http/host_micro.py`.

`wire_default`, `wire_top` and the encoder are as `host.py` had them; do
not change them to follow the Rust code: a difference is a bug there.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime
from datetime import time as dtime
from typing import Any


def wire_default(value: Any) -> Any:
    """What the JSON encoder calls for a value it cannot write itself (it
    writes dicts, lists, tuples, str, int, float, bool and None in C): the
    JSON form of generated types, dataclasses, pydantic models, enums,
    datetimes and sets. Containers are never walked in Python."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        return value.isoformat()
    if isinstance(value, (date, dtime)):
        return value.isoformat()
    own = getattr(value, "to_wire", None)
    if callable(own) and not isinstance(value, type):
        return own()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)  # pydantic 2
    if callable(dump):
        return dump(mode="json")
    legacy = getattr(value, "dict", None)  # pydantic 1
    if callable(legacy) and hasattr(value, "__fields__"):
        return legacy()
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(
        f"cannot send a `{type(value).__module__}.{type(value).__qualname__}` object as JSON: return a generated "
        "type, a dataclass, dict, list, str, int, float, bool, None, datetime, enum or pydantic model"
    )


def wire_top(value: Any) -> Any:
    """A returned generated object, or list of them, turned into dicts right
    away: the C encoder then writes them without calling back into Python
    once per object (the common `-> list[Item]` case)."""
    if type(value) is list:
        if value and hasattr(value[0], "to_wire"):
            return [v.to_wire() if hasattr(v, "to_wire") else v for v in value]
        return value
    own = getattr(value, "to_wire", None)
    if own is not None and not isinstance(value, type):
        return own()
    return value


# No cycle bookkeeping per container: a cyclic value ends in RecursionError,
# which `succeed` reports like any other unserializable value.
_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False, default=wire_default
)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def success(value: Any, triggered: Any, payloads: Any) -> str:
    """A successful call's reply, as `Runtime.succeed` wrote it."""
    return _encoder.encode({"value": wire_top(value), "triggered": [list(t) for t in triggered], "payloads": payloads})
