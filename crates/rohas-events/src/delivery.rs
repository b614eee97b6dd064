//! One message handed to one subscription for one attempt.

use crate::message::{Message, SubscriptionId};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub message: Arc<Message>,
    pub subscription: SubscriptionId,
    /// 1 for the first attempt. A delivery cut short by a crash is not
    /// counted as an attempt: it runs again with the same number.
    pub attempt: u32,
    /// Why the earlier attempts failed, oldest first.
    pub failures: Vec<Failure>,
    /// The adapter's handle on this delivery (a row, a stream entry …).
    pub receipt: u64,
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub attempt: u32,
    pub error: String,
    pub trace_id: String,
    pub at: Millis,
}
