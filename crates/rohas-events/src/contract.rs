//! The delivery contract as checks any adapter must pass. The embedded
//! adapters run them in `tests/contract.rs`; a broker adapter runs the same
//! functions against its broker. Each check panics with what went wrong.

use crate::adapter::Adapter;
use crate::dead_letter::{DeadLetterQuery, Selection};
use crate::delivery::{Delivery, Failure};
use crate::embedded::QueueOptions;
use crate::error::AdapterError;
use crate::message::{Message, Subscription, SubscriptionId};
use crate::time::Millis;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Opens the adapter under test. `open` after the previous adapter was
/// closed and dropped must see what a durable adapter kept.
pub trait Factory {
    fn open(&self, options: QueueOptions) -> Arc<dyn Adapter>;
    /// Whether messages survive closing and opening again.
    fn durable(&self) -> bool;
}

/// How long a check waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

fn sub(event: &str, handler: &str) -> Subscription {
    Subscription {
        id: SubscriptionId::new(format!("event:{event}:{handler}")),
        event: event.into(),
    }
}

fn message(event: &str, n: i64) -> Message {
    Message::new(event, json!({ "n": n }), "trace", "test")
}

fn failure(delivery: &Delivery, error: &str) -> Failure {
    Failure {
        attempt: delivery.attempt,
        error: error.into(),
        trace_id: delivery.message.trace_id.clone(),
        at: Millis::now(),
    }
}

async fn one(adapter: &dyn Adapter, subscription: &Subscription) -> Delivery {
    let got = tokio::time::timeout(PATIENCE, adapter.receive(&subscription.id, 1))
        .await
        .unwrap_or_else(|_| panic!("no delivery for {} within {PATIENCE:?}", subscription.id));
    assert_eq!(got.len(), 1, "receive(max 1) returned {} deliveries", got.len());
    got.into_iter().next().unwrap()
}

async fn nothing_within(adapter: &dyn Adapter, subscription: &Subscription, wait: Duration) {
    if let Ok(got) = tokio::time::timeout(wait, adapter.receive(&subscription.id, 1)).await {
        panic!("expected no delivery for {}, got {got:?}", subscription.id);
    }
}

fn options() -> QueueOptions {
    QueueOptions::default()
}

/// Every subscription of an event gets each message; acknowledging one
/// does not touch the other.
pub async fn each_subscription_gets_every_message(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let (a, b) = (sub("Placed", "bill"), sub("Placed", "ship"));
    adapter.declare(&[a.clone(), b.clone()]).await.unwrap();
    let sent = message("Placed", 1);
    adapter.publish(vec![sent.clone()]).await.unwrap();
    let da = one(&*adapter, &a).await;
    let db = one(&*adapter, &b).await;
    assert_eq!((&da.message.id, &db.message.id), (&sent.id, &sent.id));
    assert_eq!((da.attempt, db.attempt), (1, 1));
    assert_eq!(da.message.payload, json!({"n": 1}));
    adapter.ack(da, vec![]).await.unwrap();
    let f = failure(&db, "x");
    adapter.retry(db, f, Millis::now()).await.unwrap();
    let again = one(&*adapter, &b).await;
    assert_eq!(again.attempt, 2);
    nothing_within(&*adapter, &a, Duration::from_millis(200)).await;
    adapter.close().await;
}

/// A retried delivery keeps its message id, counts its attempt and carries
/// the earlier failures, and is not delivered before `not_before`.
pub async fn retries_keep_the_id_and_the_history(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Paid", "email");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    adapter.publish(vec![message("Paid", 1)]).await.unwrap();
    let first = one(&*adapter, &s).await;
    let id = first.message.id.clone();
    let f = failure(&first, "smtp down");
    adapter
        .retry(first, f, Millis::now().after(Duration::from_millis(300)))
        .await
        .unwrap();
    nothing_within(&*adapter, &s, Duration::from_millis(100)).await;
    let second = one(&*adapter, &s).await;
    assert_eq!(second.message.id, id);
    assert_eq!(second.attempt, 2);
    assert_eq!(second.failures.len(), 1);
    assert_eq!(second.failures[0].error, "smtp down");
    adapter.ack(second, vec![]).await.unwrap();
    adapter.close().await;
}

/// Acknowledging with an outbox publishes the outbox.
pub async fn ack_publishes_the_outbox(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let (first, next) = (sub("Signup", "welcome"), sub("Welcomed", "audit"));
    adapter.declare(&[first.clone(), next.clone()]).await.unwrap();
    adapter.publish(vec![message("Signup", 1)]).await.unwrap();
    nothing_within(&*adapter, &next, Duration::from_millis(50)).await;
    let d = one(&*adapter, &first).await;
    adapter.ack(d, vec![message("Welcomed", 2)]).await.unwrap();
    let caused = one(&*adapter, &next).await;
    assert_eq!(caused.message.payload, json!({"n": 2}));
    adapter.close().await;
}

/// A buried delivery is a dead letter with every attempt's error; replay
/// delivers it again (same id, attempt 1); purge deletes.
pub async fn dead_letters_list_replay_and_purge(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Charge", "card");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    let mut ids = Vec::new();
    adapter.publish(vec![message("Charge", 7)]).await.unwrap();
    let d = one(&*adapter, &s).await;
    let f = failure(&d, "declined");
    adapter.retry(d, f, Millis::now()).await.unwrap();
    let d = one(&*adapter, &s).await;
    let f = failure(&d, "declined again");
    ids.push(adapter.bury(d, f).await.unwrap());
    adapter.publish(vec![message("Charge", 8)]).await.unwrap();
    let d = one(&*adapter, &s).await;
    let f = failure(&d, "declined at once");
    ids.push(adapter.bury(d, f).await.unwrap());
    let page = adapter.dead_letters(DeadLetterQuery::default()).await.unwrap();
    let mut listed: Vec<_> = page.items.iter().map(|d| d.id.clone()).collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let dead = adapter
        .dead_letter(ids[0].clone())
        .await
        .unwrap()
        .expect("dead letter by id");
    assert_eq!(dead.handler, s.id);
    assert_eq!(dead.message.payload, json!({"n": 7}));
    let errors: Vec<_> = dead.attempts.iter().map(|f| (f.attempt, f.error.as_str())).collect();
    assert_eq!(errors, [(1, "declined"), (2, "declined again")]);

    let replayed = adapter
        .replay(Selection::Ids {
            ids: vec![ids[0].clone(), crate::DeadLetterId("999999".into())],
        })
        .await
        .unwrap();
    assert_eq!(replayed.replayed, 1);
    assert_eq!(replayed.unknown, [crate::DeadLetterId("999999".into())]);
    let back = one(&*adapter, &s).await;
    assert_eq!((back.message.id.clone(), back.attempt), (dead.message.id.clone(), 1));
    adapter.ack(back, vec![]).await.unwrap();

    assert_eq!(adapter.purge(Selection::all(Some("Other".into()))).await.unwrap(), 0);
    assert_eq!(adapter.purge(Selection::all(Some("Charge".into()))).await.unwrap(), 1);
    assert!(adapter.dead_letter(ids[1].clone()).await.unwrap().is_none());
    assert!(adapter
        .dead_letters(DeadLetterQuery::default())
        .await
        .unwrap()
        .items
        .is_empty());
    adapter.close().await;
}

/// Dead letters are listed a page at a time, newest message first.
pub async fn dead_letters_page(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Bulk", "h");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    adapter
        .publish((0..5).map(|n| message("Bulk", n)).collect())
        .await
        .unwrap();
    for _ in 0..5 {
        let d = one(&*adapter, &s).await;
        let f = failure(&d, "no");
        adapter.bury(d, f).await.unwrap();
    }
    let mut query = DeadLetterQuery {
        limit: Some(2),
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = adapter.dead_letters(query.clone()).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|d| d.message.payload["n"].as_i64().unwrap()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [4, 3, 2, 1, 0]);
    adapter.close().await;
}

/// A delayed message is not delivered before its time.
pub async fn delayed_messages_wait(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Remind", "h");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    let later = message("Remind", 1).delayed(Some(Duration::from_millis(400)));
    let due = later.deliver_at.unwrap();
    adapter.publish(vec![later]).await.unwrap();
    nothing_within(&*adapter, &s, Duration::from_millis(150)).await;
    let d = one(&*adapter, &s).await;
    assert!(Millis::now() >= due, "delivered before its time");
    adapter.ack(d, vec![]).await.unwrap();
    adapter.close().await;
}

/// Taken one at a time, messages come in publish order.
pub async fn one_at_a_time_keeps_publish_order(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Seq", "h");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    for chunk in (0..100).collect::<Vec<i64>>().chunks(7) {
        adapter
            .publish(chunk.iter().map(|n| message("Seq", *n)).collect())
            .await
            .unwrap();
    }
    for n in 0..100 {
        let d = one(&*adapter, &s).await;
        assert_eq!(d.message.payload["n"], json!(n));
        adapter.ack(d, vec![]).await.unwrap();
    }
    adapter.close().await;
}

/// `try_receive` takes a due delivery without waiting, in publish order,
/// takes nothing when none is due (a delayed one is not yet), and nothing
/// once the adapter is closed.
pub async fn try_receive_takes_only_what_is_ready(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Try", "h");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    assert!(adapter.try_receive(&s.id).is_none(), "nothing published yet");
    let later = message("Try", 99).delayed(Some(Duration::from_secs(3600)));
    adapter
        .publish(vec![message("Try", 1), message("Try", 2), later])
        .await
        .unwrap();
    for n in [1, 2] {
        // The embedded queues have them at once; a broker may take a moment.
        let d = match adapter.try_receive(&s.id) {
            Some(d) => d,
            None => one(&*adapter, &s).await,
        };
        assert_eq!(d.message.payload["n"], json!(n));
        assert_eq!(d.attempt, 1);
        adapter.ack(d, vec![]).await.unwrap();
    }
    assert!(adapter.try_receive(&s.id).is_none(), "the delayed one is not due");
    adapter.publish(vec![message("Try", 3)]).await.unwrap();
    adapter.close().await;
    assert!(adapter.try_receive(&s.id).is_none(), "closed");
}

/// A full queue makes publishing wait, then fail; nothing is dropped.
pub async fn a_full_queue_pushes_back(factory: &dyn Factory) {
    let adapter = factory.open(QueueOptions {
        capacity: 2,
        publish_timeout: Duration::from_millis(200),
    });
    let s = sub("Flood", "h");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    adapter.publish(vec![message("Flood", 1)]).await.unwrap();
    adapter.publish(vec![message("Flood", 2)]).await.unwrap();
    let refused = adapter.publish(vec![message("Flood", 3)]).await;
    assert!(matches!(refused, Err(AdapterError::Full(_))), "{refused:?}");
    // Room made while a publisher waits lets it through.
    let d = one(&*adapter, &s).await;
    let waiting = adapter.publish(vec![message("Flood", 4)]);
    let (published, acked) = tokio::join!(waiting, adapter.ack(d, vec![]));
    published.unwrap();
    acked.unwrap();
    let got: Vec<_> = [one(&*adapter, &s).await, one(&*adapter, &s).await]
        .iter()
        .map(|d| d.message.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(got, [2, 4]);
    adapter.close().await;
}

/// Messages waiting for a handler the schema no longer has are kept and
/// reported, and delivered when it comes back.
pub async fn removed_handlers_keep_their_messages(factory: &dyn Factory) {
    let adapter = factory.open(options());
    let s = sub("Old", "h");
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    adapter.publish(vec![message("Old", 1)]).await.unwrap();
    adapter.declare(&[]).await.unwrap();
    let stats = adapter.stats().await.unwrap();
    let kept = stats
        .iter()
        .find(|st| st.handler == s.id)
        .expect("stats for the removed handler");
    assert_eq!((kept.ready, kept.declared), (1, false));
    assert_eq!(
        adapter.outstanding(),
        0,
        "undeclared deliveries do not hold up shutdown"
    );
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    let d = one(&*adapter, &s).await;
    adapter.ack(d, vec![]).await.unwrap();
    adapter.close().await;
}

/// After closing (or a crash), what was not acknowledged is delivered
/// again, and what was acknowledged is not.
pub async fn unacknowledged_messages_survive_a_restart(factory: &dyn Factory) {
    if !factory.durable() {
        return;
    }
    let s = sub("Durable", "h");
    let dead_id;
    {
        let adapter = factory.open(options());
        adapter.declare(std::slice::from_ref(&s)).await.unwrap();
        adapter
            .publish((0..4).map(|n| message("Durable", n)).collect())
            .await
            .unwrap();
        let d0 = one(&*adapter, &s).await;
        adapter.ack(d0, vec![]).await.unwrap();
        let d1 = one(&*adapter, &s).await; // taken, never settled
        let d2 = one(&*adapter, &s).await;
        let f = failure(&d2, "later");
        adapter.retry(d2, f, Millis::now()).await.unwrap();
        let d3 = one(&*adapter, &s).await;
        let _ = d1;
        let f = failure(&d3, "dead");
        dead_id = adapter.bury(d3, f).await.unwrap();
        adapter.close().await;
    }
    let adapter = factory.open(options());
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let d = one(&*adapter, &s).await;
        got.push((d.message.payload["n"].as_i64().unwrap(), d.attempt));
        adapter.ack(d, vec![]).await.unwrap();
    }
    got.sort();
    assert_eq!(got, [(1, 1), (2, 2)]);
    nothing_within(&*adapter, &s, Duration::from_millis(200)).await;
    assert!(
        adapter.dead_letter(dead_id).await.unwrap().is_some(),
        "the dead letter survived"
    );
    adapter.close().await;
}

/// Every check above, in order.
pub async fn all(factory: &dyn Factory) {
    each_subscription_gets_every_message(factory).await;
    retries_keep_the_id_and_the_history(factory).await;
    ack_publishes_the_outbox(factory).await;
    dead_letters_list_replay_and_purge(factory).await;
    dead_letters_page(factory).await;
    delayed_messages_wait(factory).await;
    one_at_a_time_keeps_publish_order(factory).await;
    try_receive_takes_only_what_is_ready(factory).await;
    a_full_queue_pushes_back(factory).await;
    removed_handlers_keep_their_messages(factory).await;
    unacknowledged_messages_survive_a_restart(factory).await;
}
