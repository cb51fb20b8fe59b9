//! `capable diff`: the exact access a change gains and loses.
//!
//! - `brute`: random BASE/HEAD policy sets against brute force over every short path;
//! - `cli`: the command on folders, `git:REV` and `-`, formats and exit codes;
//! - `guards`: guards in `capable.yaml`, checked by `check`;
//! - `action`: the GitHub Action's steps in a scratch repository;
//! - `bao`: witnesses and probes against a real OpenBao;
//! - `baseline`: `check --new-since` and `baseline:`, and `check --format gitlab`.

#[path = "support/gen.rs"]
mod gen;
mod support;

#[path = "diff/action.rs"]
mod action;
#[path = "diff/bao.rs"]
mod bao;
#[path = "diff/baseline.rs"]
mod baseline;
#[path = "diff/brute.rs"]
mod brute;
#[path = "diff/cli.rs"]
mod cli;
#[path = "diff/guards.rs"]
mod guards;
