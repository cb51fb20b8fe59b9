//! ## What it does
//! Flags rules that let holders enable, disable or reconfigure audit devices
//! (`sys/audit/<path>`) or change which request headers are audited
//! (`sys/config/auditing/request-headers/*`). Both are root-protected, so this needs `sudo`.
//!
//! ## Why is this bad?
//! The audit log is the record of who did what. Whoever can disable an audit device, or
//! point it elsewhere, can act without a trace and cover what they did before.
//!
//! ## Example
//! ```hcl
//! path "sys/audit/*" {
//!   capabilities = ["create", "update", "delete", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/audit" {
//!   capabilities = ["read", "sudo"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (`sys/audit`, `sys/audit/*`, `sys/config/auditing/*`)

use crate::acl::Operation::{Create, Delete, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct AuditAdmin;

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new(
            "sys/audit/*",
            "sys/audit/anything",
            &[Delete, Update, Create],
        ),
        Area::new(
            "sys/config/auditing/*",
            "sys/config/auditing/request-headers/anything",
            &[Update, Create, Delete],
        ),
    ],
    label: "controls the audit trail",
    help: "grant `read` and `sudo` on `sys/audit` to list devices; keep changes to a \
           break-glass policy",
};

impl Rule for AuditAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "audit-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "disabling or reconfiguring audit devices",
            source: include_str!("audit_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let effect = "holders can disable or redirect the audit log and act without a trace";
        PROBE.report_effects(&self.meta(), ctx, |_| effect, out);
    }
}
