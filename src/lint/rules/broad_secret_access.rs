//! ## What it does
//! Flags `read` (or `list`) over a whole secrets mount or more: a rule that lets holders read
//! a secret whose name the policy never wrote, e.g. `secret/data/*`, `kv/*`, `+/data/*`.
//! Mounts come from `capable.yaml` (`secret/` is KV v2 by default) and from the first
//! segment of the policy's own patterns. A narrow `secret/data/app/*` is not flagged.
//!
//! ## Why is this bad?
//! Least privilege for secrets means one application, one subtree. A grant over a whole mount
//! hands every holder every team's secrets, today's and tomorrow's. Listing a whole mount
//! only reveals names, so a list-only finding is reported as `info`. Reading every credential
//! of a credential engine (`database/creds/*`, `aws/*`, `ssh/*`, `consul/*`, `nomad/*`, ...)
//! is a warning like a whole KV mount; reading a whole mount of another engine (pki or
//! transit metadata) is `info` (declare mounts in `capable.yaml`; mounts named like `kv` or
//! `secret` count as KV, engines at their default path count as that engine). Patterns without any
//! literal character are left to `grants-everything`.
//!
//! ## Example
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 7 (KV v2 layout)

use std::collections::BTreeMap;

use super::endpoint_reach::mount_map;
use crate::acl::Operation::{self, List, Read};
use crate::diag::{Diagnostic, Severity};
use crate::endpoints::MountMap;
use crate::lint::holder::allowing_specific_block;
use crate::lint::wording::diagnostic_at;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

use crate::acl::FastSet;
use crate::span::Span;

pub struct BroadSecretAccess;

/// First segments that are not secrets engines.
const NOT_SECRETS: &[&str] = &["sys", "auth", "identity", "cubbyhole", ""];

impl Rule for BroadSecretAccess {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "broad-secret-access",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "`read` or `list` over a whole secrets mount or more",
            source: include_str!("broad_secret_access.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let mut found: BTreeMap<usize, (Span, Operation, String, String)> = BTreeMap::new();
        // One mount map for the policy: building it costs O(blocks), and there can be as many
        // candidate mounts as blocks.
        let map = mount_map(ctx);
        for mount in candidate_mounts(ctx) {
            for (operation, path) in probes(ctx, &map, &mount) {
                let Some(span) = allowing_specific_block(ctx, operation, &path) else {
                    continue;
                };
                let entry = found
                    .entry(span.start)
                    .or_insert_with(|| (span, operation, path.clone(), mount.clone()));
                // A read finding outranks a list one.
                if entry.1 == List && operation == Read {
                    *entry = (span, operation, path, mount.clone());
                }
            }
        }
        for (span, operation, path, mount) in found.into_values() {
            let kv = is_kv(ctx, &mount);
            let credentials = is_credential_engine(&map, &mount);
            let (what, severity) = match (operation, kv, credentials) {
                (Read, true, _) => ("every secret of the KV mount", meta.severity),
                (Read, false, true) => ("every credential issued by the mount", meta.severity),
                (Read, false, false) => ("everything under the mount", Severity::Info),
                _ => ("the name of every key of the mount", Severity::Info),
            };
            let message = format!(
                "grants `{operation}` on `{path}`: holders can read {what} `{mount}`, \
                 whatever application it belongs to",
            );
            let subtree = if credentials {
                format!("{mount}creds/<app>")
            } else if ctx.mounts.kv_version(&mount) == Some(2) {
                format!("{mount}data/<app>/*")
            } else {
                format!("{mount}<app>/*")
            };
            out.push(
                diagnostic_at(&meta, severity, span, message)
                    .with_label("whole mount")
                    .with_help(format!(
                        "scope the rule to the application's own subtree, e.g. `{subtree}`"
                    )),
            );
        }
    }
}

/// Configured mounts plus the literal first segment of each pattern of the policy, each once,
/// in that order. Cost: O(mounts + blocks).
fn candidate_mounts(ctx: &PolicyContext<'_>) -> Vec<String> {
    let mut mounts: Vec<String> = ctx.mounts.iter().map(|m| m.path.clone()).collect();
    let mut seen: FastSet<String> = mounts.iter().cloned().collect();
    for rule in &ctx.policy.rules {
        let Some(pattern) = &rule.pattern else {
            continue;
        };
        let Some((first, _)) = pattern.normalized.split_once('/') else {
            continue;
        };
        if NOT_SECRETS.contains(&first) || first.contains(['+', '*']) {
            continue;
        }
        let mount = format!("{first}/");
        if seen.insert(mount.clone()) {
            mounts.push(mount);
        }
    }
    mounts
}

/// A KV mount: declared as such, or named like one (`kv`, `secret` in the name).
fn is_kv(ctx: &PolicyContext<'_>, mount: &str) -> bool {
    match ctx.mounts.iter().find(|m| m.path == mount) {
        Some(declared) => declared.engine == "kv",
        None => mount.contains("kv") || mount.contains("secret"),
    }
}

/// Engines that issue credentials (`creds/<role>` and the like), by catalog kind.
const CREDENTIAL_ENGINES: &[&str] = &[
    "database",
    "aws",
    "ssh",
    "consul",
    "nomad",
    "rabbitmq",
    "kubernetes",
    "azure",
    "gcp",
    "ldap",
    "alicloud",
    "mongodbatlas",
    "terraform",
];

fn is_credential_engine(map: &MountMap<'_>, mount: &str) -> bool {
    map.resolve(mount)
        .is_some_and(|of| of.path == mount && CREDENTIAL_ENGINES.contains(&of.kind.as_str()))
}

/// Read of a secret no policy names (of a credential no policy names, on a credential
/// engine), and list of the mount's top level.
fn probes(ctx: &PolicyContext<'_>, map: &MountMap<'_>, mount: &str) -> Vec<(Operation, String)> {
    if is_credential_engine(map, mount) {
        return vec![
            (Read, format!("{mount}creds/anything")),
            (Read, format!("{mount}anything")),
            (List, mount.to_string()),
        ];
    }
    if ctx.mounts.kv_version(mount) == Some(2) {
        return vec![
            (Read, format!("{mount}data/anything")),
            (List, format!("{mount}metadata/")),
        ];
    }
    vec![
        (Read, format!("{mount}anything")),
        (List, mount.to_string()),
    ]
}
