//! ## What it does
//! Flags a rule on a KV version 2 mount whose pattern cannot match any KV v2 endpoint:
//! nothing under `data/`, `metadata/`, `delete/`, `undelete/`, `destroy/`, `subkeys/`
//! (and `detailed-metadata/` on OpenBao), nor `config`. Mounts come from `capable.yaml`
//! (`mounts`); by default `secret/` is KV v2, as on a dev server.
//!
//! ## Why is this bad?
//! The KV v2 API puts secrets under `M/data/<key>`, but the CLI hides that prefix: `vault kv
//! get secret/ai/openai` reads `secret/data/ai/openai`. A rule written for the CLI path
//! (`secret/ai/openai`) matches no request at all: a grant grants nothing and, worse, a `deny`
//! protects nothing (Vault issues #12665, #7161). Patterns such as `secret/*` or `secret/+/x`
//! do cover `data/` and are not flagged.
//!
//! ## Example
//! ```hcl
//! path "secret/ai/openai" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/ai/openai" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/metadata/ai/openai" {
//!   capabilities = ["list", "read"]
//! }
//! ```
//!
//! ## References
//! - spec section 7 (KV v2 layout and CLI mapping)
//! - Vault issues #12665, #7161

use crate::diag::{Diagnostic, Severity};
use crate::lint::kv::kv2_mount;
use crate::lint::matching::{can_match_under, pattern_matches};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::PathPattern;
use crate::target::Target;

pub struct Kv2MissingDataPrefix;

/// The subtrees of a KV v2 mount holding endpoints (spec 7).
const SUBTREES: &[&str] = &[
    "data/",
    "metadata/",
    "delete/",
    "undelete/",
    "destroy/",
    "subkeys/",
];

impl Rule for Kv2MissingDataPrefix {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "kv2-missing-data-prefix",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a rule on a KV v2 mount that matches no KV v2 endpoint (missing `data/`)",
            source: include_str!("kv2_missing_data_prefix.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for (rule, pattern) in ctx.live_rules() {
            let Some(mount) = kv2_mount(ctx, pattern) else {
                continue;
            };
            if pattern.normalized == mount || pattern.normalized == mount.trim_end_matches('/') {
                continue;
            }
            if reaches_an_endpoint(pattern, mount, ctx.target) {
                continue;
            }
            let rest = &pattern.normalized[mount.len()..];
            let effect = if rule.capabilities.is_deny() {
                "this `deny` protects nothing"
            } else {
                "it matches no request"
            };
            let message = format!(
                "`{}` is on the KV v2 mount `{mount}`, where secrets live under \
                 `{mount}data/`: {effect}",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, rule.pattern_span, message)
                    .with_label("not a KV v2 path")
                    .with_help(format!(
                        "write `{mount}data/{rest}` for the secret itself and \
                         `{mount}metadata/{rest}` for listing and version metadata; if \
                         `{mount}` is KV v1, declare it under `mounts` in `capable.yaml`"
                    )),
            );
        }
    }
}

fn reaches_an_endpoint(pattern: &PathPattern, mount: &str, target: Target) -> bool {
    let subtree = |sub: &str| can_match_under(pattern, &format!("{mount}{sub}"));
    SUBTREES.iter().any(|sub| subtree(sub))
        || (target == Target::OpenBao && subtree("detailed-metadata/"))
        || pattern_matches(pattern, &format!("{mount}config"))
        // LIST `M/metadata/` also finds an exact rule for `M/metadata` (spec 3.3, step 2).
        || pattern_matches(pattern, &format!("{mount}metadata"))
        || (target == Target::OpenBao
            && pattern_matches(pattern, &format!("{mount}detailed-metadata")))
}
