//! ## What it does
//! Flags `sudo` on a pattern under which no root-protected path exists.
//!
//! ## Why is this bad?
//! `sudo` matters only on root-protected paths (`sys/auth/*`, `sys/audit/*`, `sys/raw/*`,
//! `sys/seal`, `auth/token/accessors`, `pki/root`, ..., spec section 6) and for a few token
//! store actions (`auth/token/create` with `no_parent`, a custom `id` or a period). Anywhere
//! else it does nothing, which usually means the author copied an admin block without knowing
//! what `sudo` is for, and it turns into a real grant the day a protected path appears under
//! the pattern. PKI mounts are assumed to exist under any mount name (`<mount>/root`).
//!
//! ## Example
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (root-protected paths)

use super::helpers::{
    capability_span, diagnostic, instances, live_rules, merged_capabilities, pattern_matches,
};
use crate::acl::builtin::{pki_mount_paths, requires_sudo_with_mounts, sudo_patterns};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, PathPattern};

pub struct SudoUnneeded;

/// Paths whose handlers check sudo themselves (spec 6, handler-level checks).
const HANDLER_SUDO: &[&str] = &["auth/token/create", "auth/token/revoke-orphan"];

impl Rule for SudoUnneeded {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "sudo-unneeded",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "`sudo` on a pattern with no root-protected path under it",
            source: include_str!("sudo_unneeded.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for (rule, pattern) in live_rules(ctx) {
            if !rule.capabilities.contains(Capability::Sudo) {
                continue;
            }
            if merged_capabilities(ctx, pattern).is_deny() || sudo_witness(ctx, pattern).is_some() {
                continue;
            }
            let message = format!(
                "`sudo` on `{}` has no effect: no root-protected path lies under this pattern",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, capability_span(rule, Capability::Sudo), message)
                    .with_label("unneeded `sudo`")
                    .with_help(
                        "remove `sudo`; it matters only on root-protected paths such as \
                         `sys/auth/*`, `sys/audit/*`, `sys/raw/*` or `sys/seal`",
                    ),
            );
        }
    }
}

/// A root-protected path the pattern matches, if any. Both directions are tried: instances of
/// each protected pattern matched by this pattern, and instances of this pattern that are
/// protected. Cost: O(protected patterns × pattern length).
pub fn sudo_witness(ctx: &PolicyContext<'_>, pattern: &PathPattern) -> Option<String> {
    let mut pki_mounts = pki_mount_paths(ctx.mounts);
    pki_mounts.push("pki/");
    let protected = |path: &str| {
        requires_sudo_with_mounts(ctx.target, path, &pki_mounts) || HANDLER_SUDO.contains(&path)
    };
    let candidates = sudo_patterns(ctx.target)
        .into_iter()
        .chain(HANDLER_SUDO.iter().copied())
        .filter_map(|text| PathPattern::parse(text).ok())
        .flat_map(|protected_pattern| instances(&protected_pattern, ""))
        .chain(instances(pattern, ""))
        .chain(pki_root_paths(pattern));
    for path in candidates {
        if pattern_matches(pattern, &path) && (protected(&path) || is_pki_root(&path)) {
            return Some(path);
        }
    }
    None
}

/// `<mount>/root` and `<mount>/root/sign-self-issued` for the pattern's first segment: a PKI
/// engine may be mounted anywhere.
fn pki_root_paths(pattern: &PathPattern) -> Vec<String> {
    let first = pattern.normalized.split('/').next().unwrap_or("");
    let mount = if first.is_empty() || first.contains(['+', '*']) {
        "pki"
    } else {
        first
    };
    vec![
        format!("{mount}/root"),
        format!("{mount}/root/sign-self-issued"),
    ]
}

fn is_pki_root(path: &str) -> bool {
    let mut parts = path.splitn(2, '/');
    let mount = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    !matches!(mount, "sys" | "auth" | "identity" | "cubbyhole")
        && matches!(rest, "root" | "root/sign-self-issued")
}
