//! `capable caps`. Not written yet.

use super::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(args: Args) -> CliResult {
    let _ = args;
    Err(CliError::usage("`caps` is not available yet"))
}
