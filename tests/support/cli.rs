//! Running the built `capable` binary from integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The `capable` binary as the tests run it: without the cache (`CAPABLE_NO_CACHE=1`), so
/// that no run writes a `.capable_cache/` into the repository's fixtures. `tests/cache.rs`
/// turns it back on, in temporary folders. Every test that spawns the binary starts here.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_capable"));
    command.env("CAPABLE_NO_CACHE", "1");
    command
}

/// Runs `capable ARGS` in `dir` with colours off: (exit code, stdout, stderr).
pub fn capable(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = command()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run capable");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8 stdout"),
        String::from_utf8(output.stderr).expect("utf-8 stderr"),
    )
}

/// Runs `capable SUBCOMMAND ARGS` in `dir`, as [`capable`].
pub fn capable_sub(dir: &Path, subcommand: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec![subcommand];
    all.extend_from_slice(args);
    capable(dir, &all)
}
