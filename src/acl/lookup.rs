//! Which rule applies to a path (spec 3.3, 3.4), for both targets.
//!
//! Cost per lookup: one hash probe per exact step, one radix walk (O(path length)) and one
//! segment-trie walk (O(segments × branching)) per non-exact step, then O(c) comparisons to
//! rank the c candidates found. Nothing scans the whole rule list.

use std::cmp::Ordering;

use super::priority::rank;
use super::store::RuleId;
use super::types::{Acl, LookupStep, PriorityStep};
use crate::policy::Capability;
use crate::target::Target;

/// The outcome of a lookup: the winning rule, the step that found it and, when asked for, every
/// other rule that matched with the priority step that beat it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Resolution {
    pub winner: Option<RuleId>,
    pub step: Option<LookupStep>,
    pub losers: Vec<(RuleId, PriorityStep)>,
}

impl Resolution {
    fn found(winner: RuleId, step: LookupStep) -> Resolution {
        Resolution {
            winner: Some(winner),
            step: Some(step),
            losers: Vec::new(),
        }
    }

    fn lose(&mut self, rule: RuleId, beaten_by: PriorityStep) {
        if Some(rule) == self.winner || self.losers.iter().any(|(id, _)| *id == rule) {
            return;
        }
        self.losers.push((rule, beaten_by));
    }
}

impl Acl {
    /// Finds the rule for `path` (leading slashes already stripped). `listing` selects the list
    /// fallbacks: list and scan on OpenBao, list only on Vault. With `explain`, the losers are
    /// collected too (an extra walk of the stores, same cost as the lookup).
    pub(crate) fn resolve(&self, path: &str, listing: bool, explain: bool) -> Resolution {
        let trimmed = path.strip_suffix('/').filter(|_| listing);
        if let Some(id) = self.exact_id(path) {
            let mut found = Resolution::found(id, LookupStep::Exact);
            if explain {
                self.lose_all_non_exact(&mut found, path, trimmed);
            }
            return found;
        }
        if let Some(id) = trimmed.and_then(|trimmed| self.exact_id(trimmed)) {
            let mut found = Resolution::found(id, LookupStep::ExactTrimmed);
            if explain {
                self.lose_all_non_exact(&mut found, path, trimmed);
            }
            return found;
        }
        match (self.target, trimmed) {
            (Target::Vault, Some(trimmed)) => self.resolve_list_pool(path, trimmed, explain),
            (Target::OpenBao, Some(trimmed)) => {
                self.resolve_full_then_trimmed(path, trimmed, explain)
            }
            (_, None) => self.resolve_non_exact(path, LookupStep::NonExact, explain),
        }
    }

    /// OpenBao list/scan with a trailing `/`: the full path first, the trimmed path only when
    /// the full path has no candidate.
    fn resolve_full_then_trimmed(&self, path: &str, trimmed: &str, explain: bool) -> Resolution {
        let mut found = self.resolve_non_exact(path, LookupStep::NonExact, explain);
        if found.winner.is_none() {
            return self.resolve_non_exact(trimmed, LookupStep::NonExactTrimmed, explain);
        }
        if explain {
            for id in self.candidates(trimmed) {
                found.lose(id, PriorityStep::FullPathFirst);
            }
        }
        found
    }

    /// Non-exact candidates of one path, ranked by the comparator.
    fn resolve_non_exact(&self, path: &str, step: LookupStep, explain: bool) -> Resolution {
        if !explain {
            return match self.best_candidate(path) {
                Some(winner) => Resolution::found(winner, step),
                None => Resolution::default(),
            };
        }
        let candidates = self.candidates(path);
        let Some(winner) = self.best(&candidates) else {
            return Resolution::default();
        };
        let mut found = Resolution::found(winner, step);
        if explain {
            self.lose_ranked(&mut found, &candidates);
            self.lose_shorter_prefixes(&mut found, path);
        }
        found
    }

    /// Vault newest list resolver: one pool of the trimmed and the full path's candidates; the
    /// best deny wins unless a list-granting candidate ranks at least as high (spec 3.3).
    fn resolve_list_pool(&self, path: &str, trimmed: &str, explain: bool) -> Resolution {
        let mut pool = self.candidates(trimmed);
        for id in self.candidates(path) {
            if !pool.contains(&id) {
                pool.push(id);
            }
        }
        let with = |capability: Capability| -> Vec<RuleId> {
            pool.iter()
                .copied()
                .filter(|&id| self.rules[id as usize].capabilities.contains(capability))
                .collect()
        };
        let best_deny = self.best(&with(Capability::Deny));
        let best_list = self.best(&with(Capability::List));
        let winner = match (best_deny, best_list) {
            (Some(deny), Some(list)) if self.compare(list, deny) == Ordering::Less => Some(deny),
            (Some(deny), None) => Some(deny),
            (_, Some(list)) => Some(list),
            (None, None) => self.best(&pool),
        };
        let Some(winner) = winner else {
            return Resolution::default();
        };
        let mut found = Resolution::found(winner, LookupStep::ListPool);
        if explain {
            for &id in &pool {
                if self.compare(id, winner) == Ordering::Greater {
                    found.lose(id, PriorityStep::ListResolver);
                }
            }
            self.lose_ranked(&mut found, &pool);
            self.lose_shorter_prefixes(&mut found, path);
            self.lose_shorter_prefixes(&mut found, trimmed);
        }
        found
    }

    /// The non-exact candidates of a path: the longest prefix rule and every matching
    /// segment-wildcard rule (spec 3.4). Without wildcard rules, only the longest prefix.
    pub(crate) fn candidates(&self, path: &str) -> Vec<RuleId> {
        let mut out = Vec::new();
        if let Some(id) = self.prefix.longest_prefix_of(path.as_bytes()) {
            out.push(id);
        }
        if self.wildcard.len() == 0 {
            return out;
        }
        self.wildcard.for_each_match_path(path, |id| out.push(id));
        out
    }

    /// The best of [`Acl::candidates`] (the first of equals, as [`Acl::best`] picks), found
    /// without collecting them. Cost: that of `candidates`.
    fn best_candidate(&self, path: &str) -> Option<RuleId> {
        let mut best = self.prefix.longest_prefix_of(path.as_bytes());
        if self.wildcard.len() == 0 {
            return best;
        }
        self.wildcard.for_each_match_path(path, |id| {
            best = match best {
                Some(current) if self.compare(id, current) != Ordering::Greater => Some(current),
                _ => Some(id),
            };
        });
        best
    }

    /// The highest-ranked candidate.
    fn best(&self, candidates: &[RuleId]) -> Option<RuleId> {
        candidates
            .iter()
            .copied()
            .reduce(|best, id| match self.compare(id, best) {
                Ordering::Greater => id,
                _ => best,
            })
    }

    /// Compares two non-exact rules by the priority order (`Greater`: `a` is more specific).
    pub(crate) fn compare(&self, a: RuleId, b: RuleId) -> Ordering {
        self.rank_step(a, b).0
    }

    fn rank_step(&self, a: RuleId, b: RuleId) -> (Ordering, PriorityStep) {
        match (&self.descriptors[a as usize], &self.descriptors[b as usize]) {
            (Some(first), Some(second)) => rank(
                (first, &self.rules[a as usize].pattern.normalized),
                (second, &self.rules[b as usize].pattern.normalized),
            ),
            // Exact rules are never ranked against others; an exact rule beats all.
            (None, Some(_)) => (Ordering::Greater, PriorityStep::ExactMatch),
            (Some(_), None) => (Ordering::Less, PriorityStep::ExactMatch),
            (None, None) => (Ordering::Equal, PriorityStep::ExactMatch),
        }
    }

    fn lose_ranked(&self, found: &mut Resolution, candidates: &[RuleId]) {
        let Some(winner) = found.winner else {
            return;
        };
        for &id in candidates {
            if id != winner {
                found.lose(id, self.rank_step(winner, id).1);
            }
        }
    }

    fn lose_shorter_prefixes(&self, found: &mut Resolution, path: &str) {
        let mut all = Vec::new();
        self.prefix
            .for_each_prefix_of(path.as_bytes(), |_, id| all.push(id));
        all.pop();
        for id in all {
            found.lose(id, PriorityStep::ShorterPrefix);
        }
    }

    fn lose_all_non_exact(&self, found: &mut Resolution, path: &str, trimmed: Option<&str>) {
        for candidate_path in std::iter::once(path).chain(trimmed) {
            for id in self.candidates(candidate_path) {
                found.lose(id, PriorityStep::ExactMatch);
            }
            self.prefix
                .for_each_prefix_of(candidate_path.as_bytes(), |_, id| {
                    found.lose(id, PriorityStep::ExactMatch)
                });
        }
    }
}
