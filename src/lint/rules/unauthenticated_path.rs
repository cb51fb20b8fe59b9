//! ## What it does
//! Flags a rule whose every endpoint needs no token: `sys/health`, `sys/seal-status`,
//! `sys/unseal`, `sys/generate-root/*`, `sys/rekey/*`, `sys/init`, `sys/wrapping/lookup`,
//! `auth/<method>/login`, a PKI mount's `ca`, `crl` and ACME paths, ... A `deny` there is an
//! error; a grant a warning.
//!
//! ## Why is this bad?
//! These endpoints are served before any token is looked up, so no policy is ever consulted
//! for them. A `deny` on `sys/generate-root/*` that its author believes blocks root
//! generation protects nothing: anyone who can reach the server can call it (it is guarded
//! by the unseal keys, not by policies). A grant there is dead text that misleads reviewers.
//!
//! ## Example
//! ```hcl
//! path "sys/generate-root/*" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # Root generation needs a quorum of unseal keys; guard the keys, and audit
//! # `sys/generate-root` attempts. Policies cannot stop it.
//! path "sys/mounts/*" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! A grant the target's built-in `default` policy itself holds (`sys/wrapping/lookup`) is not
//! flagged: it is the product's own text, found in every copied or pulled `default` policy,
//! and removing it changes nothing either way.
//!
//! ## References
//! - the `x-vault-unauthenticated` endpoints of the OpenAPI documents (`src/endpoints/`)

use super::endpoint_reach::{block_reach, mount_map};
use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic_at;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct UnauthenticatedPath;

impl Rule for UnauthenticatedPath {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "unauthenticated-path",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a rule on endpoints that need no token: no policy applies, a `deny` protects nothing",
            source: include_str!("unauthenticated_path.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            if rule.capabilities.is_empty() {
                continue;
            }
            let Some(reach) = block_reach(ctx, &map, pattern) else {
                continue;
            };
            let endpoints: Vec<_> = reach.endpoints.iter().map(|(e, _)| *e).collect();
            if endpoints.is_empty() || !endpoints.iter().all(|e| e.unauthenticated) {
                continue;
            }
            if !rule.capabilities.is_deny() && is_builtin_default_rule(ctx, &pattern.normalized) {
                continue;
            }
            let named = reach.named(&endpoints);
            let (severity, message, label) = if rule.capabilities.is_deny() {
                (
                    Severity::Error,
                    format!(
                        "`{}` is on endpoints that need no token ({named}): this `deny` \
                         protects nothing, anyone can call them",
                        pattern.normalized
                    ),
                    "no token, no policy",
                )
            } else {
                (
                    meta.severity,
                    format!(
                        "`{}` is on endpoints that need no token ({named}): no policy is \
                         consulted there, so this rule has no effect",
                        pattern.normalized
                    ),
                    "no token, no policy",
                )
            };
            out.push(
                diagnostic_at(&meta, severity, rule.pattern_span, message)
                    .with_label(label)
                    .with_help(
                        "remove the rule; these endpoints are guarded by what they ask for \
                         (unseal keys, login credentials), not by policies",
                    ),
            );
        }
    }
}

/// Whether the target's built-in `default` policy holds a rule on exactly this pattern.
/// Cost: O(rules of the built-in policy), a constant.
fn is_builtin_default_rule(ctx: &PolicyContext<'_>, pattern: &str) -> bool {
    crate::acl::builtin::default_policy_rules(ctx.target)
        .iter()
        .any(|(label, _)| *label == pattern)
}
