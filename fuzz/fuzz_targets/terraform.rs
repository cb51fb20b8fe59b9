#![no_main]
//! Fuzz target `terraform`: see `capable::fuzz_entry::terraform`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::terraform(data));
