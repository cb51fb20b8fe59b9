//! ## What it does
//! Flags an OpenBao path block whose `expiration` is already in the past.
//!
//! ## Why is this bad?
//! OpenBao drops an expired rule when it parses the policy, silently: the block stays in
//! the file but grants nothing, and an expired `deny` no longer protects anything, so a
//! broader grant of the policy applies again on its paths. Expired blocks are dead text that
//! reviewers still read as policy.
//!
//! ## Example
//! ```hcl
//! path "secret/data/migration/*" {
//!   capabilities = ["read"]
//!   expiration   = "2001-01-01T00:00:00Z"
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # Remove the expired block, or extend its expiration if the access is still needed.
//! path "secret/data/migration/*" {
//!   capabilities = ["read"]
//!   expiration   = "2099-01-01T00:00:00Z"
//! }
//! ```
//!
//! ## References
//! - spec section 1.3 (`expiration`, OpenBao only) and section 1.5, step 3

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct ExpiredRule;

impl Rule for ExpiredRule {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "expired-rule",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "an OpenBao rule whose `expiration` has passed is silently dropped",
            source: include_str!("expired_rule.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in ctx.policy.rules.iter().filter(|rule| rule.expired) {
            let Some(expiration) = &rule.extra().expiration else {
                continue;
            };
            let effect = if rule.capabilities.is_deny() {
                "this `deny` no longer protects anything"
            } else {
                "the block grants nothing"
            };
            let message = format!(
                "`{}` expired at `{}`: OpenBao drops the rule, so {effect}",
                rule.raw_pattern, expiration.value
            );
            out.push(
                diagnostic(&meta, expiration.span, message)
                    .with_label("in the past")
                    .with_help("remove the block, or move its expiration into the future"),
            );
        }
    }
}
