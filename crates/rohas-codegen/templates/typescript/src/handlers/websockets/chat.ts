// WebSocket `Chat` at /ws/chat: the schema sets `broadcast: true`, so the
// message `onMessage` returns goes to every connected client.
import { HandlerContext } from "../../generated/runtime";
import { State } from "../../generated/state";
import { WebSocketMessage } from "../../generated/websockets/Chat";

export async function onConnect(context: HandlerContext, state: State): Promise<void> {
  state.logger.info("client connected", { connection: context.metadata.connection_id });
}

export async function onMessage(message: WebSocketMessage, state: State): Promise<WebSocketMessage> {
  return { ...message, sentAt: state.now() };
}

export async function onDisconnect(context: HandlerContext, state: State): Promise<void> {
  state.logger.info("client disconnected", { connection: context.metadata.connection_id });
}
