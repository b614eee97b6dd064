//! The delivery contract (`rohas_events::contract`) for the embedded
//! adapters: `memory`, and `local` on a real SQLite file in a temp folder.

use rohas_events::contract::{self, Factory};
use rohas_events::{Adapter, LocalAdapter, LocalOptions, MemoryAdapter, QueueOptions, Sync};
use std::sync::Arc;
use std::time::Duration;

struct Memory;

impl Factory for Memory {
    fn open(&self, options: QueueOptions) -> Arc<dyn Adapter> {
        Arc::new(MemoryAdapter::memory(options))
    }
    fn durable(&self) -> bool {
        false
    }
}

struct Local {
    dir: tempfile::TempDir,
    sync: Sync,
}

impl Factory for Local {
    fn open(&self, options: QueueOptions) -> Arc<dyn Adapter> {
        Arc::new(
            LocalAdapter::open(LocalOptions {
                dir: self.dir.path().to_path_buf(),
                sync: self.sync,
                retention: Duration::from_secs(3600),
                queue: options,
            })
            .expect("open the local queue"),
        )
    }
    fn durable(&self) -> bool {
        true
    }
}

fn local(sync: Sync) -> Local {
    Local {
        dir: tempfile::tempdir().unwrap(),
        sync,
    }
}

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                contract::$check(&Memory).await;
            })*
        }
        mod local_batch {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                contract::$check(&local(Sync::Batch)).await;
            })*
        }
        mod local_always {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                contract::$check(&local(Sync::Always)).await;
            })*
        }
    };
}

contract_tests!(
    each_subscription_gets_every_message,
    retries_keep_the_id_and_the_history,
    ack_publishes_the_outbox,
    dead_letters_list_replay_and_purge,
    dead_letters_page,
    delayed_messages_wait,
    one_at_a_time_keeps_publish_order,
    try_receive_takes_only_what_is_ready,
    a_full_queue_pushes_back,
    removed_handlers_keep_their_messages,
    unacknowledged_messages_survive_a_restart,
);
