//! A batch's rows, written many per statement: new messages and
//! deliveries, and the deliveries marked acknowledged.
//!
//! An `INSERT` per row cost the writer about 8,000 instructions for a
//! message and 5,000 for a delivery, most of it the statement's own run
//! (binding, stepping, resetting) rather than the B-tree: a burst of
//! 10,000 published events spent a third of the engine's work here. An
//! `UPDATE` for 128 acks costs about half as much per ack as 128 of them
//! (measured: 0.56 against 1.0 µs per ack, commits included). One
//! statement carries up to its largest size of rows; what is left over
//! goes in smaller ones, down to one row, so any count is covered with few
//! statements, each prepared once and cached.

use super::super::{NewDelivery, Stored};
use super::writer::Ack;
use rusqlite::{Connection, Statement};
use std::sync::LazyLock;

/// A statement that takes any number of rows: `head`, then `row` once per
/// row (comma separated), then `tail`.
struct Chunked {
    head: &'static str,
    row: &'static str,
    tail: &'static str,
    /// Rows per statement, largest first, the last 1.
    sizes: &'static [usize],
    /// The statement for each of `sizes`, built once.
    statements: LazyLock<Vec<String>>,
}

impl Chunked {
    /// The statement for `n` rows.
    fn statement(&self, n: usize) -> String {
        let mut sql = String::with_capacity(self.head.len() + n * (self.row.len() + 1) + self.tail.len());
        sql.push_str(self.head);
        for i in 0..n {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(self.row);
        }
        sql.push_str(self.tail);
        sql
    }

    /// Runs the statement over `rows`: `lead` binds what comes before the
    /// rows' parameters and returns the first free parameter index
    /// (1-based); `bind` gives one row's parameters from a free index on
    /// and returns the next free one.
    fn run<T>(
        &self,
        conn: &Connection,
        rows: &[T],
        lead: impl Fn(&mut Statement) -> rusqlite::Result<usize>,
        bind: impl Fn(&mut Statement, usize, &T) -> rusqlite::Result<usize>,
    ) -> rusqlite::Result<()> {
        let mut rest = rows;
        for (size, sql) in self.sizes.iter().zip(self.statements.iter()) {
            if rest.len() < *size {
                continue;
            }
            let mut statement = conn.prepare_cached(sql)?;
            while rest.len() >= *size {
                let (chunk, after) = rest.split_at(*size);
                let mut at = lead(&mut statement)?;
                for row in chunk {
                    at = bind(&mut statement, at, row)?;
                }
                statement.raw_execute()?;
                rest = after;
            }
        }
        Ok(())
    }
}

/// Nothing before the rows' parameters.
fn no_lead(_: &mut Statement) -> rusqlite::Result<usize> {
    Ok(1)
}

/// 64 messages are 576 parameters, well under SQLite's limit of 32,766.
static MESSAGES: Chunked = Chunked {
    head: "INSERT INTO messages (seq, id, event, payload, published_at, deliver_at, trace_id, traceparent, source) VALUES ",
    row: "(?,?,?,?,?,?,?,?,?)",
    tail: "",
    sizes: &[64, 8, 1],
    statements: LazyLock::new(|| MESSAGES.sizes.iter().map(|n| MESSAGES.statement(*n)).collect()),
};

static DELIVERIES: Chunked = Chunked {
    head: "INSERT INTO deliveries (receipt, message, subscription, state, attempt, due_at) VALUES ",
    row: "(?,?,?,0,1,?)",
    tail: "",
    sizes: &[64, 8, 1],
    statements: LazyLock::new(|| DELIVERIES.sizes.iter().map(|n| DELIVERIES.statement(*n)).collect()),
};

/// The first parameter is the time, then one receipt per ack.
static ACKNOWLEDGED: Chunked = Chunked {
    head: "UPDATE deliveries SET state = 1, settled_at = ? WHERE receipt IN (",
    row: "?",
    tail: ")",
    sizes: &[128, 16, 1],
    statements: LazyLock::new(|| ACKNOWLEDGED.sizes.iter().map(|n| ACKNOWLEDGED.statement(*n)).collect()),
};

/// Each message once, as published.
pub(super) fn messages(conn: &Connection, messages: &[Stored]) -> rusqlite::Result<()> {
    MESSAGES.run(conn, messages, no_lead, |insert, at, stored| {
        let m = &stored.message;
        insert.raw_bind_parameter(at, stored.seq as i64)?;
        insert.raw_bind_parameter(at + 1, &m.id.0)?;
        insert.raw_bind_parameter(at + 2, &m.event)?;
        // Written straight to a string: `Value::to_string` goes through
        // the formatter, a fifth of the row's cost.
        let payload = serde_json::to_string(&m.payload).unwrap_or_else(|_| "null".into());
        insert.raw_bind_parameter(at + 3, payload)?;
        insert.raw_bind_parameter(at + 4, m.published_at.0)?;
        insert.raw_bind_parameter(at + 5, m.deliver_at.map(|t| t.0))?;
        insert.raw_bind_parameter(at + 6, &m.trace_id)?;
        insert.raw_bind_parameter(at + 7, &m.traceparent)?;
        insert.raw_bind_parameter(at + 8, &m.source)?;
        Ok(at + 9)
    })
}

/// A first attempt's delivery per message and subscription.
pub(super) fn deliveries(conn: &Connection, deliveries: &[NewDelivery]) -> rusqlite::Result<()> {
    DELIVERIES.run(conn, deliveries, no_lead, |insert, at, d| {
        insert.raw_bind_parameter(at, d.receipt as i64)?;
        insert.raw_bind_parameter(at + 1, d.message as i64)?;
        insert.raw_bind_parameter(at + 2, d.subscription.as_str())?;
        insert.raw_bind_parameter(at + 3, d.due.map(|t| t.0))?;
        Ok(at + 4)
    })
}

/// Each ack's delivery marked acknowledged, all stamped `now`.
pub(super) fn acknowledged(conn: &Connection, acks: &[Ack], now: i64) -> rusqlite::Result<()> {
    let lead = |update: &mut Statement| {
        update.raw_bind_parameter(1, now)?;
        Ok(2)
    };
    ACKNOWLEDGED.run(conn, acks, lead, |update, at, ack| {
        update.raw_bind_parameter(at, ack.receipt as i64)?;
        Ok(at + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{schema, Sync};
    use super::*;
    use crate::message::{Message, SubscriptionId};
    use crate::time::Millis;
    use std::sync::Arc;

    /// Counts that are not a multiple of any size take every size of
    /// statement, and every row lands once, with its own values; so does
    /// every acknowledgement, and no other delivery is touched.
    #[test]
    fn every_row_of_a_batch_lands_once_whatever_its_count() {
        let folder = tempfile::tempdir().unwrap();
        let conn = schema::open(&folder.path().join("queue.db"), Sync::Batch).unwrap();
        let mut seq = 0u64;
        for count in [0usize, 1, 7, 8, 9, 64, 75, 137] {
            let stored: Vec<Stored> = (0..count)
                .map(|i| {
                    seq += 1;
                    let mut m = Message::new("E", serde_json::json!({ "n": seq, "i": i }), "t", "test");
                    m.deliver_at = (i % 2 == 0).then_some(Millis(seq as i64));
                    Stored {
                        seq,
                        message: Arc::new(m),
                    }
                })
                .collect();
            let new: Vec<NewDelivery> = stored
                .iter()
                .map(|s| NewDelivery {
                    receipt: s.seq * 10,
                    message: s.seq,
                    subscription: SubscriptionId::new("event:E:h"),
                    due: s.message.deliver_at,
                })
                .collect();
            messages(&conn, &stored).unwrap();
            deliveries(&conn, &new).unwrap();
        }
        let total = 1 + 7 + 8 + 9 + 64 + 75 + 137;
        // seq, payload, deliver_at, receipt, due_at
        type Row = (i64, String, Option<i64>, i64, Option<i64>);
        let rows: Vec<Row> = conn
            .prepare(
                "SELECT m.seq, m.payload, m.deliver_at, d.receipt, d.due_at
                 FROM messages m JOIN deliveries d ON d.message = m.seq ORDER BY m.seq",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), total);
        for (i, (seq, payload, deliver_at, receipt, due)) in rows.into_iter().enumerate() {
            assert_eq!(seq, i as i64 + 1);
            let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
            assert_eq!(payload["n"], seq);
            assert_eq!(receipt, seq * 10);
            assert_eq!(deliver_at, due);
        }

        // Every receipt but the first: 300 acks take each size of update.
        let acks: Vec<Ack> = (2..=total as u64)
            .map(|seq| Ack {
                receipt: seq * 10,
                outbox: Default::default(),
            })
            .collect();
        acknowledged(&conn, &acks, 42).unwrap();
        let settled: Vec<(i64, i64, Option<i64>)> = conn
            .prepare("SELECT receipt, state, settled_at FROM deliveries ORDER BY receipt")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(settled[0], (10, 0, None));
        for (receipt, state, at) in &settled[1..] {
            assert_eq!((*state, *at), (1, Some(42)), "receipt {receipt}");
        }
    }
}
