//! Policy text to the policy model, validated exactly as the target's write path would.

mod abstime;
pub mod capability;
mod control_group;
mod decode;
pub mod duration;
mod gostr;
mod lower;
pub mod model;
pub mod pattern;
mod template;

use std::sync::Arc;

pub use capability::{CapSet, Capability};
pub use model::{
    ControlGroup, ControlGroupFactor, ParamCaseClash, ParamEntry, ParamMap, ParamValue, Policy,
    Rule, RuleExtra, TemplateFlags,
};
pub use pattern::{PathPattern, PatternKind};

use crate::diag::Diagnostic;
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;

/// The outcome of reading one policy file.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// `None` when the target would refuse the policy (then `diagnostics` holds at least one
    /// `invalid-` error).
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and validates one policy file for a target. Never panics on any input.
pub fn parse_policy(source: Arc<SourceFile>, target: Target) -> Parsed {
    lower::parse_policy(source, target)
}

/// Parses a policy embedded in a larger file (a Terraform heredoc, say): `source.text[range]`
/// is the policy text, and every span of the diagnostics and of the model is shifted by
/// `range.start`, so it points into `source`. The policy is named `name`.
pub fn parse_policy_embedded(
    source: Arc<SourceFile>,
    range: std::ops::Range<usize>,
    name: String,
    target: Target,
) -> Parsed {
    let text = source.text.get(range.clone()).unwrap_or("").to_string();
    let shift = range.start;
    let map = move |span: Span| Span::new(span.start + shift, span.end + shift);
    parse_policy_mapped(source, &text, &map, name, target)
}

/// Parses `text`, a policy derived from `source` (unescaped, dedented or rendered from
/// another syntax), and maps every span of the diagnostics and of the model through
/// `to_source` so it points into `source`. The policy is named `name`. Cost: one parse plus
/// one pass over the model.
pub fn parse_policy_mapped(
    source: Arc<SourceFile>,
    text: &str,
    to_source: &dyn Fn(Span) -> Span,
    name: String,
    target: Target,
) -> Parsed {
    let inner = Arc::new(SourceFile::new(source.name.clone(), text));
    let mut parsed = parse_policy(inner, target);
    for diagnostic in &mut parsed.diagnostics {
        diagnostic.span = to_source(diagnostic.span);
    }
    if let Some(policy) = &mut parsed.policy {
        // A base64 body is decoded before parsing: its spans point into the decoded text,
        // which has no place in `source`, so they all become the whole embedded text.
        let whole = to_source(Span::new(0, text.len()));
        let decoded = policy.source.text != text;
        let map = |span: Span| if decoded { whole } else { to_source(span) };
        remap_policy(policy, &map);
        policy.source = source;
        policy.name = name;
    }
    parsed
}

/// Applies `map` to every span held by the model of `policy`.
fn remap_policy(policy: &mut Policy, map: &dyn Fn(Span) -> Span) {
    if let Some(declared) = &mut policy.declared_name {
        declared.span = map(declared.span);
    }
    for rule in &mut policy.rules {
        remap_rule(rule, map);
    }
}

fn remap_rule(rule: &mut Rule, map: &dyn Fn(Span) -> Span) {
    rule.pattern_span = map(rule.pattern_span);
    rule.block_span = map(rule.block_span);
    rule.capabilities_span = rule.capabilities_span.map(map);
    remap_all(&mut rule.template_vars, map);
    remap_all(&mut rule.capability_list, map);
    let Some(extra) = rule.extra.as_deref_mut() else {
        return;
    };
    remap_all(&mut extra.required_parameters, map);
    remap_all(&mut extra.mfa_methods, map);
    remap_all(&mut extra.subscribe_event_types, map);
    for value in [&mut extra.old_policy, &mut extra.expiration]
        .into_iter()
        .chain([&mut extra.list_scan_response_keys_filter_path])
        .flatten()
    {
        value.span = map(value.span);
    }
    for value in [
        &mut extra.min_wrapping_ttl,
        &mut extra.max_wrapping_ttl,
        &mut extra.pagination_limit,
    ]
    .into_iter()
    .flatten()
    {
        value.span = map(value.span);
    }
    for params in [&mut extra.allowed_parameters, &mut extra.denied_parameters]
        .into_iter()
        .flatten()
    {
        for entry in params.values_mut() {
            entry.span = map(entry.span);
            remap_all(&mut entry.values, map);
        }
    }
    if let Some(group) = &mut extra.control_group {
        group.span = map(group.span);
        if let Some(ttl) = &mut group.ttl {
            ttl.span = map(ttl.span);
        }
        for factor in &mut group.factors {
            factor.span = map(factor.span);
        }
    }
}

fn remap_all<T>(values: &mut [crate::span::Spanned<T>], map: &dyn Fn(Span) -> Span) {
    for value in values {
        value.span = map(value.span);
    }
}
