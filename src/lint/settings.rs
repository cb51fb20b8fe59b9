//! What the lint engine reads of the configuration: per-rule levels and the mount table.
//!
//! The types live here, below `crate::config`: the configuration parses `capable.yaml` into
//! them ([`crate::config::Config::lint_settings`]), and the engine never sees the rest of it.

use std::collections::BTreeMap;

use crate::diag::Severity;
use crate::mounts::Mounts;

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
}

impl LintSettings<'_> {
    /// The setting for one rule, if `rules:` names it.
    pub fn rule_level(&self, id: &str) -> Option<RuleLevel> {
        self.rules.get(id).copied()
    }
}
