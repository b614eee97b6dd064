//! The `local` adapter beyond the contract: what its group commit must
//! keep when many acknowledgements share (and span) batches.

use rohas_events::{Adapter, LocalAdapter, LocalOptions, Message, QueueOptions, Subscription, SubscriptionId, Sync};
use std::sync::Arc;
use std::time::Duration;

fn open(dir: &std::path::Path) -> Arc<LocalAdapter> {
    Arc::new(
        LocalAdapter::open(LocalOptions {
            dir: dir.to_path_buf(),
            sync: Sync::Batch,
            retention: Duration::from_secs(3600),
            queue: QueueOptions::default(),
        })
        .expect("open the local queue"),
    )
}

/// Thousands of acks, each in its own task as the engine sends them: all
/// resolve, and after closing and opening again none is delivered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_acks_all_resolve_and_survive_a_restart() {
    const N: usize = 5000;
    let dir = tempfile::tempdir().unwrap();
    let s = Subscription {
        id: SubscriptionId::new("event:Many:h"),
        event: "Many".into(),
    };
    let adapter = open(dir.path());
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    for chunk in 0..N / 500 {
        let batch = (0..500)
            .map(|i| Message::new("Many", serde_json::json!({ "n": chunk * 500 + i }), "t", "test"))
            .collect();
        adapter.publish(batch).await.unwrap();
    }
    let mut acks = Vec::new();
    while acks.len() < N {
        for d in adapter.receive(&s.id, 300).await {
            let adapter = adapter.clone();
            acks.push(tokio::spawn(async move { adapter.ack(d, vec![]).await }));
        }
    }
    for ack in acks {
        ack.await.unwrap().unwrap();
    }
    assert_eq!(adapter.outstanding(), 0);
    adapter.close().await;
    drop(adapter);

    let adapter = open(dir.path());
    adapter.declare(std::slice::from_ref(&s)).await.unwrap();
    assert_eq!(adapter.outstanding(), 0, "an acknowledged message is pending again");
    adapter.close().await;
}
