//! What a command works on: the configuration, the policy files it selects, each parsed and
//! validated for the target, and the Vault Agent configurations found beside them.
//!
//! [`Workspace::load`] finds `capable.yaml` by walking up from the working directory (or takes
//! `--config`), walks the given files and folders (or the config's `include`, by default the
//! config's folder) for `.hcl`, `.json` and `.policy` files (and Terraform `.tf` files, see
//! [`crate::terraform`]), respecting `.gitignore` and the
//! config's `exclude` globs, and parses every policy. Cost: one directory walk plus one parse
//! per file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::cli::{CliError, Exit};
use crate::config::{Config, ConfigError};
use crate::diag::FileDiagnostics;
use crate::policy::{parse_policy, Parsed, Policy};
use crate::source::SourceFile;
use crate::target::Target;

/// File extensions read as policies when walking folders.
pub const POLICY_EXTENSIONS: &[&str] = &["hcl", "json", "policy"];

/// Top-level keys of a Vault Agent (or Proxy) configuration; a `.hcl` file with one of them
/// and no `path` block is an agent config, not a policy.
pub const AGENT_KEYS: &[&str] = &[
    "auto_auth",
    "template",
    "vault",
    "listener",
    "cache",
    "template_config",
    "api_proxy",
    "pid_file",
    "exit_after_auth",
];

/// The loaded inputs of one command.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub config: Config,
    /// The folder the configuration's relative paths start from (the config file's folder,
    /// or the working directory without one).
    pub root: PathBuf,
    /// The effective target: `--target`, else the config's `target`, else `vault`.
    pub target: Target,
    /// Every policy file, sorted by name (agent configs are not here).
    pub files: Vec<Arc<SourceFile>>,
    /// The policies the target accepts, by name (the file stem). Shared with the inventories
    /// built from the workspace ([`crate::inventory::Inventory::new`]), which copy nothing.
    pub policies: Arc<BTreeMap<String, Policy>>,
    /// Parse and validation diagnostics, one entry per policy file in `files` order (empty
    /// lists included).
    pub parse_diagnostics: Vec<FileDiagnostics>,
    /// Vault Agent configurations found among the inputs.
    pub agent_files: Vec<Arc<SourceFile>>,
    /// Terraform files (`.tf`, also in `files`) and the policies defined in them. Their valid,
    /// literal policies are also in `policies` under the `vault_policy` resource's `name`
    /// (when literal, else its label) unless a policy file already has that name.
    pub terraform: Vec<crate::terraform::TerraformFile>,
    /// The folders files named by inputs (Terraform `file()`, agent `source`) may be read
    /// from: see [`crate::input::boundaries`].
    pub boundaries: Vec<PathBuf>,
    /// Policy name → file name, to refuse two files with one name in O(log n).
    file_by_stem: BTreeMap<String, String>,
    /// Policy files found and named but not read yet, by policy name: see
    /// [`Workspace::load_names`]. Empty for every other load.
    pending: BTreeMap<String, Selected>,
}

/// Why a workspace could not be loaded (exit 2).
#[derive(Clone, Debug)]
pub enum WorkspaceError {
    Config(ConfigError),
    /// A file or folder could not be read.
    Io {
        path: String,
        message: String,
    },
    /// A file is larger than `max-file-size`.
    TooLarge {
        path: String,
        limit: u64,
    },
    /// Two files would be stored as the same policy.
    DuplicatePolicy {
        name: String,
        first: String,
        second: String,
    },
}

impl WorkspaceError {
    pub fn message(&self) -> String {
        match self {
            WorkspaceError::Config(error) => error.message(),
            WorkspaceError::Io { path, message } => format!("cannot read `{path}`: {message}"),
            WorkspaceError::TooLarge { path, limit } => format!(
                "cannot read `{path}`: {}",
                crate::input::ReadError::TooLarge { limit: *limit }
            ),
            WorkspaceError::DuplicatePolicy {
                name,
                first,
                second,
            } => format!("`{first}` and `{second}` are both policy `{name}`"),
        }
    }

    pub fn help(&self) -> Option<String> {
        match self {
            WorkspaceError::Config(error) => error.help(),
            WorkspaceError::Io { .. } => {
                Some("check that the path exists and is a readable UTF-8 file or folder".into())
            }
            WorkspaceError::TooLarge { limit, .. } => {
                crate::input::ReadError::TooLarge { limit: *limit }
                    .help()
                    .map(str::to_string)
            }
            WorkspaceError::DuplicatePolicy { .. } => Some(
                "a policy is named by its file stem; rename one file or exclude it in \
                 `capable.yaml`"
                    .into(),
            ),
        }
    }

    /// For the terminal: config errors with their source frame, others as `error:` lines.
    pub fn render(&self, color: bool) -> String {
        if let WorkspaceError::Config(error @ ConfigError::Invalid { .. }) = self {
            return error.render(color);
        }
        let mut text = format!("error: {}\n", self.message());
        if let Some(help) = self.help() {
            text.push_str(&format!("  help: {help}\n"));
        }
        text
    }
}

impl fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<ConfigError> for WorkspaceError {
    fn from(error: ConfigError) -> WorkspaceError {
        WorkspaceError::Config(error)
    }
}

impl From<WorkspaceError> for CliError {
    fn from(error: WorkspaceError) -> CliError {
        CliError {
            message: error.message(),
            help: error.help(),
            exit: Exit::Usage,
        }
    }
}

impl Workspace {
    /// Loads from the process's working directory. See [`Workspace::load_in`].
    pub fn load(
        paths: &[PathBuf],
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let cwd = current_dir()?;
        Workspace::load_in(&cwd, paths, config_path, target_override)
    }

    /// [`Workspace::load`], with named `.json` files that are not policies skipped as a folder
    /// walk skips them when `only_policies` is set (`check --only-policies`, for pre-commit,
    /// which names every staged `.json` file).
    pub fn load_sifted(
        paths: &[PathBuf],
        config_path: Option<&Path>,
        target_override: Option<Target>,
        only_policies: bool,
    ) -> Result<Workspace, WorkspaceError> {
        let cwd = current_dir()?;
        let mut config = load_config(&cwd, paths, config_path)?;
        config.only_policies = only_policies;
        Workspace::load_with_config(&cwd, paths, config, target_override)
    }

    /// For `capable test PATH...`: the policies the configuration selects. When the first of
    /// `near` is a folder DIR (and no `--config`), the configuration is the `capable.yaml`
    /// nearest DIR (in it or above), so `capable test policies/` works from a repository root
    /// and a config above the working directory never applies to another tree; without one,
    /// DIR's policies only. Otherwise (files, no paths, `--config`): as
    /// [`Workspace::load_near_in`].
    pub fn load_near(
        near: &[PathBuf],
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let cwd = current_dir()?;
        Workspace::load_for_scenarios_in(&cwd, near, config_path, target_override)
    }

    /// [`Workspace::load_near`] with `cwd` as the working directory.
    pub fn load_for_scenarios_in(
        cwd: &Path,
        near: &[PathBuf],
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let folder = near
            .first()
            .map(|first| cwd.join(first))
            .filter(|first| config_path.is_none() && first.is_dir());
        let Some(folder) = folder else {
            return Workspace::load_near_in(cwd, near, config_path, target_override);
        };
        let config = match Config::discover(&folder) {
            Some(path) => Config::load(&path, &display_name(cwd, &path))?,
            None => Config {
                root: folder,
                ..Config::default()
            },
        };
        Workspace::load_with_config(cwd, &[], config, target_override)
    }

    /// [`Workspace::load_near`] with `cwd` as the working directory.
    pub fn load_near_in(
        cwd: &Path,
        near: &[PathBuf],
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let config = load_config(cwd, near, config_path)?;
        Workspace::load_with_config(cwd, &[], config, target_override)
    }

    /// [`Workspace::load`] of the configuration's files for a command that takes the
    /// inventory through the cache ([`crate::cache::inventory::resolved_inventory`], as
    /// `who-can` does): the configuration may be read without its inventory sections.
    pub fn load_deferred(
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let cwd = current_dir()?;
        let config = load_config_deferred(&cwd, config_path)?;
        Workspace::load_with_config(&cwd, &[], config, target_override)
    }

    /// Loads with `cwd` as the working directory: relative `paths` and `config_path` start
    /// there, and `capable.yaml` is looked for there and above.
    pub fn load_in(
        cwd: &Path,
        paths: &[PathBuf],
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let config = load_config(cwd, paths, config_path)?;
        Workspace::load_with_config(cwd, paths, config, target_override)
    }

    /// The configuration and the files a command selects (as [`Workspace::load_in`] would),
    /// read but not parsed: for commands that rewrite files one by one (`fmt`).
    pub fn select_files(
        cwd: &Path,
        paths: &[PathBuf],
        config_path: Option<&Path>,
    ) -> Result<(Config, Vec<Arc<SourceFile>>), WorkspaceError> {
        let config = load_config(cwd, paths, config_path)?;
        let selection = Selection::new(&config)?;
        let found = if paths.is_empty() {
            collect_from_config(cwd, &config, &selection)?
        } else {
            collect_from_paths(cwd, &config.root, paths, &selection, config.max_file_size)?
        };
        Ok((config, found))
    }

    /// Loads with an already read configuration: `paths` (relative to `cwd`, which also names
    /// the files) or, when empty, the files the configuration selects.
    pub fn load_with_config(
        cwd: &Path,
        paths: &[PathBuf],
        config: Config,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let starts: Vec<PathBuf> = if config.source.is_some() || paths.is_empty() {
            vec![cwd.join(&config.root)]
        } else {
            paths.iter().map(|path| cwd.join(path)).collect()
        };
        let selection = Selection::new(&config)?;
        let found = if paths.is_empty() {
            collect_from_config(cwd, &config, &selection)?
        } else {
            collect_from_paths(cwd, &config.root, paths, &selection, config.max_file_size)?
        };
        let mut workspace = Workspace::empty(config, target_override, &starts);
        workspace.add_files(found, cwd)?;
        workspace.apply_policy_settings();
        Ok(workspace)
    }

    /// A workspace with a configuration and no file yet; `starts` are where its files are
    /// looked for ([`crate::input::boundaries`]).
    fn empty(config: Config, target_override: Option<Target>, starts: &[PathBuf]) -> Workspace {
        Workspace {
            target: target_override.unwrap_or(config.target),
            root: config.root.clone(),
            config,
            files: Vec::new(),
            policies: Arc::default(),
            parse_diagnostics: Vec::new(),
            agent_files: Vec::new(),
            terraform: Vec::new(),
            boundaries: crate::input::boundaries(starts),
            file_by_stem: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }

    /// For a question about one subject of the inventory (`explain --role`, `reach
    /// --entity`, ...): the configuration, and the policy files it selects found and named
    /// but neither read nor parsed, so that only the subject's are
    /// ([`Workspace::load_pending`]) and errors in the others do not stop the question. Two
    /// cases are loaded whole, as [`Workspace::load`] does: a tree with Terraform files
    /// (they carry inventory and policies of their own) and one where two files would be one
    /// policy (the whole load reports which). Cost: one directory walk and one config read.
    pub fn load_names(
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let cwd = current_dir()?;
        Workspace::load_names_in(&cwd, config_path, target_override)
    }

    /// [`Workspace::load_names`] with `cwd` as the working directory.
    pub fn load_names_in(
        cwd: &Path,
        config_path: Option<&Path>,
        target_override: Option<Target>,
    ) -> Result<Workspace, WorkspaceError> {
        let config = load_config_deferred(cwd, config_path)?;
        let selection = Selection::new(&config)?;
        let selected = select_from_config(cwd, &config, &selection)?;
        let starts = [cwd.join(&config.root)];
        let mut workspace = Workspace::empty(config, target_override, &starts);
        let whole =
            |mut workspace: Workspace, selected: Vec<Selected>| -> Result<_, WorkspaceError> {
                let found = read_selected(cwd, selected, workspace.config.max_file_size)?;
                workspace.add_files(found, cwd)?;
                workspace.apply_policy_settings();
                Ok(workspace)
            };
        if selected
            .iter()
            .any(|file| crate::terraform::is_terraform(&file.name))
        {
            return whole(workspace, selected);
        }
        let mut pending = BTreeMap::new();
        for file in &selected {
            let name = format!(
                "{}{}",
                workspace.namespace_of_file(&file.name),
                crate::source::stem_of(&file.name)
            );
            if pending.insert(name, file.clone()).is_some() {
                return whole(workspace, selected);
            }
        }
        workspace.pending = pending;
        Ok(workspace)
    }

    /// Reads and parses the pending policies among `names` (see [`Workspace::load_names`]);
    /// names that are not pending are left alone. `Ok(false)` when one of the files turns
    /// out not to be a policy (a Vault Agent configuration, a `.json` file without `path`):
    /// then the names did not tell what a whole load would, and the caller loads whole.
    /// Cost: one read and one parse per pending file named (in parallel).
    pub fn load_pending(&mut self, names: &[String], cwd: &Path) -> Result<bool, WorkspaceError> {
        let mut sources = Vec::new();
        for name in names {
            let Some(file) = self.pending.remove(name) else {
                continue;
            };
            match read_one(cwd, &file, self.config.max_file_size)? {
                Some(source) => sources.push(source),
                None => return Ok(false),
            }
        }
        let parsed = self.parse_all(&sources);
        for (source, parsed) in sources.into_iter().zip(parsed) {
            if parsed.is_none() {
                return Ok(false);
            }
            self.add_file(source, parsed)?;
        }
        self.apply_policy_settings();
        Ok(true)
    }

    /// Every policy name the workspace knows that has no valid policy in
    /// [`Workspace::policies`]: files the target refuses and files not read yet
    /// ([`Workspace::load_names`]). Cost: O(files × log files).
    pub fn unloaded_policy_names(&self) -> std::collections::BTreeSet<String> {
        self.file_by_stem
            .keys()
            .chain(self.pending.keys())
            .filter(|name| !self.policies.contains_key(*name))
            .cloned()
            .collect()
    }

    /// The parse diagnostics of the policy file named `name` when the target refuses it.
    pub fn refused_file(&self, name: &str) -> Option<&FileDiagnostics> {
        if self.policies.contains_key(name) {
            return None;
        }
        let file = self.file_by_stem.get(name)?;
        self.parse_diagnostics
            .iter()
            .find(|parsed| &parsed.file.name == file)
    }

    /// An in-memory workspace (tests, stdin): the files are parsed as given.
    pub fn from_sources(
        config: Config,
        target: Target,
        sources: Vec<Arc<SourceFile>>,
    ) -> Result<Workspace, WorkspaceError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let starts = [cwd.join(&config.root)];
        let mut workspace = Workspace::empty(config, Some(target), &starts);
        workspace.add_files(sources, &cwd)?;
        workspace.apply_policy_settings();
        Ok(workspace)
    }

    /// Gives each policy what `capable.yaml`'s `policies:` stores beside its text (OpenBao's
    /// template switches), so every command sees them. Cost: O(policies × log settings).
    fn apply_policy_settings(&mut self) {
        for (name, policy) in Arc::make_mut(&mut self.policies) {
            if let Some(flags) = self.config.template_flags(name) {
                policy.template_flags = flags;
            }
        }
    }

    /// Policy files first, then Terraform files (whose `file("...")` calls skip files already
    /// loaded).
    fn add_files(
        &mut self,
        sources: Vec<Arc<SourceFile>>,
        cwd: &Path,
    ) -> Result<(), WorkspaceError> {
        let (terraform, policies): (Vec<_>, Vec<_>) = sources
            .into_iter()
            .partition(|source| crate::terraform::is_terraform(&source.name));
        let parsed = self.parse_all(&policies);
        for (source, parsed) in policies.into_iter().zip(parsed) {
            self.add_file(source, parsed)?;
        }
        if !terraform.is_empty() {
            self.add_terraform(terraform, cwd)?;
        }
        Ok(())
    }

    /// Each file's parse, `None` for an agent configuration: independent per file, so done
    /// in parallel, in order. Never from the cache: parsing a policy is faster than reading
    /// back its model (an entry is about ten times the text; see [`crate::cache`]).
    fn parse_all(&self, sources: &[Arc<SourceFile>]) -> Vec<Option<Parsed>> {
        use rayon::prelude::*;
        let target = self.target;
        sources
            .par_iter()
            .map(|source| (!is_agent_config(source)).then(|| parse_policy(source.clone(), target)))
            .collect()
    }

    /// Extracts the policies of `.tf` files. Two Terraform policies with one name (other
    /// modules, other Vaults) are not an error: each is checked, the first is kept by name.
    fn add_terraform(
        &mut self,
        sources: Vec<Arc<SourceFile>>,
        cwd: &Path,
    ) -> Result<(), WorkspaceError> {
        let loaded: std::collections::BTreeSet<String> =
            self.files.iter().map(|file| file.name.clone()).collect();
        let context = crate::terraform::Context {
            cwd,
            loaded: &loaded,
            target: self.target,
            boundaries: &self.boundaries,
            max_bytes: self.config.max_file_size,
        };
        self.terraform = crate::terraform::extract_all(&sources, &context);
        for embedded in self.terraform.iter().flat_map(|file| &file.policies) {
            let Some(policy) = &embedded.parsed.policy else {
                continue;
            };
            if !embedded.interpolated && !self.policies.contains_key(&embedded.name) {
                Arc::make_mut(&mut self.policies).insert(embedded.name.clone(), policy.clone());
            }
        }
        self.import_terraform_inventory()?;
        self.files.extend(sources);
        self.files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(())
    }

    /// Merges the roles, groups, entities and mounts of the `.tf` files into the
    /// configuration ([`Config::import_inventory`]). A reference to a Terraform policy that is
    /// not checked (computed, interpolated or refused) is left out with a note, rather than
    /// reported as a policy that does not exist. Cost: O(items × log policies).
    fn import_terraform_inventory(&mut self) -> Result<(), WorkspaceError> {
        let unchecked: std::collections::BTreeSet<String> = self
            .terraform
            .iter()
            .flat_map(|file| file.policy_names.iter())
            .filter(|name| !self.policies.contains_key(*name))
            .cloned()
            .collect();
        let mut imported = crate::inventory::Imported::default();
        for file in &mut self.terraform {
            let mut items = std::mem::take(&mut file.inventory);
            let lists = items
                .roles
                .iter_mut()
                .map(|role| &mut role.spec.policies)
                .chain(
                    items
                        .groups
                        .iter_mut()
                        .map(|group| &mut group.spec.policies),
                )
                .chain(
                    items
                        .entities
                        .iter_mut()
                        .map(|entity| &mut entity.spec.policies),
                );
            for list in lists {
                list.retain(|name| {
                    if !unchecked.contains(&name.value) {
                        return true;
                    }
                    file.diagnostics.push(
                        crate::diag::Diagnostic::new(
                            crate::terraform::inventory::COMPUTED,
                            crate::diag::Severity::Info,
                            crate::inventory::span_of_spanned(name),
                            format!(
                                "the policy `{}` is not checked (see its own findings), so this is checked without it",
                                name.value
                            ),
                        )
                        .with_label("unchecked policy")
                        .with_help("write the policy literally so capable can check it"),
                    );
                    false
                });
            }
            file.inventory = items.clone();
            imported.extend(items);
        }
        if imported.is_empty() {
            return Ok(());
        }
        // The sections a config read for a query left out are merged with the imported.
        self.config.load_deferred_inventory()?;
        let sources = self
            .terraform
            .iter()
            .map(|file| file.file.clone())
            .collect();
        self.config.import_inventory(imported, sources);
        Ok(())
    }

    /// Adds one file with its parse (`None` for an agent configuration).
    fn add_file(
        &mut self,
        source: Arc<SourceFile>,
        parsed: Option<Parsed>,
    ) -> Result<(), WorkspaceError> {
        let Some(parsed) = parsed else {
            self.agent_files.push(source);
            return Ok(());
        };
        let namespace = self.namespace_for(&source);
        let name = format!("{namespace}{}", source.stem());
        if let Some(first) = self.file_by_stem.get(&name) {
            return Err(WorkspaceError::DuplicatePolicy {
                name,
                first: first.clone(),
                second: source.name.clone(),
            });
        }
        self.file_by_stem.insert(name.clone(), source.name.clone());
        if let Some(mut policy) = parsed.policy {
            policy.namespace = namespace;
            Arc::make_mut(&mut self.policies).insert(name, policy);
        }
        self.parse_diagnostics.push(FileDiagnostics {
            file: source.clone(),
            diagnostics: parsed.diagnostics,
        });
        self.files.push(source);
        Ok(())
    }

    /// The valid policy parsed from `file`, if the target accepts it.
    pub fn policy_of(&self, file: &SourceFile) -> Option<&Policy> {
        if crate::terraform::is_terraform(&file.name) {
            return None;
        }
        self.policies
            .get(&format!("{}{}", self.namespace_for(file), file.stem()))
            .filter(|policy| policy.source.name == file.name)
    }

    /// The namespace a policy file lives in: the one `namespaces:` lists its stem under, else
    /// its folder layout (`policies/admin/team-a/reader.hcl` is in `admin/team-a/`: from the
    /// first folder named like a top-level namespace, as deep as declared namespaces go), else
    /// the root namespace. Cost: O(path length).
    pub fn namespace_for(&self, file: &SourceFile) -> String {
        self.namespace_of_file(&file.name)
    }

    /// [`Workspace::namespace_for`] by file name.
    fn namespace_of_file(&self, file_name: &str) -> String {
        let stem = crate::source::stem_of(file_name);
        if let Some(namespace) = self.config.namespace_of_policy.get(stem) {
            return namespace.clone();
        }
        let namespaces = &self.config.namespaces;
        if namespaces.is_flat() {
            return String::new();
        }
        let folders: Vec<&str> = Path::new(file_name)
            .parent()
            .map(|parent| {
                parent
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(name) => name.to_str(),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(start) = folders
            .iter()
            .position(|folder| namespaces.contains(&format!("{folder}/")))
        else {
            return String::new();
        };
        let mut namespace = String::new();
        for folder in &folders[start..] {
            let deeper = format!("{namespace}{folder}/");
            if !namespaces.contains(&deeper) {
                break;
            }
            namespace = deeper;
        }
        namespace
    }
}

/// `--config` if given; else `capable.yaml` in the working directory or above; else (like
/// ruff) the one nearest above the first path given, so `capable check policies/` from a
/// repository root finds `policies/capable.yaml`.
fn load_config(
    cwd: &Path,
    paths: &[PathBuf],
    config_path: Option<&Path>,
) -> Result<Config, WorkspaceError> {
    let path = match config_path {
        Some(path) => Some(cwd.join(path)),
        None => Config::discover(cwd).or_else(|| discover_from_path(cwd, paths.first()?)),
    };
    let Some(path) = path else {
        return Ok(Config {
            root: cwd.to_path_buf(),
            ..Config::default()
        });
    };
    let display = display_name(cwd, &path);
    Ok(Config::load(&path, &display)?)
}

/// [`load_config`] without paths, for the commands that take the inventory through the
/// cache: the configuration may be read without its inventory sections
/// ([`crate::cache::inventory::load_config`]).
fn load_config_deferred(cwd: &Path, config_path: Option<&Path>) -> Result<Config, WorkspaceError> {
    let path = match config_path {
        Some(path) => Some(cwd.join(path)),
        None => Config::discover(cwd),
    };
    let Some(path) = path else {
        return Ok(Config {
            root: cwd.to_path_buf(),
            ..Config::default()
        });
    };
    let display = display_name(cwd, &path);
    Ok(crate::cache::inventory::load_config(&path, &display)?)
}

fn discover_from_path(cwd: &Path, path: &Path) -> Option<PathBuf> {
    let path = cwd.join(path);
    let start = if path.is_dir() {
        path.as_path()
    } else {
        path.parent()?
    };
    Config::discover(start)
}

/// The `exclude` globs, compiled, and whether named files are sifted like walked ones.
struct Selection {
    exclude: GlobSet,
    sift_named: bool,
}

impl Selection {
    fn new(config: &Config) -> Result<Selection, WorkspaceError> {
        Ok(Selection {
            exclude: glob_set(&config.exclude)?,
            sift_named: config.only_policies,
        })
    }

    fn excluded(&self, relative: &Path) -> bool {
        self.exclude.is_match(relative)
    }
}

/// A glob set where a plain entry `dir` also matches everything under it (`dir/**`).
fn glob_set(globs: &[String]) -> Result<GlobSet, WorkspaceError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let trimmed = glob.trim_start_matches("./").trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "**" } else { trimmed };
        for pattern in [trimmed.to_string(), format!("{trimmed}/**")] {
            let compiled = GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
                .map_err(|error| WorkspaceError::Io {
                    path: glob.clone(),
                    message: error.to_string(),
                })?;
            builder.add(compiled);
        }
    }
    builder.build().map_err(|error| WorkspaceError::Io {
        path: globs.join(", "),
        message: error.to_string(),
    })
}

/// A file a command selected, not yet read.
#[derive(Clone, Debug)]
struct Selected {
    path: PathBuf,
    /// How it is shown ([`display_name`]).
    name: String,
    /// Sifted like a walked file when read ([`is_policy_candidate`]): a folder walk or an
    /// `include` glob found it, or `check --only-policies` asks for it.
    sifted: bool,
}

/// Files selected by the config alone (no paths on the command line), read. See
/// [`select_from_config`].
fn collect_from_config(
    cwd: &Path,
    config: &Config,
    selection: &Selection,
) -> Result<Vec<Arc<SourceFile>>, WorkspaceError> {
    let selected = select_from_config(cwd, config, selection)?;
    read_selected(cwd, selected, config.max_file_size)
}

/// Files from the command line, read. See [`select_from_paths`].
fn collect_from_paths(
    cwd: &Path,
    root: &Path,
    paths: &[PathBuf],
    selection: &Selection,
    max_bytes: u64,
) -> Result<Vec<Arc<SourceFile>>, WorkspaceError> {
    let selected = select_from_paths(cwd, root, paths, selection)?;
    read_selected(cwd, selected, max_bytes)
}

/// Reads the selected files in order, dropping sifted ones that are not policies. Cost: one
/// read per file (and one JSON parse per sifted `.json` file).
fn read_selected(
    cwd: &Path,
    selected: Vec<Selected>,
    max_bytes: u64,
) -> Result<Vec<Arc<SourceFile>>, WorkspaceError> {
    let mut found = Vec::with_capacity(selected.len());
    for file in selected {
        if let Some(source) = read_one(cwd, &file, max_bytes)? {
            found.push(source);
        }
    }
    Ok(found)
}

/// Reads one selected file; `None` when it is sifted and not a policy.
fn read_one(
    cwd: &Path,
    file: &Selected,
    max_bytes: u64,
) -> Result<Option<Arc<SourceFile>>, WorkspaceError> {
    let source = read_source(cwd, &file.path, max_bytes)?;
    if file.sifted && !is_policy_candidate(&file.path, &source.text) {
        return Ok(None);
    }
    Ok(Some(source))
}

/// Files selected by the config alone (no paths on the command line). An `include` entry
/// without glob characters is a file or folder relative to the config's folder, read like a
/// command-line path (so a hidden or git-ignored folder can still be named); glob entries
/// select from a walk of the config's folder. No `include`: the config's folder. `exclude`
/// applies to everything. Nothing is read. Cost: one directory walk (two with globs).
fn select_from_config(
    cwd: &Path,
    config: &Config,
    selection: &Selection,
) -> Result<Vec<Selected>, WorkspaceError> {
    let root = &config.root;
    let (globs, plain): (Vec<&String>, Vec<&String>) =
        config.include.iter().partition(|entry| is_glob(entry));
    let mut paths: Vec<PathBuf> = plain.iter().map(|entry| root.join(entry)).collect();
    if config.include.is_empty() {
        paths.push(root.clone());
    }
    let mut found = select_from_paths(cwd, root, &paths, selection)?;
    if globs.is_empty() {
        return Ok(found);
    }
    let glob_set = glob_set(&globs.into_iter().cloned().collect::<Vec<_>>())?;
    let already: std::collections::BTreeSet<String> =
        found.iter().map(|file| file.name.clone()).collect();
    for path in walk(cwd, root)? {
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let name = display_name(cwd, &path);
        if glob_set.is_match(relative) && !selection.excluded(relative) && !already.contains(&name)
        {
            found.push(Selected {
                path,
                name,
                sifted: true,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Whether an `include` entry uses glob syntax.
fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '[', '{'])
}

/// Files from the command line: files as named, folders walked; `exclude` applies to both
/// (so a pre-commit hook passing file names still honours it). In path order; nothing is
/// read. Cost: one directory walk per folder.
fn select_from_paths(
    cwd: &Path,
    root: &Path,
    paths: &[PathBuf],
    selection: &Selection,
) -> Result<Vec<Selected>, WorkspaceError> {
    // (path, whether a folder walk found it rather than the user naming it).
    let mut selected: Vec<(PathBuf, bool)> = Vec::new();
    for given in paths {
        let absolute = cwd.join(given);
        let metadata = std::fs::metadata(&absolute).map_err(|error| WorkspaceError::Io {
            path: if given.is_absolute() {
                display_name(cwd, given)
            } else {
                given.display().to_string()
            },
            message: error.to_string(),
        })?;
        if metadata.is_dir() {
            selected.extend(walk(cwd, &absolute)?.into_iter().map(|path| (path, true)));
        } else {
            selected.push((absolute, false));
        }
    }
    // A file both named and walked counts as named.
    selected.sort();
    selected.dedup_by(|later, first| later.0 == first.0);
    let mut found = Vec::with_capacity(selected.len());
    let shown = Shown::new(cwd);
    for (path, walked) in selected {
        let relative = path.strip_prefix(root).unwrap_or(&path);
        if selection.excluded(relative) {
            continue;
        }
        found.push(Selected {
            name: shown.name(&path),
            path,
            sifted: walked || selection.sift_named,
        });
    }
    Ok(found)
}

/// Whether a file a walk found may be a policy: every `.hcl`, `.policy` and `.tf` file, and
/// a `.json` file whose top level is an object with a `path` key (`package.json`,
/// `tsconfig.json` and the like are not policies). A `.json` file that is not valid JSON
/// counts when it mentions `"path"`, so that a broken policy still gets its syntax error. A
/// file named on the command line is always checked, unless `check --only-policies` (the
/// pre-commit hook) asks for the walk's sifting. Cost: one JSON parse.
fn is_policy_candidate(path: &Path, text: &str) -> bool {
    if path.extension().and_then(|e| e.to_str()) != Some("json") {
        return true;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map.contains_key("path"),
        Ok(_) => false,
        Err(_) => text.contains("\"path\""),
    }
}

/// Policy files under `dir`, respecting `.gitignore` (also outside a git repository) and
/// skipping hidden entries; sorted. Symlinks are followed (a link loop is an error naming
/// it); an entry with a policy extension that is not a regular file (a FIFO, a device, a
/// folder named `x.hcl`) or a dangling link is kept, so reading it fails with an error naming
/// it instead of being skipped silently. Cost: one directory walk.
fn walk(cwd: &Path, dir: &Path) -> Result<Vec<PathBuf>, WorkspaceError> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .follow_links(true)
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => match dangling_link(&error) {
                Some(path) if has_policy_extension(&path) => {
                    files.push(normalize(&path));
                    continue;
                }
                Some(_) => continue,
                None => {
                    return Err(WorkspaceError::Io {
                        path: display_name(cwd, dir),
                        message: error.to_string(),
                    })
                }
            },
        };
        if entry.depth() > 0 && has_policy_extension(entry.path()) {
            files.push(normalize(entry.path()));
        }
    }
    if cfg!(unix) {
        files.sort_by_cached_key(|path| order_key(path));
    } else {
        files.sort_unstable();
    }
    Ok(files)
}

/// A key whose byte order is the order of normalised paths ([`normalize`]: no `.` parts,
/// no repeated or trailing separators) that `Path::cmp` gives, part by part: the bytes with
/// the separator below every other byte (a Unix path holds no NUL, so `/` becomes 0). Built
/// once per path, so sorting a walk compares with `memcmp` (the comparator mapping bytes on
/// every comparison took 15% of a one-role query on 10,000 files). Cost: O(path length).
fn order_key(path: &Path) -> Vec<u8> {
    let bytes = path.as_os_str().as_encoded_bytes();
    bytes
        .iter()
        .map(|byte| if *byte == b'/' { 0 } else { *byte })
        .collect()
}

/// The path of a walk error that is a dangling symlink (a link whose target is missing).
pub(crate) fn dangling_link(error: &ignore::Error) -> Option<PathBuf> {
    let mut current = error;
    loop {
        match current {
            ignore::Error::WithPath { path, err } => {
                let is_link = std::fs::symlink_metadata(path)
                    .is_ok_and(|metadata| metadata.file_type().is_symlink());
                if is_link && std::fs::metadata(path).is_err() {
                    return Some(path.clone());
                }
                current = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                current = err
            }
            _ => return None,
        }
    }
}

fn has_policy_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| POLICY_EXTENSIONS.contains(&extension) || extension == "tf")
}

/// Reads one selected file: a regular file (symlinks followed) of at most `max_bytes`, so a
/// FIFO or device never blocks or exhausts memory ([`crate::input::read_text`]).
fn read_source(cwd: &Path, path: &Path, max_bytes: u64) -> Result<Arc<SourceFile>, WorkspaceError> {
    let name = display_name(cwd, path);
    let text = crate::input::read_text(path, max_bytes).map_err(|error| match error {
        crate::input::ReadError::TooLarge { limit } => WorkspaceError::TooLarge {
            path: name.clone(),
            limit,
        },
        error => WorkspaceError::Io {
            path: name.clone(),
            message: error.to_string(),
        },
    })?;
    Ok(Arc::new(SourceFile::new(name, text)))
}

/// How a path is shown: relative to the working directory when possible, with `/`.
fn display_name(cwd: &Path, path: &Path) -> String {
    Shown::new(cwd).name(path)
}

/// [`display_name`] for many paths under one working directory (normalised once).
struct Shown {
    cwd: PathBuf,
}

impl Shown {
    fn new(cwd: &Path) -> Shown {
        Shown {
            cwd: normalize(cwd),
        }
    }

    /// Cost: O(path length); a path under the working directory needs no part-by-part walk.
    fn name(&self, path: &Path) -> String {
        let path = normalize(path);
        if let Some(inside) = inside_of(&path, &self.cwd) {
            return inside.replace('\\', "/");
        }
        let shown = match relative_to(&path, &self.cwd) {
            Some(relative) if !relative.as_os_str().is_empty() => relative,
            _ => path,
        };
        shown.to_string_lossy().replace('\\', "/")
    }
}

/// The part of the normalised `path` after the normalised `base` and a separator, when
/// `path` is inside `base` and both are UTF-8 (what `relative_to` gives then, found by
/// comparing bytes).
fn inside_of<'a>(path: &'a Path, base: &Path) -> Option<&'a str> {
    let (path, base) = (path.to_str()?, base.to_str()?);
    if !Path::new(base).is_absolute() || cfg!(not(unix)) {
        return None;
    }
    let rest = path.strip_prefix(base)?;
    let rest = match base.ends_with('/') {
        true => rest,
        false => rest.strip_prefix('/')?,
    };
    (!rest.is_empty()).then_some(rest)
}

/// `path` relative to `base` (both absolute and normalised), with `..` steps when needed.
fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    if !path.is_absolute() || !base.is_absolute() {
        return None;
    }
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return None;
    }
    let mut relative = PathBuf::new();
    for _ in common..base_parts.len() {
        relative.push("..");
    }
    for part in &path_parts[common..] {
        relative.push(part.as_os_str());
    }
    Some(relative)
}

/// The process's working directory, its failure as a workspace error.
fn current_dir() -> Result<PathBuf, WorkspaceError> {
    std::env::current_dir().map_err(|error| WorkspaceError::Io {
        path: ".".into(),
        message: error.to_string(),
    })
}

/// Removes `.` components and resolves `..` lexically (no file system access). Also serves
/// the Terraform reader's `file("${path.module}/...")` paths.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    normalized.push("..");
                }
            }
            other => normalized.push(other.as_os_str()),
        }
    }
    normalized
}

/// Whether a file is a Vault Agent configuration: a `.hcl` file that parses as HCL1, has a
/// top-level agent key and no `path` block. Cost: a scan of the text for the keys, and a
/// parse when one is there.
pub fn is_agent_config(source: &SourceFile) -> bool {
    if !source.name.ends_with(".hcl") {
        return false;
    }
    // Without one of the keys' names anywhere there is nothing to parse for: most policy
    // files are decided without the second parse.
    if !AGENT_KEYS.iter().any(|key| source.text.contains(key)) {
        return false;
    }
    let Ok(root) = crate::hcl1::parse(&source.text) else {
        return false;
    };
    let Some(items) = root.as_object() else {
        return false;
    };
    let top_keys = || items.iter().filter_map(|item| item.keys.first());
    let has_path = top_keys().any(|key| key.name == "path");
    let has_agent_key = top_keys().any(|key| AGENT_KEYS.contains(&key.name()));
    has_agent_key && !has_path
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Sorting by [`order_key`] gives `Path::cmp`'s order on normalised paths, over an
        /// alphabet where `-`, `.` and ` ` sort below `/` byte-wise but not part-wise (no `.`
        /// or `..` parts: a walk yields none).
        #[test]
        fn order_keys_sort_as_paths_do(
            paths in proptest::collection::vec("/?[a\\- ][a.\\- ]{0,2}(/[a\\- ][a.\\- ]{0,2}){0,3}", 0..12)
        ) {
            let mut paths: Vec<PathBuf> = paths.iter().map(|p| normalize(Path::new(p))).collect();
            let mut by_key = paths.clone();
            by_key.sort_by_cached_key(|path| order_key(path));
            paths.sort();
            proptest::prop_assert_eq!(by_key, paths);
        }
    }

    #[test]
    fn relative_paths_step_up() {
        assert_eq!(
            relative_to(Path::new("/a/b/c.hcl"), Path::new("/a/d")).unwrap(),
            PathBuf::from("../b/c.hcl")
        );
        assert_eq!(
            display_name(Path::new("/a"), Path::new("/a/./p/x.hcl")),
            "p/x.hcl"
        );
    }

    #[test]
    fn plain_globs_match_folders() {
        let set = glob_set(&["policies".into(), "**/*.bak.hcl".into()]).unwrap();
        assert!(set.is_match("policies/a.hcl"));
        assert!(set.is_match("policies/deep/a.hcl"));
        assert!(set.is_match("x/y.bak.hcl"));
        assert!(!set.is_match("other/a.hcl"));
    }
}
