//! What rules see. A per-policy rule gets a [`PolicyContext`]: the policy, the ACL to judge it
//! by, the mount table, and the policy's [`PolicyIndex`]: the facts several rules need
//! (the policy's own ACL, merged capabilities per pattern, blocks by label, the ACL of a holder
//! whose templates all resolve, witness candidates by first segment), built once per policy and
//! shared by every rule, so that no rule scans the policy once per block.
//!
//! A role-level rule gets a [`RoleContext`]: one subject's effective policies and merged ACL.

use std::sync::{Arc, OnceLock};

use super::synthetic_identity;
use crate::acl::{Acl, AclError, FastMap, FastSet, Identity};
use crate::endpoints::{Kv2Evidence, MountMap, MountOf};
use crate::lint::matching::literal_prefix;
use crate::lint::reach::BlockReaches;
use crate::mounts::Mounts;
use crate::policy::{CapSet, Capability, PathPattern, PatternKind, Policy, Rule};
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;

/// What a per-policy rule sees: one policy, validated, the ACL to judge it by (the policy's
/// own, or a role's merged ACL when the inventory re-runs the security rules), and the
/// policy's shared index.
#[derive(Clone, Copy)]
pub struct PolicyContext<'a> {
    pub policy: &'a Policy,
    pub acl: &'a Acl,
    pub target: Target,
    pub mounts: &'a Mounts,
    pub index: &'a PolicyIndex<'a>,
    /// The auth mount accessors the inventory writes, when the run has an inventory (empty:
    /// none known).
    pub accessors: Option<&'a std::collections::BTreeSet<String>>,
}

impl<'a> PolicyContext<'a> {
    /// The policy's templated rules (`{{identity...}}` in the label). The per-policy ACL has
    /// no identity, so these rules are not in `acl`; rules that reason about them read them
    /// here (their `pattern` is `None`, `raw_pattern` and `template_vars` hold the text).
    pub fn templated_rules(&self) -> impl Iterator<Item = &'a Rule> {
        self.policy.rules.iter().filter(|rule| rule.is_templated())
    }

    /// The policy's ACL as seen by a token with `identity` (templated rules resolved).
    /// Cost: one ACL build.
    pub fn acl_with_identity(&self, identity: &Identity) -> Option<Acl> {
        Acl::new(&[self.policy], self.target, Some(identity)).ok()
    }

    /// The rules of the policy the ACL would use (not expired, label resolvable), with
    /// their patterns, in source order. Cost: O(blocks).
    pub fn live_rules(&self) -> impl Iterator<Item = (&'a Rule, &'a PathPattern)> {
        self.policy
            .rules
            .iter()
            .filter(|rule| !rule.expired)
            .filter_map(|rule| rule.pattern.as_ref().map(|pattern| (rule, pattern)))
    }

    /// The live rules that grant something: neither empty nor `deny`. Cost: O(blocks).
    pub fn granting_rules(&self) -> impl Iterator<Item = (&'a Rule, &'a PathPattern)> {
        self.live_rules().filter(|(rule, _)| grants(rule))
    }

    /// The union of the capabilities of every live block of this policy with the same
    /// normalised pattern (they merge into one ACL entry, spec 2). Cost: one hash lookup.
    pub fn merged_capabilities(&self, pattern: &PathPattern) -> CapSet {
        self.index.merged_capabilities(pattern)
    }

    /// The block whose label token is at `span` (the first, should two share it).
    /// Cost: one hash lookup.
    pub fn rule_at_label(&self, span: Span) -> Option<&'a Rule> {
        self.index.rule_at_label(span)
    }

    /// The label as written of the block at `span`, or `""`.
    pub fn label_at(&self, span: Span) -> &'a str {
        self.rule_at_label(span)
            .map_or("", |rule| rule.raw_pattern.as_str())
    }

    /// The mounts as this policy shows them (the configuration's, and KV v2 mounts its own
    /// patterns show). Cost: O(1) once the index has gathered the evidence (O(blocks), once).
    pub fn mount_map(&self) -> MountMap<'a> {
        MountMap::with_evidence(self.target, self.mounts, self.index.kv2_evidence())
    }

    /// The same context judged by another ACL (a holder's, a role's).
    pub fn with_acl(&self, acl: &'a Acl) -> PolicyContext<'a> {
        PolicyContext { acl, ..*self }
    }

    /// The same context knowing the inventory's auth mount accessors.
    pub fn with_accessors(
        &self,
        accessors: &'a std::collections::BTreeSet<String>,
    ) -> PolicyContext<'a> {
        PolicyContext {
            accessors: Some(accessors),
            ..*self
        }
    }
}

/// Whether a block grants something: neither empty nor `deny`.
pub fn grants(rule: &Rule) -> bool {
    !rule.capabilities.is_empty() && !rule.capabilities.is_deny()
}

/// The per-policy facts rules share, built once per policy. The cheap ones are built with
/// the index (O(blocks)); the rest on first use, once: the ACL of the synthetic holder of
/// [`synthetic_identity`] (one ACL build, only for templated policies), the witness
/// candidates of the area probes, the root-protected witness paths.
pub struct PolicyIndex<'p> {
    policy: &'p Policy,
    target: Target,
    /// The policy's own ACL (no identity: templated blocks drop out).
    acl: Acl,
    /// Merged capabilities of the live blocks, by normalised pattern.
    merged: FastMap<&'p str, CapSet>,
    /// The same per block (by position; empty for a block without a live pattern), so that a
    /// rule asking about a block's own pattern needs no hashing of the pattern text.
    merged_by_block: Vec<CapSet>,
    /// Per block: whether it is the first live block of its normalised pattern.
    first_of_pattern: Vec<bool>,
    /// Block index by label span (the first block with that span), when the blocks' labels
    /// are not in source order; `None` (nearly always: blocks are lowered in order) when they
    /// are, and a binary search over the blocks finds it without 40 bytes per block.
    by_label: Option<FastMap<Span, usize>>,
    holder: OnceLock<Option<Acl>>,
    witnesses: OnceLock<WitnessSources>,
    own_substituted: OnceLock<Vec<PathPattern>>,
    holder_substituted: OnceLock<Vec<PathPattern>>,
    protected: OnceLock<Vec<String>>,
    kv2_evidence: OnceLock<Kv2Evidence>,
    /// Per depth d (1 to [`GROUPED_DEPTHS`]): the blocks with a pattern, by the pattern's text
    /// up to and including its d-th `/`.
    /// (Owned keys: a `&'p str` inside a `OnceLock` would make the index invariant in `'p`.)
    under: [OnceLock<FastMap<String, Vec<usize>>>; GROUPED_DEPTHS],
    /// The mounts the blocks' literal starts resolve to, for the mount table at the address
    /// kept with them.
    pattern_mounts: OnceLock<(usize, Vec<MountOf>)>,
    /// What each block's pattern reaches in the endpoint catalog, for the mount table at the
    /// address kept with it (see [`BlockReaches`]: a few bytes per block).
    block_reaches: OnceLock<(usize, BlockReaches)>,
}

/// Mount paths of up to this many segments are answered from a grouping of the blocks
/// ([`PolicyIndex::rules_under`]); deeper ones by a scan.
const GROUPED_DEPTHS: usize = 4;

/// The number of blocks from which one policy's work is spread over the cores: the ACL and the
/// block maps of [`PolicyIndex::new`], and the rules (`super::engine`). Below it a run's
/// per-file parallelism keeps the cores busy, and a task per part would cost more than the
/// parts (a few microseconds each on a small policy).
pub(super) const PARALLEL_FROM_BLOCKS: usize = 2048;

/// The per-block maps of a [`PolicyIndex`] (its fields of the same names), which need no ACL.
struct BlockMaps<'p> {
    merged: FastMap<&'p str, CapSet>,
    merged_by_block: Vec<CapSet>,
    first_of_pattern: Vec<bool>,
    by_label: Option<FastMap<Span, usize>>,
}

impl<'p> BlockMaps<'p> {
    /// Cost: O(blocks) hash operations on the normalised patterns.
    fn of(policy: &'p Policy) -> BlockMaps<'p> {
        let mut merged: FastMap<&'p str, CapSet> = FastMap::default();
        let by_label = (!labels_in_order(policy)).then(|| label_map(policy));
        let mut first_of_pattern = vec![false; policy.rules.len()];
        for (index, rule) in policy.rules.iter().enumerate() {
            let Some(pattern) = rule.pattern.as_ref().filter(|_| !rule.expired) else {
                continue;
            };
            let entry = merged.entry(pattern.normalized.as_str());
            first_of_pattern[index] = matches!(entry, std::collections::hash_map::Entry::Vacant(_));
            let set = entry.or_default();
            *set = merge_caps(*set, rule.capabilities);
        }
        let merged_by_block = policy
            .rules
            .iter()
            .map(|rule| match &rule.pattern {
                Some(pattern) => merged
                    .get(pattern.normalized.as_str())
                    .copied()
                    .unwrap_or(CapSet::EMPTY),
                None => CapSet::EMPTY,
            })
            .collect();
        BlockMaps {
            merged,
            merged_by_block,
            first_of_pattern,
            by_label,
        }
    }
}

/// A block's label span as the order [`PolicyIndex::rule_index_at_label`] searches by.
fn label_key(rule: &Rule) -> (usize, usize) {
    (rule.pattern_span.start, rule.pattern_span.end)
}

/// Whether the blocks' label spans never go backwards. Cost: O(blocks).
fn labels_in_order(policy: &Policy) -> bool {
    policy
        .rules
        .windows(2)
        .all(|pair| label_key(&pair[0]) <= label_key(&pair[1]))
}

/// Block index by label span, the first block of each span. Cost: O(blocks).
fn label_map(policy: &Policy) -> FastMap<Span, usize> {
    let mut by_label: FastMap<Span, usize> =
        FastMap::with_capacity_and_hasher(policy.rules.len(), Default::default());
    for (index, rule) in policy.rules.iter().enumerate() {
        by_label.entry(rule.pattern_span).or_insert(index);
    }
    by_label
}

impl<'p> PolicyIndex<'p> {
    /// Builds the policy's own ACL and the index. Cost: one ACL build plus O(blocks). For a
    /// big policy the ACL and the block maps are built at once, on two cores.
    pub fn new(policy: &'p Policy, target: Target) -> Result<PolicyIndex<'p>, AclError> {
        if policy.rules.len() < PARALLEL_FROM_BLOCKS {
            let acl = Acl::new(&[policy], target, None)?;
            return Ok(PolicyIndex::with_acl(policy, target, acl));
        }
        let (acl, maps) = rayon::join(
            || Acl::new(&[policy], target, None),
            || BlockMaps::of(policy),
        );
        Ok(PolicyIndex::with_maps(policy, target, acl?, maps))
    }

    /// The index around an already built own ACL of `policy`. Cost: O(blocks).
    pub fn with_acl(policy: &'p Policy, target: Target, acl: Acl) -> PolicyIndex<'p> {
        PolicyIndex::with_maps(policy, target, acl, BlockMaps::of(policy))
    }

    fn with_maps(
        policy: &'p Policy,
        target: Target,
        acl: Acl,
        maps: BlockMaps<'p>,
    ) -> PolicyIndex<'p> {
        PolicyIndex {
            policy,
            target,
            acl,
            merged: maps.merged,
            merged_by_block: maps.merged_by_block,
            first_of_pattern: maps.first_of_pattern,
            by_label: maps.by_label,
            holder: OnceLock::new(),
            witnesses: OnceLock::new(),
            own_substituted: OnceLock::new(),
            holder_substituted: OnceLock::new(),
            protected: OnceLock::new(),
            kv2_evidence: OnceLock::new(),
            under: Default::default(),
            pattern_mounts: OnceLock::new(),
            block_reaches: OnceLock::new(),
        }
    }

    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// The policy's own ACL.
    pub fn acl(&self) -> &Acl {
        &self.acl
    }

    /// The context of a rule run on this policy alone.
    pub fn context<'a>(&'a self, mounts: &'a Mounts) -> PolicyContext<'a> {
        self.context_with_acl(&self.acl, mounts)
    }

    /// The context of a rule run on this policy, judged by another ACL (a role's).
    pub fn context_with_acl<'a>(&'a self, acl: &'a Acl, mounts: &'a Mounts) -> PolicyContext<'a> {
        PolicyContext {
            policy: self.policy,
            acl,
            target: self.target,
            mounts,
            index: self,
            accessors: None,
        }
    }

    /// See [`PolicyContext::merged_capabilities`]. A block's own pattern is answered by its
    /// position (O(1)), any other pattern by a hash lookup.
    pub fn merged_capabilities(&self, pattern: &PathPattern) -> CapSet {
        if let Some(block) = self.block_of_pattern(pattern) {
            return self.merged_by_block[block];
        }
        self.merged
            .get(pattern.normalized.as_str())
            .copied()
            .unwrap_or(CapSet::EMPTY)
    }

    /// Whether `pattern`, a block's own, is that of the first live block with its normalised
    /// pattern (`None` for a pattern that is no block's own). Cost: O(1).
    pub fn is_first_of_pattern(&self, pattern: &PathPattern) -> Option<bool> {
        self.block_of_pattern(pattern)
            .map(|block| self.first_of_pattern[block])
    }

    /// The position of the block whose own `pattern` this is (the very value, not an equal
    /// one), found from its address. Cost: O(1).
    pub fn block_of_pattern(&self, pattern: &PathPattern) -> Option<usize> {
        let rules = &self.policy.rules;
        let base = rules.as_ptr() as usize;
        let offset = (pattern as *const PathPattern as usize).checked_sub(base)?;
        let block = offset / std::mem::size_of::<Rule>().max(1);
        rules
            .get(block)
            .and_then(|rule| rule.pattern.as_ref())
            .filter(|own| std::ptr::eq(*own, pattern))
            .map(|_| block)
    }

    /// What each block reaches in the endpoint catalog under `mounts` (the configuration's
    /// table, with the policy's own KV v2 evidence), computed on first use, once:
    /// O(blocks × pattern length) resolutions and catalog walks. `None` when an earlier call
    /// cached it for another mount table (the caller computes afresh).
    pub fn block_reaches(&self, mounts: &Mounts) -> Option<&BlockReaches> {
        let address = mounts as *const Mounts as usize;
        let (cached_for, reaches) = self.block_reaches.get_or_init(|| {
            let map = MountMap::with_evidence(self.target, mounts, self.kv2_evidence());
            (address, BlockReaches::of_policy(&map, self.policy))
        });
        (*cached_for == address).then_some(reaches)
    }

    /// See [`PolicyContext::rule_at_label`].
    pub fn rule_at_label(&self, span: Span) -> Option<&'p Rule> {
        let policy = self.policy;
        self.rule_index_at_label(span)
            .map(|index| &policy.rules[index])
    }

    /// The position in the policy of the block whose label token is at `span` (the first
    /// such block). Cost: O(log blocks).
    pub fn rule_index_at_label(&self, span: Span) -> Option<usize> {
        if let Some(by_label) = &self.by_label {
            return by_label.get(&span).copied();
        }
        let rules = &self.policy.rules;
        let key = (span.start, span.end);
        let first = rules.partition_point(|rule| label_key(rule) < key);
        (first < rules.len() && label_key(&rules[first]) == key).then_some(first)
    }

    /// The positions of the live blocks of this policy whose pattern matches `path`, found
    /// through the policy's own ACL (exact store, every covering prefix, the wildcard trie),
    /// unordered. Cost: O(path length + segments × branching + matching blocks).
    pub fn live_rules_matching(&self, path: &str) -> Vec<usize> {
        let mut merged: Vec<&crate::acl::MergedRule> = Vec::new();
        merged.extend(self.acl.exact_rule(path));
        merged.extend(self.acl.prefix_rules_covering(path));
        if path.starts_with('/') {
            // The ACL trims a leading `/` from request paths; patterns keep theirs.
            merged.extend(self.acl.wildcard_rules());
        } else {
            merged.extend(
                self.acl
                    .matching_rules(path)
                    .into_iter()
                    .filter(|rule| rule.pattern.kind == PatternKind::SegmentWildcard),
            );
        }
        let mut out = Vec::new();
        for rule in merged {
            for source in &rule.sources {
                let Some(index) = self.rule_index_at_label(source.pattern_span) else {
                    continue;
                };
                let block = &self.policy.rules[index];
                let live = !block.expired
                    && block
                        .pattern
                        .as_ref()
                        .is_some_and(|pattern| super::matching::pattern_matches(pattern, path));
                if live && !out.contains(&index) {
                    out.push(index);
                }
            }
        }
        out
    }

    /// The ACL of a holder whose entity, aliases and groups make every template variable of
    /// the policy resolve (see [`synthetic_identity`]); `None` when the policy has no
    /// template variable. Built on first use, once.
    pub fn holder_acl(&self) -> Option<&Acl> {
        self.holder
            .get_or_init(|| {
                let identity = synthetic_identity::for_policy(self.policy)?;
                Acl::new(&[self.policy], self.target, Some(&identity)).ok()
            })
            .as_ref()
    }

    /// The granting blocks and the templated patterns as `acl` substitutes them, indexed by
    /// first segment, for the area probes. Built on first use, once.
    pub(super) fn witness_sources(&self) -> &WitnessSources {
        self.witnesses.get_or_init(|| {
            let mut sources = WitnessSources::default();
            for (index, rule) in self.policy.rules.iter().enumerate() {
                let Some(pattern) = &rule.pattern else {
                    continue;
                };
                if rule.expired || !grants(rule) {
                    continue;
                }
                sources.granting.push(index, pattern);
            }
            sources
        })
    }

    /// The merged patterns of `acl` that come from templated blocks of this policy (the
    /// holder's substitutions). Cached for the policy's own and holder ACLs; computed anew
    /// for another ACL. Cost: O(merged rules of `acl`).
    pub(super) fn substituted_patterns<'a>(&'a self, acl: &'a Acl) -> Substituted<'a> {
        if let Some(holder) = self
            .holder_acl()
            .filter(|holder| std::ptr::eq(*holder, acl))
        {
            let cached = self
                .holder_substituted
                .get_or_init(|| substituted(&self.policy.source, holder));
            return Substituted::Cached(cached);
        }
        if std::ptr::eq(acl, &self.acl) {
            let cached = self
                .own_substituted
                .get_or_init(|| substituted(&self.policy.source, &self.acl));
            return Substituted::Cached(cached);
        }
        Substituted::Fresh(substituted(&self.policy.source, acl))
    }

    /// The mounts the policy's own patterns show to be KV v2 (what a [`MountMap`] of the
    /// policy knows beyond the configuration). Gathered on first use, once: O(blocks).
    pub fn kv2_evidence(&self) -> &Kv2Evidence {
        self.kv2_evidence
            .get_or_init(|| Kv2Evidence::of_policy(self.policy))
    }

    /// The positions of the blocks with a pattern (expired ones included) whose normalised
    /// pattern starts with `mount_path`, a path ending in `/`, in source order. Cost: one hash
    /// lookup, after an O(blocks) grouping once per number of segments; a scan of the blocks
    /// for paths of more than `GROUPED_DEPTHS` segments.
    pub fn rules_under(&self, mount_path: &str) -> Vec<usize> {
        let depth = mount_path.matches('/').count();
        let rules = &self.policy.rules;
        if depth == 0 || depth > GROUPED_DEPTHS || !mount_path.ends_with('/') {
            return (0..rules.len())
                .filter(|&index| {
                    rules[index]
                        .pattern
                        .as_ref()
                        .is_some_and(|pattern| pattern.normalized.starts_with(mount_path))
                })
                .collect();
        }
        let groups = self.under[depth - 1].get_or_init(|| {
            let mut groups: FastMap<String, Vec<usize>> = FastMap::default();
            for (index, rule) in self.policy.rules.iter().enumerate() {
                let Some(pattern) = &rule.pattern else {
                    continue;
                };
                let Some(end) = nth_slash_end(&pattern.normalized, depth) else {
                    continue;
                };
                let key = &pattern.normalized[..end];
                match groups.get_mut(key) {
                    Some(group) => group.push(index),
                    None => {
                        groups.insert(key.to_string(), vec![index]);
                    }
                }
            }
            groups
        });
        groups.get(mount_path).cloned().unwrap_or_default()
    }

    /// The mounts the literal starts of the blocks' patterns resolve to (with `mounts` as the
    /// configuration's table and the policy's own KV v2 evidence), each (path, kind) once, in
    /// the order of the first block reaching it. Cached for one mount table (the one of the
    /// first call). Cost: O(blocks) resolutions once.
    pub fn pattern_mounts(&self, mounts: &Mounts) -> Vec<MountOf> {
        let address = mounts as *const Mounts as usize;
        let compute = || {
            let map = MountMap::with_evidence(self.target, mounts, self.kv2_evidence());
            let mut seen: FastSet<(String, String)> = FastSet::default();
            let mut found = Vec::new();
            for rule in &self.policy.rules {
                let Some(pattern) = &rule.pattern else {
                    continue;
                };
                let Some(mount) = map.resolve(literal_prefix(pattern)) else {
                    continue;
                };
                if seen.insert((mount.path.clone(), mount.kind.clone())) {
                    found.push(mount);
                }
            }
            found
        };
        let (cached_for, cached) = self.pattern_mounts.get_or_init(|| (address, compute()));
        if *cached_for == address {
            return cached.clone();
        }
        compute()
    }

    /// Each root-protected path pattern of the target (and the handler-checked ones) filled
    /// in as concrete paths. Built on first use, once.
    pub fn protected_instances(&self, build: impl FnOnce(Target) -> Vec<String>) -> &[String] {
        self.protected.get_or_init(|| build(self.target))
    }
}

/// The end of the text up to and including its `depth`-th `/`, if it has that many.
fn nth_slash_end(text: &str, depth: usize) -> Option<usize> {
    let (index, _) = text.match_indices('/').nth(depth - 1)?;
    Some(index + 1)
}

/// The merge of two blocks' capabilities on one pattern: `deny` wins, else the union.
fn merge_caps(set: CapSet, next: CapSet) -> CapSet {
    if set.is_deny() || next.is_deny() {
        return CapSet::only(Capability::Deny);
    }
    set.union(next)
}

/// The merged patterns of `acl` with a templated source block from `file`.
fn substituted(file: &Arc<SourceFile>, acl: &Acl) -> Vec<PathPattern> {
    acl.rules()
        .into_iter()
        .filter(|merged| {
            merged
                .sources
                .iter()
                .any(|source| source.file.name == file.name && source.raw_pattern.contains("{{"))
        })
        .map(|merged| merged.pattern.clone())
        .collect()
}

/// Substituted patterns, borrowed from the index or computed for a foreign ACL.
pub(super) enum Substituted<'a> {
    Cached(&'a [PathPattern]),
    Fresh(Vec<PathPattern>),
}

impl Substituted<'_> {
    pub(super) fn patterns(&self) -> &[PathPattern] {
        match self {
            Substituted::Cached(patterns) => patterns,
            Substituted::Fresh(patterns) => patterns,
        }
    }
}

/// Where the area probes look for witnesses: the policy's granting blocks, by first segment.
#[derive(Default)]
pub(super) struct WitnessSources {
    /// Granting blocks (indices into the policy's rules).
    pub granting: FirstSegmentIndex,
}

/// Items (block indices) grouped by the literal first segment of their pattern; items whose
/// instances may start with any segment (`+/...`, a glob in the first segment) are `wild`.
/// An area whose pattern starts with a literal segment can only be reached through items of
/// that segment or wild ones.
#[derive(Default)]
pub(super) struct FirstSegmentIndex {
    all: Vec<usize>,
    by_first: FastMap<String, Vec<usize>>,
    wild: Vec<usize>,
}

impl FirstSegmentIndex {
    fn push(&mut self, item: usize, pattern: &PathPattern) {
        self.all.push(item);
        match literal_first_segment(pattern) {
            Some(first) => self
                .by_first
                .entry(first.to_string())
                .or_default()
                .push(item),
            None => self.wild.push(item),
        }
    }

    /// The items whose instances may start with `first` (every item for `None`), in
    /// insertion order. Cost: O(items returned).
    pub(super) fn candidates(&self, first: Option<&str>) -> Vec<usize> {
        let Some(first) = first else {
            return self.all.clone();
        };
        let named = self.by_first.get(first).map_or(&[][..], Vec::as_slice);
        merge_sorted(named, &self.wild)
    }
}

/// Two ascending lists merged into one. Cost: O(both).
fn merge_sorted(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The first segment every path the pattern matches (and every instance of it) starts
/// with, when the pattern fixes it: `sys` for `sys/policy/*`, `None` for `+/x`, `*` or `s*`.
pub fn literal_first_segment(pattern: &PathPattern) -> Option<&str> {
    let text = pattern.normalized.as_str();
    match text.split_once('/') {
        Some(("+", _)) => None,
        Some((first, _)) => Some(first),
        None if pattern.kind == PatternKind::Exact => Some(text),
        None => None,
    }
}

/// What a role-level rule sees: one subject's effective policies and merged ACL.
pub struct RoleContext<'a> {
    /// The effective policies in merge order (`default` included unless disabled).
    pub policies: &'a [Policy],
    /// The subject's merged ACL, templates resolved against `identity`.
    pub acl: &'a Acl,
    pub identity: Option<&'a Identity>,
    pub target: Target,
    pub mounts: &'a Mounts,
}

impl RoleContext<'_> {
    /// Policies that come from files (the built-in `default` has no file to point into).
    pub fn file_policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies
            .iter()
            .filter(|policy| !policy.source.name.starts_with('<'))
    }

    /// A policy of the subject by name.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|policy| policy.qualified_name() == name)
    }
}

/// A role-level finding: the file it points into and the diagnostic; `{subjects}` in the
/// message is replaced by the subjects that share it.
pub type RoleFinding = (Arc<SourceFile>, crate::diag::Diagnostic);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::policy::parse_policy;

    /// A valid Vault policy parsed from `text` (the lint unit tests' builder).
    pub(crate) fn policy(text: &str) -> Policy {
        let parsed = parse_policy(Arc::new(SourceFile::new("p.hcl", text)), Target::Vault);
        parsed.policy.expect("valid policy")
    }

    /// A big policy's index, built with its ACL and block maps at once, answers as the one
    /// built one after the other: merged capabilities, first blocks of a pattern, blocks by
    /// label, and the ACL's entries.
    #[test]
    fn index_built_on_two_cores_matches_one_after_the_other() {
        let text: String = (0..PARALLEL_FROM_BLOCKS + 10)
            .map(|i| {
                let capabilities = ["\"read\"", "\"deny\"", "\"list\", \"update\""][i % 3];
                format!(
                    "path \"p/{}/*\" {{ capabilities = [{capabilities}] }}\n",
                    i % 700
                )
            })
            .collect();
        let policy = policy(&text);
        let both = PolicyIndex::new(&policy, Target::Vault).unwrap();
        let acl = Acl::new(&[&policy], Target::Vault, None).unwrap();
        let one_by_one = PolicyIndex::with_acl(&policy, Target::Vault, acl);
        for rule in &policy.rules {
            let pattern = rule.pattern.as_ref().unwrap();
            assert_eq!(
                both.merged_capabilities(pattern),
                one_by_one.merged_capabilities(pattern)
            );
            assert_eq!(
                both.is_first_of_pattern(pattern),
                one_by_one.is_first_of_pattern(pattern)
            );
            let span = rule.pattern_span;
            assert_eq!(
                both.rule_index_at_label(span),
                one_by_one.rule_index_at_label(span)
            );
        }
        let entries = |index: &PolicyIndex<'_>| -> Vec<(String, CapSet)> {
            let rules = index.acl().rules();
            rules
                .iter()
                .map(|r| (r.pattern.normalized.clone(), r.capabilities))
                .collect()
        };
        assert_eq!(entries(&both), entries(&one_by_one));
        assert!(entries(&both).len() >= 700);
    }

    /// A block found by its label span is the first block with that span, as a scan finds it,
    /// whether the labels are in source order (binary search) or not (the map); a span that
    /// is no label finds none.
    #[test]
    fn rule_at_label_agrees_with_a_scan() {
        let text: String = (0..50)
            .map(|i| format!("path \"p/{}\" {{ capabilities = [\"read\"] }}\n", i % 7))
            .collect();
        let in_order = policy(&text);
        let mut shuffled = in_order.clone();
        shuffled.rules.reverse();
        shuffled.rules.swap(3, 40);
        // Two blocks with one label span (as one label with a list of bodies gives).
        let mut shared = in_order.clone();
        shared.rules[5].pattern_span = shared.rules[4].pattern_span;
        for policy in [&in_order, &shuffled, &shared] {
            let index = PolicyIndex::new(policy, Target::Vault).unwrap();
            let mut spans: Vec<Span> = policy.rules.iter().map(|r| r.pattern_span).collect();
            spans.push(Span::new(1, 2));
            spans.push(Span::new(usize::MAX - 1, usize::MAX));
            for span in spans {
                let scan = policy.rules.iter().position(|r| r.pattern_span == span);
                assert_eq!(index.rule_index_at_label(span), scan, "{span:?}");
            }
        }
    }

    /// The grouping answers exactly what a scan of the blocks does, at every depth.
    #[test]
    fn rules_under_agrees_with_a_scan() {
        let labels = [
            "secret/data/a",
            "secret/*",
            "secret",
            "secretx/y",
            "/secret/data/b/c",
            "auth/approle/role/x",
            "auth/approle/*",
            "a/b/c/d/e/f",
            "+/x",
            "a/b/c/d/e/g/*",
        ];
        let text: String = labels
            .iter()
            .map(|label| format!("path \"{label}\" {{ capabilities = [\"read\"] }}\n"))
            .collect();
        let policy = policy(&text);
        let index = PolicyIndex::new(&policy, Target::Vault).unwrap();
        for mount in [
            "secret/",
            "secret/data/",
            "auth/",
            "auth/approle/",
            "auth/approle/role/",
            "a/b/c/d/",
            "a/b/c/d/e/",
            "+/",
            "nothing/",
            "secret",
        ] {
            let scanned: Vec<usize> = (0..policy.rules.len())
                .filter(|&i| {
                    policy.rules[i]
                        .pattern
                        .as_ref()
                        .is_some_and(|p| p.normalized.starts_with(mount))
                })
                .collect();
            assert_eq!(index.rules_under(mount), scanned, "{mount}");
        }
    }

    /// Each block's own pattern is found by address (a copy is not), with its merged
    /// capabilities and whether it is the first block of its normalised pattern.
    #[test]
    fn block_facts_by_position() {
        let policy = policy(
            "path \"a/x\" { capabilities = [\"read\"] }\n\
             path \"b/*\" { capabilities = [\"list\"] }\n\
             path \"/a/x\" { capabilities = [\"update\"] }\n",
        );
        let index = PolicyIndex::new(&policy, Target::Vault).unwrap();
        let patterns: Vec<&PathPattern> = policy
            .rules
            .iter()
            .map(|rule| rule.pattern.as_ref().unwrap())
            .collect();
        let blocks: Vec<Option<usize>> = patterns
            .iter()
            .map(|pattern| index.block_of_pattern(pattern))
            .collect();
        assert_eq!(blocks, vec![Some(0), Some(1), Some(2)]);
        let first: Vec<Option<bool>> = patterns
            .iter()
            .map(|pattern| index.is_first_of_pattern(pattern))
            .collect();
        assert_eq!(first, vec![Some(true), Some(true), Some(false)]);
        let both = CapSet::only(Capability::Read).union(CapSet::only(Capability::Update));
        assert_eq!(index.merged_capabilities(patterns[2]), both);
        let copy = patterns[0].clone();
        assert_eq!(index.block_of_pattern(&copy), None);
        assert_eq!(index.is_first_of_pattern(&copy), None);
        assert_eq!(index.merged_capabilities(&copy), both);
    }

    /// The patterns' mounts come once each, in the order of the first block reaching them,
    /// and a second mount table is answered afresh rather than from the cache.
    #[test]
    fn pattern_mounts_in_first_seen_order() {
        let policy = policy(
            "path \"pki/issue/x\" { capabilities = [\"update\"] }\n\
             path \"transit/keys/k\" { capabilities = [\"read\"] }\n\
             path \"pki/roles/y\" { capabilities = [\"read\"] }\n\
             path \"kv/data/x\" { capabilities = [\"read\"] }\n",
        );
        let index = PolicyIndex::new(&policy, Target::Vault).unwrap();
        let mounts = Mounts::default();
        let paths = |found: Vec<MountOf>| -> Vec<(String, String)> {
            found.into_iter().map(|m| (m.path, m.kind)).collect()
        };
        let expected = vec![
            ("pki/".to_string(), "pki".to_string()),
            ("transit/".to_string(), "transit".to_string()),
            ("kv/".to_string(), "kv-v2".to_string()),
        ];
        assert_eq!(paths(index.pattern_mounts(&mounts)), expected);
        assert_eq!(paths(index.pattern_mounts(&mounts)), expected);
        let other = Mounts::default();
        assert_eq!(paths(index.pattern_mounts(&other)), expected);
    }
}
