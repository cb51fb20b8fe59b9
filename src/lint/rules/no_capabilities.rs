//! ## What it does
//! Flags a block that grants no capability at all: an empty `capabilities = []`, or no
//! `capabilities` and no `policy`.
//!
//! ## Why is this bad?
//! An empty rule is not ignored. It still matches its paths and wins over every less
//! specific rule (of this policy and of every other policy the token holds), so holders get
//! `deny` there: it silently hides broader grants. If blocking is the intent, an explicit
//! `deny` says so; otherwise the capabilities were forgotten.
//!
//! ## Example
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/data/app/*" {
//!   capabilities = []
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/data/app/*" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.4 (an empty list yields bitmap 0) and section 3.8

use crate::diag::{Diagnostic, Severity};
use crate::lint::matching::{instances, pattern_matches};
use crate::lint::wording::{diagnostic, ticked_caps};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{PathPattern, Rule as PolicyRule};

pub struct NoCapabilities;

impl Rule for NoCapabilities {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "no-capabilities",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a block with no capabilities still wins its paths and hides broader grants",
            source: include_str!("no_capabilities.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            if rule.expired || !rule.capabilities.is_empty() {
                continue;
            }
            // Another block with the same pattern merges in and may grant something.
            if let Some(pattern) = &rule.pattern {
                if !ctx.merged_capabilities(pattern).is_empty() {
                    continue;
                }
            }
            let span = rule.capabilities_span.unwrap_or(rule.pattern_span);
            let message = match rule
                .pattern
                .as_ref()
                .and_then(|p| hidden_grant(ctx, rule, p))
            {
                Some(hidden) => format!(
                    "`{}` grants nothing, yet it wins its paths: it hides {}",
                    rule.raw_pattern, hidden
                ),
                None => format!(
                    "`{}` grants nothing, yet it wins its paths over broader rules of every \
                     policy the token holds: holders get `deny` there",
                    rule.raw_pattern
                ),
            };
            out.push(
                diagnostic(&meta, span, message)
                    .with_label("no capabilities")
                    .with_help(
                        "add the capabilities this path needs, or write `capabilities = \
                         [\"deny\"]` if blocking it is the intent",
                    ),
            );
        }
    }
}

/// A broader grant of this policy that the empty rule shadows on one of its own paths:
/// "`read`, `list` granted by `secret/*` (line 3) on `secret/app/anything`".
fn hidden_grant(
    ctx: &PolicyContext<'_>,
    empty: &PolicyRule,
    pattern: &PathPattern,
) -> Option<String> {
    for witness in instances(pattern, "") {
        for (other, other_pattern) in ctx.live_rules() {
            let grants = other.capabilities;
            if std::ptr::eq(other, empty) || grants.is_empty() || grants.is_deny() {
                continue;
            }
            if other_pattern.normalized == pattern.normalized
                || !pattern_matches(other_pattern, &witness)
            {
                continue;
            }
            let line = ctx.policy.source.line(other.pattern_span.start);
            return Some(format!(
                "{} granted by `{}` (line {line}) on `{witness}`",
                ticked_caps(grants),
                other.raw_pattern
            ));
        }
    }
    None
}
