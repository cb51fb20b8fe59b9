//! ## What it does
//! Flags `list` granted on a KV version 2 `data/` path (`M/data/...`) by a pattern that does
//! not also cover `M/metadata/`.
//!
//! Any mount counts whose `data/` or `metadata/` paths the policy uses (`kv/data/x/*` shows
//! that `kv/` is KV v2), besides those `capable.yaml` declares and `secret/`.
//!
//! ## Why is this bad?
//! KV v2 lists keys through `M/metadata/<prefix>/` (`vault kv list secret/app` sends LIST
//! `secret/metadata/app/`). `list` on `data/` is never used, so the author's `kv list` is
//! denied while the policy looks right.
//!
//! ## Example
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/metadata/app/*" {
//!   capabilities = ["list"]
//! }
//! ```
//!
//! ## References
//! - spec section 7 (`kv list` → LIST `M/metadata/p/`)

use super::endpoint_reach::{block_kv2_mount_of, mount_map};
use crate::diag::{Diagnostic, Severity};
use crate::lint::kv::only_kv2_data;
use crate::lint::wording::{capability_span, diagnostic};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::Capability;

pub struct Kv2ListOnData;

impl Rule for Kv2ListOnData {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "kv2-list-on-data",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "`list` on a KV v2 `data/` path is never used (listing uses `metadata/`)",
            source: include_str!("kv2_list_on_data.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            let caps = rule.capabilities;
            if caps.is_deny() || !caps.contains(Capability::List) {
                continue;
            }
            let Some(kv2) = block_kv2_mount_of(ctx, &map, pattern) else {
                continue;
            };
            let mount = kv2.path.as_str();
            if !only_kv2_data(pattern, mount) {
                continue;
            }
            // One string per message and help: a big policy may have a finding per block.
            let rest = pattern
                .normalized
                .strip_prefix(mount)
                .and_then(|after| after.strip_prefix("data/"))
                .unwrap_or("*");
            let help = format!("grant `list` in a block for `{mount}metadata/{rest}` instead");
            let message = format!(
                "`list` on `{}` is never used: KV v2 lists keys under `{mount}metadata/`",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, capability_span(rule, Capability::List), message)
                    .with_label("unused `list`")
                    .with_help(help),
            );
        }
    }
}
