//! `capable test`: runs YAML access scenarios (see [`crate::scenario`]).

use std::path::PathBuf;

use super::{CliError, CliResult, Exit};
use crate::inventory::Inventory;
use crate::report::{human, junit};
use crate::scenario::{report, run_scenarios_with, FileOutcome, TestError};
use crate::target::Target;
use crate::workspace::Workspace;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Configuration file [default: capable.yaml in the working directory or above]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The product whose rules apply [default: the config's `target`, else vault]
    #[arg(long, value_name = "vault|openbao", value_parser = parse_target)]
    pub target: Option<Target>,
    /// Scenario files or folders (default: `*.yaml` in `tests` folders of the policy tree)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Parse every policy again instead of reading `.capable_cache/` (also `cache: false` in
    /// capable.yaml, or CAPABLE_NO_CACHE=1)
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Junit,
}

fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

pub fn run(args: Args) -> CliResult {
    crate::cache::enable(args.no_cache);
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::usage(format!("cannot read the working directory: {error}")))?;
    let workspace = Workspace::load_near(&args.paths, args.config.as_deref(), args.target)?;
    let inventory =
        Inventory::new(&workspace.config, &workspace.policies).map_err(TestError::Input);
    let ran = inventory.and_then(|inventory| {
        run_scenarios_with(&workspace, &inventory, &cwd, &args.paths)
            .map(|outcomes| (outcomes, inventory))
    });
    let (outcomes, inventory) = match ran {
        Ok(ran) => ran,
        Err(TestError::Input(files)) => {
            for file in &files {
                eprintln!("{}", human::render(&file.file, &file.diagnostics, false));
            }
            return Ok(Exit::Usage);
        }
        Err(TestError::Other { message, help }) => {
            return Err(CliError::usage(message).with_help(help))
        }
    };
    // Scenarios that cannot run are failed scenarios; their errors go to stderr with the
    // source frame in every format.
    for file in &outcomes {
        let diagnostics: Vec<_> = file
            .invalid
            .iter()
            .flat_map(|invalid| invalid.diagnostics.iter().cloned())
            .collect();
        if !diagnostics.is_empty() {
            eprintln!("{}", human::render(&file.file, &diagnostics, false));
        }
    }
    super::write_stdout(&render(&outcomes, &workspace, &inventory, args.format))?;
    let failed: usize = outcomes.iter().map(FileOutcome::failed).sum();
    Ok(if failed > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// The run in the chosen format.
pub fn render(
    outcomes: &[FileOutcome],
    workspace: &Workspace,
    inventory: &Inventory,
    format: Format,
) -> String {
    match format {
        Format::Human => {
            let policies_of = |outcome: &crate::scenario::Outcome| {
                inventory.policies_of(&outcome.scenario.subject)
            };
            report::human(outcomes, &policies_of)
        }
        Format::Json => {
            let value = report::json(outcomes, workspace.target);
            format!(
                "{}\n",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            )
        }
        Format::Junit => junit::render(outcomes),
    }
}
