//! event `UserCreated`.
//!
//! A user registered.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

pub use crate::generated::models::User::User;

/// A user registered.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserCreated {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[serde(rename = "createdAt")]
    #[serde(default = "default_user_created_created_at")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The whole payload.
    #[serde(default)]
    pub payload: crate::generated::models::User::User,
    /// When the event was published.
    #[serde(default)]
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// The trace this event belongs to.
    #[serde(default)]
    pub trace_id: String,
}

impl Default for UserCreated {
    fn default() -> Self {
        UserCreated {
            id: Default::default(),
            name: Default::default(),
            email: Default::default(),
            created_at: default_user_created_created_at(),
            payload: Default::default(),
            timestamp: Default::default(),
            trace_id: Default::default(),
        }
    }
}

fn default_user_created_created_at() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// The event name on the bus.
pub const NAME: &str = "UserCreated";
