//! ## What it does
//! Flags a block whose every path is decided the same way without it: another block of the
//! same policy would take over those paths with the same capabilities (IAM Access Analyzer's
//! redundant-statement suggestion).
//!
//! Two shapes are recognised, both exactly (a block is reported only when removing it
//! changes no decision):
//! - a prefix rule (`secret/app/*`) inside a broader prefix rule (`secret/*`) that grants the
//!   same, with no `+` rule of the policy that could reach the paths in between;
//! - an exact rule whose path (and its listing with a trailing `/`) every other matching rule
//!   decides the same way.
//!
//! Only plain blocks are compared: a block with parameters, wrapping TTLs, MFA, a control
//! group or other settings is never redundant, nor is any block of a templated policy (a
//! template may resolve onto the same pattern and merge with it).
//!
//! ## Why is this bad?
//! A redundant rule is noise to every reviewer, and a trap: tightening the broad rule later
//! leaves the narrow copy behind, still granting what was meant to be removed.
//!
//! ## Example
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read", "list"]
//! }
//!
//! path "secret/data/app/*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read", "list"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.3 (lookup) and section 3.4 (only the longest prefix rule is a candidate)

use crate::acl::FastSet;
use crate::acl::MergedRule;
use crate::diag::{Diagnostic, Severity};
use crate::lint::matching::literal_prefix;
use crate::lint::wording::{diagnostic, ticked_caps};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{PathPattern, PatternKind};

pub struct RedundantRule;

impl Rule for RedundantRule {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "redundant-rule",
            severity: Severity::Info,
            category: Category::Style,
            summary: "a block whose paths another block of the policy decides the same way",
            source: include_str!("redundant_rule.rs"),
        }
    }

    /// Cost: O(blocks × (pattern length² + candidates of one path)), with the policy's ACL
    /// and a sorted list of the literal starts of its `+` rules.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        if ctx.policy.templated {
            return;
        }
        let meta = self.meta();
        let wildcards = WildcardStarts::new(ctx);
        for (rule, pattern) in ctx.live_rules() {
            let Some(own) = own_entry(ctx, pattern) else {
                continue;
            };
            // Duplicates of a pattern are one ACL entry: report at its first block only.
            if own.sources.first().map(|s| s.pattern_span) != Some(rule.pattern_span) {
                continue;
            }
            if !plain(own) {
                continue;
            }
            let other = match pattern.kind {
                PatternKind::Prefix => covering_prefix(ctx, own, pattern, &wildcards),
                PatternKind::Exact => deciding_others(ctx, own, pattern.key()),
                PatternKind::SegmentWildcard => None,
            };
            let Some(other) = other else {
                continue;
            };
            let Some(source) = other.sources.first() else {
                continue;
            };
            let line = ctx.policy.source.line(source.pattern_span.start);
            let what = if own.capabilities.is_empty() {
                "nothing".to_string()
            } else {
                ticked_caps(own.capabilities)
            };
            let message = format!(
                "`{}` is redundant: without it, `{}` (line {line}) decides every path it \
                 matches the same way, granting {what}",
                pattern.normalized, other.pattern.normalized
            );
            out.push(
                diagnostic(&meta, rule.pattern_span, message)
                    .with_label("redundant")
                    .with_help(format!(
                        "remove this block; `{}` already covers it",
                        other.pattern.normalized
                    )),
            );
        }
    }
}

/// The policy's own ACL entry of a pattern.
fn own_entry<'a>(ctx: &PolicyContext<'a>, pattern: &PathPattern) -> Option<&'a MergedRule> {
    let acl = ctx.index.acl();
    match pattern.kind {
        PatternKind::Exact => acl.exact_rule(pattern.key()),
        PatternKind::Prefix => acl
            .prefix_rules_covering(pattern.key())
            .into_iter()
            .rev()
            .find(|rule| rule.pattern.key() == pattern.key()),
        PatternKind::SegmentWildcard => None,
    }
}

/// A merged entry that only grants capabilities: no parameters, TTLs, MFA, control group,
/// pagination, event types or list filter.
fn plain(rule: &MergedRule) -> bool {
    let no_params =
        |map: &Option<crate::policy::ParamMap>| map.as_ref().is_none_or(|m| m.is_empty());
    no_params(&rule.extra().allowed_parameters)
        && no_params(&rule.extra().denied_parameters)
        && rule.extra().required_parameters.is_empty()
        && rule.extra().min_wrapping_ttl == 0
        && rule.extra().max_wrapping_ttl == 0
        && rule.extra().mfa_methods.is_empty()
        && rule.extra().pagination_limit == 0
        && rule.extra().subscribe_event_types.is_empty()
        && rule.extra().list_scan_response_keys_filter_path.is_none()
        && rule.extra().control_group.is_none()
}

/// Whether another entry decides a request exactly as `own` does.
fn same_as(own: &MergedRule, other: &MergedRule) -> bool {
    plain(other) && other.capabilities == own.capabilities
}

/// For a prefix rule: the next shorter prefix rule covering it, when it grants the same and
/// no `+` rule can reach a path under the prefix (only the longest prefix is a candidate, so
/// that rule takes over every path; a `+` rule could outrank one but not the other).
fn covering_prefix<'a>(
    ctx: &PolicyContext<'a>,
    own: &MergedRule,
    pattern: &PathPattern,
    wildcards: &WildcardStarts<'_>,
) -> Option<&'a MergedRule> {
    let covering = ctx.index.acl().prefix_rules_covering(pattern.key());
    let below = covering
        .into_iter()
        .rfind(|rule| rule.pattern.key() != pattern.key())?;
    if !same_as(own, below) || wildcards.may_reach_under(pattern.key()) {
        return None;
    }
    Some(below)
}

/// For an exact rule on `key`: the best other candidate of `key`, when every non-exact
/// candidate of `key` and of `key/` (its listing, which an exact rule also decides) grants the
/// same as `own`, whatever the target's list resolver then picks.
fn deciding_others<'a>(
    ctx: &PolicyContext<'a>,
    own: &MergedRule,
    key: &str,
) -> Option<&'a MergedRule> {
    let acl = ctx.index.acl();
    let candidates = acl.matching_rules(key);
    let listing = acl.matching_rules(&format!("{key}/"));
    let best = *candidates.first()?;
    let all_same = candidates
        .iter()
        .chain(&listing)
        .all(|other| same_as(own, other));
    all_same.then_some(best)
}

/// The literal starts of the policy's `+` rules: sorted, and as a set.
struct WildcardStarts<'a> {
    sorted: Vec<&'a str>,
    set: FastSet<&'a str>,
}

impl<'a> WildcardStarts<'a> {
    fn new(ctx: &PolicyContext<'a>) -> WildcardStarts<'a> {
        let mut sorted: Vec<&str> = ctx
            .live_rules()
            .filter(|(_, pattern)| pattern.kind == PatternKind::SegmentWildcard)
            .map(|(_, pattern)| literal_prefix(pattern))
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        let set = sorted.iter().copied().collect();
        WildcardStarts { sorted, set }
    }

    /// Whether some `+` rule could match a path starting with `prefix`: its literal start and
    /// `prefix` are one a prefix of the other (necessary for an overlap). Cost: O(prefix
    /// length²) hashing plus a binary search.
    fn may_reach_under(&self, prefix: &str) -> bool {
        let at = self.sorted.partition_point(|start| *start < prefix);
        if self
            .sorted
            .get(at)
            .is_some_and(|start| start.starts_with(prefix))
        {
            return true;
        }
        (0..=prefix.len())
            .filter(|end| prefix.is_char_boundary(*end))
            .any(|end| self.set.contains(&prefix[..end]))
    }
}
