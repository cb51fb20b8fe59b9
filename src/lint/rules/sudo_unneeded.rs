//! ## What it does
//! Flags `sudo` on a pattern under which no root-protected path exists.
//!
//! ## Why is this bad?
//! `sudo` matters only on root-protected paths (`sys/auth/*`, `sys/audit/*`, `sys/raw/*`,
//! `sys/seal`, `auth/token/accessors`, `pki/root`, ..., spec section 6) and for a few token
//! store actions (`auth/token/create` with `no_parent`, a custom `id` or a period). Anywhere
//! else it does nothing, which usually means the author copied an admin block without knowing
//! what `sudo` is for, and it turns into a real grant the day a protected path appears under
//! the pattern. A mount not declared in `capable.yaml` may be a PKI engine, whose `root`
//! needs sudo, so `sudo` there is not reported. Reported as `info`: it grants nothing today.
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

use crate::acl::builtin::{pki_mount_paths, requires_sudo_with_mounts, sudo_patterns};
use crate::diag::{Diagnostic, Severity};
use crate::lint::matching::{instances, pattern_matches};
use crate::lint::wording::{capability_span, diagnostic};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{Capability, PathPattern};

pub struct SudoUnneeded;

/// Paths whose handlers check sudo themselves (spec 6, handler-level checks).
const HANDLER_SUDO: &[&str] = &["auth/token/create", "auth/token/revoke-orphan"];

impl Rule for SudoUnneeded {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "sudo-unneeded",
            severity: Severity::Info,
            category: Category::Correctness,
            summary: "`sudo` on a pattern with no root-protected path under it",
            source: include_str!("sudo_unneeded.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for (rule, pattern) in ctx.live_rules() {
            if !rule.capabilities.contains(Capability::Sudo) {
                continue;
            }
            if ctx.merged_capabilities(pattern).is_deny()
                || sudo_witness(ctx, pattern, PkiMounts::Anywhere).is_some()
            {
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

/// Where PKI engines (whose `root` paths need sudo) are assumed to be mounted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PkiMounts {
    /// Under any mount not declared as another engine (no false "unneeded").
    Anywhere,
    /// Only at declared PKI mounts, `pki/`, and mounts whose name contains `pki`.
    Likely,
}

/// A root-protected path the pattern matches, if any. Both directions are tried: instances of
/// each protected pattern matched by this pattern, and instances of this pattern that are
/// protected. Cost: O(protected patterns × pattern length).
pub fn sudo_witness(
    ctx: &PolicyContext<'_>,
    pattern: &PathPattern,
    pki: PkiMounts,
) -> Option<String> {
    let mut pki_mounts = pki_mount_paths(ctx.mounts);
    pki_mounts.push("pki/");
    let protected = |path: &str| {
        requires_sudo_with_mounts(ctx.target, path, &pki_mounts)
            || HANDLER_SUDO.contains(&path)
            || is_pki_root(ctx, path, pki)
    };
    let protected_instances: Vec<String> = sudo_patterns(ctx.target)
        .into_iter()
        .chain(HANDLER_SUDO.iter().copied())
        .filter_map(|text| PathPattern::parse(text).ok())
        .flat_map(|protected_pattern| instances(&protected_pattern, ""))
        .collect();
    // This pattern's `+` segments filled from each protected path, so that
    // `sys/leases/+/x` meets `sys/leases/revoke-prefix/x`.
    let aligned: Vec<String> = protected_instances
        .iter()
        .flat_map(|template| instances(pattern, template))
        .collect();
    protected_instances
        .into_iter()
        .chain(aligned)
        .chain(instances(pattern, ""))
        .chain(pki_root_paths(pattern))
        .find(|path| pattern_matches(pattern, path) && protected(path))
}

/// `<mount>/root` and `<mount>/root/sign-self-issued` for the mount segment of each instance
/// of the pattern: a PKI engine may be mounted under any name.
fn pki_root_paths(pattern: &PathPattern) -> Vec<String> {
    let mut out = Vec::new();
    for instance in instances(pattern, "pki/root") {
        let mount = instance.split('/').next().unwrap_or("");
        if mount.is_empty() {
            continue;
        }
        for path in [
            format!("{mount}/root"),
            format!("{mount}/root/sign-self-issued"),
        ] {
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

/// Whether a path is `root` or `root/sign-self-issued` of a mount that may be a PKI engine.
fn is_pki_root(ctx: &PolicyContext<'_>, path: &str, pki: PkiMounts) -> bool {
    let Some((mount, rest)) = path.split_once('/') else {
        return false;
    };
    if matches!(mount, "sys" | "auth" | "identity" | "cubbyhole")
        || !matches!(rest, "root" | "root/sign-self-issued")
    {
        return false;
    }
    let declared = ctx.mounts.find(&format!("{mount}/"));
    if let Some(declared) = declared.filter(|m| m.path == format!("{mount}/")) {
        return declared.engine == "pki";
    }
    pki == PkiMounts::Anywhere || mount.contains("pki")
}
