//! The queue alone, no handler: publish N messages in batches and take,
//! acknowledge each one, for `memory` and `local` (batch and always).
//! `cargo run --release -p rohas-events --example throughput [N]`.
//! What it shows is the store's ceiling; bench/events measures events
//! through real handlers beside Celery and BullMQ.

use rohas_events::{
    Adapter, LocalAdapter, LocalOptions, MemoryAdapter, Message, QueueOptions, Subscription, SubscriptionId, Sync,
};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn run(name: &str, adapter: Arc<dyn Adapter>, n: usize) {
    let sub = Subscription {
        id: SubscriptionId::new("event:E:h"),
        event: "E".into(),
    };
    adapter.declare(std::slice::from_ref(&sub)).await.unwrap();
    let start = Instant::now();
    let consumer = {
        let adapter = adapter.clone();
        let id = sub.id.clone();
        tokio::spawn(async move {
            let mut done = 0;
            while done < n {
                // As the engine does: every delivery settles in its own
                // task, so acknowledgements share commits.
                let got = adapter.receive(&id, 256).await;
                done += got.len();
                let acks: Vec<_> = got
                    .into_iter()
                    .map(|d| {
                        let adapter = adapter.clone();
                        tokio::spawn(async move { adapter.ack(d, vec![]).await.unwrap() })
                    })
                    .collect();
                for ack in acks {
                    ack.await.unwrap();
                }
            }
        })
    };
    for chunk in 0..n / 1000 {
        let batch = (0..1000)
            .map(|i| Message::new("E", json!({"n": chunk * 1000 + i}), "t", "bench"))
            .collect();
        adapter.publish(batch).await.unwrap();
    }
    consumer.await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!("{name:<14} {:>10.0} messages/s ({n} in {secs:.2} s)", n as f64 / secs);
    adapter.close().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    run("memory", Arc::new(MemoryAdapter::memory(QueueOptions::default())), n).await;
    for (name, sync) in [("local batch", Sync::Batch), ("local always", Sync::Always)] {
        let dir = tempfile::tempdir().unwrap();
        let adapter = LocalAdapter::open(LocalOptions {
            dir: dir.path().to_path_buf(),
            sync,
            retention: Duration::from_secs(3600),
            queue: QueueOptions {
                capacity: n + 1,
                ..QueueOptions::default()
            },
        })
        .unwrap();
        run(name, Arc::new(adapter), n).await;
    }
}
