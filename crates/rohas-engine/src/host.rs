//! The engine side of [`rohas_runtime::Host`]: what user code can reach
//! while it runs (logs, WebSocket sends and broadcasts).
//!
//! It exists before the engine does, because a runtime needs a host when it
//! starts and the engine needs the runtime.

use crate::log::Log;
use crate::ws::Sockets;
use rohas_runtime::{Host, LogRecord};
use serde_json::Value;
use std::sync::Arc;

pub struct EngineHost {
    pub log: Log,
    pub sockets: Arc<Sockets>,
}

impl EngineHost {
    pub fn new(log: Log) -> Arc<Self> {
        Arc::new(EngineHost {
            log,
            sockets: Arc::new(Sockets::default()),
        })
    }
}

impl Host for EngineHost {
    fn log(&self, record: LogRecord) {
        self.log.record(&record);
    }

    fn broadcast(&self, endpoint: &str, message: Value) {
        self.sockets.broadcast(endpoint, &message);
    }

    fn send(&self, connection_id: &str, message: Value) {
        self.sockets.send(connection_id, &message);
    }
}
