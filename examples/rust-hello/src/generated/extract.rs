//! Handler parameters of the schema's types (`FromCall`): request and event
//! types are read from the request, the others from the body or payload.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

rohas_runtime::request_types! {
    crate::generated::api::CreateUser::CreateUserRequest,
    crate::generated::api::Health::HealthRequest,
    crate::generated::events::UserCreated::UserCreated,
}

rohas_runtime::payload_types! {
    crate::generated::models::ChatMessage::ChatMessage,
    crate::generated::models::CreateUserInput::CreateUserInput,
    crate::generated::models::HealthResponse::HealthResponse,
    crate::generated::models::User::User,
}
