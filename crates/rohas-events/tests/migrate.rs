//! Queue files written by format 1 and format 2
//! (`fixtures/queue-format-{1,2}.sql`, their DDL word for word) opened by
//! this rohas: converted to format 3 in place, every pending delivery,
//! dead letter and acknowledgement kept; and a file of a format this rohas
//! does not know refused, naming it.

use rohas_events::{
    Adapter, AdapterError, DeadLetterQuery, Delivery, LocalAdapter, LocalOptions, Millis, QueueOptions, Selection,
    Subscription, SubscriptionId, Sync, QUEUE_FILE,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const FORMAT_1: &str = include_str!("fixtures/queue-format-1.sql");
const FORMAT_2: &str = include_str!("fixtures/queue-format-2.sql");

fn open(dir: &Path) -> Result<LocalAdapter, AdapterError> {
    LocalAdapter::open(LocalOptions {
        dir: dir.to_path_buf(),
        sync: Sync::Batch,
        retention: Duration::from_secs(3600),
        queue: QueueOptions::default(),
    })
}

/// The first column of every row `sql` reads.
fn column<T: rusqlite::types::FromSql>(conn: &rusqlite::Connection, sql: &str) -> Vec<T> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn write_file(dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(dir.join(QUEUE_FILE)).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn subscription(handler: &str) -> Subscription {
    Subscription {
        id: SubscriptionId::new(format!("event:OrderPlaced:{handler}")),
        event: "OrderPlaced".into(),
    }
}

/// Every delivery `receive` hands out now (none waits for more).
async fn due(adapter: &LocalAdapter, s: &Subscription) -> Vec<Delivery> {
    let mut out = Vec::new();
    while let Ok(got) = tokio::time::timeout(Duration::from_millis(200), adapter.receive(&s.id, 100)).await {
        if got.is_empty() {
            break;
        }
        out.extend(got);
    }
    out
}

/// `(ready, delayed, dead)` of each of `subs`, as the adapter counts them.
async fn counts(adapter: &LocalAdapter, subs: &[&Subscription]) -> Vec<(usize, usize, usize)> {
    let stats = adapter.stats().await.unwrap();
    subs.iter()
        .map(|s| {
            let x = stats.iter().find(|x| x.handler == s.id).unwrap();
            (x.ready, x.delayed, x.dead)
        })
        .collect()
}

/// Both fixtures hold the same deliveries: m1 to email (a first attempt)
/// and m2's third attempt, with its two failures, are ready; m3 to invoice
/// waits for 2100; m4 to email is dead. The file at `dir`, opened and
/// declared, must say so; gives the ready deliveries, in publish order.
async fn opened_as_written(dir: &Path, what: &str) -> (Arc<LocalAdapter>, Vec<Delivery>) {
    let (email, invoice) = (subscription("email"), subscription("invoice"));
    let adapter = Arc::new(open(dir).unwrap_or_else(|e| panic!("{what} opens: {e}")));
    adapter.declare(&[email.clone(), invoice.clone()]).await.unwrap();
    assert_eq!(counts(&adapter, &[&email, &invoice]).await, [(2, 0, 1), (0, 1, 0)]);
    let got = due(&adapter, &email).await;
    let summary: Vec<(&str, u32, usize)> = got
        .iter()
        .map(|d| (d.message.id.0.as_str(), d.attempt, d.failures.len()))
        .collect();
    assert_eq!(summary, [("m1", 1, 0), ("m2", 3, 2)], "in publish order");
    (adapter, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_1_file_is_converted_keeping_every_delivery() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), FORMAT_1);
    let (email, invoice) = (subscription("email"), subscription("invoice"));
    // Besides the deliveries every fixture holds, m1 and m5 to invoice and
    // m5 to email were acknowledged.
    let (adapter, got) = opened_as_written(dir.path(), "a format 1 file").await;
    let (m1, m2) = (&got[0].message, &got[1].message);
    assert_eq!(m1.event, "OrderPlaced");
    assert_eq!(m1.payload, serde_json::json!({"order": 1}));
    assert_eq!(m1.published_at, Millis(1_700_000_000_000));
    assert_eq!(m1.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        m1.traceparent.as_deref(),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    );
    assert_eq!(m1.source, "api:PlaceOrder");
    assert_eq!(m2.payload, serde_json::json!({"order": 2, "note": "café \"x\""}));
    assert_eq!(
        (m2.trace_id.as_str(), m2.traceparent.as_deref(), m2.source.as_str()),
        ("t2", None, "cron:Nightly")
    );
    assert_eq!(got[1].failures[1].error, "smtp down");
    assert_eq!(got[1].failures[1].at, Millis(1_700_000_003_000));
    assert!(due(&adapter, &invoice).await.is_empty(), "m3 waits for 2100");

    let dead = adapter.dead_letters(DeadLetterQuery::default()).await.unwrap().items;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].message.id.0.as_str(), dead[0].handler.clone()),
        ("m4", email.id.clone())
    );
    assert_eq!(dead[0].attempts.len(), 3);
    assert_eq!(dead[0].attempts[2].error, "bad address");
    assert_eq!(dead[0].dead_at, Millis(1_700_000_006_000));
    let filtered = DeadLetterQuery {
        event: Some("Other".into()),
        ..Default::default()
    };
    assert!(adapter.dead_letters(filtered).await.unwrap().items.is_empty());

    // Acknowledging after the conversion, and replaying the dead letter,
    // work as on a new file; the next message gets a new seq.
    for d in got {
        adapter.ack(d, vec![]).await.unwrap();
    }
    let replayed = adapter
        .replay(Selection::Ids {
            ids: vec![dead[0].id.clone()],
        })
        .await
        .unwrap();
    assert_eq!(replayed.replayed, 1);
    let again = due(&adapter, &email).await;
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].message.id.0.as_str(), again[0].attempt), ("m4", 1));
    adapter
        .publish(vec![rohas_events::Message::new(
            "OrderPlaced",
            serde_json::json!({"order": 6}),
            "t6",
            "test",
        )])
        .await
        .unwrap();
    adapter.close().await;
    drop(adapter);

    // Reopened: converted once; m4 (replayed, not acknowledged), m6, and
    // the delayed m3 are what is left.
    let adapter = open(dir.path()).unwrap();
    adapter.declare(&[email.clone(), invoice.clone()]).await.unwrap();
    let ids: Vec<String> = due(&adapter, &email)
        .await
        .iter()
        .map(|d| d.message.id.0.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], "m4");
    assert_eq!(counts(&adapter, &[&invoice]).await[0].1, 1, "m3 still delayed");
    adapter.close().await;
    drop(adapter);

    let conn = rusqlite::Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
    assert_eq!(
        column::<String>(&conn, "SELECT value FROM meta WHERE key = 'format'"),
        ["3"]
    );
    // The three acknowledgements of format 1 kept with their time, and
    // m1 and m2 to email since.
    let acks: Vec<i64> = column(&conn, "SELECT at FROM acks ORDER BY receipt");
    assert_eq!(acks.len(), 5);
    assert_eq!(acks[1], 1_700_000_000_500, "m1 to invoice");
    assert_eq!(&acks[3..], [1_700_000_004_500, 1_700_000_004_600], "m5");
    let old: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('messages_1', 'deliveries_1', 'deliveries_by_message')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0, "format 1's tables are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_2_file_is_converted_keeping_every_delivery() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), FORMAT_2);
    let (email, invoice) = (subscription("email"), subscription("invoice"));
    // Besides the deliveries every fixture holds, m1 to invoice was
    // acknowledged, and m5 went to no handler.
    let (adapter, got) = opened_as_written(dir.path(), "a format 2 file").await;
    assert_eq!(got[0].message.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    let dead = adapter.dead_letters(DeadLetterQuery::default()).await.unwrap().items;
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].message.id.0.as_str(), dead[0].attempts.len()), ("m4", 3));

    // A non-retryable failure of a first attempt (no row of its own) is
    // buried; a retry of one is kept with its failure; purging settles.
    let mut got = got.into_iter();
    let (first, retried) = (got.next().unwrap(), got.next().unwrap());
    let failure = |attempt: u32| rohas_events::Failure {
        attempt,
        error: "nope".into(),
        trace_id: "t".into(),
        at: Millis(1),
    };
    adapter.retry(first, failure(1), Millis(0)).await.unwrap();
    let again = due(&adapter, &email).await;
    assert_eq!((again[0].message.id.0.as_str(), again[0].attempt), ("m1", 2));
    adapter
        .bury(again.into_iter().next().unwrap(), failure(2))
        .await
        .unwrap();
    adapter.ack(retried, vec![]).await.unwrap();
    let dead = adapter.dead_letters(DeadLetterQuery::default()).await.unwrap().items;
    assert_eq!(dead.len(), 2);
    let purged = adapter.purge(Selection::All { all: true, event: None }).await.unwrap();
    assert_eq!(purged, 2);
    adapter.close().await;
    drop(adapter);

    let conn = rusqlite::Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
    assert_eq!(
        column::<String>(&conn, "SELECT value FROM meta WHERE key = 'format'"),
        ["3"]
    );
    let subs: Vec<String> = column(
        &conn,
        "SELECT json_group_array(j.value) FROM messages m, json_each(m.subs) j GROUP BY m.seq ORDER BY m.seq",
    );
    assert_eq!(subs.len(), 4, "m5 went to no handler: {subs:?}");
    assert!(subs[0] == "[1,2]" || subs[0] == "[2,1]", "{subs:?}");
    assert_eq!(&subs[1..], ["[1]", "[2]", "[1]"]);
    drop(conn);

    // Reopened: only m3, delayed, is left; nothing dead.
    let adapter = open(dir.path()).unwrap();
    adapter.declare(&[email.clone(), invoice.clone()]).await.unwrap();
    assert_eq!(counts(&adapter, &[&email, &invoice]).await, [(0, 0, 0), (0, 1, 0)]);
    adapter.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_of_a_later_format_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO meta VALUES ('format', '99');",
    );
    let Err(error) = open(dir.path()) else {
        panic!("a format 99 file opened")
    };
    let text = error.to_string();
    assert!(matches!(error, AdapterError::Corrupt { .. }), "{text}");
    assert!(text.contains("queue format 99") && text.contains(QUEUE_FILE), "{text}");
    let conn = rusqlite::Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
    let format: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(format, "99", "left as it was");
}
