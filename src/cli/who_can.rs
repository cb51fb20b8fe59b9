//! `capable who-can`: the roles, groups and entities of the inventory that may make one
//! request, with the deciding rule for each.
//!
//! Exit status: 0 when answered (even when nobody may), 2 on usage or input errors.

use std::path::PathBuf;

use super::{CliError, CliResult, Exit};
use crate::acl::{Operation, Request};
use crate::query::subject::load_inventory;
use crate::query::who_can::{render_human, render_json, who_can};
use crate::target::Target;
use crate::workspace::Workspace;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The operation (`read`, `list`, `create`, `update`, `patch`, `delete`, ...)
    pub operation: String,
    /// The API path (e.g. `secret/data/ai/openai`)
    pub path: String,
    /// Also list the subjects that may not, with the reason
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Product whose semantics to follow (default: the config's `target`, else `vault`)
    #[arg(long, value_parser = crate::cli::caps::parse_target)]
    pub target: Option<Target>,
    /// The configuration file (default: `capable.yaml` found from the working directory up)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

pub fn run(args: Args) -> CliResult {
    let operation: Operation = args.operation.parse().map_err(|message: String| {
        CliError::usage(message).with_help(
            "use one of `read`, `list`, `create`, `update`, `patch`, `delete`, `scan`, `recover`",
        )
    })?;
    let mut path = args.path.trim_start_matches('/').to_string();
    if operation.is_listing() && !path.ends_with('/') {
        // The HTTP layer adds the trailing `/` to every LIST and SCAN (spec 3.1).
        path.push('/');
    }
    let request = Request::new(operation, path);
    let workspace = Workspace::load(&[], args.config.as_deref(), args.target)?;
    let inventory = load_inventory(&workspace)?;
    if inventory.is_empty() {
        return Err(
            CliError::usage("the inventory is empty: no roles, groups or entities")
                .with_help("declare them under `roles`, `groups` and `entities` in `capable.yaml`"),
        );
    }
    let answers = who_can(&inventory, workspace.target, &request);
    match args.format {
        Format::Human => print!(
            "{}",
            render_human(&request, workspace.target, &answers, args.all)
        ),
        Format::Json => {
            let value = render_json(&request, workspace.target, &answers);
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
    }
    Ok(Exit::Clean)
}
