//! `capable check [--target vault|openbao] [--format F] [--config F] [--fail-level L]
//! [--no-color] PATH...`: parse and validation diagnostics, lints, role-level lints (with an
//! inventory) and agent checks, in one report.
//!
//! Exit: 0 when nothing reaches the fail level, 1 when a finding does (an `invalid-` error
//! always does), 2 on usage, I/O or configuration errors, 3 on an internal error.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::{CliResult, Exit};
use crate::check::check_workspace;
use crate::config::parse_fail_level;
use crate::diag::{FileDiagnostics, Severity};
use crate::lint::engine::merge_by_file;
use crate::report::{self, Format};
use crate::target::Target;
use crate::workspace::{Workspace, WorkspaceError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy files and folders (folders are searched for .hcl, .json, .policy and .tf files);
    /// default: the config's `include`, else the config's folder
    pub paths: Vec<PathBuf>,
    /// The product whose rules apply [default: the config's `target`, else vault]
    #[arg(long, value_name = "vault|openbao")]
    pub target: Option<Target>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Configuration file [default: capable.yaml in the working directory or above]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Lowest severity that makes the exit status 1 [default: the config's, else warning]
    #[arg(long, value_name = "error|warning|info", value_parser = parse_fail_level)]
    pub fail_level: Option<Severity>,
    /// Never colour the output (colour is used only on a terminal, and never with NO_COLOR)
    #[arg(long)]
    pub no_color: bool,
}

pub fn run(args: Args) -> CliResult {
    let color = use_color(args.no_color);
    let workspace = match Workspace::load(&args.paths, args.config.as_deref(), args.target) {
        Ok(workspace) => workspace,
        Err(error) => {
            eprint!("{}", error.render(color_stderr(args.no_color)));
            return Ok(Exit::Usage);
        }
    };
    if workspace.files.is_empty() && workspace.agent_files.is_empty() {
        eprintln!("warning: no policy files found");
    }
    let mut results = check_workspace(&workspace);
    // Agent configs count as checked files in the summary even when they are clean.
    results.extend(workspace.agent_files.iter().map(|file| FileDiagnostics {
        file: file.clone(),
        diagnostics: Vec::new(),
    }));
    match whole_tree_diagnostics(&workspace, &args) {
        Ok(found) => results.extend(found),
        Err(error) => {
            eprint!("{}", error.render(color_stderr(args.no_color)));
            return Ok(Exit::Usage);
        }
    }
    results.extend(crate::terraform::check::check(&workspace));
    let results = merge_by_file(results);
    let fail_level = args.fail_level.unwrap_or(workspace.config.fail_level);
    let output = report::render(args.format, &results, color);
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`capable check | head`) is not an error of the check.
    let _ = stdout.write_all(output.as_bytes());
    let _ = stdout.flush();
    Ok(exit_status(&results, fail_level))
}

/// 1 when a finding reaches `fail_level` or the target would refuse a policy.
pub fn exit_status(results: &[FileDiagnostics], fail_level: Severity) -> Exit {
    let failing = results
        .iter()
        .flat_map(|result| &result.diagnostics)
        .any(|diagnostic| diagnostic.is_invalid() || diagnostic.severity >= fail_level);
    if failing {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

/// Role-level lints and agent checks need every policy the inventory names, not only the
/// files given (pre-commit passes just the staged files). So with explicit paths and an
/// inventory they run on the configuration's whole policy tree, and only their findings in the
/// given files or in `capable.yaml` are reported. Cost: one more load of the tree.
fn whole_tree_diagnostics(
    workspace: &Workspace,
    args: &Args,
) -> Result<Vec<FileDiagnostics>, WorkspaceError> {
    if args.paths.is_empty() || !workspace.config.has_inventory() {
        let mut found = inventory_diagnostics(workspace);
        found.extend(agent_diagnostics(workspace));
        return Ok(found);
    }
    let mut context = Workspace::load_near(&args.paths, args.config.as_deref(), args.target)?;
    context.agent_files = workspace.agent_files.clone();
    let mut reported: HashSet<PathBuf> = workspace
        .files
        .iter()
        .chain(&workspace.agent_files)
        .map(|file| canonical(&file.name))
        .collect();
    if let Some(config_file) = &workspace.config.source {
        reported.insert(canonical(&config_file.name));
    }
    let mut found = inventory_diagnostics(&context);
    found.retain(|result| reported.contains(&canonical(&result.file.name)));
    found.extend(agent_diagnostics(&context));
    Ok(found)
}

fn canonical(name: &str) -> PathBuf {
    std::fs::canonicalize(name).unwrap_or_else(|_| PathBuf::from(name))
}

/// Role-level lints from the inventory (`roles`, `groups`, `entities` in `capable.yaml`).
/// INVENTORY CALL SITE: the inventory work fills this in (one call into `crate::check`);
/// its findings point into `capable.yaml` (`workspace.config.source`) or into policies.
fn inventory_diagnostics(workspace: &Workspace) -> Vec<FileDiagnostics> {
    if !workspace.config.has_inventory() {
        return Vec::new();
    }
    crate::check::check_inventory(workspace)
}

/// Vault Agent configuration checks (`workspace.agent_files`).
/// AGENT CALL SITE: the agent work adds `crate::agent::check(workspace)` here.
fn agent_diagnostics(workspace: &Workspace) -> Vec<FileDiagnostics> {
    crate::agent::check(workspace)
}

/// Colour on stdout: only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`.
fn use_color(no_color: bool) -> bool {
    !no_color && !no_color_env() && std::io::stdout().is_terminal()
}

pub(crate) fn color_stderr(no_color: bool) -> bool {
    !no_color && !no_color_env() && std::io::stderr().is_terminal()
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}
