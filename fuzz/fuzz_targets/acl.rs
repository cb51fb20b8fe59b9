#![no_main]
//! Fuzz target `acl`: see `capable::fuzz_entry::acl`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::acl(data));
