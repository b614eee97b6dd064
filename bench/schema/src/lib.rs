//! A realistic generated schema for the parse-and-validate benchmark: the
//! shapes a real project has (models with attributes, inputs, enums, apis
//! with path parameters and triggers, events with handlers, crons, ws), in
//! the proportions a large project might have them.

/// About `n` declarations, spread over `files` source files.
pub fn generated_schema(n: usize, files: usize) -> Vec<(String, String)> {
    let groups = n / 8;
    let mut out: Vec<(String, String)> = (0..files)
        .map(|i| (format!("schema/gen_{i}.ro"), String::new()))
        .collect();
    for g in 0..groups {
        let text = &mut out[g % files].1;
        text.push_str(&format!(
            r#"/// Entity number {g}.
model Entity{g} {{
  id        Int      @id @auto
  name      String   @min(1) @max(200)
  email     String   @unique @pattern("^[^@ ]+@[^@ ]+$")
  status    Status{g}
  tags      String[]
  createdAt DateTime @default(now)
  parent    Entity{g}?
  meta      Json
}}

input CreateEntity{g}Input {{
  name:  String
  email: String
  extra: {{ note: String?, weight: Float }}
}}

enum Status{g} {{ ACTIVE INACTIVE BANNED }}

api GetEntity{g} {{
  method: GET
  path: "/entities{g}/:id"
  response: Entity{g}
}}

api CreateEntity{g} {{
  method: POST
  path: "/entities{g}"
  body: CreateEntity{g}Input
  response: Entity{g}
  triggers: [Entity{g}Created]
  middlewares: [auth]
  timeout: 5s
}}

event Entity{g}Created {{
  payload: Entity{g}
  handler: [index_entity_{g}, notify_entity_{g}]
  retries: 5
}}

cron Sweep{g} {{
  schedule: "*/5 * * * *"
}}

ws Feed{g} {{
  path: "/ws/feed{g}"
  message: {{ text: String }}
  broadcast: true
}}

"#
        ));
    }
    out
}
