//! ## What it does
//! Flags any access to `sys/raw` and `sys/raw/*` (read, list, write or delete;
//! root-protected, so only with `sudo`).
//!
//! ## Why is this bad?
//! `sys/raw` reads and writes the storage beneath the barrier, decrypted, beneath every ACL:
//! every secret, token and policy of the server. A write can corrupt or forge any of them.
//! The endpoint exists only when the server enables `raw_storage_endpoint`, but a policy
//! should never depend on that.
//!
//! ## Example
//! ```hcl
//! path "sys/*" {
//!   capabilities = ["read", "list", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/*" {
//!   capabilities = ["read", "list", "sudo"]
//! }
//!
//! path "sys/raw*" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (`sys/raw`, `sys/raw/*`)

use crate::acl::Operation::{self, Create, Delete, List, Read, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct RawStorage;

const ALL: &[Operation] = &[Read, List, Update, Create, Delete];

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new("sys/raw", "sys/raw", ALL),
        Area::new("sys/raw/*", "sys/raw/anything", ALL),
    ],
    label: "raw storage",
    help: "deny `sys/raw*` explicitly, or narrow the grant so that it does not cover \
           `sys/raw`",
};

impl Rule for RawStorage {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "raw-storage",
            severity: Severity::Error,
            category: Category::Security,
            summary: "access to raw storage (`sys/raw`) beneath every ACL",
            source: include_str!("raw_storage.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let effect = "`sys/raw` reads and writes decrypted storage beneath every ACL, every \
                      secret and token included";
        PROBE.report_effects(&self.meta(), ctx, |_| effect, out);
    }
}
