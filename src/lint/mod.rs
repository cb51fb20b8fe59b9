//! The lint engine: a flat registry of rules ([`codes`]), each in its own file under
//! `rules/` whose `//!` doc comment is its user documentation.
//!
//! Layers: a rule sees a [`PolicyContext`] (or a [`RoleContext`]), built once per policy by
//! the [`engine`]; the machinery rules share is split by what it holds: [`matching`]
//! (patterns without an ACL), [`holder`] (asking the ACL as a holder), [`probe`] (sensitive
//! areas), [`kv`] (KV mounts), [`synthetic_identity`] (templated policies) and [`wording`]
//! (diagnostics). The lint layer reads its configuration as [`settings::LintSettings`] and
//! never imports `crate::config`, `crate::inventory` or `crate::workspace`.

pub mod codes;
pub mod context;
pub mod engine;
pub mod holder;
pub mod kv;
pub mod matching;
pub mod namespaces;
pub mod probe;
pub mod reach;
pub mod rules;
pub mod settings;
pub mod suppress;
pub mod synthetic_identity;
pub mod wording;

pub use context::{PolicyContext, PolicyIndex, RoleContext, RoleFinding};

use crate::diag::{Diagnostic, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Invalid,
    Correctness,
    Security,
    Style,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Invalid => "invalid",
            Category::Correctness => "correctness",
            Category::Security => "security",
            Category::Style => "style",
        }
    }
}

/// What the registry knows about a rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    /// Kebab-case name of what is flagged, e.g. `literal-star`.
    pub id: &'static str,
    pub severity: Severity,
    pub category: Category,
    /// One line: what the rule flags.
    pub summary: &'static str,
    /// The rule file's source (`include_str!`): its `//!` lines are the documentation.
    pub source: &'static str,
}

impl RuleMeta {
    /// The rule's documentation: its file's `//!` doc comment, verbatim.
    pub fn documentation(&self) -> String {
        doc_comment(self.source)
    }
}

/// Extracts the leading `//!` comment block of a Rust file as plain text.
pub fn doc_comment(source: &str) -> String {
    let mut lines = Vec::new();
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            break;
        };
        lines.push(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// A lint rule. Rules that judge access ask `ctx.acl` rather than matching pattern text.
pub trait Rule: Sync {
    fn meta(&self) -> RuleMeta;

    /// Findings in one policy, pushed with this rule's id and default severity.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let _ = (ctx, out);
    }
}

/// The registry entry of a rule id, if any. Cost: O(rules).
pub fn rule_meta(id: &str) -> Option<RuleMeta> {
    codes::find(id).map(|rule| rule.meta())
}

/// Every registered rule's metadata, in catalog order.
pub fn all_rule_metas() -> Vec<RuleMeta> {
    codes::RULES.iter().map(|rule| rule.meta()).collect()
}

/// The registered rule id closest to `id` (for "did you mean"), if any is close enough.
/// Cost: O(rules × id length²).
pub fn suggest_rule_id(id: &str) -> Option<&'static str> {
    let ids = codes::RULES.iter().map(|rule| rule.meta().id);
    crate::suggest::closest(
        ids,
        |candidate| edit_distance(id, candidate),
        |candidate| (candidate.len() / 3).max(2),
    )
}

/// Kept here for callers that reach the distance through `lint`.
pub use crate::suggest::edit_distance;

/// The stable documentation anchor of a rule: the README's rule table has an anchor per id.
pub fn rule_help_uri(id: &str) -> String {
    format!("{}/blob/main/README.md#{id}", project_url())
}

/// The project's home: `repository` from Cargo.toml, or a placeholder until it is set.
pub fn project_url() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => "https://github.com/capable-policies/capable",
        repository => repository,
    }
}

/// The README's rule table (between `<!-- rules:start -->` and `<!-- rules:end -->`),
/// generated from the registry. `capable rules --format markdown` prints it.
pub fn rules_markdown_table() -> String {
    let mut table =
        String::from("| Rule | Severity | Category | What it flags |\n|---|---|---|---|\n");
    for meta in all_rule_metas() {
        let summary = meta.summary.replace('|', "\\|");
        table.push_str(&format!(
            "| <a id=\"{id}\"></a>`{id}` | {severity} | {category} | {summary} |\n",
            id = meta.id,
            severity = meta.severity,
            category = meta.category.name(),
        ));
    }
    table
}
