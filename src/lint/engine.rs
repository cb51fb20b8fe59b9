//! Runs the rule registry over policies and applies the configuration and inline
//! suppressions.
//!
//! For each policy the target accepts: build the ACL of that policy alone (templated rules
//! drop out of it, see [`PolicyContext::templated_rules`]), run every registered rule the
//! configuration does not turn off, apply per-rule severity overrides, then the file's
//! `capable:ignore` comments ([`super::suppress`]). `invalid-` diagnostics are never changed,
//! turned off or suppressed. Cost: one ACL build per policy plus the rules' own costs.

use std::sync::Arc;

use super::codes::RULES;
use super::suppress::{self, Block};
use super::PolicyContext;
use crate::acl::Acl;
use crate::config::{Config, RuleLevel};
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::target::Target;
use crate::workspace::Workspace;

/// The lint findings of one valid policy, configuration applied (no suppressions yet).
pub fn lint_policy(policy: &Policy, target: Target, config: &Config) -> Vec<Diagnostic> {
    let Ok(acl) = Acl::new(&[policy], target, None) else {
        return Vec::new();
    };
    let ctx = PolicyContext {
        policy,
        acl: &acl,
        target,
        mounts: &config.mounts,
    };
    let mut found = Vec::new();
    for rule in RULES {
        if config.rule_level(rule.meta().id) == Some(RuleLevel::Off) {
            continue;
        }
        rule.check_policy(&ctx, &mut found);
    }
    apply_levels(found, config)
}

/// Drops diagnostics of rules turned off and applies severity overrides; `invalid-`
/// diagnostics pass unchanged.
pub fn apply_levels(diagnostics: Vec<Diagnostic>, config: &Config) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter_map(|mut diagnostic| {
            if diagnostic.is_invalid() {
                return Some(diagnostic);
            }
            match config.rule_level(&diagnostic.rule) {
                Some(RuleLevel::Off) => None,
                Some(RuleLevel::Severity(severity)) => {
                    diagnostic.severity = severity;
                    Some(diagnostic)
                }
                None => Some(diagnostic),
            }
        })
        .collect()
}

/// Every diagnostic of one policy file: its parse and validation diagnostics, then (when the
/// target accepts it) the lints, with the configuration and suppressions applied, sorted by
/// position.
pub fn check_file(
    file: &SourceFile,
    parse_diagnostics: &[Diagnostic],
    policy: Option<&Policy>,
    target: Target,
    config: &Config,
) -> Vec<Diagnostic> {
    let mut diagnostics = apply_levels(parse_diagnostics.to_vec(), config);
    if let Some(policy) = policy {
        diagnostics.extend(lint_policy(policy, target, config));
    }
    let blocks: Option<Vec<Block>> = policy.map(|policy| {
        policy
            .rules
            .iter()
            .map(|rule| Block {
                span: rule.block_span,
            })
            .collect()
    });
    let mut diagnostics = suppress::apply(file, blocks.as_deref(), diagnostics, config);
    sort_diagnostics(&mut diagnostics);
    diagnostics
}

/// Checks every policy file of a workspace; one entry per file, in file-name order.
pub fn check_workspace(workspace: &Workspace) -> Vec<FileDiagnostics> {
    let mut results: Vec<FileDiagnostics> = workspace
        .parse_diagnostics
        .iter()
        .map(|parsed| FileDiagnostics {
            file: Arc::clone(&parsed.file),
            diagnostics: check_file(
                &parsed.file,
                &parsed.diagnostics,
                workspace.policy_of(&parsed.file),
                workspace.target,
                &workspace.config,
            ),
        })
        .collect();
    results.sort_by(|a, b| a.file.name.cmp(&b.file.name));
    results
}

/// Sorts by position, then rule id (stable for equal keys).
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.span.end, &a.rule).cmp(&(b.span.start, b.span.end, &b.rule))
    });
}

/// Merges per-file results that name the same file (e.g. lints and agent checks) and sorts
/// files by name and diagnostics by position.
pub fn merge_by_file(results: Vec<FileDiagnostics>) -> Vec<FileDiagnostics> {
    let mut merged: Vec<FileDiagnostics> = Vec::new();
    for result in results {
        match merged
            .iter_mut()
            .find(|existing| existing.file.name == result.file.name)
        {
            Some(existing) => existing.diagnostics.extend(result.diagnostics),
            None => merged.push(result),
        }
    }
    for entry in &mut merged {
        sort_diagnostics(&mut entry.diagnostics);
    }
    merged.sort_by(|a, b| a.file.name.cmp(&b.file.name));
    merged
}
