//! ## What it does
//! Flags the old-style `policy = "read"` / `"write"` / `"sudo"` / `"deny"` key in a path block.
//!
//! ## Why is this bad?
//! The key still works but is undocumented shorthand for a fixed capability list, and the
//! list is not what most readers expect: `write` means `create`, `read`, `update`, `delete`
//! and `list`, **without `patch`**, so `kv patch` is denied and falls back to read-then-write;
//! `read` silently adds `list`. Combined with `capabilities`, both lists are added together.
//!
//! ## Example
//! ```hcl
//! path "secret/data/app/*" {
//!   policy = "write"
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["create", "read", "update", "delete", "list"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.3 (old-style `policy` values)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, ticked};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, Rule as PolicyRule};

pub struct DeprecatedPolicyKey;

impl Rule for DeprecatedPolicyKey {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "deprecated-policy-key",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "old-style `policy = \"write\"` instead of a `capabilities` list",
            source: include_str!("deprecated_policy_key.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            let Some(old) = &rule.extra().old_policy else {
                continue;
            };
            let Some(mapped) = mapping(&old.value) else {
                continue;
            };
            // The equivalent of the old value alone, each capability once: the block's own
            // `capabilities` list stays as written beside it.
            let mut list: Vec<&str> = Vec::new();
            for name in mapped {
                if !list.contains(name) {
                    list.push(name);
                }
            }
            let quoted: Vec<String> = list.iter().map(|name| format!("\"{name}\"")).collect();
            let replacement = format!("capabilities = [{}]", quoted.join(", "));
            let caveat = if matches!(old.value.as_str(), "write" | "sudo") {
                ", which does not include `patch`"
            } else {
                ""
            };
            let message = format!(
                "`policy = \"{}\"` is the deprecated form of `{replacement}`{caveat}",
                old.value
            );
            let patch = if caveat.is_empty() {
                String::new()
            } else {
                format!(
                    ", adding `\"{}\"` if holders should patch",
                    Capability::Patch
                )
            };
            let help = match own_list_missing(ctx, rule, &list) {
                // No `capabilities` of its own: the list replaces the key.
                None => format!("write `{replacement}`{patch}"),
                Some(missing) if old.value == "deny" || missing.is_empty() => {
                    format!("remove `policy = \"{}\"`{patch}", old.value)
                }
                Some(missing) => format!(
                    "remove `policy = \"{}\"` and add {} to the block's `capabilities`{patch}",
                    old.value,
                    ticked(missing)
                ),
            };
            out.push(
                diagnostic(&meta, old.span, message)
                    .with_label("deprecated")
                    .with_help(help),
            );
        }
    }
}

/// For a block that also has a `capabilities` list: the capabilities of `mapped` it lacks.
/// `None` when the block has no list of its own.
fn own_list_missing<'a>(
    ctx: &PolicyContext<'_>,
    rule: &PolicyRule,
    mapped: &[&'a str],
) -> Option<Vec<&'a str>> {
    let span = rule.capabilities_span?;
    // As written: the model's list also holds what the old key added.
    let text = ctx.policy.source.slice(span);
    let own: Vec<&str> = match text.find('[') {
        Some(open) => text[open..].split('"').skip(1).step_by(2).collect(),
        None => Vec::new(),
    };
    Some(
        mapped
            .iter()
            .copied()
            .filter(|name| !own.contains(name))
            .collect(),
    )
}

/// The capabilities an old-style value appends (spec 1.3).
fn mapping(value: &str) -> Option<&'static [&'static str]> {
    Some(match value {
        "deny" => &["deny"],
        "read" => &["read", "list"],
        "write" => &["create", "read", "update", "delete", "list"],
        "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
        _ => return None,
    })
}
