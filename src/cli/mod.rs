//! The command line, one file per subcommand. Each subcommand file holds its `Args` (clap)
//! and a `run` returning the process exit status.

pub mod audit;
pub mod caps;
pub mod check;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod man;
pub mod pull;
pub mod reach;
pub mod rules;
pub mod test;
pub mod who_can;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit statuses shared by every subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing to report.
    Clean = 0,
    /// Findings, failed scenarios, or a denied decision where one was asserted.
    Findings = 1,
    /// Usage or input error (bad flags, unreadable files, invalid config).
    Usage = 2,
    /// A bug in capable.
    Internal = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// An error that stops a command: printed as `error: ...` with an optional `help:` line.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub help: Option<String>,
    pub exit: Exit,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            help: None,
            exit: Exit::Usage,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> CliError {
        self.help = Some(help.into());
        self
    }
}

pub type CliResult = Result<Exit, CliError>;

/// `--format` of the commands that answer for people or for programs: human text, or JSON
/// with a `version` field.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HumanOrJson {
    Human,
    /// `version` 1
    Json,
}

/// Hands `value` to the end of the process instead of freeing it: for a one-shot command's
/// big structures (a loaded tree, an inventory of 10,000 subjects) once it no longer needs
/// them, where freeing them one allocation at a time (measured: up to a tenth of a
/// `who-can` run) only delays the exit; the system takes the memory back at once. Only for
/// the CLI's runs, which load once: a library caller frees what it loads. Cost: none.
pub fn leak_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Writes a command's output to stdout and flushes it. A write error (a closed pipe, a full
/// disk) is an I/O error (exit 2), never a panic and never ignored: a report that may be
/// truncated must not end in exit 0 or 1. Cost: O(output).
pub fn write_stdout(text: &str) -> Result<(), CliError> {
    write_stdout_with(|out| out.write_all(text.as_bytes()))
}

/// Streams output to stdout through a buffer: `write` writes it piece by piece, so a long
/// report is never held whole in memory. A write error (a closed pipe, a full disk) is a
/// usage error (exit 2) saying the output may be incomplete, never a panic.
pub fn write_stdout_with(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    write(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|error| {
            let reason = match error.kind() {
                std::io::ErrorKind::BrokenPipe => "the pipe was closed".to_string(),
                kind => kind.to_string(),
            };
            CliError::usage(format!("cannot write the output to stdout: {reason}")).with_help(
                "the output may be incomplete; write it to a file or a reader that takes it all",
            )
        })
}

/// Parses a `--namespace` value (`admin/team-a`, `admin/team-a/`, `root`) into its path.
pub(crate) fn parse_namespace(text: &str) -> Result<String, String> {
    crate::namespace::normalize(text)
}

#[derive(Parser, Debug)]
#[command(
    name = "capable",
    version,
    about = "Lint, test and simulate Vault and OpenBao ACL policies offline"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check policies for errors the target would refuse and for risky grants
    Check(check::Args),
    /// Print what `sys/capabilities` answers for a token holding the given policies
    Caps(caps::Args),
    /// List the lint rules, or print one rule's documentation
    Rules(rules::Args),
    /// Run YAML access scenarios
    Test(test::Args),
    /// Format HCL policies exactly as `bao policy fmt` does
    Fmt(fmt::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(completions::Args),
    /// Print the man page of capable or of one subcommand
    Man(man::Args),
    /// Explain one decision: which rule wins and why
    Explain(explain::Args),
    /// List what a subject can do, as path regions
    Reach(reach::Args),
    /// List the roles, groups and entities that may perform an operation on a path
    WhoCan(who_can::Args),
    /// Show the exact access each subject gains and loses between two policy trees
    Diff(diff::Args),
    /// Replay audit logs against a policy change, suggest least privilege, find unused access
    Audit(audit::Args),
    /// Read a live Vault or OpenBao server (read-only) into policy files and capable.yaml
    Pull(pull::Args),
}

/// Runs the command line; `main` only maps the result to an exit code.
pub fn run(cli: Cli) -> Exit {
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Caps(args) => caps::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Test(args) => test::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Reach(args) => reach::run(args),
        Command::WhoCan(args) => who_can::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Pull(args) => pull::run(args),
    };
    match result {
        Ok(exit) => exit,
        Err(error) => {
            eprintln!("error: {}", error.message);
            if let Some(help) = &error.help {
                eprintln!("  help: {help}");
            }
            error.exit
        }
    }
}
