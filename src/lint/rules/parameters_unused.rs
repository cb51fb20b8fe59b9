//! ## What it does
//! Flags parameter constraints (`allowed_parameters`, `denied_parameters`,
//! `required_parameters`) on a rule that grants none of `read`, `create`, `update` or
//! `patch` (Vault also `recover`).
//!
//! ## Why is this bad?
//! Vault checks parameters only for those operations. On a rule granting only `list` or
//! `delete`, the constraints are dead text that a reviewer may trust: `delete` stays allowed
//! whatever the request carries.
//!
//! ## Example
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["delete", "list"]
//!   allowed_parameters = {
//!     "versions" = ["1"]
//!   }
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["delete", "list"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.6, step 6, and section 3.7

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, ticked_caps};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, Rule as PolicyRule};
use crate::span::Span;
use crate::target::Target;

pub struct ParametersUnused;

impl Rule for ParametersUnused {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "parameters-unused",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary:
                "parameter constraints on a rule without `read`, `create`, `update` or `patch`",
            source: include_str!("parameters_unused.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let checked = checked_capabilities(ctx.target);
        for (rule, pattern) in ctx.live_rules() {
            let Some((kind, span)) = first_constraint(rule) else {
                continue;
            };
            let merged = ctx.merged_capabilities(pattern);
            if merged.is_deny() || merged.iter().any(|c| checked.contains(&c)) {
                continue;
            }
            let granted = if merged.is_empty() {
                "nothing".to_string()
            } else {
                ticked_caps(merged)
            };
            let message = format!(
                "`{kind}` on `{}` has no effect: parameters are checked only for `read`, \
                 `create`, `update` and `patch`, and this rule grants {granted}",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, span, message)
                    .with_label("never checked")
                    .with_help(
                        "remove the constraints, or grant the operation they were meant to \
                         restrict",
                    ),
            );
        }
    }
}

fn checked_capabilities(target: Target) -> Vec<Capability> {
    let mut caps = vec![
        Capability::Read,
        Capability::Create,
        Capability::Update,
        Capability::Patch,
    ];
    if target == Target::Vault {
        caps.push(Capability::Recover);
    }
    caps
}

/// The first non-empty constraint of a block: its key name and the span of its first entry.
fn first_constraint(rule: &PolicyRule) -> Option<(&'static str, Span)> {
    let first = |map: &Option<crate::policy::ParamMap>| {
        map.as_ref()
            .and_then(|m| m.values().map(|entry| entry.span).min())
    };
    if let Some(span) = first(&rule.extra().allowed_parameters) {
        return Some(("allowed_parameters", span));
    }
    if let Some(span) = first(&rule.extra().denied_parameters) {
        return Some(("denied_parameters", span));
    }
    rule.extra()
        .required_parameters
        .first()
        .map(|name| ("required_parameters", name.span))
}
