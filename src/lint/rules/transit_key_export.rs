//! ## What it does
//! Flags grants that let key material leave a transit mount or make it exportable: `read` on
//! `export/<type>/<key>` and `backup/<key>`, and `update` on `keys/<key>/config` (which sets
//! `exportable`, `allow_plaintext_backup` and `deletion_allowed`). Transit mounts are those
//! declared in `capable.yaml` and `transit/`.
//!
//! ## Why is this bad?
//! Transit's promise is that keys never leave it: applications encrypt and decrypt through
//! the API. An export or a plaintext backup hands the key itself to the holder, and a key
//! `config` write can turn exporting or deletion on (exporting cannot be turned off again).
//!
//! ## Example
//! ```hcl
//! path "transit/keys/app/config" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "transit/encrypt/app" {
//!   capabilities = ["update"]
//! }
//!
//! path "transit/decrypt/app" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## References
//! - the transit endpoints of the OpenAPI documents (`src/endpoints/`)

use super::endpoint_reach::{report_engine, EngineEndpoint};
use crate::acl::Operation::{Create, Read, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct TransitKeyExport;

const ENDPOINTS: &[EngineEndpoint] = &[
    EngineEndpoint {
        kind: "transit",
        template: "export/{type}/{name}",
        operations: &[Read],
        effect: "exports the key material",
        fields: &[],
    },
    EngineEndpoint {
        kind: "transit",
        template: "export/{type}/{name}/{version}",
        operations: &[Read],
        effect: "exports the key material",
        fields: &[],
    },
    EngineEndpoint {
        kind: "transit",
        template: "backup/{name}",
        operations: &[Read],
        effect: "backs the key up, key material included",
        fields: &[],
    },
    EngineEndpoint {
        kind: "transit",
        template: "keys/{name}/config",
        operations: &[Update, Create],
        effect: "can make the key exportable or deletable",
        fields: &["exportable", "allow_plaintext_backup", "deletion_allowed"],
    },
];

impl Rule for TransitKeyExport {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "transit-key-export",
            severity: Severity::Warning,
            category: Category::Security,
            summary:
                "transit `export/`, `backup/` or key `config`: key material can leave the engine",
            source: include_str!("transit_key_export.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        report_engine(
            &self.meta(),
            ctx,
            ENDPOINTS,
            "key material",
            "grant the operations applications use (`encrypt/<key>`, `decrypt/<key>`, \
             `sign/<key>`); keep export, backup and key configuration for key administrators",
            out,
        );
    }
}
