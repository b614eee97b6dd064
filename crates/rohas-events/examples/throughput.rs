//! The queue alone, no handler: publish N messages in batches and take,
//! acknowledge each one, for `memory` and `local` (batch and always).
//! `cargo run --release -p rohas-events --example throughput [N] [ONLY]`,
//! where `ONLY` (`memory`, `batch`, `always`) runs just the adapters whose
//! name holds it: under callgrind, one adapter's functions alone.
//! What it shows is the store's ceiling; bench/events measures events
//! through real handlers beside Celery and BullMQ. Beside messages/s it
//! prints the process's CPU time per message (every thread, the SQLite
//! writer's included): steadier than wall time on a shared machine.

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
    let cpu_start = cpu_seconds();
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
    let cpu = cpu_seconds() - cpu_start;
    println!(
        "{name:<14} {:>10.0} messages/s ({n} in {secs:.2} s), {:>5.2} µs CPU/message",
        n as f64 / secs,
        cpu * 1e6 / n as f64
    );
    adapter.close().await;
}

/// User + system CPU time of the whole process so far, from
/// `/proc/self/stat` (Linux; 0 elsewhere), in clock ticks of 1/100 s.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces: count from after it.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15, so 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let only = std::env::args().nth(2).unwrap_or_default();
    if "memory".contains(&only) {
        run("memory", Arc::new(MemoryAdapter::memory(QueueOptions::default())), n).await;
    }
    for (name, sync) in [("local batch", Sync::Batch), ("local always", Sync::Always)] {
        if !name.contains(&only) {
            continue;
        }
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
