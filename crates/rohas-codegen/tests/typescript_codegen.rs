//! The TypeScript generator: snapshots of the generated modules and stubs for
//! fixture schemas, and `tsc --noEmit --strict` on generated projects (every
//! construct with its stubs, reserved words, every reference handler example
//! placed as a handler, and the project `rohas init --lang typescript` creates).
//!
//! The compiler is `$ROHAS_TSC` (`scripts/install-checkers.sh` installs
//! TypeScript and @types/node and prints it). Checked projects get a
//! `node_modules` link to the folder that holds that `tsc`, so `@types/node`
//! resolves as in a real project. Tests that need tsc print why they skip
//! when it is not set, and pass.

mod common;

use common::checkers::{node_modules, tsc, tsc_strict, typescript_codegen, write, TSCONFIG};
use common::{fixture, load};
use rohas_codegen::init::init_project;
use rohas_codegen::{handler_specs, typescript, GeneratedFile};
use rohas_runtime::Language;
use rohas_schema::Schema;
use std::path::{Path, PathBuf};
use std::process::Command;

/// All files in one text; the fixed runtime/state modules are left out
/// (they do not depend on the schema).
fn render(files: &[GeneratedFile]) -> String {
    let mut out = String::new();
    for f in files {
        let path = f.path.to_string_lossy().replace('\\', "/");
        if path.ends_with("generated/runtime.ts")
            || path.ends_with("generated/state.ts")
            || path.ends_with("generated/harness.ts")
        {
            continue;
        }
        out.push_str(&format!("==> {path} <==\n{}\n", f.contents));
    }
    out
}

fn stubs_of(schema: &Schema) -> Vec<GeneratedFile> {
    let specs = handler_specs(schema, Language::TypeScript);
    let mut stubs = typescript::stubs(schema, &specs);
    assert_eq!(stubs.len(), specs.len(), "one stub per spec");
    stubs.dedup_by(|a, b| a.path == b.path);
    stubs
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == Path::new(path))
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

#[test]
fn all_constructs() {
    let schema = load(&fixture("typescript_all.ro"));
    insta::assert_snapshot!(render(&typescript::generate(&schema)));
}

#[test]
fn all_constructs_stubs() {
    let schema = load(&fixture("typescript_all.ro"));
    insta::assert_snapshot!(render(&stubs_of(&schema)));
}

#[test]
fn reserved_words() {
    let schema = load(&fixture("typescript_reserved.ro"));
    let files = typescript::generate(&schema);
    let keywords = file(&files, "src/generated/models/Keywords.ts");
    // Reserved words are property names as they are: the wire names.
    for line in [
        "  class: string;\n",
        "  type: string;\n",
        "  async: boolean;\n",
        "  from: globalThis.Date;\n",
        "  default: number;\n",
        "  self: string;\n",
        "  function?: string | null;\n",
        "  new?: Kind | null;\n",
        "  delete: number[];\n",
    ] {
        assert!(keywords.contains(line), "{line:?} in\n{keywords}");
    }
    assert!(file(&files, "src/generated/models/Kind.ts")
        .contains("export type Kind = \"type\" | \"self\" | \"class\" | \"default\";"));
    // A declared `Date` does not hide the global one.
    let date = file(&files, "src/generated/models/Date.ts");
    assert!(date.contains("export interface Date {\n"), "{date}");
    assert!(date.contains("  at: globalThis.Date;\n"), "{date}");
    // Path parameters named like keywords keep their names as properties.
    let reserved = file(&files, "src/generated/api/Reserved.ts");
    assert!(reserved.contains("  type: string;\n  /** Path parameter `:class`. */\n  class: string;\n"));
    // The payload's own `payload`/`name`/`timestamp` meet the event's.
    let happened = file(&files, "src/generated/events/Happened.ts");
    assert!(happened.contains("  payload: Keywords;\n"), "{happened}");
    assert!(
        happened.contains("  name: string;\n  timestamp: number;\n"),
        "{happened}"
    );
    assert!(happened.contains("  trace_id: string;\n"), "{happened}");
    assert_eq!(happened.matches("  name: string;\n").count(), 1, "{happened}");
    // A declared type named like a generated one is imported under an alias.
    let calendar = file(&files, "src/generated/api/Calendar.ts");
    assert!(
        calendar.contains("import type { CalendarRequest as CalendarRequest_ }"),
        "{calendar}"
    );
    assert!(calendar.contains("  body: CalendarRequest_;\n"), "{calendar}");
    // A declared `Promise` does not hide the global one in stubs.
    let stubs = stubs_of(&schema);
    let later = file(&stubs, "src/handlers/api/later.ts");
    assert!(later.contains("): globalThis.Promise<LaterResponse> {"), "{later}");
    insta::assert_snapshot!(render(&files));
}

#[test]
fn output_is_deterministic() {
    let schema = load(&fixture("typescript_all.ro"));
    assert_eq!(typescript::generate(&schema), typescript::generate(&schema));
    assert_eq!(stubs_of(&schema), stubs_of(&schema));
}

#[test]
fn every_declaration_has_its_module() {
    let schema = load(&fixture("typescript_all.ro"));
    let files = typescript::generate(&schema);
    let has = |p: &str| files.iter().any(|f| f.path == Path::new(p));
    for decl in &schema.types {
        assert!(has(&format!("src/generated/models/{}.ts", decl.name)));
    }
    for decl in &schema.enums {
        assert!(has(&format!("src/generated/models/{}.ts", decl.name)));
    }
    for api in &schema.apis {
        assert!(has(&format!("src/generated/api/{}.ts", api.name)));
    }
    for event in &schema.events {
        assert!(has(&format!("src/generated/events/{}.ts", event.name)));
    }
    for ws in &schema.websockets {
        assert!(has(&format!("src/generated/websockets/{}.ts", ws.name)));
    }
    assert!(has("src/generated/runtime.ts") && has("src/generated/state.ts"));
    assert!(has("src/generated/harness.ts") && has("src/generated/testing.ts"));
    // The imports the reference examples use.
    let create_user = file(&files, "src/generated/api/CreateUser.ts");
    assert!(
        create_user.contains("export type { CreateUserInput, User };"),
        "{create_user}"
    );
    assert!(create_user.contains("export type CreateUserResponse = User;"));
    let health = file(&files, "src/generated/api/Health.ts");
    assert!(health.contains("export type { HealthResponse };"), "{health}");
    let chat = file(&files, "src/generated/websockets/Chat.ts");
    assert!(chat.contains("export type WebSocketMessage = ChatMessage;"), "{chat}");
    // Schema modules are types only: nothing of theirs runs. (The support
    // modules, and the harness that tests import, are code.)
    for f in &files {
        let path = f.path.to_string_lossy();
        if ["runtime.ts", "state.ts", "harness.ts", "testing.ts"]
            .iter()
            .any(|support| path.ends_with(&format!("generated/{support}")))
        {
            continue;
        }
        for line in f.contents.lines() {
            let code = line.trim_start();
            assert!(
                !(code.starts_with("export const")
                    || code.starts_with("export function")
                    || code.starts_with("export class")
                    || code.starts_with("export enum")
                    || code.starts_with("import {")),
                "{path} has run-time code: {line}"
            );
        }
    }
}

#[test]
fn stubs_import_at_their_own_depth() {
    let schema = load(&fixture("typescript_all.ro"));
    let stubs = stubs_of(&schema);
    let health = file(&stubs, "src/handlers/api/health.ts");
    assert!(health.contains("from \"../../generated/api/Health\";"), "{health}");
    let auth = file(&stubs, "src/middlewares/auth.ts");
    assert!(auth.contains("from \"../generated/runtime\";"), "{auth}");
    assert!(auth.contains("export async function handler("), "{auth}");
    let chat = file(&stubs, "src/handlers/websockets/chat.ts");
    for function in ["onConnect", "onMessage", "onDisconnect"] {
        assert!(chat.contains(&format!("export async function {function}(")), "{chat}");
    }
}

#[test]
fn codegen_twice_changes_nothing_and_keeps_user_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let text = std::fs::read_to_string(fixture("typescript_all.ro")).unwrap();
    write(root, Path::new("schema/app.ro"), &text);
    let mine = "export async function handler(): Promise<void> {}\n";
    write(root, Path::new("src/handlers/cron/DailyCleanup.ts"), mine);
    let schema = load(&root.join("schema"));
    let run = || {
        let code = rohas_codegen::project_code(&schema, Language::TypeScript, root).unwrap();
        rohas_codegen::write(root, &root.join("src"), &code.generated, &code.stubs, &code.specs).unwrap()
    };
    let first = run();
    assert!(first
        .written
        .contains(&PathBuf::from("src/generated/api/CreateUser.ts")));
    assert!(first.stubs.contains(&PathBuf::from("src/handlers/api/create_user.ts")));
    // The handler's second candidate file exists: no stub beside it.
    assert!(!root.join("src/handlers/cron/daily_cleanup.ts").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("src/handlers/cron/DailyCleanup.ts")).unwrap(),
        mine
    );
    let second = run();
    assert!(second.written.is_empty(), "{:?}", second.written);
    assert!(second.stubs.is_empty() && second.removed.is_empty(), "{second:?}");
    assert_eq!(second.unchanged.len(), first.written.len());
}

#[test]
fn init_project_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    init_project(&root, "app", Language::TypeScript, None).unwrap();
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
    let package: serde_json::Value = serde_json::from_str(&read("package.json")).unwrap();
    assert_eq!(package["type"], "module");
    assert_eq!(package["scripts"]["typecheck"], "tsc --noEmit");
    let tsconfig: serde_json::Value = serde_json::from_str(&read("tsconfig.json")).unwrap();
    let options = &tsconfig["compilerOptions"];
    assert_eq!(options["strict"], true);
    assert_eq!(options["noEmit"], true);
    // Handlers import `"../../generated/api/Health"`, without an extension.
    assert_eq!(options["moduleResolution"], "Bundler");
    let gitignore = read(".gitignore");
    for line in ["node_modules/", ".rohas/", "src/generated/"] {
        assert!(gitignore.lines().any(|l| l == line), "{line} in\n{gitignore}");
    }
    assert!(read("README.md").contains("npm run typecheck"));
    assert!(read("config/rohas.toml").contains("language = \"typescript\""));
}

// ---- running tsc -----------------------------------------------------------

/// A project with `schema` (a fixture file), the init template's
/// tsconfig.json, the given handler files, and codegen.
fn project(schema: &str, handlers: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture(schema)).unwrap();
    write(dir.path(), Path::new("schema/app.ro"), &text);
    write(dir.path(), Path::new("tsconfig.json"), TSCONFIG);
    for (path, contents) in handlers {
        write(dir.path(), Path::new(path), contents);
    }
    let schema = load(&dir.path().join("schema"));
    typescript_codegen(dir.path(), &schema);
    dir
}

#[test]
fn tsc_strict_passes_on_every_construct_and_its_stubs() {
    let dir = project("typescript_all.ro", &[]);
    assert!(dir.path().join("src/handlers/api/create_user.ts").is_file());
    tsc_strict(dir.path(), "tsconfig.json", &[]);
}

#[test]
fn tsc_strict_passes_on_reserved_words() {
    let dir = project("typescript_reserved.ro", &[]);
    tsc_strict(dir.path(), "tsconfig.json", &[]);
}

/// The reference TypeScript handler examples (fragments in the style of
/// docs/handlers.md), unmodified but for the import paths, which are written
/// relative to the handler's own folder so that tsc and editors resolve them
/// with standard rules; where a fragment uses a name it never defines, the
/// lines marked "not in the seed" (the fragments' own marker) define it.
const SEED_EXAMPLES: &[(&str, &str)] = &[
    (
        "src/handlers/api/health.ts",
        r#"import { HealthResponse } from "../../generated/api/Health";

export async function handler(): Promise<HealthResponse> {
  return {
    status: "ok",
    timestamp: new Date().toISOString(),
  };
}
"#,
    ),
    (
        "src/handlers/api/context.ts",
        r#"// ---- not in the seed: the fragment uses a `Response` it never defines.
import type { ContextResponse as Response } from "../../generated/api/Context";
// ---- the seed's fragment:
import { HandlerContext } from "../../generated/runtime";

export async function handler(context: HandlerContext): Promise<Response> {
  const { payload, query_params } = context;
  // Use context data
}
"#,
    ),
    (
        "src/handlers/api/create_user.ts",
        r#"import { CreateUserInput, User } from "../../generated/api/CreateUser";

export async function handler(input: CreateUserInput): Promise<User> {
  // Process input
  return {
    id: 1,
    name: input.name,
    email: input.email,
    createdAt: new Date(),
  };
}
"#,
    ),
    (
        "src/handlers/events/send_welcome_email.ts",
        r#"import { UserCreated } from "../../generated/events/UserCreated";

export async function handler(event: UserCreated): Promise<void> {
  console.log(`User created: ${event.userId}`);
  // Process event
}
"#,
    ),
    (
        "src/handlers/cron/daily_cleanup.ts",
        r#"export async function handler(): Promise<void> {
  // Scheduled task logic
  console.log("Running scheduled cleanup");
}
"#,
    ),
    (
        "src/handlers/websockets/chat.ts",
        r#"// ---- not in the seed: the fragment uses `HandlerContext` without importing it.
import { HandlerContext } from "../../generated/runtime";
// ---- the seed's fragment:
import { WebSocketMessage } from "../../generated/websockets/Chat";

export async function onConnect(context: HandlerContext): Promise<void> {
  console.log("Client connected");
}

export async function onMessage(
  message: WebSocketMessage,
  context: HandlerContext
): Promise<void> {
  // Handle message
}

export async function onDisconnect(context: HandlerContext): Promise<void> {
  console.log("Client disconnected");
}
"#,
    ),
    (
        "src/handlers/api/debugging.ts",
        r#"export async function handler() {
  console.log("Debug info:", data);
  // Handler logic
}

// ---- not in the seed: the fragment logs a `data` it never defines.
const data = { example: true };
"#,
    ),
];

/// The reference error-handling example reads `error.message` of a caught
/// value, which `--strict` types `unknown` (`useUnknownInCatchVariables`):
/// it is checked with that one option off.
const SEED_ERROR_HANDLING: (&str, &str) = (
    "src/handlers/api/failing.ts",
    r#"// ---- not in the seed: the fragment uses a `Response` it never defines.
import type { FailingResponse as Response } from "../../generated/api/Failing";
// ---- the seed's fragment:
export async function handler(): Promise<Response> {
  try {
    // Your logic
    return { success: true };
  } catch (error) {
    throw new Error(`Handler failed: ${error.message}`);
  }
}
"#,
);

/// The reference dependency example: needs `axios` installed.
const SEED_DEPENDENCY: (&str, &str) = (
    "src/handlers/api/dependency.ts",
    r#"import axios from "axios";

export async function handler() {
  const response = await axios.get("https://api.example.com");
  return response.data;
}
"#,
);

#[test]
fn tsc_strict_passes_on_the_seed_examples() {
    let Some(tsc) = tsc() else { return };
    let mut handlers = SEED_EXAMPLES.to_vec();
    handlers.push(SEED_ERROR_HANDLING);
    if node_modules(&tsc).join("axios").is_dir() {
        handlers.push(SEED_DEPENDENCY);
    } else {
        eprintln!("the seed's `axios` example is left out: axios is not installed beside ROHAS_TSC");
    }
    let dir = project("typescript_seed.ro", &handlers);
    // The examples are the handlers, not stubs.
    for (path, contents) in &handlers {
        let on_disk = std::fs::read_to_string(dir.path().join(path)).unwrap();
        assert_eq!(&on_disk, contents, "{path} kept");
    }
    // Everything under full --strict but the error-handling example …
    let tsconfig: serde_json::Value = serde_json::from_str(TSCONFIG).unwrap();
    let mut strict = tsconfig.clone();
    strict["exclude"] = serde_json::json!([SEED_ERROR_HANDLING.0]);
    write(dir.path(), Path::new("tsconfig.strict.json"), &strict.to_string());
    tsc_strict(dir.path(), "tsconfig.strict.json", &[]);
    // … which is checked with caught values typed `any`, as it was written for.
    let mut catch_any = tsconfig;
    catch_any["include"] = serde_json::json!([SEED_ERROR_HANDLING.0]);
    write(dir.path(), Path::new("tsconfig.catch.json"), &catch_any.to_string());
    tsc_strict(
        dir.path(),
        "tsconfig.catch.json",
        &["--useUnknownInCatchVariables", "false"],
    );
}

#[test]
fn tsc_strict_passes_on_the_init_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    init_project(&root, "app", Language::TypeScript, None).unwrap();
    let schema = load(&root.join("schema"));
    typescript_codegen(&root, &schema);
    // The template's handlers are all there: codegen wrote no stub.
    for spec in handler_specs(&schema, Language::TypeScript) {
        let path = root.join(&spec.files[0]);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing", path.display()));
        assert!(
            !text.contains("Written once by `rohas codegen`"),
            "{} is a stub",
            path.display()
        );
    }
    tsc_strict(&root, "tsconfig.json", &[]);
}

/// The `State` and runtime helpers under Node: what the engine's worker
/// reads back (`_triggered`, `_payloads`), what reaches the host, errors.
const BEHAVIOUR: &str = r#"
import assert from "node:assert/strict";
import { Connection, header, HttpError, NonRetryableError, toWire } from "./generated/runtime";
import type { HandlerContext, Host } from "./generated/runtime";
import { State } from "./generated/state";

const calls: unknown[] = [];
const host: Host = {
  log(level, message, fields) {
    calls.push(["log", level, message, fields]);
  },
  broadcast(endpoint, message) {
    calls.push(["broadcast", endpoint, message]);
  },
  send(connectionId, message) {
    calls.push(["send", connectionId, message]);
  },
};
const newYear = new Date(Date.UTC(2024, 0, 1));

const state = new State("CreateUser", "trace-1", host);
assert.equal(state.handlerName, "CreateUser");
assert.equal(state.traceId, "trace-1");
state.logger.warning("careful", { at: newYear, message: "a field called message" });
state.logger.info("plain");
assert.deepEqual(calls, [
  ["log", "warn", "careful", { at: "2024-01-01T00:00:00.000Z", message: "a field called message" }],
  ["log", "info", "plain", {}],
]);

const user = { id: 1, createdAt: newYear, tags: new Set(["a"]), gone: undefined };
state.triggerEvent("Audited", user);
state.triggerEvent("Pinged");
user.id = 99; // later changes do not reach the published payload
state.setPayload("UserCreated", { id: 1 });
state.setPayload("UserCreated", { id: 2 });
assert.deepEqual(state._triggered, [
  { event: "Audited", payload: { id: 1, createdAt: "2024-01-01T00:00:00.000Z", tags: ["a"] } },
  { event: "Pinged", payload: null },
]);
assert.deepEqual(state._payloads, { UserCreated: { id: 2 } });

// Delays in milliseconds, fractions rounded up; no options or no delay: at once.
const later = new State("Schedule", "t", host);
later.triggerEvent("Reminder", { n: 1 }, { delay: 1500 });
later.triggerEvent("Soon", null, { delay: 0.25 });
later.triggerEvent("Now", 2, {});
assert.deepEqual(later._triggered, [
  { event: "Reminder", payload: { n: 1 }, delay: 1500 },
  { event: "Soon", payload: null, delay: 1 },
  { event: "Now", payload: 2 },
]);
for (const delay of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
  assert.throws(() => later.triggerEvent("Back", null, { delay }), (e: unknown) => e instanceof RangeError && /`Back`/.test(e.message));
}
assert.equal(later._triggered.length, 3, "a refused delay adds nothing");

assert.throws(() => state.broadcast({ x: 1 }), /name the endpoint/);
state.broadcast({ x: 1 }, "Chat");
const ws = new State("onMessage", "t", host, "Chat");
ws.broadcast({ at: newYear });
new Connection("c1", host).send(new Map([["k", 1]]));
assert.deepEqual(calls.slice(2), [
  ["broadcast", "Chat", { x: 1 }],
  ["broadcast", "Chat", { at: "2024-01-01T00:00:00.000Z" }],
  ["send", "c1", { k: 1 }],
]);

const error = new HttpError(401, "no token", { hint: "log in" });
assert.ok(error instanceof Error);
assert.equal(error.name, "HttpError");
assert.deepEqual([error.status, error.message, error.details], [401, "no token", { hint: "log in" }]);
assert.equal(new HttpError(404).message, "");

class OrderInvalid extends NonRetryableError {}
const permanent = new OrderInvalid("order 7 has no lines");
assert.ok(permanent instanceof NonRetryableError && permanent instanceof Error);
assert.deepEqual([permanent.name, permanent.message], ["NonRetryableError", "order 7 has no lines"]);

const context: HandlerContext = {
  handler_name: "auth",
  payload: null,
  query_params: {},
  metadata: { headers: { Authorization: "Bearer x" }, trace_id: "t" },
};
assert.equal(header(context, "authorization"), "Bearer x");
assert.equal(header(context, "x-missing"), undefined);

assert.equal(toWire(undefined), null);
assert.throws(() => toWire({ n: 1n }), (e: unknown) => e instanceof TypeError && /cannot send/.test(e.message));
console.log("ok");
"#;

#[test]
fn state_and_runtime_behave_under_node() {
    let Some(tsc) = tsc() else { return };
    let dir = project("typescript_seed.ro", &[]);
    write(dir.path(), Path::new("src/behaviour.ts"), BEHAVIOUR);
    // CommonJS output, so Node resolves the extensionless imports itself.
    let config = serde_json::json!({
        "compilerOptions": {
            "target": "ES2022", "module": "CommonJS", "moduleResolution": "Node10", "lib": ["ES2022"],
            "types": ["node"], "strict": true, "esModuleInterop": true, "outDir": "out", "rootDir": "src",
            "skipLibCheck": true
        },
        "files": ["src/behaviour.ts"]
    });
    write(dir.path(), Path::new("tsconfig.node.json"), &config.to_string());
    if !dir.path().join("node_modules").exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(node_modules(&tsc), dir.path().join("node_modules")).unwrap();
    }
    let output = Command::new(&tsc)
        .args(["-p", "tsconfig.node.json", "--pretty", "false"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tsc failed:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let output = Command::new("node")
        .arg("out/behaviour.js")
        .current_dir(dir.path())
        .output()
        .expect("node runs (tsc needs it too)");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "ok",
        "behaviour check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
