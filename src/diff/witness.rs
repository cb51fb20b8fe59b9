//! Witnesses for boolean combinations of path regions: a request path that lies inside some
//! regions and outside others, or a proof (by exhaustion) that none exists.
//!
//! A region is a union of [`Piece`]s (a pattern language minus the languages of its
//! exclusions, see [`crate::query::reach`]). Every language involved is a [`Seq`]: literal
//! bytes, `+` segments and globs. [`Query::witness`] runs one breadth-first search over the
//! product of all those automata, each tracked as the *set* of its positions (a subset
//! construction, which is what lets exclusions be complemented). The search visits each
//! joint state once, so it terminates; it is exact because every byte class that any literal
//! distinguishes is tried, plus one byte no literal uses.
//!
//! # Dominance
//!
//! Without care the joint states can be exponential in the number of regions: `+/+/x`,
//! `+/x/+`, `x/+/+`, ... kept *outside* give a state per subset of them (each segment read is
//! `x` or not). But a region kept outside is only ever hurt by a path still able to enter it.
//! Every sequence has a polarity: the includes of `inside` regions and the exclusions of
//! `outside` ones are *wanted* (more live positions can only help a continuation be accepted),
//! the includes of `outside` regions and the exclusions of `inside` ones are *unwanted*. The
//! automata are monotone (a superset of positions accepts a superset of continuations), so a
//! state that agrees with an already kept one on its flags (and on sequences that are both
//! wanted and unwanted), has a subset of its wanted positions and a superset of its unwanted
//! ones, accepts no continuation the kept one does not: it is skipped. The search stays exact (every continuation of a skipped state is a
//! continuation of a kept one of at most the same length, so shortest witnesses are kept
//! too), and on the family above it keeps O(depth) states: at each segment the byte no
//! literal uses leaves every `x` region behind at once.
//!
//! Cost: O(kept states × alphabet × (total tokens + d)), where d is the number of kept states
//! in one dominance group (the antichain scanned). The kept states are bounded by the
//! distinct literal prefixes of the patterns times those antichains, which the dominance rule
//! keeps small for Vault patterns: within a segment, the byte no literal uses dominates every
//! literal byte for the unwanted sequences, and a literal byte dominates it for the wanted
//! ones. A budget
//! ([`STATE_BUDGET`]) of kept states remains as a bound on memory; meeting it is an input
//! error naming the region (exit 2), never a guess. `tests/diff/brute.rs` builds the
//! adversarial families and checks they finish far below it.

use std::collections::HashMap;

use crate::query::lang::{Domain, Seq, Token};
use crate::query::reach::Piece;

/// Joint states one search may keep before it gives up with [`SearchLimit`] (a bound on
/// memory: each kept state holds one bit per sequence position).
pub const STATE_BUDGET: usize = 250_000;

/// The search met [`STATE_BUDGET`]: the query was not decided. Callers add which subject and
/// region it was about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchLimit;

impl std::fmt::Display for SearchLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the region search kept {STATE_BUDGET} states without deciding"
        )
    }
}

/// Paths inside every `inside` region and outside every `outside` region, in a domain.
#[derive(Clone, Debug)]
pub struct Query<'a> {
    pub inside: Vec<&'a [Piece]>,
    pub outside: Vec<&'a [Piece]>,
    pub domain: Domain,
}

/// A compiled [`Query`] for membership tests.
pub struct Matcher<'a> {
    compiled: Compiled<'a>,
    domain: Domain,
}

impl Matcher<'_> {
    /// Whether `path` satisfies the query. Cost: O(path length × total tokens).
    pub fn holds(&self, path: &str) -> bool {
        if path.starts_with('/') || (self.domain.trailing_slash && !path.ends_with('/')) {
            return false;
        }
        let mut state = self.compiled.start();
        for byte in path.bytes() {
            state = self.compiled.step(&state, Some(byte));
        }
        self.compiled.accepts(&state)
    }
}

/// The compiled query: distinct sequences, and each region as (include, excludes) indices.
struct Compiled<'a> {
    seqs: Vec<&'a Seq>,
    inside: Vec<Vec<(usize, Vec<usize>)>>,
    outside: Vec<Vec<(usize, Vec<usize>)>>,
    /// Bit offset of each sequence's position set in a state.
    offsets: Vec<usize>,
    words: usize,
    /// The positions of the wanted and of the unwanted sequences (see the module
    /// documentation), as masks.
    wanted: Vec<u64>,
    unwanted: Vec<u64>,
}

/// How a sequence's acceptance counts in a query (see "Dominance" above).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Polarity {
    Wanted,
    Unwanted,
    /// Wanted in one place and unwanted in another: compared exactly.
    Both,
}

impl<'a> Query<'a> {
    pub fn new(domain: Domain) -> Query<'a> {
        Query {
            inside: Vec::new(),
            outside: Vec::new(),
            domain,
        }
    }

    /// Whether `path` satisfies the query. Cost: O(path length × total tokens).
    pub fn holds(&self, path: &str) -> bool {
        self.matcher().holds(path)
    }

    /// The query compiled once, to test many paths.
    pub fn matcher(&self) -> Matcher<'a> {
        Matcher {
            compiled: self.compile(),
            domain: self.domain,
        }
    }

    /// The first of `hints` that satisfies the query, else a shortest path that does
    /// (preferring one that does not end in an empty segment), else `None` when no path does.
    pub fn witness(&self, hints: &[&str]) -> Result<Option<String>, SearchLimit> {
        let matcher = self.matcher();
        if let Some(hint) = hints.iter().find(|hint| matcher.holds(hint)) {
            return Ok(Some(hint.to_string()));
        }
        self.compile().search(self.domain).0
    }

    /// [`Query::witness`] without hints, with the number of states the search kept (for
    /// tests of the bound).
    pub fn searched(&self) -> (Result<Option<String>, SearchLimit>, usize) {
        self.compile().search(self.domain)
    }

    fn compile(&self) -> Compiled<'a> {
        let mut index: HashMap<&'a Seq, usize> = HashMap::new();
        let mut seqs: Vec<&'a Seq> = Vec::new();
        let mut intern = |seq: &'a Seq| -> usize {
            *index.entry(seq).or_insert_with(|| {
                seqs.push(seq);
                seqs.len() - 1
            })
        };
        let mut region = |pieces: &'a [Piece]| -> Vec<(usize, Vec<usize>)> {
            pieces
                .iter()
                .map(|piece| {
                    let include = intern(&piece.include);
                    let excludes = piece.exclude.iter().map(&mut intern).collect();
                    (include, excludes)
                })
                .collect()
        };
        let inside: Vec<_> = self.inside.iter().map(|pieces| region(pieces)).collect();
        let outside: Vec<_> = self.outside.iter().map(|pieces| region(pieces)).collect();
        let mut offsets = Vec::with_capacity(seqs.len());
        let mut bits = 0;
        for seq in &seqs {
            offsets.push(bits);
            bits += seq.0.len() + 1;
        }
        let mut polarity: Vec<Option<Polarity>> = vec![None; seqs.len()];
        let mut mark = |seq: usize, wanted: bool| {
            let new = if wanted {
                Polarity::Wanted
            } else {
                Polarity::Unwanted
            };
            polarity[seq] = match polarity[seq] {
                None => Some(new),
                Some(old) if old == new => Some(old),
                Some(_) => Some(Polarity::Both),
            };
        };
        for (regions, kept_inside) in [(&inside, true), (&outside, false)] {
            for (include, excludes) in regions.iter().flatten() {
                mark(*include, kept_inside);
                for exclude in excludes {
                    mark(*exclude, !kept_inside);
                }
            }
        }
        let words = bits.div_ceil(64).max(1);
        let (mut wanted, mut unwanted) = (vec![0u64; words], vec![0u64; words]);
        for (seq, polarity) in polarity.iter().enumerate() {
            let mask = match polarity {
                Some(Polarity::Wanted) => &mut wanted,
                Some(Polarity::Unwanted) => &mut unwanted,
                _ => continue,
            };
            let start = offsets[seq];
            for bit in start..start + seqs[seq].0.len() + 1 {
                mask[bit / 64] |= 1 << (bit % 64);
            }
        }
        Compiled {
            seqs,
            inside,
            outside,
            offsets,
            words,
            wanted,
            unwanted,
        }
    }
}

/// A joint state: every sequence's position set, plus the path's last two bytes' slashness.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    bits: Vec<u64>,
    /// Nothing read yet.
    empty: bool,
    last_slash: bool,
    before_last_slash: bool,
}

impl Compiled<'_> {
    fn get(&self, bits: &[u64], seq: usize, position: usize) -> bool {
        let bit = self.offsets[seq] + position;
        bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    fn set(&self, bits: &mut [u64], seq: usize, position: usize) {
        let bit = self.offsets[seq] + position;
        bits[bit / 64] |= 1 << (bit % 64);
    }

    /// Adds, for `position`, the positions reachable by skipping `+` and glob tokens.
    fn close(&self, bits: &mut [u64], seq: usize, mut position: usize) {
        let tokens = &self.seqs[seq].0;
        loop {
            self.set(bits, seq, position);
            match tokens.get(position) {
                Some(Token::Seg | Token::Any) => position += 1,
                _ => return,
            }
        }
    }

    fn start(&self) -> State {
        let mut bits = vec![0; self.words];
        for seq in 0..self.seqs.len() {
            self.close(&mut bits, seq, 0);
        }
        State {
            bits,
            empty: true,
            last_slash: false,
            before_last_slash: false,
        }
    }

    /// The state after one byte (`None`: a byte no literal uses, never `/`).
    fn step(&self, state: &State, byte: Option<u8>) -> State {
        let mut bits = vec![0; self.words];
        for (seq, tokens) in self.seqs.iter().map(|seq| &seq.0).enumerate() {
            for (position, token) in tokens.iter().enumerate() {
                if !self.get(&state.bits, seq, position) {
                    continue;
                }
                let next = match (token, byte) {
                    (Token::Lit(expected), Some(byte)) if *expected == byte => Some(position + 1),
                    (Token::Lit(_), _) => None,
                    (Token::Seg, Some(b'/')) => None,
                    (Token::Seg | Token::Any, _) => Some(position),
                };
                if let Some(next) = next {
                    self.close(&mut bits, seq, next);
                }
            }
        }
        State {
            bits,
            empty: false,
            last_slash: byte == Some(b'/'),
            before_last_slash: state.last_slash,
        }
    }

    fn accepting(&self, state: &State, seq: usize) -> bool {
        self.get(&state.bits, seq, self.seqs[seq].0.len())
    }

    fn alive(&self, state: &State, seq: usize) -> bool {
        let start = self.offsets[seq];
        (start..start + self.seqs[seq].0.len() + 1)
            .any(|bit| state.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }

    fn in_region(&self, state: &State, region: &[(usize, Vec<usize>)]) -> bool {
        region.iter().any(|(include, excludes)| {
            self.accepting(state, *include) && !excludes.iter().any(|e| self.accepting(state, *e))
        })
    }

    fn accepts(&self, state: &State) -> bool {
        self.inside
            .iter()
            .all(|region| self.in_region(state, region))
            && !self
                .outside
                .iter()
                .any(|region| self.in_region(state, region))
    }

    /// Whether some continuation could still enter every `inside` region.
    fn viable(&self, state: &State) -> bool {
        self.inside.iter().all(|region| {
            region
                .iter()
                .any(|(include, _)| self.alive(state, *include))
        })
    }

    fn alphabet(&self) -> Vec<Option<u8>> {
        let mut bytes: Vec<u8> = self
            .seqs
            .iter()
            .flat_map(|seq| seq.0.iter())
            .filter_map(|token| match token {
                Token::Lit(byte) => Some(*byte),
                _ => None,
            })
            .chain([b'/'])
            .collect();
        bytes.sort_unstable();
        bytes.dedup();
        // The byte no literal uses first: witnesses read `a/x` rather than `a/-`.
        [None]
            .into_iter()
            .chain(bytes.into_iter().map(Some))
            .collect()
    }

    /// Breadth-first search; a "nice" path (no empty last segment) ends the search at once,
    /// any other accepted path is kept in case no nice one exists.
    fn search(&self, domain: Domain) -> (Result<Option<String>, SearchLimit>, usize) {
        let alphabet = self.alphabet();
        let other = unused_letter(&alphabet);
        let start = self.start();
        if !self.viable(&start) {
            return (Ok(None), 1);
        }
        let mut states: Vec<State> = vec![start.clone()];
        let mut parents: Vec<Option<(usize, u8)>> = vec![None];
        let mut kept = Antichains::default();
        kept.admit(self, &start, 0);
        let mut children: Vec<Vec<usize>> = vec![Vec::new()];
        let mut fallback: Option<usize> = None;
        let mut next = 0;
        while next < states.len() {
            let current = next;
            next += 1;
            if kept.is_superseded(current) {
                continue;
            }
            let state = states[current].clone();
            if in_domain(&state, domain) && self.accepts(&state) {
                if nice(&state, domain) {
                    return (Ok(Some(rebuild(&parents, current))), states.len());
                }
                fallback.get_or_insert(current);
            }
            for &byte in &alphabet {
                if state.empty && byte == Some(b'/') {
                    continue;
                }
                let stepped = self.step(&state, byte);
                if !self.viable(&stepped) {
                    continue;
                }
                let Some(worse) = kept.admit(self, &stepped, states.len()) else {
                    continue;
                };
                if states.len() >= STATE_BUDGET {
                    return (Err(SearchLimit), states.len());
                }
                children[current].push(states.len());
                children.push(Vec::new());
                states.push(stepped);
                parents.push(Some((current, byte.unwrap_or(other))));
                kept.supersede(worse, &children);
            }
        }
        let found = fallback.map(|index| rebuild(&parents, index));
        (Ok(found), states.len())
    }
}

/// The kept states grouped by what must be equal for dominance (the flags, and the positions
/// of sequences that are both wanted and unwanted); each group holds the (wanted, unwanted)
/// position sets of its undominated states.
#[derive(Default)]
struct Antichains {
    groups: HashMap<GroupKey, Vec<Kept>>,
    /// By state index: a later kept state dominates it, so expanding it is wasted work.
    superseded: Vec<bool>,
}

/// Positions of the sequences both wanted and unwanted, and the flags.
type GroupKey = (Vec<u64>, [bool; 3]);

/// A kept state in its group: wanted and unwanted positions, and its index.
type Kept = (Vec<u64>, Vec<u64>, usize);

/// Whether every bit of `a` is in `b`.
fn subset(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(a, b)| a & !b == 0)
}

impl Antichains {
    /// Records `state` as state number `index` unless a live kept state dominates it (at
    /// least its wanted positions, at most its unwanted ones); returns whether it was kept.
    /// Kept states it dominates leave the group and are returned: the caller supersedes
    /// them and their descendants (each continuation of theirs is one of `state`'s, so
    /// expanding them is wasted work, and without this a dominated state found at a smaller
    /// depth would be expanded before its dominator exists, level after level).
    fn admit(
        &mut self,
        compiled: &Compiled<'_>,
        state: &State,
        index: usize,
    ) -> Option<Vec<usize>> {
        let masked = |mask: &[u64]| -> Vec<u64> {
            state
                .bits
                .iter()
                .zip(mask)
                .map(|(bits, mask)| bits & mask)
                .collect()
        };
        let (wanted, unwanted) = (masked(&compiled.wanted), masked(&compiled.unwanted));
        let both: Vec<u64> = state
            .bits
            .iter()
            .zip(compiled.wanted.iter().zip(&compiled.unwanted))
            .map(|(bits, (w, u))| bits & !w & !u)
            .collect();
        let flags = [state.empty, state.last_slash, state.before_last_slash];
        let superseded = &self.superseded;
        let group = self.groups.entry((both, flags)).or_default();
        // Superseded entries reject nothing: their dominator (or its descendant) may be
        // exactly the state at hand.
        group.retain(|(_, _, kept)| !superseded[*kept]);
        let dominates = |(better_w, better_u): (&[u64], &[u64]), (w, u): (&[u64], &[u64])| {
            subset(w, better_w) && subset(better_u, u)
        };
        if group
            .iter()
            .any(|(w, u, _)| dominates((w, u), (&wanted, &unwanted)))
        {
            return None;
        }
        let mut worse = Vec::new();
        group.retain(|(w, u, kept)| {
            let dominated = dominates((&wanted, &unwanted), (w, u));
            if dominated {
                worse.push(*kept);
            }
            !dominated
        });
        group.push((wanted, unwanted, index));
        debug_assert_eq!(self.superseded.len(), index);
        self.superseded.push(false);
        Some(worse)
    }

    /// Marks `roots` and every state found from them superseded. Cost: O(states marked),
    /// each state at most once over a search.
    fn supersede(&mut self, roots: Vec<usize>, children: &[Vec<usize>]) {
        let mut pending = roots;
        while let Some(index) = pending.pop() {
            if std::mem::replace(&mut self.superseded[index], true) {
                continue;
            }
            pending.extend_from_slice(&children[index]);
        }
    }

    fn is_superseded(&self, index: usize) -> bool {
        self.superseded[index]
    }
}

fn in_domain(state: &State, domain: Domain) -> bool {
    !domain.trailing_slash || state.last_slash
}

/// A witness a reader recognises as a path: request paths end in a non-empty segment, list
/// paths in a non-empty segment followed by `/`.
fn nice(state: &State, domain: Domain) -> bool {
    if state.empty {
        return false;
    }
    if domain.trailing_slash {
        !state.before_last_slash
    } else {
        !state.last_slash
    }
}

fn unused_letter(alphabet: &[Option<u8>]) -> u8 {
    (b'a'..=b'z')
        .rev()
        .find(|letter| !alphabet.contains(&Some(*letter)))
        .unwrap_or(b'~')
}

fn rebuild(parents: &[Option<(usize, u8)>], mut index: usize) -> String {
    let mut bytes = Vec::new();
    while let Some((parent, byte)) = parents[index] {
        bytes.push(byte);
        index = parent;
    }
    bytes.reverse();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PathPattern;

    fn piece(pattern: &str, exclude: &[&str]) -> Vec<Piece> {
        let seq = |p: &str| Seq::of_pattern(&PathPattern::parse(p).unwrap());
        vec![Piece {
            include: seq(pattern),
            exclude: exclude.iter().map(|p| seq(p)).collect(),
        }]
    }

    const REQUEST: Domain = Domain {
        trailing_slash: false,
    };

    #[test]
    fn finds_paths_inside_and_outside() {
        let ai = piece("secret/data/ai/*", &[]);
        let openai = piece("secret/data/ai/openai", &[]);
        let query = Query {
            inside: vec![&ai],
            outside: vec![&openai],
            domain: REQUEST,
        };
        let witness = query.witness(&[]).unwrap().unwrap();
        assert!(witness.starts_with("secret/data/ai/") && witness != "secret/data/ai/openai");
        assert!(!witness.ends_with('/'), "{witness}");
        assert_eq!(
            query.witness(&["secret/data/ai/openai", "secret/data/ai/anthropic"]),
            Ok(Some("secret/data/ai/anthropic".to_string()))
        );
    }

    #[test]
    fn proves_emptiness() {
        let inner = piece("a/b/*", &[]);
        let outer = piece("a/*", &[]);
        let query = Query {
            inside: vec![&inner],
            outside: vec![&outer],
            domain: REQUEST,
        };
        assert_eq!(query.witness(&[]), Ok(None));
        // A piece's own exclusions are honoured: `a/*` minus `a/b*` still holds `a/c`.
        let carved = piece("a/*", &["a/b*"]);
        let query = Query {
            inside: vec![&carved],
            outside: vec![],
            domain: REQUEST,
        };
        let witness = query.witness(&["a/bc"]).unwrap().unwrap();
        assert!(witness.starts_with("a/") && !witness.starts_with("a/b"));
    }

    /// `n` segments, `x` at position `at` and `+` elsewhere (`None`: `+` everywhere).
    fn family_member(n: usize, at: Option<usize>) -> String {
        (0..n)
            .map(|i| if Some(i) == at { "x" } else { "+" })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The families that make a plain subset construction exponential (2^40 joint states
    /// here, far beyond any budget) are decided at once by dominance, whichever polarity the
    /// family has.
    #[test]
    fn adversarial_families_stay_small() {
        const N: usize = 40;
        let small = |query: &Query<'_>| {
            let (answer, kept) = query.searched();
            assert!(kept < 20 * N, "{kept} states kept");
            answer.unwrap()
        };
        let all = piece(&family_member(N, None), &[]);
        let family: Vec<Vec<Piece>> = (0..N)
            .map(|at| piece(&family_member(N, Some(at)), &[]))
            .collect();
        // Kept outside: every `x` avoided.
        let mut query = Query::new(REQUEST);
        query.inside.push(&all);
        query.outside.extend(family.iter().map(Vec::as_slice));
        let witness = small(&query).unwrap();
        assert_eq!(witness.split('/').count(), N);
        assert!(witness.split('/').all(|part| part != "x"), "{witness}");
        // As exclusions of an inside piece: the same.
        let members: Vec<String> = (0..N).map(|at| family_member(N, Some(at))).collect();
        let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
        let carved = piece(&family_member(N, None), &member_refs);
        let mut query = Query::new(REQUEST);
        query.inside.push(&carved);
        let witness = small(&query).unwrap();
        assert!(witness.split('/').all(|part| part != "x"), "{witness}");
        // As exclusions of an outside region: the path must enter one of them.
        let outside = piece(&family_member(N, None), &member_refs);
        let mut query = Query::new(REQUEST);
        query.inside.push(&all);
        query.outside.push(&outside);
        let witness = small(&query).unwrap();
        assert!(witness.split('/').any(|part| part == "x"), "{witness}");
        // And emptiness is still proved: every path of `all` is in some member or in the
        // path with no `x`, which is carved out too.
        let mut none = members.clone();
        none.push(family_member(N, None));
        let mut query = Query::new(REQUEST);
        query.inside.push(&all);
        let everything: Vec<Vec<Piece>> = none.iter().map(|p| piece(p, &[])).collect();
        query.outside.extend(everything.iter().map(Vec::as_slice));
        assert_eq!(small(&query), None);
    }

    #[test]
    fn listing_witnesses_end_in_a_slash() {
        let region = piece("a/+", &[]);
        let query = Query {
            inside: vec![&region],
            outside: vec![],
            domain: Domain {
                trailing_slash: true,
            },
        };
        // `a/+` matches `a/` (an empty segment), the only listing path it holds.
        assert_eq!(query.witness(&[]), Ok(Some("a/".to_string())));
    }
}
