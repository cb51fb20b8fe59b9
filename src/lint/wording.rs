//! How findings are worded and where they point: backticked lists, diagnostics with a rule's
//! id and severity, the span of a capability or of part of a label.

use super::{PolicyContext, RuleMeta};
use crate::diag::{Diagnostic, Severity};
use crate::policy::{CapSet, Capability, Rule};
use crate::span::Span;

/// `read`, `list` → "`read`, `list`".
pub fn ticked(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The capabilities of a set, ticked, in declaration order.
pub fn ticked_caps(set: CapSet) -> String {
    ticked(set.iter().map(Capability::name))
}

/// A diagnostic with the rule's id and default severity.
pub fn diagnostic(meta: &RuleMeta, span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(meta.id, meta.severity, span, message)
}

/// A diagnostic with an explicit severity (for a rule whose findings differ in weight).
pub fn diagnostic_at(
    meta: &RuleMeta,
    severity: Severity,
    span: Span,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(meta.id, severity, span, message)
}

/// The span of a capability as written in the block, else the `policy =` value, else the
/// `capabilities` list, else the label.
pub fn capability_span(rule: &Rule, capability: Capability) -> Span {
    if let Some(token) = rule.capability_list.iter().find(|c| c.value == capability) {
        return token.span;
    }
    if let Some(old) = &rule.extra().old_policy {
        return old.span;
    }
    rule.capabilities_span.unwrap_or(rule.pattern_span)
}

/// The span of `raw[index..index + len]` inside a label token when the token is the label
/// quoted verbatim; otherwise the whole token (escapes or JSON make offsets unreliable).
pub fn label_sub_span(ctx: &PolicyContext<'_>, rule: &Rule, index: usize, len: usize) -> Span {
    let token = ctx.policy.source.slice(rule.pattern_span);
    if token.len() == rule.raw_pattern.len() + 2 && token[1..token.len() - 1] == rule.raw_pattern {
        let start = rule.pattern_span.start + 1 + index;
        return Span::new(start, start + len);
    }
    rule.pattern_span
}

/// One step down from a rule's default severity, for findings limited to names the policy
/// spells out.
pub fn lower(severity: Severity) -> Severity {
    match severity {
        Severity::Error => Severity::Warning,
        _ => Severity::Info,
    }
}
