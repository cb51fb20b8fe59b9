//! ## What it does
//! Flags a `deny` in one policy of a role that a more specific grant in another of the role's
//! policies overrides, with a path that proves it (the witness). Runs on roles of the
//! inventory in `capable.yaml`.
//!
//! ## Why is this bad?
//! A deny blocks only the paths where its rule is the most specific match (spec 3.3, 3.4):
//! deny does not propagate to other patterns. A policy author who writes `secret/*` deny to
//! fence off a mount is overruled as soon as the same token also holds a policy with a longer
//! pattern such as `secret/data/ai/*`. Each policy looks safe alone; the role is not.
//!
//! ## Example
//! ```hcl
//! # inference.hcl
//! path "secret/*" { capabilities = ["deny"] }
//! # shared-reader.hcl, attached to the same role
//! path "secret/data/ai/*" { capabilities = ["read"] }
//! ```
//!
//! ## Use instead
//! Deny the exact paths that must stay closed with a pattern at least as specific as any
//! grant (`secret/data/ai/anthropic`), or remove the broader grant from the role.
//!
//! ## References
//! - spec section 2 (deny merges only on the same pattern), 3.4 (priority)

use std::collections::BTreeSet;

use crate::acl::Acl;
use crate::diag::{Diagnostic, Severity};
use crate::lint::matching::{instances, literal_head, pattern_matches, HeadIndex};
use crate::lint::wording::{ticked, ticked_caps};
use crate::lint::{Category, PolicyContext, RoleContext, RoleFinding as Finding, Rule, RuleMeta};

pub struct OverriddenDeny;

impl Rule for OverriddenDeny {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "overridden-deny",
            severity: Severity::Warning,
            category: Category::Security,
            summary:
                "a role's deny is overridden by a more specific grant in another of its policies",
            source: include_str!("overridden_deny.rs"),
        }
    }

    /// Role-level only: see [`check_role`].
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let _ = (ctx, out);
    }
}

/// For each deny rule D of each policy A of the role and each non-deny merged rule G that
/// another policy contributed: a concrete path of G that D matches, where A alone denies
/// and the role's ACL is decided by G. Only the grants whose literal head is a prefix or an
/// extension of D's are tried (the others share no path with D), found in a [`HeadIndex`]:
/// O(G log G) to build, then O(h log G + k) per deny for k candidates, instead of every
/// (deny, grant) pair.
pub fn check_role(ctx: &RoleContext<'_>, out: &mut Vec<Finding>) {
    let meta = OverriddenDeny.meta();
    let grants: Vec<_> = ctx
        .acl
        .rules()
        .into_iter()
        .filter(|rule| !rule.capabilities.is_deny() && !rule.capabilities.is_empty())
        .collect();
    let heads = HeadIndex::new(grants.iter().map(|grant| literal_head(&grant.pattern)));
    for policy in ctx.file_policies() {
        let Ok(alone) = Acl::new(&[policy], ctx.target, ctx.identity) else {
            continue;
        };
        for deny in policy
            .rules
            .iter()
            .filter(|r| r.capabilities.is_deny() && !r.expired)
        {
            let Some(deny_pattern) = &deny.pattern else {
                continue;
            };
            let mut reported = BTreeSet::new();
            for grant in heads
                .related(literal_head(deny_pattern))
                .into_iter()
                .map(|index| grants[index])
            {
                let others: Vec<&str> = grant
                    .sources
                    .iter()
                    .map(|s| &*s.policy)
                    .filter(|name| *name != policy.name)
                    .collect();
                if others.is_empty() || !reported.insert(grant.pattern.normalized.clone()) {
                    continue;
                }
                let witness =
                    instances(&grant.pattern, &deny_pattern.normalized)
                        .into_iter()
                        .find(|path| {
                            pattern_matches(deny_pattern, path)
                                && decided_by_deny(&alone, path, &deny_pattern.normalized)
                                && ctx.acl.capabilities(path).1.winner.is_some_and(|w| {
                                    w.pattern.normalized == grant.pattern.normalized
                                })
                        });
                let Some(witness) = witness else {
                    continue;
                };
                let others: BTreeSet<&str> = others.into_iter().collect();
                let message = format!(
                    "deny on `{}` does not hold for {{subjects}}: `{}` in {} is more specific and grants {} on `{witness}`",
                    deny_pattern.normalized,
                    grant.pattern.normalized,
                    ticked(others),
                    ticked_caps(grant.capabilities),
                );
                out.push((
                    policy.source.clone(),
                    Diagnostic::new(meta.id, meta.severity, deny.pattern_span, message)
                        .with_label("overridden for this role")
                        .with_help(format!(
                            "deny `{witness}` with a pattern at least as specific as `{}`, or drop that grant from the role",
                            grant.pattern.normalized
                        )),
                ));
            }
        }
    }
}

/// Whether the policy alone decides `path` with its deny rule `pattern`.
fn decided_by_deny(alone: &Acl, path: &str, pattern: &str) -> bool {
    let (names, explanation) = alone.capabilities(path);
    names == ["deny"]
        && explanation
            .winner
            .is_some_and(|w| w.capabilities.is_deny() && w.pattern.normalized == pattern)
}
