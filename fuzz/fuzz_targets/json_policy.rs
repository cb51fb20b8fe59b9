#![no_main]
//! Fuzz target `json_policy`: see `capable::fuzz_entry::json_policy`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::json_policy(data));
