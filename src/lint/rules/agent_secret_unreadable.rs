//! ## What it does
//! Checks Vault Agent configurations: for every secret a template reads (consul-template
//! `secret`, `secrets`, `pkiCert`), it asks whether the role that `auto_auth` logs in as may
//! do it, using the role's merged policies from the inventory in `capable.yaml`. It flags a
//! secret the role cannot read (or write, for `secret` with parameters and `pkiCert`, or
//! list, for `secrets`), pointing at the path inside the template. It also says so when it
//! cannot check: the role is not in the inventory, the login names no role, or the template
//! file is not found.
//!
//! ## Why is this bad?
//! The agent renders nothing and the application starts without its secret, or the sidecar
//! retries forever: a `403 permission denied` that only shows up in the pod's logs after
//! deployment.
//!
//! ## Example
//! ```hcl
//! auto_auth {
//!   method "kubernetes" {
//!     mount_path = "auth/kubernetes"
//!     config = { role = "inference-role" }
//!   }
//! }
//! template {
//!   destination = "/vault/secrets/anthropic"
//!   contents    = "{{ with secret \"secret/data/ai/anthropic\" }}{{ .Data.data.key }}{{ end }}"
//! }
//! ```
//! when the role's policies grant only `secret/data/ai/openai`.
//!
//! ## Use instead
//! Read only what the role may read, or grant `read` on the path in one of the role's
//! policies.
//!
//! ## References
//! - spec section 7 (KV v2 paths: consul-template reads `M/data/k` for `M/k`)

use crate::diag::Severity;
use crate::lint::{Category, Rule, RuleMeta};

/// Runs from `crate::agent::check` (a workspace-level check), not per policy.
pub struct AgentSecretUnreadable;

impl Rule for AgentSecretUnreadable {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "agent-secret-unreadable",
            severity: Severity::Error,
            category: Category::Correctness,
            summary: "a Vault Agent template reads a secret its login role cannot read",
            source: include_str!("agent_secret_unreadable.rs"),
        }
    }
}
