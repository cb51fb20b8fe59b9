//! ## What it does
//! Flags a `+` that is not a whole path segment, such as `secret/app+`, `+foo/bar` or
//! `secret/+app/config`.
//!
//! ## Why is this bad?
//! `+` matches one segment only when it *is* the whole segment. Inside a segment it is a
//! literal character, so the rule matches only paths containing a real `+`. `a/+b` is a trap:
//! Vault stores it as a wildcard pattern (it contains `/+`), yet at match time the segment
//! `+b` is compared literally, so it is in effect an exact rule for `a/+b`.
//!
//! ## Example
//! ```hcl
//! path "secret/data/+app/config" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/+/config" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.5, step 7, and section 3.4

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, label_sub_span};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::pattern::has_segment_wildcards;

pub struct LiteralPlus;

impl Rule for LiteralPlus {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "literal-plus",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "`+` that is not a whole segment is a literal character",
            source: include_str!("literal_plus.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            let raw = rule.raw_pattern.as_str();
            let slash = usize::from(raw.starts_with('/'));
            let normalized = &raw[slash..];
            let Some((offset, segment)) = literal_plus_segment(normalized) else {
                continue;
            };
            let fixed = replace_segment(normalized, offset, segment.len());
            let message = if has_segment_wildcards(normalized) && segment.starts_with('+') {
                format!(
                    "`{segment}` in `{normalized}` is compared literally: Vault stores the rule \
                     as a wildcard pattern, but `+` is a wildcard only as a whole segment"
                )
            } else {
                format!(
                    "`+` in `{normalized}` is a literal character, not a wildcard: the rule \
                     matches only paths with a real `+` there"
                )
            };
            let span = label_sub_span(ctx, rule, slash + offset, segment.len());
            out.push(
                diagnostic(&meta, span, message)
                    .with_label("literal `+`")
                    .with_help(format!(
                        "to match any one segment make `+` the whole segment: `{fixed}`"
                    )),
            );
        }
    }
}

/// The byte offset and text of the first segment holding a `+` without being exactly `+`.
fn literal_plus_segment(normalized: &str) -> Option<(usize, &str)> {
    let mut offset = 0;
    for segment in normalized.split('/') {
        if segment.contains('+') && segment != "+" {
            return Some((offset, segment));
        }
        offset += segment.len() + 1;
    }
    None
}

fn replace_segment(normalized: &str, offset: usize, len: usize) -> String {
    let segment = &normalized[offset..offset + len];
    let replacement = if segment.ends_with('*') { "+/*" } else { "+" };
    format!(
        "{}{}{}",
        &normalized[..offset],
        replacement,
        &normalized[offset + len..]
    )
}
