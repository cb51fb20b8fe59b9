#![no_main]
//! Fuzz target `scenario`: see `capable::fuzz_entry::scenario`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::scenario(data));
