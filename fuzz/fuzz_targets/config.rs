//! Bytes → `config/rohas.toml` text and `ROHAS_*` variables → the loader.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rohas_config::fuzz_one(data));
