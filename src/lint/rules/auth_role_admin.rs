//! ## What it does
//! Flags rules that let holders write the roles, users, groups, certificates or mappings of
//! any auth method: `auth/<mount>/role/*` (AppRole, Kubernetes, JWT/OIDC, AWS, GCP, Azure,
//! ...), `auth/<mount>/users/*` (userpass, LDAP, Okta, RADIUS), `auth/<mount>/groups/*`,
//! `auth/<mount>/certs/*` (TLS certificates) and `auth/<mount>/map/*` (GitHub), including
//! AppRole `secret-id` generation and userpass password resets.
//!
//! ## Why is this bad?
//! An auth method's role decides which policies a login gets. Whoever writes a role can bind
//! any policy to it and log in with it; whoever mints an AppRole `secret-id` or resets a
//! userpass password can log in as that role or user. Both are privilege escalations. Grants
//! over every role of a method are `error`; grants limited to roles the policy names are
//! reported one severity lower (a trusted orchestrator minting a `secret-id` for one app is a
//! known pattern, but deserves a suppression with a reason).
//!
//! ## Example
//! ```hcl
//! path "auth/approle/role/*" {
//!   capabilities = ["create", "update"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "auth/approle/role/*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## References
//! - Vault auth method API documentation (roles bind `token_policies`)

use crate::acl::Operation::{Create, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct AuthRoleAdmin;

const WRITE: &[crate::acl::Operation] = &[Update, Create];

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new("auth/+/role/*", "auth/approle/role/anything", WRITE),
        Area::new("auth/+/users/*", "auth/userpass/users/anything", WRITE),
        Area::new("auth/+/groups/*", "auth/ldap/groups/anything", WRITE),
        Area::new("auth/+/certs/*", "auth/cert/certs/anything", WRITE),
        Area::new("auth/+/map/*", "auth/github/map/teams/anything", WRITE),
    ],
    label: "writes auth roles",
    help: "grant `read` and `list` on auth method roles; manage them through a reviewed \
           pipeline, and scope credential minting to the exact roles needed",
};

impl Rule for AuthRoleAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "auth-role-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "write access to auth method roles, users or groups: can bind any policy",
            source: include_str!("auth_role_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        PROBE.report_effects(&self.meta(), ctx, effect, out);
    }
}

/// What the reached endpoint lets holders do: mint credentials, reset a password, or write
/// the role itself.
fn effect(finding: &Finding) -> &'static str {
    if finding.witness.contains("/secret-id") {
        return "holders can mint login credentials for the role and get its policies";
    }
    if finding.witness.ends_with("/password") {
        return "holders can reset the user's password and log in as that user";
    }
    "holders can bind any policy to a role, user or group and log in with it"
}
