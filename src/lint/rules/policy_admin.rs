//! ## What it does
//! Flags a rule that lets holders write ACL policies: `create`, `update` or `patch` (or
//! `delete`) on `sys/policies/acl/<name>` or `sys/policy/<name>`.
//!
//! ## Why is this bad?
//! Whoever can write a policy can write one that they hold, and grant themselves anything:
//! it is root in disguise. Deleting a policy removes the denies it carries. A pattern limited
//! to some names (`sys/policies/acl/app-*`) is still an escalation if a holder also holds, or
//! can obtain, one of those policies; that case is reported one severity lower, and so is a
//! templated name (`sys/policies/acl/{{identity.entity.name}}`, self-service policies). The
//! check asks the policy's own ACL, so a more specific `deny` carve-out is respected;
//! templated rules are resolved for a holder whose identity makes them apply (shown as
//! `self`).
//!
//! ## Example
//! ```hcl
//! path "sys/policies/acl/*" {
//!   capabilities = ["create", "read", "update", "delete", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # Manage policies from CI with a reviewed change, not from a long-lived token.
//! path "sys/policies/acl/*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## References
//! - spec section 5 (`sys/policy` and `sys/policies/acl` writes)

use crate::acl::Operation::{Create, Delete, Patch, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct PolicyAdmin;

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::named(
            "sys/policies/acl/*",
            "sys/policies/acl/anything",
            &[Update, Create, Patch, Delete],
        ),
        Area::named(
            "sys/policy/*",
            "sys/policy/anything",
            &[Update, Create, Delete],
        ),
    ],
    label: "writes policies",
    help: "grant `read` and `list` only, and change policies through a reviewed pipeline; \
           if this token must manage some policies, deny it its own",
};

impl Rule for PolicyAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "policy-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "write access to ACL policies: holders can rewrite their own rights",
            source: include_str!("policy_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        PROBE.report_effects(&self.meta(), ctx, effect, out);
    }
}

/// What holders gain: rewriting any policy, the one their identity names, or those they may
/// also hold; or only deleting policies.
fn effect(finding: &Finding) -> &'static str {
    let writes = finding.operations.iter().any(|op| *op != Delete);
    match (writes, finding.broad) {
        (true, false) if finding.templated => {
            "every holder can rewrite the policy its identity names, and grant itself anything \
             through it when it holds that policy"
        }
        (true, true) => {
            "holders can rewrite any policy, their own included, and grant themselves anything"
        }
        (true, false) => {
            "a holder that also holds one of these policies can grant itself anything through it"
        }
        (false, _) => "holders can delete policies, and with them the denies they carry",
    }
}
