//! ## What it does
//! Flags `denied_parameters` on a parameter that carries policy names (`policies`,
//! `token_policies`, `allowed_policies`, `allowed_policies_glob`, `identity_policies`) where the
//! target compares whole raw values: on OpenBao, a deny-list of policy names does not keep
//! those names out.
//!
//! ## Why is this bad?
//! OpenBao checks `denied_parameters` against the request value as sent: a string is
//! compared with each denied value (a glob), anything else by deep equality. The endpoint
//! then reads the value its own way: it accepts a JSON list or a comma-separated string, and
//! trims and lower-cases each policy name. So with `"policies" = ["super-admin"]` denied, the
//! string `"super-admin"` is refused, but the list `["super-admin"]`,
//! `["default", "super-admin"]`, `" super-admin"` and `"Super-Admin"` all pass and grant
//! `super-admin` (measured on OpenBao 2.7.2 with `auth/token/create` and `identity/group`).
//! An allow-list (`allowed_parameters`) is compared the same way, which makes it strict:
//! every form but the exact allowed string is refused.
//!
//! Vault's newest source compares these parameters as canonical policy names (case-folded,
//! trimmed) and checks each element of a list, so the deny-list holds there and the rule does
//! not fire for the `vault` target.
//!
//! ## Example
//! ```hcl
//! # target: openbao
//! path "auth/token/create" {
//!   capabilities = ["create", "update", "sudo"]
//!   denied_parameters = {
//!     "policies" = ["super-admin"]
//!   }
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # target: openbao
//! path "auth/token/create" {
//!   capabilities = ["create", "update", "sudo"]
//!   allowed_parameters = {
//!     "policies" = ["app-reader", "app-writer"]
//!     "*"        = []
//!   }
//! }
//! ```
//!
//! ## References
//! - spec section 3.7 (parameter checks; deny-lists on policy names are bypassable on OpenBao)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{CapSet, Capability, ParamMap, ParamValue, Rule as PolicyRule};
use crate::target::Target;

pub struct DeniedParameterBypass;

/// Request parameters whose values are policy names the endpoint grants or lets grant.
const POLICY_PARAMETERS: &[&str] = &[
    "policies",
    "token_policies",
    "allowed_policies",
    "allowed_policies_glob",
    "identity_policies",
];

impl Rule for DeniedParameterBypass {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "denied-parameter-bypass",
            severity: Severity::Error,
            category: Category::Security,
            summary: "a deny-list of policy names that a list or a case variant gets around",
            source: include_str!("denied_parameter_bypass.rs"),
        }
    }

    /// Cost: O(blocks × parameters).
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        if ctx.target != Target::OpenBao {
            return;
        }
        let meta = self.meta();
        for (rule, pattern) in ctx.live_rules() {
            if !writes(ctx.merged_capabilities(pattern)) {
                continue;
            }
            let Some(denied) = &rule.extra().denied_parameters else {
                continue;
            };
            if denied.contains_key("*") {
                continue;
            }
            for (name, entry) in denied {
                if !POLICY_PARAMETERS.contains(&name.as_str()) || allow_listed(rule, name) {
                    continue;
                }
                let Some(value) = entry.values.iter().find_map(|value| match &value.value {
                    ParamValue::Str(text) => Some(text.as_str()),
                    _ => None,
                }) else {
                    continue;
                };
                let message = format!(
                    "denying `{name}` = `{value}` on `{}` does not keep `{value}` out: OpenBao \
                     compares the whole raw value, so the list `[\"{value}\"]` and the variants \
                     `\"{}\"` and `\" {value}\"` pass, and the endpoint grants each name trimmed \
                     and lower-cased",
                    pattern.normalized,
                    capitalized(value),
                );
                out.push(
                    diagnostic(&meta, entry.span, message)
                        .with_label("bypassable deny-list")
                        .with_help(format!(
                            "allow-list the names holders may pass instead: \
                             `allowed_parameters = {{ \"{name}\" = [\"<allowed policy>\", ...], \
                             \"*\" = [] }}`; an allow-list refuses every other form"
                        )),
                );
            }
        }
    }
}

/// Whether the rule lets holders send parameters at all (parameters are checked on create,
/// update and patch).
fn writes(caps: CapSet) -> bool {
    !caps.is_deny()
        && [Capability::Create, Capability::Update, Capability::Patch]
            .iter()
            .any(|cap| caps.contains(*cap))
}

/// Whether `allowed_parameters` already restricts the parameter to listed values (or keeps
/// it out entirely), so that the deny-list adds nothing a holder could get around.
fn allow_listed(rule: &PolicyRule, name: &str) -> bool {
    let Some(allowed) = rule
        .extra()
        .allowed_parameters
        .as_ref()
        .filter(|map| restricts(map))
    else {
        return false;
    };
    match allowed.get(name) {
        Some(entry) => !entry.values.is_empty(),
        None => !allowed.contains_key("*"),
    }
}

/// An allowed map other than empty or `{"*" = ...}` alone (both allow every parameter).
fn restricts(map: &ParamMap) -> bool {
    !(map.is_empty() || (map.len() == 1 && map.contains_key("*")))
}

/// `super-admin` → `Super-Admin`: a case variant of a name.
fn capitalized(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut start = true;
    for c in value.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}
