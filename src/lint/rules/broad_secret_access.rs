//! ## What it does
//! Flags `read` (or `list`) over a whole secrets mount or more: a rule that lets holders read
//! a secret whose name the policy never wrote, e.g. `secret/data/*`, `kv/*`, `+/data/*`.
//! Mounts come from `capable.yaml` (`secret/` is KV v2 by default) and from the first
//! segment of the policy's own patterns. A narrow `secret/data/app/*` is not flagged.
//!
//! ## Why is this bad?
//! Least privilege for secrets means one application, one subtree. A grant over a whole mount
//! hands every holder every team's secrets, today's and tomorrow's. Listing a whole mount
//! only reveals names, so a list-only finding is reported as `info`. Reading a whole KV mount
//! or a whole credential engine (database, aws, azure, gcp, ssh, consul, nomad, rabbitmq, ldap,
//! kubernetes, ...) is a warning: every secret, or every credential the engine issues; over
//! other engines (pki, transit: certificates and key metadata) it is `info`. Engines come from
//! `mounts` in `capable.yaml`, else from the mount's name (`kv` or `secret` in it counts as
//! KV, `database` or `aws` as that engine). Patterns without any literal character are left
//! to `grants-everything`.
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

use std::collections::{BTreeMap, HashSet};

use crate::acl::Operation::{self, List, Read};
use crate::diag::{Diagnostic, Severity};
use crate::lint::holder::allowing_specific_block;
use crate::lint::wording::diagnostic_at;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

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
        for mount in candidate_mounts(ctx) {
            for (operation, path) in probes(ctx, &mount) {
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
            let (what, severity) = match (operation, engine_kind(ctx, &mount)) {
                (Read, EngineKind::Kv) => {
                    ("every secret of the KV mount".to_string(), meta.severity)
                }
                (Read, EngineKind::Credentials(engine)) => (
                    format!("every credential of the {engine} mount"),
                    meta.severity,
                ),
                (Read, EngineKind::Other) => {
                    ("everything under the mount".to_string(), Severity::Info)
                }
                _ => (
                    "the name of every key of the mount".to_string(),
                    Severity::Info,
                ),
            };
            let message = format!(
                "grants `{operation}` on `{path}`: holders can read {what} `{mount}`, \
                 whatever application it belongs to",
            );
            let subtree = if ctx.mounts.kv_version(&mount) == Some(2) {
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

/// Configured mounts plus the literal first segment of each pattern of the policy.
/// Cost: O(blocks + mounts).
fn candidate_mounts(ctx: &PolicyContext<'_>) -> Vec<String> {
    let mut mounts: Vec<String> = ctx.mounts.iter().map(|m| m.path.clone()).collect();
    let mut seen: HashSet<String> = mounts.iter().cloned().collect();
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

/// What reading a whole mount exposes.
enum EngineKind {
    /// Stored secrets.
    Kv,
    /// Credentials the engine issues (database, cloud, SSH, ... engines).
    Credentials(&'static str),
    /// Anything else (PKI, transit, ...): metadata and keys' public parts.
    Other,
}

/// Engines whose reads hand out credentials.
const CREDENTIAL_ENGINES: &[&str] = &[
    "database",
    "aws",
    "azure",
    "gcp",
    "alicloud",
    "ssh",
    "consul",
    "nomad",
    "rabbitmq",
    "ldap",
    "openldap",
    "kubernetes",
    "mongodbatlas",
    "terraform",
];

/// The engine of a mount: declared in the mount table, else guessed from its name (`kv` or
/// `secret` for KV, an engine's name for a credential engine).
fn engine_kind(ctx: &PolicyContext<'_>, mount: &str) -> EngineKind {
    let engine = match ctx.mounts.iter().find(|m| m.path == mount) {
        Some(declared) => declared.engine.as_str(),
        None if mount.contains("kv") || mount.contains("secret") => "kv",
        None => mount.trim_end_matches('/'),
    };
    if engine == "kv" {
        return EngineKind::Kv;
    }
    let credentials = CREDENTIAL_ENGINES
        .iter()
        .find(|known| engine == **known || (engine.contains(**known) && known.len() > 3));
    match credentials {
        Some(known) => EngineKind::Credentials(known),
        None => EngineKind::Other,
    }
}

/// Read of a secret no policy names, and list of the mount's top level (and, on a credential
/// engine, read of the credentials of a role no policy names).
fn probes(ctx: &PolicyContext<'_>, mount: &str) -> Vec<(Operation, String)> {
    if ctx.mounts.kv_version(mount) == Some(2) {
        return vec![
            (Read, format!("{mount}data/anything")),
            (List, format!("{mount}metadata/")),
        ];
    }
    let mut probes = vec![
        (Read, format!("{mount}anything")),
        (List, mount.to_string()),
    ];
    // Credential engines issue under `creds/<role>`: reading them all is every credential.
    if matches!(engine_kind(ctx, mount), EngineKind::Credentials(_)) {
        probes.push((Read, format!("{mount}creds/anything")));
    }
    probes
}
