//! ## What it does
//! Flags `allowed_parameters`, `denied_parameters` and `required_parameters` naming secret
//! fields on a KV version 2 `data/` path.
//!
//! ## Why is this bad?
//! Parameter constraints see only the request's top-level keys. A KV v2 write sends
//! `{"data": {...}, "options": {...}}`, so the secret's own fields are nested under `data` and
//! invisible: a `denied_parameters` on `password` denies nothing, an `allowed_parameters` on
//! `password` rejects every write (its top-level key `data` is not allowed), and a
//! `required_parameters` on `password` can never be met. The Vault documentation states that
//! parameter constraints are not supported for KV v2.
//!
//! ## Example
//! ```hcl
//! path "secret/data/app/config" {
//!   capabilities = ["create", "update"]
//!   denied_parameters = {
//!     "password" = []
//!   }
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # Split secrets so that access can be granted per path instead.
//! path "secret/data/app/config" {
//!   capabilities = ["create", "update"]
//! }
//!
//! path "secret/data/app/password" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.7 (note on KV v2) and section 7

use super::endpoint_reach::{block_kv2_mount_of, mount_map};
use crate::diag::{Diagnostic, Severity};
use crate::lint::matching::can_match_under;
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{ParamMap, Rule as PolicyRule};
use crate::span::Span;

pub struct Kv2Parameters;

/// The top-level keys KV v2 data requests carry (`version` as a read query parameter).
const TOP_LEVEL: &[&str] = &["data", "options", "version", "*"];

impl Rule for Kv2Parameters {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "kv2-parameters",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "parameter constraints on KV v2 data paths cannot see the secret's fields",
            source: include_str!("kv2_parameters.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            let Some(kv2) = block_kv2_mount_of(ctx, &map, pattern) else {
                continue;
            };
            let mount = kv2.path.as_str();
            if !can_match_under(pattern, &format!("{mount}data/")) {
                continue;
            }
            let Some((kind, name, span)) = nested_field(rule) else {
                continue;
            };
            let effect = match kind {
                "allowed_parameters" if !allows_data(rule) => {
                    "every write is denied, because its top-level key `data` is not allowed"
                }
                "allowed_parameters" => "the constraint never applies",
                "denied_parameters" => "this denies nothing",
                _ => "it can never be met, so every request is denied",
            };
            let message = format!(
                "`{kind}` names `{name}` on `{}`, but KV v2 nests the secret's fields under \
                 `data`: {effect}",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, span, message)
                    .with_label("nested under `data`")
                    .with_help(
                        "parameter constraints are not supported for KV v2; split the secret \
                         into separate paths and grant or deny each path instead",
                    ),
            );
        }
    }
}

/// The first constrained name that is not a top-level KV v2 key: (key kind, name, span).
fn nested_field(rule: &PolicyRule) -> Option<(&'static str, String, Span)> {
    let in_map = |map: &Option<ParamMap>| -> Option<(String, Span)> {
        map.as_ref()?
            .iter()
            .find(|(name, _)| !TOP_LEVEL.contains(&name.as_str()))
            .map(|(name, entry)| (name.clone(), entry.span))
    };
    if let Some((name, span)) = in_map(&rule.extra().allowed_parameters) {
        return Some(("allowed_parameters", name, span));
    }
    if let Some((name, span)) = in_map(&rule.extra().denied_parameters) {
        return Some(("denied_parameters", name, span));
    }
    rule.extra()
        .required_parameters
        .iter()
        .find(|name| !TOP_LEVEL.contains(&name.value.to_lowercase().as_str()))
        .map(|name| ("required_parameters", name.value.clone(), name.span))
}

fn allows_data(rule: &PolicyRule) -> bool {
    rule.extra()
        .allowed_parameters
        .as_ref()
        .is_some_and(|map| map.contains_key("data") || map.contains_key("*"))
}
