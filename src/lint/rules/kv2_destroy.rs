//! ## What it does
//! Flags grants that destroy KV version 2 data for good: `delete` on `M/metadata/<key>`
//! (every version and the key's metadata) and `update` on `M/destroy/<key>` (the versions
//! named). Mounts are those the policy's KV v2 paths show, those declared in `capable.yaml`,
//! and `secret/`.
//!
//! ## Why is this bad?
//! KV v2 keeps versions so that a bad write or a soft delete (`delete` on `M/data/<key>`,
//! `update` on `M/delete/<key>`) can be undone. Metadata deletion and `destroy` cannot be
//! undone: a holder can erase a secret's whole history. Applications rarely need it; give it
//! to a break-glass role, not to every writer.
//!
//! ## Example
//! ```hcl
//! path "secret/metadata/app/*" {
//!   capabilities = ["read", "list", "delete"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/metadata/app/*" {
//!   capabilities = ["read", "list"]
//! }
//!
//! path "secret/delete/app/*" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## References
//! - spec section 7 (KV v2 layout)

use super::endpoint_reach::{report_engine, EngineEndpoint};
use crate::acl::Operation::{Delete, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct Kv2Destroy;

const ENDPOINTS: &[EngineEndpoint] = &[
    EngineEndpoint {
        kind: "kv-v2",
        template: "metadata/{path}",
        operations: &[Delete],
        effect: "deletes every version of the secret and its metadata, for good",
        fields: &[],
    },
    EngineEndpoint {
        kind: "kv-v2",
        template: "destroy/{path}",
        operations: &[Update],
        effect: "destroys versions of the secret, for good",
        fields: &[],
    },
];

impl Rule for Kv2Destroy {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "kv2-destroy",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "KV v2 `metadata/` delete or `destroy/`: every version of a secret, gone",
            source: include_str!("kv2_destroy.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        report_engine(
            &self.meta(),
            ctx,
            ENDPOINTS,
            "irreversible",
            "grant soft deletion instead (`delete` on `data/`, `update` on `delete/`), which \
             `undelete/` can reverse; keep destruction for a break-glass policy",
            out,
        );
    }
}
