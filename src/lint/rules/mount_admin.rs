//! ## What it does
//! Flags rules that let holders mount, tune, move or unmount secrets engines:
//! `create`, `update` or `delete` on `sys/mounts/<path>`, and `update` on `sys/remount`.
//!
//! ## Why is this bad?
//! Unmounting a secrets engine destroys every secret stored in it; remounting moves a mount
//! out from under the policies that protect it; tuning changes lease TTLs and visibility;
//! mounting new engines creates paths no policy review anticipated.
//!
//! ## Example
//! ```hcl
//! path "sys/mounts/*" {
//!   capabilities = ["create", "read", "update", "delete", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/mounts" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (`sys/remount` is root-protected)

use crate::acl::Operation::{Create, Delete, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct MountAdmin;

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new(
            "sys/mounts/*",
            "sys/mounts/anything",
            &[Delete, Update, Create],
        ),
        Area::new("sys/remount", "sys/remount", &[Update]),
    ],
    label: "administers mounts",
    help: "grant `read` on `sys/mounts` to list engines; keep mount changes to a \
           break-glass policy or to exact mount paths",
};

impl Rule for MountAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "mount-admin",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "mounting, tuning, moving or unmounting secrets engines",
            source: include_str!("mount_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        PROBE.report_effects(&self.meta(), ctx, effect, out);
    }
}

/// What the reached endpoint lets holders do: retune a mount (`sys/mounts/<mount>/tune`), or
/// mount, move and unmount engines.
fn effect(finding: &Finding) -> &'static str {
    let tune_only = finding.witness.trim_end_matches('/').ends_with("/tune");
    if tune_only {
        return "holders can retune a secrets engine: its lease TTLs, audit settings and \
                listing visibility";
    }
    "holders can unmount a secrets engine, destroying every secret in it, or move it out from \
     under its policies"
}
