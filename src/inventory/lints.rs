//! Role-level lints: what only shows once a role's policies are merged into one ACL
//! (`overridden-deny`, `parameters-narrowed-by-merge`, `unresolved-template`, and the catalog's
//! security rules judged against the role's merged ACL). `check` calls [`check_inventory`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::{Inventory, InventoryError, Subject};
use crate::acl::{Acl, AclError, Identity};
use crate::config::{Mounts, RuleLevel};
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::lint::rules::{overridden_deny, parameters_narrowed_by_merge, unresolved_template};
use crate::lint::{codes, Category, PolicyContext, Rule};
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::target::Target;
use crate::workspace::Workspace;

/// What a role-level rule sees: one subject, its effective policies and merged ACL.
pub struct RoleContext<'a> {
    pub subject: &'a Subject,
    pub inventory: &'a Inventory,
    /// The effective policies in merge order (`default` included unless disabled).
    pub policies: &'a [Policy],
    /// The subject's merged ACL, templates resolved against `identity`.
    pub acl: &'a Acl,
    pub identity: Option<&'a Identity>,
    pub target: Target,
    pub mounts: &'a Mounts,
}

impl RoleContext<'_> {
    /// Policies that come from files (the built-in `default` has no file to point into).
    pub fn file_policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies
            .iter()
            .filter(|policy| !policy.source.name.starts_with('<'))
    }

    /// A policy of the subject by name.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|policy| policy.qualified_name() == name)
    }
}

/// A role-level finding: the file it points into and the diagnostic.
pub type Finding = (Arc<SourceFile>, Diagnostic);

/// Runs every role-level rule over every role (and, for `unresolved-template`, every entity)
/// of the workspace's inventory. Inventory errors (unknown policies, groups, entities) come
/// back as diagnostics in `capable.yaml`. Findings shared by several subjects are reported
/// once, naming them all. Cost: O(subjects × rules of their policies × merged rules).
pub fn check_inventory(workspace: &Workspace) -> Vec<FileDiagnostics> {
    if !workspace.config.has_inventory() {
        return Vec::new();
    }
    let inventory = match Inventory::new(&workspace.config, &workspace.policies) {
        Ok(inventory) => inventory,
        Err(diagnostics) => {
            let file = workspace
                .config
                .source
                .clone()
                .unwrap_or_else(|| Arc::new(SourceFile::new("capable.yaml", "")));
            return vec![FileDiagnostics { file, diagnostics }];
        }
    };
    let findings = lint_inventory(&inventory, workspace.target, &workspace.config.mounts);
    let findings = apply_levels(findings, |id| workspace.config.rule_level(id));
    group_by_file(findings)
}

/// The role-level findings of an inventory, merged across subjects.
pub fn lint_inventory(inventory: &Inventory, target: Target, mounts: &Mounts) -> Vec<Finding> {
    let mut per_subject: Vec<(Subject, Vec<Finding>)> = Vec::new();
    let mut alone_cache = AloneFindings::new();
    for subject in inventory.subjects() {
        let is_group = matches!(subject, Subject::Group(_));
        let Ok(policies) = inventory.policy_set(&subject, target) else {
            continue;
        };
        let Ok(identity) = inventory.identity_for(&subject) else {
            continue;
        };
        // OpenBao refuses a whole token whose template substitutes a forbidden value: its
        // template is still reported (from an ACL without the identity), its access is not.
        let (acl, token_refused) = match inventory.acl_for(&subject, target) {
            Ok(acl) => (acl, false),
            Err(InventoryError::Acl(AclError::TemplatedPolicy { .. })) => {
                let refs: Vec<&Policy> = policies.iter().collect();
                let Ok(acl) = Acl::new(&refs, target, None) else {
                    continue;
                };
                (acl, true)
            }
            Err(_) => continue,
        };
        let ctx = RoleContext {
            subject: &subject,
            inventory,
            policies: &policies,
            acl: &acl,
            identity: identity.as_ref(),
            target,
            mounts,
        };
        let mut found = Vec::new();
        // A group is not a token: its entity templates never resolve, by construction.
        if !is_group {
            unresolved_template::check_role(&ctx, &mut found);
        }
        if matches!(subject, Subject::Role(_)) && !token_refused {
            overridden_deny::check_role(&ctx, &mut found);
            parameters_narrowed_by_merge::check_role(&ctx, &mut found);
            security_rules_on_merged_acl(&ctx, &mut alone_cache, &mut found);
        }
        per_subject.push((subject.clone(), found));
    }
    merge_subjects(per_subject)
}

/// The catalog's security rules, run for each of the role's policies with the role's merged
/// ACL (templates resolved for the role's identity). A finding is kept only when no policy of
/// the role produces the same one alone (without identity): those are already reported per
/// policy, and a merged rule would otherwise blame every policy that shares its pattern.
/// What remains is what the role adds, e.g. a template that resolves to a broad pattern.
fn security_rules_on_merged_acl(
    ctx: &RoleContext<'_>,
    alone_cache: &mut AloneFindings,
    out: &mut Vec<Finding>,
) {
    let security = security_rules();
    let mut alone_findings: BTreeSet<(String, String)> = BTreeSet::new();
    let mut merged_findings: Vec<(Arc<SourceFile>, Diagnostic)> = Vec::new();
    for policy in ctx.file_policies() {
        let own = alone_cache
            .entry(policy.name.clone())
            .or_insert_with(|| findings_alone(policy, ctx.target, ctx.mounts));
        alone_findings.extend(own.iter().cloned());
        let merged_ctx = PolicyContext {
            policy,
            acl: ctx.acl,
            target: ctx.target,
            mounts: ctx.mounts,
        };
        for rule in &security {
            let mut merged = Vec::new();
            rule.check_policy(&merged_ctx, &mut merged);
            merged_findings.extend(merged.into_iter().map(|d| (policy.source.clone(), d)));
        }
    }
    for (file, mut diagnostic) in merged_findings {
        if alone_findings.contains(&(diagnostic.rule.clone(), diagnostic.message.clone())) {
            continue;
        }
        diagnostic.message = format!(
            "{} (for {{subjects}}, with its identity and other policies)",
            diagnostic.message
        );
        out.push((file, diagnostic));
    }
}

/// The security findings (rule id, message) of each policy alone, by policy name: the same
/// for every role holding the policy, so computed once per policy, not once per role.
type AloneFindings = HashMap<String, BTreeSet<(String, String)>>;

fn security_rules() -> Vec<&'static dyn Rule> {
    codes::RULES
        .iter()
        .copied()
        .filter(|rule| rule.meta().category == Category::Security)
        .collect()
}

fn findings_alone(policy: &Policy, target: Target, mounts: &Mounts) -> BTreeSet<(String, String)> {
    let Ok(alone) = Acl::new(&[policy], target, None) else {
        return BTreeSet::new();
    };
    let ctx = PolicyContext {
        policy,
        acl: &alone,
        target,
        mounts,
    };
    let mut found = Vec::new();
    for rule in security_rules() {
        rule.check_policy(&ctx, &mut found);
    }
    found.into_iter().map(|d| (d.rule, d.message)).collect()
}

/// One finding per (file, rule, span, message); the subjects are named in the message.
fn merge_subjects(per_subject: Vec<(Subject, Vec<Finding>)>) -> Vec<Finding> {
    type Key = (String, String, usize, usize, String);
    let mut order: Vec<Key> = Vec::new();
    let mut merged: BTreeMap<Key, (Finding, BTreeSet<String>)> = BTreeMap::new();
    for (subject, findings) in per_subject {
        for (file, diagnostic) in findings {
            let key = (
                file.name.clone(),
                diagnostic.rule.clone(),
                diagnostic.span.start,
                diagnostic.span.end,
                diagnostic.message.clone(),
            );
            let entry = merged.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                ((file, diagnostic), BTreeSet::new())
            });
            entry.1.insert(subject.to_string());
        }
    }
    order
        .into_iter()
        .filter_map(|key| merged.remove(&key))
        .map(|((file, mut diagnostic), subjects)| {
            let subjects: Vec<String> = subjects.into_iter().collect();
            diagnostic.message = diagnostic
                .message
                .replace("{subjects}", &subjects.join(", "));
            (file, diagnostic)
        })
        .collect()
}

fn apply_levels(
    findings: Vec<Finding>,
    level_of: impl Fn(&str) -> Option<RuleLevel>,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|(file, mut diagnostic)| match level_of(&diagnostic.rule) {
            Some(RuleLevel::Off) => None,
            Some(RuleLevel::Severity(severity)) => {
                diagnostic.severity = severity;
                Some((file, diagnostic))
            }
            None => Some((file, diagnostic)),
        })
        .collect()
}

fn group_by_file(findings: Vec<Finding>) -> Vec<FileDiagnostics> {
    let mut files: Vec<FileDiagnostics> = Vec::new();
    for (file, diagnostic) in findings {
        match files.iter_mut().find(|f| f.file.name == file.name) {
            Some(entry) => entry.diagnostics.push(diagnostic),
            None => files.push(FileDiagnostics {
                file,
                diagnostics: vec![diagnostic],
            }),
        }
    }
    for file in &mut files {
        file.diagnostics.sort_by_key(|d| d.span.start);
    }
    files
}
