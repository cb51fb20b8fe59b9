#![no_main]
//! Fuzz target `agent`: see `capable::fuzz_entry::agent`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::agent(data));
