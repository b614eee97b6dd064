//! The handlers this library serves: each function the schema names, found in
//! your handler files by `rohas codegen` (and by `rohas dev` before each build),
//! called with the parameters its signature asks for (`FromCall` extractors).
//! The C ABI the engine loads the library through is exported here.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#![allow(clippy::all, unused_mut)]

use rohas_runtime::call::{Call, HandlerFuture};
use rohas_runtime::Registry;

rohas_runtime::export_handlers!(register);

/// Every handler found, by the id the engine calls it with.
#[rustfmt::skip]
pub fn register(registry: &mut Registry) {
    registry.add("api:Health", api_health);
    registry.add("api:CreateUser", api_createuser);
    registry.add("event:UserCreated:send_welcome_email", event_usercreated_send_welcome_email);
    registry.add("cron:DailyCleanup", cron_dailycleanup);
    registry.add("ws_connect:Chat", ws_connect_chat);
    registry.add("ws_message:Chat", ws_message_chat);
    registry.add("ws_disconnect:Chat", ws_disconnect_chat);
    registry.add("middleware:auth", middleware_auth);
}

/// `api:Health`: `handler` in src/handlers/api/health.rs.
#[rustfmt::skip]
fn api_health(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let returned = crate::generated::handlers::api::health::handler().await; // handler at src/handlers/api/health.rs:6:14
        call.finish(returned, state) // handler at src/handlers/api/health.rs:6:14
    })
}

/// `api:CreateUser`: `handler` in src/handlers/api/create_user.rs.
#[rustfmt::skip]
fn api_createuser(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let p0 = call.extract("`input` at src/handlers/api/create_user.rs:13:22")?;
        let returned = crate::generated::handlers::api::create_user::handler(p0, &mut state).await; // handler at src/handlers/api/create_user.rs:13:14
        call.finish(returned, state) // handler at src/handlers/api/create_user.rs:13:14
    })
}

/// `event:UserCreated:send_welcome_email`: `handler` in src/handlers/events/send_welcome_email.rs.
#[rustfmt::skip]
fn event_usercreated_send_welcome_email(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let p0 = call.extract("`event` at src/handlers/events/send_welcome_email.rs:7:22")?;
        let returned = crate::generated::handlers::events::send_welcome_email::handler(p0, &mut state).await; // handler at src/handlers/events/send_welcome_email.rs:7:14
        call.finish(returned, state) // handler at src/handlers/events/send_welcome_email.rs:7:14
    })
}

/// `cron:DailyCleanup`: `handler` in src/handlers/cron/daily_cleanup.rs.
#[rustfmt::skip]
fn cron_dailycleanup(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let returned = crate::generated::handlers::cron::daily_cleanup::handler(&mut state).await; // handler at src/handlers/cron/daily_cleanup.rs:6:14
        call.finish(returned, state) // handler at src/handlers/cron/daily_cleanup.rs:6:14
    })
}

/// `ws_connect:Chat`: `on_connect` in src/handlers/websockets/chat.rs.
#[rustfmt::skip]
fn ws_connect_chat(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let p0 = call.extract("`context` at src/handlers/websockets/chat.rs:9:25")?;
        let returned = crate::generated::handlers::websockets::chat::on_connect(p0, &mut state).await; // handler at src/handlers/websockets/chat.rs:9:14
        call.finish(returned, state) // handler at src/handlers/websockets/chat.rs:9:14
    })
}

/// `ws_message:Chat`: `on_message` in src/handlers/websockets/chat.rs.
#[rustfmt::skip]
fn ws_message_chat(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let p0 = call.extract("`message` at src/handlers/websockets/chat.rs:17:25")?;
        let returned = crate::generated::handlers::websockets::chat::on_message(p0).await; // handler at src/handlers/websockets/chat.rs:17:14
        call.finish(returned, state) // handler at src/handlers/websockets/chat.rs:17:14
    })
}

/// `ws_disconnect:Chat`: `on_disconnect` in src/handlers/websockets/chat.rs.
#[rustfmt::skip]
fn ws_disconnect_chat(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let p0 = call.extract("`context` at src/handlers/websockets/chat.rs:24:28")?;
        let returned = crate::generated::handlers::websockets::chat::on_disconnect(p0, &mut state).await; // handler at src/handlers/websockets/chat.rs:24:14
        call.finish(returned, state) // handler at src/handlers/websockets/chat.rs:24:14
    })
}

/// `middleware:auth`: `handler` in src/middlewares/auth.rs.
#[rustfmt::skip]
fn middleware_auth(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let mut state = call.state();
        let p0 = call.extract("`context` at src/middlewares/auth.rs:8:22")?;
        let returned = crate::generated::handlers::middlewares::auth::handler(p0, &mut state).await; // handler at src/middlewares/auth.rs:8:14
        call.finish(returned, state) // handler at src/middlewares/auth.rs:8:14
    })
}
