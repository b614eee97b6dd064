//! The recorder and the store together, on real files: what is recorded
//! is what the queries answer; retention, the size cap, a damaged or
//! deleted file and a full disk never stop recording.

use rohas_telemetry::{Level, LogEntry, LogQuery, Options, Span, SpanId, SpanKind, Telemetry, TraceQuery};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn start(folder: &std::path::Path) -> (Telemetry, Arc<Mutex<Vec<String>>>) {
    let said = Arc::new(Mutex::new(Vec::new()));
    let copy = said.clone();
    let t = Telemetry::start(Options {
        folder: Some(folder.to_path_buf()),
        notice: Arc::new(move |m| copy.lock().unwrap().push(m.to_string())),
        ..Options::default()
    });
    (t, said)
}

fn span(
    trace: &str,
    parent: Option<SpanId>,
    name: &str,
    kind: SpanKind,
    handler: Option<&str>,
    start_ns: u64,
    duration_ns: u64,
) -> Span {
    let mut s = Span::new(trace, SpanId::random(), parent, Arc::from(name), kind);
    s.handler = handler.map(Arc::from);
    s.start_ns = start_ns;
    s.duration_ns = duration_ns;
    s
}

/// A finished `GET /` request span of `trace`, started now.
fn root_now(trace: &str) -> Span {
    span(
        trace,
        None,
        "GET /",
        SpanKind::Request,
        None,
        rohas_telemetry::now_ns(),
        1,
    )
}

fn log(trace: &str, source: &str, time_ns: u64, level: Level, message: &str) -> LogEntry {
    LogEntry {
        time_ns,
        level,
        source: Arc::from(source),
        trace_id: Some(trace.into()),
        span_id: None,
        message: message.into(),
        fields: Default::default(),
        truncated: false,
    }
}

#[test]
fn a_request_and_what_it_caused_come_back_as_one_tree_with_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = start(dir.path());
    let now = rohas_telemetry::now_ns();
    let root = span(
        "t1",
        None,
        "POST /users",
        SpanKind::Request,
        Some("api:CreateUser"),
        now,
        5_000_000,
    );
    let call = span(
        "t1",
        Some(root.span_id),
        "api:CreateUser",
        SpanKind::Handler,
        Some("api:CreateUser"),
        now + 1000,
        3_000_000,
    );
    let publish = span(
        "t1",
        Some(root.span_id),
        "publish UserCreated",
        SpanKind::Publish,
        None,
        now + 3_500_000,
        100_000,
    );
    let mut delivery = span(
        "t1",
        Some(publish.span_id),
        "UserCreated → welcome",
        SpanKind::Delivery,
        Some("event:UserCreated:welcome"),
        now + 4_000_000,
        2_000_000,
    );
    delivery.attempt = Some(1);
    delivery.failed("smtp down");
    let retry_call = span(
        "t1",
        Some(delivery.span_id),
        "event:UserCreated:welcome",
        SpanKind::Handler,
        Some("event:UserCreated:welcome"),
        now + 4_100_000,
        1_000_000,
    );
    for s in [
        retry_call.clone(),
        delivery.clone(),
        publish.clone(),
        call.clone(),
        root.clone(),
    ] {
        t.span(s);
    }
    // Python tags lines with the handler's own name, not its id.
    t.log(log("t1", "CreateUser", now + 2_000_000, Level::Info, "creating user"));
    t.log(log(
        "t1",
        "event:UserCreated:welcome",
        now + 4_500_000,
        Level::Error,
        "smtp down",
    ));
    t.log(log("other", "api:Other", now, Level::Info, "not this trace"));
    assert!(t.flush(WAIT));
    let reader = t.reader().unwrap();

    let tree = reader.trace("t1").unwrap();
    let order: Vec<(&str, usize)> = tree.spans.iter().map(|n| (&*n.span.name, n.depth)).collect();
    assert_eq!(
        order,
        [
            ("POST /users", 0),
            ("api:CreateUser", 1),
            ("publish UserCreated", 1),
            ("UserCreated → welcome", 2),
            ("event:UserCreated:welcome", 3)
        ]
    );
    assert_eq!(
        tree.spans[1].logs.len(),
        1,
        "the handler's log belongs to its call span"
    );
    assert_eq!(tree.spans[1].logs[0].message, "creating user");
    assert_eq!(tree.spans[4].logs[0].message, "smtp down");
    assert_eq!(tree.spans[3].span.attempt, Some(1));
    assert_eq!(tree.duration_ns, 6_000_000);

    let page = reader.traces(&TraceQuery::default()).unwrap();
    let t1 = page.items.iter().find(|s| s.trace_id == "t1").expect("t1 listed");
    assert_eq!((t1.spans, t1.errors), (5, 1));
    assert!(t1.handlers.contains(&"event:UserCreated:welcome".to_string()));
    let errors = reader.traces(&TraceQuery::from_query("status=error").unwrap()).unwrap();
    assert_eq!(errors.items.len(), 1);
    let by_handler = reader
        .traces(&TraceQuery::from_query("handler=event:UserCreated:welcome").unwrap())
        .unwrap();
    assert_eq!(by_handler.items.len(), 1);
    let slow = reader
        .traces(&TraceQuery::from_query("min_duration_ms=6").unwrap())
        .unwrap();
    assert!(slow.items.is_empty(), "the root took 5 ms");

    let warn = reader.logs(&LogQuery::from_query("level=warn").unwrap()).unwrap();
    assert_eq!(warn.items.len(), 1);
    assert_eq!(warn.items[0].message, "smtp down");
    let text = reader.logs(&LogQuery::from_query("text=CREATING").unwrap()).unwrap();
    assert_eq!(text.items.len(), 1);
    let by_id = reader
        .logs(&LogQuery::from_query("handler=api:CreateUser").unwrap())
        .unwrap();
    assert_eq!(
        by_id.items.len(),
        1,
        "the handler id finds lines tagged with the handler's name"
    );
    let by_name = reader
        .logs(&LogQuery::from_query("handler=send_welcome").unwrap())
        .unwrap();
    assert!(by_name.items.is_empty(), "a part of a name is not a match");
    assert!(reader.trace("nope").unwrap_err().to_string().contains("no trace nope"));
    t.close();
}

#[test]
fn pages_follow_their_cursor_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = start(dir.path());
    let now = rohas_telemetry::now_ns();
    for i in 0..25u64 {
        t.span(span(
            &format!("trace-{i}"),
            None,
            "GET /",
            SpanKind::Request,
            None,
            now + i,
            1,
        ));
        t.log(log(
            &format!("trace-{i}"),
            "engine",
            now + i,
            Level::Info,
            &format!("line {i}"),
        ));
    }
    assert!(t.flush(WAIT));
    let reader = t.reader().unwrap();
    let mut seen = Vec::new();
    let mut q = TraceQuery {
        limit: Some(10),
        ..TraceQuery::default()
    };
    loop {
        let page = reader.traces(&q).unwrap();
        seen.extend(page.items.iter().map(|s| s.trace_id.clone()));
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).rev().map(|i| format!("trace-{i}")).collect();
    assert_eq!(seen, expected, "newest first, each once");
    let mut lines = Vec::new();
    let mut q = LogQuery {
        limit: Some(7),
        ..LogQuery::default()
    };
    loop {
        let page = reader.logs(&q).unwrap();
        lines.extend(page.items.into_iter().map(|l| l.message));
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    assert_eq!(lines.len(), 25);
    assert_eq!(lines[0], "line 24");
    t.close();
}

#[test]
fn a_trace_written_over_many_batches_and_hours_comes_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (t, said) = start(dir.path());
    let now = rohas_telemetry::now_ns();
    let hour = 3600 * 1_000_000_000;
    // The engine's ids (time first), a W3C id of another system, a client's.
    let ours = rohas_telemetry::new_trace_id();
    let theirs = "4bf92f3577b34da6a3ce929d0e0e4736";
    let clients = "order-42";
    let mut roots = Vec::new();
    for (i, trace) in [ours.as_str(), theirs, clients].into_iter().enumerate() {
        let root = span(trace, None, "POST /orders", SpanKind::Request, None, now + i as u64, 10);
        roots.push(root.span_id);
        t.span(root.clone());
        assert!(t.flush(WAIT));
        // A delivery a second later, then a retry an hour later: each its
        // own batch, among other traces' spans.
        for (n, at) in [(1, now + 1_000_000_000), (2, now + hour)] {
            t.span(root_now(&rohas_telemetry::new_trace_id()));
            let mut d = span(
                trace,
                Some(root.span_id),
                "OrderPlaced → ship",
                SpanKind::Delivery,
                Some("event:OrderPlaced:ship"),
                at,
                5,
            );
            d.attempt = Some(n);
            if n == 1 {
                d.failed("carrier down");
            }
            t.span(d);
            assert!(t.flush(WAIT));
        }
    }
    let reader = t.reader().unwrap();
    for (trace, root) in [ours.as_str(), theirs, clients].into_iter().zip(&roots) {
        let tree = reader.trace(trace).unwrap();
        assert_eq!(tree.spans.len(), 3, "{trace}");
        assert_eq!(tree.spans[0].span.span_id, *root);
        assert_eq!(tree.spans[0].depth, 0);
        assert!(tree.spans[1..].iter().all(|n| n.depth == 1));
        let attempts: Vec<_> = tree.spans[1..].iter().map(|n| n.span.attempt).collect();
        assert_eq!(attempts, [Some(1), Some(2)], "{trace}");
    }
    let failed = reader
        .traces(&TraceQuery {
            status: Some(rohas_telemetry::SpanStatus::Error),
            ..TraceQuery::default()
        })
        .unwrap();
    let mut ids: Vec<&str> = failed.items.iter().map(|s| s.trace_id.as_str()).collect();
    ids.sort();
    let mut want = vec![ours.as_str(), theirs, clients];
    want.sort();
    assert_eq!(
        ids, want,
        "the failed attempt marks each trace, the roots' blocks have no error"
    );
    assert!(failed
        .items
        .iter()
        .all(|s| s.spans == 3 && s.errors == 1 && s.duration_ns >= hour));
    assert!(said.lock().unwrap().is_empty(), "{:?}", said.lock().unwrap());
    t.close();
}

/// Deliveries of a message published without a stored parent are each a
/// root of the same trace: the list shows the trace once, at its earliest.
#[test]
fn a_trace_with_several_roots_is_listed_once_at_its_earliest() {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = start(dir.path());
    let trace = rohas_telemetry::new_trace_id();
    let now = rohas_telemetry::now_ns();
    let first = span(&trace, None, "A → x", SpanKind::Delivery, Some("event:A:x"), now, 5);
    t.span(first.clone());
    assert!(t.flush(WAIT));
    t.span(root_now(&rohas_telemetry::new_trace_id()));
    t.span(span(
        &trace,
        None,
        "A → y",
        SpanKind::Delivery,
        Some("event:A:y"),
        now + 10,
        5,
    ));
    assert!(t.flush(WAIT));
    let page = t.reader().unwrap().traces(&TraceQuery::default()).unwrap();
    let ours: Vec<_> = page.items.iter().filter(|s| s.trace_id == trace).collect();
    assert_eq!(ours.len(), 1, "{:?}", page.items);
    assert_eq!(ours[0].root.span_id, first.span_id);
    assert_eq!(ours[0].spans, 2);
    assert_eq!(ours[0].handlers, ["event:A:x", "event:A:y"]);
    assert_eq!(page.items.len(), 2);
    t.close();
}

#[test]
fn retention_deletes_what_is_older_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let copy = said.clone();
    let t = Telemetry::start(Options {
        folder: Some(dir.path().to_path_buf()),
        retention: Duration::from_secs(3600),
        notice: Arc::new(move |m| copy.lock().unwrap().push(m.to_string())),
        ..Options::default()
    });
    let now = rohas_telemetry::now_ns();
    let old = now - 2 * 3600 * 1_000_000_000;
    for i in 0..100 {
        t.span(span(
            &format!("old-{i}"),
            None,
            "GET /old",
            SpanKind::Request,
            None,
            old + i,
            1,
        ));
        t.log(log(&format!("old-{i}"), "engine", old + i, Level::Info, "old"));
    }
    // Written before the new ones, as old data is (spans are kept and
    // deleted a written batch at a time).
    assert!(t.flush(WAIT));
    for i in 0..10 {
        t.span(span(
            &format!("new-{i}"),
            None,
            "GET /new",
            SpanKind::Request,
            None,
            now + i,
            1,
        ));
        t.log(log(&format!("new-{i}"), "engine", now + i, Level::Info, "new"));
    }
    assert!(t.flush(WAIT));
    assert!(t.upkeep(WAIT));
    assert!(said.lock().unwrap().is_empty(), "{:?}", said.lock().unwrap());
    let reader = t.reader().unwrap();
    let all = reader
        .traces(&TraceQuery {
            limit: Some(1000),
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(all.items.len(), 10, "only the new traces are left");
    assert!(all.items.iter().all(|s| s.trace_id.starts_with("new-")));
    let logs = reader
        .logs(&LogQuery {
            limit: Some(1000),
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(logs.items.len(), 10);
    assert!(said.lock().unwrap().is_empty());
    t.close();
}

/// A store capped at 256 KiB in `dir`, given 20,000 spans of some 150
/// bytes each (about 3 MB), flushed as they go.
fn capped_with_20_000_spans(dir: &std::path::Path) -> Telemetry {
    let t = Telemetry::start(Options {
        folder: Some(dir.to_path_buf()),
        max_bytes: 256 * 1024,
        ..Options::default()
    });
    let now = rohas_telemetry::now_ns();
    for i in 0..20_000u64 {
        let mut s = span(
            &format!("trace-{i:08}"),
            None,
            "GET /items",
            SpanKind::Request,
            Some("api:Items"),
            now + i,
            1,
        );
        s.attributes.insert("note".into(), json!("x".repeat(64)));
        t.span(s);
        if i % 500 == 499 {
            assert!(t.flush(WAIT));
        }
    }
    assert!(t.flush(WAIT));
    t
}

#[test]
fn the_size_cap_bounds_the_live_data() {
    let dir = tempfile::tempdir().unwrap();
    let t = capped_with_20_000_spans(dir.path());
    assert!(t.upkeep(WAIT));
    let reader = t.reader().unwrap();
    let left = reader
        .traces(&TraceQuery {
            limit: Some(1000),
            ..TraceQuery::default()
        })
        .unwrap();
    assert!(!left.items.is_empty(), "the newest are kept");
    assert_eq!(left.items[0].trace_id, "trace-00019999");
    let conn = rusqlite_count(&t.file().unwrap());
    assert!(conn < 20_000, "old spans were deleted: {conn} left");
    t.close();
}

/// The segment files in a telemetry folder: (number, bytes), oldest first.
fn segment_files(folder: &std::path::Path) -> Vec<(u64, u64)> {
    let mut found: Vec<(u64, u64)> = std::fs::read_dir(folder.join("spans"))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let number = name.strip_suffix(".seg").unwrap().parse().unwrap();
            (number, e.metadata().unwrap().len())
        })
        .collect();
    found.sort_unstable();
    found
}

/// At the cap, spans go a whole segment file at a time: the files left
/// hold no more than the cap, the oldest are gone from disk, and every
/// block a row points to still reads.
#[test]
fn the_size_cap_deletes_whole_segment_files() {
    let dir = tempfile::tempdir().unwrap();
    let t = capped_with_20_000_spans(dir.path());
    assert!(t.upkeep(WAIT));
    let files = segment_files(dir.path());
    let bytes: u64 = files.iter().map(|(_, b)| b).sum();
    assert!(
        bytes <= 256 * 1024,
        "{bytes} bytes of segments under a 256 KiB cap: {files:?}"
    );
    assert!(files.len() > 1, "{files:?}");
    assert!(files[0].0 > 1, "the first segments were deleted: {files:?}");
    let reader = t.reader().unwrap();
    let listed = reader
        .traces(&TraceQuery {
            limit: Some(1000),
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(listed.items.len(), 1000);
    for summary in &listed.items {
        assert_eq!(reader.trace(&summary.trace_id).unwrap().spans.len(), 1);
    }
    t.close();
}

/// A segment cut short under the store (a disk error, a hand edit) is
/// damage the query names, not a panic or a wrong tree.
#[test]
fn a_truncated_segment_is_reported_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = start(dir.path());
    t.span(root_now("cut"));
    assert!(t.flush(WAIT));
    let (number, bytes) = segment_files(dir.path())[0];
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("spans").join(format!("{number:010}.seg")))
        .unwrap()
        .set_len(bytes / 2)
        .unwrap();
    let e = t.reader().unwrap().trace("cut").unwrap_err();
    assert!(matches!(e, rohas_telemetry::QueryError::Damaged { .. }), "{e}");
    assert!(e.to_string().contains("segment file is shorter"), "{e}");
    t.close();
}

/// The segments folder deleted while running: a new store starts, and
/// the rows of the lost segments are dropped when it opens (not left to
/// read as empty until retention).
#[test]
fn rows_whose_segments_are_gone_are_dropped_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (t, said) = start(dir.path());
    t.span(root_now("lost"));
    assert!(t.flush(WAIT));
    std::fs::remove_dir_all(dir.path().join("spans")).unwrap();
    assert!(t.upkeep(WAIT));
    t.span(root_now("after"));
    assert!(t.flush(WAIT));
    assert!(
        said.lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("was deleted while running; started a new one")),
        "{:?}",
        said.lock().unwrap()
    );
    let rows: i64 = rusqlite::Connection::open(t.file().unwrap())
        .unwrap()
        .query_row("SELECT count(*) FROM span_blocks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1, "only the new span's row is left");
    let reader = t.reader().unwrap();
    assert_eq!(reader.trace("after").unwrap().spans.len(), 1);
    t.close();
}

/// A file written before segments (block bytes in the row) is opened:
/// its spans are dropped, its logs kept, and new spans are written.
#[test]
fn a_store_from_before_segments_keeps_its_logs_and_takes_new_spans() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("telemetry.db")).unwrap();
        conn.execute_batch(include_str!("fixtures/store_before_segments.sql"))
            .unwrap();
    }
    let (t, said) = start(dir.path());
    t.span(root_now("new"));
    assert!(t.flush(WAIT));
    assert!(said.lock().unwrap().is_empty(), "{:?}", said.lock().unwrap());
    let reader = t.reader().unwrap();
    assert_eq!(reader.trace("new").unwrap().spans.len(), 1);
    assert!(matches!(
        reader.trace("0af7651916cd43dd8448eb211c80319c"),
        Err(rohas_telemetry::QueryError::NotFound(_))
    ));
    let logs = reader
        .logs(&LogQuery {
            limit: Some(10),
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(logs.items.len(), 1);
    assert_eq!(logs.items[0].message, "written before segments");
    t.close();
}

fn rusqlite_count(file: &std::path::Path) -> i64 {
    let out = std::process::Command::new("sqlite3")
        .arg(file)
        .arg("SELECT coalesce(sum(spans), 0) FROM span_blocks")
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0),
        // No sqlite3 tool: count through the API instead.
        _ => {
            let reader = rohas_telemetry::Reader::in_folder(file.parent().unwrap());
            reader
                .traces(&TraceQuery {
                    limit: Some(1000),
                    ..TraceQuery::default()
                })
                .unwrap()
                .items
                .len() as i64
        }
    }
}

#[test]
fn a_damaged_file_is_moved_aside_and_recording_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("telemetry.db"),
        b"this is not a database, it is a shopping list".repeat(200),
    )
    .unwrap();
    let (t, said) = start(dir.path());
    t.span(root_now("after"));
    assert!(t.flush(WAIT));
    let notes = said.lock().unwrap().clone();
    assert!(
        notes.iter().any(|n| n.contains("was damaged; moved it to")),
        "{notes:?}"
    );
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged file is kept for the user");
    assert_eq!(t.reader().unwrap().trace("after").unwrap().spans.len(), 1);
    t.close();
}

/// Two damaged files in a row (within one second, as a test or a crash
/// loop does) are both kept.
#[test]
fn every_damaged_file_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let garbage = format!("damaged file number {round} ").repeat(300);
        std::fs::write(dir.path().join("telemetry.db"), &garbage).unwrap();
        let (t, _) = start(dir.path());
        t.span(root_now("x"));
        assert!(t.flush(WAIT));
        t.close();
    }
    let mut kept: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
        // The first store's segments went aside with the second file.
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2);
    assert!(kept[0].starts_with("damaged file number 0") && kept[1].starts_with("damaged file number 1"));
}

/// Damage past the first pages opens fine and shows only when a write
/// touches it: the file is moved aside then too, said once, and the batch
/// that found it is written to the new file.
#[test]
fn a_file_damaged_past_its_first_pages_is_moved_aside_when_written() {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = start(dir.path());
    let now = rohas_telemetry::now_ns();
    for i in 0..2000 {
        let trace = format!("before-{i}");
        t.span(span(&trace, None, "GET /", SpanKind::Request, Some("api:A"), now, 1));
        t.log(log(
            &trace,
            "A",
            now,
            Level::Info,
            "a line long enough to fill a few pages",
        ));
    }
    assert!(t.flush(WAIT));
    t.close();
    // Garble the first page of the `logs_by_trace` index, which opening
    // does not read and the next log's insert does.
    let file = dir.path().join("telemetry.db");
    let (page, size): (i64, i64) = {
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.query_row(
            "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = 'logs_by_trace'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let mut bytes = std::fs::read(&file).unwrap();
    let at = ((page - 1) * size) as usize;
    for (i, b) in bytes[at..at + size as usize].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&file, bytes).unwrap();

    let (t, said) = start(dir.path());
    t.span(root_now("after"));
    t.log(log(
        "after",
        "A",
        rohas_telemetry::now_ns(),
        Level::Info,
        "after the damage",
    ));
    assert!(t.flush(WAIT));
    let notes = said.lock().unwrap().clone();
    assert_eq!(
        notes.iter().filter(|n| n.contains("was damaged; moved it to")).count(),
        1,
        "{notes:?}"
    );
    let tree = t.reader().unwrap().trace("after").unwrap();
    assert_eq!((tree.spans.len(), tree.logs.len()), (1, 1), "{tree:?}");
    assert_eq!(t.totals().unstored, 0);
    t.close();
}

/// A query that finds the file damaged tells the recorder, which moves
/// it aside; a report from a query older than the file now written is
/// ignored (it was about the file already replaced).
#[test]
fn damage_a_query_found_moves_the_file_aside_once() {
    let dir = tempfile::tempdir().unwrap();
    let before_start = std::time::Instant::now();
    let (t, said) = start(dir.path());
    t.span(root_now("before"));
    assert!(t.flush(WAIT));
    t.damaged(before_start);
    assert!(t.flush(WAIT));
    assert!(said.lock().unwrap().is_empty(), "a stale report is ignored");

    let found = std::time::Instant::now();
    t.damaged(found);
    t.damaged(found);
    t.span(root_now("after"));
    assert!(t.flush(WAIT));
    let notes = said.lock().unwrap().clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("was damaged; moved it to"), "{notes:?}");
    let reader = t.reader().unwrap();
    assert_eq!(reader.trace("after").unwrap().spans.len(), 1);
    assert!(reader.trace("before").is_err(), "the old file is aside");
    t.close();
}

#[test]
fn a_file_deleted_while_running_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("telemetry");
    let (t, said) = start(&folder);
    t.span(root_now("before"));
    assert!(t.flush(WAIT));
    std::fs::remove_dir_all(&folder).unwrap();
    assert!(t.upkeep(WAIT));
    t.span(root_now("after"));
    assert!(t.flush(WAIT));
    let notes = said.lock().unwrap().clone();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("was deleted while running; started a new one")),
        "{notes:?}"
    );
    let reader = t.reader().unwrap();
    assert_eq!(reader.trace("after").unwrap().spans.len(), 1);
    assert!(reader.trace("before").is_err());
    t.close();
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_waiting() {
    // No store and a tiny queue: the thread is the only consumer, and
    // recording 100k spans must return at once whatever it does.
    let t = Telemetry::start(Options {
        folder: None,
        queue_capacity: 16,
        ..Options::default()
    });
    for i in 0..100_000u64 {
        let mut s = span("flood", None, "x", SpanKind::Handler, Some("api:X"), i, 1);
        s.handler = Some(Arc::from("api:X"));
        t.span(s);
    }
    assert!(t.flush(WAIT));
    let text = t.prometheus();
    let dropped: f64 = text
        .lines()
        .find(|l| l.starts_with("rohas_telemetry_dropped_total{record=\"span\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let counted: u64 = t.totals().handlers.values().map(|s| s.ok).sum();
    assert_eq!(counted + dropped as u64, 100_000, "every span is counted or dropped");
    t.close();
}

#[test]
fn huge_log_values_are_cut_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = start(dir.path());
    let mut entry = log(
        "big",
        "api:Big",
        rohas_telemetry::now_ns(),
        Level::Info,
        &"m".repeat(1_000_000),
    );
    entry.fields.insert("blob".into(), json!("f".repeat(1_000_000)));
    t.log(entry);
    assert!(t.flush(WAIT));
    let page = t.reader().unwrap().logs(&LogQuery::default()).unwrap();
    let l = &page.items[0];
    assert!(l.truncated);
    assert!(
        l.message.len() < 10_000 && l.message.contains("[truncated"),
        "{}",
        l.message.len()
    );
    assert!(l.fields["blob"].as_str().unwrap().len() < 3_000);
    t.close();
}

/// A small tmpfs mounted for the test (root only; otherwise it says why
/// and passes without checking).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_stops_writing_says_so_once_and_resumes_when_freed() {
    let Some(disk) = SmallDisk::mount(2 * 1024 * 1024) else {
        return;
    };
    let filler = disk.dir.path().join("filler");
    let (t, said) = start(&disk.dir.path().join("telemetry"));
    t.span(root_now("first"));
    assert!(t.flush(WAIT));
    // Take what is left of the disk.
    let _ = std::fs::write(&filler, vec![0u8; 2 * 1024 * 1024]);
    for i in 0..5_000u64 {
        let mut s = root_now(&format!("full-{i}"));
        s.attributes.insert("pad".into(), json!("p".repeat(1000)));
        t.span(s);
    }
    assert!(t.flush(WAIT), "recording goes on on a full disk");
    let notes = said.lock().unwrap().clone();
    let full: Vec<_> = notes.iter().filter(|n| n.contains("the disk is full")).collect();
    assert_eq!(full.len(), 1, "said once: {notes:?}");
    assert!(full[0].contains("the application keeps serving"), "{}", full[0]);
    std::fs::remove_file(&filler).unwrap();
    assert!(t.upkeep(WAIT));
    t.span(root_now("freed"));
    assert!(t.flush(WAIT));
    let notes = said.lock().unwrap().clone();
    assert!(
        notes.iter().any(|n| n.contains("writing to") && n.ends_with("again")),
        "{notes:?}"
    );
    assert_eq!(t.reader().unwrap().trace("freed").unwrap().spans.len(), 1);
    assert!(t.prometheus().contains("rohas_telemetry_unstored_total"));
    t.close();
}

/// Upkeep does not wait for its minute when spans come faster than the
/// cap allows: a tenth of the cap written since the last one runs it.
#[test]
fn a_store_written_fast_is_kept_near_its_cap_without_an_explicit_upkeep() {
    let dir = tempfile::tempdir().unwrap();
    let t = capped_with_20_000_spans(dir.path());
    let left = rusqlite_count(&t.file().unwrap());
    assert!(
        left < 20_000,
        "old spans were deleted without waiting a minute: {left} left"
    );
    assert!(left > 0, "the newest are kept");
    t.close();
}
