//! The lint engine: a flat registry of rules ([`codes`]), each in its own file under
//! `rules/` whose `//!` doc comment is its user documentation.

pub mod codes;
pub mod rules;

use crate::acl::Acl;
use crate::config::Mounts;
use crate::diag::{Diagnostic, Severity};
use crate::policy::Policy;
use crate::target::Target;

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

/// What a per-policy rule sees: one policy, validated, and the ACL of that policy alone
/// (its own rules merged, so carve-outs such as a more specific deny are respected).
pub struct PolicyContext<'a> {
    pub policy: &'a Policy,
    pub acl: &'a Acl,
    pub target: Target,
    pub mounts: &'a Mounts,
}

/// A lint rule. Rules that judge access ask `ctx.acl` rather than matching pattern text.
pub trait Rule: Sync {
    fn meta(&self) -> RuleMeta;

    /// Findings in one policy, pushed with this rule's id and default severity.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let _ = (ctx, out);
    }
}
