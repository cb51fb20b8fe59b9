#![no_main]
//! Fuzz target `config`: see `capable::fuzz_entry::config`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::config(data));
