//! ## What it does
//! Flags rules that let holders enable, tune or disable auth methods: `create`, `update` or
//! `delete` on `sys/auth/<path>` (root-protected, so only with `sudo`).
//!
//! ## Why is this bad?
//! Enabling an auth method creates a new way in, configured by the holder; tuning changes
//! token TTLs and listing visibility; disabling one revokes every token issued through it.
//! These are platform-administrator operations.
//!
//! ## Example
//! ```hcl
//! path "sys/auth/*" {
//!   capabilities = ["create", "update", "delete", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # Listing auth methods needs no sudo and changes nothing.
//! path "sys/auth" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (`sys/auth/*` is root-protected)

use crate::acl::Operation::{Create, Delete, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct AuthMethodAdmin;

const PROBE: AreaProbe = AreaProbe {
    areas: &[Area::new(
        "sys/auth/*",
        "sys/auth/anything",
        &[Update, Create, Delete],
    )],
    label: "administers auth methods",
    help: "keep auth method administration to a break-glass policy; read-only `sys/auth` \
           is enough to list methods",
};

impl Rule for AuthMethodAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "auth-method-admin",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "enabling, tuning or disabling auth methods (`sys/auth/*`)",
            source: include_str!("auth_method_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let effect = "holders can enable a new way to log in, retune token lifetimes, or \
                      disable a method and revoke every token it issued";
        PROBE.report_effects(&self.meta(), ctx, |_| effect, out);
    }
}
