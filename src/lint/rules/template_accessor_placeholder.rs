//! ## What it does
//! Flags an alias template (`identity.entity.aliases.<mount accessor>.…`) whose accessor is
//! not a mount accessor: a placeholder left in (`AUTH_METHOD_ACCESSOR`, `<accessor>`), a
//! mount name written where the accessor belongs (`kubernetes`), or, when `capable.yaml`
//! writes the accessors of its auth mounts (`accessor:` of roles and aliases), an accessor
//! that is none of them.
//!
//! ## Why is this bad?
//! Alias templates name the auth mount by its accessor, which the server generates when the
//! method is enabled (`auth_kubernetes_1a2b3c4d`, seen with `vault auth list`). No entity has
//! an alias on a mount accessor that does not exist, so the substitution fails for every
//! token and the rule is **silently skipped**: the policy is accepted and grants nothing
//! there.
//!
//! Accessors that are Terraform interpolations (`${vault_auth_backend.k8s.accessor}`) are
//! left alone: Terraform fills them in before the policy reaches the server.
//!
//! ## Example
//! ```hcl
//! path "secret/data/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.service_account_namespace}}/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/{{identity.entity.aliases.auth_kubernetes_1a2b3c4d.metadata.service_account_namespace}}/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.8 (templated policies: an alias that is not found skips the rule)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::span::{Span, Spanned};

pub struct TemplateAccessorPlaceholder;

const PREFIX: &str = "identity.entity.aliases.";

impl Rule for TemplateAccessorPlaceholder {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "template-accessor-placeholder",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "an alias template whose accessor is a placeholder or a mount name",
            source: include_str!("template_accessor_placeholder.rs"),
        }
    }

    /// Cost: O(label length) per templated block.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in ctx.templated_rules().filter(|rule| !rule.expired) {
            for variable in &rule.template_vars {
                let Some(accessor) = accessor_of(variable.value.trim()) else {
                    continue;
                };
                if accessor.contains("${") {
                    continue;
                }
                let unknown = ctx
                    .accessors
                    .filter(|known| !known.is_empty())
                    .is_some_and(|known| !known.contains(accessor));
                let what = if looks_like_accessor(accessor) {
                    if !unknown {
                        continue;
                    }
                    "is not the accessor of an auth mount `capable.yaml` declares"
                } else if is_placeholder(accessor) {
                    "is a placeholder, not a mount accessor"
                } else {
                    "is not a mount accessor"
                };
                let message = format!(
                    "`{accessor}` in `{}` {what}: no entity has an alias there, so the rule is \
                     skipped for every token",
                    rule.raw_pattern
                );
                out.push(
                    diagnostic(&meta, accessor_span(ctx, variable, accessor), message)
                        .with_label("not an accessor")
                        .with_help(
                            "write the auth mount's accessor as `vault auth list` shows it, \
                             e.g. `auth_kubernetes_1a2b3c4d`",
                        ),
                );
            }
        }
    }
}

/// The accessor named by an alias template variable.
fn accessor_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(PREFIX)?;
    let (accessor, _) = rest.split_once('.')?;
    (!accessor.is_empty()).then_some(accessor)
}

/// `auth_<type>_<8 hex digits>`: how Vault and OpenBao name auth mount accessors.
fn looks_like_accessor(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("auth_") else {
        return false;
    };
    let Some((kind, suffix)) = rest.rsplit_once('_') else {
        return false;
    };
    let kind_ok = !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    kind_ok && suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Text someone writes to be replaced later: `AUTH_METHOD_ACCESSOR`, `<accessor>`, `$ACCESSOR`,
/// `xxxx`.
fn is_placeholder(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let shouting = text.bytes().any(|b| b.is_ascii_uppercase())
        && !text.bytes().any(|b| b.is_ascii_lowercase());
    shouting
        || lower.contains("accessor")
        || text.starts_with(['<', '$', '%'])
        || lower.trim_matches('x').is_empty()
        || ["changeme", "replace", "todo", "example", "placeholder"]
            .iter()
            .any(|word| lower.contains(word))
}

/// The accessor's own span when the variable is written verbatim, else the variable's.
fn accessor_span(ctx: &PolicyContext<'_>, variable: &Spanned<String>, accessor: &str) -> Span {
    let written = ctx.policy.source.slice(variable.span);
    let Some(start) = written.find(&format!("{PREFIX}{accessor}")) else {
        return variable.span;
    };
    let start = variable.span.start + start + PREFIX.len();
    Span::new(start, start + accessor.len())
}
