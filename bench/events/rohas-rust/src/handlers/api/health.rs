//! `GET /health`: run.py's readiness probe.

use crate::generated::api::Health::HealthResponse;
use rohas_runtime::Result;

pub async fn handler() -> Result<HealthResponse> {
    Ok(HealthResponse {
        status: "ok".to_string(),
    })
}
