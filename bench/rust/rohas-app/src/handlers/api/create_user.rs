//! `POST /users`: the body, validated against `CreateUserInput`, echoed back.

use crate::generated::api::CreateUser::CreateUserInput;
use rohas_runtime::Result;

pub async fn handler(input: CreateUserInput) -> Result<CreateUserInput> {
    Ok(input)
}
