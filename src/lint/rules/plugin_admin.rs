//! ## What it does
//! Flags rules that let holders register, replace or remove plugins in the catalog
//! (`sys/plugins/catalog/*`, root-protected) or reload plugin backends
//! (`sys/plugins/reload/*`).
//!
//! ## Why is this bad?
//! A registered plugin is a binary that Vault runs with access to the data of every mount
//! using it; replacing a plugin's registration swaps the code behind an existing mount.
//! Reloading backends interrupts every mount of a plugin.
//!
//! ## Example
//! ```hcl
//! path "sys/plugins/*" {
//!   capabilities = ["create", "update", "delete", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "sys/plugins/catalog" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (`sys/plugins/catalog/*` is root-protected)

use crate::acl::Operation::{Create, Delete, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::wording::lower;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct PluginAdmin;

const RELOAD: &str = "sys/plugins/reload/*";

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new(
            "sys/plugins/catalog/*",
            "sys/plugins/catalog/secret/anything",
            &[Update, Create, Delete],
        ),
        Area::new(RELOAD, "sys/plugins/reload/backend", &[Update]),
    ],
    label: "administers plugins",
    help: "grant `read` on `sys/plugins/catalog` to list plugins; keep registration and \
           reloads to a break-glass policy",
};

impl Rule for PluginAdmin {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "plugin-admin",
            severity: Severity::Error,
            category: Category::Security,
            summary: "registering, replacing or reloading plugins",
            source: include_str!("plugin_admin.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let severity = self.meta().severity;
        PROBE.report(
            &self.meta(),
            ctx,
            |finding| describe(finding, severity),
            out,
        );
    }
}

/// The message and severity of a finding: reloads interrupt service (one step lower than the
/// rule's `severity`); catalog writes replace code, at `severity` when they reach any plugin.
fn describe(finding: &Finding, severity: Severity) -> (String, Severity) {
    if finding.area.pattern == RELOAD {
        let effect = "holders can restart plugin backends, interrupting every mount of the plugin";
        return (finding.message(effect), lower(severity));
    }
    let effect = if finding.broad {
        "holders can register or replace plugin code that runs inside the server with the data \
         of its mounts"
    } else {
        "holders can replace the code of the named plugin, which runs with the data of its mounts"
    };
    (finding.message(effect), finding.scaled(severity))
}
