//! Middleware `auth`: lets a request through only with a bearer token.
//! A real project would check the token; this one accepts any non-empty one.

use crate::generated::runtime::{HandlerContext, HttpError, Result};
use crate::generated::state::State;

/// `Ok(None)` lets the call through unchanged; an `HttpError` rejects it.
pub async fn handler(context: HandlerContext, state: &mut State) -> Result<Option<HandlerContext>> {
    let token = context
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        state
            .logger()
            .warn("request without a bearer token rejected");
        return Err(HttpError::new(
            401,
            "missing bearer token: send `Authorization: Bearer <token>`",
        )
        .into());
    }
    Ok(None)
}
