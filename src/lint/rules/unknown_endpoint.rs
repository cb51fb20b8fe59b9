//! ## What it does
//! Flags a rule whose pattern names no endpoint of the target's API: under `sys/`,
//! `auth/token/`, `identity/`, or under a mount whose engine is known (from `capable.yaml`,
//! from the policy's own KV v2 paths, or an engine's default path such as `pki/`). The help
//! suggests the nearest endpoint (`sys/polices/...` → `sys/policies/...`), a missing `sys/`
//! (`leases/lookup/*` → `sys/leases/lookup/*`) or an extra one (`sys/transit/...` →
//! `transit/...`).
//!
//! ## Why is this bad?
//! A pattern that matches no endpoint matches no request: a grant grants nothing and a `deny`
//! protects nothing, and the policy reads as if it did. Typos and paths copied from the CLI
//! or from another engine are the usual causes.
//!
//! ## Example
//! ```hcl
//! path "sys/polices/acl/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/policies/acl/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - the endpoint catalog (`src/endpoints/`)

use super::endpoint_reach::{block_reach, mount_map, reach, PatternReach};
use crate::diag::{Diagnostic, Severity};
use crate::endpoints::{kind_title, MountMap};
use crate::lint::wording::{diagnostic_at, lower};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::PathPattern;
use crate::target::Target;

pub struct UnknownEndpoint;

/// Vault Enterprise areas of `sys/`, absent from the open-source API document.
const VAULT_ENTERPRISE: &[&str] = &[
    "sys/namespaces",
    "sys/sentinel",
    "sys/control-group",
    "sys/license",
    "sys/mfa",
    "sys/policies/egp",
    "sys/policies/rgp",
    "sys/managed-keys",
    "sys/replication",
    "sys/storage/raft/snapshot-auto",
    "sys/quotas/lease-count",
    "sys/config/group-policy-application",
    "sys/config/control-group",
    "sys/internal/counters",
];

impl Rule for UnknownEndpoint {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "unknown-endpoint",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a pattern on a known mount that names no endpoint of the API",
            source: include_str!("unknown_endpoint.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            if rule.capabilities.is_empty() || is_enterprise(ctx.target, pattern) {
                continue;
            }
            let finding = match block_reach(ctx, &map, pattern) {
                // Under KV v2, `kv2-missing-data-prefix` says what is wrong.
                Some(reach) if reach.mount.kind == "kv-v2" => None,
                Some(_) if glob_after_parameter(&map, pattern) => None,
                Some(reach) if reach.endpoints.is_empty() => on_known_mount(&map, pattern, &reach),
                Some(_) => None,
                None => missing_sys(&map, pattern),
            };
            let Some((message, help, known)) = finding else {
                continue;
            };
            let severity = if known {
                meta.severity
            } else {
                lower(meta.severity)
            };
            out.push(
                diagnostic_at(&meta, severity, rule.pattern_span, message)
                    .with_label("no such endpoint")
                    .with_help(help),
            );
        }
    }
}

fn is_enterprise(target: Target, pattern: &PathPattern) -> bool {
    target == Target::Vault
        && VAULT_ENTERPRISE
            .iter()
            .any(|area| pattern.normalized.starts_with(area))
}

/// A pattern under a known mount that reaches nothing: message, help, and whether the
/// mount's kind is known rather than guessed.
fn on_known_mount(
    map: &MountMap<'_>,
    pattern: &PathPattern,
    reach: &PatternReach,
) -> Option<(String, String, bool)> {
    let mount = &reach.mount;
    let known = mount.evidence.is_known();
    let kind = kind_title(&mount.kind);
    let message = format!(
        "`{}` names no endpoint of the {kind} mount `{}`: it matches no request",
        pattern.normalized, mount.path
    );
    // `sys/transit/keys/x`: the path of another mount, written under `sys/`.
    if let Some(rest) = pattern.normalized.strip_prefix("sys/") {
        if let Some(other) = reaching(map, rest) {
            return Some((message, format!("did you mean `{other}`?"), known));
        }
    }
    let help = match nearest(map, &mount.kind, reach.relative) {
        Some(template) => format!("did you mean `{}{template}`?", mount.path),
        None => format!(
            "see the {kind} API for its paths; if `{}` is not {kind}, declare it under \
             `mounts` in `capable.yaml`",
            mount.path
        ),
    };
    Some((message, help, known))
}

/// `sys/policies/acl/k8s/*`: the glob follows a path that is an endpoint ending in a
/// parameter. The API documents do not say whether such a parameter may hold a `/` (policy
/// names may), so the pattern is given the benefit of the doubt.
fn glob_after_parameter(map: &MountMap<'_>, pattern: &PathPattern) -> bool {
    let Some(body) = pattern.normalized.strip_suffix('*') else {
        return false;
    };
    let Ok(parent) = PathPattern::parse(body.trim_end_matches('/')) else {
        return false;
    };
    reach(map, &parent).is_some_and(|reach| {
        reach
            .endpoints
            .iter()
            .any(|(endpoint, _)| endpoint.template.ends_with('}'))
    })
}

/// `leases/lookup/*`, under no known mount, is a path of `sys/`.
fn missing_sys(map: &MountMap<'_>, pattern: &PathPattern) -> Option<(String, String, bool)> {
    let first = pattern.normalized.split('/').next()?;
    if first.is_empty() || first.contains(['+', '*']) || first == "auth" {
        return None;
    }
    let with_sys = format!("sys/{}", pattern.normalized);
    reaching(map, &with_sys)?;
    let message = format!(
        "`{}` names no known mount, but `{with_sys}` is an endpoint of `sys/`",
        pattern.normalized
    );
    Some((message, format!("did you mean `{with_sys}`?"), false))
}

/// `text` when, as a pattern, it reaches some endpoint of a known mount.
fn reaching(map: &MountMap<'_>, text: &str) -> Option<String> {
    let pattern = PathPattern::parse(text).ok()?;
    let reach = reach(map, &pattern)?;
    (!reach.endpoints.is_empty()).then(|| text.to_string())
}

/// The endpoint template nearest to the pattern (its parameters filled from the pattern), if
/// it is close: within `length / 4` edits (1 to 4), the first of the nearest winning a tie.
/// Cost: O(templates of the kind × length): the distance is computed within the limit's band
/// only, and only for templates whose length is within the limit of the pattern's (the others
/// cannot be within it); runs only for a finding.
fn nearest(map: &MountMap<'_>, kind: &str, relative: &str) -> Option<String> {
    let written: Vec<&str> = relative.split('/').collect();
    let target = relative;
    let target_chars = target.chars().count();
    let mut best: Option<(usize, String)> = None;
    // One buffer for every candidate: a big policy may ask this once per block.
    let mut candidate = String::new();
    for endpoint in map.catalog().endpoints_of(kind) {
        let (bytes, chars) = filled_length(endpoint.template, &written);
        let mut limit = (bytes / 4).clamp(1, 4);
        // Only a strictly nearer template replaces the best so far: search within less.
        if let Some((nearest, _)) = &best {
            match nearest.checked_sub(1) {
                Some(closer) => limit = limit.min(closer),
                None => break,
            }
        }
        // The distance is at least the difference in length.
        if target_chars.abs_diff(chars) > limit {
            continue;
        }
        fill_by_position(endpoint.template, &written, &mut candidate);
        let Some(distance) = crate::suggest::edit_distance_within(target, &candidate, limit) else {
            continue;
        };
        best = Some((distance, candidate.clone()));
    }
    best.map(|(_, candidate)| candidate)
}

/// The length in bytes and in characters of [`fill_by_position`]'s result, without building
/// it.
fn filled_length(template: &str, written: &[&str]) -> (usize, usize) {
    let mut bytes = 0;
    let mut chars = 0;
    for (index, segment) in template.split('/').enumerate() {
        if index > 0 {
            bytes += 1;
            chars += 1;
        }
        let text = match segment.starts_with('{') {
            true => written.get(index).copied().unwrap_or(segment),
            false => segment,
        };
        bytes += text.len();
        chars += text.chars().count();
    }
    (bytes, chars)
}

/// `roles/{name}` with `rolse/app` written → `roles/app`, into `filled` (cleared first).
fn fill_by_position(template: &str, written: &[&str], filled: &mut String) {
    filled.clear();
    for (index, segment) in template.split('/').enumerate() {
        if index > 0 {
            filled.push('/');
        }
        let text = match segment.starts_with('{') {
            true => written.get(index).copied().unwrap_or(segment),
            false => segment,
        };
        filled.push_str(text);
    }
}
