//! api `Health`: `GET /health`.
//!
//! Liveness probe: answers while the engine runs.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

pub use crate::generated::models::HealthResponse::HealthResponse;

/// HTTP method of `Health`.
pub const METHOD: &str = "GET";
/// Route of `Health`; `:name` segments are path parameters.
pub const PATH: &str = "/health";

/// The request handed to the `Health` handler: path parameters, query, body, headers.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct HealthRequest {
    /// URL query parameters.
    #[serde(default)]
    pub query_params: serde_json::Map<String, serde_json::Value>,
    /// Request headers, lower-case names.
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
}
