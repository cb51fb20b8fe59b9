//! ## What it does
//! Flags writes to the roles of credential engines, where a role says what credentials the
//! engine issues: `database/roles/*`, `database/static-roles/*`, `database/config/*` (the
//! connection and its allowed roles), `aws/roles/*`, `ssh/roles/*`, `consul/roles/*`,
//! `nomad/role/*`, `rabbitmq/roles/*`, `kubernetes/roles/*`, `azure/roles/*`,
//! `gcp/roleset/*`, `ldap/role/*`, ... Mounts are those declared in `capable.yaml` and each
//! engine's default path.
//!
//! ## Why is this bad?
//! Whoever writes a role chooses the credentials it is later issued: a database role's
//! creation statements (`GRANT ALL`), an AWS role's policy document, an SSH role's allowed
//! users. Holders who only need credentials need `read` on `creds/<role>`; role writes belong
//! to the engine's administrators.
//!
//! ## Example
//! ```hcl
//! path "database/roles/*" {
//!   capabilities = ["create", "update", "read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "database/creds/app" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - the role endpoints of the OpenAPI documents (`src/endpoints/`)

use super::endpoint_reach::{report_engine, EngineEndpoint};
use crate::acl::Operation::{self, Create, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct SecretsRoleAdmin;

const WRITE: &[Operation] = &[Update, Create];
const CHOOSES: &str = "the holder chooses the credentials the engine issues";

const fn role(kind: &'static str, template: &'static str) -> EngineEndpoint {
    EngineEndpoint {
        kind,
        template,
        operations: WRITE,
        effect: CHOOSES,
        fields: &[],
    }
}

const ENDPOINTS: &[EngineEndpoint] = &[
    role("database", "roles/{name}"),
    role("database", "static-roles/{name}"),
    EngineEndpoint {
        kind: "database",
        template: "config/{name}",
        operations: WRITE,
        effect: "the holder sets the database connection and the roles allowed to use it",
        fields: &[],
    },
    role("aws", "roles/{name}"),
    role("aws", "static-roles/{name}"),
    role("ssh", "roles/{role}"),
    role("consul", "roles/{name}"),
    role("nomad", "role/{name}"),
    role("rabbitmq", "roles/{name}"),
    role("kubernetes", "roles/{name}"),
    role("azure", "roles/{name}"),
    role("gcp", "roleset/{name}"),
    role("gcp", "static-account/{name}"),
    role("gcp", "impersonated-account/{name}"),
    role("ldap", "role/{name}"),
    role("ldap", "static-role/{name}"),
    role("alicloud", "role/{name}"),
    role("mongodbatlas", "roles/{name}"),
    role("terraform", "role/{name}"),
];

impl Rule for SecretsRoleAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "secrets-role-admin",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "writes to the roles of a credential engine (database, aws, ssh, ...): the holder chooses its own credentials",
            source: include_str!("secrets_role_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        report_engine(
            &self.meta(),
            ctx,
            ENDPOINTS,
            "role administration",
            "give credential consumers `read` on `creds/<role>`; keep role writes for the \
             engine's administrators",
            out,
        );
    }
}
