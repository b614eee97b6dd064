//! `input CreateUserInput` from the schema.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

/// What a client sends to register.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct CreateUserInput {
    pub name: String,
    pub email: String,
}
