"""Checks of the Rust JSON writer (`_rohas.dumps`, `_rohas.success`) against
the Python encoder it replaced (`json_reference.py`), run inside the
embedded interpreter by `src/json/tests.rs`. Each check returns what
differed (empty when nothing did)."""

from __future__ import annotations

import dataclasses
import enum
import math
import random
import struct
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar

import _rohas
import json_reference as reference

TRIGGERED = [("Created", {"id": 1}), ("Later", [1, 2], 1500)]
PAYLOADS = {"Created": {"id": 1}}


# ---------------------------------------------------------------- the kinds of value


class Color(enum.Enum):
    RED = "red"
    GREEN = 2
    PAIR = (1, 2.5)


class Role(str, enum.Enum):
    ADMIN = "admin"
    GUEST = "gu\"est\n"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2**70


class Ratio(float, enum.Enum):
    HALF = 0.5


class Perm(enum.Flag):
    READ = 1
    WRITE = 2


@dataclasses.dataclass
class Point:
    x: Any
    y: Any
    kind: ClassVar[str] = "point"


@dataclasses.dataclass(kw_only=True)
class Item:
    """Shaped like a generated class: a dataclass with `to_wire`."""

    id: int
    name: str
    price: float
    active: bool
    tags: list[str]
    role: Role = Role.GUEST
    note: str | None = None

    def to_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "active": self.active,
            "tags": list(self.tags),
            "role": self.role.value,
        }
        if self.note is not None:
            data["note"] = self.note
        return data


class PydanticTwo:
    def __init__(self, data: Any) -> None:
        self.data = data

    def model_dump(self, mode: str = "python") -> Any:
        return {"mode": mode, "data": self.data}


class PydanticOne:
    __fields__ = {"a": None}

    def __init__(self, data: Any) -> None:
        self.data = data

    def dict(self) -> Any:
        return {"legacy": self.data}


class Text(str):
    def __repr__(self) -> str:
        return "nope"


class Number(int):
    def __repr__(self) -> str:
        return "nope"


class Real(float):
    def __repr__(self) -> str:
        return "nope"


class Backwards(list):
    def __iter__(self) -> Any:
        return reversed(list(super().__iter__()))


class Row(tuple):
    pass


class Sorted(dict):
    def items(self) -> Any:
        return sorted(super().items())


class BadItems(dict):
    def items(self) -> Any:
        return [(1, 2, 3)]


class WiredText(str):
    def to_wire(self) -> str:
        return "wired"


class NotCallable:
    to_wire = 5


class NoneWire:
    to_wire = None


class Opaque:
    pass


class Raising:
    @property
    def to_wire(self) -> Any:
        raise KeyError("from a property")


def values() -> list[Any]:
    east = timezone(timedelta(hours=5, minutes=30))
    odd = timezone(timedelta(hours=-3, seconds=7, microseconds=11))
    item = Item(id=1, name="a", price=1.5, active=True, tags=["x"])
    noted = Item(id=2, name="é\n", price=-0.0, active=False, tags=[], role=Role.ADMIN, note="n")
    out: list[Any] = [
        None, True, False, 0, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**100, -(10**50),
        0.0, -0.0, 1.0, 0.1, 1e16, 1e-5, 1.5e-7, 5e-324, 1.7976931348623157e308, float("nan"), float("inf"),
        -float("inf"), "", "plain", "a\"b\\c/d", "".join(map(chr, range(0x21))), "\x7f\x80é😀\u2028\ufeff",
        "\ud800", "a\udfffb", "\ud83d\ude00", [], (), {}, [[[]]], {"a": {"b": [1, (2, 3)]}},
        {1: "int", 1.5: "float", None: "none", False: "bool", -0.0: "zero", 10**30: "big"},
        {Level.LOW: 1, Role.ADMIN: 2, Text("t"): 3, Number(4): 4, Real(2.5): 5},
        {(1, 2): "tuple"}, {date(2020, 1, 2): 1}, {Color.RED: 1}, {float("nan"): 1}, {float("inf"): 1},
        Color.RED, Color.GREEN, Color.PAIR, Role.ADMIN, Role.GUEST, Level.LOW, Level.HIGH, Ratio.HALF,
        Perm.READ, Perm.READ | Perm.WRITE,
        datetime(2024, 2, 29, 12, 30, 5), datetime(2024, 2, 29, 12, 30, 5, 123), datetime(1999, 1, 1, tzinfo=timezone.utc),
        datetime(2000, 6, 1, 1, 2, 3, 456789, tzinfo=east), datetime(2000, 6, 1, tzinfo=odd),
        datetime(2021, 11, 7, 1, 30, fold=1), datetime.min, datetime.max.replace(tzinfo=timezone.utc),
        date(1, 1, 1), date(9999, 12, 31), time(), time(23, 59, 59, 999999), time(1, 2, tzinfo=east),
        {1, 2, 3}, frozenset({"a"}), set(), {(1, 2)}, [{1, 2}, frozenset()],
        Point(1, 2.5), Point(Point(None, [Color.RED]), {"k": Point(1, 2)}), item, noted, [item, noted],
        [item, {"plain": 1}, item], [{"plain": 1}, item], (item, item), {"items": [item]},
        PydanticTwo([1, Color.GREEN]), PydanticOne({"x": 1}),
        Text("sub\nclass"), Number(7), Number(2**80), Real(0.25), Real(1e300),
        Backwards([1, 2, 3]), Backwards(), Row((1, "a")), Sorted({"b": 1, "a": 2}), Sorted(), BadItems({"x": 1}),
        WiredText("raw"), [WiredText("a"), "b"], NotCallable(), NoneWire(), Opaque(), object(), Item, int,
        Raising(), [1, Opaque()], {"key": object()}, b"bytes", bytearray(b"x"), 1j, Ellipsis,
    ]
    return out


# ---------------------------------------------------------------- comparing


def outcome(write: Any, *args: Any) -> tuple[str, str]:
    try:
        return ("ok", str(write(*args)))
    except RecursionError:
        return ("RecursionError", "")
    except Exception as e:  # noqa: BLE001 - the error is the outcome
        return (type(e).__name__, str(e))


def has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def mismatch(value: Any) -> str | None:
    """How `_rohas` and the reference differ on `value`, if they do."""
    expected = outcome(reference.dumps, value)
    got = outcome(_rohas.dumps, value)
    if got != expected:
        return f"dumps({value!r}): json gave {expected!r}, Rust gave {got!r}"
    expected = outcome(reference.success, value, TRIGGERED, PAYLOADS)
    got = outcome(_rohas.success, value, TRIGGERED, PAYLOADS)
    if expected[0] == "ok" and has_surrogate(expected[1]):
        # `json` put the surrogate in a str the engine could never read;
        # the Rust reply says so instead.
        if got[0] != "ValueError" or "lone surrogate" not in got[1]:
            return f"success({value!r}) with a lone surrogate: Rust gave {got!r}"
        return None
    if got != expected:
        return f"success({value!r}): json gave {expected!r}, Rust gave {got!r}"
    return None


def fixed_mismatches() -> list[str]:
    return [m for m in map(mismatch, values()) if m is not None]


def float_mismatches(count: int) -> list[str]:
    """Floats from random bits, subnormals, and both sides of every power of
    two and ten, against `repr`."""
    rng = random.Random(19)
    floats = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(count)]
    floats += [struct.unpack("<d", struct.pack("<Q", rng.randrange(1, 2**52)))[0] for _ in range(count // 10)]
    for e in range(-1074, 1024):
        floats.append(math.ldexp(1.0, e))
    for e in range(-325, 309):
        floats.append(float(f"1e{e}"))
    for f in list(floats[-3000:]):
        floats += [math.nextafter(f, math.inf), math.nextafter(f, -math.inf)]
    floats += [-f for f in floats[:1000]]
    wrong = []
    for f in floats:
        if not math.isfinite(f):
            continue
        got = _rohas.dumps(f)
        if got != repr(f):
            wrong.append(f"{f!r} written as {got}")
    return wrong[:20]


def nesting() -> list[str]:
    """Deep values are written; cyclic ones raise RecursionError (no crash)."""
    wrong = []
    deep: Any = "x"
    for _ in range(900):
        deep = [deep]
    if _rohas.dumps(deep) != "[" * 900 + '"x"' + "]" * 900:
        wrong.append("900 nested lists")
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    looped: dict[str, Any] = {}
    looped["self"] = {"again": looped}
    through: list[Any] = []
    through.append(Point(through, 1))
    for value in (cyclic, looped, through):
        for write in (_rohas.dumps, lambda v: _rohas.success(v, [], {})):
            kind = outcome(write, value)[0]
            if kind != "RecursionError":
                wrong.append(f"a cyclic {type(value).__name__} gave {kind}")
    return wrong


# ---------------------------------------------------------------- generated values


def first_mismatch(values: Any, examples: int) -> str | None:
    """Runs `mismatch` over `examples` values of hypothesis strategy
    `values` (seeded: the same values every run): the first difference,
    shrunk, or None."""
    from hypothesis import HealthCheck, given, settings

    found: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(values)
    def same(value: Any) -> None:
        problem = mismatch(value)
        if problem is not None:
            found[:] = [problem]
            raise AssertionError(problem)

    try:
        same()
    except AssertionError:
        return found[0] if found else "hypothesis failed"
    return None


def property_mismatch(examples: int) -> str | None:
    """Generated values (hypothesis): the first difference, shrunk."""
    from hypothesis import strategies as st

    offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59))
    zones = st.none() | st.just(timezone.utc) | st.builds(timezone, offsets)
    text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(),
        st.floats(width=32),
        st.floats(min_value=-1e-300, max_value=1e-300),
        text,
        st.sampled_from([*Color, *Role, *Level, *Ratio]),
        st.datetimes(timezones=zones, min_value=datetime(2, 1, 1), max_value=datetime(9998, 1, 1)),
        st.dates(),
        st.times(timezones=zones),
        st.sets(st.integers(), max_size=5),
        st.frozensets(st.integers(min_value=-300, max_value=300), max_size=5),
    )
    keys = st.one_of(text, st.integers(), st.floats(), st.booleans(), st.none(), st.sampled_from([*Level, *Role]))
    items = st.builds(
        Item,
        id=st.integers(),
        name=text,
        price=st.floats(allow_nan=False, allow_infinity=False),
        active=st.booleans(),
        tags=st.lists(text, max_size=3),
        role=st.sampled_from(list(Role)),
        note=st.none() | text,
    )

    def containers(children: Any) -> Any:
        return st.one_of(
            st.lists(children, max_size=5),
            st.lists(children, max_size=5).map(tuple),
            st.dictionaries(keys, children, max_size=5),
            st.builds(Point, children, children),
            st.builds(PydanticTwo, children),
            st.lists(items, max_size=3),
        )

    value = st.recursive(scalars | items, containers, max_leaves=25)
    return first_mismatch(value, examples)


# ---------------------------------------------------------------- generated records
#
# Classes generated by the real codegen for `tests/wire_schema`: the Rust
# writer walks them (their `__rohas_wire__`) instead of calling `to_wire`,
# and must write what `to_wire()` and the reference encoder write.


def generated(src: str) -> Any:
    """The classes of the project whose code is in `src`. `generated` is
    forgotten afterwards (sys.path and sys.modules), so that another
    project's can be imported later in the same interpreter."""
    import importlib
    import sys
    import types

    sys.path.insert(0, src)
    try:
        order = importlib.import_module("generated.models.Order")
        line = importlib.import_module("generated.models.Line")
        customer = importlib.import_module("generated.models.Customer")
        status = importlib.import_module("generated.models.Status")
    finally:
        sys.path.remove(src)
        for name in [m for m in sys.modules if m == "generated" or m.startswith("generated.")]:
            del sys.modules[name]
    return types.SimpleNamespace(
        Order=order.Order,
        Address=order.OrderAddress,
        Geo=order.OrderAddressGeo,
        History=order.OrderHistory,
        Line=line.Line,
        Customer=customer.Customer,
        Status=status.Status,
    )


def record_values(g: Any) -> list[Any]:
    """Orders and lines as handlers build them, and as they should not."""
    S = g.Status
    east = timezone(timedelta(hours=5, minutes=30))
    line = g.Line(sku="a", qty=1)
    child = g.Line(sku='b\n"é', qty=2, parent=line)

    def order(**changes: Any) -> Any:
        fields: dict[str, Any] = dict(
            id=1,
            created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            status=S.OPEN,
            total=1.5,
            lines=[line, child],
            gifts=[None, line],
            labels=[S.OPEN, S.paidInFull],
            maybe=[None, S.CLOSED],
            stamps=[datetime(2020, 1, 1, tzinfo=east), datetime(2020, 6, 1, 12, 30, 1, 5)],
            tags=["x", "é\u2028"],
            aliases=[None, "y"],
            grid=[[1, 2], []],
            address=g.Address(street="s"),
            history=[g.History(at=datetime(1999, 12, 31, 23, 59, tzinfo=east)), g.History(at=datetime(2000, 1, 1), note="n")],
        )
        fields.update(changes)
        return g.Order(**fields)

    class Special(g.Line):  # type: ignore[misc, name-defined]
        def to_wire(self) -> dict[str, Any]:
            return {"special": self.sku}

    class Inherits(g.Line):  # type: ignore[misc, name-defined]
        extra = "not written"

    class Liar(g.Line):  # type: ignore[misc, name-defined]
        __rohas_wire__ = (g.Line.to_wire, (("sku", "lie", False, ""),))

    class Patched(g.Line):  # type: ignore[misc, name-defined]
        pass

    Patched.to_wire = lambda self: {"patched": self.qty}  # type: ignore[method-assign]

    class Later(g.Line):  # type: ignore[misc, name-defined]
        @property
        def to_wire(self) -> Any:
            return lambda: {"property": True}

    instance = g.Line(sku="i", qty=3)
    instance.to_wire = lambda: {"instance": 1}
    cyclic = g.Line(sku="c", qty=0)
    cyclic.parent = cyclic
    deep = g.Line(sku="d", qty=0)
    for n in range(300):
        deep = g.Line(sku="d", qty=n, parent=deep)

    everything = order(
        paid_at=datetime(2024, 2, 29, 12, 0, 0, 1),
        previous=S.CLOSED,
        note="note",
        buyer=g.Customer(name="c", vip=True, meta={"k": [1, S.OPEN, line], 2: None}),
        address=g.Address(street="s", geo=g.Geo(lat=1.0, lng=-0.0)),
        class_="first",
    )
    out: list[Any] = [
        order(),
        everything,
        [order(), everything],
        {"orders": [order()], "one": everything},
        (order(), line),
        Point(order(), [child]),
        [1, order()],
        [line, {"plain": 1}, child],
        [],
        line,
        child,
        deep,
        g.Address(street="s", geo=g.Geo(lat=2**70, lng=float("inf"))),
        g.Customer(name="c", vip=False),
        # Values the annotations do not allow, which `to_wire` still takes.
        order(tags=("t", 1)),
        order(tags="abc"),
        order(tags=Backwards([1, 2, 3])),
        order(tags={"k": 1, "j": 2}),
        order(tags=5),
        order(tags=[Color.GREEN, Opaque()]),
        order(grid=[(1, 2), Backwards([3, 4]), "ab"]),
        order(grid=[1]),
        order(status="OPEN"),
        order(status=Color.PAIR),
        order(status=None),
        order(labels=[Role.ADMIN, Level.HIGH]),
        order(labels=["x"]),
        order(maybe=[None, 1]),
        order(previous=Color.RED),
        order(created_at=date(2020, 1, 1)),
        order(created_at="2020-01-01"),
        order(created_at=None),
        order(stamps=[datetime(2020, 1, 1, fold=1), datetime.max.replace(tzinfo=timezone.utc)]),
        order(stamps=datetime(2020, 1, 1)),
        order(lines=[line, {"sku": "dict"}]),
        order(lines=[Item(id=1, name="i", price=2.0, active=True, tags=[])]),
        order(lines=(line,)),
        order(lines=None),
        order(gifts=[None, None, child]),
        order(history=[]),
        order(id=2**70, total=-0.0),
        order(id=True, total=1e300),
        order(note=Text("sub")),
        order(total=float("nan")),
        order(total=float("nan"), status="bad"),
        order(note="\ud800"),
        order(note="\ud800", status="bad"),
        order(lines=[line, Opaque()]),
        order(lines=[cyclic]),
        cyclic,
        [line, cyclic],
        order(lines=[Special(sku="s", qty=1), Inherits(sku="h", qty=2), Liar(sku="l", qty=3)]),
        [Patched(sku="p", qty=4), Later(sku="t", qty=5), instance],
        Special(sku="s", qty=1),
        Liar(sku="l", qty=3),
        Patched(sku="p", qty=4),
        instance,
        order(buyer=g.Customer(name="c", vip=True, meta={True: 1, 1.5: [date(2020, 1, 1)]})),
        order(buyer=g.Customer(name="c", vip=True, meta=Opaque())),
        g.Order,
        [g.Line, line],
    ]
    return out


def generated_mismatches(src: str) -> list[str]:
    """Generated records against `to_wire()` and the reference; and that
    the plain ones are written without calling `to_wire` at all."""
    g = generated(src)
    wrong = [m for m in map(mismatch, record_values(g)) if m is not None]
    for cls in (g.Order, g.Address, g.Geo, g.History, g.Line):
        if cls.__dict__.get("__rohas_wire__", (None,))[0] is not cls.__dict__["to_wire"]:
            wrong.append(f"{cls.__qualname__} has no description of its to_wire")
    if "__rohas_wire__" in g.Customer.__dict__:
        wrong.append("Customer (a Json field) has a description")
    order = record_values(g)[0]
    for write in (_rohas.dumps, lambda v: _rohas.success(v, [], {})):
        calls = to_wire_calls(write, [order, order])
        if calls:
            wrong.append(f"writing two orders called to_wire {calls} times")
    if not to_wire_calls(reference.dumps, order):
        wrong.append("counting to_wire calls counts nothing")
    return wrong


def to_wire_calls(write: Any, value: Any) -> int:
    """How many `to_wire` functions written in Python ran while `write`
    wrote `value`."""
    import sys

    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_name == "to_wire":
            calls += 1

    sys.setprofile(profile)
    try:
        write(value)
    finally:
        sys.setprofile(None)
    return calls


def generated_property_mismatch(src: str, examples: int) -> str | None:
    """Generated orders and lines (hypothesis), optional fields set or not,
    now and then holding what their annotations do not allow: the first
    difference, shrunk."""
    from hypothesis import strategies as st

    g = generated(src)
    S = g.Status
    offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59))
    zones = st.none() | st.just(timezone.utc) | st.builds(timezone, offsets)
    stamps = st.datetimes(timezones=zones, min_value=datetime(2, 1, 1), max_value=datetime(9998, 1, 1))
    text = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
    odd = st.sampled_from([None, "x", 1, Color.RED, Role.ADMIN, date(2020, 1, 1), (1, 2), Opaque()])
    statuses = st.sampled_from(list(S)) | st.sampled_from([Role.GUEST, "OPEN"])
    numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)

    def lines(depth: int) -> Any:
        parent = st.none() if depth == 0 else st.none() | lines(depth - 1)
        return st.builds(g.Line, sku=text, qty=st.integers(), parent=parent)

    line = lines(2)
    maybe = st.none
    address = st.builds(
        g.Address, street=text, geo=maybe() | st.builds(g.Geo, lat=numbers, lng=numbers)
    )
    history = st.builds(g.History, at=stamps, note=maybe() | text)
    customer = st.builds(g.Customer, name=text, vip=st.booleans(), meta=maybe() | st.dictionaries(text, numbers))

    def either(right: Any) -> Any:
        """Mostly what the annotation says; now and then not."""
        return st.one_of(right, right, right, right, right, right, right, right, right, odd)

    orders = st.builds(
        g.Order,
        id=either(st.integers()),
        created_at=either(stamps),
        paid_at=maybe() | either(stamps),
        status=either(statuses),
        previous=maybe() | either(statuses),
        note=maybe() | either(text),
        total=either(numbers | st.floats()),
        lines=either(st.lists(either(line), max_size=3) | st.lists(line, max_size=2).map(tuple)),
        gifts=st.lists(maybe() | line, max_size=3),
        labels=st.lists(either(statuses), max_size=3),
        maybe=st.lists(maybe() | statuses, max_size=3),
        stamps=st.lists(either(stamps), max_size=3),
        tags=either(st.lists(text, max_size=3) | st.lists(text, max_size=3).map(tuple)),
        aliases=st.lists(maybe() | text, max_size=3),
        grid=st.lists(st.lists(st.integers(), max_size=3) | st.tuples(st.integers()), max_size=3),
        buyer=maybe() | customer,
        address=either(address),
        history=st.lists(either(history), max_size=2),
        class_=maybe() | text,
    )
    value = st.one_of(orders, line, st.lists(orders | line, max_size=3), st.dictionaries(text, orders, max_size=2))
    return first_mismatch(value, examples)


# ---------------------------------------------------------------- measuring


def measure(project: str, rounds: int) -> list[str]:
    """µs per reply of GET /objects (the bench app's 100 generated `Item`s)
    and of one `Item`: written by the Python encoder the runtime had, by
    `_rohas.success` calling each `to_wire` (a subclass whose `to_wire` is
    its own, which the writer does not walk), and by `_rohas.success`
    walking the records: best of five runs of `rounds` replies each."""
    import asyncio
    import sys
    import timeit

    sys.path.insert(0, project + "/src")
    from handlers.api.objects import handler  # type: ignore[import-not-found]

    items = asyncio.run(handler())
    Item = type(items[0])
    Called = type("Called", (Item,), {"to_wire": Item.to_wire})
    called = [Called(**{f.name: getattr(i, f.name) for f in dataclasses.fields(i)}) for i in items]
    assert str(_rohas.success(items, [], {})) == reference.success(items, [], {})
    assert str(_rohas.success(called, [], {})) == reference.success(items, [], {})
    assert to_wire_calls(lambda v: _rohas.success(v, [], {}), items) == 0
    lines = []
    for reply, walked, calling in (("/objects", items, called), ("one Item", items[0], called[0])):
        for name, write, value in (
            ("json (before)", reference.success, walked),
            ("Rust, to_wire", _rohas.success, calling),
            ("Rust, walked", _rohas.success, walked),
        ):
            best = min(timeit.repeat(lambda: write(value, [], {}), number=rounds, repeat=5))
            lines.append(f"{name:14} {best / rounds * 1e6:8.2f} µs per {reply} reply")
    return lines
