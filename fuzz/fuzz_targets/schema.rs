//! Bytes → `.ro` source → parse, validate, render, and format twice.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rohas_schema::fuzz_one(data));
