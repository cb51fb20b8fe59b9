//! Whose access a query is about: `--role`, `--entity`, `--group` (through the inventory in
//! `capable.yaml`) or `--policy FILE...` (a token holding exactly those policies).

use std::path::{Path, PathBuf};

use std::sync::Arc;

use crate::acl::{builtin, Acl, AclError, AclOptions};
use crate::cli::{CliError, Exit};
use crate::config::{Config, Mounts};
use crate::diag::FileDiagnostics;
use crate::inventory::{Inventory, Subject};
use crate::namespace::Namespaces;
use crate::policy::{parse_policy, Policy};
use crate::report::human;
use crate::source::SourceFile;
use crate::target::Target;
use crate::workspace::Workspace;

/// The subject flags shared by `explain`, `caps` and `reach`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SubjectArgs {
    /// An auth role of the inventory (`kubernetes/inference-role`, or a unique bare name)
    #[arg(long, group = "subject")]
    pub role: Option<String>,
    /// An identity entity of the inventory
    #[arg(long, group = "subject")]
    pub entity: Option<String>,
    /// An identity group of the inventory
    #[arg(long, group = "subject")]
    pub group: Option<String>,
    /// A policy file the token holds (repeatable); a file named `root` is the root policy
    #[arg(long = "policy", value_name = "FILE", group = "subject")]
    pub policies: Vec<PathBuf>,
    /// With `--policy`: also hold the target's built-in `default` policy
    #[arg(long)]
    pub default_policy: bool,
    /// The product whose rules apply [default: the config's `target`, else vault]
    #[arg(long, value_name = "vault|openbao", value_parser = crate::cli::caps::parse_target)]
    pub target: Option<Target>,
    /// Configuration file [default: capable.yaml in the working directory or above]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ask in this namespace (`admin/team-a/`), as `X-Vault-Namespace` does: paths are
    /// relative to it, and `--policy` files are its policies (default: the role's, entity's
    /// or group's namespace, else root)
    #[arg(long, value_name = "NAMESPACE", value_parser = crate::cli::parse_namespace)]
    pub namespace: Option<String>,
    /// Read everything again instead of reading `.capable_cache/` (also `cache: false` in
    /// capable.yaml, or CAPABLE_NO_CACHE=1)
    #[arg(long)]
    pub no_cache: bool,
}

/// A subject resolved to its merged ACL.
pub struct Resolved {
    pub subject: Subject,
    /// The effective policies, in merge order.
    pub policies: Vec<String>,
    pub acl: Acl,
    pub target: Target,
    pub mounts: Mounts,
    /// Where the question is asked (`""`: root): request paths are relative to it.
    pub namespace: String,
}

impl Resolved {
    /// The full path a request path of this question is about (docs/namespaces.md rule 2).
    pub fn full_path(&self, path: &str) -> String {
        crate::namespace::join(&self.namespace, path)
    }
}

impl SubjectArgs {
    fn inventory_subject(&self) -> Option<Subject> {
        if let Some(role) = &self.role {
            return Some(Subject::Role(role.clone()));
        }
        if let Some(entity) = &self.entity {
            return Some(Subject::Entity(entity.clone()));
        }
        self.group.clone().map(Subject::Group)
    }

    /// Loads what the subject needs and merges its ACL.
    pub fn resolve(&self) -> Result<Resolved, CliError> {
        crate::cache::enable_inventory(self.no_cache);
        match self.inventory_subject() {
            Some(subject) => self.resolve_inventory(subject),
            None if !self.policies.is_empty() => self.resolve_files(),
            None => Err(CliError::usage("no subject given")
                .with_help("name one with `--role`, `--entity`, `--group` or `--policy FILE`")),
        }
    }

    fn resolve_files(&self) -> Result<Resolved, CliError> {
        let config = load_config(self.config.as_ref())?;
        let target = self.target.unwrap_or(config.target);
        let namespace = self.namespace.clone().unwrap_or_default();
        let policies = load_policies(&self.policies, target, config.max_file_size)?;
        let mut held: Vec<Policy> = policies;
        if self.default_policy {
            held.push(builtin::default_policy(target));
        }
        for policy in &mut held {
            policy.namespace = namespace.clone();
        }
        let refs: Vec<&Policy> = held.iter().collect();
        let options = AclOptions {
            namespaces: Namespaces::new(config.namespaces.iter().chain([namespace.as_str()])),
            ..AclOptions::default()
        };
        let acl = Acl::with_options(&refs, target, None, &options).map_err(|error| {
            let help = match error {
                AclError::RootWithOthers => {
                    "the root policy cannot be combined with other policies"
                }
                _ => "the server would refuse every request of such a token; fix the policy first",
            };
            CliError::usage(error.to_string()).with_help(help)
        })?;
        let names: Vec<String> = held.iter().map(|policy| policy.name.clone()).collect();
        Ok(Resolved {
            subject: Subject::Policies(names.clone()),
            policies: names,
            acl,
            target,
            mounts: config.mounts,
            namespace,
        })
    }

    /// Reads only the subject's policy files (plus the configuration, and every Terraform
    /// file when there are any): the inventory is resolved against the names of all policy
    /// files, then the subject's are parsed. A file the subject does not hold is never read,
    /// so its errors do not stop the question (`capable check` reports them); one it holds
    /// that the target refuses stops it with that file's diagnostics. Cost: one directory
    /// walk, the inventory's resolution, and one read and parse per policy of the subject.
    fn resolve_inventory(&self, subject: Subject) -> Result<Resolved, CliError> {
        let cwd = std::env::current_dir().map_err(|error| {
            CliError::usage(format!("cannot read the working directory: {error}"))
        })?;
        let mut workspace = Workspace::load_names_in(&cwd, self.config.as_deref(), self.target)?;
        let mut inventory = load_subject_inventory(&mut workspace, &subject)?;
        let policies = inventory
            .effective_policies(&subject)
            .map_err(subject_error)?;
        if !workspace.load_pending(&policies, &cwd)? {
            workspace = Workspace::load_in(&cwd, &[], self.config.as_deref(), self.target)?;
            inventory = load_subject_inventory(&mut workspace, &subject)?;
        }
        for name in &policies {
            if let Some(policy) = workspace.policies.get(name) {
                inventory.insert_policy(name, policy.clone());
            }
        }
        refuse_refused(&workspace, &subject, &policies)?;
        let target = workspace.target;
        let acl = inventory.acl_for(&subject, target).map_err(subject_error)?;
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| inventory.namespace_of(&subject));
        let mounts = workspace.config.mounts.clone();
        // These are the CLI's flags, resolved once per process: the tree's names (10,000
        // files) and the inventory are not needed again.
        crate::cli::leak_at_exit((workspace, inventory));
        Ok(Resolved {
            subject,
            policies,
            acl,
            target,
            mounts,
            namespace,
        })
    }
}

/// A subject's question that cannot be answered, as a usage error (exit 2).
fn subject_error(error: crate::inventory::InventoryError) -> CliError {
    CliError::usage(error.to_string()).with_help(
        "roles, entities and groups come from `capable.yaml` (`roles`, `entities`, `groups`)",
    )
}

/// Stops with the diagnostics of the subject's policy files the target refuses: no token
/// can hold such a policy, so no answer about the subject would be exact.
fn refuse_refused(
    workspace: &Workspace,
    subject: &Subject,
    policies: &[String],
) -> Result<(), CliError> {
    let refused: Vec<&FileDiagnostics> = policies
        .iter()
        .filter_map(|name| workspace.refused_file(name))
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let names = print_refused(refused);
    Err(CliError::usage(format!(
        "{subject} holds {names}, which {} would refuse",
        workspace.target
    ))
    .with_help("run `capable check` on the file and fix the errors first"))
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::usage(format!("cannot read the working directory: {error}")))?;
    let found = match path {
        Some(path) => Some(cwd.join(path)),
        None => Config::discover(&cwd),
    };
    let Some(found) = found else {
        return Ok(Config::default());
    };
    let shown = found.display().to_string();
    Config::load(&found, &shown).map_err(|error| {
        eprint!("{}", error.render(false));
        CliError {
            message: error.message(),
            help: error.help(),
            exit: Exit::Usage,
        }
    })
}

/// The workspace's inventory; its errors are printed with their source frames (exit 2).
pub fn load_inventory(workspace: &Workspace) -> Result<Inventory, CliError> {
    Inventory::new(&workspace.config, &workspace.policies).map_err(inventory_errors)
}

/// [`load_inventory`] for questions: a reference to a policy whose file exists but is not
/// read ([`Workspace::load_names`]) or is refused by the target is not an error of the
/// inventory; only a subject that holds a refused one cannot be answered
/// ([`crate::inventory::InventoryError::RefusedPolicy`]).
pub fn load_inventory_with_unloaded(workspace: &Workspace) -> Result<Inventory, CliError> {
    let unloaded = workspace.unloaded_policy_names();
    Inventory::with_unloaded(&workspace.config, &workspace.policies, &unloaded)
        .map_err(inventory_errors)
}

/// [`load_inventory_with_unloaded`] through the cache
/// ([`crate::cache::inventory::resolved_inventory`]), only the part that answers about
/// `subject`. The errors are the whole inventory's.
pub fn load_subject_inventory(
    workspace: &mut Workspace,
    subject: &Subject,
) -> Result<Inventory, CliError> {
    let unloaded = workspace.unloaded_policy_names();
    let policies = std::sync::Arc::clone(&workspace.policies);
    crate::cache::inventory::resolved_inventory(
        &mut workspace.config,
        policies,
        &unloaded,
        Some(subject),
    )
    .map_err(inventory_errors)
}

/// [`load_inventory_with_unloaded`] through the cache, whole, with the workspace's policies
/// moved into it (`workspace.policies` is left empty: `who-can` has read what it needs of
/// them, and 10,000 policies cost some 500,000 allocations to copy).
pub fn take_whole_inventory(workspace: &mut Workspace) -> Result<Inventory, CliError> {
    let unloaded = workspace.unloaded_policy_names();
    let policies = std::mem::take(&mut workspace.policies);
    crate::cache::inventory::resolved_inventory(&mut workspace.config, policies, &unloaded, None)
        .map_err(inventory_errors)
}

/// Prints the inventory's errors with their source frames; the usage error (exit 2) to stop.
fn inventory_errors(errors: Vec<FileDiagnostics>) -> CliError {
    for file in &errors {
        eprint!("{}", human::render(&file.file, &file.diagnostics, false));
    }
    let count: usize = errors.iter().map(|file| file.diagnostics.len()).sum();
    CliError::usage(format!("the inventory has {count} error(s)"))
        .with_help("fix the references to policies, groups and entities it reports")
}

/// For `--policy auditor` where `auditor` does not exist: the `auditor.hcl` (or `.json`,
/// `.policy`) beside it, if there is one.
fn policy_file_named(path: &Path) -> Option<PathBuf> {
    if path.extension().is_some() || path.exists() {
        return None;
    }
    crate::workspace::POLICY_EXTENSIONS
        .iter()
        .map(|extension| path.with_extension(extension))
        .find(|candidate| candidate.is_file())
}

/// Reads and validates each policy file (at most `limit` bytes each: the configuration's
/// `max-file-size`); any file the target would refuse stops the command with its diagnostics
/// (exit 2), since no token can hold a policy the server refused.
pub fn load_policies(
    paths: &[PathBuf],
    target: Target,
    limit: u64,
) -> Result<Vec<Policy>, CliError> {
    let mut policies = Vec::new();
    let mut refused = Vec::new();
    for path in paths {
        let text = crate::input::read_text(path, limit).map_err(|error| {
            let help = error.help();
            let error = CliError::usage(format!("cannot read `{}`: {error}", path.display()));
            match (policy_file_named(path), help) {
                (Some(file), _) => error.with_help(format!(
                    "`--policy` takes a policy file: did you mean `{}`?",
                    file.display()
                )),
                (None, Some(help)) => error.with_help(help),
                (None, None) => error,
            }
        })?;
        let source = Arc::new(SourceFile::new(path.display().to_string(), text));
        let parsed = parse_policy(source.clone(), target);
        match parsed.policy {
            Some(policy) => policies.push(policy),
            None => refused.push(FileDiagnostics {
                file: source,
                diagnostics: parsed.diagnostics,
            }),
        }
    }
    if refused.is_empty() {
        return Ok(policies);
    }
    let names = print_refused(refused.iter());
    Err(
        CliError::usage(format!("{names} would be refused by {target}"))
            .with_help("run `capable check` on the file and fix the errors first"),
    )
}

/// Prints the diagnostics of refused policy files to stderr; their names, for the error.
fn print_refused<'a>(refused: impl IntoIterator<Item = &'a FileDiagnostics>) -> String {
    let mut names = Vec::new();
    for file in refused {
        eprint!("{}", human::render(&file.file, &file.diagnostics, false));
        names.push(format!("`{}`", file.file.name));
    }
    names.join(", ")
}
