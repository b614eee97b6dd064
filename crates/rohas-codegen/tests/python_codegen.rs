//! The Python generator: snapshots of the generated package and stubs for
//! fixture schemas, the wire behaviour of the generated classes under a real
//! `python3`, and `mypy --strict` on generated projects (every construct with
//! its stubs, reserved words, every reference handler example placed as a handler, and
//! the project `rohas init --lang python` creates).
//!
//! The interpreter is `$ROHAS_TEST_PYTHON` or `python3`. Tests that need it
//! (or mypy in it) print why they skip when it is missing, and pass.

mod common;

use common::checkers::{mypy_strict, python, python_can, python_codegen, write};
use common::{fixture, load};
use rohas_codegen::init::init_project;
use rohas_codegen::{handler_specs, python, GeneratedFile};
use rohas_runtime::Language;
use rohas_schema::Schema;
use std::path::Path;
use std::process::Command;

/// The modules of `support/`, the same in every project.
const SUPPORT: &[&str] = &["runtime.py", "state.py", "dispatch.py", "harness.py"];

fn is_support(path: &str) -> bool {
    SUPPORT.iter().any(|name| path.ends_with(&format!("generated/{name}")))
}

/// All files in one text; the fixed support modules are left out unless
/// `support` (they do not depend on the schema).
fn render(files: &[GeneratedFile], support: bool) -> String {
    let mut out = String::new();
    for f in files {
        let path = f.path.to_string_lossy().replace('\\', "/");
        if !support && is_support(&path) {
            continue;
        }
        out.push_str(&format!("==> {path} <==\n{}\n", f.contents));
    }
    out
}

fn stubs_of(schema: &Schema) -> Vec<GeneratedFile> {
    let specs = handler_specs(schema, Language::Python);
    let mut stubs = python::stubs(schema, &specs);
    assert_eq!(stubs.len(), specs.len(), "one stub per spec");
    stubs.dedup_by(|a, b| a.path == b.path);
    stubs
}

#[test]
fn all_constructs() {
    let schema = load(&fixture("python_all.ro"));
    insta::assert_snapshot!(render(&python::generate(&schema), false));
}

#[test]
fn all_constructs_stubs() {
    let schema = load(&fixture("python_all.ro"));
    insta::assert_snapshot!(render(&stubs_of(&schema), false));
}

#[test]
fn support_modules() {
    let schema = load(&fixture("python_seed.ro"));
    let files = python::generate(&schema);
    let support: Vec<GeneratedFile> = files
        .into_iter()
        .filter(|f| is_support(&f.path.to_string_lossy()))
        .collect();
    assert_eq!(support.len(), SUPPORT.len());
    insta::assert_snapshot!(render(&support, true));
}

#[test]
fn reserved_words() {
    let schema = load(&fixture("python_reserved.ro"));
    let text = render(&python::generate(&schema), false);
    // Escaped attributes, the schema's names on the wire.
    assert!(text.contains("    class_: str\n"), "{text}");
    assert!(text.contains("    self_: str\n"));
    assert!(text.contains("    async_: bool\n"));
    assert!(text.contains("    from_: datetime\n"));
    assert!(text.contains("    str_: str\n"));
    assert!(text.contains("    to_wire_: str\n"));
    assert!(text.contains("class_=str(data[\"class\"]),"));
    assert!(text.contains("\"from\": format_datetime(self.from_),"));
    // Enum members that Python or `Enum` reserve.
    assert!(text.contains("    class_ = \"class\"\n"));
    assert!(text.contains("    value_ = \"value\"\n"));
    assert!(text.contains("    None_ = \"None\"\n"));
    // A model named like the handler's `State` is imported under another name.
    let stubs = stubs_of(&schema);
    let status = &stubs
        .iter()
        .find(|f| f.path == Path::new("src/handlers/api/status.py"))
        .unwrap()
        .contents;
    assert!(
        status.contains("from generated.models.State import State as State_\n"),
        "{status}"
    );
    assert!(status.contains("from generated.state import State\n"), "{status}");
    assert!(status.contains("    return State_(id=0)\n"), "{status}");
    insta::assert_snapshot!(text);
}

#[test]
fn output_is_deterministic() {
    let schema = load(&fixture("python_all.ro"));
    assert_eq!(python::generate(&schema), python::generate(&schema));
    assert_eq!(stubs_of(&schema), stubs_of(&schema));
}

#[test]
fn every_declaration_has_its_module() {
    let schema = load(&fixture("python_all.ro"));
    let files = python::generate(&schema);
    let has = |p: &str| files.iter().any(|f| f.path == Path::new(p));
    for decl in &schema.types {
        assert!(has(&format!("src/generated/models/{}.py", decl.name)));
    }
    for api in &schema.apis {
        assert!(has(&format!("src/generated/api/{}.py", api.name)));
    }
    for event in &schema.events {
        assert!(has(&format!("src/generated/events/{}.py", event.name)));
    }
    for ws in &schema.websockets {
        assert!(has(&format!("src/generated/websockets/{}.py", ws.name)));
    }
    for package in ["", "models/", "api/", "events/", "websockets/"] {
        assert!(has(&format!("src/generated/{package}__init__.py")));
    }
    // The imports the reference examples use.
    let create_user = files
        .iter()
        .find(|f| f.path == Path::new("src/generated/api/CreateUser.py"))
        .unwrap();
    assert!(create_user.contents.contains("\"CreateUserInput\""));
    assert!(create_user.contents.contains("\"User\""));
    assert!(create_user.contents.contains("CreateUserResponse: TypeAlias = User"));
}

// ---- running Python -------------------------------------------------------

/// A project with `schema` (a fixture file), the given handler files, and codegen.
fn project(schema: &str, handlers: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture(schema)).unwrap();
    write(dir.path(), Path::new("schema/app.ro"), &text);
    for (path, contents) in handlers {
        write(dir.path(), Path::new(path), contents);
    }
    let schema = load(&dir.path().join("schema"));
    python_codegen(dir.path(), &schema);
    dir
}

#[test]
fn mypy_strict_passes_on_every_construct_and_its_stubs() {
    let dir = project("python_all.ro", &[]);
    mypy_strict(dir.path());
}

#[test]
fn mypy_strict_passes_on_reserved_words() {
    let dir = project("python_reserved.ro", &[]);
    mypy_strict(dir.path());
}

/// The reference Python handler examples (fragments in the style of
/// docs/handlers.md), unmodified; where a fragment uses a name it never
/// defines, the lines marked "not in the seed" (the fragments' own marker)
/// define it.
const SEED_EXAMPLES: &[(&str, &str)] = &[
    (
        "src/handlers/api/health.py",
        r#"from generated.api.Health import HealthResponse
from datetime import datetime

async def handler() -> HealthResponse:
    return HealthResponse(
        status="ok",
        timestamp=datetime.now().isoformat()
    )
"#,
    ),
    (
        "src/handlers/api/context.py",
        r#"# ---- not in the seed: the fragment uses a `Response` it never defines.
from generated.api.Context import ContextResponse as Response
# ---- the seed's fragment:
from generated.runtime import HandlerContext

async def handler(context: HandlerContext) -> Response:
    payload = context.payload
    query_params = context.query_params
    # Use context data
"#,
    ),
    (
        "src/handlers/api/create_user.py",
        r#"from generated.api.CreateUser import CreateUserInput, User
from datetime import datetime

async def handler(input: CreateUserInput) -> User:
    # Process input
    return User(
        id=1,
        name=input.name,
        email=input.email,
        created_at=datetime.now()
    )
"#,
    ),
    (
        "src/handlers/events/send_welcome_email.py",
        r#"from generated.events.UserCreated import UserCreated

async def handler(event: UserCreated) -> None:
    print(f"User created: {event.user_id}")
    # Process event
"#,
    ),
    (
        "src/handlers/cron/daily_cleanup.py",
        r#"async def handler() -> None:
    # Scheduled task logic
    print("Running scheduled cleanup")
"#,
    ),
    (
        "src/handlers/websockets/chat.py",
        r#"# ---- not in the seed: the fragment uses `HandlerContext` without importing it.
from generated.runtime import HandlerContext
# ---- the seed's fragment:
from generated.websockets.Chat import WebSocketMessage

async def on_connect(context: HandlerContext) -> None:
    print("Client connected")

async def on_message(message: WebSocketMessage, context: HandlerContext) -> None:
    # Handle message
    pass

async def on_disconnect(context: HandlerContext) -> None:
    print("Client disconnected")
"#,
    ),
    (
        "src/handlers/api/failing.py",
        r#"# ---- not in the seed: the fragment uses a `Response` it never defines.
from generated.api.Failing import FailingResponse as Response
# ---- the seed's fragment:
async def handler() -> Response:
    try:
        # Your logic
        return {"success": True}
    except Exception as e:
        raise Exception(f"Handler failed: {str(e)}")
"#,
    ),
    (
        "src/handlers/api/debugging.py",
        r#"# mypy: allow-untyped-defs
# ---- not in the seed: the fragment's handler has no annotations, which
# `--strict` rejects unless the file allows it (line above).
# ---- the seed's fragment:
import logging

logger = logging.getLogger(__name__)

async def handler():
    logger.info("Debug info: %s", data)
    # Handler logic

# ---- not in the seed: the fragment logs a `data` it never defines.
data = {"example": True}
"#,
    ),
];

/// The reference dependency example: needs `requests` and its type stubs.
const SEED_DEPENDENCY: (&str, &str) = (
    "src/handlers/api/dependency.py",
    r#"# mypy: allow-untyped-defs
# ---- not in the seed: the fragment's handler has no annotations, which
# `--strict` rejects unless the file allows it (line above).
# ---- the seed's fragment:
import requests

async def handler():
    response = requests.get("https://api.example.com")
    return response.json()
"#,
);

#[test]
fn mypy_strict_passes_on_the_seed_examples() {
    let mut handlers = SEED_EXAMPLES.to_vec();
    let has_requests = python_can("import requests, importlib.metadata as m; m.version('types-requests')");
    if has_requests {
        handlers.push(SEED_DEPENDENCY);
    } else {
        eprintln!(
            "the seed's `requests` example is left out: `{}` lacks requests or types-requests",
            python()
        );
    }
    let dir = project("python_seed.ro", &handlers);
    // The examples are the handlers, not stubs.
    for (path, contents) in &handlers {
        let on_disk = std::fs::read_to_string(dir.path().join(path)).unwrap();
        assert_eq!(&on_disk, contents, "{path} kept");
    }
    mypy_strict(dir.path());
}

#[test]
fn mypy_strict_passes_on_the_init_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    init_project(&root, "app", Language::Python, None).unwrap();
    let schema = load(&root.join("schema"));
    python_codegen(&root, &schema);
    mypy_strict(&root);
}

/// Behaviour of the generated classes under a real interpreter: wire round
/// trips, import cycles, `State` effects, `to_wire`.
const BEHAVIOUR: &str = r#"
import dataclasses
import importlib
import sys
import typing
from datetime import datetime, timezone
from enum import Enum

# Records that refer to each other import in either order.
importlib.import_module("generated.models." + sys.argv[1])

from generated.api.CreateUser import CreateUserInput, CreateUserRequest, User
from generated.api.UpdatePost import UpdatePostRequest
from generated.events.UserCreated import UserCreated
from generated.events.UserRegistered import UserRegistered, UserRegisteredPayload
from generated.models.Role import Role
from generated.runtime import HandlerContext, HttpError, NonRetryableError, parse_datetime, to_wire
from generated.state import State
from datetime import timedelta

post = {"id": 2, "title": "t", "author": None, "status": "DONE_NOW", "labels": ["GUEST"]}
user = {
    "id": 1, "name": "Ada", "email": "ada@example.com", "nickname": "ada",
    "createdAt": "2024-05-01T10:00:00Z", "role": "ADMIN", "score": 2, "active": False,
    "motto": "hi", "posts": [post], "tags": ["a"], "meta": {"k": [1, None]},
    "address": {"street": "s", "city": "c", "geo": {"lat": 1.5, "lng": 2.0}},
    "history": [{"at": "2024-05-01T12:00:00+02:00", "note": "n"}],
    "aliases": [None, "b"], "seenAt": ["2024-05-01T10:00:00+00:00"],
    "bestFriend": {
        "id": 3, "name": "B", "email": "b@example.com", "posts": [], "tags": [],
        "address": {"street": "s", "city": "c"}, "history": [], "aliases": [], "seenAt": [],
    },
}

u = User.from_wire(user)
assert u.created_at == datetime(2024, 5, 1, 10, tzinfo=timezone.utc), u.created_at
assert u.role is Role.ADMIN and isinstance(u.score, float)
assert u.posts[0].labels == [Role.GUEST] and u.address.geo is not None
assert u.best_friend is not None and u.best_friend.role is Role.MEMBER  # @default(MEMBER)
assert u.best_friend.nickname is None and u.best_friend.motto == 'carpe "diem"'
wire = u.to_wire()
assert wire["createdAt"] == "2024-05-01T10:00:00+00:00"
assert wire["posts"][0] == {"id": 2, "title": "t", "status": "DONE_NOW", "labels": ["GUEST"]}
assert "nickname" not in wire["bestFriend"], "None optionals are left out"
assert User.from_wire(wire) == u, "round trip"

# Every annotation resolves at run time (no name only visible to mypy).
for module in ["generated.models.User", "generated.models.Post", "generated.api.UpdatePost",
               "generated.events.UserCreated", "generated.websockets.Notifications"]:
    for value in vars(importlib.import_module(module)).values():
        if dataclasses.is_dataclass(value):
            typing.get_type_hints(value)

req = UpdatePostRequest.from_wire({
    "userId": "7", "postId": "9", "query_params": {"q": "x"},
    "body": {"title": "T", "tags": []}, "headers": {"x-a": "1"},
})
assert (req.user_id, req.post_id, req.body.title, req.headers) == ("7", "9", "T", {"x-a": "1"})
assert req.to_wire()["userId"] == "7"
create = CreateUserRequest(body=CreateUserInput(name="n", email="e"))
assert create.query_params == {} and create.body.role is None

event = UserCreated.from_wire({"payload": user, "name": "UserCreated",
                               "timestamp": "2024-05-02T00:00:00Z", "trace_id": "tr"})
assert event.id == 1 and event.name == "Ada" and event.payload.email == "ada@example.com"
assert event.trace_id == "tr" and event.timestamp.year == 2024
message = event.to_wire()
assert message["payload"]["id"] == 1 and message["id"] == 1 and message["name"] == "Ada"
registered = UserRegistered.from_payload(
    UserRegisteredPayload.from_wire(
        {"userId": 5, "name": "n", "source": {"kind": "web"}, "timestamp": "2024-01-01T00:00:00Z"}
    ),
    trace_id="t2",
)
assert registered.user_id == 5 and registered.source.kind == "web"
assert registered.to_wire()["timestamp"] == "2024-01-01T00:00:00+00:00", "payload field wins"

class Host:
    def __init__(self):
        self.calls = []
    def log(self, level, message, fields):
        self.calls.append(("log", level, message, fields))
    def broadcast(self, endpoint, message):
        self.calls.append(("broadcast", endpoint, message))
    def send(self, connection_id, message):
        self.calls.append(("send", connection_id, message))

host = Host()
state = State("CreateUser", "trace-1", host, None)
state.logger.warning("careful", message="a field called message", role=Role.GUEST)
state.trigger_event("Audited", u)
state.set_payload("UserCreated", {"when": datetime(2024, 1, 1, tzinfo=timezone.utc)})
assert host.calls == [("log", "warn", "careful", {"message": "a field called message", "role": "GUEST"})]
assert state._triggered[0][0] == "Audited" and state._triggered[0][1]["createdAt"].startswith("2024-05-01")
assert state._payloads == {"UserCreated": {"when": "2024-01-01T00:00:00+00:00"}}
try:
    state.broadcast({"x": 1})
    raise AssertionError("broadcast without an endpoint must fail")
except ValueError as error:
    assert "endpoint" in str(error)
# Delays: seconds or a timedelta, as whole milliseconds rounded up; none: at once.
later = State("Schedule", "t", host)
later.trigger_event("Reminder", {"n": 1}, delay=1.5)
later.trigger_event("Soon", None, delay=timedelta(microseconds=1))
later.trigger_event("Tenth", 1, 1.1)
later.trigger_event("Now", 2)
assert later._triggered == [("Reminder", {"n": 1}, 1500), ("Soon", None, 1), ("Tenth", 1, 1100), ("Now", 2)], later._triggered
for bad, kind in [(-1, ValueError), (timedelta(seconds=-1), ValueError), (float("nan"), ValueError), ("1", TypeError), (True, TypeError)]:
    try:
        later.trigger_event("Back", None, delay=bad)
        raise AssertionError(f"delay {bad!r} must fail")
    except kind as error:
        assert "`Back`" in str(error), error
assert len(later._triggered) == 4, "a refused delay adds nothing"

class OrderInvalid(NonRetryableError):
    pass

permanent = OrderInvalid("order 7 has no lines")
assert isinstance(permanent, Exception) and permanent.message == "order 7 has no lines"
assert str(permanent) == "order 7 has no lines"

ws_state = State("on_message", "t", host, "Chat")
ws_state.broadcast({"x": 1})
assert host.calls[-1] == ("broadcast", "Chat", {"x": 1})

@dataclasses.dataclass
class Plain:
    when: datetime
    tags: set

class Model:
    def model_dump(self, mode):
        return {"mode": mode}

assert to_wire(Plain(datetime(2024, 1, 1, tzinfo=timezone.utc), {1})) == {"when": "2024-01-01T00:00:00+00:00", "tags": [1]}
assert to_wire(Model()) == {"mode": "json"}
assert to_wire((Role.ADMIN, None, 1.5)) == ["ADMIN", None, 1.5]
# A flat dict of plain values is a copy: changing it after a trigger does
# not reach the event; anything else in it takes the general way.
flat = {"run": "r", "n": 1, "ok": True, "none": None}
copied = to_wire(flat)
flat["n"] = 2
assert copied == {"run": "r", "n": 1, "ok": True, "none": None}
assert to_wire({"role": Role.ADMIN, 3: "three"}) == {"role": "ADMIN", "3": "three"}
assert to_wire({"when": datetime(2024, 1, 1, tzinfo=timezone.utc)}) == {"when": "2024-01-01T00:00:00+00:00"}
# The C scanner read directly is json.loads for whole texts; anything else
# goes through json.loads and its error.
import json
from generated.dispatch import read_json
for text in ['{"a":[1,2.5,"x\\u00e9",null,true]}', "null", "17", '"s"', ' {"padded": 1} ', '{"big":123456789012345678901234567890}']:
    assert read_json(text) == json.loads(text), text
for bad in ['{"a":1}x', "", "{", "[1,]"]:
    try:
        read_json(bad)
        raise AssertionError(f"{bad!r} must fail")
    except json.JSONDecodeError:
        pass
# RFC 3339 as the engine writes it, and what only the general way reads.
assert parse_datetime("2024-01-01T00:00:00.5Z") == datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)
assert parse_datetime(" 2024-01-01t01:00:00+01:00 ") == datetime(2024, 1, 1, tzinfo=timezone.utc)
assert parse_datetime("2024-01-01T00:00:00").tzinfo == timezone.utc, "naive is UTC"
try:
    to_wire(object())
    raise AssertionError("objects without a JSON form must fail")
except TypeError as error:
    assert "cannot send a object as JSON" in str(error)

error = HttpError(401, "no token", {"hint": "log in"})
assert (error.status, error.message, error.details) == (401, "no token", {"hint": "log in"})
context = HandlerContext.from_wire({"handler_name": "h", "payload": 1,
                                    "metadata": {"headers": {"Authorization": "Bearer x"}, "trace_id": "t"}})
assert context.header("authorization") == "Bearer x" and context.trace_id == "t"
assert context.to_wire()["payload"] == 1

# Typed query parameters (`query:`): the wire's `query` object read like a
# body record, `@default`s applied, DateTime parsed, absent optionals None.
from generated.api.ListItems import ListItemsQuery, ListItemsRequest
from generated.api.Search import SearchQuery, SearchRequest
from generated.models.Status import Status
items = ListItemsRequest.from_wire({"shop": "s1", "query": {"limit": 3}, "query_params": {"limit": "3"}})
assert items.query == ListItemsQuery(limit=3) and items.query.in_stock is None
assert items.query_params == {"limit": "3"}
items = ListItemsRequest.from_wire({"shop": "s1", "query": {
    "inStock": False, "ratio": 0.5, "status": "DONE_NOW", "tag": ["a", "b"], "after": "2024-01-01T00:00:00Z"}})
assert items.query.limit == 10 and items.query.in_stock is False and items.query.ratio == 0.5
assert items.query.status is Status.DONE_NOW and items.query.tag == ["a", "b"]
assert items.query.after == datetime(2024, 1, 1, tzinfo=timezone.utc)
assert items.to_wire()["query"] == {"limit": 10, "inStock": False, "ratio": 0.5, "status": "DONE_NOW",
                                    "tag": ["a", "b"], "after": "2024-01-01T00:00:00+00:00"}
search = SearchRequest.from_wire({"query": {"text": "hat"}})
assert search.query == SearchQuery(text="hat", page=1) and search.query.since is None
print("ok")
"#;

#[test]
fn generated_classes_behave_under_python() {
    if !python_can("import sys; assert sys.version_info >= (3, 10)") {
        eprintln!("skipped: `{}` is not Python 3.10 or newer", python());
        return;
    }
    let dir = project("python_all.ro", &[]);
    write(dir.path(), Path::new("behaviour.py"), BEHAVIOUR);
    for first in ["User", "Post"] {
        runs_ok(
            dir.path(),
            &["behaviour.py", first],
            &format!("behaviour check (importing {first} first)"),
        );
    }
}

/// Runs `python <args>` in the generated project `dir` (its `src` on the
/// path) and asserts that it succeeds printing `ok`.
fn runs_ok(dir: &Path, args: &[&str], what: &str) {
    let output = Command::new(python())
        .args(args)
        .env("PYTHONPATH", dir.join("src"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(dir)
        .output()
        .expect("python runs");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "ok",
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A handler reading the typed query, called through the generated harness.
const LIST_ITEMS_HANDLER: &str = r#"from generated.api.ListItems import ListItemsRequest, ListItemsResponse


async def handler(req: ListItemsRequest) -> ListItemsResponse:
    after = req.query.after
    return {
        "limit": req.query.limit,
        "in_stock": req.query.in_stock,
        "tag": req.query.tag,
        "year": None if after is None else after.year,
        "raw": req.query_params,
    }
"#;

const HARNESS_QUERY: &str = r#"
from datetime import datetime, timezone
from generated.api.ListItems import ListItemsQuery
from generated.testing import Harness

h = Harness()
# A mapping of typed values: defaults applied by the handler's request type.
value = h.call_api("ListItems", params={"shop": "s1"}, query={"inStock": False, "tag": ["a", "b"]}).unwrap()
assert value == {"limit": 10, "in_stock": False, "tag": ["a", "b"], "year": None,
                 "raw": {"inStock": "false", "tag": "b"}}, value
# The generated query object; a None optional is left out.
query = ListItemsQuery(limit=3, after=datetime(2024, 5, 1, tzinfo=timezone.utc))
value = h.call_api("ListItems", params={"shop": "s1"}, query=query).unwrap()
assert value["limit"] == 3 and value["year"] == 2024 and value["in_stock"] is None, value
assert value["raw"] == {"limit": "3", "after": "2024-05-01T00:00:00+00:00"}, value
# Without `query:`, `query` is the query_params mapping, as before.
assert h.call_api("Health", query={"x": "1"}).ok
print("ok")
"#;

#[test]
fn the_harness_sends_a_typed_query() {
    if !python_can("import sys; assert sys.version_info >= (3, 10)") {
        eprintln!("skipped: `{}` is not Python 3.10 or newer", python());
        return;
    }
    let dir = project(
        "python_all.ro",
        &[("src/handlers/api/list_items.py", LIST_ITEMS_HANDLER)],
    );
    write(dir.path(), Path::new("harness_query.py"), HARNESS_QUERY);
    runs_ok(dir.path(), &["harness_query.py"], "harness check");
}
