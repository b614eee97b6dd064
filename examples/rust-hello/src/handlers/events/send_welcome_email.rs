//! Runs for every `UserCreated` event (retried on failure).

use crate::generated::events::UserCreated::UserCreated;
use crate::generated::state::State;
use rohas_runtime::Result;

pub async fn handler(event: UserCreated, state: &mut State) -> Result<()> {
    state.logger().info(&format!(
        "sending a welcome email to {} (user {})",
        event.email, event.id
    ));
    Ok(())
}
