//! ## What it does
//! Checks the `guards:` of `capable.yaml`: access no subject may have. For every role, group
//! and entity of the inventory (and every policy no subject holds, on its own), it asks
//! whether some path matching a guard's `paths` holds one of the guard's `capabilities`,
//! exactly (from the rules' regions, not by sampling), and flags the rule that grants it,
//! with a witness path and the guard's place in `capable.yaml`. Subjects listed in the
//! guard's `except` are allowed to.
//!
//! ## Why is this bad?
//! A guard states an invariant of the whole setup ("only the rotation operator writes the AI
//! keys"). A policy change that breaks it, often in another file than the one under review,
//! gives someone access nobody meant to grant.
//!
//! ## Example
//! ```yaml
//! guards:
//!   - id: anthropic-key-stays-private
//!     never: { capabilities: [read], paths: ["secret/data/ai/anthropic"] }
//!     except: [key-rotators, rita]
//! ```
//! with the inference role's policy widened to
//! ```hcl
//! path "secret/data/ai/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! Narrow the rule, add a `deny` for the guarded paths, or, when the access is intended, list
//! the subject in the guard's `except`.
//!
//! ## References
//! - spec 3.3, 3.4 (which rule decides a path), spec 6 (root-protected paths need `sudo`)

use crate::diag::Severity;
use crate::lint::{Category, Rule, RuleMeta};

/// Runs from `crate::guards::check` (a workspace-level check), not per policy.
pub struct GuardViolated;

impl Rule for GuardViolated {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "guard-violated",
            severity: Severity::Error,
            category: Category::Security,
            summary: "a subject holds access a guard in `capable.yaml` forbids",
            source: include_str!("guard_violated.rs"),
        }
    }
}
