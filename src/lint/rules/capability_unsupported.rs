//! ## What it does
//! Flags capabilities that no endpoint under the rule's pattern ever checks: `update` or
//! `list` on `database/creds/<role>` (read only), `read` on `auth/token/create` (write only),
//! `delete` on `sys/health`. Endpoints come from the catalog of the target's API; mounts from
//! `capable.yaml`, the policy's own KV v2 paths, and default paths (`pki/`, `database/`, ...).
//! `create` next to `update` is not flagged (the docs tell authors to grant both), nor `list`
//! on KV v2 `data/` (`kv2-list-on-data` does), nor `patch` for Vault (its API facts omit
//! PATCH). A glob, or a mount known only by its default path, is reported as `info`: the
//! pattern may reach endpoints the catalog does not have (plugins, newer versions).
//!
//! ## Why is this bad?
//! A capability that no request can need grants nothing. It is noise at best; at worst it
//! shows that the author misread the API (a `list` on `creds/` that was meant for `roles/`),
//! and the access they expected is missing.
//!
//! ## Example
//! ```hcl
//! path "database/creds/app" {
//!   capabilities = ["read", "update", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "database/creds/app" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - the operations of each endpoint in the OpenAPI documents (`src/endpoints/`)

use super::endpoint_reach::{block_reach, mount_map, PatternReach};
use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{capability_span, diagnostic_at, lower, ticked};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{CapSet, Capability};
use crate::target::Target;

pub struct CapabilityUnsupported;

/// The capabilities that name operations on endpoints.
const OPERATION_CAPABILITIES: &[Capability] = &[
    Capability::Create,
    Capability::Read,
    Capability::Update,
    Capability::Patch,
    Capability::Delete,
    Capability::List,
    Capability::Scan,
];

impl Rule for CapabilityUnsupported {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "capability-unsupported",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a capability that no endpoint under the pattern ever checks",
            source: include_str!("capability_unsupported.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            if rule.capabilities.is_deny() || rule.capabilities.is_empty() {
                continue;
            }
            let Some(reach) = block_reach(ctx, &map, pattern) else {
                continue;
            };
            if reach.endpoints.is_empty() {
                continue;
            }
            let supported = reach.capabilities();
            let unsupported: Vec<Capability> = OPERATION_CAPABILITIES
                .iter()
                .copied()
                .filter(|c| rule.capabilities.contains(*c) && !supported.contains(*c))
                .filter(|c| !left_to_others(ctx.target, *c, supported, &reach))
                .collect();
            let Some(first) = unsupported.first() else {
                continue;
            };
            let endpoints: Vec<_> = reach.endpoints.iter().map(|(e, _)| *e).collect();
            let names: Vec<&str> = unsupported.iter().map(|c| c.name()).collect();
            let takes: Vec<&str> = supported.iter().map(|c| c.name()).collect();
            let message = format!(
                "{} on `{}` is never checked: its endpoints ({}) take only {}",
                ticked(&names),
                pattern.normalized,
                reach.named(&endpoints),
                ticked(&takes),
            );
            // A glob may reach endpoints the catalog misses (plugins, newer versions): only an
            // exact path on a known mount is sure.
            let sure = reach.mount.evidence.is_known() && pattern.is_exact();
            let severity = if sure {
                meta.severity
            } else {
                lower(meta.severity)
            };
            out.push(
                diagnostic_at(&meta, severity, capability_span(rule, *first), message)
                    .with_label("never checked")
                    .with_help(format!("remove {}", ticked(&names))),
            );
        }
    }
}

/// Capabilities this rule leaves alone: `create` next to an `update` the endpoints take (the
/// docs tell authors to grant both), `list` on KV v2 `data/` (`kv2-list-on-data` says where
/// listing goes), and `patch` on Vault, whose API facts omit PATCH operations.
fn left_to_others(
    target: Target,
    capability: Capability,
    supported: CapSet,
    reach: &PatternReach,
) -> bool {
    match capability {
        Capability::Create => supported.contains(Capability::Update),
        Capability::List => {
            reach.mount.kind == "kv-v2"
                && reach
                    .endpoints
                    .iter()
                    .all(|(endpoint, _)| endpoint.template.starts_with("data/"))
        }
        Capability::Patch => target == Target::Vault,
        _ => false,
    }
}
