//! `capable audit replay|suggest|usage LOG...`: answers from a Vault or OpenBao file audit
//! log (`-` reads stdin; gzip is recognised by content).
//!
//! Exit status: `replay` 0 unless `--fail-on` names something found (then 1); `suggest` 1 when
//! the lint catalog finds something at the fail level in the suggestion; `usage` 0; 2 on usage
//! or input errors (an unreadable log, a tree that does not load; bad lines are only counted).

use super::HumanOrJson;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::{CliError, CliResult, Exit};
use crate::acl::{builtin, Acl, AclOptions};
use crate::audit::observed::{observe, Observed, Selector};
use crate::audit::replay::replay;
use crate::audit::report;
use crate::audit::subject::RoleKey;
use crate::audit::suggest::{diff_rules, suggest, SuggestInput, DEFAULT_THRESHOLD};
use crate::audit::usage::usage;
use crate::audit::LogSource;
use crate::inventory::{Inventory, Subject};
use crate::namespace::Namespaces;
use crate::policy::Policy;
use crate::revision::{load_tree, LoadedTree, TreeSpec};
use crate::target::Target;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Re-decide every logged request under a policy tree and report what a change would break
    Replay(ReplayArgs),
    /// Write the least-privilege policy for the requests a role or policy made
    Suggest(SuggestArgs),
    /// Show which granted rules and capabilities the log never used
    Usage(UsageArgs),
}

/// Options every `audit` subcommand takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// File audit device logs (JSON lines, gzip too); `-` reads stdin
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<String>,
    /// Product whose semantics to follow (default: the config's `target`, else `vault`)
    #[arg(long, value_parser = crate::cli::caps::parse_target)]
    pub target: Option<Target>,
    /// The configuration file (default: `capable.yaml` found from the working directory up)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = HumanOrJson::Human)]
    pub format: HumanOrJson,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Some logged request would be newly denied
    Broken,
    /// Some logged request would be newly denied or newly allowed
    Changed,
    /// The server decided some request differently than capable does on the base tree
    Fidelity,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Changes compare the base tree (what is deployed; default: the working tree) \
with the proposed tree (`--against`). Fidelity warnings compare the server's logged decisions \
with the base tree. Trees are folders or `git:REV`."
)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub common: Common,
    /// The proposed policy tree: a folder or `git:REV` (default: only check fidelity)
    #[arg(long, value_name = "DIR|git:REV")]
    pub against: Option<String>,
    /// The deployed policy tree the change is compared with (default: the working tree)
    #[arg(long, value_name = "DIR|git:REV")]
    pub base: Option<String>,
    /// Exit 1 when this is found (repeatable)
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Vec<FailOn>,
}

/// Whose requests `suggest` and `usage` look at.
#[derive(clap::Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct SubjectFlags {
    /// An auth role: `<auth mount>/<name>` (`kubernetes/inference-role`, `token/ci`), or a
    /// role of the inventory
    #[arg(long)]
    pub role: Option<String>,
    /// A policy name: the requests it granted
    #[arg(long)]
    pub policy: Option<String>,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "A path segment becomes `+`, and a folder `*`, only when more than \
`--threshold` distinct values were seen there. Denied requests are never granted; requests the \
`default` policy allows are left to it when the subject holds `default`."
)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub subject: SubjectFlags,
    /// Generalise only beyond this many distinct values in one place
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_name = "N")]
    pub threshold: usize,
    /// Show what the suggestion removes from the subject's current policies
    #[arg(long)]
    pub diff: bool,
    /// Write the policy for this namespace (`admin/team-a/`); default: the inventory role's
    /// or the policy's namespace, else the one the subject's tokens live in
    #[arg(long, value_name = "NAMESPACE", value_parser = crate::cli::parse_namespace)]
    pub namespace: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UsageArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub subject: SubjectFlags,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        AuditCommand::Replay(args) => run_replay(args),
        AuditCommand::Suggest(args) => run_suggest(args),
        AuditCommand::Usage(args) => run_usage(args),
    }
}

fn sources(common: &Common) -> Vec<LogSource> {
    common
        .logs
        .iter()
        .map(|log| LogSource::parse(log))
        .collect()
}

fn cwd() -> Result<PathBuf, CliError> {
    std::env::current_dir()
        .map_err(|error| CliError::usage(format!("cannot read the working directory: {error}")))
}

fn tree(spec: &TreeSpec, common: &Common, cwd: &Path) -> Result<LoadedTree, CliError> {
    load_tree(spec, cwd, common.config.as_deref(), common.target).map_err(|error| {
        CliError::usage(format!("cannot load {}: {error}", spec.label()))
            .with_help("a tree is a folder of policies or `git:REV` of this repository")
    })
}

fn parse_tree(text: &str) -> Result<TreeSpec, CliError> {
    TreeSpec::parse(text).map_err(CliError::usage)
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`capable audit ... | head`) is not an error of the command.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn print_json(value: &serde_json::Value) {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    ));
}

fn run_replay(args: ReplayArgs) -> CliResult {
    let cwd = cwd()?;
    let base_spec = match &args.base {
        Some(text) => parse_tree(text)?,
        None => TreeSpec::Working,
    };
    let proposed_spec = args.against.as_deref().map(parse_tree).transpose()?;
    let base = tree(&base_spec, &args.common, &cwd)?;
    let proposed = match &proposed_spec {
        Some(spec) => Some(tree(spec, &args.common, &cwd)?),
        None => None,
    };
    let base_label = base_spec.label();
    let proposed_label = proposed_spec.as_ref().map(TreeSpec::label);
    let report = replay(
        &sources(&args.common),
        (&base_label, &base.workspace),
        proposed
            .as_ref()
            .zip(proposed_label.as_deref())
            .map(|(tree, label)| (label, &tree.workspace)),
    )
    .map_err(|error| {
        CliError::usage(error).with_help("give readable audit log files, or `-` for stdin")
    })?;
    match args.common.format {
        HumanOrJson::Human => print(&report::render_replay_human(
            &report,
            &base_label,
            proposed_label.as_deref(),
        )),
        HumanOrJson::Json => print_json(&report::render_replay_json(
            &report,
            &base_label,
            proposed_label.as_deref(),
        )),
    }
    let failing = args.fail_on.iter().any(|what| match what {
        FailOn::Broken => !report.newly_denied.is_empty(),
        FailOn::Changed => !report.newly_denied.is_empty() || !report.newly_allowed.is_empty(),
        FailOn::Fidelity => !report.fidelity.is_empty(),
    });
    Ok(if failing { Exit::Findings } else { Exit::Clean })
}

/// The subject of `suggest` and `usage`, resolved against the working tree.
struct Resolved {
    selector: Selector,
    tree: LoadedTree,
    inventory: Option<Inventory>,
    /// The inventory role key, when the inventory knows the role.
    inventory_role: Option<String>,
}

fn resolve(flags: &SubjectFlags, common: &Common) -> Result<Resolved, CliError> {
    let cwd = cwd()?;
    let tree = tree(&TreeSpec::Working, common, &cwd)?;
    let inventory = if tree.workspace.config.has_inventory() {
        Some(crate::query::subject::load_inventory(&tree.workspace)?)
    } else {
        None
    };
    if let Some(policy) = &flags.policy {
        return Ok(Resolved {
            selector: Selector::Policy(policy.clone()),
            tree,
            inventory,
            inventory_role: None,
        });
    }
    let role = flags.role.clone().unwrap_or_default();
    let known = inventory.as_ref().and_then(|inv| inv.find_role(&role).ok());
    let key = match &known {
        Some(key) => {
            let auth_type = inventory.as_ref().and_then(|inv| inv.role_auth_type(key));
            RoleKey::parse(key, auth_type)
        }
        None => RoleKey::parse(&role, None),
    };
    let Some(key) = key else {
        return Err(CliError::usage(format!(
            "`{role}` is not a role of the inventory and not of the form `<auth mount>/<name>`"
        ))
        .with_help("name the role with its auth mount, e.g. `kubernetes/inference-role`"));
    };
    Ok(Resolved {
        selector: Selector::Role(key),
        tree,
        inventory,
        inventory_role: known,
    })
}

impl Resolved {
    fn target(&self) -> Target {
        self.tree.workspace.target
    }

    /// The subject's current policies: the inventory's, the named policy, or the ones its
    /// tokens held in the log.
    fn current_policies(&self, observed: &Observed) -> Result<Vec<Policy>, CliError> {
        if let (Some(inventory), Some(role)) = (&self.inventory, &self.inventory_role) {
            return inventory
                .policy_set(&Subject::Role(role.clone()), self.target())
                .map_err(|error| CliError::usage(error.to_string()));
        }
        let names: Vec<String> = match &self.selector {
            Selector::Policy(name) => vec![name.clone()],
            Selector::Role(_) => {
                let mut names: Vec<String> = Vec::new();
                for set in &observed.policy_sets {
                    for name in set {
                        if !names.contains(name) {
                            names.push(name.clone());
                        }
                    }
                }
                names
            }
        };
        let mut policies = Vec::new();
        for name in names {
            match self.policy_named(&name) {
                Some(policy) => policies.push(policy),
                None if matches!(self.selector, Selector::Policy(_)) => {
                    return Err(CliError::usage(format!(
                        "the policy `{name}` is not in the working tree"
                    ))
                    .with_help("run from the folder holding the policies, or pass `--config`"))
                }
                None => {}
            }
        }
        Ok(policies)
    }

    /// A policy by its qualified name (`admin/team-a/reader`); every namespace has its own
    /// built-in `default`, the root namespace the built-in `root`.
    fn policy_named(&self, name: &str) -> Option<Policy> {
        if let Some(policy) = self.tree.workspace.policies.get(name) {
            return Some(policy.clone());
        }
        let (namespace, bare) = match name.rfind('/') {
            Some(at) => name.split_at(at + 1),
            None => ("", name),
        };
        if !namespace.is_empty() && bare != "default" {
            return None;
        }
        let mut policy = builtin::builtin_named(bare, self.target())?;
        policy.namespace = namespace.to_string();
        Some(policy)
    }

    /// The namespace a suggestion is written for: the inventory role's, the named policy's,
    /// else the one most of the subject's requests came from tokens of.
    fn namespace(&self, observed: &Observed) -> String {
        if let (Some(inventory), Some(role)) = (&self.inventory, &self.inventory_role) {
            return inventory.namespace_of(&Subject::Role(role.clone()));
        }
        if let Selector::Policy(name) = &self.selector {
            if let Some(policy) = self.tree.workspace.policies.get(name) {
                return policy.namespace.clone();
            }
        }
        observed
            .token_namespaces
            .iter()
            .max_by_key(|(namespace, count)| (**count, std::cmp::Reverse(namespace.len())))
            .map(|(namespace, _)| namespace.clone())
            .unwrap_or_default()
    }

    /// The declared namespaces and those the subject's tokens live in.
    fn namespaces(&self, observed: &Observed) -> Namespaces {
        let config = &self.tree.workspace.config.namespaces;
        Namespaces::new(
            config
                .iter()
                .chain(observed.token_namespaces.keys().map(String::as_str)),
        )
    }

    fn holds_default(&self, current: &[Policy]) -> bool {
        matches!(self.selector, Selector::Role(_)) && current.iter().any(|p| p.name == "default")
    }

    fn acl(&self, current: &[Policy], observed: &Observed) -> Result<Acl, CliError> {
        if let (Some(inventory), Some(role)) = (&self.inventory, &self.inventory_role) {
            return inventory
                .acl_for(&Subject::Role(role.clone()), self.target())
                .map_err(|error| CliError::usage(error.to_string()));
        }
        let refs: Vec<&Policy> = current.iter().collect();
        let options = AclOptions {
            namespaces: self.namespaces(observed),
            ..AclOptions::default()
        };
        Acl::with_options(&refs, self.target(), None, &options)
            .map_err(|error| CliError::usage(error.to_string()))
    }
}

fn observe_or_fail(common: &Common, selector: &Selector) -> Result<Observed, CliError> {
    observe(&sources(common), selector).map_err(|error| {
        CliError::usage(error).with_help("give readable audit log files, or `-` for stdin")
    })
}

fn run_suggest(args: SuggestArgs) -> CliResult {
    let resolved = resolve(&args.subject, &args.common)?;
    let observed = observe_or_fail(&args.common, &resolved.selector)?;
    let current = resolved.current_policies(&observed)?;
    let default = current.iter().find(|p| p.name == "default");
    let label = resolved.selector.label();
    let namespace = match &args.namespace {
        Some(namespace) => namespace.clone(),
        None => resolved.namespace(&observed),
    };
    let namespaces = resolved.namespaces(&observed);
    let suggestion = suggest(&SuggestInput {
        observed: &observed,
        target: resolved.target(),
        mounts: &resolved.tree.workspace.config.mounts,
        default_policy: default.filter(|_| resolved.holds_default(&current)),
        threshold: args.threshold,
        title: format!("least privilege for {label}, written by `capable audit suggest`"),
        namespace: &namespace,
        namespaces: &namespaces,
    });
    if suggestion.rules.is_empty() {
        eprintln!("warning: the log holds no allowed request of {label} to build a policy from");
    }
    let findings = lint_suggestion(&suggestion.text, &resolved)?;
    let diff = if args.diff {
        let acl = resolved.acl(&current, &observed)?;
        Some(diff_rules(&acl, &suggestion))
    } else {
        None
    };
    let failing = findings
        .iter()
        .any(|d| d.severity >= resolved.tree.workspace.config.fail_level);
    match args.common.format {
        HumanOrJson::Human => {
            let mut text = suggestion.text.clone();
            if let Some(lines) = &diff {
                text.push('\n');
                let diffed = report::render_diff_human(&label, lines);
                text.push_str(
                    &diffed
                        .lines()
                        .map(|line| format!("# {line}\n"))
                        .collect::<String>(),
                );
            }
            print(&text);
            let bad = report::render_bad_lines(&observed.read);
            if !bad.is_empty() {
                eprint!("{bad}");
            }
        }
        HumanOrJson::Json => {
            let lint: Vec<serde_json::Value> = findings
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "rule": d.rule, "severity": d.severity.name(), "message": d.message
                    })
                })
                .collect();
            print_json(&report::render_suggest_json(
                &label,
                &suggestion,
                diff.as_deref(),
                &lint,
                &observed.read,
            ));
        }
    }
    Ok(if failing { Exit::Findings } else { Exit::Clean })
}

/// Runs the lint catalog over the suggestion; findings go to stderr with their frame.
fn lint_suggestion(
    text: &str,
    resolved: &Resolved,
) -> Result<Vec<crate::diag::Diagnostic>, CliError> {
    let source = std::sync::Arc::new(crate::source::SourceFile::new("suggested.hcl", text));
    let parsed = crate::policy::parse_policy(source.clone(), resolved.target());
    let Some(policy) = parsed.policy else {
        // A suggestion the parser refuses is a bug in capable.
        return Err(CliError {
            message: "the suggested policy does not parse".into(),
            help: Some("this is a bug; please report it".into()),
            exit: Exit::Internal,
        });
    };
    let findings = crate::lint::engine::lint_policy(
        &policy,
        resolved.target(),
        &resolved.tree.workspace.config.lint_settings(),
    );
    if !findings.is_empty() {
        eprint!(
            "{}",
            crate::report::human::render(&source, &findings, false)
        );
    }
    Ok(findings)
}

fn run_usage(args: UsageArgs) -> CliResult {
    let resolved = resolve(&args.subject, &args.common)?;
    let observed = observe_or_fail(&args.common, &resolved.selector)?;
    let current = resolved.current_policies(&observed)?;
    let acl = resolved.acl(&current, &observed)?;
    let found = usage(&acl, &observed);
    let label = resolved.selector.label();
    let requests = observed.allowed_requests();
    match args.common.format {
        HumanOrJson::Human => print(&report::render_usage_human(
            &label,
            &found,
            requests,
            &observed.read,
        )),
        HumanOrJson::Json => print_json(&report::render_usage_json(
            &label,
            &found,
            requests,
            &observed.read,
        )),
    }
    Ok(Exit::Clean)
}
