//! ## What it does
//! Flags rules that let holders seal the server (`sys/seal`), force the active node to step
//! down (`sys/step-down`), drive root token generation (`sys/generate-root/*`), rekey the
//! unseal or recovery keys (`sys/rekey/*`, `sys/rekey-recovery-key/*`), or rotate the
//! encryption keyring (`sys/rotate*`).
//!
//! ## Why is this bad?
//! Sealing takes the whole server offline for everyone until operators unseal it; step-down
//! forces a failover. Root generation and rekeying are the ceremonies that guard the root of
//! trust (Vault serves some of them unauthenticated, but a policy granting them states an
//! intent a reviewer should see). Rotation is an operator task.
//!
//! ## Example
//! ```hcl
//! path "sys/seal" {
//!   capabilities = ["update", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/seal-status" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.6 (`sys/seal`, `sys/step-down` always need sudo) and section 6

use super::helpers::{probe_and_report, Area};
use crate::acl::Operation::{self, Create, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct SealAdmin;

const WRITE: &[Operation] = &[Update, Create];

const AREAS: &[Area] = &[
    Area::new("sys/seal", "sys/seal", WRITE),
    Area::new("sys/step-down", "sys/step-down", WRITE),
    Area::new("sys/generate-root/*", "sys/generate-root/attempt", WRITE),
    Area::new("sys/rekey/*", "sys/rekey/init", WRITE),
    Area::new(
        "sys/rekey-recovery-key/*",
        "sys/rekey-recovery-key/init",
        WRITE,
    ),
    Area::new("sys/rotate", "sys/rotate", WRITE),
    Area::new("sys/rotate/*", "sys/rotate/keyring", WRITE),
];

impl Rule for SealAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "seal-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "sealing, step-down, root generation, rekeying or key rotation",
            source: include_str!("seal_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        probe_and_report(
            &self.meta(),
            ctx,
            AREAS,
            [
                "operates the seal",
                "holders can seal or fail over the server, or take part in root generation, \
                 rekeying and key rotation",
                "keep seal, step-down, rekey and rotation to a break-glass operator policy",
            ],
            out,
        );
    }
}
