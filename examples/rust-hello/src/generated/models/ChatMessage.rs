//! `type ChatMessage` from the schema.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    pub user: String,
    pub text: String,
    #[serde(rename = "sentAt")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}
