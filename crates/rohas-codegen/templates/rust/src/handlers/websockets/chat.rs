//! WebSocket `Chat` at `/ws/chat`: the schema sets `broadcast: true`, so the
//! message `on_message` returns goes to every connected client.

use crate::generated::runtime::HandlerContext;
use crate::generated::state::State;
use crate::generated::websockets::Chat::WebSocketMessage;
use rohas_runtime::Result;

pub async fn on_connect(context: HandlerContext, state: &mut State) -> Result<()> {
    let connection = context.metadata_str("connection_id").unwrap_or("?");
    state
        .logger()
        .info(&format!("client {connection} connected"));
    Ok(())
}

pub async fn on_message(message: WebSocketMessage) -> Result<WebSocketMessage> {
    Ok(WebSocketMessage {
        sent_at: Some(rohas_runtime::now().into()),
        ..message
    })
}

pub async fn on_disconnect(context: HandlerContext, state: &mut State) -> Result<()> {
    let connection = context.metadata_str("connection_id").unwrap_or("?");
    state
        .logger()
        .info(&format!("client {connection} disconnected"));
    Ok(())
}
