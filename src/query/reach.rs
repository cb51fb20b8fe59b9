//! `reach`: what a token can do, as path regions derived from its merged rules.
//!
//! # Model
//!
//! For a given request kind the ACL picks exactly one rule per path (spec 3.3, 3.4), and that
//! choice follows a fixed ranking of *regions*: the language a rule's pattern matches (see
//! [`super::lang`]) at a rank that depends only on the pattern. A path is decided by the
//! highest-ranked region that contains it. Two views exist:
//!
//! - [`View::Request`], every operation except LIST and SCAN (and `sys/capabilities` on a path
//!   without a trailing `/`): exact rules rank above every other rule, then the priority order
//!   of spec 3.4 (first `+`/glob position, non-prefix over prefix, fewer `+`, longer, greater).
//! - [`View::Listing`], LIST and SCAN requests, whose paths always end in `/` (spec 3.1): the
//!   exact rule for the path, then the exact rule for the path minus its `/`, then the
//!   target's non-exact resolution. OpenBao tries the full path, then the trimmed one; only a
//!   non-prefix `+` rule can match the trimmed path without matching the full one, so the
//!   trimmed tier holds those rules shifted by one `/`. Vault pools the candidates of both
//!   paths and prefers the best rule holding `deny` or `list` (spec 3.3, "Vault newest"); a
//!   prefix rule is a candidate only while no longer prefix rule matches, so pooled prefix
//!   regions carry those longer prefixes as exclusions. (The ACL strips leading slashes
//!   first, so a LIST of `/` is a LIST of the empty path, decided by the request view.)
//!
//! For a capability C, the answer lists every region whose rule grants C, each with the
//! higher-ranked regions that overlap it and lack C or carry conditions (its exceptions; one
//! inside another listed prefix exception is left out, which keeps nested carve-outs linear). The answer is exact:
//! **a path holds C if and only if it is in some listed region and in none of that region's
//! exceptions.** (If a path is in region R but the winner W is another region, W ranks above R
//! and overlaps it, so W is one of R's exceptions unless W also grants C, unconditionally.) Overlap is decided
//! on the patterns' inclusion parts only, so an exception with exclusions may be listed where
//! its effective part misses the region; that never changes the meaning.
//!
//! Not part of the answer: parameter constraints, wrapping TTLs, sudo-protected paths and
//! control groups. Regions whose rule carries such conditions are flagged ([`Condition`]);
//! `explain` evaluates them for one request.
//!
//! Cost, for R merged rules with patterns of length L: building is O(R log R) regions (plus
//! the pooled regions' exclusion lists, found by one binary search each). Answering one
//! capability indexes the regions that can be exceptions by their literal head (the bytes
//! every path of the region starts with: two regions can only overlap when one head is a
//! prefix of the other), so each granting region tests for overlap only the regions whose head
//! is a prefix or an extension of its own: O(R × (log R + L) + C × L²) for C such candidate
//! pairs, which is near-linear unless many heads nest (a catch-all region is one candidate of
//! every other region, once).

use std::cmp::{Ordering, Reverse};

use super::lang::{intersects, Domain, Seq, Token};
use crate::acl::{Acl, MergedRule};
use crate::policy::{Capability, PatternKind};
use crate::target::Target;

/// Which requests a set of regions decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Every operation except LIST and SCAN.
    Request,
    /// LIST and SCAN requests (paths ending in `/`).
    Listing,
}

impl View {
    /// The view that decides requests needing `capability`.
    pub fn for_capability(capability: Capability) -> View {
        match capability {
            Capability::List | Capability::Scan => View::Listing,
            _ => View::Request,
        }
    }

    /// The request paths the view decides.
    pub fn domain(self) -> Domain {
        Domain {
            trailing_slash: self == View::Listing,
        }
    }
}

/// How a region derives from its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The rule's own pattern.
    Rule,
    /// LIST fallback: the exact rule `p` decides LIST `p/` when no exact rule `p/` exists.
    ExactTrimmed,
    /// LIST fallback (OpenBao): a `+` rule matching `p` decides LIST `p/` when no rule
    /// matches `p/` itself.
    NonExactTrimmed,
    /// Vault's pooled LIST resolver: the rule is a candidate for LIST `p/` when it matches
    /// `p/` or `p`.
    Pooled,
}

/// A condition the ACL checks after choosing the rule, which `reach` does not evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    AllowedParameters,
    DeniedParameters,
    RequiredParameters,
    WrappingTtl,
    PaginationLimit,
    MfaMethods,
}

impl Condition {
    pub fn describe(self) -> &'static str {
        match self {
            Condition::AllowedParameters => "allowed_parameters",
            Condition::DeniedParameters => "denied_parameters",
            Condition::RequiredParameters => "required_parameters",
            Condition::WrappingTtl => "wrapping ttl",
            Condition::PaginationLimit => "pagination_limit",
            Condition::MfaMethods => "mfa_methods",
        }
    }
}

/// One part of a region: the paths of `include` that are in none of `exclude`.
#[derive(Clone, Debug)]
pub struct Piece {
    pub include: Seq,
    pub exclude: Vec<Seq>,
}

impl Piece {
    fn plain(include: Seq) -> Piece {
        Piece {
            include,
            exclude: Vec::new(),
        }
    }

    fn contains(&self, path: &str) -> bool {
        self.include.matches(path) && !self.exclude.iter().any(|seq| seq.matches(path))
    }
}

/// A set of paths decided by one rule at one rank.
#[derive(Clone, Debug)]
pub struct Region {
    /// Index into [`Reach::rules`].
    pub rule: usize,
    pub origin: Origin,
    /// The region written as a Vault pattern (for [`Origin::ExactTrimmed`] and
    /// [`Origin::NonExactTrimmed`], the rule's pattern followed by `/`).
    pub pattern: String,
    pub pieces: Vec<Piece>,
    rank: Rank,
}

impl Region {
    /// Whether the region holds `path` (after the ACL's leading-slash stripping).
    pub fn contains(&self, path: &str) -> bool {
        let path = path.trim_start_matches('/');
        self.pieces.iter().any(|piece| piece.contains(path))
    }

    /// The longer prefix patterns that take the rule out of Vault's pooled resolver.
    pub fn excluded_prefixes(&self) -> Vec<String> {
        let mut patterns: Vec<String> = self
            .pieces
            .iter()
            .filter(|piece| piece.include.0.last() != Some(&Token::Lit(b'/')))
            .flat_map(|piece| piece.exclude.iter().map(Seq::to_string))
            .collect();
        patterns.sort();
        patterns.dedup();
        patterns
    }

    fn overlaps(&self, other: &Region, domain: Domain) -> bool {
        self.pieces.iter().any(|mine| {
            other
                .pieces
                .iter()
                .any(|theirs| intersects(&mine.include, &theirs.include, domain))
        })
    }
}

/// Rank of a region; the greatest rank containing a path decides it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    tier: u8,
    priority: Option<Priority>,
}

/// Spec 3.4's priority order as a sort key (greater wins), field order = check order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Priority {
    first_wildcard: usize,
    not_prefix: bool,
    fewer_plus: Reverse<usize>,
    length: usize,
    wc_path: Vec<u8>,
}

fn priority(rule: &MergedRule) -> Option<Priority> {
    let pattern = &rule.pattern;
    match pattern.kind {
        PatternKind::Exact => None,
        PatternKind::Prefix => Some(Priority {
            first_wildcard: pattern.key().len(),
            not_prefix: false,
            fewer_plus: Reverse(0),
            length: pattern.key().len(),
            wc_path: pattern.key().as_bytes().to_vec(),
        }),
        PatternKind::SegmentWildcard => {
            let full = &pattern.normalized;
            let (wc_path, is_prefix) = match full.strip_suffix('*') {
                Some(body) => (body, true),
                None => (full.as_str(), false),
            };
            Some(Priority {
                first_wildcard: full.find('+').unwrap_or(0),
                not_prefix: !is_prefix,
                fewer_plus: Reverse(wc_path.split('/').filter(|part| *part == "+").count()),
                length: wc_path.len(),
                wc_path: wc_path.as_bytes().to_vec(),
            })
        }
    }
}

/// The regions of one view, highest rank first.
#[derive(Clone, Debug)]
pub struct Regions {
    pub view: View,
    pub regions: Vec<Region>,
}

impl Regions {
    /// The region that decides `path`: the highest-ranked one containing it. Cost: O(R × L ×
    /// path length); meant for tests and explanations, not for serving requests.
    pub fn decider(&self, path: &str) -> Option<&Region> {
        self.regions.iter().find(|region| region.contains(path))
    }
}

/// How Vault resolves LIST after the exact lookups (spec 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListResolver {
    /// OpenBao: full path, then trimmed path.
    FullThenTrimmed,
    /// Vault newest: both paths pooled, deny or list preferred.
    Pooled,
}

impl ListResolver {
    pub fn for_target(target: Target) -> ListResolver {
        match target {
            Target::OpenBao => ListResolver::FullThenTrimmed,
            Target::Vault => ListResolver::Pooled,
        }
    }
}

/// Everything a token can reach.
#[derive(Clone, Debug)]
pub struct Reach {
    pub target: Target,
    /// The token is root: every path, every capability.
    pub root: bool,
    pub rules: Vec<MergedRule>,
    pub request: Regions,
    pub listing: Regions,
}

/// One region granting a capability, with its exceptions.
#[derive(Clone, Debug)]
pub struct Grant<'a> {
    pub region: &'a Region,
    pub rule: &'a MergedRule,
    /// Higher-ranked overlapping regions whose rule lacks the capability.
    pub exceptions: Vec<&'a Region>,
}

/// Where one capability is held.
#[derive(Clone, Debug)]
pub struct CapabilityReach<'a> {
    pub capability: Capability,
    pub view: View,
    pub grants: Vec<Grant<'a>>,
}

impl CapabilityReach<'_> {
    /// Whether `path` holds the capability according to this answer (the meaning stated in
    /// the module documentation).
    pub fn holds(&self, path: &str) -> bool {
        self.grants.iter().any(|grant| {
            grant.region.contains(path)
                && !grant
                    .exceptions
                    .iter()
                    .any(|exception| exception.contains(path))
        })
    }
}

/// The order capabilities are reported in.
pub const REPORT_ORDER: [Capability; 10] = [
    Capability::Read,
    Capability::List,
    Capability::Create,
    Capability::Update,
    Capability::Patch,
    Capability::Delete,
    Capability::Sudo,
    Capability::Scan,
    Capability::Subscribe,
    Capability::Recover,
];

impl Reach {
    /// Builds the regions of both views from the ACL's merged rules. Cost: O(R log R).
    pub fn new(acl: &Acl) -> Reach {
        let root = acl.is_root();
        let rules: Vec<MergedRule> = acl.rules().into_iter().cloned().collect();
        Reach::from_rules(rules, acl.target(), root)
    }

    /// Builds the regions from merged rules (one per store and key, as [`Acl::rules`] gives).
    pub fn from_rules(mut rules: Vec<MergedRule>, target: Target, root: bool) -> Reach {
        // A stable order makes the output independent of the ACL's store iteration order.
        rules.sort_by(|a, b| {
            a.pattern
                .normalized
                .cmp(&b.pattern.normalized)
                .then(a.pattern.key().cmp(b.pattern.key()))
        });
        let request = request_regions(&rules);
        let listing = listing_regions(&rules, ListResolver::for_target(target));
        Reach {
            target,
            root,
            rules,
            request,
            listing,
        }
    }

    pub fn view(&self, view: View) -> &Regions {
        match view {
            View::Request => &self.request,
            View::Listing => &self.listing,
        }
    }

    /// Capabilities some rule grants, in report order.
    pub fn granted_capabilities(&self) -> Vec<Capability> {
        REPORT_ORDER
            .into_iter()
            .filter(|capability| {
                self.rules.iter().any(|rule| grants(rule, *capability))
                    && capability.valid_for(self.target)
            })
            .collect()
    }

    /// Where `capability` is held. With `under`, only regions and exceptions that meet paths
    /// starting with `under` are kept (the answer stays exact for those paths).
    pub fn capability(&self, capability: Capability, under: Option<&str>) -> CapabilityReach<'_> {
        let view = View::for_capability(capability);
        let domain = view.domain();
        let scope = under.map(|prefix| Region {
            rule: 0,
            origin: Origin::Rule,
            pattern: format!("{prefix}*"),
            pieces: vec![Piece::plain(
                Seq::literal(prefix.trim_start_matches('/')).then(Token::Any),
            )],
            rank: Rank {
                tier: 0,
                priority: None,
            },
        });
        let in_scope = |region: &Region| match &scope {
            Some(scope) => region.overlaps(scope, domain),
            None => true,
        };
        let regions = &self.view(view).regions;
        // A higher rule with conditions is carved out too, so a path it decides shows only
        // under its own (conditional) region.
        let can_except = |region: &Region| {
            let rule = &self.rules[region.rule];
            !grants(rule, capability) || !conditions(rule).is_empty()
        };
        let index = HeadIndex::new(regions, |region| can_except(region) && in_scope(region));
        let mut found = Vec::new();
        let mut candidates = Vec::new();
        for region in regions {
            let rule = &self.rules[region.rule];
            if !grants(rule, capability) || !in_scope(region) {
                continue;
            }
            index.candidates(region, &mut candidates);
            let exceptions = without_contained(
                candidates
                    .iter()
                    .map(|&at| &regions[at])
                    .filter(|higher| higher.rank > region.rank && higher.overlaps(region, domain))
                    .collect(),
            );
            found.push(Grant {
                region,
                rule,
                exceptions,
            });
        }
        found.sort_by(|a, b| a.region.pattern.cmp(&b.region.pattern));
        CapabilityReach {
            capability,
            view,
            grants: found,
        }
    }
}

/// The literal of a one-piece region that is a whole prefix language (literal bytes then a
/// glob, nothing excluded): it holds every path starting with those bytes.
fn prefix_literal(region: &Region) -> Option<Vec<u8>> {
    let [piece] = region.pieces.as_slice() else {
        return None;
    };
    let (Token::Any, literal) = piece.include.0.split_last()? else {
        return None;
    };
    if !piece.exclude.is_empty() {
        return None;
    }
    literal
        .iter()
        .map(|token| match token {
            Token::Lit(byte) => Some(*byte),
            _ => None,
        })
        .collect()
}

/// `exceptions` without those inside another of them: a one-piece exception whose paths all
/// start with a prefix exception's literal (strictly longer head, or the same language listed
/// earlier). The union, and so the answer's meaning, is unchanged; the list of nested
/// exceptions (`a*` under `aa*` under `aaa*` ...) stays linear instead of quadratic.
/// A dropped exception always has a kept one around it: each drop points to an exception with
/// a shorter literal, or the same literal earlier in the list. Cost: O(k × L log k) for k
/// exceptions of length L (a few binary searches per exception in practice).
fn without_contained(exceptions: Vec<&Region>) -> Vec<&Region> {
    let mut prefixes: Vec<(Vec<u8>, usize)> = exceptions
        .iter()
        .enumerate()
        .filter_map(|(at, region)| prefix_literal(region).map(|literal| (literal, at)))
        .collect();
    if prefixes.is_empty() {
        return exceptions;
    }
    prefixes.sort_unstable();
    let covered = |at: usize, region: &Region| -> bool {
        let [piece] = region.pieces.as_slice() else {
            return false;
        };
        let head = head(&piece.include);
        let prefix_form = prefix_literal(region).is_some();
        // Whether the exceptions with this literal (a prefix of the head) hold this one.
        let holds = |literal: &[u8], group: &[(Vec<u8>, usize)]| {
            group.iter().any(|&(_, other)| {
                other != at && (literal.len() < head.len() || !prefix_form || other < at)
            })
        };
        prefix_runs(
            &prefixes,
            |(literal, _)| literal,
            &head,
            |run| holds(&run[0].0, run),
        )
    };
    exceptions
        .iter()
        .enumerate()
        .filter(|&(at, region)| !covered(at, region))
        .map(|(_, region)| *region)
        .collect()
}

/// The literal bytes every path of `seq` starts with.
pub(crate) fn head(seq: &Seq) -> Vec<u8> {
    seq.0
        .iter()
        .map_while(|token| match token {
            Token::Lit(byte) => Some(*byte),
            _ => None,
        })
        .collect()
}

/// Some regions (by position in their view) under the heads of their pieces, sorted, so that
/// the regions that may overlap a given one are found without looking at the others.
pub(crate) struct HeadIndex {
    /// Distinct heads in byte order, each with the regions having a piece with that head.
    heads: Vec<(Vec<u8>, Vec<usize>)>,
}

impl HeadIndex {
    /// Indexes the regions `keep` selects. Cost: O(R × L + R log R).
    pub(crate) fn new(regions: &[Region], keep: impl Fn(&Region) -> bool) -> HeadIndex {
        let mut entries: Vec<(Vec<u8>, usize)> = Vec::new();
        for (at, region) in regions.iter().enumerate() {
            if !keep(region) {
                continue;
            }
            entries.extend(region.pieces.iter().map(|piece| (head(&piece.include), at)));
        }
        entries.sort_unstable();
        let mut heads: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
        for (head, at) in entries {
            match heads.last_mut() {
                Some((last, ats)) if *last == head => {
                    if ats.last() != Some(&at) {
                        ats.push(at);
                    }
                }
                _ => heads.push((head, vec![at])),
            }
        }
        HeadIndex { heads }
    }

    /// The indexed regions that may overlap `region` (a head of one is a prefix of a head of
    /// the other), in view order, each once. Cost: O(L log R) per piece, plus the candidates.
    pub(crate) fn candidates(&self, region: &Region, found: &mut Vec<usize>) {
        found.clear();
        for piece in &region.pieces {
            let head = head(&piece.include);
            self.extensions(&head, found);
            self.strict_prefixes(&head, found);
        }
        found.sort_unstable();
        found.dedup();
    }

    /// Regions whose head starts with `head` (one contiguous run of the sorted heads).
    fn extensions(&self, head: &[u8], found: &mut Vec<usize>) {
        let start = self.heads.partition_point(|(h, _)| h.as_slice() < head);
        for (_, ats) in self.heads[start..]
            .iter()
            .take_while(|(h, _)| h.starts_with(head))
        {
            found.extend_from_slice(ats);
        }
    }

    /// Regions whose head is a strict prefix of `head` ([`prefix_runs`] over the text without
    /// its last byte): O(L) binary searches at most.
    fn strict_prefixes(&self, head: &[u8], found: &mut Vec<usize>) {
        let Some(shorter) = head.len().checked_sub(1) else {
            return;
        };
        prefix_runs(
            &self.heads,
            |(h, _)| h,
            &head[..shorter],
            |run| {
                run.iter().for_each(|(_, ats)| found.extend_from_slice(ats));
                false
            },
        );
    }
}

/// Walks the runs of equal keys in `sorted` (sorted by `key`) whose key is a prefix of `text`
/// (`text` itself included), longest first, until `visit` returns `true`; returns whether it
/// did. The greatest key at or below a text is either its prefix or shares with it a common
/// prefix that bounds every shorter prefix key, so each step shortens the text: O(L) binary
/// searches at most for a text of L bytes.
fn prefix_runs<T>(
    sorted: &[T],
    key: impl Fn(&T) -> &[u8],
    text: &[u8],
    mut visit: impl FnMut(&[T]) -> bool,
) -> bool {
    let mut text = text;
    loop {
        let end = sorted.partition_point(|item| key(item) <= text);
        let Some(candidate) = end.checked_sub(1).map(|last| key(&sorted[last])) else {
            return false;
        };
        if text.starts_with(candidate) {
            let start = sorted[..end].partition_point(|item| key(item) < candidate);
            if visit(&sorted[start..end]) {
                return true;
            }
            let Some(shorter) = candidate.len().checked_sub(1) else {
                return false;
            };
            text = &candidate[..shorter];
            continue;
        }
        let common = candidate
            .iter()
            .zip(text)
            .take_while(|(a, b)| a == b)
            .count();
        text = &text[..common];
    }
}

/// Whether a merged rule grants the capability (a deny rule grants nothing).
pub fn grants(rule: &MergedRule, capability: Capability) -> bool {
    !rule.capabilities.is_deny() && rule.capabilities.contains(capability)
}

/// The conditions on a rule that `reach` does not evaluate.
pub fn conditions(rule: &MergedRule) -> Vec<Condition> {
    let mut found = Vec::new();
    if rule
        .extra()
        .allowed_parameters
        .as_ref()
        .is_some_and(|m| !m.is_empty())
    {
        found.push(Condition::AllowedParameters);
    }
    if rule
        .extra()
        .denied_parameters
        .as_ref()
        .is_some_and(|m| !m.is_empty())
    {
        found.push(Condition::DeniedParameters);
    }
    if !rule.extra().required_parameters.is_empty() {
        found.push(Condition::RequiredParameters);
    }
    if rule.extra().min_wrapping_ttl > 0 || rule.extra().max_wrapping_ttl > 0 {
        found.push(Condition::WrappingTtl);
    }
    if rule.extra().pagination_limit > 0 {
        found.push(Condition::PaginationLimit);
    }
    if !rule.extra().mfa_methods.is_empty() {
        found.push(Condition::MfaMethods);
    }
    found
}

const TIER_EXACT: u8 = 5;
const TIER_EXACT_TRIMMED: u8 = 4;
const TIER_NON_EXACT: u8 = 3;
const TIER_LOWER: u8 = 2;

fn region(
    rules: &[MergedRule],
    index: usize,
    origin: Origin,
    tier: u8,
    pieces: Vec<Piece>,
) -> Region {
    let rule = &rules[index];
    let pattern = match origin {
        Origin::ExactTrimmed | Origin::NonExactTrimmed => format!("{}/", rule.pattern.normalized),
        Origin::Rule | Origin::Pooled => rule.pattern.normalized.clone(),
    };
    Region {
        rule: index,
        origin,
        pattern,
        pieces,
        rank: Rank {
            tier,
            priority: priority(rule),
        },
    }
}

fn sorted(view: View, mut regions: Vec<Region>) -> Regions {
    regions.sort_by(|a, b| b.rank.cmp(&a.rank).then(Ordering::Equal));
    Regions { view, regions }
}

fn request_regions(rules: &[MergedRule]) -> Regions {
    let regions = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let tier = if rule.pattern.is_exact() {
                TIER_EXACT
            } else {
                TIER_NON_EXACT
            };
            let seq = Seq::of_pattern(&rule.pattern);
            region(rules, index, Origin::Rule, tier, vec![Piece::plain(seq)])
        })
        .collect();
    sorted(View::Request, regions)
}

fn listing_regions(rules: &[MergedRule], resolver: ListResolver) -> Regions {
    let prefixes = PrefixKeys::new(rules);
    let mut regions = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let seq = Seq::of_pattern(&rule.pattern);
        if rule.pattern.is_exact() {
            regions.push(region(
                rules,
                index,
                Origin::Rule,
                TIER_EXACT,
                vec![Piece::plain(seq.clone())],
            ));
            let trimmed = Piece::plain(seq.slash());
            regions.push(region(
                rules,
                index,
                Origin::ExactTrimmed,
                TIER_EXACT_TRIMMED,
                vec![trimmed],
            ));
            continue;
        }
        match resolver {
            ListResolver::FullThenTrimmed => regions.extend(full_then_trimmed(rules, index, seq)),
            ListResolver::Pooled => regions.push(pooled(rules, &prefixes, index, seq)),
        }
    }
    sorted(View::Listing, regions)
}

/// OpenBao: the rule on the full path; a non-prefix `+` rule also on the trimmed path (a
/// prefix or glob rule matching `p` also matches `p/`, so its trimmed region never decides).
fn full_then_trimmed(rules: &[MergedRule], index: usize, seq: Seq) -> Vec<Region> {
    let rule = &rules[index];
    let mut regions = vec![region(
        rules,
        index,
        Origin::Rule,
        TIER_NON_EXACT,
        vec![Piece::plain(seq.clone())],
    )];
    let non_prefix_wildcard = rule.pattern.kind == PatternKind::SegmentWildcard
        && !rule.pattern.normalized.ends_with('*');
    if non_prefix_wildcard {
        let trimmed = Piece::plain(seq.slash());
        regions.push(region(
            rules,
            index,
            Origin::NonExactTrimmed,
            TIER_LOWER,
            vec![trimmed],
        ));
    }
    regions
}

/// Vault: the rule is in the pool for `p/` when it matches `p/` or `p` (a prefix rule only
/// while it is the longest prefix rule of that path); rules holding deny or list rank first.
fn pooled(rules: &[MergedRule], prefixes: &PrefixKeys, index: usize, seq: Seq) -> Region {
    let rule = &rules[index];
    let longer_prefixes: Vec<Seq> = if rule.pattern.kind == PatternKind::Prefix {
        prefixes
            .longer(rules, rule.pattern.key())
            .into_iter()
            .map(|other| Seq::of_pattern(&rules[other].pattern))
            .collect()
    } else {
        Vec::new()
    };
    let full = Piece {
        include: seq.clone(),
        exclude: longer_prefixes.clone(),
    };
    let trimmed = Piece {
        include: seq.slash(),
        exclude: longer_prefixes.into_iter().map(Seq::slash).collect(),
    };
    let preferred = rule.capabilities.is_deny() || rule.capabilities.contains(Capability::List);
    let tier = if preferred {
        TIER_NON_EXACT
    } else {
        TIER_LOWER
    };
    region(rules, index, Origin::Pooled, tier, vec![full, trimmed])
}

/// The prefix rules by key, for finding the longer prefix rules of a key by binary search.
struct PrefixKeys {
    /// (key, rule index), sorted.
    keys: Vec<(String, usize)>,
}

impl PrefixKeys {
    fn new(rules: &[MergedRule]) -> PrefixKeys {
        let mut keys: Vec<(String, usize)> = rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.pattern.kind == PatternKind::Prefix)
            .map(|(index, rule)| (rule.pattern.key().to_string(), index))
            .collect();
        keys.sort_unstable();
        PrefixKeys { keys }
    }

    /// The shortest prefix rules whose key extends `key` by at least one byte, in rule
    /// order: a longer one (`aaa*` after `aa*`, for `a*`) matches only paths the shorter one
    /// matches, so excluding the shortest excludes it too. Sorted keys put a key's extensions
    /// right after it, so each kept key skips its extensions by one binary search. Cost:
    /// O(m × (log R + L) + m log m) for m kept rules.
    fn longer(&self, rules: &[MergedRule], key: &str) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        let mut at = self.keys.partition_point(|(k, _)| k.as_str() <= key);
        while let Some((shortest, index)) = self.keys.get(at) {
            if !shortest.starts_with(key) {
                break;
            }
            found.push(*index);
            at = self.keys.partition_point(|(k, _)| {
                k.as_str() < shortest.as_str() || k.starts_with(shortest.as_str())
            });
        }
        found.sort_unstable();
        debug_assert!(found
            .iter()
            .all(|&i| rules[i].pattern.kind == PatternKind::Prefix));
        found
    }
}

#[cfg(test)]
mod tests {
    //! The regions against a small evaluator written step by step from spec 3.3 and 3.4
    //! (part-wise matching, the comparator cascade, the list steps), on every short path over
    //! a tiny alphabet. The integration test `tests/reach.rs` checks the same against the ACL.
    use super::*;
    use crate::policy::{CapSet, PathPattern};

    fn rule(pattern: &str, caps: &[Capability]) -> MergedRule {
        MergedRule::only(PathPattern::parse(pattern).unwrap(), CapSet::of(caps))
    }

    /// Spec 3.4 descriptor: (firstWCOrGlob, isPrefix, wildcards, wcPath).
    fn descriptor(rule: &MergedRule) -> (usize, bool, usize, String) {
        let p = &rule.pattern;
        if p.kind == PatternKind::Prefix {
            return (p.key().len(), true, 0, p.key().to_string());
        }
        let is_prefix = p.normalized.ends_with('*');
        let wc = p.normalized.trim_end_matches('*').to_string();
        let wc = if is_prefix {
            p.normalized[..p.normalized.len() - 1].to_string()
        } else {
            wc
        };
        let plus = wc.split('/').filter(|x| *x == "+").count();
        (p.normalized.find('+').unwrap_or(0), is_prefix, plus, wc)
    }

    /// Spec 3.4: whether `a` ranks lower than `b`.
    fn lower(a: &MergedRule, b: &MergedRule) -> bool {
        let (fa, pa, wa, sa) = descriptor(a);
        let (fb, pb, wb, sb) = descriptor(b);
        if fa != fb {
            return fa < fb;
        }
        if pa != pb {
            return pa;
        }
        if wa != wb {
            return wa > wb;
        }
        if sa.len() != sb.len() {
            return sa.len() < sb.len();
        }
        sa < sb
    }

    /// Spec 3.4 step by step: part-wise segment-wildcard matching.
    fn wildcard_matches(pattern: &str, path: &str) -> bool {
        let (body, is_prefix) = match pattern.strip_suffix('*') {
            Some(body) => (body, true),
            None => (pattern, false),
        };
        let pattern_parts: Vec<&str> = body.split('/').collect();
        let path_parts: Vec<&str> = path.split('/').collect();
        if path_parts.len() < pattern_parts.len() {
            return false;
        }
        if !is_prefix && path_parts.len() != pattern_parts.len() {
            return false;
        }
        for (i, part) in pattern_parts.iter().enumerate() {
            if *part == "+" || *part == path_parts[i] {
                continue;
            }
            if is_prefix && i == pattern_parts.len() - 1 && path_parts[i].starts_with(part) {
                return true;
            }
            return false;
        }
        true
    }

    fn candidates<'a>(rules: &'a [MergedRule], path: &str) -> Vec<&'a MergedRule> {
        let mut found: Vec<&MergedRule> = rules
            .iter()
            .filter(|r| r.pattern.kind == PatternKind::SegmentWildcard)
            .filter(|r| wildcard_matches(&r.pattern.normalized, path))
            .collect();
        let longest = rules
            .iter()
            .filter(|r| r.pattern.kind == PatternKind::Prefix && path.starts_with(r.pattern.key()))
            .max_by_key(|r| r.pattern.key().len());
        found.extend(longest);
        found
    }

    fn best<'a>(found: &[&'a MergedRule]) -> Option<&'a MergedRule> {
        let mut best: Option<&MergedRule> = None;
        for candidate in found {
            if best.is_none_or(|b| lower(b, candidate)) {
                best = Some(candidate);
            }
        }
        best
    }

    fn exact<'a>(rules: &'a [MergedRule], path: &str) -> Option<&'a MergedRule> {
        rules
            .iter()
            .find(|r| r.pattern.is_exact() && r.pattern.normalized == path)
    }

    fn reference(rules: &[MergedRule], path: &str, list: bool, target: Target) -> CapSet {
        let winner = reference_winner(rules, path, list, target);
        winner.map(|r| r.capabilities).unwrap_or(CapSet::EMPTY)
    }

    fn reference_winner<'a>(
        rules: &'a [MergedRule],
        path: &str,
        list: bool,
        target: Target,
    ) -> Option<&'a MergedRule> {
        if let Some(found) = exact(rules, path) {
            return Some(found);
        }
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        if list {
            if let Some(found) = exact(rules, trimmed) {
                return Some(found);
            }
        }
        if !list || !path.ends_with('/') {
            return best(&candidates(rules, path));
        }
        if target == Target::OpenBao {
            return best(&candidates(rules, path)).or_else(|| best(&candidates(rules, trimmed)));
        }
        let mut pool = candidates(rules, trimmed);
        pool.extend(candidates(rules, path));
        let with = |cap: Capability| {
            let found: Vec<&MergedRule> = pool
                .iter()
                .copied()
                .filter(|r| r.capabilities.contains(cap))
                .collect();
            best(&found)
        };
        let (best_deny, best_list) = (with(Capability::Deny), with(Capability::List));
        if let Some(deny) = best_deny {
            if best_list.is_none_or(|list| lower(list, deny)) {
                return Some(deny);
            }
        }
        best_list.or_else(|| best(&pool))
    }

    fn paths(extra: &[&str]) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for path in &frontier {
                for c in ["a", "b", "/"] {
                    next.push(format!("{path}{c}"));
                }
            }
            all.extend(next.iter().cloned());
            frontier = next;
        }
        for literal in extra {
            for suffix in ["", "/", "a", "/a", "a/"] {
                all.push(format!("{literal}{suffix}"));
            }
        }
        all.retain(|p| !p.starts_with('/'));
        all
    }

    fn check(rules: Vec<MergedRule>, target: Target) {
        let literals: Vec<String> = rules.iter().map(|r| r.pattern.key().to_string()).collect();
        let literal_refs: Vec<&str> = literals.iter().map(String::as_str).collect();
        let reach = Reach::from_rules(rules.clone(), target, false);
        for path in paths(&literal_refs) {
            for list in [false, true] {
                if list && !path.ends_with('/') {
                    continue;
                }
                let expected = reference(&rules, &path, list, target);
                let view = if list { View::Listing } else { View::Request };
                let decided = reach
                    .view(view)
                    .decider(&path)
                    .map(|r| reach.rules[r.rule].capabilities);
                assert_eq!(
                    decided.unwrap_or(CapSet::EMPTY),
                    expected,
                    "{target} path `{path}` list={list} rules={:?}",
                    rules
                        .iter()
                        .map(|r| &r.pattern.normalized)
                        .collect::<Vec<_>>()
                );
                for capability in [Capability::Read, Capability::List, Capability::Update] {
                    if View::for_capability(capability) != view {
                        continue;
                    }
                    let answer = reach.capability(capability, None);
                    let holds = !expected.is_deny() && expected.contains(capability);
                    assert_eq!(answer.holds(&path), holds, "{target} `{path}` {capability}");
                }
            }
        }
    }

    use Capability::{Deny, List, Read, Update};

    #[test]
    fn regions_agree_with_step_by_step_evaluation() {
        let cases = vec![
            vec![
                rule("a/*", &[Read]),
                rule("a/b", &[Deny]),
                rule("a/b*", &[Update]),
            ],
            vec![rule("a/+", &[List]), rule("a/*", &[Read])],
            vec![
                rule("a/", &[List]),
                rule("a/b/*", &[Read]),
                rule("+/b", &[Deny]),
            ],
            vec![
                rule("a/*", &[List]),
                rule("a/b*", &[Read]),
                rule("a/b/*", &[Deny]),
            ],
            vec![
                rule("*", &[Read, List]),
                rule("+/+/*", &[Deny]),
                rule("a/+/b", &[Update]),
            ],
            vec![
                rule("a", &[List]),
                rule("+", &[Read]),
                rule("b/+/", &[List]),
            ],
            vec![
                rule("a/+/*", &[Read]),
                rule("+/b/*", &[List]),
                rule("a/b/a", &[]),
            ],
        ];
        for rules in cases {
            check(rules.clone(), Target::OpenBao);
            check(rules, Target::Vault);
        }
    }

    /// The answer as the index-free definition gives it: every higher-ranked region that may
    /// be an exception, tested for overlap (O(R²)).
    fn brute_force(reach: &Reach, capability: Capability) -> Vec<(String, Vec<String>)> {
        let view = View::for_capability(capability);
        let regions = &reach.view(view).regions;
        let mut found: Vec<(String, Vec<String>)> = regions
            .iter()
            .filter(|region| grants(&reach.rules[region.rule], capability))
            .map(|region| {
                let exceptions: Vec<&Region> = regions
                    .iter()
                    .filter(|higher| higher.rank > region.rank)
                    .filter(|higher| {
                        let rule = &reach.rules[higher.rule];
                        !grants(rule, capability) || !conditions(rule).is_empty()
                    })
                    .filter(|higher| higher.overlaps(region, view.domain()))
                    .collect();
                let exceptions = without_contained_naively(&exceptions)
                    .iter()
                    .map(|higher| higher.pattern.clone())
                    .collect();
                (region.pattern.clone(), exceptions)
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// [`without_contained`] by its definition, every pair tested (O(k²)).
    fn without_contained_naively<'r>(exceptions: &[&'r Region]) -> Vec<&'r Region> {
        let head_of = |region: &Region| match region.pieces.as_slice() {
            [piece] => Some(head(&piece.include)),
            _ => None,
        };
        (0..exceptions.len())
            .filter(|&at| {
                let Some(head) = head_of(exceptions[at]) else {
                    return true;
                };
                let prefix_form = prefix_literal(exceptions[at]).is_some();
                !(0..exceptions.len()).any(|other| {
                    other != at
                        && prefix_literal(exceptions[other]).is_some_and(|literal| {
                            head.starts_with(&literal)
                                && (literal.len() < head.len() || !prefix_form || other < at)
                        })
                })
            })
            .map(|at| exceptions[at])
            .collect()
    }

    fn indexed(reach: &Reach, capability: Capability) -> Vec<(String, Vec<String>)> {
        reach
            .capability(capability, None)
            .grants
            .iter()
            .map(|grant| {
                let exceptions = grant.exceptions.iter().map(|e| e.pattern.clone()).collect();
                (grant.region.pattern.clone(), exceptions)
            })
            .collect()
    }

    fn generated_pattern() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let part = prop::sample::select(vec!["a", "b", "ab", "+", "", "a*", "*"]);
        prop::collection::vec(part, 1..4).prop_map(|parts| {
            let mut pattern = parts.join("/");
            // A `*` is only a glob at the end; elsewhere it is a literal byte.
            if pattern.is_empty() {
                pattern.push('a');
            }
            pattern
        })
    }

    proptest::proptest! {
        #[test]
        fn indexed_exceptions_equal_the_pairwise_definition(
            patterns in proptest::collection::vec(generated_pattern(), 1..12),
            caps in proptest::collection::vec(0usize..4, 12),
            vault in proptest::bool::ANY,
        ) {
            let choices = [vec![Read], vec![Deny], vec![List, Read], vec![Update]];
            let rules: Vec<MergedRule> = patterns
                .iter()
                .zip(&caps)
                .filter_map(|(pattern, cap)| {
                    PathPattern::parse(pattern).ok().map(|_| rule(pattern, &choices[*cap]))
                })
                .collect();
            let target = if vault { Target::Vault } else { Target::OpenBao };
            let reach = Reach::from_rules(rules, target, false);
            for capability in [Read, List, Update] {
                proptest::prop_assert_eq!(indexed(&reach, capability), brute_force(&reach, capability));
            }
        }
    }

    #[test]
    fn head_index_finds_prefixes_and_extensions_only() {
        let rules: Vec<MergedRule> = ["a/*", "a/b/c", "a/bc/*", "ab", "b/*", "*", "a/b/+/d"]
            .iter()
            .map(|pattern| rule(pattern, &[Deny]))
            .collect();
        let reach = Reach::from_rules(rules, Target::OpenBao, false);
        let regions = &reach.request.regions;
        let index = HeadIndex::new(regions, |_| true);
        let of = |pattern: &str| {
            let region = regions.iter().find(|r| r.pattern == pattern).unwrap();
            let mut found = Vec::new();
            index.candidates(region, &mut found);
            let mut names: Vec<&str> = found
                .iter()
                .map(|&at| regions[at].pattern.as_str())
                .collect();
            names.sort_unstable();
            names
        };
        assert_eq!(of("a/b/c"), ["*", "a/*", "a/b/+/d", "a/b/c"]);
        assert_eq!(of("a/*"), ["*", "a/*", "a/b/+/d", "a/b/c", "a/bc/*"]);
        assert_eq!(of("b/*"), ["*", "b/*"]);
        assert_eq!(of("ab"), ["*", "ab"]);
        assert_eq!(of("*").len(), 7);
    }

    #[test]
    fn exceptions_name_the_carve_out() {
        let rules = vec![
            rule("secret/data/ai/*", &[Read]),
            rule("secret/data/ai/anthropic", &[Deny]),
        ];
        let reach = Reach::from_rules(rules, Target::Vault, false);
        let read = reach.capability(Capability::Read, None);
        assert_eq!(read.grants.len(), 1);
        assert_eq!(read.grants[0].region.pattern, "secret/data/ai/*");
        let exceptions: Vec<&str> = read.grants[0]
            .exceptions
            .iter()
            .map(|e| e.pattern.as_str())
            .collect();
        assert_eq!(exceptions, ["secret/data/ai/anthropic"]);
    }
}
