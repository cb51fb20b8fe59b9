//! `audit usage`: which of a subject's granted rules and capabilities the log never used.
//!
//! Every request the server allowed for the subject is decided again with the subject's ACL;
//! the winning rule (spec 3.3) is the one the request used, with the capability its operation
//! needs. A rule that never won, or a capability a rule grants that no winning request needed,
//! is unused access in the log window: the first thing a reviewer removes. Rules of the
//! built-in `default` policy are left out. Cost: one ACL decision per distinct request, then
//! O(rules).

use std::collections::BTreeMap;

use super::decide::{rule_ref, RuleRef};
use super::observed::Observed;
use crate::acl::{Acl, Request};
use crate::policy::Capability;

/// The use of one rule.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleUsage {
    pub rule: RuleRef,
    /// Capabilities the rule grants (in declaration order).
    pub granted: Vec<String>,
    /// Requests that used each granted capability (only capabilities used at least once).
    pub used: BTreeMap<String, u64>,
    /// Granted capabilities no request used (`sudo` counts as used when a request needed it).
    pub unused: Vec<String>,
}

impl RuleUsage {
    pub fn requests(&self) -> u64 {
        self.used.values().sum()
    }
}

/// The subject's rules, never-used first.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Usage {
    pub rules: Vec<RuleUsage>,
    /// Allowed requests the ACL would deny today (the tree differs from the server's).
    pub not_allowed_now: u64,
}

/// Measures the use of `acl`'s rules by the observed requests.
pub fn usage(acl: &Acl, observed: &Observed) -> Usage {
    // Keyed by the rule's store and key, as the ACL merges them.
    let mut used: BTreeMap<(u8, String), BTreeMap<Capability, u64>> = BTreeMap::new();
    let mut not_allowed_now = 0;
    for ((operation, path), seen) in &observed.allowed {
        let decision = acl.authorize(&Request::new(operation.0, path.clone()));
        if !decision.allowed {
            // Not a use of the winning rule: it does not grant what the request needed.
            not_allowed_now += seen.count;
            continue;
        }
        let Some(winner) = &decision.explanation.winner else {
            continue;
        };
        let Some(capability) = operation.0.capability() else {
            continue;
        };
        let counts = used.entry(rule_id(winner)).or_default();
        *counts.entry(capability).or_default() += seen.count;
        if decision.explanation.sudo_required == Some(true) {
            *counts.entry(Capability::Sudo).or_default() += seen.count;
        }
    }
    let mut rules: Vec<RuleUsage> = acl
        .rules()
        .into_iter()
        .filter(|rule| !rule.capabilities.is_deny())
        .filter(|rule| {
            rule.sources
                .first()
                .is_some_and(|s| !s.file.name.starts_with("<builtin"))
        })
        .map(|rule| {
            let counts = used.get(&rule_id(rule)).cloned().unwrap_or_default();
            let granted: Vec<Capability> = rule.capabilities.iter().collect();
            RuleUsage {
                rule: rule_ref(rule),
                granted: granted.iter().map(|c| c.name().to_string()).collect(),
                used: counts
                    .iter()
                    .map(|(c, n)| (c.name().to_string(), *n))
                    .collect(),
                unused: granted
                    .iter()
                    .filter(|c| !counts.contains_key(c))
                    .map(|c| c.name().to_string())
                    .collect(),
            }
        })
        .collect();
    rules.sort_by(|a, b| {
        (a.requests() > 0, &a.rule.pattern).cmp(&(b.requests() > 0, &b.rule.pattern))
    });
    Usage {
        rules,
        not_allowed_now,
    }
}

fn rule_id(rule: &crate::acl::MergedRule) -> (u8, String) {
    (rule.pattern.kind as u8, rule.pattern.key().to_string())
}
