//! `capable diff`: the exact access a change gains and loses.
//!
//! - `brute`: random BASE/HEAD policy sets against brute force over every short path;
//! - `cli`: the command on folders, `git:REV` and `-`, formats and exit codes.

mod support;

#[path = "diff/brute.rs"]
mod brute;
#[path = "diff/cli.rs"]
mod cli;
