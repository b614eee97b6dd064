//! The events benchmark's Rust handlers (bench/events/run.py): `POST /burst`
//! publishes Tick events, `on_tick` counts them (the same work as the Python
//! handler, the Celery task and the BullMQ worker).

pub mod generated;
pub mod tick_counter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
