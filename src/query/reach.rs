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
//! For a capability C, the answer lists every region whose rule grants C, each with its
//! *exceptions*, drawn from one table per capability ([`CapabilityReach::exceptions`], highest
//! rank first, each region once): regions ranked above it whose rule lacks C or carries
//! conditions. A region with few candidates ([`CANDIDATE_BUDGET`]) names its exceptions one by
//! one ([`Grant::except`]): those that overlap it, leaving out one inside another (language
//! inclusion with `+` and globs, [`super::lang::includes`]), so nested carve-outs stay short. A
//! region with more candidates takes the first entries of the table instead, every possible
//! exception ranked above it ([`Grant::except_first`]), so that a policy where thousands of
//! `+` regions overlap gives an answer linear in its rules, not one list per pair. The answer is
//! exact: **a path holds C if and only if it is in some listed region and in none of that
//! region's exceptions.** (If a path is in region R but the winner W is another region, W ranks
//! above R and contains the path, so W is one of R's exceptions, named or taken by rank, unless
//! W also grants C, unconditionally; an exception that is not the winner is ranked above R and
//! lacks C, so it would have won over R.) Overlap is decided on the patterns' inclusion parts
//! only, so an exception with exclusions may be listed where its effective part misses the
//! region; that never changes the meaning.
//!
//! Not part of the answer: parameter constraints, wrapping TTLs, sudo-protected paths and
//! control groups. Regions whose rule carries such conditions are flagged ([`Condition`]);
//! `explain` evaluates them for one request.
//!
//! Cost, for R merged rules with patterns of length L: building is O(R log R) regions (plus
//! the pooled regions' exclusion lists, found by one binary search each). Answering one
//! capability indexes the regions that can be exceptions by their literal head (the bytes
//! every path of the region starts with: two regions can only overlap when one head is a
//! prefix of the other) and counts each granting region's candidates, the regions whose head
//! is a prefix or an extension of its own, in O(L log R) without listing them. Within the
//! budget B it tests them for overlap and prunes the overlapping ones pairwise (B² inclusion
//! tests of O(L²), each pair of regions decided once per answer); beyond it, it takes the
//! exceptions ranked above it with one binary search in the table. In all
//! O(R × (L log R + B² × L²)) time and an answer of O(R × B) ids plus a table of O(R)
//! regions: linear in R (B = [`CANDIDATE_BUDGET`]).

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

use super::lang::{includes, intersects, Domain, Seq, Token};
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
    /// Exceptions found one by one (higher-ranked overlapping regions whose rule lacks the
    /// capability or carries conditions, none inside another): ids into
    /// [`CapabilityReach::exceptions`], in rank order.
    pub except: Vec<usize>,
    /// And the first `except_first` entries of [`CapabilityReach::exceptions`]: set instead
    /// of `except` when the region has more than [`CANDIDATE_BUDGET`] candidates, it takes
    /// every possible exception ranked above it, whether or not it overlaps.
    pub except_first: usize,
}

impl<'a> Grant<'a> {
    /// The region's exceptions, from the answer's table.
    pub fn exceptions<'t>(
        &'t self,
        table: &'t [&'a Region],
    ) -> impl Iterator<Item = &'a Region> + 't {
        let listed = self.except.iter().map(|&id| table[id]);
        listed.chain(table[..self.except_first].iter().copied())
    }
}

/// Where one capability is held.
#[derive(Clone, Debug)]
pub struct CapabilityReach<'a> {
    pub capability: Capability,
    pub view: View,
    /// Every region some grant takes as an exception, highest rank first, each once.
    pub exceptions: Vec<&'a Region>,
    pub grants: Vec<Grant<'a>>,
}

impl CapabilityReach<'_> {
    /// Whether `path` holds the capability according to this answer (the meaning stated in
    /// the module documentation).
    pub fn holds(&self, path: &str) -> bool {
        self.grants.iter().any(|grant| {
            grant.region.contains(path)
                && !grant
                    .exceptions(&self.exceptions)
                    .any(|exception| exception.contains(path))
        })
    }
}

/// Candidates (regions that may be exceptions, with a head that is a prefix or an extension
/// of the region's) a granting region tests one by one at most; with more, it takes every
/// possible exception ranked above it instead ([`Grant::except_first`]), which keeps the
/// answer's size and time linear when many regions overlap.
pub const CANDIDATE_BUDGET: usize = 16;

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

    /// [`Reach::new`] taking the ACL's rules instead of copying them: the ACL's stores are
    /// freed before the regions are built (a 10 MB policy's rules are some 40 MB).
    pub fn from_acl(acl: Acl) -> Reach {
        let (root, target) = (acl.is_root(), acl.target());
        Reach::from_rules(acl.into_rules(), target, root)
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
        self.capability_within(capability, under, CANDIDATE_BUDGET)
    }

    /// [`Reach::capability`] with another candidate budget (0: every region takes the
    /// exceptions ranked above it). Cost: O(R × (log R + L)) to index and count, plus, for
    /// each region within the budget B, B overlap tests and B² inclusion tests of O(L²):
    /// linear in R. The table of exceptions is O(R).
    pub fn capability_within(
        &self,
        capability: Capability,
        under: Option<&str>,
        budget: usize,
    ) -> CapabilityReach<'_> {
        let view = View::for_capability(capability);
        let domain = view.domain();
        let scope = under.map(|prefix| {
            Piece::plain(Seq::literal(prefix.trim_start_matches('/')).then(Token::Any))
        });
        let in_scope = |region: &Region| match &scope {
            Some(scope) => region
                .pieces
                .iter()
                .any(|piece| intersects(&piece.include, &scope.include, domain)),
            None => true,
        };
        let regions = &self.view(view).regions;
        // A higher rule with conditions is carved out too, so a path it decides shows only
        // under its own (conditional) region.
        let may_except = |region: &Region| {
            let rule = &self.rules[region.rule];
            (!grants(rule, capability) || !conditions(rule).is_empty()) && in_scope(region)
        };
        let index = HeadIndex::new(regions, may_except);
        // (position of the granting region, its exceptions' positions or `None`: all above)
        let mut found: Vec<(usize, Option<Vec<usize>>)> = Vec::new();
        let mut candidates = Vec::new();
        let mut known = HashMap::new();
        for (at, region) in regions.iter().enumerate() {
            if !grants(&self.rules[region.rule], capability) || !in_scope(region) {
                continue;
            }
            if index.count(region) > budget {
                found.push((at, None));
                continue;
            }
            index.candidates(region, &mut candidates);
            let overlapping: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&other| {
                    let higher = &regions[other];
                    higher.rank > region.rank && higher.overlaps(region, domain)
                })
                .collect();
            found.push((
                at,
                Some(without_contained(regions, overlapping, domain, &mut known)),
            ));
        }
        let table = exception_table(regions, &found, may_except);
        let id_of = |position: &usize| {
            table
                .binary_search(position)
                .expect("every exception is in the table")
        };
        let mut grants_found: Vec<Grant<'_>> = found
            .iter()
            .map(|(at, listed)| {
                let region = &regions[*at];
                let (except, except_first) = match listed {
                    Some(positions) => (positions.iter().map(id_of).collect(), 0),
                    None => (
                        Vec::new(),
                        table.partition_point(|&other| regions[other].rank > region.rank),
                    ),
                };
                Grant {
                    region,
                    rule: &self.rules[region.rule],
                    except,
                    except_first,
                }
            })
            .collect();
        grants_found.sort_by(|a, b| a.region.pattern.cmp(&b.region.pattern));
        CapabilityReach {
            capability,
            view,
            exceptions: table.iter().map(|&position| &regions[position]).collect(),
            grants: grants_found,
        }
    }
}

/// The positions (in view order, so highest rank first) of every exception the grants take:
/// those listed one by one, and every possible exception ranked above the lowest grant that
/// takes all of them. Cost: O(R log R).
fn exception_table(
    regions: &[Region],
    found: &[(usize, Option<Vec<usize>>)],
    may_except: impl Fn(&Region) -> bool,
) -> Vec<usize> {
    let mut table: Vec<usize> = found
        .iter()
        .filter_map(|(_, listed)| listed.as_ref())
        .flatten()
        .copied()
        .collect();
    let lowest = found
        .iter()
        .filter(|(_, listed)| listed.is_none())
        .map(|(at, _)| *at)
        .max();
    if let Some(lowest) = lowest {
        let rank = &regions[lowest].rank;
        table.extend(
            (0..lowest).filter(|&other| regions[other].rank > *rank && may_except(&regions[other])),
        );
    }
    table.sort_unstable();
    table.dedup();
    table
}

/// `exceptions` (positions in `regions`, in view order) without those inside another of
/// them ([`region_includes`]); the union, and so the answer's meaning, is unchanged. Each
/// one is dropped when a kept one holds it, and drops the kept ones it holds, so every
/// dropped exception lies inside a kept one (inclusion is transitive) and equal languages
/// keep the first. The order is kept. Cost: O(k²) inclusion tests for k exceptions (k is at
/// most the candidate budget).
fn without_contained(
    regions: &[Region],
    exceptions: Vec<usize>,
    domain: Domain,
    known: &mut HashMap<(usize, usize), bool>,
) -> Vec<usize> {
    // Grants near each other share candidates: each pair is decided once per answer.
    let mut inside = |outer: usize, inner: usize| {
        *known
            .entry((outer, inner))
            .or_insert_with(|| region_includes(&regions[outer], &regions[inner], domain))
    };
    let mut kept: Vec<usize> = Vec::new();
    for at in exceptions {
        if kept.iter().any(|&other| inside(other, at)) {
            continue;
        }
        kept.retain(|&other| !inside(at, other));
        kept.push(at);
    }
    kept
}

/// Whether every path of `inner` is certainly in `outer`: each piece of `inner` lies inside
/// one piece of `outer`, none of whose exclusions meets it outside the inner piece's own
/// exclusions. (`false` when not shown; a union of pieces covering a piece is not looked for.)
fn region_includes(outer: &Region, inner: &Region, domain: Domain) -> bool {
    inner.pieces.iter().all(|mine| {
        outer.pieces.iter().any(|theirs| {
            includes(&theirs.include, &mine.include, domain)
                && theirs.exclude.iter().all(|excluded| {
                    !intersects(excluded, &mine.include, domain)
                        || mine
                            .exclude
                            .iter()
                            .any(|own| includes(own, excluded, domain))
                })
        })
    })
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
    /// `before[i]`: how many regions the heads before `heads[i]` hold (`heads.len() + 1`
    /// entries), for counting a run of heads in O(1).
    before: Vec<usize>,
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
        let mut before = Vec::with_capacity(heads.len() + 1);
        let mut total = 0;
        before.push(total);
        for (_, ats) in &heads {
            total += ats.len();
            before.push(total);
        }
        HeadIndex { heads, before }
    }

    /// How many candidates [`HeadIndex::candidates`] would find at most (a region reached
    /// through two heads counts twice), without listing them. Cost: O(L log R) per piece.
    pub(crate) fn count(&self, region: &Region) -> usize {
        let mut total = 0usize;
        let mut heads: Vec<Vec<u8>> = Vec::with_capacity(region.pieces.len());
        for piece in &region.pieces {
            let head = head(&piece.include);
            // A pooled region's two pieces often share their head: count its candidates once.
            if heads.contains(&head) {
                continue;
            }
            heads.push(head.clone());
            let (start, end) = self.extension_run(&head);
            total = total.saturating_add(self.before[end] - self.before[start]);
            if let Some(shorter) = head.len().checked_sub(1) {
                prefix_runs(
                    &self.heads,
                    |(h, _)| h,
                    &head[..shorter],
                    |run| {
                        total = total.saturating_add(run.iter().map(|(_, ats)| ats.len()).sum());
                        false
                    },
                );
            }
        }
        total
    }

    /// The run `start..end` of heads that start with `head`.
    fn extension_run(&self, head: &[u8]) -> (usize, usize) {
        let start = self.heads.partition_point(|(h, _)| h.as_slice() < head);
        let length = self.heads[start..].partition_point(|(h, _)| h.starts_with(head));
        (start, start + length)
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
        let (start, end) = self.extension_run(head);
        for (_, ats) in &self.heads[start..end] {
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
                    let holds = !expected.is_deny() && expected.contains(capability);
                    // Both forms: exceptions found one by one, and all those ranked above.
                    for budget in [CANDIDATE_BUDGET, 0] {
                        let answer = reach.capability_within(capability, None, budget);
                        assert_eq!(
                            answer.holds(&path),
                            holds,
                            "{target} `{path}` {capability} budget {budget}"
                        );
                    }
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
    /// be an exception, tested for overlap (O(R²)), then pruned alike.
    fn brute_force(reach: &Reach, capability: Capability) -> Vec<(String, Vec<String>)> {
        let view = View::for_capability(capability);
        let regions = &reach.view(view).regions;
        let mut found: Vec<(String, Vec<String>)> = regions
            .iter()
            .filter(|region| grants(&reach.rules[region.rule], capability))
            .map(|region| {
                let exceptions: Vec<usize> = (0..regions.len())
                    .filter(|&at| regions[at].rank > region.rank)
                    .filter(|&at| {
                        let rule = &reach.rules[regions[at].rule];
                        !grants(rule, capability) || !conditions(rule).is_empty()
                    })
                    .filter(|&at| regions[at].overlaps(region, view.domain()))
                    .collect();
                let exceptions =
                    without_contained(regions, exceptions, view.domain(), &mut HashMap::new())
                        .iter()
                        .map(|&at| regions[at].pattern.clone())
                        .collect();
                (region.pattern.clone(), exceptions)
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    fn indexed(reach: &Reach, capability: Capability) -> Vec<(String, Vec<String>)> {
        // No budget: every region names its exceptions.
        let answer = reach.capability_within(capability, None, usize::MAX);
        answer
            .grants
            .iter()
            .map(|grant| {
                assert_eq!(grant.except_first, 0);
                let exceptions = grant
                    .exceptions(&answer.exceptions)
                    .map(|e| e.pattern.clone())
                    .collect();
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
            // Counting gives the same number without listing (each region has one piece).
            assert_eq!(index.count(region), names.len(), "{pattern}");
            names
        };
        assert_eq!(of("a/b/c"), ["*", "a/*", "a/b/+/d", "a/b/c"]);
        assert_eq!(of("a/*"), ["*", "a/*", "a/b/+/d", "a/b/c", "a/bc/*"]);
        assert_eq!(of("b/*"), ["*", "b/*"]);
        assert_eq!(of("ab"), ["*", "ab"]);
        assert_eq!(of("*").len(), 7);
    }

    #[test]
    fn exceptions_inside_a_segment_wildcard_exception_are_left_out() {
        let rules = vec![
            rule("*", &[Read]),
            rule("a/+/*", &[Deny]),
            rule("a/b/*", &[Update]),
            rule("+/b", &[Deny]),
            rule("a/b", &[List]),
            rule("a/c", &[Read]),
        ];
        let reach = Reach::from_rules(rules, Target::OpenBao, false);
        let read = reach.capability(Capability::Read, None);
        let everything = read
            .grants
            .iter()
            .find(|grant| grant.region.pattern == "*")
            .unwrap();
        let exceptions: Vec<&str> = everything
            .exceptions(&read.exceptions)
            .map(|e| e.pattern.as_str())
            .collect();
        // `a/b/*` lies inside `a/+/*`, `a/b` inside `+/b`; both still rank above `*`.
        assert_eq!(exceptions, ["a/+/*", "+/b"]);
        assert!(!read.holds("a/b/x") && !read.holds("a/b") && read.holds("a/c"));
        assert!(read.holds("c") && !read.holds("c/b"));
    }

    #[test]
    fn over_the_budget_a_region_takes_every_exception_ranked_above_it() {
        let rules = vec![
            rule("a/*", &[Read]),
            rule("a/b/*", &[Deny]),
            rule("a/c", &[Update]),
            rule("b/*", &[Deny]),
            rule("a/b/c/*", &[Read]),
        ];
        let reach = Reach::from_rules(rules, Target::OpenBao, false);
        let read = reach.capability_within(Capability::Read, None, 1);
        let table: Vec<&str> = read.exceptions.iter().map(|e| e.pattern.as_str()).collect();
        // Highest rank first; `b/*` ranks below `a/b/c/*`, whose one candidate is in budget.
        assert_eq!(table, ["a/c", "a/b/*", "b/*"]);
        let shown: Vec<(&str, Vec<usize>, usize)> = read
            .grants
            .iter()
            .map(|g| (g.region.pattern.as_str(), g.except.clone(), g.except_first))
            .collect();
        assert_eq!(shown, [("a/*", vec![], 3), ("a/b/c/*", vec![], 0)]);
        assert!(read.holds("a/x") && read.holds("a/b/c/x"));
        assert!(!read.holds("a/c") && !read.holds("a/b/x") && !read.holds("b/x"));
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
            .exceptions(&read.exceptions)
            .map(|e| e.pattern.as_str())
            .collect();
        assert_eq!(exceptions, ["secret/data/ai/anthropic"]);
    }
}
