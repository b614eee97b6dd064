//! `POST /burst {"run", "count", "expected"}`: publish `count` Tick events,
//! each stamped with its publish time (ns since the epoch).

use crate::generated::api::Burst::{BurstInput, BurstResponse};
use crate::generated::state::State;
use crate::tick_counter::now_ns;
use rohas_runtime::Result;
use serde_json::json;

pub async fn handler(input: BurstInput, state: &mut State) -> Result<BurstResponse> {
    for _ in 0..input.count {
        state.trigger_event(
            "Tick",
            json!({"run": input.run, "expected": input.expected, "t": now_ns()}),
        )?;
    }
    Ok(BurstResponse {
        published: input.count,
    })
}
