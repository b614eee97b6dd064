// Cron `DailyCleanup`: every night at midnight.
import { State } from "../../generated/state";

export async function handler(state: State): Promise<void> {
  state.logger.info("daily cleanup: nothing to clean up yet");
}
