//! Cron `DailyCleanup`: every night at midnight.

use crate::generated::state::State;
use rohas_runtime::Result;

pub async fn handler(state: &mut State) -> Result<()> {
    state
        .logger()
        .info("daily cleanup: nothing to clean up yet");
    Ok(())
}
