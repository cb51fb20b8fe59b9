//! ## What it does
//! Flags a rule on a KV version 2 mount whose pattern cannot match any KV v2 endpoint:
//! nothing under `data/`, `metadata/`, `delete/`, `undelete/`, `destroy/`, `subkeys/`
//! (and `detailed-metadata/` on OpenBao), nor `config`. A mount is KV v2 when `capable.yaml`
//! says so (`mounts`) or when the same policy uses its `data/` or `metadata/` paths: then the
//! finding is a warning. Without such evidence, `secret/` is assumed to be KV v2 (as on a dev
//! server) and the finding is `info`, worded "if `secret/` is KV v2".
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

use super::endpoint_reach::{block_kv2_mount_of, mount_map};
use crate::diag::{Diagnostic, Severity};
use crate::lint::matching::{can_match_under, pattern_matches};
use crate::lint::wording::diagnostic_at;
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
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            let Some(kv2) = block_kv2_mount_of(ctx, &map, pattern) else {
                continue;
            };
            let mount = kv2.path.as_str();
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
            // Without evidence (only the dev server's default), the mount may be KV v1.
            let (severity, message) = if kv2.evidence.is_known() {
                (
                    meta.severity,
                    format!(
                        "`{}` is on the KV v2 mount `{mount}`, where secrets live under \
                         `{mount}data/`: {effect}",
                        pattern.normalized
                    ),
                )
            } else {
                (
                    Severity::Info,
                    format!(
                        "if `{mount}` is KV v2 (as on a dev server), `{}` is outside \
                         `{mount}data/`, where its secrets live: {effect}",
                        pattern.normalized
                    ),
                )
            };
            out.push(
                diagnostic_at(&meta, severity, rule.pattern_span, message)
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
