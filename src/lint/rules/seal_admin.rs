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

use crate::acl::Operation::{self, Create, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::wording::lower;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct SealAdmin;

const WRITE: &[Operation] = &[Update, Create];

const PROBE: AreaProbe = AreaProbe {
    areas: &[
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
    ],
    label: "operates the seal",
    help: "keep seal, step-down, root generation, rekey and rotation to a break-glass \
           operator policy",
};

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
        let severity = self.meta().severity;
        let describe = |finding: &Finding| {
            let (effect, severe) = effect(finding);
            let weight = if severe { severity } else { lower(severity) };
            (finding.message(effect), weight)
        };
        PROBE.report(&self.meta(), ctx, describe, out);
    }
}

/// What the reached endpoint lets holders do, and whether it is an outage or root-level.
fn effect(finding: &Finding) -> (&'static str, bool) {
    match finding.area.pattern {
        "sys/seal" => (
            "holders can seal the server and take it offline for everyone",
            true,
        ),
        "sys/step-down" => ("holders can force the active node to step down", false),
        "sys/generate-root/*" => ("holders can drive a root token generation", true),
        "sys/rekey/*" | "sys/rekey-recovery-key/*" => (
            "holders can start rekeying the unseal or recovery keys",
            true,
        ),
        _ => ("holders can rotate the barrier encryption keyring", false),
    }
}
