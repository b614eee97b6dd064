//! `GET /health`: answers while the engine runs.

use crate::generated::api::Health::HealthResponse;
use rohas_runtime::Result;

pub async fn handler() -> Result<HealthResponse> {
    Ok(HealthResponse {
        status: "ok".to_string(),
        timestamp: chrono::Utc::now().to_rfc3339(),
    })
}
