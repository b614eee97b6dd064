//! A batch's rows, written many per statement: new messages (naming the
//! subscriptions they go to: a first delivery has no row of its own), and
//! acknowledgements.
//!
//! An `INSERT` per row cost the writer about 8,000 instructions for a
//! message and 5,000 for a delivery, most of it the statement's own run
//! (binding, stepping, resetting) rather than the B-tree: a burst of
//! 10,000 published events spent a third of the engine's work here. One
//! statement for 128 acks costs about half as much per ack as 128 of them
//! (measured on format 1's `UPDATE`: 0.56 against 1.0 µs per ack, commits
//! included; format 2 appends to `acks` instead, about 2,600 instructions
//! per ack against 4,500). One
//! statement carries up to its largest size of rows; what is left over
//! goes in smaller ones, down to one row, so any count is covered with few
//! statements, each prepared once and cached.

use super::super::{receipt, NewDelivery, Stored};
use super::envelope;
use rusqlite::{Connection, Statement};
use std::sync::OnceLock;

/// A statement that takes any number of rows: `head`, then `row` once per
/// row (comma separated).
struct Chunked {
    head: &'static str,
    row: &'static str,
    /// Rows per statement, largest first, the last 1.
    sizes: &'static [usize],
    /// The statement for each of `sizes`, built at first use.
    statements: OnceLock<Vec<String>>,
}

impl Chunked {
    const fn new(head: &'static str, row: &'static str, sizes: &'static [usize]) -> Chunked {
        Chunked {
            head,
            row,
            sizes,
            statements: OnceLock::new(),
        }
    }

    /// The statement for `n` rows.
    fn statement(&self, n: usize) -> String {
        let mut sql = String::with_capacity(self.head.len() + n * (self.row.len() + 1));
        sql.push_str(self.head);
        for i in 0..n {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(self.row);
        }
        sql
    }

    /// Runs the statement over `rows`: `bind` gives one row's parameters
    /// from a free index (1-based) on and returns the next free one.
    fn run<T>(
        &self,
        conn: &Connection,
        rows: &[T],
        bind: impl Fn(&mut Statement, usize, &T) -> rusqlite::Result<usize>,
    ) -> rusqlite::Result<()> {
        let mut rest = rows;
        let statements = self
            .statements
            .get_or_init(|| self.sizes.iter().map(|n| self.statement(*n)).collect());
        for (size, sql) in self.sizes.iter().zip(statements) {
            if rest.len() < *size {
                continue;
            }
            let mut statement = conn.prepare_cached(sql)?;
            while rest.len() >= *size {
                let (chunk, after) = rest.split_at(*size);
                let mut at = 1;
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

/// 64 messages are 256 parameters, well under SQLite's limit of 32,766.
static MESSAGES: Chunked = Chunked::new(
    "INSERT INTO messages (seq, published_at, envelope, subs) VALUES ",
    "(?,?,?,?)",
    &[64, 8, 1],
);

/// An ack is a new row, not a rewritten delivery. `OR IGNORE`: a delivery
/// acknowledged again stays acknowledged when it first was.
static ACKS: Chunked = Chunked::new(
    "INSERT OR IGNORE INTO acks (receipt, at) VALUES ",
    "(?,?)",
    &[128, 16, 1],
);

/// Each message once, as published, with the numbers of the
/// subscriptions it goes to: those of its `deliveries` (a batch's
/// deliveries come message by message, in the messages' order).
pub(super) fn messages(conn: &Connection, messages: &[Stored], deliveries: &[NewDelivery]) -> rusqlite::Result<()> {
    let mut rest = deliveries;
    let rows: Vec<(&Stored, SubsValue)> = messages
        .iter()
        .map(|stored| {
            let n = rest
                .iter()
                .take_while(|d| receipt::seq(d.receipt) == stored.seq)
                .count();
            let (mine, after) = rest.split_at(n);
            rest = after;
            (stored, SubsValue::of(mine))
        })
        .collect();
    MESSAGES.run(conn, &rows, |insert, at, (stored, subs)| {
        let m = &stored.message;
        insert.raw_bind_parameter(at, stored.seq as i64)?;
        insert.raw_bind_parameter(at + 1, m.published_at.0)?;
        insert.raw_bind_parameter(at + 2, envelope::encode(m))?;
        match subs {
            SubsValue::One(n) => insert.raw_bind_parameter(at + 3, i64::from(*n))?,
            SubsValue::List(list) => insert.raw_bind_parameter(at + 3, list)?,
        }
        Ok(at + 4)
    })
}

/// A message's `subs` column: one subscription as an integer (the usual
/// case: no text to copy), none or several as a JSON array.
enum SubsValue {
    One(u16),
    List(String),
}

impl SubsValue {
    fn of(deliveries: &[NewDelivery]) -> SubsValue {
        match deliveries {
            [one] => SubsValue::One(receipt::number(one.receipt)),
            many => {
                let numbers: Vec<u16> = many.iter().map(|d| receipt::number(d.receipt)).collect();
                SubsValue::List(serde_json::to_string(&numbers).unwrap_or_else(|_| "[]".into()))
            }
        }
    }
}

/// Each ack's delivery acknowledged, all at `now`. `receipts` is sorted
/// first: rows appended in key order fill B-tree pages in turn.
pub(super) fn acknowledged(conn: &Connection, receipts: &mut [u64], now: i64) -> rusqlite::Result<()> {
    receipts.sort_unstable();
    ACKS.run(conn, receipts, |insert, at, receipt| {
        insert.raw_bind_parameter(at, *receipt as i64)?;
        insert.raw_bind_parameter(at + 1, now)?;
        Ok(at + 2)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{envelope, schema, Sync};
    use super::*;
    use crate::message::Message;
    use crate::store::receipt;
    use crate::time::Millis;
    use std::sync::Arc;

    /// Counts that are not a multiple of any size take every size of
    /// statement, and every row lands once, with its own values and the
    /// subscriptions its deliveries name (none, one or several); so does
    /// every acknowledgement, in whatever order, and no other delivery is
    /// acknowledged.
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
            // Every message to subscription 3; every third also to 5 and
            // 9, every fifth to none.
            let new: Vec<NewDelivery> = stored
                .iter()
                .flat_map(|s| {
                    let numbers: &[u16] = match s.seq {
                        seq if seq % 5 == 0 => &[],
                        seq if seq % 3 == 0 => &[3, 5, 9],
                        _ => &[3],
                    };
                    numbers.iter().map(|n| NewDelivery {
                        receipt: receipt::receipt(s.seq, *n),
                    })
                })
                .collect();
            messages(&conn, &stored, &new).unwrap();
        }
        let total = 1 + 7 + 8 + 9 + 64 + 75 + 137;
        // seq, published_at, envelope, subs (as JSON)
        type Row = (i64, i64, String, String);
        let rows: Vec<Row> = conn
            .prepare("SELECT seq, published_at, envelope, json(subs) FROM messages ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), total);
        for (i, (seq, published_at, text, subs)) in rows.into_iter().enumerate() {
            assert_eq!(seq, i as i64 + 1);
            let message = envelope::decode(&text, published_at).unwrap();
            assert_eq!(message.payload["n"], seq);
            assert_eq!(
                message.deliver_at,
                message.payload["i"]
                    .as_u64()
                    .unwrap()
                    .is_multiple_of(2)
                    .then_some(Millis(seq))
            );
            let expected = match seq {
                seq if seq % 5 == 0 => "[]",
                seq if seq % 3 == 0 => "[3,5,9]",
                _ => "3",
            };
            assert_eq!(subs, expected, "message {seq}");
        }

        // Every delivery but the first, newest first: 300 acks take each
        // size of statement.
        let mut acks: Vec<u64> = (2..=total as u64).rev().map(|seq| receipt::receipt(seq, 3)).collect();
        acknowledged(&conn, &mut acks, 42).unwrap();
        // Acknowledged again, later: still acknowledged when it first was.
        acknowledged(&conn, &mut [receipt::receipt(2, 3)], 43).unwrap();
        let settled: Vec<(i64, i64)> = conn
            .prepare("SELECT receipt, at FROM acks ORDER BY receipt")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(settled.len(), total - 1);
        for (i, (receipt, at)) in settled.into_iter().enumerate() {
            assert_eq!((receipt as u64, at), (receipt::receipt(i as u64 + 2, 3), 42));
        }
    }
}
