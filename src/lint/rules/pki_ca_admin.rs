//! ## What it does
//! Flags grants on a PKI mount's certificate-authority endpoints: generating or rotating a
//! root (`root/generate/*`, `issuers/generate/root/*`, `root/rotate/*`, `root/replace`),
//! signing intermediates (`root/sign-intermediate`, `issuer/<ref>/sign-intermediate`),
//! installing a signed intermediate or a CA bundle (`intermediate/set-signed`, `config/ca`,
//! `issuers/import/*`), `sign-verbatim`, `root/sign-self-issued`, and deleting the root
//! (`delete` on `root`). PKI mounts are those declared in `capable.yaml` and `pki/`.
//!
//! ## Why is this bad?
//! These endpoints decide what the CA is. A holder can mint a subordinate CA it controls,
//! sign any certificate verbatim (no role constraints on names or lifetimes), replace the
//! issuer every service trusts, or delete it and break every issuance. Certificate consumers
//! need `issue/<role>` or `sign/<role>`, which a role constrains.
//!
//! ## Example
//! ```hcl
//! path "pki/root/sign-intermediate" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "pki/issue/web" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## References
//! - the PKI endpoints of the OpenAPI documents (`src/endpoints/`)

use super::endpoint_reach::{report_engine, EngineEndpoint};
use crate::acl::Operation::{self, Create, Delete, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct PkiCaAdmin;

const WRITE: &[Operation] = &[Update, Create];

const fn ca(template: &'static str, effect: &'static str) -> EngineEndpoint {
    EngineEndpoint {
        kind: "pki",
        template,
        operations: WRITE,
        effect,
        fields: &[],
    }
}

const ENDPOINTS: &[EngineEndpoint] = &[
    ca("root/generate/{exported}", "generates a new root CA"),
    ca(
        "issuers/generate/root/{exported}",
        "generates a new root CA",
    ),
    ca("root/rotate/{exported}", "generates a new root CA"),
    ca("root/replace", "replaces the default issuer"),
    ca(
        "root/sign-intermediate",
        "signs an intermediate CA of the holder's choosing",
    ),
    ca(
        "issuer/{issuer_ref}/sign-intermediate",
        "signs an intermediate CA of the holder's choosing",
    ),
    ca(
        "root/sign-self-issued",
        "signs a self-issued CA certificate",
    ),
    ca(
        "issuer/{issuer_ref}/sign-self-issued",
        "signs a self-issued CA certificate",
    ),
    ca(
        "sign-verbatim",
        "signs any certificate request, unconstrained by a role",
    ),
    ca(
        "sign-verbatim/{role}",
        "signs any certificate request, unconstrained by a role",
    ),
    ca(
        "issuer/{issuer_ref}/sign-verbatim",
        "signs any certificate request, unconstrained by a role",
    ),
    ca(
        "issuer/{issuer_ref}/sign-verbatim/{role}",
        "signs any certificate request, unconstrained by a role",
    ),
    ca("intermediate/set-signed", "installs a CA certificate"),
    ca("config/ca", "imports a CA key and certificate"),
    ca("issuers/import/bundle", "imports a CA key and certificate"),
    ca("issuers/import/cert", "imports a CA certificate"),
    EngineEndpoint {
        kind: "pki",
        template: "root",
        operations: &[Delete],
        effect: "deletes the CA and its key",
        fields: &[],
    },
];

impl Rule for PkiCaAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "pki-ca-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "grants on a PKI mount's CA endpoints: root generation, intermediate signing, sign-verbatim, root deletion",
            source: include_str!("pki_ca_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        report_engine(
            &self.meta(),
            ctx,
            ENDPOINTS,
            "CA administration",
            "give certificate consumers `issue/<role>` or `sign/<role>`; keep CA endpoints \
             for a separate, audited policy",
            out,
        );
    }
}
