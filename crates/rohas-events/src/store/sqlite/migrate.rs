//! Older queue files converted when opened, inside the transaction that
//! opens it: either the whole file is converted or, on any failure,
//! nothing is, and the error names the file. Format 1 becomes format 2
//! ([`run`]), and format 2 becomes format 3 ([`from_2`]).
//!
//! Every pending delivery, dead letter (with its failures) and
//! acknowledged row format 1 kept is kept. Receipts are renumbered
//! (`(message << 16) | subscription number`, see `store::receipt`), so a
//! dead letter's id changes with the conversion; format 1's receipts were
//! handed out in publish order, as format 2's are, so the order of
//! deliveries is the same. An acknowledged row becomes a live delivery
//! with an `acks` row holding its `settled_at`.

use super::envelope;
use crate::message::{Message, MessageId};
use crate::store::receipt::MAX_SUBSCRIPTIONS;
use crate::time::Millis;
use rusqlite::{params, Connection};

/// The oldest format this converts.
pub(super) const FROM: &str = "1";

pub(super) fn run(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE messages RENAME TO messages_1;
         ALTER TABLE deliveries RENAME TO deliveries_1;
         DROP INDEX IF EXISTS deliveries_by_message;
         DROP INDEX IF EXISTS dead_letters;",
    )?;
    conn.execute_batch(super::schema::TABLES)?;

    conn.execute(
        "INSERT INTO subscriptions (number, name)
         SELECT ROW_NUMBER() OVER (ORDER BY subscription), subscription
         FROM (SELECT DISTINCT subscription FROM deliveries_1)",
        [],
    )?;
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM subscriptions", [], |r| r.get(0))?;
    if count > i64::from(MAX_SUBSCRIPTIONS) {
        return Err(failure(format!(
            "the format 1 queue names {count} handlers, more than format 2 can number ({MAX_SUBSCRIPTIONS})"
        )));
    }

    messages(conn)?;

    // 16 is `receipt::SUBSCRIPTION_BITS`.
    conn.execute_batch(
        "INSERT INTO deliveries (receipt, state, attempt, due_at, failures, settled_at)
         SELECT (d.message << 16) | s.number,
                CASE d.state WHEN 1 THEN 0 ELSE d.state END,
                d.attempt, d.due_at, d.failures,
                CASE d.state WHEN 1 THEN NULL ELSE d.settled_at END
         FROM deliveries_1 d JOIN subscriptions s ON s.name = d.subscription
         ORDER BY d.receipt;
         INSERT INTO acks (receipt, at)
         SELECT (d.message << 16) | s.number, COALESCE(d.settled_at, 0)
         FROM deliveries_1 d JOIN subscriptions s ON s.name = d.subscription
         WHERE d.state = 1
         ORDER BY 1;
         DROP TABLE messages_1;
         DROP TABLE deliveries_1;",
    )?;
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('format', '2')", [])?;
    Ok(())
}

/// Format 2 to 3: each message row names the subscriptions it went to
/// (those its delivery rows name), and a first delivery's row, which held
/// nothing else, is dropped. A delivery retried, dead or revived keeps
/// its row, and an acknowledged one its ack.
pub(super) fn from_2(conn: &Connection) -> rusqlite::Result<()> {
    // A file converted from format 1 just now was given format 3's
    // `messages` table.
    let has_subs: i64 = conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name = 'subs'",
        [],
        |r| r.get(0),
    )?;
    if has_subs == 0 {
        conn.execute_batch("ALTER TABLE messages ADD COLUMN subs")?;
    }
    // 16 is `receipt::SUBSCRIPTION_BITS`.
    conn.execute_batch(
        "UPDATE messages SET subs =
           (SELECT CASE COUNT(*) WHEN 1 THEN MAX(d.receipt & 65535)
                   ELSE json_group_array(d.receipt & 65535) END
            FROM deliveries d
            WHERE d.receipt >= messages.seq << 16 AND d.receipt < (messages.seq + 1) << 16);
         DELETE FROM deliveries
         WHERE state = 0 AND attempt = 1 AND due_at IS NULL AND failures IS NULL AND settled_at IS NULL;",
    )?;
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?1)",
        params![super::schema::FORMAT],
    )?;
    Ok(())
}

/// Each message row rewritten as format 2's, one at a time (a queue kept
/// for its retention can hold millions). A payload format 1 could not
/// read (it read it as `null`) is kept as `null`.
fn messages(conn: &Connection) -> rusqlite::Result<()> {
    let mut read = conn.prepare(
        "SELECT seq, id, event, payload, published_at, deliver_at, trace_id, traceparent, source
         FROM messages_1 ORDER BY seq",
    )?;
    let mut write = conn.prepare("INSERT INTO messages (seq, published_at, envelope) VALUES (?1, ?2, ?3)")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let payload: String = row.get(3)?;
        let message = Message {
            id: MessageId(row.get(1)?),
            event: row.get(2)?,
            payload: serde_json::from_str::<serde_json::Value>(&payload)
                .unwrap_or(serde_json::Value::Null)
                .into(),
            published_at: Millis(row.get(4)?),
            deliver_at: row.get::<_, Option<i64>>(5)?.map(Millis),
            trace_id: row.get(6)?,
            traceparent: row.get(7)?,
            source: row.get(8)?,
            checked: None,
            parent_span: None,
        };
        write.execute(params![
            row.get::<_, i64>(0)?,
            message.published_at.0,
            envelope::encode(&message)
        ])?;
    }
    Ok(())
}

fn failure(reason: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR), Some(reason))
}
