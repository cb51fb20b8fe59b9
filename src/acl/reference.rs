//! A plain reference evaluator of the ACL, written straight from the spec text (sections 2,
//! 3.3, 3.4, 3.6, 3.8): a linear scan over every rule, every candidate computed and ranked.
//! It exists to check the fast [`super::Acl`] against (the proptest suite in
//! `tests/acl_reference.rs` and the `acl` fuzz target); nothing in capable answers with it.
//! Rules without a pattern and templated rules are skipped (the generators produce neither
//! parameters nor templates). Cost: O(rules) per lookup, by design.

use super::{builtin, Acl, Operation, Request};
use crate::policy::{CapSet, Capability, PathPattern, PatternKind, Policy};
use crate::target::Target;

/// One merged entry: the pattern and its bitmap.
#[derive(Clone, Debug)]
struct Entry {
    pattern: PathPattern,
    capabilities: CapSet,
}

/// Every operation a request can carry, as the differential checks ask them.
pub const OPERATIONS: [Operation; 9] = [
    Operation::Read,
    Operation::List,
    Operation::Scan,
    Operation::Update,
    Operation::Create,
    Operation::Delete,
    Operation::Patch,
    Operation::Help,
    Operation::Recover,
];

/// The first disagreement between the fast ACL and the reference on `path`: the
/// capabilities, the winning rule, or one operation's decision; `None` when they agree.
/// The one check the proptest suite and the `acl` fuzz target both run. Cost: O(rules) per
/// operation (the reference's scan).
pub fn disagreement(fast: &Acl, reference: &Reference, path: &str) -> Option<String> {
    let (names, explanation) = fast.capabilities(path);
    let expected = reference.capabilities(path);
    if names != expected {
        return Some(format!(
            "capabilities of {path:?}: fast {names:?}, reference {expected:?}"
        ));
    }
    let expected_winner = reference
        .lookup(path.trim_start_matches('/'), Operation::List)
        .map(|index| reference.pattern(index).to_string());
    let winner = explanation.winner.map(|winner| winner.pattern.normalized);
    if winner != expected_winner {
        return Some(format!(
            "winner for {path:?}: fast {winner:?}, reference {expected_winner:?}"
        ));
    }
    for op in OPERATIONS {
        let mut request = Request::new(op, path.to_string());
        if op.is_listing() && !path.ends_with('/') {
            // The HTTP layer always appends the slash for list and scan.
            request.path.push('/');
        }
        let allowed = fast.authorize(&request).allowed;
        let expected = reference.allowed(&request.path, op);
        if allowed != expected {
            return Some(format!(
                "{op} {:?}: fast allowed={allowed}, reference allowed={expected}",
                request.path
            ));
        }
    }
    None
}

pub struct Reference {
    target: Target,
    entries: Vec<Entry>,
}

impl Reference {
    /// Spec 2: entries merge when store and key coincide; deny on either side leaves deny only;
    /// otherwise the bitmaps are united.
    pub fn new(policies: &[Policy], target: Target) -> Reference {
        let mut entries: Vec<Entry> = Vec::new();
        for rule in policies.iter().flat_map(|p| &p.rules) {
            let Some(pattern) = rule.pattern.clone() else {
                continue;
            };
            let mut capabilities = rule.capabilities;
            if capabilities.contains(Capability::Deny) {
                capabilities = CapSet::only(Capability::Deny);
            }
            let same = entries
                .iter_mut()
                .find(|e| e.pattern.kind == pattern.kind && e.pattern.key() == pattern.key());
            match same {
                None => entries.push(Entry {
                    pattern,
                    capabilities,
                }),
                Some(existing) => {
                    if existing.capabilities.contains(Capability::Deny) {
                        continue;
                    }
                    if capabilities.contains(Capability::Deny) {
                        existing.capabilities = CapSet::only(Capability::Deny);
                    } else {
                        existing.capabilities = existing.capabilities.union(capabilities);
                    }
                }
            }
        }
        Reference { target, entries }
    }

    /// The normalised pattern of entry `index` (as [`Reference::lookup`] returns it).
    pub fn pattern(&self, index: usize) -> &str {
        &self.entries[index].pattern.normalized
    }

    fn exact(&self, path: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.pattern.kind == PatternKind::Exact && e.pattern.key() == path)
    }

    /// Spec 3.4: the single longest prefix rule plus every matching segment-wildcard rule,
    /// each with its priority key (firstWCOrGlob, non-prefix, -wildcards, length, bytes).
    fn candidates(&self, path: &str) -> Vec<(usize, RankKey)> {
        let mut out = Vec::new();
        let longest_prefix = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.pattern.kind == PatternKind::Prefix)
            .filter(|(_, e)| path.starts_with(e.pattern.key()))
            .max_by_key(|(_, e)| e.pattern.key().len());
        if let Some((index, entry)) = longest_prefix {
            let key = entry.pattern.key();
            out.push((index, RankKey::new(key.len(), true, 0, key)));
        }
        for (index, entry) in self.entries.iter().enumerate() {
            if entry.pattern.kind != PatternKind::SegmentWildcard {
                continue;
            }
            if let Some(rank) = wildcard_match(&entry.pattern.normalized, path) {
                out.push((index, rank));
            }
        }
        out
    }

    fn best(candidates: &[(usize, RankKey)]) -> Option<usize> {
        candidates
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1))
            .map(|(index, _)| *index)
    }

    /// Spec 3.3 for both targets.
    pub fn lookup(&self, path: &str, op: Operation) -> Option<usize> {
        let listing = match self.target {
            Target::OpenBao => matches!(op, Operation::List | Operation::Scan),
            Target::Vault => op == Operation::List,
        };
        if let Some(index) = self.exact(path) {
            return Some(index);
        }
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        if listing {
            if let Some(index) = self.exact(trimmed) {
                return Some(index);
            }
        }
        let trailing = path.ends_with('/');
        match self.target {
            Target::OpenBao => {
                let full = self.candidates(path);
                if !full.is_empty() {
                    return Reference::best(&full);
                }
                if listing && trailing {
                    return Reference::best(&self.candidates(trimmed));
                }
                None
            }
            Target::Vault if listing && trailing => {
                let mut pool = self.candidates(trimmed);
                pool.extend(self.candidates(path));
                let with = |capability| -> Vec<(usize, RankKey)> {
                    pool.iter()
                        .filter(|(i, _)| self.entries[*i].capabilities.contains(capability))
                        .cloned()
                        .collect()
                };
                let deny = with(Capability::Deny);
                let list = with(Capability::List);
                let best_deny = deny.iter().max_by(|a, b| a.1.cmp(&b.1));
                let best_list = list.iter().max_by(|a, b| a.1.cmp(&b.1));
                match (best_deny, best_list) {
                    (Some(d), None) => Some(d.0),
                    (Some(d), Some(l)) if l.1 < d.1 => Some(d.0),
                    (_, Some(l)) => Some(l.0),
                    (None, None) => Reference::best(&pool),
                }
            }
            Target::Vault => Reference::best(&self.candidates(path)),
        }
    }

    fn bitmap(&self, path: &str, op: Operation) -> CapSet {
        let path = path.trim_start_matches('/');
        self.lookup(path, op)
            .map_or(CapSet::EMPTY, |i| self.entries[i].capabilities)
    }

    /// Spec 3.8.
    pub fn capabilities(&self, path: &str) -> Vec<&'static str> {
        let bitmap = self.bitmap(path, Operation::List);
        if bitmap.contains(Capability::Deny) || bitmap.is_empty() {
            return vec!["deny"];
        }
        let mut names: Vec<&'static str> = bitmap.iter().map(Capability::name).collect();
        names.sort();
        names
    }

    /// Spec 3.2, 3.6 and 6 (no parameters, no wrapping in the generated rules).
    pub fn allowed(&self, path: &str, op: Operation) -> bool {
        let Some(needed) = op.capability() else {
            return true;
        };
        let bitmap = self.bitmap(path, op);
        if bitmap.contains(Capability::Deny) || !bitmap.contains(needed) {
            return false;
        }
        let stripped = path.trim_start_matches('/');
        let sudo_needed = stripped == "sys/seal"
            || stripped == "sys/step-down"
            || builtin::requires_sudo(self.target, stripped);
        !sudo_needed || bitmap.contains(Capability::Sudo)
    }
}

/// The priority of spec 3.4 as a sort key: larger ranks higher.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RankKey {
    first_wildcard_or_glob: usize,
    not_prefix: bool,
    fewer_plus: std::cmp::Reverse<usize>,
    length: usize,
    bytes: Vec<u8>,
}

impl RankKey {
    fn new(first: usize, is_prefix: bool, plus: usize, wc_path: &str) -> RankKey {
        RankKey {
            first_wildcard_or_glob: first,
            not_prefix: !is_prefix,
            fewer_plus: std::cmp::Reverse(plus),
            length: wc_path.len(),
            bytes: wc_path.as_bytes().to_vec(),
        }
    }
}

/// Spec 3.4 steps 1-6, literally.
fn wildcard_match(pattern: &str, path: &str) -> Option<RankKey> {
    let (wc_path, is_prefix) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let pattern_parts: Vec<&str> = wc_path.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    if path_parts.len() < pattern_parts.len() {
        return None;
    }
    if !is_prefix && path_parts.len() != pattern_parts.len() {
        return None;
    }
    let mut wildcards = 0;
    for (i, part) in pattern_parts.iter().enumerate() {
        let is_last = i == pattern_parts.len() - 1;
        let glob_match = is_prefix && is_last && path_parts[i].starts_with(part);
        if *part == "+" {
            wildcards += 1;
        } else if *part != path_parts[i] && !glob_match {
            return None;
        }
    }
    let first = pattern.find('+').unwrap_or(pattern.len());
    Some(RankKey::new(first, is_prefix, wildcards, wc_path))
}
