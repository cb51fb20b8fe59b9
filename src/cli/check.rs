//! `capable check [--target vault|openbao] [--format F] [--config F] [--fail-level L]
//! [--no-color] PATH...`: parse and validation diagnostics, lints, role-level lints (with an
//! inventory) and agent checks, in one report.
//!
//! Guards (`guards:` in `capable.yaml`) are checked on every run. With `--new-since REV` (or
//! `baseline: git:REV` in `capable.yaml`), findings already present at REV are not reported
//! (see [`crate::baseline`]); how many were hidden is said on stderr.
//!
//! Exit: 0 when nothing reaches the fail level, 1 when a finding does (an `invalid-` error
//! always does), 2 on usage, I/O or configuration errors, 3 on an internal error.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

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
    /// Report only findings not present at this git revision (default: the config's
    /// `baseline`, if any)
    #[arg(long, value_name = "REV")]
    pub new_since: Option<String>,
    /// Skip named `.json` files that are not policies (no top-level `path`), as a folder walk
    /// does; the pre-commit hook passes it, since it names every staged `.json` file
    #[arg(long)]
    pub only_policies: bool,
    /// Parse every policy again instead of reading `.capable_cache/` (also `cache: false` in
    /// capable.yaml, or CAPABLE_NO_CACHE=1)
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(args: Args) -> CliResult {
    crate::cache::enable(args.no_cache);
    let color = use_color(args.no_color);
    let loaded = Workspace::load_sifted(
        &args.paths,
        args.config.as_deref(),
        args.target,
        args.only_policies,
    );
    let workspace = match loaded {
        Ok(workspace) => workspace,
        Err(error) => {
            eprint!("{}", error.render(color_stderr(args.no_color)));
            return Ok(Exit::Usage);
        }
    };
    // A mistyped or empty folder must not pass CI; files named one by one (pre-commit) may
    // all be excluded by `capable.yaml`, which is fine.
    let named_a_file = args.paths.iter().any(|path| path.is_file());
    if workspace.files.is_empty() && workspace.agent_files.is_empty() && !named_a_file {
        let searched = match args.paths.as_slice() {
            [] => format!("`{}`", workspace.root.display()),
            paths => paths
                .iter()
                .map(|path| format!("`{}`", path.display()))
                .collect::<Vec<_>>()
                .join(", "),
        };
        return Err(
            super::CliError::usage(format!("no policy files found in {searched}")).with_help(
                "policies are `.hcl`, `.json`, `.policy` and `.tf` files; check the path, \
                 or the `include` and `exclude` of `capable.yaml`",
            ),
        );
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut results = match results_of(&workspace, &args, &cwd) {
        Ok(results) => results,
        Err(error) => {
            eprint!("{}", error.render(color_stderr(args.no_color)));
            return Ok(Exit::Usage);
        }
    };
    // The findings cache is written once, with every entry this run added.
    crate::cache::flush();
    let since = args
        .new_since
        .clone()
        .or_else(|| workspace.config.baseline.clone());
    if let Some(rev) = since {
        let known = match known_at(&rev, &args, &cwd) {
            Ok(known) => known,
            Err(error) => {
                if let Some(rendered) = &error.rendered {
                    eprint!("{rendered}");
                }
                eprintln!("error: {}", error.message);
                if let Some(help) = &error.help {
                    eprintln!("  help: {help}");
                }
                return Ok(Exit::Usage);
            }
        };
        let hidden =
            crate::baseline::retain_new(&mut results, known, |file| workspace.policy_of(file));
        eprintln!("{hidden} finding(s) hidden: already present at `{rev}`");
        crate::cache::flush();
    }
    let fail_level = args.fail_level.unwrap_or(workspace.config.fail_level);
    if args.format == Format::Github {
        write_step_summary(&results);
    }
    // A report that could not be written (a closed pipe, a full disk) is exit 2: a CI gate
    // must not pass on a truncated report.
    super::write_stdout_with(|out| report::write(args.format, &results, color, out))?;
    Ok(exit_status(&results, fail_level))
}

/// Every finding of a loaded workspace, merged by file.
fn results_of(
    workspace: &Workspace,
    args: &Args,
    cwd: &Path,
) -> Result<Vec<FileDiagnostics>, WorkspaceError> {
    // The policy files (mostly reads of cache entries when warm) beside the Terraform files
    // (linted each time): both on all cores, in a fixed order.
    let (mut results, terraform) = rayon::join(
        || check_workspace(workspace),
        || crate::terraform::check::check(workspace),
    );
    // Agent configs count as checked files in the summary even when they are clean.
    results.extend(workspace.agent_files.iter().map(|file| FileDiagnostics {
        file: file.clone(),
        diagnostics: Vec::new(),
    }));
    results.extend(whole_tree_diagnostics(workspace, args, cwd)?);
    results.extend(terraform);
    let results = merge_by_file(results);
    Ok(crate::check::apply_per_file_ignores(
        results,
        workspace,
        args.paths.is_empty(),
    ))
}

/// The fingerprints of the findings at `rev`: the tree of that commit, checked with the same
/// paths (those that exist there) from the same place in the repository.
fn known_at(
    rev: &str,
    args: &Args,
    cwd: &Path,
) -> Result<crate::baseline::Known, crate::diff::side::SideError> {
    let checkout = crate::revision::Checkout::new(cwd, rev)?;
    let inside = checkout.inside()?;
    let paths: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|path| inside.join(path).exists())
        .cloned()
        .collect();
    let old_args = Args {
        paths: paths.clone(),
        target: args.target,
        format: args.format,
        config: args
            .config
            .clone()
            .filter(|config| inside.join(config).exists()),
        fail_level: args.fail_level,
        no_color: true,
        new_since: None,
        only_policies: args.only_policies,
        no_cache: args.no_cache,
    };
    let to_error = |error: WorkspaceError| crate::diff::side::SideError {
        message: format!("at `{rev}`: {}", error.message()),
        help: error.help(),
        rendered: None,
    };
    let workspace = Workspace::load_in(&inside, &paths, old_args.config.as_deref(), args.target)
        .map_err(to_error)?;
    let results = results_of(&workspace, &old_args, &inside).map_err(to_error)?;
    let known = crate::baseline::known(&results, |file| workspace.policy_of(file));
    drop(checkout);
    Ok(known)
}

/// Appends the findings table to `$GITHUB_STEP_SUMMARY` when GitHub Actions sets it. A
/// failure to write is reported on stderr and does not change the exit status.
fn write_step_summary(results: &[FileDiagnostics]) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()) else {
        return;
    };
    let summary = report::github::step_summary(results);
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut file| file.write_all(summary.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "warning: cannot append to `GITHUB_STEP_SUMMARY` (`{}`): {error}",
            std::path::Path::new(&path).display()
        );
    }
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
    cwd: &Path,
) -> Result<Vec<FileDiagnostics>, WorkspaceError> {
    if args.paths.is_empty() || !workspace.config.has_inventory() {
        let mut found = inventory_diagnostics(workspace);
        found.extend(agent_diagnostics(workspace));
        found.extend(crate::guards::check(workspace));
        return Ok(found);
    }
    let mut context =
        Workspace::load_near_in(cwd, &args.paths, args.config.as_deref(), args.target)?;
    context.agent_files = workspace.agent_files.clone();
    let mut found = inventory_diagnostics(&context);
    found.extend(crate::guards::check(&context));
    // Resolving every file's real path costs a `readlink` per path component: only done
    // when there is a finding to place.
    if !found.is_empty() {
        let mut reported: HashSet<PathBuf> = workspace
            .files
            .iter()
            .chain(&workspace.agent_files)
            .map(|file| canonical(&file.name))
            .collect();
        if let Some(config_file) = &workspace.config.source {
            reported.insert(canonical(&config_file.name));
        }
        found.retain(|result| reported.contains(&canonical(&result.file.name)));
    }
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
