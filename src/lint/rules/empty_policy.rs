//! ## What it does
//! Flags a policy that the target accepts but that grants nothing: it has no `path` block at
//! all (only comments, whitespace or a `name`).
//!
//! ## Why is this bad?
//! The write succeeds and the policy can be attached to roles and tokens, so it looks like it
//! does something; it grants nothing. Usually its rules were commented out, or moved to
//! another file and this one left behind. (An empty text is refused by the write endpoint:
//! that is the error `invalid-empty-policy`, not this finding.)
//!
//! ## Example
//! ```hcl
//! # path "secret/data/app/*" {
//! #   capabilities = ["read"]
//! # }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.1 (empty text parses to a policy with zero paths) and section 5 (only an
//!   empty body is refused); checked on OpenBao 2.7.2: comments only, whitespace only and
//!   `name = "x"` alone are all accepted

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::span::Span;

pub struct EmptyPolicy;

impl Rule for EmptyPolicy {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "empty-policy",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a policy without a `path` block: accepted, and grants nothing",
            source: include_str!("empty_policy.rs"),
        }
    }

    /// Cost: O(1).
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        if !ctx.policy.rules.is_empty() {
            return;
        }
        let meta = self.meta();
        let message = format!(
            "policy `{}` has no `path` block: the target accepts it, and it grants nothing",
            ctx.policy.name
        );
        out.push(
            diagnostic(&meta, first_token(&ctx.policy.source.text), message)
                .with_label("no `path` block")
                .with_help(
                    "add the `path` blocks this policy is for, or delete the file and detach \
                     the policy from its roles",
                ),
        );
    }
}

/// The first non-blank character of the text (an empty span at 0 for blank text), so that
/// a file-level `capable:ignore` above it can attach.
fn first_token(text: &str) -> Span {
    let start = text.len() - text.trim_start().len();
    let end = text[start..]
        .char_indices()
        .nth(1)
        .map_or(text.len(), |(index, _)| start + index);
    Span::new(start, end)
}
