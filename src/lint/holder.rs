//! Asking the ACL what a holder of the policy can do: a decision as a determined holder would
//! provoke it (required parameters supplied, wrapping TTL set), and the block of this policy
//! that won it.

use std::sync::Arc;

use crate::acl::{DenyReason, MergedRule, Operation, Request, Verdict};
use crate::lint::matching::{is_all_wildcard, FILLER};
use crate::lint::PolicyContext;
use crate::policy::{Capability, Rule};
use crate::span::Span;

/// Decides a request as a determined holder would send it: when the first answer is a denial
/// a holder can get around (a missing required parameter, a missing response-wrapping TTL),
/// asks again with that fixed. Verdict only (the winner borrowed): at most two lookups.
pub fn authorize_as_holder<'a>(
    ctx: &PolicyContext<'a>,
    operation: Operation,
    path: &str,
) -> Verdict<'a> {
    let mut request = Request::new(operation, path);
    let verdict = ctx.acl.verdict(&request);
    match &verdict.deny_reason {
        Some(DenyReason::MissingRequiredParameter(_)) => {
            let Some(winner) = verdict.winner else {
                return verdict;
            };
            for name in &winner.extra().required_parameters {
                request.data.insert(
                    name.to_lowercase(),
                    serde_json::Value::String(FILLER.into()),
                );
            }
            ctx.acl.verdict(&request)
        }
        Some(DenyReason::WrappingRequired { min, max, .. }) => {
            request.wrap_ttl = Some(if *max > 0 { *max } else { (*min).max(1) });
            ctx.acl.verdict(&request)
        }
        _ => verdict,
    }
}

/// The block of this policy that won a decision: its label span (preferring a block that
/// contributed `wanted`), or `None` when the winner came from elsewhere.
/// Cost: O(blocks merged into the winner).
pub fn winning_block(
    ctx: &PolicyContext<'_>,
    winner: Option<&MergedRule>,
    wanted: Option<Capability>,
) -> Option<Span> {
    let winner = winner?;
    let own_file = &ctx.policy.source;
    let mut first = None;
    for source in &winner.sources {
        if !Arc::ptr_eq(&source.file, own_file) && source.file.name != own_file.name {
            continue;
        }
        if wanted.is_some_and(|cap| source.capabilities.contains(cap)) {
            return Some(source.pattern_span);
        }
        first = first.or(Some(source.pattern_span));
    }
    first
}

/// Whether the block whose label is at `span` has a pattern without literal characters.
/// Cost: one hash lookup.
pub fn is_catch_all_block(ctx: &PolicyContext<'_>, span: Span) -> bool {
    ctx.rule_at_label(span)
        .and_then(|rule| rule.pattern.as_ref())
        .is_some_and(is_all_wildcard)
}

/// The block of this policy through which a holder can do `operation` on `path`: `None` when
/// the ACL denies it or the winning block came from elsewhere.
pub fn allowing_block(ctx: &PolicyContext<'_>, operation: Operation, path: &str) -> Option<Span> {
    let verdict = authorize_as_holder(ctx, operation, path);
    if !verdict.allowed {
        return None;
    }
    winning_block(ctx, verdict.winner, operation.capability())
}

/// [`allowing_block`], except a block without literal characters: that is
/// `grants-everything`'s finding, and repeating it in every other rule would bury the rest.
pub fn allowing_specific_block(
    ctx: &PolicyContext<'_>,
    operation: Operation,
    path: &str,
) -> Option<Span> {
    allowing_block(ctx, operation, path).filter(|span| !is_catch_all_block(ctx, *span))
}

/// Operations tried on a witness to show what a grant allows, most alarming first.
pub const MOST_ALARMING_FIRST: &[Operation] = &[
    Operation::Update,
    Operation::Create,
    Operation::Patch,
    Operation::Delete,
    Operation::Read,
    Operation::List,
];

/// The path of a listing request on `path`: `path` ending with `/`.
pub fn with_trailing_slash(path: &str) -> String {
    if path.ends_with('/') {
        return path.to_string();
    }
    format!("{path}/")
}

/// The path of a listing request on `path`: `path` ending with exactly one `/`.
pub fn with_single_trailing_slash(path: &str) -> String {
    format!("{}/", path.trim_end_matches('/'))
}

/// The first operation of [`MOST_ALARMING_FIRST`] that `rule` grants and that the policy's ACL
/// allows through this very block on one of `paths` (tried in order), with its request path
/// (`listing_path` makes the path of a listing request).
/// Cost: O(paths × operations) ACL decisions.
pub fn first_grant_through(
    ctx: &PolicyContext<'_>,
    rule: &Rule,
    paths: impl IntoIterator<Item = String>,
    listing_path: fn(&str) -> String,
) -> Option<(Operation, String)> {
    for path in paths {
        for operation in MOST_ALARMING_FIRST {
            let Some(capability) = operation.capability() else {
                continue;
            };
            if !rule.capabilities.contains(capability) {
                continue;
            }
            let request_path = if operation.is_listing() {
                listing_path(&path)
            } else {
                path.clone()
            };
            if allowing_block(ctx, *operation, &request_path) == Some(rule.pattern_span) {
                return Some((*operation, request_path));
            }
        }
    }
    None
}
