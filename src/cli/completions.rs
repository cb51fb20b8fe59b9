//! `capable completions bash|zsh|fish|powershell|elvish`: prints a shell completion script
//! (clap_complete) generated from the command line definition, so it never goes stale.
//!
//! Install, e.g.: `capable completions bash > ~/.local/share/bash-completion/completions/capable`,
//! `capable completions zsh > "${fpath[1]}/_capable"`,
//! `capable completions fish > ~/.config/fish/completions/capable.fish`.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, CliResult, Exit};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args) -> CliResult {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "capable", &mut script);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&script);
    let _ = stdout.flush();
    Ok(Exit::Clean)
}
