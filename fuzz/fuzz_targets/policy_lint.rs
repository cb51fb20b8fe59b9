#![no_main]
//! Fuzz target `policy_lint`: see `capable::fuzz_entry::policy_lint`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| capable::fuzz_entry::policy_lint(data));
