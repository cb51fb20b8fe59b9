//! ## What it does
//! Flags `sudo` granted on a wildcard pattern (a `+` segment or a trailing `*`) that reaches
//! at least one root-protected path.
//!
//! ## Why is this bad?
//! `sudo` unlocks root-protected endpoints (spec section 6): audit devices, auth methods, raw
//! storage, forced lease revocation, token accessors. On a wildcard it unlocks every one of
//! them under the pattern, including endpoints the author did not think of, and those added
//! by future versions. Grant `sudo` on the exact protected paths that are needed.
//!
//! ## Example
//! ```hcl
//! path "sys/*" {
//!   capabilities = ["read", "update", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/*" {
//!   capabilities = ["read", "update"]
//! }
//!
//! path "sys/leases/lookup/*" {
//!   capabilities = ["list", "sudo"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.6 (sudo comes from the winning rule) and section 6

use super::sudo_unneeded::{sudo_witness, PkiMounts};
use crate::acl::builtin::sudo_patterns;
use crate::acl::Operation::{self, Create, Delete, List, Read, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::holder::{authorize_as_holder, winning_block};
use crate::lint::matching::{is_wildcard, literal_prefix};
use crate::lint::wording::{capability_span, diagnostic};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, PathPattern, Rule as PolicyRule};

pub struct SudoWildcard;

const OPERATIONS: &[Operation] = &[Update, Read, Create, Delete, List];

impl Rule for SudoWildcard {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "sudo-wildcard",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "`sudo` on a wildcard pattern unlocks every root-protected path under it",
            source: include_str!("sudo_wildcard.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for (rule, pattern) in ctx.live_rules() {
            let caps = rule.capabilities;
            if caps.is_deny() || !caps.contains(Capability::Sudo) || !is_wildcard(pattern) {
                continue;
            }
            if inside_one_protected_area(ctx, pattern) {
                continue;
            }
            let Some(witness) = sudo_witness(ctx, pattern, PkiMounts::Likely) else {
                continue;
            };
            let Some(operation) = confirmed(ctx, rule, &witness) else {
                continue;
            };
            let message = format!(
                "`sudo` on `{}` unlocks every root-protected path it matches: e.g. \
                 `{operation}` on `{witness}`",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, capability_span(rule, Capability::Sudo), message)
                    .with_label("`sudo` on a wildcard")
                    .with_help(
                        "remove `sudo` here and grant it in separate blocks on the exact \
                         root-protected paths that are needed",
                    ),
            );
        }
    }
}

/// Whether every path the pattern matches lies in one protected prefix area (e.g.
/// `sys/leases/lookup/*`): sudo there is exactly what the area needs.
fn inside_one_protected_area(ctx: &PolicyContext<'_>, pattern: &PathPattern) -> bool {
    let literal = literal_prefix(pattern);
    sudo_patterns(ctx.target)
        .into_iter()
        .filter_map(|text| text.strip_suffix('*'))
        .any(|key| literal.starts_with(key))
}

/// An operation this block allows on the protected witness with sudo, per the ACL.
fn confirmed(ctx: &PolicyContext<'_>, rule: &PolicyRule, witness: &str) -> Option<Operation> {
    OPERATIONS.iter().copied().find(|operation| {
        let Some(capability) = operation.capability() else {
            return false;
        };
        if !rule.capabilities.contains(capability) {
            return false;
        }
        let path = if operation.is_listing() && !witness.ends_with('/') {
            format!("{witness}/")
        } else {
            witness.to_string()
        };
        let decision = authorize_as_holder(ctx, *operation, &path);
        decision.allowed
            && decision.root_privs
            && winning_block(ctx, decision.winner, Some(Capability::Sudo))
                == Some(rule.pattern_span)
    })
}
