//! The generated TypeScript harness with typed query parameters (`query:`),
//! run under `node --test` the way `rohas test` runs it: the handler gets
//! the typed query as the engine sends it (dates revived into `Date`s) and
//! the strings a URL would carry as `queryParams`.

use rohas_runtime::Language;
use std::path::Path;
use std::process::Command;

const SCHEMA: &str = r#"enum Status { OPEN CLOSED }
input Window { since DateTime  days Int @default(7) }
api ListItems {
  method: GET
  path: "/shops/:shop/items"
  query: { limit: Int @default(10), inStock: Boolean?, status: Status?, tag: String[]?, after: DateTime? }
  response: Json
}
api Search { method: GET  path: "/search"  query: Window  response: Json }
"#;

const LIST_ITEMS: &str = r#"import type { ListItemsRequest } from "../../generated/api/ListItems";

export function handler(req: ListItemsRequest): unknown {
  const query: { [name: string]: unknown } = { ...req.query };
  if (req.query.after instanceof Date) {
    query.after = `Date ${req.query.after.getUTCFullYear()}`;
  }
  return { shop: req.shop, query, raw: req.queryParams };
}
"#;

const SEARCH: &str = r#"import type { SearchRequest } from "../../generated/api/Search";

export function handler(req: SearchRequest): unknown {
  return { date: req.query.since instanceof Date, days: req.query.days ?? "missing", raw: req.queryParams };
}
"#;

const TEST: &str = r#"import assert from "node:assert/strict";
import { test } from "node:test";
import { Harness } from "../src/generated/testing";

test("a typed query reaches the handler as the engine sends it", async () => {
  const h = new Harness();
  const after = new Date("2024-05-01T00:00:00.000Z");
  const listed = await h.callApi("ListItems", {
    shop: "s1",
    query: { limit: 3, inStock: false, status: "OPEN", tag: ["a", "b"], after },
  });
  assert.deepEqual(listed.value, {
    shop: "s1",
    query: { limit: 3, inStock: false, status: "OPEN", tag: ["a", "b"], after: "Date 2024" },
    raw: { limit: "3", inStock: "false", status: "OPEN", tag: "b", after: "2024-05-01T00:00:00.000Z" },
  });
  // Null values are left out; given queryParams win.
  const bare = await h.callApi("ListItems", { shop: "s1", query: { inStock: null }, queryParams: { x: "1" } });
  assert.deepEqual(bare.value, { shop: "s1", query: {}, raw: { x: "1" } });
  const found = await h.callApi("Search", { query: { since: after } });
  assert.deepEqual(found.value, { date: true, days: "missing", raw: { since: "2024-05-01T00:00:00.000Z" } });
});
"#;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_harness_sends_a_typed_query() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "package.json",
        "{\"name\": \"q\", \"private\": true, \"type\": \"module\"}\n",
    );
    write(root, "schema/app.ro", SCHEMA);
    let checked = rohas_schema::check_path(&root.join("schema")).unwrap();
    let rendered = checked.render(false);
    let schema = checked.schema.unwrap_or_else(|| panic!("{rendered}"));
    for file in rohas_codegen::typescript::generate(&schema) {
        write(root, &file.path.to_string_lossy(), &file.contents);
    }
    write(root, "src/handlers/api/list_items.ts", LIST_ITEMS);
    write(root, "src/handlers/api/search.ts", SEARCH);
    write(root, "tests/query.test.ts", TEST);
    let specs = rohas_codegen::handler_specs(&schema, Language::TypeScript);
    let tests = rohas_runtime_node::testing::prepare(root, &specs, true).unwrap_or_else(|e| panic!("{e:?}"));
    // `ROHAS_NODE`, else `node` on PATH, as the engine finds it.
    let node = std::env::var_os("ROHAS_NODE").unwrap_or_else(|| "node".into());
    let output = Command::new(node)
        .arg("--test")
        .args(&tests)
        .current_dir(root)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "node --test failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
