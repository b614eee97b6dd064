//! Every Tick event: count it and keep its latency (tick_counter.rs).

use crate::generated::events::Tick::Tick;
use rohas_runtime::Result;

pub async fn handler(event: Tick) -> Result<()> {
    crate::tick_counter::handled(&event.run, event.expected, event.t);
    Ok(())
}
