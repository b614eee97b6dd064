//! The long form of every diagnostic code, for `rohas explain E0012`.
//!
//! A diagnostic on the terminal says what is wrong at one place; this says
//! what the rule is, shows a small schema that breaks it and how to fix it,
//! so a user who meets a code for the first time need not read the whole
//! language reference. The texts live next to the codes (not in the CLI) so
//! a new code cannot be added without its explanation: the `match` below
//! is exhaustive.

use crate::code::Code;

/// What a code means, as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    /// One line, lower case, as in the table in docs/schema.md.
    pub title: &'static str,
    /// What triggers the diagnostic.
    pub what: &'static str,
    /// Schema text that gets this code.
    pub example: &'static str,
    /// How to make it go away.
    pub fix: &'static str,
}

impl Code {
    /// A short title, e.g. "duplicate route" for E0012.
    pub fn title(self) -> &'static str {
        self.explanation().title
    }

    pub fn explanation(self) -> Explanation {
        let (title, what, example, fix) = match self {
            Code::E0001 => (
                "syntax error",
                "The parser met a token it did not expect: a misspelled keyword, a missing `:` \
                 or `}`, an unterminated string, or a `///` doc comment with nothing after it. \
                 Parsing resumes at the next declaration, so one file can report several.",
                "modle User {\n  id Int\n}",
                "Correct the text at the caret. A misspelled keyword gets a suggestion \
                 (\"did you mean `model`?\"); the declarations are `model`, `input`, `type`, \
                 `enum`, `api`, `event`, `cron` and `ws`.",
            ),
            Code::E0002 => (
                "unreadable schema file",
                "A `.ro` file is not valid UTF-8 (for example saved as Latin-1), or it is \
                 larger than 64 MiB. The file is not parsed at all.",
                "model User {\n  name String // \"café\" saved as Latin-1: the byte 0xE9 alone\n}",
                "Save the file as UTF-8 (most editors have a \"reopen/save with encoding\" \
                 command), or split a huge file into several.",
            ),
            Code::E0003 => (
                "empty schema file",
                "A `.ro` file holds no declaration: it is empty or only comments. It is \
                 probably a file that was meant to be filled in or deleted.",
                "// users, to do",
                "Declare something in it, or delete the file.",
            ),
            Code::E0004 => (
                "name declared twice",
                "Two declarations have the same name. All `.ro` files of a schema folder share \
                 one namespace, so the two may be in different files, and may be of different \
                 kinds (a model and an api). Redeclaring a built-in type (`Int`, `String`, \
                 `Json` …) is the same error.",
                "model User {\n  id Int\n}\n\nmodel User {\n  name String\n}",
                "Rename or remove one of them; the second label points at the first declaration.",
            ),
            Code::E0005 => (
                "unknown type",
                "A field, `body`, `response` or `payload` names a type that is not declared, \
                 or names something that is not a type (an api, an event, a cron or a ws).",
                "api GetUser {\n  method: GET\n  path: \"/users/:id\"\n  response: Usr\n}",
                "Use a built-in type or the name of a `model`, `input`, `type` or `enum`; a \
                 close match gets \"did you mean\". Names are case-sensitive.",
            ),
            Code::E0006 => (
                "unknown event",
                "`triggers` lists a name that is not a declared `event`: a typo, or something \
                 else (a model, an api) by that name.",
                "api CreateUser {\n  method: POST\n  path: \"/users\"\n  triggers: [UserCreatd]\n}",
                "Fix the name, or declare the event: `event UserCreated { payload: Json  \
                 handler: [send_welcome_email] }`.",
            ),
            Code::E0007 => (
                "unknown property",
                "An `api`, `event`, `cron` or `ws` block has a property that kind of block \
                 does not know, usually a misspelling.",
                "ws Chat {\n  path: \"/ws/chat\"\n  onConect: [on_connect]\n}",
                "Use one of the properties listed in the help (docs/schema.md, \"Block \
                 properties\"); a close match gets \"did you mean\".",
            ),
            Code::E0008 => (
                "missing property",
                "A block lacks a property it cannot do without: an `api` needs `method` and \
                 `path`, a `ws` needs `path`, a `cron` needs `schedule`.",
                "api Health {\n  method: GET\n}",
                "Add the property the help names, e.g. `path: \"/health\"`.",
            ),
            Code::E0009 => (
                "invalid property value",
                "A property holds a value of the wrong kind: a method other than GET, POST, \
                 PUT, PATCH or DELETE, a `timeout` without a unit, `retries` outside 1–100, a \
                 single name where a list is expected. An `enum` with no variants is the same \
                 error.",
                "api Health {\n  method: FETCH\n  path: \"/health\"\n  timeout: 5\n}",
                "Write the value in the form the help shows, e.g. `method: GET`, \
                 `timeout: 5s`, `handler: [send_email]`.",
            ),
            Code::E0010 => (
                "repeated field, variant or list entry",
                "A record declares a field twice, an enum a variant twice, or a list property \
                 (`handler`, `triggers`, `middlewares` …) names the same entry twice.",
                "model User {\n  id    Int\n  name  String\n  id    String\n}",
                "Remove or rename the repetition.",
            ),
            Code::E0011 => (
                "names collide after conversion",
                "Generated code converts names to each language's convention (snake_case in \
                 Python and Rust, camelCase in TypeScript). Two names that become the same \
                 (`userId` and `user_id`) would overwrite each other, as would two handlers \
                 sharing a file, or two declarations sharing a module (`User` and `user`: \
                 Python also imports every declaration under its snake_case name, and a \
                 case-insensitive disk holds one file for both). Middleware files keep \
                 the name as written, so two middlewares differing only in case collide. \
                 A name made only of `_` has no usable form at all, and a declaration, \
                 handler or middleware name over 200 bytes is too long for a file name. \
                 Declarations, handlers and middlewares also cannot be named exactly like \
                 a keyword of a target (`class`, `Self`, `None`) or a Python special name \
                 (`__init__`), and declarations not like a name the generated code uses \
                 unqualified (`str`, `Any`, `Option`): the message names the language.",
                "model User {\n  userId  Int\n  user_id Int\n}",
                "Rename one of them so they differ after conversion, give every name at \
                 least one letter, and rename reserved names (`class` → `ClassRecord`).",
            ),
            Code::E0012 => (
                "duplicate route",
                "Two apis have the same method and the same path shape: parameter names do not \
                 count, so `/users/:id` and `/users/:name` are one route and a request could \
                 not tell them apart. Two `ws` endpoints with the same path are the same error.",
                "api GetUser {\n  method: GET\n  path: \"/users/:id\"\n}\n\napi GetUserByName {\n  \
                 method: GET\n  path: \"/users/:name\"\n}",
                "Give one of them a different path (`/users/by-name/:name`) or method, or \
                 merge them into one api.",
            ),
            Code::E0013 => (
                "ws path used by an api",
                "A WebSocket upgrade is a GET on the ws path, so a `ws` cannot share its path \
                 with any api, whatever the api's method.",
                "api Chat {\n  method: POST\n  path: \"/chat\"\n}\n\nws ChatSocket {\n  path: \"/chat\"\n}",
                "Move the WebSocket under its own path, e.g. `path: \"/ws/chat\"`.",
            ),
            Code::E0014 => (
                "malformed path",
                "A path does not start with `/`, has an empty segment (`//` or a trailing \
                 `/`), a parameter without a valid name (`/:`, `/:a-b`), the same parameter \
                 twice, a parameter named like a key of the handler's request (`body`, \
                 `headers`, `query_params`), or a character other than letters, digits, `-`, `_`, `.` and `~` \
                 (a query string is not part of the path).",
                "api GetUser {\n  method: GET\n  path: \"/users/:\"\n}",
                "Write the path as `/segment/:param`, each parameter named once, e.g. \
                 `path: \"/users/:id\"`.",
            ),
            Code::E0015 => (
                "invalid cron schedule",
                "A `cron` schedule is not a valid cron expression: not 5 fields (or 6 with \
                 leading seconds, or 7 with leading seconds and a trailing year from 1970 to \
                 2099), or a value out of range.",
                "cron Nightly {\n  schedule: \"0 0 * *\"\n}",
                "Use five fields (minute hour day-of-month month day-of-week), e.g. \
                 `schedule: \"0 0 * * *\"` for every midnight, or six with seconds first, \
                 e.g. `\"*/10 * * * * *\"` for every 10 seconds.",
            ),
            Code::E0016 => (
                "nested too deeply",
                "Inline object types or lists are nested more than 32 levels deep. The limit \
                 keeps the checker and the generated code from running out of stack.",
                "type Deep { a: { a: { a: { … 33 levels … } } } }",
                "Name the inner shapes as their own `type` declarations and refer to them.",
            ),
            Code::E0017 => (
                "invalid attribute",
                "A field has an attribute that does not exist, one with the wrong arguments, \
                 or one that does not apply to the field's type (`@default(now)` on a \
                 non-DateTime field, `@pattern` on a number, `@relation` on a field that is not \
                 a model). A model-level `@@index([…])` or `@@unique([…])`, or a `@relation`'s \
                 `fields`/`references`, naming a field that does not exist is the same error.",
                "model User {\n  id    Int    @id @uniqe\n  name  String @default(now)\n}",
                "Use @id, @auto, @unique, @default(value), @optional, @min(n), @max(n), \
                 @pattern(\"regex\") or @relation(name: \"…\", fields: […], references: […], \
                 onDelete: Cascade) with the arguments and types the message names, and \
                 @@index([fields…]) or @@unique([fields…]) in a model body.",
            ),
            Code::E0018 => (
                "property set twice",
                "A block sets the same property more than once; which one wins would be a \
                 guess.",
                "api Health {\n  method: GET\n  path: \"/health\"\n  path: \"/healthz\"\n}",
                "Keep one of them.",
            ),
            Code::E0019 => (
                "query parameter of the wrong type",
                "An api's `query:` names a record, or writes one inline, whose fields are the \
                 query parameters. A query parameter is text in the URL, so each field must be \
                 a `String`, `Int`, `Float`, `Boolean`, `DateTime`, an enum, or a list of one \
                 of those (the parameter repeated: `?tag=a&tag=b`). A nested record, `Json` or \
                 a list of optional values has no form in a URL, and `query:` itself must be a \
                 record, not a scalar or a list. A path parameter named `query` beside a \
                 `query:` is E0014, since the request's `query` holds the parameters.",
                "api ListItems {\n  method: GET\n  path: \"/items\"\n  query: { limit: Int?, filter: Json }\n}",
                "Keep scalars, enums and lists of them in `query:`; send structured input as a \
                 `body` instead.",
            ),
            Code::W0001 => (
                "body on a GET or DELETE api",
                "An api with method GET or DELETE declares a `body`. Many clients and proxies \
                 drop or reject a body on these methods, so it may never arrive.",
                "input Filter { q: String }\n\napi Search {\n  method: GET\n  path: \"/search\"\n  \
                 body: Filter\n}",
                "Use POST, PUT or PATCH for a request with a body, or move the data into \
                 path or query parameters.",
            ),
            Code::W0002 => (
                "trigger cycle",
                "Events trigger each other in a loop: each handled event publishes the next, \
                 so one message can run forever. The cycle is printed.",
                "event OrderPlaced {\n  payload: Json\n  handler: [reserve_stock]\n  \
                 triggers: [StockReserved]\n}\n\nevent StockReserved {\n  payload: Json\n  \
                 handler: [charge]\n  triggers: [OrderPlaced]\n}",
                "Break the loop by removing one `triggers` entry; if the loop is intended, \
                 make sure a handler stops it (the warning does not block the schema).",
            ),
            Code::W0003 => (
                "event without a handler",
                "An event declares no `handler`, so publishing it does nothing but store it.",
                "event UserDeleted {\n  payload: { userId: Int }\n}",
                "Add `handler: [some_handler]`, or remove the event if nothing uses it.",
            ),
            Code::W0004 => (
                "event type not supported",
                "An event says `type: sqs` or `type: eventbridge`, upstream rohas's way of \
                 sending one event through an AWS service. This version of rohas has no AWS \
                 adapter: the event is accepted and delivered through the project's \
                 `[adapter]` (the local durable queue by default), like every other event, \
                 so it does not reach SQS or EventBridge.",
                "event OrderPlaced {\n  payload: Json\n  handler: [reserve_stock]\n  type: sqs\n}",
                "Remove `type` to deliver the event through the project's adapter without the \
                 warning. Consumers that read the SQS queue or EventBridge bus directly do not \
                 see the event: give it a handler in this project instead.",
            ),
        };
        Explanation {
            title,
            what,
            example,
            fix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SourceMap;

    #[test]
    fn every_code_has_a_title_an_explanation_an_example_and_a_fix() {
        for code in Code::ALL {
            let e = code.explanation();
            for (part, text) in [
                ("title", e.title),
                ("what", e.what),
                ("example", e.example),
                ("fix", e.fix),
            ] {
                assert!(!text.trim().is_empty(), "{code} has an empty {part}");
            }
            assert!(!e.title.contains('\n'), "{code}: a title is one line");
        }
    }

    /// The example is schema text, so it can be checked: it must get its
    /// own code. E0002 (bytes that are not UTF-8) and E0016 (33 nested
    /// levels) cannot be shown literally in a short example.
    #[test]
    fn every_literal_example_reports_its_code() {
        for code in Code::ALL {
            if matches!(code, Code::E0002 | Code::E0016) {
                continue;
            }
            let mut sources = SourceMap::new();
            sources.add("example.ro", code.explanation().example);
            let checked = crate::check_sources(sources);
            assert!(
                checked.diagnostics.iter().any(|d| d.code == code),
                "the example for {code} does not report it:\n{}",
                checked.render(false)
            );
        }
    }
}
