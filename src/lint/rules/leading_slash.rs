//! ## What it does
//! Flags a path pattern that starts with `/`.
//!
//! ## Why is this bad?
//! Vault strips exactly one leading `/` from a pattern, so `/secret/foo` is the rule for
//! `secret/foo`: harmless, but it suggests the author thinks in URLs (`/v1/...`) and it
//! hides duplicates of `secret/foo`. With two slashes, `//secret/foo` becomes the rule for
//! `/secret/foo`, which no request can reach, since request paths lose all their leading
//! slashes: that rule never applies.
//!
//! ## Example
//! ```hcl
//! path "/secret/data/app" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.5, step 4, and section 3.1

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, diagnostic_at, label_sub_span};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct LeadingSlash;

impl Rule for LeadingSlash {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "leading-slash",
            severity: Severity::Info,
            category: Category::Style,
            summary: "a path pattern starting with `/`",
            source: include_str!("leading_slash.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            let raw = rule.raw_pattern.as_str();
            let slashes = raw.len() - raw.trim_start_matches('/').len();
            if slashes == 0 {
                continue;
            }
            let bare = raw.trim_start_matches('/');
            let span = label_sub_span(ctx, rule, 0, slashes);
            let diagnostic = if slashes == 1 {
                diagnostic(
                    &meta,
                    span,
                    format!("the leading `/` of `{raw}` is stripped: the rule is for `{bare}`"),
                )
            } else {
                diagnostic_at(
                    &meta,
                    Severity::Warning,
                    span,
                    format!(
                        "only one leading `/` of `{raw}` is stripped: the rule is for `{}`, \
                         which no request path can match",
                        &raw[1..]
                    ),
                )
            };
            out.push(
                diagnostic
                    .with_label("leading `/`")
                    .with_help(format!("write `{bare}`")),
            );
        }
    }
}
