//! `capable fmt [--check] [--diff] [--target vault|openbao] [--config F] [PATH...]`: format
//! HCL policies exactly as `bao policy fmt` does (see [`crate::fmt`]).
//!
//! Without `--check` or `--diff` each file that changes is rewritten atomically (permissions
//! kept). `--check` writes nothing and lists the files that would change; `--diff` writes
//! nothing and prints a unified diff (`a/NAME`, `b/NAME`, so `git apply` takes it). A policy
//! the target would refuse is not formatted (as `bao policy fmt` refuses it) and its errors are
//! printed. JSON policies are left alone, and said so; Terraform files and Vault Agent
//! configurations are not policies to format and are skipped.
//!
//! Exit: 0 when every file is formatted (or was), 1 when `--check`/`--diff` found a file to
//! change, 2 when a file could not be formatted or on usage and I/O errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::check::color_stderr;
use super::{CliResult, Exit};
use crate::diag::Diagnostic;
use crate::fmt::{format_policy, FormatError, Formatted};
use crate::policy::parse_policy;
use crate::report::human;
use crate::source::SourceFile;
use crate::target::Target;
use crate::workspace::{is_agent_config, Workspace};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy files and folders (folders are searched for .hcl and .policy files);
    /// default: the config's `include`, else the config's folder
    pub paths: Vec<PathBuf>,
    /// Write nothing; list the files that would change (exit 1 if any)
    #[arg(long)]
    pub check: bool,
    /// Write nothing; print a unified diff of the changes (exit 1 if any)
    #[arg(long)]
    pub diff: bool,
    /// The product whose rules apply [default: the config's `target`, else vault]
    #[arg(long, value_name = "vault|openbao")]
    pub target: Option<Target>,
    /// Configuration file [default: capable.yaml in the working directory or above]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Never colour the output (colour is used only on a terminal, and never with NO_COLOR)
    #[arg(long)]
    pub no_color: bool,
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed,
    Failed,
    Skipped,
}

pub fn run(args: Args) -> CliResult {
    let color = color_stderr(args.no_color);
    let cwd = std::env::current_dir().map_err(|error| {
        super::CliError::usage(format!("cannot read the working directory: {error}"))
    })?;
    let (config, files) = match Workspace::select_files(&cwd, &args.paths, args.config.as_deref()) {
        Ok(selected) => selected,
        Err(error) => {
            eprint!("{}", error.render(color));
            return Ok(Exit::Usage);
        }
    };
    let target = args.target.unwrap_or(config.target);
    let mut counts = Counts::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &files {
        let outcome = format_file(&cwd, file, target, &args, color, &mut out)?;
        counts.add(&outcome);
    }
    out.flush().map_err(stdout_error)?;
    if counts.formattable() == 0 && counts.failed == 0 {
        return Err(
            super::CliError::usage("no HCL policy files to format").with_help(
                "give policy files or folders holding `.hcl` or `.policy` files (check the path)",
            ),
        );
    }
    eprintln!("{}", counts.summary(args.check || args.diff));
    if counts.failed > 0 {
        return Ok(Exit::Usage);
    }
    if (args.check || args.diff) && counts.changed > 0 {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Clean)
}

fn format_file(
    cwd: &Path,
    file: &SourceFile,
    target: Target,
    args: &Args,
    color: bool,
    out: &mut impl Write,
) -> Result<Outcome, super::CliError> {
    if crate::terraform::is_terraform(&file.name) || is_agent_config(file) {
        return Ok(Outcome::Skipped);
    }
    let source = std::sync::Arc::new(file.clone());
    let invalid: Vec<Diagnostic> = parse_policy(source, target)
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_invalid)
        .collect();
    if !invalid.is_empty() {
        eprint!("{}", human::render(file, &invalid, color));
        eprintln!(
            "error: `{}` is not formatted: the {target} target refuses it",
            file.name
        );
        return Ok(Outcome::Failed);
    }
    let formatted = match format_policy(&file.text) {
        Ok(Formatted::Text(text)) => text,
        Ok(Formatted::Json) => {
            eprintln!(
                "note: `{}` is a JSON policy, left alone (`bao policy fmt` formats HCL only)",
                file.name
            );
            return Ok(Outcome::Skipped);
        }
        Err(error) => {
            eprint!("{}", render_error(file, &error, color));
            return Ok(Outcome::Failed);
        }
    };
    if formatted == file.text {
        return Ok(Outcome::Unchanged);
    }
    if args.diff {
        out.write_all(crate::fmt::diff::unified(&file.name, &file.text, &formatted).as_bytes())
            .map_err(stdout_error)?;
    } else if args.check {
        writeln!(out, "would reformat `{}`", file.name).map_err(stdout_error)?;
    } else {
        crate::atomic_write::write(&cwd.join(&file.name), formatted.as_bytes()).map_err(
            |error| super::CliError::usage(format!("cannot write `{}`: {error}", file.name)),
        )?;
        eprintln!("reformatted `{}`", file.name);
    }
    Ok(Outcome::Changed)
}

/// A failed write of `--diff` or `--check` output (a closed pipe, a full disk): exit 2, as
/// [`super::write_stdout`] does for the other commands.
fn stdout_error(error: std::io::Error) -> super::CliError {
    super::CliError::usage(format!("cannot write the output to stdout: {error}"))
        .with_help("the output may be incomplete; write it to a file or a reader that takes it all")
}

fn render_error(file: &SourceFile, error: &FormatError, color: bool) -> String {
    let rule = match error {
        FormatError::DroppedComment(_) => "fmt-would-drop-comment",
        FormatError::Syntax(_) => "invalid-syntax",
        FormatError::Internal(_) => "internal-error",
    };
    let diagnostic = Diagnostic::error(rule, error.span(), error.message()).with_help(error.help());
    human::render(file, &[diagnostic], color)
}

#[derive(Default)]
struct Counts {
    unchanged: usize,
    changed: usize,
    failed: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Changed => self.changed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Skipped => {}
        }
    }

    fn formattable(&self) -> usize {
        self.unchanged + self.changed
    }

    /// `2 files reformatted, 3 files already formatted` (or `would be reformatted`).
    fn summary(&self, dry_run: bool) -> String {
        let files = |count: usize| match count {
            1 => "1 file".to_string(),
            count => format!("{count} files"),
        };
        let verb = if dry_run {
            "would be reformatted"
        } else {
            "reformatted"
        };
        let mut parts = vec![
            format!("{} {verb}", files(self.changed)),
            format!("{} already formatted", files(self.unchanged)),
        ];
        if self.failed > 0 {
            parts.push(format!("{} could not be formatted", files(self.failed)));
        }
        parts.join(", ")
    }
}
