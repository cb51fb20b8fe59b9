//! What the lint engine reads of the configuration: per-rule levels and the mount table.
//!
//! The types live here, below `crate::config`: the configuration parses `capable.yaml` into
//! them ([`crate::config::Config::lint_settings`]), and the engine never sees the rest of it.

use std::collections::BTreeMap;

use crate::diag::Severity;
use crate::mounts::Mounts;
use crate::span::Spanned;

/// A per-rule setting in `rules:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    /// The rule does not run.
    Off,
    /// The rule runs and reports at this severity instead of its default.
    Severity(Severity),
}

/// The settings one lint run applies.
#[derive(Clone, Copy, Debug)]
pub struct LintSettings<'a> {
    /// Per-rule settings by rule id (ids checked against the registry when read).
    pub rules: &'a BTreeMap<String, RuleLevel>,
    pub mounts: &'a Mounts,
    /// The namespace tree: a wildcard first segment in a namespace with children is a
    /// namespace wildcard ([`super::namespaces`]).
    pub namespaces: &'a crate::namespace::Namespaces,
    /// The auth mount accessors `capable.yaml` writes (empty: capable knows none).
    pub accessors: &'a std::collections::BTreeSet<String>,
}

impl LintSettings<'_> {
    /// The setting for one rule, if `rules:` names it.
    pub fn rule_level(&self, id: &str) -> Option<RuleLevel> {
        self.rules.get(id).copied()
    }
}

/// `per-file-ignores` in `capable.yaml`: rule ids suppressed in every file a glob matches
/// (ruff's setting of the same name), for deliberate policies such as a break-glass admin.
///
/// ```yaml
/// per-file-ignores:
///   "policies/break-glass/*.hcl": [policy-admin, token-create]
///   admin.hcl: [grants-everything]
/// ```
///
/// A glob is matched against the file's path relative to the configuration's folder, with
/// `*` not crossing `/` (as `exclude` does); a plain folder also matches everything under
/// it, and a glob without `/` also matches the file name alone.
#[derive(Clone, Debug, Default)]
pub struct PerFileIgnores {
    pub entries: Vec<PerFileIgnore>,
    /// The folder globs are relative to.
    pub root: std::path::PathBuf,
}

/// One `per-file-ignores` entry.
#[derive(Clone, Debug)]
pub struct PerFileIgnore {
    /// The glob as written, with its span in `capable.yaml`.
    pub pattern: Spanned<String>,
    /// The rule ids as written, with their spans.
    pub ids: Vec<Spanned<String>>,
    matcher: globset::GlobSet,
}

impl PerFileIgnore {
    /// Compiles the glob. Cost: O(glob length).
    pub fn new(
        pattern: Spanned<String>,
        ids: Vec<Spanned<String>>,
    ) -> Result<PerFileIgnore, globset::Error> {
        let trimmed = pattern.value.trim_start_matches("./").trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "**" } else { trimmed };
        let mut globs = vec![trimmed.to_string(), format!("{trimmed}/**")];
        if !trimmed.contains('/') {
            globs.push(format!("**/{trimmed}"));
        }
        let mut builder = globset::GlobSetBuilder::new();
        for glob in globs {
            builder.add(
                globset::GlobBuilder::new(&glob)
                    .literal_separator(true)
                    .build()?,
            );
        }
        Ok(PerFileIgnore {
            pattern,
            ids,
            matcher: builder.build()?,
        })
    }

    /// Whether the entry applies to a file at `relative` (to the configuration's folder).
    pub fn matches(&self, relative: &std::path::Path) -> bool {
        self.matcher.is_match(relative)
    }
}
