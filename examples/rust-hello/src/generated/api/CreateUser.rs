//! api `CreateUser`: `POST /users`.
//!
//! Register a user. `UserCreated` is published once the handler succeeds,
//! with the returned user as its payload.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

pub use crate::generated::models::CreateUserInput::CreateUserInput;
pub use crate::generated::models::User::User;

/// HTTP method of `CreateUser`.
pub const METHOD: &str = "POST";
/// Route of `CreateUser`; `:name` segments are path parameters.
pub const PATH: &str = "/users";

/// The request handed to the `CreateUser` handler: path parameters, query, body, headers.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct CreateUserRequest {
    /// URL query parameters.
    #[serde(default)]
    pub query_params: serde_json::Map<String, serde_json::Value>,
    /// The parsed request body.
    pub body: crate::generated::models::CreateUserInput::CreateUserInput,
    /// Request headers, lower-case names.
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
}

/// What `CreateUser` answers with.
pub type CreateUserResponse = crate::generated::models::User::User;
