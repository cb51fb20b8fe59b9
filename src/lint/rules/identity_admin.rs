//! ## What it does
//! Flags rules that let holders create or update identity entities, entity aliases, groups
//! and group aliases (`identity/entity*`, `identity/entity-alias*`, `identity/group*`,
//! `identity/group-alias*`).
//!
//! ## Why is this bad?
//! Policies attach to entities and groups as well as tokens. Whoever can update a group can
//! add their own entity to a privileged group; whoever can write aliases can attach their
//! login to a privileged entity, or set the metadata that templated policies read. Every
//! token of that entity then carries the extra policies.
//!
//! ## Example
//! ```hcl
//! path "identity/*" {
//!   capabilities = ["create", "read", "update", "delete", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "identity/*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.8 (templated policies read entity and group data)

use crate::acl::Operation::{self, Create, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct IdentityAdmin;

const WRITE: &[Operation] = &[Update, Create];

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new("identity/group", "identity/group", WRITE),
        Area::new("identity/group/*", "identity/group/name/anything", WRITE),
        Area::new("identity/group-alias", "identity/group-alias", WRITE),
        Area::new(
            "identity/group-alias/*",
            "identity/group-alias/id/anything",
            WRITE,
        ),
        Area::new("identity/entity", "identity/entity", WRITE),
        Area::new("identity/entity/*", "identity/entity/id/anything", WRITE),
        Area::new("identity/entity-alias", "identity/entity-alias", WRITE),
        Area::new(
            "identity/entity-alias/*",
            "identity/entity-alias/id/anything",
            WRITE,
        ),
    ],
    label: "writes identities",
    help: "grant `read` and `list` on `identity/`; manage entities and groups through a \
           reviewed pipeline",
};

impl Rule for IdentityAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "identity-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "write access to identity entities, groups or aliases",
            source: include_str!("identity_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        PROBE.report_effects(&self.meta(), ctx, effect, out);
    }
}

/// What writing the reached identity object lets holders do.
fn effect(finding: &Finding) -> &'static str {
    if finding.area.pattern.starts_with("identity/group") {
        return "holders can add their own entity to a privileged group and gain its policies";
    }
    "holders can attach their login to a privileged entity, or rewrite the metadata templated \
     policies trust"
}
