//! `type HealthResponse` from the schema.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub timestamp: String,
}
