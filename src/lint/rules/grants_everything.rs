//! ## What it does
//! Flags a non-deny grant on a pattern without a single literal character, one that matches
//! every path (`*`) or every path of a shape on every mount (`+/*`, `+`, `+/+`, ...).
//!
//! ## Why is this bad?
//! Such a rule reaches `sys/policies/acl/*`, `auth/token/create`, every secret of every mount,
//! and every mount enabled in the future. Even `read` on `*` reads every secret. Unless the
//! policy is a deliberate break-glass admin policy, it grants far more than intended; carve-outs
//! with `deny` are fragile, since any path they miss stays granted. The diagnostic names a
//! witness the policy's own ACL allows. The other security rules leave such blocks to this
//! one, so a catch-all grant is reported once.
//!
//! ## Example
//! ```hcl
//! path "*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/metadata/app/*" {
//!   capabilities = ["list"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.5 (`*` alone becomes the empty prefix) and section 3.4

use crate::acl::Operation;
use crate::diag::{Diagnostic, Severity};
use crate::lint::holder::{first_grant_through, with_single_trailing_slash};
use crate::lint::matching::{instances, is_all_wildcard, pattern_matches};
use crate::lint::wording::{diagnostic, ticked_caps};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{PathPattern, Rule as PolicyRule};

pub struct GrantsEverything;

/// Witness paths, most alarming first.
const PROBES: &[&str] = &[
    "sys/policies/acl/anything",
    "auth/token/create",
    "secret/data/anything",
    "anything",
    "anything/anything",
    "anything/anything/anything",
];

impl Rule for GrantsEverything {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "grants-everything",
            severity: Severity::Error,
            category: Category::Security,
            summary: "a grant on a pattern that matches every path, or every path of every mount",
            source: include_str!("grants_everything.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for (rule, pattern) in ctx.granting_rules() {
            if !is_all_wildcard(pattern) {
                continue;
            }
            let Some((operation, witness)) = witness(ctx, rule, pattern) else {
                continue;
            };
            let message = format!(
                "`{}` grants {} on {}: e.g. `{operation}` on `{witness}`",
                pattern.normalized,
                ticked_caps(rule.capabilities),
                coverage(pattern)
            );
            out.push(
                diagnostic(&meta, rule.pattern_span, message)
                    .with_label("matches everything")
                    .with_help(
                        "grant on the mounts and paths this policy is for; keep catch-all \
                         grants to a reviewed break-glass policy",
                    ),
            );
        }
    }
}

fn coverage(pattern: &PathPattern) -> &'static str {
    match pattern.normalized.as_str() {
        "*" => "every path",
        "+/*" => "every path of every mount",
        _ => "every path of this shape on every mount",
    }
}

/// The first (operation, path) the ACL allows through this very block. A listing path ends
/// with exactly one `/`.
fn witness(
    ctx: &PolicyContext<'_>,
    rule: &PolicyRule,
    pattern: &PathPattern,
) -> Option<(Operation, String)> {
    let derived = instances(pattern, PROBES[0]);
    let paths = PROBES
        .iter()
        .map(|p| p.to_string())
        .chain(derived)
        .filter(|path| pattern_matches(pattern, path));
    first_grant_through(ctx, rule, paths, with_single_trailing_slash)
}
