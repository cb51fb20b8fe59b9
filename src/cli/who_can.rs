//! `capable who-can`: the roles, groups and entities of the inventory that may make one
//! request, with the deciding rule for each.
//!
//! Exit status: 0 when answered (even when nobody may), 2 on usage or input errors.

use super::HumanOrJson;
use std::path::PathBuf;

use super::{CliError, CliResult, Exit};
use crate::query::request;
use crate::query::subject::take_whole_inventory;
use crate::query::who_can::{endpoints_of, narrow_for, render_human, render_json, who_can_with};
use crate::target::Target;
use crate::workspace::Workspace;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// `OPERATION PATH` (e.g. `update secret/data/ai/anthropic`), or a CLI command after
    /// `--` (e.g. `-- vault kv put secret/ai/anthropic api-key=x`)
    #[arg(required = true, num_args = 1.., value_name = "REQUEST")]
    pub request: Vec<String>,
    /// Request data as `key=value` (repeatable; the value is JSON if it parses, else a string)
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,
    /// Also list the subjects that may not, with the reason
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = HumanOrJson::Human)]
    pub format: HumanOrJson,
    /// The product whose rules apply [default: the config's `target`, else vault]
    #[arg(long, value_name = "vault|openbao", value_parser = crate::cli::caps::parse_target)]
    pub target: Option<Target>,
    /// Configuration file [default: capable.yaml in the working directory or above]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Make the request in this namespace (`admin/team-a/`); its path is relative to it
    #[arg(long, value_name = "NAMESPACE", value_parser = crate::cli::parse_namespace)]
    pub namespace: Option<String>,
    /// Read everything again instead of reading `.capable_cache/` (also `cache: false` in
    /// capable.yaml, or CAPABLE_NO_CACHE=1)
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(args: Args) -> CliResult {
    crate::cache::enable_inventory(args.no_cache);
    let mut workspace = Workspace::load_deferred(args.config.as_deref(), args.target)?;
    let mut calls = request::build(&args.request, &args.data, None, &workspace.config.mounts)?;
    let namespace = args.namespace.clone().unwrap_or_default();
    for call in &mut calls {
        for alternative in &mut call.alternatives {
            alternative.request.path =
                crate::namespace::join(&namespace, &alternative.request.path);
        }
    }
    // Mount kinds: the declared mounts, then what the tree's own patterns show.
    let map = crate::endpoints::MountMap::from_patterns(
        workspace.target,
        &workspace.config.mounts,
        workspace
            .policies
            .values()
            .flat_map(|policy| policy.rules.iter().filter_map(|rule| rule.pattern.as_ref())),
    );
    let endpoints = endpoints_of(&calls, &map, &namespace);
    let mut inventory = take_whole_inventory(&mut workspace)?;
    if inventory.is_empty() {
        return Err(
            CliError::usage("the inventory is empty: no roles, groups or entities")
                .with_help("declare them under `roles`, `groups` and `entities` in `capable.yaml`"),
        );
    }
    narrow_for(&mut inventory, workspace.target, &calls);
    let json = matches!(args.format, HumanOrJson::Json);
    let answers = who_can_with(&inventory, workspace.target, &calls, json);
    match args.format {
        HumanOrJson::Human if !namespace.is_empty() => super::write_stdout(&format!(
            "in namespace `{namespace}`\n{}",
            render_human(&calls, workspace.target, &answers, args.all, &endpoints)
        ))?,
        HumanOrJson::Human => super::write_stdout(&render_human(
            &calls,
            workspace.target,
            &answers,
            args.all,
            &endpoints,
        ))?,
        HumanOrJson::Json => {
            let mut value = render_json(&calls, workspace.target, &answers, &endpoints);
            if !namespace.is_empty() {
                value["namespace"] = serde_json::json!(namespace);
            }
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            super::write_stdout(&format!("{text}\n"))?;
        }
    }
    // The output is written and flushed; freeing the tree, the inventory and every answer
    // (millions of allocations for 10,000 subjects) would only delay the exit.
    super::leak_at_exit((workspace, inventory, answers));
    Ok(Exit::Clean)
}
