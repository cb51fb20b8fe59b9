//! `capable.yaml`: target, file selection, mounts, rule settings and the inventory.
//!
//! ```yaml
//! target: openbao            # vault (default) or openbao
//! include: [policies]        # files, folders or globs, relative to this file's folder
//! exclude: ["**/legacy/**"]  # globs, relative to this file's folder
//! fail-level: warning        # lowest severity that makes `check` exit 1 (default: warning)
//! max-file-size: 64MiB       # size limit of every file read (bytes, or KiB/MiB/GiB)
//! mounts:
//!   secret/: {type: kv, version: 2}
//!   database/: {type: database}
//! rules:
//!   literal-star: off
//!   leading-slash: error
//! per-file-ignores:          # rule ids ignored in the files a glob matches
//!   "policies/break-glass/*.hcl": [policy-admin, token-create]
//! namespaces:                # the namespace tree (see docs/namespaces.md)
//!   admin/: {}
//!   admin/team-a/: {policies: [team-a-reader]}
//! policies:                  # what the server stores beside a policy's text
//!   team-data: {allow_slashes_in_identity_templates: true}
//! roles: {}                  # inventory sections, see `crate::inventory`
//! groups: {}
//! entities: {}
//! guards:                    # access no subject may have, checked by `check` (see `crate::guards`)
//!   - id: nobody-writes-policies
//!     never: {capabilities: [create, update, delete], paths: ["sys/policies/acl/*"]}
//!     except: [userpass/admin]
//! baseline: git:origin/main  # `check` reports only findings not present there
//! cache: false               # no findings cache in `.capable_cache/` (see `crate::cache`)
//! ```
//!
//! Every key is checked: an unknown key, an unknown rule id or a bad value is an error
//! pointing at its line and column (exit 2).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Severity};
use crate::inventory::{EntitySpec, GroupSpec, InventorySpecs, PolicySpec, RoleSpec};
pub use crate::lint::settings::RuleLevel;
use crate::lint::settings::{LintSettings, PerFileIgnore, PerFileIgnores};
pub use crate::mounts::{Mount, Mounts};
use crate::namespace::Namespaces;
use crate::policy::{Capability, PathPattern};
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;

/// The file name looked for when walking up from the working directory.
pub const CONFIG_FILE_NAME: &str = "capable.yaml";

/// A `rules:` value: `off`, or the severity the rule reports at.
fn parse_rule_level(text: &str) -> Option<RuleLevel> {
    match text {
        "off" => Some(RuleLevel::Off),
        other => parse_severity(other).map(RuleLevel::Severity),
    }
}

fn parse_severity(text: &str) -> Option<Severity> {
    match text {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// Parses a `--fail-level` / `fail-level:` value.
pub fn parse_fail_level(text: &str) -> Result<Severity, String> {
    parse_severity(text)
        .ok_or_else(|| format!("unknown severity `{text}`, expected `error`, `warning` or `info`"))
}

/// The severity at or above which `check` exits 1 when nothing sets it. Warnings fail, notes
/// (`info`) are shown but do not: an `info` finding is a suggestion, not a defect.
pub const DEFAULT_FAIL_LEVEL: Severity = Severity::Warning;

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub target: Target,
    /// Whether `target:` was written (the command line still overrides it).
    pub target_set: bool,
    /// Files, folders or globs relative to [`Config::root`]; empty means the root itself.
    pub include: Vec<String>,
    /// Globs relative to [`Config::root`].
    pub exclude: Vec<String>,
    pub mounts: Mounts,
    /// Per-rule settings by rule id (ids checked against the registry).
    pub rules: BTreeMap<String, RuleLevel>,
    /// `per-file-ignores`: rule ids suppressed in the files a glob matches.
    pub per_file_ignores: PerFileIgnores,
    pub fail_level: Severity,
    pub roles: BTreeMap<String, RoleSpec>,
    pub groups: BTreeMap<String, GroupSpec>,
    pub entities: BTreeMap<String, EntitySpec>,
    /// Per-policy settings stored on the server beside the text, by policy name.
    pub policies: BTreeMap<String, Spanned<PolicySpec>>,
    /// The namespace tree (`namespaces:`; only the root namespace when absent).
    pub namespaces: Namespaces,
    /// Policy file stems `namespaces:` places in a namespace, whatever their folder.
    pub namespace_of_policy: BTreeMap<String, String>,
    /// The auth mount accessors the inventory writes (`accessor:` of roles and aliases).
    pub declared_accessors: std::collections::BTreeSet<String>,
    /// The folder paths in the configuration are relative to (the config file's folder, or
    /// the working directory when there is no file).
    pub root: PathBuf,
    /// The `capable.yaml` text, for diagnostics that point into it; `None` without a file.
    pub source: Option<Arc<SourceFile>>,
    /// `max-file-size`: the size limit of every input file, in bytes (default 64 MiB).
    pub max_file_size: u64,
    /// Access no subject may have (`guards:`), checked by `check` on every run.
    pub guards: Vec<Guard>,
    /// `baseline:`: where `check` finds the findings it does not report again (a `git:REV`).
    pub baseline: Option<String>,
    /// Whether files named on the command line are sifted as a folder walk sifts them (a
    /// `.json` file that is not a policy is skipped): set by `check --only-policies`, which
    /// the pre-commit hook passes; not a `capable.yaml` key.
    pub only_policies: bool,
    /// `cache:` (default true): whether commands that enable the findings cache
    /// ([`crate::cache`]) may keep it in `.capable_cache/` beside this file.
    pub cache: bool,
    /// The files inventory was imported from beside this one (Terraform `.tf` files, see
    /// [`Config::import_inventory`]); their values carry source ids `1..`.
    pub inventory_sources: Vec<Arc<SourceFile>>,
    /// Duplicates found while importing, with the source id of the file each points into.
    pub inventory_conflicts: Vec<(u32, crate::diag::Diagnostic)>,
    /// `roles`, `groups` and `entities` were not read ([`Config::from_text_without_inventory`]).
    pub inventory_deferred: bool,
}

/// One entry of `guards:`: no subject (but those in `except`) may hold any of `capabilities`
/// on any path matching one of `paths` (policy path syntax: `*`, `+`).
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    pub id: String,
    /// The `id` value in `capable.yaml`.
    pub span: Span,
    pub capabilities: Vec<Capability>,
    pub paths: Vec<PathPattern>,
    /// Subjects allowed to (role key or bare role name, group, entity or policy name), with
    /// their spans.
    pub except: Vec<(String, Span)>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            target: Target::default(),
            target_set: false,
            include: Vec::new(),
            exclude: Vec::new(),
            mounts: Mounts::default(),
            rules: BTreeMap::new(),
            per_file_ignores: PerFileIgnores::default(),
            fail_level: DEFAULT_FAIL_LEVEL,
            roles: BTreeMap::new(),
            groups: BTreeMap::new(),
            entities: BTreeMap::new(),
            policies: BTreeMap::new(),
            namespaces: Namespaces::default(),
            namespace_of_policy: BTreeMap::new(),
            declared_accessors: Default::default(),
            root: PathBuf::from("."),
            source: None,
            max_file_size: crate::input::DEFAULT_MAX_BYTES,
            guards: Vec::new(),
            baseline: None,
            only_policies: false,
            cache: true,
            inventory_sources: Vec::new(),
            inventory_conflicts: Vec::new(),
            inventory_deferred: false,
        }
    }
}

impl Config {
    /// The inventory sections together, as [`crate::inventory`] takes them.
    pub fn inventory_specs(&self) -> InventorySpecs {
        InventorySpecs {
            roles: self.roles.clone(),
            groups: self.groups.clone(),
            entities: self.entities.clone(),
            policy_settings: self.policies.keys().cloned().collect(),
            namespaces: self.namespaces.clone(),
            sources: self.inventory_sources.clone(),
            conflicts: self.inventory_conflicts.clone(),
            target: self.target,
        }
    }

    /// Merges inventory declared outside this file (Terraform resources) into the sections:
    /// `sources` are the files its values point into (source id `n` is `sources[n - 1]`). A
    /// role, group, entity or mount declared twice (here and in Terraform, or in two `.tf`
    /// files) is an error at both places, and the first declaration is kept. Mounts are added
    /// to `mounts:`; without `mounts:` they replace the assumed default (`secret/` as KV v2),
    /// since the Terraform code then is the evidence of what is mounted. Cost: O(items × log
    /// items), plus a scan of this file's text per duplicate.
    pub fn import_inventory(
        &mut self,
        imported: crate::inventory::Imported,
        sources: Vec<Arc<SourceFile>>,
    ) {
        let mut conflicts = Vec::new();
        let mut origins: BTreeMap<(&'static str, String), (u32, Span)> = BTreeMap::new();
        merge_declared(
            &mut self.roles,
            imported.roles,
            "role",
            &mut origins,
            self.source.as_deref(),
            &mut conflicts,
        );
        merge_declared(
            &mut self.groups,
            imported.groups,
            "group",
            &mut origins,
            self.source.as_deref(),
            &mut conflicts,
        );
        merge_declared(
            &mut self.entities,
            imported.entities,
            "entity",
            &mut origins,
            self.source.as_deref(),
            &mut conflicts,
        );
        let declared = self.mounts.is_declared();
        let mut table: BTreeMap<String, Mount> = if declared {
            self.mounts
                .iter()
                .map(|m| (m.path.clone(), m.clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        let written: std::collections::BTreeSet<String> = table.keys().cloned().collect();
        for mount in imported.mounts {
            let mut path = mount.spec.path.clone();
            if !path.ends_with('/') {
                path.push('/');
            }
            let existing = if written.contains(&path) {
                let config_span = self
                    .source
                    .as_deref()
                    .map(|source| {
                        let bare =
                            crate::inventory::key_span_in(source, path.trim_end_matches('/'));
                        if bare.is_empty() {
                            crate::inventory::key_span_in(source, &path)
                        } else {
                            bare
                        }
                    })
                    .unwrap_or_default();
                Some((0, config_span))
            } else {
                origins.get(&("mount", path.clone())).copied()
            };
            if let Some(first) = existing {
                conflicts.extend(duplicate_pair("mount", &path, first, &mount));
                continue;
            }
            origins.insert(("mount", path.clone()), (mount.source_id, mount.span));
            table.insert(path, mount.spec);
        }
        if table.len() > written.len() || !declared && !table.is_empty() {
            self.mounts = Mounts::new(table.into_values().collect());
        }
        self.inventory_sources = sources;
        self.inventory_conflicts.extend(conflicts);
    }

    /// Whether any of `roles`, `groups`, `entities`, `policies` is present (here or imported).
    pub fn has_inventory(&self) -> bool {
        !(self.roles.is_empty()
            && self.inventory_conflicts.is_empty()
            && self.groups.is_empty()
            && self.entities.is_empty()
            && self.policies.is_empty())
    }

    /// The template switches `policies:` sets for a policy (by qualified name), if any.
    pub fn template_flags(&self, policy: &str) -> Option<crate::policy::TemplateFlags> {
        self.policies
            .get(policy)
            .map(|spec| spec.value.template_flags())
    }

    /// The setting for one rule, if `rules:` names it.
    pub fn rule_level(&self, id: &str) -> Option<RuleLevel> {
        self.rules.get(id).copied()
    }

    /// What the lint engine reads of the configuration.
    pub fn lint_settings(&self) -> LintSettings<'_> {
        LintSettings {
            rules: &self.rules,
            mounts: &self.mounts,
            namespaces: &self.namespaces,
            accessors: &self.declared_accessors,
        }
    }

    /// Finds `capable.yaml` in `start` or the nearest folder above it. Any entry of that name
    /// counts (a folder, a FIFO, a dangling link): loading it then fails with an error naming
    /// it, rather than the run going on silently without the inventory. Cost: O(depth).
    pub fn discover(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE_NAME))
            .find(|candidate| std::fs::symlink_metadata(candidate).is_ok())
    }

    /// Reads and validates a configuration file. `display_name` is how the file is named in
    /// errors (the path as the user would type it).
    pub fn load(path: &Path, display_name: &str) -> Result<Config, ConfigError> {
        let (source, root) = Config::read(path, display_name)?;
        Config::from_text(source, root)
    }

    /// The text of a configuration file and the folder its paths are relative to, not yet
    /// parsed. Cost: one file read.
    pub fn read(
        path: &Path,
        display_name: &str,
    ) -> Result<(Arc<SourceFile>, PathBuf), ConfigError> {
        let limit = crate::input::DEFAULT_MAX_BYTES;
        let text = crate::input::read_text(path, limit).map_err(|error| ConfigError::Io {
            path: display_name.to_string(),
            message: error.to_string(),
        })?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Ok((Arc::new(SourceFile::new(display_name, text)), root))
    }

    /// Parses configuration text (see the module documentation for the keys).
    pub fn from_text(source: Arc<SourceFile>, root: PathBuf) -> Result<Config, ConfigError> {
        let raw = parse_raw(&source, &source.text)?;
        let mut config = Config {
            root,
            ..Config::default()
        };
        apply_raw(&mut config, raw, &source)?;
        config.source = Some(source);
        Ok(config)
    }

    /// [`Config::from_text`] without the inventory sections (`roles`, `groups`, `entities`):
    /// `sections` are their byte ranges ([`inventory_sections`]), which are read as comments,
    /// so every other value keeps its line, column and offset. The sections stay empty and
    /// [`Config::inventory_deferred`] is set: a one-subject query then takes the resolved
    /// inventory from the cache ([`crate::cache::inventory`]) and reads them only when it
    /// has to ([`Config::load_deferred_inventory`]). `declared_accessors` (which they
    /// decide) is given. Cost: a parse of the text outside the sections plus a scan of the
    /// sections' bytes.
    pub fn from_text_without_inventory(
        source: Arc<SourceFile>,
        root: PathBuf,
        sections: &[(usize, usize)],
        declared_accessors: std::collections::BTreeSet<String>,
    ) -> Result<Config, ConfigError> {
        let reduced = without_sections(&source.text, sections).ok_or_else(|| {
            ConfigError::at(
                &source,
                Span::default(),
                "invalid cached section ranges",
                "",
            )
        })?;
        let raw = parse_raw(&source, &reduced)?;
        let mut config = Config {
            root,
            ..Config::default()
        };
        apply_raw(&mut config, raw, &source)?;
        config.source = Some(source);
        config.declared_accessors = declared_accessors;
        config.inventory_deferred = true;
        Ok(config)
    }

    /// Reads the inventory sections a config made by [`Config::from_text_without_inventory`]
    /// left out; nothing for any other. Cost: a parse of the whole text.
    pub fn load_deferred_inventory(&mut self) -> Result<(), ConfigError> {
        if !self.inventory_deferred {
            return Ok(());
        }
        let Some(source) = self.source.clone() else {
            return Ok(());
        };
        let full = Config::from_text(source, self.root.clone())?;
        self.roles = full.roles;
        self.groups = full.groups;
        self.entities = full.entities;
        self.declared_accessors = full.declared_accessors;
        self.inventory_deferred = false;
        Ok(())
    }

    /// Whether this config, read in full from `source`, is what
    /// [`Config::from_text_without_inventory`] gives with `sections`: the check made once
    /// before the sections are cached, so that a text the line scan misreads (an anchor in
    /// a section used outside it, a flow value spanning lines) is always read in full.
    /// Cost: one parse of the text outside the sections and two debug renderings.
    pub fn reads_the_same_without(&self, sections: &[(usize, usize)]) -> bool {
        let Some(source) = self.source.clone() else {
            return false;
        };
        let accessors = self.declared_accessors.clone();
        let Ok(reduced) =
            Config::from_text_without_inventory(source, self.root.clone(), sections, accessors)
        else {
            return false;
        };
        let comparable = |config: &Config| {
            let mut config = config.clone();
            config.roles.clear();
            config.groups.clear();
            config.entities.clear();
            config.source = None;
            config.inventory_deferred = false;
            format!("{config:?}")
        };
        comparable(self) == comparable(&reduced)
    }
}

/// The byte ranges of the top-level `roles:`, `groups:` and `entities:` sections of a
/// `capable.yaml` text, each from its key's line to the line before the next top-level
/// entry (lines that are empty, indented or comments belong to it, so each of their lines
/// starts with an ASCII byte). Best effort: [`Config::reads_the_same_without`] decides
/// whether the ranges are used. Cost: O(text).
pub fn inventory_sections(text: &str) -> Vec<(usize, usize)> {
    let mut sections: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let first = line.as_bytes().first().copied();
        let continues = matches!(first, None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'#'));
        if let (Some(start), false) = (open, continues) {
            sections.push((start, offset));
            open = None;
        }
        if open.is_none() && is_inventory_key(line) {
            open = Some(offset);
        }
        offset += line.len();
    }
    if let Some(start) = open {
        sections.push((start, offset));
    }
    sections
}

/// Whether a line starts a top-level inventory section (`roles:`, `groups: {}`, ...).
fn is_inventory_key(line: &str) -> bool {
    ["roles", "groups", "entities"].iter().any(|key| {
        line.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(':'))
    })
}

/// `text` with the `sections` read as comments: the first byte of each of their lines
/// becomes `#` (every such byte is ASCII, so offsets, lines and columns stay), and a section
/// reaching the end is cut off. `None` when a range does not fit the text. Cost: O(text).
fn without_sections(text: &str, sections: &[(usize, usize)]) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let mut end = bytes.len();
    for &(start, stop) in sections {
        if start > stop || stop > bytes.len() || !text.is_char_boundary(start) {
            return None;
        }
        if stop == bytes.len() {
            end = end.min(start);
            continue;
        }
        let mut at_line_start = true;
        for byte in &mut bytes[start..stop] {
            if at_line_start && *byte != b'\n' {
                if !byte.is_ascii() {
                    return None;
                }
                *byte = b'#';
            }
            at_line_start = *byte == b'\n';
        }
    }
    bytes.truncate(end);
    String::from_utf8(bytes).ok()
}

/// A YAML map read as `(key, value)` pairs, both with their locations.
type SpannedEntries = Vec<(Spanned<String>, Spanned<String>)>;

/// What `capable.yaml` holds, before validation.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    target: Option<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    mounts: Option<BTreeMap<String, Spanned<RawMount>>>,
    #[serde(default, deserialize_with = "spanned_entries")]
    rules: SpannedEntries,
    #[serde(default, deserialize_with = "spanned_list_entries")]
    per_file_ignores: SpannedListEntries,
    #[serde(default)]
    fail_level: Option<Spanned<String>>,
    #[serde(default)]
    max_file_size: Option<Spanned<SizeValue>>,
    #[serde(default)]
    roles: BTreeMap<String, RoleSpec>,
    #[serde(default)]
    groups: BTreeMap<String, GroupSpec>,
    #[serde(default)]
    entities: BTreeMap<String, EntitySpec>,
    #[serde(default)]
    policies: BTreeMap<String, Spanned<PolicySpec>>,
    #[serde(default, deserialize_with = "namespace_entries")]
    namespaces: NamespaceEntries,
    #[serde(default)]
    guards: Vec<Spanned<RawGuard>>,
    #[serde(default)]
    baseline: Option<Spanned<String>>,
    #[serde(default)]
    cache: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    id: Spanned<String>,
    never: Spanned<RawNever>,
    #[serde(default)]
    except: Vec<Spanned<String>>,
    /// Free text for the reader.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNever {
    capabilities: Vec<Spanned<String>>,
    paths: Vec<Spanned<String>>,
}

type NamespaceEntries = Vec<(Spanned<String>, Option<RawNamespace>)>;

/// Reads `namespaces:` as `(path, settings)` pairs keeping the paths' locations.
fn namespace_entries<'de, D>(deserializer: D) -> Result<NamespaceEntries, D::Error>
where
    D: Deserializer<'de>,
{
    map_entries(
        deserializer,
        "a map of namespace path to its settings, e.g. `admin/: {}`",
    )
}

/// One entry of `namespaces:`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNamespace {
    /// Policy file stems that live in this namespace whatever their folder.
    #[serde(default)]
    policies: Vec<Spanned<String>>,
    /// Free text for the reader.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// `max-file-size`: a number of bytes or a size with a unit.
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMount {
    #[serde(rename = "type")]
    engine: String,
    #[serde(default)]
    version: Option<Spanned<u8>>,
    /// Free text for the reader.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

type SpannedListEntries = Vec<(Spanned<String>, Vec<Spanned<String>>)>;

/// Reads `per-file-ignores:` (glob → list of rule ids) as pairs keeping every location.
fn spanned_list_entries<'de, D>(deserializer: D) -> Result<SpannedListEntries, D::Error>
where
    D: Deserializer<'de>,
{
    map_entries(deserializer, "a map of file glob to a list of rule ids")
}

/// Reads a map as `(key, value)` pairs keeping both locations (a map keyed by `Spanned`
/// is not possible: it has no ordering).
fn spanned_entries<'de, D>(deserializer: D) -> Result<SpannedEntries, D::Error>
where
    D: Deserializer<'de>,
{
    map_entries(
        deserializer,
        "a map of rule id to `off`, `error`, `warning` or `info`",
    )
}

/// Reads a map as its `(key, value)` pairs in order, so keys can keep their locations (a map
/// keyed by `Spanned` is not possible: it has no ordering). `expecting` names the map in
/// errors; an empty value (`key:`) is an empty map.
fn map_entries<'de, D, K, V>(
    deserializer: D,
    expecting: &'static str,
) -> Result<Vec<(K, V)>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de>,
    V: Deserialize<'de>,
{
    struct EntriesVisitor<K, V> {
        expecting: &'static str,
        entries: std::marker::PhantomData<(K, V)>,
    }

    impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
        type Value = Vec<(K, V)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            Ok(entries)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }

    deserializer.deserialize_map(EntriesVisitor {
        expecting,
        entries: std::marker::PhantomData,
    })
}

/// Reads `text` (the source's, or it with parts read as comments); errors point into
/// `source`.
fn parse_raw(source: &SourceFile, text: &str) -> Result<RawConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(RawConfig::default());
    }
    serde_saphyr::from_str::<Option<RawConfig>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|error| yaml_error(source, &error))
}

fn yaml_error(source: &SourceFile, error: &serde_saphyr::Error) -> ConfigError {
    let inner = error.without_snippet();
    let span = inner
        .location()
        .map(|location| span_at(source, &location))
        .unwrap_or_default();
    let (message, help) = yaml_message_and_help(&yaml_message(inner));
    ConfigError::at(source, span, message, help)
}

/// serde-saphyr's message, lowercased at the start and without its own location suffix.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    let first_line = text.lines().next().unwrap_or("invalid configuration");
    let without_location = match first_line.find(" at line ") {
        Some(index) => &first_line[..index],
        None => first_line,
    };
    let trimmed = without_location.trim().trim_end_matches('.');
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "invalid configuration".into(),
    }
}

/// Rewrites serde's wording into ours: `unknown key` with a suggestion, `expected a list`.
fn yaml_message_and_help(message: &str) -> (String, String) {
    if let Some((field, expected)) = unknown_field(message) {
        let help = match closest(&field, &expected) {
            Some(close) => format!(
                "did you mean `{close}`? valid keys here: {}",
                backticked(&expected)
            ),
            None => format!("valid keys here: {}", backticked(&expected)),
        };
        return (format!("unknown key `{field}`"), help);
    }
    let reference = "see the `capable.yaml` reference in the README".to_string();
    match message {
        "expected sequence start" => (
            "expected a list".into(),
            "write a YAML list, e.g. `[policies]` or one `- item` per line".into(),
        ),
        "expected mapping start" => (
            "expected a map".into(),
            "write `key: value` pairs, e.g. `{type: kv, version: 2}`".into(),
        ),
        other => (other.to_string(), reference),
    }
}

/// `unknown field `x`, expected one of a, b` (or `expected `a``) → (`x`, [a, b]).
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .trim_start_matches(", ")
        .trim_start_matches("expected one of ")
        .trim_start_matches("expected ")
        .split(", ")
        .map(|key| key.trim().trim_matches('`').to_string())
        .filter(|key| !key.is_empty() && !key.contains(' '))
        .collect();
    Some((field.to_string(), expected))
}

fn closest(field: &str, expected: &[String]) -> Option<String> {
    let normalized = field.replace('_', "-").to_lowercase();
    crate::suggest::closest(
        expected,
        |key| crate::suggest::edit_distance(&normalized, key),
        |key| (key.len() / 3).max(2),
    )
    .cloned()
}

fn backticked(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Our span of a serde-saphyr location: its byte range, or the start of its line and column.
fn span_at(source: &SourceFile, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    if let (Some(start), Some(len)) = (span.byte_offset(), span.byte_len()) {
        return crate::source::at_least_one_char(&source.text, start as usize, len as usize);
    }
    let line = location.line() as usize;
    let column = location.column() as usize;
    let line_start = source
        .text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let start = (line_start + column.saturating_sub(1)).min(source.text.len());
    Span::new(start, start)
}

/// Merges imported items into a section (see [`Config::import_inventory`]): a key already
/// there (from this file, or imported before) is a conflict at both places.
fn merge_declared<T>(
    section: &mut BTreeMap<String, T>,
    items: Vec<crate::inventory::Declared<T>>,
    kind: &'static str,
    origins: &mut BTreeMap<(&'static str, String), (u32, Span)>,
    source: Option<&SourceFile>,
    conflicts: &mut Vec<(u32, crate::diag::Diagnostic)>,
) {
    for item in items {
        let first = match origins.get(&(kind, item.key.clone())) {
            Some(first) => Some(*first),
            None if section.contains_key(&item.key) => Some((
                0,
                source
                    .map(|source| crate::inventory::key_span_in(source, &item.key))
                    .unwrap_or_default(),
            )),
            None => None,
        };
        if let Some(first) = first {
            conflicts.extend(duplicate_pair(kind, &item.key, first, &item));
            continue;
        }
        origins.insert((kind, item.key.clone()), (item.source_id, item.span));
        section.insert(item.key, item.spec);
    }
}

/// The two errors of one duplicate: at the first declaration and at the second.
fn duplicate_pair<T>(
    kind: &str,
    key: &str,
    first: (u32, Span),
    second: &crate::inventory::Declared<T>,
) -> [(u32, crate::diag::Diagnostic); 2] {
    let help = "each one is one object on the server: keep one declaration, or check each \
                Vault's files as their own workspace (`exclude` the others in capable.yaml)";
    let at = |(id, span): (u32, Span), label: &str| {
        (
            id,
            crate::diag::Diagnostic::error(
                "duplicate-inventory",
                span,
                format!("{kind} `{key}` is declared twice ({})", second.what),
            )
            .with_label(label.to_string())
            .with_help(help),
        )
    };
    [
        at(first, "first declared here"),
        at((second.source_id, second.span), "declared again here"),
    ]
}

fn spanned_span<T>(source: &SourceFile, value: &Spanned<T>) -> Span {
    span_at(source, &value.referenced)
}

fn apply_raw(config: &mut Config, raw: RawConfig, source: &SourceFile) -> Result<(), ConfigError> {
    if let Some(target) = raw.target {
        config.target = target.value.parse().map_err(|message: String| {
            ConfigError::at(
                source,
                spanned_span(source, &target),
                message,
                "write `target: vault` or `target: openbao`",
            )
        })?;
        config.target_set = true;
    }
    config.include = check_globs(source, raw.include)?;
    config.exclude = check_globs(source, raw.exclude)?;
    if let Some(mounts) = raw.mounts {
        config.mounts = read_mounts(source, mounts)?;
    }
    config.rules = read_rules(source, raw.rules)?;
    config.per_file_ignores = read_per_file_ignores(source, raw.per_file_ignores, &config.root)?;
    if let Some(level) = raw.fail_level {
        config.fail_level = parse_fail_level(&level.value).map_err(|message| {
            ConfigError::at(
                source,
                spanned_span(source, &level),
                message,
                "`fail-level` is the lowest severity that makes `check` exit 1",
            )
        })?;
    }
    if let Some(size) = raw.max_file_size {
        let parsed = match &size.value {
            SizeValue::Bytes(bytes) => Some(*bytes).filter(|bytes| *bytes > 0),
            SizeValue::Text(text) => crate::input::parse_size(text),
        };
        config.max_file_size = parsed.ok_or_else(|| {
            ConfigError::at(
                source,
                spanned_span(source, &size),
                "invalid `max-file-size`",
                "write a positive size in bytes, or with a unit: `512KiB`, `64MiB`, `1GiB`",
            )
        })?;
    }
    config.roles = raw.roles;
    config.groups = raw.groups;
    config.entities = raw.entities;
    let role_accessors = config
        .roles
        .values()
        .filter_map(|role| role.accessor.as_ref());
    let alias_accessors = config
        .entities
        .values()
        .flat_map(|entity| &entity.aliases)
        .filter_map(|alias| alias.accessor.as_ref());
    config.declared_accessors = role_accessors
        .chain(alias_accessors)
        .map(|accessor| accessor.value.clone())
        .collect();
    config.policies = raw.policies;
    read_namespaces(config, raw.namespaces, source)?;
    config.guards = read_guards(source, raw.guards, config.target)?;
    config.cache = raw.cache.unwrap_or(true);
    if let Some(baseline) = raw.baseline {
        if !baseline.value.starts_with("git:") || baseline.value.len() == 4 {
            return Err(ConfigError::at(
                source,
                spanned_span(source, &baseline),
                format!(
                    "`baseline` must name a git revision, not `{}`",
                    baseline.value
                ),
                "write `baseline: git:origin/main` (the findings present there are not reported)",
            ));
        }
        config.baseline = Some(baseline.value["git:".len()..].to_string());
    }
    Ok(())
}

fn read_guards(
    source: &SourceFile,
    raw: Vec<Spanned<RawGuard>>,
    target: Target,
) -> Result<Vec<Guard>, ConfigError> {
    let mut guards: Vec<Guard> = Vec::new();
    for entry in raw {
        let guard = entry.value;
        let id = guard.id.value.trim().to_string();
        let id_span = spanned_span(source, &guard.id);
        let kebab = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !kebab {
            return Err(ConfigError::at(
                source,
                id_span,
                format!("guard id `{id}` is not kebab-case"),
                "name the guard in lowercase words joined by `-`, e.g. `nobody-writes-policies`",
            ));
        }
        if guards.iter().any(|other| other.id == id) {
            return Err(ConfigError::at(
                source,
                id_span,
                format!("two guards are named `{id}`"),
                "guard ids name findings; give each guard its own",
            ));
        }
        let never_span = spanned_span(source, &guard.never);
        let never = guard.never.value;
        let mut capabilities = Vec::new();
        for name in &never.capabilities {
            match Capability::parse(name.value.trim(), target) {
                Some(Capability::Deny) | None => {
                    return Err(ConfigError::at(
                        source,
                        spanned_span(source, name),
                        format!(
                            "`{}` is not a capability a {target} token can hold",
                            name.value
                        ),
                        "use `read`, `list`, `create`, `update`, `patch`, `delete` or `sudo`",
                    ))
                }
                Some(capability) => capabilities.push(capability),
            }
        }
        let mut paths = Vec::new();
        for path in &never.paths {
            let span = spanned_span(source, path);
            if path.value.contains("{{") {
                return Err(ConfigError::at(
                    source,
                    span,
                    format!("guard path `{}` is templated", path.value),
                    "guards name paths literally, with `*` and `+`; templates resolve per subject",
                ));
            }
            match PathPattern::parse(path.value.trim()) {
                Ok(pattern) if !pattern.normalized.is_empty() => paths.push(pattern),
                Ok(_) => {
                    return Err(ConfigError::at(
                        source,
                        span,
                        "empty guard path",
                        "write a path pattern, e.g. `sys/policies/acl/*`",
                    ))
                }
                Err(message) => {
                    return Err(ConfigError::at(
                        source,
                        span,
                        message,
                        "`+*` is refused by Vault and OpenBao; write `+/*`",
                    ))
                }
            }
        }
        if capabilities.is_empty() || paths.is_empty() {
            return Err(ConfigError::at(
                source,
                never_span,
                format!("guard `{id}` needs `capabilities` and `paths`"),
                "write `never: {capabilities: [read], paths: [\"secret/data/x\"]}`",
            ));
        }
        let except = guard
            .except
            .iter()
            .map(|name| (name.value.trim().to_string(), spanned_span(source, name)))
            .collect();
        guards.push(Guard {
            id,
            span: id_span,
            capabilities,
            paths,
            except,
        });
    }
    Ok(guards)
}

/// `namespaces:`, a map of namespace path to its settings (`{}` or nothing for none).
fn read_namespaces(
    config: &mut Config,
    entries: NamespaceEntries,
    source: &SourceFile,
) -> Result<(), ConfigError> {
    let mut paths = Vec::new();
    for (path, settings) in entries {
        let normalized = crate::namespace::normalize(&path.value).map_err(|message| {
            ConfigError::at(
                source,
                spanned_span(source, &path),
                message,
                "write the namespace path with `/` between names, e.g. `admin/team-a/`",
            )
        })?;
        if normalized.is_empty() {
            return Err(ConfigError::at(
                source,
                spanned_span(source, &path),
                "the root namespace is always there",
                "list only child namespaces, e.g. `admin/`",
            ));
        }
        for policy in settings.unwrap_or_default().policies {
            config
                .namespace_of_policy
                .insert(policy.value, normalized.clone());
        }
        paths.push(normalized);
    }
    config.namespaces = Namespaces::new(paths.iter().map(String::as_str));
    Ok(())
}

fn check_globs(
    source: &SourceFile,
    globs: Vec<Spanned<String>>,
) -> Result<Vec<String>, ConfigError> {
    globs
        .into_iter()
        .map(|glob| match globset::Glob::new(&glob.value) {
            Ok(_) => Ok(glob.value),
            Err(error) => Err(ConfigError::at(
                source,
                spanned_span(source, &glob),
                format!("invalid glob `{}`: {}", glob.value, error.kind()),
                "globs use `*`, `**`, `?`, `[...]` and `{a,b}`",
            )),
        })
        .collect()
}

fn read_mounts(
    source: &SourceFile,
    mounts: BTreeMap<String, Spanned<RawMount>>,
) -> Result<Mounts, ConfigError> {
    let mut table = Vec::new();
    for (path, mount) in mounts {
        let span = spanned_span(source, &mount);
        let raw = mount.value;
        let kv_version = match (&*raw.engine, raw.version) {
            ("kv", None) => Some(1),
            ("kv", Some(version)) if version.value == 1 || version.value == 2 => {
                Some(version.value)
            }
            ("kv", Some(version)) => {
                return Err(ConfigError::at(
                    source,
                    spanned_span(source, &version),
                    format!("unknown kv version `{}`", version.value),
                    "KV mounts are version `1` or `2`",
                ))
            }
            (_, Some(version)) => {
                return Err(ConfigError::at(
                    source,
                    spanned_span(source, &version),
                    format!(
                        "`version` only applies to `kv` mounts, not `{}`",
                        raw.engine
                    ),
                    "remove `version`",
                ))
            }
            (_, None) => None,
        };
        if path.trim_matches('/').is_empty() {
            return Err(ConfigError::at(
                source,
                span,
                "empty mount path",
                "write the mount path, e.g. `secret/`",
            ));
        }
        table.push(Mount {
            path: format!("{}/", path.trim_matches('/')),
            engine: raw.engine,
            kv_version,
        });
    }
    Ok(Mounts::new(table))
}

fn read_rules(
    source: &SourceFile,
    entries: SpannedEntries,
) -> Result<BTreeMap<String, RuleLevel>, ConfigError> {
    let mut rules = BTreeMap::new();
    for (id, level) in entries {
        check_rule_id(source, &id)?;
        let Some(parsed) = parse_rule_level(&level.value) else {
            return Err(ConfigError::at(
                source,
                spanned_span(source, &level),
                format!("unknown rule setting `{}`", level.value),
                "use `off`, `error`, `warning` or `info`",
            ));
        };
        rules.insert(id.value, parsed);
    }
    Ok(rules)
}

/// `per-file-ignores`: each glob compiled, each rule id checked like those of `rules:`.
fn read_per_file_ignores(
    source: &SourceFile,
    entries: SpannedListEntries,
    root: &Path,
) -> Result<PerFileIgnores, ConfigError> {
    let mut ignores = PerFileIgnores {
        entries: Vec::new(),
        root: root.to_path_buf(),
    };
    for (pattern, ids) in entries {
        let pattern_span = spanned_span(source, &pattern);
        let mut checked = Vec::new();
        for id in ids {
            check_rule_id(source, &id)?;
            checked.push(crate::span::Spanned::new(
                id.value.clone(),
                spanned_span(source, &id),
            ));
        }
        if checked.is_empty() {
            return Err(ConfigError::at(
                source,
                pattern_span,
                format!("`per-file-ignores` entry `{}` names no rule", pattern.value),
                "list the rule ids to ignore in the matching files, e.g. `[policy-admin]`",
            ));
        }
        let written = crate::span::Spanned::new(pattern.value.clone(), pattern_span);
        let entry = PerFileIgnore::new(written, checked).map_err(|error| {
            ConfigError::at(
                source,
                pattern_span,
                format!("invalid glob `{}`: {}", pattern.value, error.kind()),
                "globs use `*`, `**`, `?`, `[...]` and `{a,b}`",
            )
        })?;
        ignores.entries.push(entry);
    }
    Ok(ignores)
}

fn check_rule_id(source: &SourceFile, id: &Spanned<String>) -> Result<(), ConfigError> {
    let span = spanned_span(source, id);
    if id.value.starts_with("invalid-") {
        return Err(ConfigError::at(
            source,
            span,
            format!("rule `{}` cannot be configured", id.value),
            "the target refuses such a policy, so this finding is always an error",
        ));
    }
    if crate::lint::rule_meta(&id.value).is_some() {
        return Ok(());
    }
    let help = match crate::lint::suggest_rule_id(&id.value) {
        Some(close) => format!("did you mean `{close}`? `capable rules` lists every rule"),
        None => "`capable rules` lists every rule".to_string(),
    };
    Err(ConfigError::at(
        source,
        span,
        format!("unknown rule `{}`", id.value),
        help,
    ))
}

/// A configuration that cannot be used (exit 2).
#[derive(Clone, Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Io { path: String, message: String },
    /// Bad content, pointing at the offending token.
    Invalid {
        file: Arc<SourceFile>,
        diagnostic: Box<Diagnostic>,
    },
}

impl ConfigError {
    fn at(
        source: &SourceFile,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> ConfigError {
        let diagnostic = Diagnostic::error("config", span, message).with_help(help);
        ConfigError::Invalid {
            file: Arc::new(source.clone()),
            diagnostic: Box::new(diagnostic),
        }
    }

    /// One line: `file:line:col: message`.
    pub fn message(&self) -> String {
        match self {
            ConfigError::Io { path, message } => format!("cannot read `{path}`: {message}"),
            ConfigError::Invalid { file, diagnostic } => {
                let (line, column) = file.line_col(diagnostic.span.start);
                format!("{}:{line}:{column}: {}", file.name, diagnostic.message)
            }
        }
    }

    pub fn help(&self) -> Option<String> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Invalid { diagnostic, .. } => diagnostic.help.clone(),
        }
    }

    /// The error with its source frame (miette), for the terminal.
    pub fn render(&self, color: bool) -> String {
        match self {
            ConfigError::Io { .. } => format!("error: {}\n", self.message()),
            ConfigError::Invalid { file, diagnostic } => {
                crate::report::human::render_one(file, diagnostic, color)
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_text(
            Arc::new(SourceFile::new("capable.yaml", text)),
            PathBuf::from("."),
        )
    }

    const WITH_INVENTORY: &str = "target: openbao\nroles:\n  userpass/a:\n    policies: [x]\n\
        \x20   accessor: auth_userpass_1\n# between\ngroups: {g: {policies: [y]}}\n\
        rules:\n  literal-star: off\nentities:\n  e:\n    description: |\n      caf\u{e9}\n\
        \x20     two\n    aliases: [{mount: userpass, name: a, accessor: auth_userpass_1}]\n\
        guards:\n  - id: no-sys\n    never: {capabilities: [read], paths: [\"sys/*\"]}\n\
        namespaces:\n  admin/: {policies: [x]}\npolicies:\n  x: {description: d}\n";

    #[test]
    fn inventory_sections_are_found_and_read_as_comments() {
        let config = parse(WITH_INVENTORY).unwrap();
        let sections = inventory_sections(WITH_INVENTORY);
        assert_eq!(sections.len(), 3, "{sections:?}");
        let cut: Vec<&str> = sections
            .iter()
            .map(|&(start, end)| &WITH_INVENTORY[start..end])
            .collect();
        assert!(cut[0].starts_with("roles:") && cut[0].ends_with("# between\n"));
        assert_eq!(cut[1], "groups: {g: {policies: [y]}}\n");
        assert!(cut[2].starts_with("entities:") && cut[2].contains("caf\u{e9}"));
        assert!(config.reads_the_same_without(&sections));
        let source = config.source.clone().unwrap();
        let reduced = Config::from_text_without_inventory(
            source,
            PathBuf::from("."),
            &sections,
            config.declared_accessors.clone(),
        )
        .unwrap();
        assert!(reduced.inventory_deferred);
        assert!(reduced.roles.is_empty() && reduced.groups.is_empty());
        // Everything else, spans included, is what the whole read gives.
        assert_eq!(reduced.guards, config.guards);
        assert_eq!(
            format!("{:?}", reduced.policies),
            format!("{:?}", config.policies)
        );
        let mut loaded = reduced;
        loaded.load_deferred_inventory().unwrap();
        assert!(!loaded.inventory_deferred);
        assert_eq!(loaded.roles, config.roles);
        assert_eq!(loaded.entities, config.entities);
        assert_eq!(loaded.groups, config.groups);
    }

    #[test]
    fn texts_the_line_scan_misreads_are_read_whole() {
        // An anchor inside a section used outside it.
        let anchored = "roles:\n  u/a: {policies: [x], description: &d text}\n\
                        policies:\n  x: {description: *d}\n";
        let config = parse(anchored).unwrap();
        let sections = inventory_sections(anchored);
        assert_eq!(sections.len(), 1);
        assert!(!config.reads_the_same_without(&sections));
        // A line starting at the left margin ends a section.
        assert_eq!(
            inventory_sections("roles:\n  a: b\n\u{e9}: x\n"),
            vec![(0, 14)]
        );
        // No inventory: nothing to leave out.
        assert_eq!(inventory_sections("target: vault\n"), Vec::new());
        // Quoted keys are not recognised (and so read whole).
        assert_eq!(inventory_sections("\"roles\": {}\n"), Vec::new());
        // Ranges that do not fit the text are refused.
        let source = Arc::new(SourceFile::new("capable.yaml", "roles: {}\n"));
        let refused = Config::from_text_without_inventory(
            source,
            PathBuf::from("."),
            &[(4, 100)],
            Default::default(),
        );
        assert!(refused.is_err());
    }

    #[test]
    fn defaults_when_empty() {
        let config = parse("").unwrap();
        assert_eq!(config.target, Target::Vault);
        assert_eq!(config.fail_level, Severity::Warning);
        assert_eq!(config.mounts.kv_version("secret/data/x"), Some(2));
    }

    #[test]
    fn reads_every_key() {
        let config = parse(
            "target: openbao\ninclude: [policies]\nexclude: ['**/old/*']\nfail-level: error\n\
             mounts:\n  kv/: {type: kv, version: 1}\n  db: {type: database}\n",
        )
        .unwrap();
        assert_eq!(config.target, Target::OpenBao);
        assert_eq!(config.include, vec!["policies"]);
        assert_eq!(config.exclude, vec!["**/old/*"]);
        assert_eq!(config.fail_level, Severity::Error);
        assert_eq!(config.mounts.kv_version("kv/foo"), Some(1));
        assert_eq!(config.mounts.kv_version("secret/foo"), None);
        assert_eq!(config.mounts.find("db/creds/x").unwrap().engine, "database");
    }

    #[test]
    fn unknown_top_level_key_has_line_and_column() {
        let error = parse("target: vault\nfail_level: error\n").unwrap_err();
        let message = error.message();
        assert!(message.starts_with("capable.yaml:2:1: "), "{message}");
        assert!(message.contains("fail_level"), "{message}");
    }

    #[test]
    fn unknown_mount_key_has_line() {
        let error = parse("mounts:\n  secret/:\n    type: kv\n    versoin: 2\n").unwrap_err();
        assert!(error.message().starts_with("capable.yaml:4:"), "{error}");
        assert!(error.message().contains("versoin"), "{error}");
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let error = parse("target: vaultt\n").unwrap_err();
        assert_eq!(
            error.message(),
            "capable.yaml:1:9: unknown target `vaultt`, expected `vault` or `openbao`"
        );
        let error = parse("fail-level: high\n").unwrap_err();
        assert!(error
            .message()
            .starts_with("capable.yaml:1:13: unknown severity"));
        let error = parse("mounts:\n  kv/: {type: kv, version: 3}\n").unwrap_err();
        assert!(error.message().starts_with("capable.yaml:2:"), "{error}");
    }

    #[test]
    fn invalid_rules_cannot_be_configured() {
        let error = parse("rules:\n  invalid-capability: off\n").unwrap_err();
        assert_eq!(
            error.message(),
            "capable.yaml:2:3: rule `invalid-capability` cannot be configured"
        );
    }

    #[test]
    fn unknown_rule_id_has_line() {
        let error = parse("rules:\n  no-such-rule-at-all: off\n").unwrap_err();
        assert_eq!(
            error.message(),
            "capable.yaml:2:3: unknown rule `no-such-rule-at-all`"
        );
    }

    #[test]
    fn namespaces_form_a_tree() {
        let config =
            parse("namespaces:\n  admin/team-a: {policies: [reader]}\n  admin/team-b/:\n").unwrap();
        let all: Vec<&str> = config.namespaces.iter().collect();
        assert_eq!(all, ["", "admin/", "admin/team-a/", "admin/team-b/"]);
        assert_eq!(config.namespace_of_policy["reader"], "admin/team-a/");
        let error = parse("namespaces:\n  admin/sys/: {}\n").unwrap_err();
        assert_eq!(
            error.message(),
            "capable.yaml:2:3: `sys/` is a reserved path and cannot be used as a namespace name"
        );
    }

    #[test]
    fn guards_are_read_with_spans() {
        let config = parse(
            "guards:\n  - id: no-writes\n    never: {capabilities: [update], paths: [\"sys/policy/*\"]}\n    except: [ops]\n",
        )
        .unwrap();
        assert_eq!(config.guards.len(), 1);
        let guard = &config.guards[0];
        assert_eq!(guard.id, "no-writes");
        assert_eq!(guard.capabilities, vec![Capability::Update]);
        assert_eq!(guard.paths[0].normalized, "sys/policy/*");
        assert_eq!(guard.except[0].0, "ops");
        let error = parse("guards:\n  - id: x\n    never: {capabilities: [reed], paths: [a]}\n")
            .unwrap_err();
        assert!(error.message().starts_with("capable.yaml:3:"), "{error}");
        let error = parse("guards:\n  - id: x\n    nevr: {}\n").unwrap_err();
        assert!(error.message().contains("unknown key `nevr`"), "{error}");
        let error =
            parse("guards:\n  - id: x\n    never: {capabilities: [read], paths: [\"a/+*\"]}\n")
                .unwrap_err();
        assert!(error.message().starts_with("capable.yaml:3:"), "{error}");
        let error = parse("baseline: origin/main\n").unwrap_err();
        assert!(error.message().contains("git revision"), "{error}");
        assert_eq!(
            parse("baseline: git:v1\n").unwrap().baseline.as_deref(),
            Some("v1")
        );
    }

    #[test]
    fn bad_glob_is_reported() {
        let error = parse("include: ['policies/[']\n").unwrap_err();
        assert!(error.message().starts_with("capable.yaml:1:"), "{error}");
        assert!(error.message().contains("invalid glob"), "{error}");
    }
}
