//! ## What it does
//! Flags a `{{...}}` template in a path label that is not a variable Vault can substitute in
//! an ACL policy.
//!
//! ## Why is this bad?
//! Vault does not check template variables when the policy is written. When it builds a
//! token's ACL and a substitution fails, that one rule is **silently skipped**: the policy
//! is accepted and the rule never applies, for any token. Whole maps and lists
//! (`identity.entity.metadata`, `identity.entity.groups.names`) cannot be substituted either.
//!
//! Valid variables: `identity.entity.id`, `identity.entity.name`,
//! `identity.entity.metadata.<key>`, `identity.entity.aliases.<mount accessor>.id`, `.name`,
//! `.metadata.<key>`, `.custom_metadata.<key>`, `identity.groups.ids.<group id>.id`, `.name`,
//! `.metadata.<key>`, `identity.groups.names.<group name>.id`, `.name`, `.metadata.<key>`,
//! `time.now`, `time.now.plus.<duration>`, `time.now.minus.<duration>`.
//!
//! ## Example
//! ```hcl
//! path "secret/data/users/{{identity.entity.username}}/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/users/{{identity.entity.name}}/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.8 (templated policies)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct UnknownTemplateVariable;

const VALID: &str = "`identity.entity.id`, `identity.entity.name`, \
    `identity.entity.metadata.<key>`, `identity.entity.aliases.<mount accessor>.id|name`, \
    `identity.entity.aliases.<mount accessor>.metadata.<key>`, \
    `identity.entity.aliases.<mount accessor>.custom_metadata.<key>`, \
    `identity.groups.ids.<group id>.id|name`, `identity.groups.ids.<group id>.metadata.<key>`, \
    `identity.groups.names.<group name>.id|name`, \
    `identity.groups.names.<group name>.metadata.<key>`, `time.now`, \
    `time.now.plus.<duration>`, `time.now.minus.<duration>`";

/// Why a variable cannot be substituted.
enum Problem {
    Unknown,
    /// A map or list, which ACL templating cannot insert.
    NotAString,
}

impl Rule for UnknownTemplateVariable {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "unknown-template-variable",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a template variable Vault cannot substitute: the rule silently never applies",
            source: include_str!("unknown_template_variable.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            for variable in &rule.template_vars {
                let name = variable.value.trim();
                let Some(problem) = check(name) else {
                    continue;
                };
                let message = if name.is_empty() {
                    format!(
                        "the template `{{{{}}}}` is empty, so Vault silently skips `{}` for \
                         every token",
                        crate::diag::shorten(&rule.raw_pattern)
                    )
                } else {
                    let what = match problem {
                        Problem::Unknown => "is not a template variable",
                        Problem::NotAString => "is a map or list, not a string",
                    };
                    format!(
                        "`{}` {what}, so Vault silently skips `{}` for every token",
                        crate::diag::shorten(name),
                        crate::diag::shorten(&rule.raw_pattern)
                    )
                };
                let better = match problem {
                    Problem::Unknown => suggestion(name),
                    Problem::NotAString => Some(format!("{name}.<key>")),
                };
                let help = match better {
                    Some(better) => format!("did you mean `{better}`? valid variables: {VALID}"),
                    None => format!("valid variables: {VALID}"),
                };
                out.push(
                    diagnostic(&meta, variable.span, message)
                        .with_label("cannot be substituted")
                        .with_help(help),
                );
            }
        }
    }
}

/// `None` when the variable is valid in ACL templating (spec 1.8).
fn check(name: &str) -> Option<Problem> {
    if matches!(
        name,
        "identity.entity.id" | "identity.entity.name" | "time.now"
    ) {
        return None;
    }
    if matches!(
        name,
        "identity.entity.metadata" | "identity.entity.groups.names" | "identity.entity.groups.ids"
    ) {
        return Some(Problem::NotAString);
    }
    if let Some(key) = name.strip_prefix("identity.entity.metadata.") {
        return (key.is_empty()).then_some(Problem::Unknown);
    }
    if let Some(rest) = name.strip_prefix("identity.entity.aliases.") {
        return check_alias(rest);
    }
    if let Some(rest) = name
        .strip_prefix("identity.groups.ids.")
        .or_else(|| name.strip_prefix("identity.groups.names."))
    {
        return check_group(rest);
    }
    if let Some(duration) = name
        .strip_prefix("time.now.plus.")
        .or_else(|| name.strip_prefix("time.now.minus."))
    {
        return (!is_duration(duration)).then_some(Problem::Unknown);
    }
    Some(Problem::Unknown)
}

/// `<accessor>.id|name|metadata.<key>|custom_metadata.<key>`.
fn check_alias(rest: &str) -> Option<Problem> {
    let Some((accessor, field)) = rest.split_once('.') else {
        return Some(Problem::Unknown);
    };
    if accessor.is_empty() {
        return Some(Problem::Unknown);
    }
    match field {
        "id" | "name" => None,
        "metadata" | "custom_metadata" => Some(Problem::NotAString),
        _ => {
            let key = field
                .strip_prefix("metadata.")
                .or_else(|| field.strip_prefix("custom_metadata."));
            (key.is_none_or(str::is_empty)).then_some(Problem::Unknown)
        }
    }
}

/// `<group>.id|name|metadata.<key>`; the group name or id itself may hold dots only before
/// the last field, so the field is taken from the end.
fn check_group(rest: &str) -> Option<Problem> {
    if let Some((group, _)) = rest.rsplit_once('.') {
        if rest.ends_with(".id") || rest.ends_with(".name") {
            return group.is_empty().then_some(Problem::Unknown);
        }
    }
    match rest.split_once(".metadata") {
        Some((group, "")) if !group.is_empty() => Some(Problem::NotAString),
        Some((group, key)) if !group.is_empty() && key.len() > 1 && key.starts_with('.') => None,
        _ => Some(Problem::Unknown),
    }
}

/// A duration as `ParseDurationSecond` reads it: an integer, `<n>d`, or Go units.
fn is_duration(text: &str) -> bool {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    if digits_end == 0 {
        return false;
    }
    let units = &text[digits_end..];
    units.is_empty()
        || units
            .split(|c: char| c.is_ascii_digit() || c == '.')
            .filter(|unit| !unit.is_empty())
            .all(|unit| matches!(unit, "ns" | "us" | "µs" | "ms" | "s" | "m" | "h" | "d"))
}

/// A likely intended variable for a common mistake.
fn suggestion(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("identity.group.") {
        return Some(format!("identity.groups.{rest}"));
    }
    let field = name.strip_prefix("identity.entity.")?;
    if field.contains('.') || field.is_empty() {
        return None;
    }
    Some(match field {
        "username" | "user" | "display_name" => "identity.entity.name".to_string(),
        "uuid" | "entity_id" => "identity.entity.id".to_string(),
        other => format!("identity.entity.metadata.{other}"),
    })
}
