//! ## What it does
//! Flags a path pattern written twice in one policy (after stripping the leading `/`).
//!
//! ## Why is this bad?
//! Vault accepts duplicate blocks and merges them silently into one rule: capabilities are
//! united, parameter lists concatenated, and a `deny` in either block wipes out the other.
//! A reader of one block does not see what the policy grants on that path.
//!
//! ## Example
//! ```hcl
//! path "secret/data/app" {
//!   capabilities = ["read"]
//! }
//!
//! path "secret/data/app" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app" {
//!   capabilities = ["read", "update"]
//! }
//! ```
//!
//! ## References
//! - spec section 1.3 (duplicate path blocks) and section 2 (merge algorithm)

use crate::acl::FastMap;
use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::{diagnostic, ticked_caps};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::Rule as PolicyRule;

pub struct DuplicatePath;

impl Rule for DuplicatePath {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "duplicate-path",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "the same pattern twice in one policy is merged silently",
            source: include_str!("duplicate_path.rs"),
        }
    }

    /// Cost: O(rules) with a hash map keyed by the normalised pattern.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        // Keys borrowed from the rules: no allocation per block.
        let mut first_by_key: FastMap<&str, &PolicyRule> =
            FastMap::with_capacity_and_hasher(ctx.policy.rules.len(), Default::default());
        for rule in &ctx.policy.rules {
            let key = match &rule.pattern {
                Some(pattern) => pattern.normalized.as_str(),
                None => rule.raw_pattern.trim_start_matches('/'),
            };
            let Some(first) = first_by_key.get(&key) else {
                first_by_key.insert(key, rule);
                continue;
            };
            let line = ctx.policy.source.line(first.pattern_span.start);
            let merged = merge_outcome(first, rule, line);
            let message = format!("`{key}` is also defined on line {line}; {merged}");
            out.push(
                diagnostic(&meta, rule.pattern_span, message)
                    .with_label("duplicate")
                    .with_help("merge the blocks into one, so the rule reads in one place"),
            );
        }
    }
}

fn merge_outcome(first: &PolicyRule, second: &PolicyRule, first_line: usize) -> String {
    if second.capabilities.is_deny() && !first.capabilities.is_deny() {
        return "this `deny` wipes out every capability of the first block".to_string();
    }
    if first.capabilities.is_deny() && !second.capabilities.is_deny() {
        return format!("the `deny` on line {first_line} wipes out every capability of this block");
    }
    format!(
        "Vault merges both blocks silently into one rule granting {}",
        merged_names(first, second)
    )
}

fn merged_names(first: &PolicyRule, second: &PolicyRule) -> String {
    let merged = first.capabilities.union(second.capabilities);
    if merged.is_empty() {
        return "nothing".to_string();
    }
    ticked_caps(merged)
}
