//! `capable diff BASE HEAD [FOLDER]`: the exact access a change gains and loses, per subject.
//!
//! Exit: 0 when nothing reaches `--fail-on`, 1 when a change does, 2 on usage or input errors
//! (an unknown revision, a side that does not load, a subject too large to decide exactly:
//! see `diff::witness`), 3 on an internal error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::{CliError, CliResult, Exit};
use crate::diff::report::{github, human, json, markdown, sarif, Labels};
use crate::diff::side::{load, SideSpec};
use crate::diff::{ChangeKind, Diff, Options};
use crate::target::Target;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Each side is a folder, `git:REV` (a commit of the repository the \
command runs in, e.g. `git:origin/main`) or `-` (the working tree). Exit status: 0 when no change \
reaches `--fail-on`, 1 when one does, 2 on usage or input errors."
)]
pub struct Args {
    /// The side before the change: a folder, `git:REV` or `-`
    pub base: String,
    /// The side after the change: a folder, `git:REV` or `-`
    pub head: String,
    /// The folder compared inside each side (default: the side itself, or for `git:` and `-`
    /// the working directory's place in the repository)
    pub folder: Option<PathBuf>,
    /// Exit 1 on: `gained` access, `changed` (gained or changed conditions), `any` change
    /// (lost too), or `never`
    #[arg(long, value_enum, default_value_t = FailOn::Gained)]
    pub fail_on: FailOn,
    /// Only this subject (role, group, entity or policy name; repeatable)
    #[arg(long = "subject", value_name = "NAME")]
    pub subjects: Vec<String>,
    /// Only paths starting with this prefix (e.g. `secret/data/ai/`; relative to the namespace)
    #[arg(long, value_name = "PREFIX")]
    pub under: Option<String>,
    /// Ask in this namespace (`admin/team-a/`): the subjects whose tokens may make requests
    /// there, on its paths and its children's (default: each subject in its own namespace)
    #[arg(long, value_name = "NAMESPACE", value_parser = crate::cli::parse_namespace)]
    pub namespace: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Follow this product on both sides (default: each side's `capable.yaml`)
    #[arg(long, value_parser = crate::cli::caps::parse_target)]
    pub target: Option<Target>,
    /// Never colour the output (colour is used only on a terminal, and never with NO_COLOR)
    #[arg(long)]
    pub no_color: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Gained,
    Changed,
    Any,
    Never,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Grouped by subject, gained first (red/green on a terminal)
    Human,
    /// `version` 1, with a flat `changes` list
    Json,
    /// A pull-request comment or `$GITHUB_STEP_SUMMARY` body
    Markdown,
    /// GitHub Actions annotations on the HEAD lines that grant new access
    Github,
    /// SARIF 2.1.0
    Sarif,
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// Whether the diff triggers `--fail-on`.
pub fn fails(diff: &Diff, fail_on: FailOn) -> bool {
    let gained = diff.count(ChangeKind::Gained) > 0;
    let changed = diff.count(ChangeKind::Changed) > 0;
    let any = !diff.subjects.is_empty();
    match fail_on {
        FailOn::Gained => gained,
        FailOn::Changed => gained || changed,
        FailOn::Any => any,
        FailOn::Never => false,
    }
}

pub fn run(args: Args) -> CliResult {
    let color = !args.no_color && !no_color_env() && std::io::stdout().is_terminal();
    let color_stderr = !args.no_color && !no_color_env() && std::io::stderr().is_terminal();
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::usage(format!("cannot read the working directory: {error}")))?;
    let base_spec = SideSpec::parse(&args.base);
    let head_spec = SideSpec::parse(&args.head);
    let mut loaded = Vec::new();
    for spec in [&base_spec, &head_spec] {
        match load(
            spec,
            &cwd,
            args.folder.as_deref(),
            args.target,
            color_stderr,
        ) {
            Ok(side) => loaded.push(side),
            Err(error) => {
                if let Some(rendered) = &error.rendered {
                    eprint!("{rendered}");
                }
                let mut cli = CliError::usage(error.message);
                cli.help = error.help;
                return Err(cli);
            }
        }
    }
    let (base, head) = (loaded[0].input(), loaded[1].input());
    if let Some(namespace) = &args.namespace {
        let declared = [&base, &head]
            .iter()
            .any(|side| side.workspace.config.namespaces.contains(namespace));
        if !declared {
            return Err(CliError::usage(format!(
                "namespace `{namespace}` is declared on neither side"
            ))
            .with_help(
                "declare it under `namespaces:` in capable.yaml, e.g. `admin/team-a/: {}`",
            ));
        }
    }
    let options = Options {
        subjects: args.subjects.clone(),
        under: args.under.clone(),
        namespace: args.namespace.clone(),
    };
    let unknown = crate::diff::unknown_subjects(&base, &head, &options);
    if let Some(name) = unknown.first() {
        return Err(CliError::usage(format!("no subject `{name}` on either side")).with_help(
            "name a role (`kubernetes/inference-role` or its bare name), group, entity or policy",
        ));
    }
    let diff = crate::diff::diff(&base, &head, &options).map_err(|error| {
        CliError::usage(error.to_string()).with_help(
            "compare that subject's policies in smaller steps, or narrow with `--under`; \
             nothing was guessed",
        )
    })?;
    let labels = Labels {
        base: base_spec.label(),
        head: head_spec.label(),
    };
    let output = match args.format {
        Format::Human => human::render(&diff, &labels, color),
        Format::Json => {
            let value = json::render(&diff, &labels);
            format!(
                "{}\n",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            )
        }
        Format::Markdown => markdown::render(&diff, &labels),
        Format::Github => github::render(&diff),
        Format::Sarif => format!(
            "{}\n",
            serde_json::to_string_pretty(&sarif::render(&diff)).unwrap_or_default()
        ),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(output.as_bytes());
    let _ = stdout.flush();
    Ok(if fails(&diff, args.fail_on) {
        Exit::Findings
    } else {
        Exit::Clean
    })
}
