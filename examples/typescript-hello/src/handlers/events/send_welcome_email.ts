// Runs for every `UserCreated` event (retried on failure).
import { UserCreated } from "../../generated/events/UserCreated";
import { State } from "../../generated/state";

export async function handler(event: UserCreated, state: State): Promise<void> {
  state.logger.info(`sending a welcome email to ${event.email}`, { userId: event.id });
}
