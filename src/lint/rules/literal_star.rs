//! ## What it does
//! Flags a `*` anywhere in a path pattern except its very last character.
//!
//! ## Why is this bad?
//! Vault and OpenBao treat `*` as a glob only as the last character of a pattern. Anywhere
//! else it is a literal character: `secret/*/config` matches only the path
//! `secret/*/config` itself, never `secret/app/config`. The rule silently grants nothing the
//! author meant (Vault issues #2098, #5470). `foo**` is a prefix rule for `foo*`, whose first
//! `*` is literal too.
//!
//! ## Example
//! ```hcl
//! path "secret/data/*/config" {
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
//! - spec section 1.5, steps 8 and 9
//! - Vault issues #2098, #5470

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, label_sub_span};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct LiteralStar;

impl Rule for LiteralStar {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "literal-star",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "`*` not at the end of a pattern is a literal character",
            source: include_str!("literal_star.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            let raw = rule.raw_pattern.as_str();
            let Some(index) = literal_star_index(raw) else {
                continue;
            };
            let normalized = raw.strip_prefix('/').unwrap_or(raw);
            let message = format!(
                "`*` in `{normalized}` is a literal character, not a wildcard: the rule matches \
                 only paths with a real `*` there"
            );
            let help = match segment_suggestion(normalized) {
                Some(fixed) => format!(
                    "to match any one segment write `{fixed}`; `*` is a glob only as the last \
                     character of a pattern"
                ),
                None => "`*` is a glob only as the last character of a pattern; use `+` for \
                         one whole segment"
                    .to_string(),
            };
            out.push(
                diagnostic(&meta, label_sub_span(ctx, rule, index, 1), message)
                    .with_label("literal `*`")
                    .with_help(help),
            );
        }
    }
}

/// The index in the raw label of the first `*` that is not the pattern's last character.
fn literal_star_index(raw: &str) -> Option<usize> {
    let last = raw.len().checked_sub(1)?;
    raw.char_indices()
        .find(|(index, c)| *c == '*' && *index != last)
        .map(|(index, _)| index)
}

/// The pattern with every non-final segment holding a `*` replaced by `+`, when the final
/// segment has no literal `*` (otherwise no mechanical fix exists).
fn segment_suggestion(normalized: &str) -> Option<String> {
    let parts: Vec<&str> = normalized.split('/').collect();
    let (last, init) = parts.split_last()?;
    let body = last.strip_suffix('*').unwrap_or(last);
    if body.contains('*') {
        return None;
    }
    let mut fixed: Vec<&str> = init
        .iter()
        .map(|part| if part.contains('*') { "+" } else { part })
        .collect();
    fixed.push(last);
    Some(fixed.join("/"))
}
