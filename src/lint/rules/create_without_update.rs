//! ## What it does
//! Flags `create` granted without `update` on a path, and `update` without `create` on a
//! KV secret path (KV v1 data, KV v2 `data/` and `metadata/`).
//!
//! Endpoints that need no token (`auth/<method>/login`, `sys/unseal`, ...) are left to
//! `unauthenticated-path`: no policy applies there.
//!
//! ## Why is this bad?
//! A write is turned into `create` or `update` by the backend's existence check: KV writes
//! to a new key need `create`, to an existing key `update` (`vault kv put` does both over a
//! secret's life). Most other endpoints have no existence check and always need `update`, so
//! `create` alone grants nothing there. Granting one without the other gives writes that
//! work once and then fail, or never. If write-once is really intended, suppress the finding
//! with a reason.
//!
//! ## Example
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["create", "read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["create", "read", "update"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.2 (create vs update) and section 7

use super::endpoint_reach::{block_kv_mount_of, block_reach, mount_map};
use crate::acl::FastSet;
use crate::diag::{Diagnostic, Severity};
use crate::endpoints::MountMap;
use crate::lint::matching::can_match_under;
use crate::lint::wording::{capability_span, diagnostic};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, PathPattern};

pub struct CreateWithoutUpdate;

impl Rule for CreateWithoutUpdate {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "create-without-update",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "`create` without `update` (or `update` without `create` on KV secrets)",
            source: include_str!("create_without_update.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        let mut seen: FastSet<&str> = FastSet::default();
        for (rule, pattern) in ctx.live_rules() {
            // The first block of each pattern speaks for the merged entry; the index knows
            // which it is, a set of the patterns seen is the fallback for another policy.
            let first = match ctx.index.is_first_of_pattern(pattern) {
                Some(first) if std::ptr::eq(ctx.index.policy(), ctx.policy) => first,
                _ => seen.insert(pattern.normalized.as_str()),
            };
            if !first || needs_no_token(ctx, &map, pattern) {
                continue;
            }
            let caps = ctx.merged_capabilities(pattern);
            if caps.is_deny() {
                continue;
            }
            let create = caps.contains(Capability::Create);
            let update = caps.contains(Capability::Update);
            let Some(on_kv) = kv_secret_path(ctx, &map, pattern) else {
                // Under a KV v2 mount but outside `data/` and `metadata/`:
                // `kv2-missing-data-prefix` says what is wrong there.
                continue;
            };
            let name = &pattern.normalized;
            let (capability, message) = match (create, update, on_kv) {
                (true, false, true) => (
                    Capability::Create,
                    format!(
                        "`create` without `update` on `{name}` lets holders write new secrets \
                         but not change existing ones: `kv put` on an existing key is denied"
                    ),
                ),
                (true, false, false) => (
                    Capability::Create,
                    format!(
                        "`create` without `update` on `{name}`: endpoints without an existence \
                         check always need `update`, so `create` alone may grant nothing"
                    ),
                ),
                (false, true, true) => (
                    Capability::Update,
                    format!(
                        "`update` without `create` on `{name}` lets holders change existing \
                         secrets but not write new ones: `kv put` of a new key is denied"
                    ),
                ),
                _ => continue,
            };
            out.push(
                diagnostic(&meta, capability_span(rule, capability), message)
                    .with_label("half of a write")
                    .with_help(
                        "grant both `create` and `update`; if only one is intended, suppress \
                         this finding with a reason",
                    ),
            );
        }
    }
}

/// `Some(true)` for KV v1 paths and KV v2 `data/` and `metadata/` paths (declared mounts, or
/// an undeclared mount whose second segment is `data` or `metadata`), `Some(false)` for other
/// paths, `None` for other paths of a declared KV v2 mount.
fn kv_secret_path(
    ctx: &PolicyContext<'_>,
    map: &MountMap<'_>,
    pattern: &PathPattern,
) -> Option<bool> {
    let mount = block_kv_mount_of(ctx, map, pattern);
    match mount.as_ref().map(|m| (m.path.as_str(), m.kind.as_str())) {
        Some((_, "kv-v1")) => Some(true),
        Some((mount, _)) => {
            // One buffer for both prefixes: this runs for every block of the policy.
            let mut prefix = String::with_capacity(mount.len() + "metadata/".len());
            prefix.push_str(mount);
            prefix.push_str("data/");
            let mut secret = can_match_under(pattern, &prefix);
            if !secret {
                prefix.truncate(mount.len());
                prefix.push_str("metadata/");
                secret = can_match_under(pattern, &prefix);
            }
            secret.then_some(true)
        }
        None => {
            let second = pattern.normalized.split('/').nth(1);
            Some(matches!(second, Some("data" | "metadata")))
        }
    }
}

/// Whether every endpoint the pattern reaches needs no token (`auth/approle/login`): no
/// policy is consulted there, `unauthenticated-path` says so.
fn needs_no_token(ctx: &PolicyContext<'_>, map: &MountMap<'_>, pattern: &PathPattern) -> bool {
    block_reach(ctx, map, pattern).is_some_and(|reach| {
        !reach.endpoints.is_empty() && reach.endpoints.iter().all(|(e, _)| e.unauthenticated)
    })
}
