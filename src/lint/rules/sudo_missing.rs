//! ## What it does
//! Flags a rule without `sudo` whose every endpoint, for the capabilities it grants, is
//! root-protected: `sys/auth/*`, `sys/audit/*`, `sys/raw/*`, `sys/rotate`, `sys/seal`,
//! `auth/token/accessors`, a PKI mount's `root`, ... (spec section 6). Patterns that also
//! reach endpoints without protection (`sys/*`) are not flagged.
//!
//! ## Why is this bad?
//! A root-protected endpoint needs `sudo` on top of the operation's own capability: without
//! it every request is refused, so the rule grants nothing. capable's simulator knows this;
//! the author usually meant the grant to work (and should then add `sudo`), or copied a rule
//! that can go.
//!
//! ## Example
//! ```hcl
//! path "sys/auth/*" {
//!   capabilities = ["create", "read", "update", "delete"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/auth/*" {
//!   capabilities = ["create", "read", "update", "delete", "sudo"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (root-protected paths)

use super::endpoint_reach::{block_reach, instance_path, mount_map, operations_of};
use crate::acl::builtin::requires_sudo_with_mounts;
use crate::acl::{DenyReason, Request};
use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{capability_span, diagnostic, ticked};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::Capability;

pub struct SudoMissing;

impl Rule for SudoMissing {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "sudo-missing",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a grant on root-protected endpoints without `sudo`: every request is refused",
            source: include_str!("sudo_missing.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        let map = mount_map(ctx);
        for (rule, pattern) in ctx.live_rules() {
            let merged = ctx.merged_capabilities(pattern);
            if merged.is_deny() || merged.is_empty() || merged.contains(Capability::Sudo) {
                continue;
            }
            let Some(reach) = block_reach(ctx, &map, pattern) else {
                continue;
            };
            let pki_mounts: Vec<&str> = match reach.mount.kind.as_str() {
                "pki" => vec![reach.mount.path.as_str()],
                _ => Vec::new(),
            };
            let mut refused = Vec::new();
            let mut useful = false;
            for (endpoint, caps) in reach.endpoints.iter() {
                for operation in operations_of(caps.intersection(rule.capabilities)) {
                    let Some(path) =
                        instance_path(&reach, endpoint, pattern, operation.is_listing())
                    else {
                        continue;
                    };
                    if !requires_sudo_with_mounts(ctx.target, &path, &pki_mounts) {
                        useful = true;
                        break;
                    }
                    refused.push((operation, path, *endpoint));
                }
                if useful {
                    break;
                }
            }
            if useful || refused.is_empty() || !refused_here(ctx, &refused[0].0, &refused[0].1) {
                continue;
            }
            let mut operations: Vec<&str> = Vec::new();
            let mut endpoints = Vec::new();
            for (operation, _, endpoint) in &refused {
                if !operations.contains(&operation.name()) {
                    operations.push(operation.name());
                }
                if !endpoints.contains(endpoint) {
                    endpoints.push(*endpoint);
                }
            }
            let message = format!(
                "`{}` grants {} without `sudo` on root-protected endpoints ({}): every such \
                 request is refused, e.g. `{} {}`",
                pattern.normalized,
                ticked(&operations),
                reach.named(&endpoints),
                refused[0].0,
                refused[0].1,
            );
            out.push(
                diagnostic(&meta, capability_span_of(rule), message)
                    .with_label("needs `sudo`")
                    .with_help(
                        "add `sudo` to the capabilities if holders should do this, or remove \
                         the rule",
                    ),
            );
        }
    }
}

/// The block's `capabilities` list (where `sudo` goes).
fn capability_span_of(rule: &crate::policy::Rule) -> crate::span::Span {
    rule.capabilities_span
        .unwrap_or_else(|| capability_span(rule, Capability::Read))
}

/// Whether the policy's ACL refuses the request for want of `sudo` (so no other block of the
/// policy gives it).
fn refused_here(ctx: &PolicyContext<'_>, operation: &crate::acl::Operation, path: &str) -> bool {
    let verdict = ctx.acl.verdict(&Request::new(*operation, path));
    !verdict.allowed && matches!(verdict.deny_reason, Some(DenyReason::SudoRequired))
}
