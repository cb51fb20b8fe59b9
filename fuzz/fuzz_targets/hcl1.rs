#![no_main]
//! Fuzz target `hcl1`: see `capable::fuzz_entry::hcl1`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::hcl1(data));
