//! `model User` from the schema.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

/// A registered user.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[serde(rename = "createdAt")]
    #[serde(default = "default_user_created_at")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Default for User {
    fn default() -> Self {
        User {
            id: Default::default(),
            name: Default::default(),
            email: Default::default(),
            created_at: default_user_created_at(),
        }
    }
}

fn default_user_created_at() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
