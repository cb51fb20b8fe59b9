//! ## What it does
//! Flags a templated path label whose trailing glob `*` comes directly after a template:
//! `secret/data/{{identity.entity.name}}*`.
//!
//! ## Why is this bad?
//! The template is substituted first, then the glob matches any continuation of the
//! substituted value. For the entity `bob` the rule becomes `secret/data/bob*`, which also
//! matches `secret/data/bobby/...` and `secret/data/bob-admin/...`: the paths of every entity
//! whose name starts with `bob`. A per-user rule meant to keep each holder in its own subtree
//! lets it into the subtrees of others.
//!
//! Templates of identifiers (`identity.entity.id`, `...aliases.<accessor>.id`,
//! `identity.groups.<...>.id`) are not flagged: Vault identifiers are UUIDs of one fixed
//! length, so none is a prefix of another. Nor are `time.now` templates.
//!
//! ## Example
//! ```hcl
//! path "secret/data/users/{{identity.entity.name}}*" {
//!   capabilities = ["read", "update"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/users/{{identity.entity.name}}/*" {
//!   capabilities = ["read", "update"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.8 (templated policies) and section 3.4 (a trailing `*` is a prefix glob)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, label_sub_span};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::Rule as PolicyRule;

pub struct TemplateGlobWidening;

impl Rule for TemplateGlobWidening {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "template-glob-widening",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "a glob right after a template also matches every value that starts with it",
            source: include_str!("template_glob_widening.rs"),
        }
    }

    /// Cost: O(label length) per templated block.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in ctx.templated_rules().filter(|rule| !rule.expired) {
            let Some((variable, star)) = widened_template(rule) else {
                continue;
            };
            let raw = rule.raw_pattern.as_str();
            let before = &raw[..star - variable.len() - 4];
            let message = format!(
                "`*` right after `{{{{{variable}}}}}` in `{raw}` also matches every value that \
                 starts with the holder's: for `bob` the rule covers `{before}bobby...` and \
                 `{before}bob-admin...` too"
            );
            let fixed = format!("{}/*", &raw[..star]);
            out.push(
                diagnostic(&meta, label_sub_span(ctx, rule, star, 1), message)
                    .with_label("widens the template")
                    .with_help(format!(
                        "end the segment at the template: `{fixed}` (and a block for `{}` \
                         itself if that path is needed)",
                        &raw[..star]
                    )),
            );
        }
    }
}

/// The template variable (trimmed) directly before the label's final `*`, and the `*`'s byte
/// index, when its value can be a prefix of another holder's.
fn widened_template(rule: &PolicyRule) -> Option<(&str, usize)> {
    let raw = rule.raw_pattern.as_str();
    let body = raw.strip_suffix("}}*")?;
    let open = body.rfind("{{")?;
    let variable = &body[open + 2..];
    if variable.contains("}}") {
        return None;
    }
    let name = variable.trim();
    if name.ends_with(".id") || name.starts_with("time.") {
        return None;
    }
    // The reported text spells the variable as written, spaces included.
    Some((variable, raw.len() - 1))
}
