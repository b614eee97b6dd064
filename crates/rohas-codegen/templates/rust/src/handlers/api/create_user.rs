//! `POST /users`: register a user.
//!
//! The returned user is the response, and also the payload of `UserCreated`
//! (listed in the api's `triggers`), published once this handler succeeds.

use crate::generated::api::CreateUser::{CreateUserInput, User};
use crate::generated::state::State;
use rohas_runtime::Result;
use std::sync::atomic::{AtomicI64, Ordering};

static NEXT_ID: AtomicI64 = AtomicI64::new(1);

pub async fn handler(input: CreateUserInput, state: &mut State) -> Result<User> {
    let user = User {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        name: input.name,
        email: input.email,
        created_at: rohas_runtime::now().into(),
    };
    state
        .logger()
        .info(&format!("created user {} <{}>", user.id, user.email));
    Ok(user)
}
