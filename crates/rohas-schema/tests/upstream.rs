//! Constructs of upstream rohas projects (docs/schema.md, "Coming from
//! upstream rohas"): each is accepted with the meaning the docs give it, and
//! each wrong argument is a diagnostic at its `file:line:column`.

use rohas_schema::model::{PathSegment, Primitive, TypeRef};
use rohas_schema::{check_sources, Checked, Code, Schema, Severity, SourceMap};

fn check(text: &str) -> Checked {
    let mut sources = SourceMap::new();
    sources.add("app.ro", text);
    check_sources(sources)
}

/// The schema of `text`, which must have no diagnostic at all.
fn clean(text: &str) -> Schema {
    let checked = check(text);
    assert!(checked.diagnostics.is_empty(), "{}", checked.render(false));
    checked.schema.expect("valid")
}

/// The one diagnostic of `text`: its code, `line:column` and message.
fn only(text: &str) -> (Code, String, String) {
    let checked = check(text);
    assert_eq!(checked.diagnostics.len(), 1, "{}", checked.render(false));
    let d = &checked.diagnostics[0];
    let rendered = checked.render(false);
    let at = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> app.ro:"))
        .expect("a location")
        .to_string();
    (d.code, at, d.message.clone())
}

// ---- accepted ---------------------------------------------------------------

#[test]
fn bool_is_boolean() {
    let schema = clean("type Flags {\n  on: Bool\n  all: Bool[]\n}");
    let fields = &schema.types[0].fields;
    assert!(matches!(fields[0].ty, TypeRef::Primitive(Primitive::Boolean)));
    assert!(
        matches!(&fields[1].ty, TypeRef::Array(inner) if matches!(**inner, TypeRef::Primitive(Primitive::Boolean)))
    );
}

#[test]
fn braced_path_parameters_are_colon_parameters() {
    let schema = clean("api GetItem {\n  method: GET\n  path: \"/orders/{orderId}/items/{id}\"\n}");
    let api = &schema.apis[0];
    assert_eq!(api.path, "/orders/:orderId/items/:id");
    assert_eq!(
        api.segments,
        vec![
            PathSegment::Literal("orders".into()),
            PathSegment::Param("orderId".into()),
            PathSegment::Literal("items".into()),
            PathSegment::Param("id".into()),
        ]
    );
}

#[test]
fn braced_and_colon_parameters_are_the_same_route() {
    let checked = check(
        "api A {\n  method: GET\n  path: \"/users/{id}\"\n}\napi B {\n  method: GET\n  path: \"/users/:name\"\n}",
    );
    assert!(
        checked.diagnostics.iter().any(|d| d.code == Code::E0012),
        "{}",
        checked.render(false)
    );
}

#[test]
fn quoted_names_in_lists_are_names() {
    let schema = clean(
        "event Done {\n  payload: Json\n  handler: [\"notify\"]\n}\n\
         api Ping {\n  method: POST\n  path: \"/ping\"\n  middlewares: [\"auth\", rate_limit]\n  triggers: [\"Done\"]\n}",
    );
    let names: Vec<&str> = schema.apis[0].middlewares.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["auth", "rate_limit"]);
    assert_eq!(schema.apis[0].triggers[0].name, "Done");
    assert_eq!(schema.events[0].handlers[0].name, "notify");
}

#[test]
fn event_type_sqs_is_accepted_with_a_warning() {
    for (written, broker, service) in [
        ("sqs", "sqs", "SQS"),
        ("eventbridge", "eventbridge", "EventBridge"),
        ("\"SQS\"", "sqs", "SQS"),
    ] {
        let checked = check(&format!(
            "event Placed {{\n  payload: Json\n  handler: [reserve]\n  type: {written}\n}}"
        ));
        assert_eq!(checked.diagnostics.len(), 1, "{}", checked.render(false));
        let d = &checked.diagnostics[0];
        assert_eq!((d.code, d.severity), (Code::W0004, Severity::Warning));
        assert!(d.message.contains(service), "{}", d.message);
        assert!(d.help.as_deref().unwrap().contains("[adapter]"), "{d:?}");
        let schema = checked.schema.expect("a warning does not block the schema");
        assert_eq!(schema.events[0].broker.as_ref().unwrap().name, broker);
    }
}

#[test]
fn cron_handler_names_the_handler() {
    let schema = clean("cron DailyCleanup {\n  schedule: \"0 */5 * * * *\"\n  handler: daily_cleanup\n}");
    assert_eq!(schema.crons[0].handler.as_ref().unwrap().name, "daily_cleanup");
    let schema = clean("cron Nightly {\n  schedule: \"0 0 * * *\"\n  handler: [\"purge\"]\n}");
    assert_eq!(schema.crons[0].handler.as_ref().unwrap().name, "purge");
    let schema = clean("cron Nightly {\n  schedule: \"0 0 * * *\"\n}");
    assert!(schema.crons[0].handler.is_none());
}

#[test]
fn seven_field_cron_has_a_year() {
    let schema = clean("cron Launch {\n  schedule: \"0 0 12 1 1 * 2027\"\n}");
    let cron = &schema.crons[0];
    assert_eq!(cron.expression(), "0 0 12 1 1 *");
    let years = cron.years.as_ref().unwrap();
    assert!(years.contains(2027) && !years.contains(2026) && !years.contains(2028));
    assert_eq!(years.next_from(2020), Some(2027));
    assert_eq!(years.next_from(2028), None);

    let schema = clean("cron Every {\n  schedule: \"0 0 12 * * * 2026-2034/4,2040\"\n}");
    let years = schema.crons[0].years.clone().unwrap();
    let runs: Vec<i32> = (2025..2045).filter(|y| years.contains(*y)).collect();
    assert_eq!(runs, [2026, 2030, 2034, 2040]);

    // `*` is every year: no restriction at all.
    let schema = clean("cron Always {\n  schedule: \"0 0 12 * * * *\"\n}");
    assert!(schema.crons[0].years.is_none());
    assert_eq!(schema.crons[0].expression(), "0 0 12 * * *");
}

#[test]
fn relations_in_both_spellings_are_kept() {
    let schema = clean(
        "model User {\n  id Int @id\n  posts Post[] @relation({name: \"UserPosts\"})\n}\n\
         model Post {\n  id Int @id\n  userId Int\n  \
         author User @relation(fields: [userId], references: [id], onDelete: Cascade, onUpdate: Restrict)\n  \
         editor User? @relation({\n    name: \"Edits\",\n    fields: [editorId],\n    references: [id],\n    onDelete: SetNull\n  })\n  \
         editorId Int?\n  tags Tag[] @relation({ name: \"PostTags\", through: PostTag })\n}\n\
         model Tag {\n  id Int @id\n}\nmodel PostTag {\n  postId Int\n  tagId Int\n}",
    );
    let user = schema.type_decl("User").unwrap();
    assert_eq!(
        user.fields[1].relation.as_ref().unwrap().name.as_deref(),
        Some("UserPosts")
    );
    let post = schema.type_decl("Post").unwrap();
    let author = post.fields[2].relation.as_ref().unwrap();
    assert_eq!(author.fields[0].name, "userId");
    assert_eq!(author.references[0].name, "id");
    assert_eq!(author.on_delete.as_deref(), Some("Cascade"));
    assert_eq!(author.on_update.as_deref(), Some("Restrict"));
    let editor = post.fields[3].relation.as_ref().unwrap();
    assert_eq!(editor.name.as_deref(), Some("Edits"));
    assert_eq!(editor.on_delete.as_deref(), Some("SetNull"));
    let tags = post.fields[5].relation.as_ref().unwrap();
    assert_eq!(tags.through.as_ref().unwrap().name, "PostTag");
    // A relation is metadata: the field is an ordinary field of its type.
    assert!(post.fields[2].attributes.is_empty());
}

#[test]
fn model_indexes_are_kept() {
    let schema = clean(
        "model Tagging {\n  postId Int\n  @@index([postId])\n  tagId Int\n  @@unique([postId, tagId])\n  @@index(fields: [tagId])\n}",
    );
    let decl = &schema.types[0];
    assert_eq!(decl.fields.len(), 2);
    let shown: Vec<(bool, Vec<&str>)> = decl
        .indexes
        .iter()
        .map(|i| (i.unique, i.fields.iter().map(|f| f.name.as_str()).collect()))
        .collect();
    assert_eq!(
        shown,
        [
            (false, vec!["postId"]),
            (true, vec!["postId", "tagId"]),
            (false, vec!["tagId"])
        ]
    );
}

// ---- wrong arguments ----------------------------------------------------------

#[test]
fn unknown_event_type_is_an_error_at_the_value() {
    let (code, at, message) = only("event E {\n  payload: Json\n  handler: [h]\n  type: kafka\n}");
    assert_eq!((code, at.as_str()), (Code::E0009, "4:9"));
    assert!(message.contains("`sqs` or `eventbridge`"), "{message}");
    let checked = check("event E {\n  payload: Json\n  handler: [h]\n  type: sqss\n}");
    assert_eq!(checked.diagnostics[0].help.as_deref(), Some("did you mean `sqs`?"));
    let (code, at, _) = only("event E {\n  payload: Json\n  handler: [h]\n  type: [sqs]\n}");
    assert_eq!((code, at.as_str()), (Code::E0009, "4:9"));
}

#[test]
fn a_cron_has_one_handler() {
    let (code, at, message) = only("cron C {\n  schedule: \"0 0 * * *\"\n  handler: [a, b]\n}");
    assert_eq!((code, at.as_str()), (Code::E0009, "3:12"));
    assert!(message.contains("one handler"), "{message}");
    let (code, at, _) = only("cron C {\n  schedule: \"0 0 * * *\"\n  handler: 5\n}");
    assert_eq!((code, at.as_str()), (Code::E0009, "3:12"));
}

#[test]
fn a_quoted_list_entry_must_be_a_name() {
    let (code, at, message) =
        only("api A {\n  method: GET\n  path: \"/a\"\n  middlewares: [\"auth\", \"rate-limit\"]\n}");
    assert_eq!((code, at.as_str()), (Code::E0009, "4:25"));
    assert!(message.contains("\"rate-limit\" is not one"), "{message}");
}

#[test]
fn malformed_braced_parameters_are_e0014() {
    for (path, problem) in [
        ("/users/{id", "`{id` is not a valid path parameter"),
        ("/users/{}", "`{}` is not a valid path parameter"),
        ("/users/x{id}", "`x{id}` is not a valid path parameter"),
        ("/users/{a-b}", "`{a-b}` is not a valid path parameter"),
        ("/users/{id}/{id}", "parameter `:id` appears twice"),
        ("/users/{id}/:id", "parameter `:id` appears twice"),
    ] {
        let (code, at, message) = only(&format!("api A {{\n  method: GET\n  path: \"{path}\"\n}}"));
        assert_eq!((code, at.as_str()), (Code::E0014, "3:9"), "{path}");
        assert!(message.contains(problem), "{path}: {message}");
    }
}

#[test]
fn bad_year_fields_are_e0015() {
    for (year, problem) in [
        ("1969", "`1969` is not a year from 1970 to 2099"),
        ("2100", "`2100` is not a year"),
        ("2030-2026", "ends before it starts"),
        ("2026/0", "`0` is not a step"),
        ("next", "`next` is not a year"),
    ] {
        let (code, at, message) = only(&format!("cron C {{\n  schedule: \"0 0 12 * * * {year}\"\n}}"));
        assert_eq!((code, at.as_str()), (Code::E0015, "2:13"), "{year}");
        let checked = check(&format!("cron C {{\n  schedule: \"0 0 12 * * * {year}\"\n}}"));
        let label = &checked.diagnostics[0].labels[0].message;
        assert!(label.contains(problem), "{year}: {label}");
        assert!(message.contains("invalid cron schedule"), "{message}");
    }
    let (code, _, _) = only("cron C {\n  schedule: \"0 0 12 * * * 2026 1\"\n}");
    assert_eq!(code, Code::E0015);
}

/// Every wrong `@relation` is E0017 at the offending argument.
#[test]
fn wrong_relation_arguments_are_e0017() {
    let models = "model User {\n  id Int @id\n}\nmodel Post {\n  id Int @id\n  userId Int\n";
    for (attr, column, problem) in [
        (
            "@relation(fields: [userId], references: [id], onDelete: Explode)",
            71,
            "`onDelete` must be one of",
        ),
        (
            "@relation(fields: [userId])",
            15,
            "`fields` lists 1 field(s) but `references` lists 0",
        ),
        (
            "@relation(fields: userId, references: [id])",
            33,
            "`fields` must be a list of field names",
        ),
        (
            "@relation(fields: [userId], references: [id], onDelet: Cascade)",
            61,
            "has no argument `onDelet`",
        ),
        ("@relation(name: 5)", 31, "`name` must be a string"),
        ("@relation(name: \"a\", name: \"b\")", 36, "`name` is given twice"),
        ("@relation(through: Nothing)", 34, "`through` must name a model"),
        ("@relation(42)", 25, "does not take a number"),
        ("@relation(fields: [], references: [id])", 33, "`fields` lists no field"),
    ] {
        let text = format!("{models}  author User {attr}\n}}");
        let (code, at, message) = only(&text);
        assert_eq!((code, at), (Code::E0017, format!("7:{column}")), "{attr}");
        assert!(message.contains(problem), "{attr}: {message}");
    }
    let (code, at, message) = only("model Post {\n  id Int @id\n  title String @relation(name: \"x\")\n}");
    assert_eq!((code, at.as_str()), (Code::E0017, "3:16"));
    assert!(message.contains("whose type is a model"), "{message}");
    // Plain attributes take plain values only.
    let (code, at, message) = only("model Post {\n  id Int @default([1])\n}");
    assert_eq!((code, at.as_str()), (Code::E0017, "2:19"));
    assert!(message.contains("plain values"), "{message}");
}

#[test]
fn relation_and_index_fields_must_exist() {
    let models = "model User {\n  id Int @id\n}\n";
    let (code, at, message) = only(&format!(
        "{models}model Post {{\n  userId Int\n  author User @relation(fields: [userID], references: [id])\n}}"
    ));
    assert_eq!((code, at.as_str()), (Code::E0017, "6:34"));
    assert_eq!(message, "`Post` has no field `userID`");
    let checked = check(&format!(
        "{models}model Post {{\n  userId Int\n  author User @relation(fields: [userID], references: [id])\n}}"
    ));
    assert_eq!(checked.diagnostics[0].help.as_deref(), Some("did you mean `userId`?"));

    let (code, at, message) = only(&format!(
        "{models}model Post {{\n  userId Int\n  author User @relation(fields: [userId], references: [key])\n}}"
    ));
    assert_eq!((code, at.as_str()), (Code::E0017, "6:56"));
    assert_eq!(message, "`User` has no field `key`");

    let (code, at, message) = only("model Post {\n  id Int\n  @@index([id, title])\n}");
    assert_eq!((code, at.as_str()), (Code::E0017, "3:16"));
    assert_eq!(message, "`Post` has no field `title`");
}

#[test]
fn wrong_model_attributes_are_e0017() {
    let (code, at, message) = only("model Post {\n  id Int\n  @@idnex([id])\n}");
    assert_eq!((code, at.as_str()), (Code::E0017, "3:5"));
    assert!(message.contains("unknown model attribute `@@idnex`"), "{message}");
    let checked = check("model Post {\n  id Int\n  @@idnex([id])\n}");
    assert_eq!(checked.diagnostics[0].help.as_deref(), Some("did you mean `@@index`?"));

    for (attr, problem) in [
        ("@@unique(id)", "takes one list of field names"),
        ("@@unique", "takes one list of field names"),
        ("@@index([id], [id])", "takes one list of field names"),
        ("@@index([])", "lists no field"),
    ] {
        let (code, at, message) = only(&format!("model Post {{\n  id Int\n  {attr}\n}}"));
        assert_eq!(code, Code::E0017, "{attr}");
        assert!(at.starts_with("3:"), "{attr}: {at}");
        assert!(message.contains(problem), "{attr}: {message}");
    }
    let (code, _, message) = only("model Post {\n  id Int\n  @@index([id, id])\n}");
    assert_eq!(code, Code::E0010, "{message}");
    // Not in an inline object type.
    let (code, at, message) = only("type Post {\n  meta: { a: Int\n  @@index([a]) }\n}");
    assert_eq!((code, at.as_str()), (Code::E0017, "3:3"));
    assert!(message.contains("belongs in a model body"), "{message}");
}
