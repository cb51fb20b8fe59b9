//! ## What it does
//! Flags a `# capable:ignore` comment that suppresses nothing: it is not attached to a `path`
//! block, it names a rule that does not exist, it names an `invalid-` rule (those cannot be
//! suppressed), or the rule it names has no finding in its block. The same for a
//! `# capable:ignore-file` comment (no finding of the rule in the file) and for
//! `per-file-ignores` in `capable.yaml` (no finding of the rule in the files the glob
//! matches, or a glob that matches no file; reported when the whole tree is checked).
//!
//! ## Why is this bad?
//! A suppression is a promise that a reviewer looked at a finding and accepted it. One that
//! suppresses nothing is stale (the block was fixed or moved), misplaced (a blank line
//! between the comment and the block detaches it) or mistyped, and it would silently hide a
//! future finding that nobody reviewed. An ignore cannot hide an `invalid-` error: the target
//! refuses such a policy whatever the comment says.
//!
//! An ignore attaches to a block when it is at the end of the block's first line, or on a
//! comment line directly above it (a run of comment lines counts, a blank line does not).
//! A finding that both a block ignore and a file ignore cover counts for the block ignore.
//! Rules turned `off` in `capable.yaml` are not reported here.
//!
//! ## Example
//! ```hcl
//! # capable:ignore policy-admin -- the bootstrap job manages policies
//!
//! path "secret/data/app/*" {
//!   capabilities = ["read"] # capable:ignore literal-star
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # capable:ignore policy-admin -- the bootstrap job manages policies
//! path "sys/policies/acl/*" {
//!   capabilities = ["create", "update"]
//! }
//! ```

use crate::diag::Severity;
use crate::lint::{Category, Rule, RuleMeta};

/// Reported by the engine ([`crate::lint::suppress`]), not by `check_policy`.
pub struct UnusedIgnore;

impl Rule for UnusedIgnore {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "unused-ignore",
            severity: Severity::Warning,
            category: Category::Style,
            summary: "a `capable:ignore` comment or `per-file-ignores` entry suppresses nothing",
            source: include_str!("unused_ignore.rs"),
        }
    }
}
