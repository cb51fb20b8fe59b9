//! ## What it does
//! Flags a block that grants no capability at all: an empty `capabilities = []`, or no
//! `capabilities` and no `policy`.
//!
//! ## Why is this bad?
//! An empty rule is not ignored. It still matches its paths and wins over every less
//! specific rule (of this policy and of every other policy the token holds), so holders get
//! `deny` there: it silently hides broader grants. If blocking is the intent, an explicit
//! `deny` says so; otherwise the capabilities were forgotten.
//!
//! ## Example
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/data/app/*" {
//!   capabilities = []
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/*" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/data/app/*" {
//!   capabilities = ["deny"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.4 (an empty list yields bitmap 0) and section 3.8

use crate::diag::{Diagnostic, Severity};
use crate::lint::context::grants;
use crate::lint::matching::instances;
use crate::lint::wording::{diagnostic, ticked_caps};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{PathPattern, Rule as PolicyRule};

pub struct NoCapabilities;

impl Rule for NoCapabilities {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "no-capabilities",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a block with no capabilities still wins its paths and hides broader grants",
            source: include_str!("no_capabilities.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for rule in &ctx.policy.rules {
            if rule.expired || !rule.capabilities.is_empty() {
                continue;
            }
            // Another block with the same pattern merges in and may grant something.
            if let Some(pattern) = &rule.pattern {
                if !ctx.merged_capabilities(pattern).is_empty() {
                    continue;
                }
            }
            let span = rule.capabilities_span.unwrap_or(rule.pattern_span);
            let message = match rule
                .pattern
                .as_ref()
                .and_then(|p| hidden_grant(ctx, rule, p))
            {
                Some(hidden) => format!(
                    "`{}` grants nothing, yet it wins its paths: it hides {}",
                    rule.raw_pattern, hidden
                ),
                None => format!(
                    "`{}` grants nothing, yet it wins its paths over broader rules of every \
                     policy the token holds: holders get `deny` there",
                    rule.raw_pattern
                ),
            };
            out.push(
                diagnostic(&meta, span, message)
                    .with_label("no capabilities")
                    .with_help(
                        "add the capabilities this path needs, or write `capabilities = \
                         [\"deny\"]` if blocking it is the intent",
                    ),
            );
        }
    }
}

/// A broader grant of this policy that the empty rule shadows on one of its own paths:
/// "`read`, `list` granted by `secret/*` (line 3) on `secret/app/anything`". The first such
/// block in source order, for the first witness that has one. Cost: O(witnesses × (pattern
/// length + blocks matching the witness)), through the policy's own ACL.
fn hidden_grant(
    ctx: &PolicyContext<'_>,
    empty: &PolicyRule,
    pattern: &PathPattern,
) -> Option<String> {
    for witness in instances(pattern, "") {
        let first = ctx
            .index
            .live_rules_matching(&witness)
            .into_iter()
            .filter(|&index| shadows(empty, pattern, &ctx.policy.rules[index]))
            .min();
        let Some(other) = first.map(|index| &ctx.policy.rules[index]) else {
            continue;
        };
        let line = ctx.policy.source.line(other.pattern_span.start);
        return Some(format!(
            "{} granted by `{}` (line {line}) on `{witness}`",
            ticked_caps(other.capabilities),
            other.raw_pattern
        ));
    }
    None
}

/// Whether `other` (a live block matching a witness of `empty`) is a grant the empty block
/// hides: another block, granting something, on another pattern.
fn shadows(empty: &PolicyRule, pattern: &PathPattern, other: &PolicyRule) -> bool {
    !std::ptr::eq(other, empty)
        && grants(other)
        && other
            .pattern
            .as_ref()
            .is_some_and(|own| own.normalized != pattern.normalized)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::lint::matching::pattern_matches;
    use crate::lint::PolicyIndex;
    use crate::mounts::Mounts;
    use crate::policy::parse_policy;
    use crate::source::SourceFile;
    use crate::target::Target;

    /// The plain reference: every live block in source order, for every witness.
    fn hidden_grant_reference(
        ctx: &PolicyContext<'_>,
        empty: &PolicyRule,
        pattern: &PathPattern,
    ) -> Option<String> {
        for witness in instances(pattern, "") {
            for (other, other_pattern) in ctx.live_rules() {
                if !shadows(empty, pattern, other) || !pattern_matches(other_pattern, &witness) {
                    continue;
                }
                let line = ctx.policy.source.line(other.pattern_span.start);
                return Some(format!(
                    "{} granted by `{}` (line {line}) on `{witness}`",
                    ticked_caps(other.capabilities),
                    other.raw_pattern
                ));
            }
        }
        None
    }

    const SEGMENTS: &[&str] = &["a", "b", "+", "ab", "", "+b"];

    fn pattern_text(parts: &[usize], glob: bool, slash: bool) -> String {
        let mut text: String = parts
            .iter()
            .map(|&part| SEGMENTS[part])
            .collect::<Vec<_>>()
            .join("/");
        if slash {
            text.insert(0, '/');
        }
        if glob {
            text.push('*');
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// The indexed lookup names the same block as the scan over every block.
        #[test]
        fn indexed_hidden_grant_matches_the_scan(
            blocks in proptest::collection::vec(
                (proptest::collection::vec(0..SEGMENTS.len(), 1..4), any::<bool>(), 0..8u8, 0..3u8),
                1..12,
            ),
            openbao in any::<bool>(),
        ) {
            let target = if openbao { Target::OpenBao } else { Target::Vault };
            let mut text = String::new();
            for (parts, glob, caps, slashes) in &blocks {
                let capabilities = match caps {
                    0 | 1 => "",
                    2 => "\"deny\"",
                    3 => "\"read\", \"list\"",
                    _ => "\"update\"",
                };
                let pattern = pattern_text(parts, *glob, *slashes == 0);
                text.push_str(&format!(
                    "path \"{pattern}\" {{\n  capabilities = [{capabilities}]\n}}\n"
                ));
            }
            let source = Arc::new(SourceFile::new("p.hcl", text.clone()));
            let Some(policy) = parse_policy(source, target).policy else {
                return Ok(());
            };
            let Ok(index) = PolicyIndex::new(&policy, target) else {
                return Ok(());
            };
            let mounts = Mounts::default();
            let ctx = index.context(&mounts);
            for (rule, pattern) in ctx.live_rules() {
                if !rule.capabilities.is_empty() {
                    continue;
                }
                prop_assert_eq!(
                    hidden_grant(&ctx, rule, pattern),
                    hidden_grant_reference(&ctx, rule, pattern),
                    "policy:\n{}", text
                );
            }
        }
    }
}
