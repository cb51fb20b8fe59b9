//! Runs the rule registry over policies and applies the configuration and inline
//! suppressions.
//!
//! For each policy the target accepts: build the policy's index once (its own ACL, where
//! templated rules drop out, see [`super::PolicyContext::templated_rules`], and the facts
//! rules share), run every registered rule the settings do not turn off with the same
//! context, apply per-rule severity overrides, then the file's `capable:ignore` comments
//! ([`super::suppress`]). `invalid-` diagnostics are never changed, turned off or suppressed.
//! Cost: one ACL build and O(blocks) of indexing per policy, plus the rules' own costs (each
//! at most O(blocks × pattern length)).

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use super::codes::RULES;
use super::settings::{LintSettings, RuleLevel};
use super::suppress::{self, Block};
use super::PolicyIndex;
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::target::Target;

/// The lint findings of one valid policy, settings applied (no suppressions yet).
pub fn lint_policy(
    policy: &Policy,
    target: Target,
    settings: &LintSettings<'_>,
) -> Vec<Diagnostic> {
    // The rules read a policy's paths relative to its namespace, as its authors write them.
    let relative;
    let namespace = policy.namespace.as_str();
    let policy = match namespace {
        "" => policy,
        _ => {
            relative = Policy {
                namespace: String::new(),
                ..policy.clone()
            };
            &relative
        }
    };
    let mut found = run_rules(policy, target, settings, |_| true);
    if settings.namespaces.has_children(namespace) {
        namespace_wildcards(policy, target, settings, namespace, &mut found);
    }
    apply_levels(found, settings)
}

/// Runs the registered rules `wanted` selects (and the settings do not turn off).
fn run_rules(
    policy: &Policy,
    target: Target,
    settings: &LintSettings<'_>,
    wanted: impl Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let parallel_from = super::context::PARALLEL_FROM_BLOCKS;
    run_rules_with(policy, target, settings, wanted, parallel_from)
}

/// [`run_rules`], the rules running on all cores from `parallel_from` blocks (tests compare
/// both ways on one policy).
fn run_rules_with(
    policy: &Policy,
    target: Target,
    settings: &LintSettings<'_>,
    wanted: impl Fn(&str) -> bool,
    parallel_from: usize,
) -> Vec<Diagnostic> {
    let Ok(index) = PolicyIndex::new(policy, target) else {
        return Vec::new();
    };
    let ctx = index
        .context(settings.mounts)
        .with_accessors(settings.accessors);
    let rules = RULES.iter().filter(|rule| {
        let id = rule.meta().id;
        wanted(id) && settings.rule_level(id) != Some(RuleLevel::Off)
    });
    if policy.rules.len() < parallel_from {
        let mut found = Vec::new();
        rules.for_each(|rule| rule.check_policy(&ctx, &mut found));
        return found;
    }
    // One big policy is one task of the per-file parallelism: its rules run on all cores
    // instead, each into its own list, concatenated in registry order (the same findings in
    // the same order as one after the other). The index's lazy parts are `OnceLock`s: a rule
    // that needs one another rule is building waits for it.
    use rayon::prelude::*;
    let rules: Vec<_> = rules.collect();
    let per_rule: Vec<Vec<Diagnostic>> = rules
        .par_iter()
        .map(|rule| {
            let mut found = Vec::new();
            rule.check_policy(&ctx, &mut found);
            // No room left from the growth while the lists wait to be joined.
            found.shrink_to_fit();
            found
        })
        .collect();
    let mut found = Vec::with_capacity(per_rule.iter().map(Vec::len).sum());
    per_rule
        .into_iter()
        .for_each(|mut part| found.append(&mut part));
    found
}

/// In a namespace with children, a wildcard first segment names namespaces, not mounts: its
/// `wildcard-mount` finding goes, and the admin rules judge the rule as the children see it,
/// their findings saying where ([`super::namespaces`]).
fn namespace_wildcards(
    policy: &Policy,
    target: Target,
    settings: &LintSettings<'_>,
    namespace: &str,
    found: &mut Vec<Diagnostic>,
) {
    let Some((view, reaches)) = super::namespaces::child_view(policy) else {
        return;
    };
    // A finding belongs to the rule whose block holds its span.
    let reach_at = |start: usize| {
        reaches
            .iter()
            .find(|(block, _)| block.start <= start && start < block.end)
            .map(|(_, reach)| reach)
    };
    // Judged on the child view instead: a namespace is no mount, and sudo may matter there.
    let replaced = |rule: &str| rule == "wildcard-mount" || rule == "sudo-unneeded";
    found.retain(|d| !replaced(&d.rule) || reach_at(d.span.start).is_none());
    let admin = run_rules(&view, target, settings, |id| {
        super::namespaces::ADMIN_RULES.contains(&id)
    });
    for mut diagnostic in admin {
        if let Some(reach) = reach_at(diagnostic.span.start) {
            diagnostic.message = format!("{} ({})", diagnostic.message, reach.words(namespace));
        }
        found.push(diagnostic);
    }
}

/// Drops diagnostics of rules turned off and applies severity overrides; `invalid-`
/// diagnostics pass unchanged.
pub fn apply_levels(diagnostics: Vec<Diagnostic>, settings: &LintSettings<'_>) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter_map(|mut diagnostic| {
            if diagnostic.is_invalid() {
                return Some(diagnostic);
            }
            match settings.rule_level(&diagnostic.rule) {
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
/// target accepts it) the lints, with the settings and suppressions applied, sorted by
/// position.
pub fn check_file(
    file: &SourceFile,
    parse_diagnostics: &[Diagnostic],
    policy: Option<&Policy>,
    target: Target,
    settings: &LintSettings<'_>,
) -> Vec<Diagnostic> {
    let mut diagnostics = apply_levels(parse_diagnostics.to_vec(), settings);
    if let Some(policy) = policy {
        let linted = lint_policy(policy, target, settings);
        // Most files have no parse diagnostics: take the lints' list rather than copying it.
        match diagnostics.is_empty() {
            true => diagnostics = linted,
            false => diagnostics.extend(linted),
        }
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
    let mut diagnostics = suppress::apply(file, blocks.as_deref(), diagnostics, settings);
    sort_diagnostics(&mut diagnostics);
    // Kept until the report is written: no room left from the list's growth.
    diagnostics.shrink_to_fit();
    diagnostics
}

/// Sorts by position, then rule id (stable for equal keys).
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.span.end, &a.rule).cmp(&(b.span.start, b.span.end, &b.rule))
    });
}

/// Merges per-file results that name the same file (e.g. lints and agent checks) and sorts
/// files by name and diagnostics by position. Cost: O(n log n).
pub fn merge_by_file(results: Vec<FileDiagnostics>) -> Vec<FileDiagnostics> {
    let mut merged: BTreeMap<String, FileDiagnostics> = BTreeMap::new();
    for result in results {
        match merged.entry(result.file.name.clone()) {
            Entry::Occupied(mut existing) => {
                existing.get_mut().diagnostics.extend(result.diagnostics)
            }
            Entry::Vacant(slot) => {
                slot.insert(result);
            }
        }
    }
    merged
        .into_values()
        .map(|mut entry| {
            sort_diagnostics(&mut entry.diagnostics);
            entry
        })
        .collect()
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::acl::Identity;
    use crate::lint::context::tests::policy;

    /// The rules run on all cores give the very findings of one after the other, in the same
    /// order, on a policy that trips many rules (some sharing the index's lazy parts).
    #[test]
    fn rules_on_all_cores_match_one_after_the_other() {
        let blocks = [
            ("secret/data/team{i}/app", "\"read\", \"list\""),
            ("secret/metadata/team{i}/*", "\"list\""),
            ("auth/approle/role/team{i}/+/secret-id", "\"update\""),
            ("sys/mounts/m{i}", "\"create\", \"update\""),
            ("secret/data/team{i}/*", "\"deny\", \"read\""),
            ("transit/export/encryption-key/k{i}", "\"read\""),
            ("kv/t{i}*", "\"create\""),
            ("sys/raw/x{i}", "\"read\""),
            ("secret/data/team{i}/app", "\"update\""),
            ("+/t{i}/*", "\"sudo\""),
            ("identity/entity/id/{i}", "\"update\""),
        ];
        let mut text = String::new();
        for i in 0..400 {
            let (pattern, capabilities) = blocks[i % blocks.len()];
            let pattern = pattern.replace("{i}", &(i / 3).to_string());
            text.push_str(&format!(
                "path \"{pattern}\" {{\n  capabilities = [{capabilities}]\n}}\n"
            ));
        }
        let policy = policy(&text);
        let parts = SettingsParts::default();
        let settings = parts.settings();
        for target in [Target::Vault, Target::OpenBao] {
            let one_by_one = run_rules_with(&policy, target, &settings, |_| true, usize::MAX);
            let all_cores = run_rules_with(&policy, target, &settings, |_| true, 0);
            let rules: std::collections::BTreeSet<&str> =
                one_by_one.iter().map(|d| d.rule.as_ref()).collect();
            assert!(rules.len() >= 8, "{rules:?}");
            assert_eq!(all_cores, one_by_one);
        }
    }

    #[test]
    fn templated_rules_are_visible_to_rules() {
        let policy = policy(
            "path \"secret/data/{{identity.entity.name}}/*\" {\n  capabilities = [\"read\"]\n}\n\
             path \"secret/data/shared\" {\n  capabilities = [\"read\"]\n}\n",
        );
        let index = PolicyIndex::new(&policy, Target::Vault).unwrap();
        let mounts = crate::mounts::Mounts::default();
        let ctx = index.context(&mounts);
        let templated: Vec<&str> = ctx
            .templated_rules()
            .map(|rule| rule.raw_pattern.as_str())
            .collect();
        assert_eq!(templated, ["secret/data/{{identity.entity.name}}/*"]);
        assert_eq!(ctx.acl.capabilities("secret/data/alice/x").0, ["deny"]);
        let identity = Identity {
            entity_id: "id-1".into(),
            entity_name: "alice".into(),
            ..Identity::default()
        };
        let resolved = ctx.acl_with_identity(&identity).unwrap();
        assert_eq!(resolved.capabilities("secret/data/alice/x").0, ["read"]);
    }

    /// What [`LintSettings`] borrows, owned by a test (the defaults unless it changes them).
    #[derive(Default)]
    struct SettingsParts {
        rules: BTreeMap<String, RuleLevel>,
        mounts: crate::mounts::Mounts,
        namespaces: crate::namespace::Namespaces,
        accessors: std::collections::BTreeSet<String>,
    }

    impl SettingsParts {
        fn settings(&self) -> LintSettings<'_> {
            LintSettings {
                rules: &self.rules,
                mounts: &self.mounts,
                namespaces: &self.namespaces,
                accessors: &self.accessors,
            }
        }
    }

    #[test]
    fn levels_drop_turned_off_rules_and_keep_refusals() {
        let mut parts = SettingsParts::default();
        let rules = &mut parts.rules;
        rules.insert("literal-star".into(), RuleLevel::Off);
        rules.insert(
            "leading-slash".into(),
            RuleLevel::Severity(crate::diag::Severity::Error),
        );
        let span = crate::span::Span::new(0, 1);
        let diagnostics = vec![
            Diagnostic::new("literal-star", crate::diag::Severity::Warning, span, "a"),
            Diagnostic::new("leading-slash", crate::diag::Severity::Info, span, "b"),
            Diagnostic::error("invalid-key", span, "c"),
        ];
        let kept = apply_levels(diagnostics, &parts.settings());
        let summary: Vec<(&str, crate::diag::Severity)> =
            kept.iter().map(|d| (&*d.rule, d.severity)).collect();
        assert_eq!(
            summary,
            [
                ("leading-slash", crate::diag::Severity::Error),
                ("invalid-key", crate::diag::Severity::Error)
            ]
        );
    }
}
