//! `GET /health`: answers while the engine runs.

use crate::generated::api::Health::HealthResponse;
use rohas_runtime::Result;

pub async fn handler() -> Result<HealthResponse> {
    // `rohas_runtime::now()`: the system clock, or the test harness's fake one.
    let now: chrono::DateTime<chrono::Utc> = rohas_runtime::now().into();
    Ok(HealthResponse {
        status: "ok".to_string(),
        timestamp: now.to_rfc3339(),
    })
}
