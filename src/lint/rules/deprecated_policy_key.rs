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
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::Capability;

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
            let Some(old) = &rule.old_policy else {
                continue;
            };
            let Some(mapped) = mapping(&old.value) else {
                continue;
            };
            let mut list: Vec<&str> = rule
                .capability_list
                .iter()
                .map(|c| c.value.name())
                .collect();
            if old.value == "deny" {
                list = vec!["deny"];
            } else {
                for name in mapped {
                    if !list.contains(name) {
                        list.push(name);
                    }
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
            let help = if caveat.is_empty() {
                format!("write `{replacement}`")
            } else {
                format!(
                    "write `{replacement}`, adding `\"{}\"` if holders should patch",
                    Capability::Patch
                )
            };
            out.push(
                diagnostic(&meta, old.span, message)
                    .with_label("deprecated")
                    .with_help(help),
            );
        }
    }
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
