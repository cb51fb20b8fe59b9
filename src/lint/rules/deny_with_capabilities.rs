//! ## What it does
//! Flags a block that lists `deny` together with other capabilities (or combines `deny` with
//! an old-style `policy = ...`).
//!
//! ## Why is this bad?
//! When Vault reaches `deny` in a block, the block becomes deny-only and everything else in
//! it is discarded (later capabilities are not even validated). The other capabilities look
//! granted to a reader but never are: either the author meant to grant them, or the list is
//! misleading.
//!
//! ## Example
//! ```hcl
//! path "secret/data/admin/*" {
//!   capabilities = ["read", "deny"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/admin/*" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.4 (`deny` inside one block)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{capability_span, diagnostic, ticked};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, Rule as PolicyRule};

pub struct DenyWithCapabilities;

impl Rule for DenyWithCapabilities {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "deny-with-capabilities",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "`deny` listed with other capabilities discards them",
            source: include_str!("deny_with_capabilities.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            if !rule.capabilities.is_deny() {
                continue;
            }
            let dropped = dropped_capabilities(ctx, rule);
            if dropped.is_empty() {
                continue;
            }
            let verb = if dropped.len() == 1 { "is" } else { "are" };
            let message = format!(
                "`deny` makes `{}` deny-only: {} {verb} never granted",
                rule.raw_pattern,
                ticked(&dropped)
            );
            out.push(
                diagnostic(&meta, capability_span(rule, Capability::Deny), message)
                    .with_label("discards the rest of the block")
                    .with_help(format!(
                        "keep only `deny`, or grant {} in a separate block for the paths that \
                         should have them",
                        ticked(&dropped)
                    )),
            );
        }
    }
}

/// What the author wrote besides `deny`: every quoted name of the `capabilities` list as
/// written (the model stops recording at `deny`, and `policy = "deny"` replaces the list),
/// and the old-style value.
fn dropped_capabilities(ctx: &PolicyContext<'_>, rule: &PolicyRule) -> Vec<String> {
    let mut dropped: Vec<String> = match rule.capabilities_span {
        Some(span) => written_names(ctx.policy.source.slice(span)),
        None => Vec::new(),
    };
    dropped.retain(|name| name != "deny");
    if let Some(old) = &rule.extra().old_policy {
        if old.value != "deny" {
            dropped.push(format!("policy = \"{}\"", old.value));
        }
    }
    let mut unique = Vec::new();
    for name in dropped {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

/// The quoted strings inside the `[...]` of a `capabilities = [...]` text.
fn written_names(text: &str) -> Vec<String> {
    let Some(open) = text.find('[') else {
        return Vec::new();
    };
    text[open..]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}
