//! ## What it does
//! Flags rules that let holders revoke leases by prefix or by force:
//! `sys/leases/revoke-prefix/*`, `sys/leases/revoke-force/*` and the legacy
//! `sys/revoke-prefix/*`, `sys/revoke-force/*` (root-protected, so only with `sudo`).
//!
//! ## Why is this bad?
//! A prefix revocation ends every lease and token issued under it at once: `auth/` logs
//! everyone out, `database/creds/` cuts every application off its database.
//! `revoke-force` also ignores backend errors, leaving credentials alive in the backend while
//! Vault forgets them.
//!
//! ## Example
//! ```hcl
//! path "sys/leases/revoke-prefix/*" {
//!   capabilities = ["update", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/leases/revoke" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (`leases/revoke-prefix/*`, `leases/revoke-force/*`)

use crate::acl::Operation::Update;
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct LeaseRevokePrefix;

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new(
            "sys/leases/revoke-prefix/*",
            "sys/leases/revoke-prefix/anything",
            &[Update],
        ),
        Area::new(
            "sys/leases/revoke-force/*",
            "sys/leases/revoke-force/anything",
            &[Update],
        ),
        Area::new(
            "sys/revoke-prefix/*",
            "sys/revoke-prefix/anything",
            &[Update],
        ),
        Area::new("sys/revoke-force/*", "sys/revoke-force/anything", &[Update]),
    ],
    label: "mass revocation",
    help: "grant `update` on `sys/leases/revoke` to revoke single leases; keep prefix \
           and forced revocation to a break-glass policy",
};

impl Rule for LeaseRevokePrefix {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "lease-revoke-prefix",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "revoking every lease under a prefix, or by force",
            source: include_str!("lease_revoke_prefix.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let effect = "holders can revoke every lease and token issued under a prefix at once";
        PROBE.report_effects(&self.meta(), ctx, |_| effect, out);
    }
}
