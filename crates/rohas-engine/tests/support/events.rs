//! The one place the tests look at published events.
//!
//! The event bus is being rewritten elsewhere and has its own tests; an API
//! or cron test only needs to know that an event left the handler. It sees
//! that the way a user would: an event handler (`event:<Event>:<handler>`,
//! registered on the fake runtime) receives the payload.

use super::fake::FakeRuntime;
use rohas_runtime::HandlerId;
use serde_json::Value;

/// Register a handler for `event` under the name `handler` (the schema must
/// list it in the event's `handler:`).
pub fn listen(fake: &FakeRuntime, event: &str, handler: &str) {
    fake.declare(&HandlerId::event(event, handler));
}

/// Wait until `n` messages of `event` reached its handler `handler`;
/// their payloads.
pub async fn published(fake: &FakeRuntime, event: &str, handler: &str, n: usize) -> Vec<Value> {
    fake.wait_calls(&HandlerId::event(event, handler), n)
        .await
        .into_iter()
        .map(|call| call.payload)
        .collect()
}
