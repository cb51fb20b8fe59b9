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
//! Cost: O(states × alphabet × total tokens). The joint states are bounded by the distinct
//! literal prefixes of the patterns involved (a Vault pattern's automaton is deterministic up
//! to its `+` and glob positions), so in practice linear in the total pattern length. A hard
//! budget ([`STATE_BUDGET`]) turns a pathological query into an error instead of a hang.

use std::collections::HashMap;

use crate::query::lang::{Domain, Seq, Token};
use crate::query::reach::Piece;

/// Joint states one search may visit before it gives up with [`SearchLimit`].
pub const STATE_BUDGET: usize = 2_000_000;

/// The search met [`STATE_BUDGET`]: the query was not decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchLimit;

impl std::fmt::Display for SearchLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the region search exceeded {STATE_BUDGET} states; the answer would not be exact"
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
        Compiled {
            seqs,
            inside,
            outside,
            offsets,
            words: bits.div_ceil(64).max(1),
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
    fn search(&self, domain: Domain) -> Result<Option<String>, SearchLimit> {
        let alphabet = self.alphabet();
        let other = unused_letter(&alphabet);
        let start = self.start();
        if !self.viable(&start) {
            return Ok(None);
        }
        let mut states: Vec<State> = vec![start.clone()];
        let mut parents: Vec<Option<(usize, u8)>> = vec![None];
        let mut seen: HashMap<State, usize> = HashMap::from([(start, 0)]);
        let mut fallback: Option<usize> = None;
        let mut next = 0;
        while next < states.len() {
            let current = next;
            next += 1;
            let state = states[current].clone();
            if in_domain(&state, domain) && self.accepts(&state) {
                if nice(&state, domain) {
                    return Ok(Some(rebuild(&parents, current)));
                }
                fallback.get_or_insert(current);
            }
            for &byte in &alphabet {
                if state.empty && byte == Some(b'/') {
                    continue;
                }
                let stepped = self.step(&state, byte);
                if !self.viable(&stepped) || seen.contains_key(&stepped) {
                    continue;
                }
                if states.len() >= STATE_BUDGET {
                    return Err(SearchLimit);
                }
                seen.insert(stepped.clone(), states.len());
                states.push(stepped);
                parents.push(Some((current, byte.unwrap_or(other))));
            }
        }
        Ok(fallback.map(|index| rebuild(&parents, index)))
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
