//! Path languages: the sets of request paths a Vault pattern matches, as token sequences.
//!
//! Every pattern kind (exact, prefix glob, segment wildcard) denotes a regular language of a
//! very simple shape: literal bytes, `+` segments (`[^/]*`) and a trailing glob (`.*`). The
//! list fallbacks of spec 3.3 shift those languages by one `/`, so a glob may also sit before a
//! final `/`. [`Seq`] holds such a sequence; [`Seq::matches`] and [`intersection_witness`] are
//! plain NFA simulations, which is what lets `reach` be derived from the patterns instead of by
//! sampling paths.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use crate::policy::{PathPattern, PatternKind};

/// One position of a path language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Token {
    /// Exactly this byte.
    Lit(u8),
    /// Any run of bytes without `/` (a `+` segment; may be empty).
    Seg,
    /// Any run of bytes (a glob).
    Any,
}

/// A path language: the concatenation of its tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Seq(pub Vec<Token>);

/// Which request paths are considered at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Only paths ending in `/` (LIST and SCAN requests: the HTTP layer appends one).
    pub trailing_slash: bool,
}

impl Seq {
    /// The language of a normalised pattern, following spec 3.4's matching rules: a prefix
    /// rule is its key then a glob; a segment-wildcard rule is its parts joined by `/`, each
    /// `+` part a segment, and a trailing `*` a glob absorbing the rest of the path.
    pub fn of_pattern(pattern: &PathPattern) -> Seq {
        match pattern.kind {
            PatternKind::Exact => Seq::literal(&pattern.normalized),
            PatternKind::Prefix => Seq::literal(pattern.key()).then(Token::Any),
            PatternKind::SegmentWildcard => segment_wildcard(&pattern.normalized),
        }
    }

    pub fn literal(text: &str) -> Seq {
        Seq(text.bytes().map(Token::Lit).collect())
    }

    /// This language followed by one more token.
    pub fn then(mut self, token: Token) -> Seq {
        self.0.push(token);
        self
    }

    /// This language followed by `/` (the path a list request sends when its trimmed form is
    /// in this language).
    pub fn slash(self) -> Seq {
        self.then(Token::Lit(b'/'))
    }

    /// Whether `path` is in the language. Cost: O(path length × tokens).
    pub fn matches(&self, path: &str) -> bool {
        let tokens = &self.0;
        let mut states = closure(tokens, [0].into_iter().collect());
        for byte in path.bytes() {
            let mut next = HashSet::new();
            for &state in &states {
                next.extend(step(tokens, state, Some(byte)));
            }
            if next.is_empty() {
                return false;
            }
            states = closure(tokens, next);
        }
        states.contains(&tokens.len())
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::new();
        for token in &self.0 {
            match token {
                Token::Lit(byte) => bytes.push(*byte),
                Token::Seg => bytes.push(b'+'),
                Token::Any => bytes.push(b'*'),
            }
        }
        f.write_str(&String::from_utf8_lossy(&bytes))
    }
}

fn segment_wildcard(normalized: &str) -> Seq {
    let (body, glob) = match normalized.strip_suffix('*') {
        Some(body) => (body, true),
        None => (normalized, false),
    };
    let mut tokens = Vec::new();
    for (index, part) in body.split('/').enumerate() {
        if index > 0 {
            tokens.push(Token::Lit(b'/'));
        }
        if part == "+" {
            tokens.push(Token::Seg);
        } else {
            tokens.extend(part.bytes().map(Token::Lit));
        }
    }
    if glob {
        tokens.push(Token::Any);
    }
    Seq(tokens)
}

/// Adds the states reachable by skipping `Seg`/`Any` tokens (both may match nothing).
fn closure(tokens: &[Token], mut states: HashSet<usize>) -> HashSet<usize> {
    let mut pending: Vec<usize> = states.iter().copied().collect();
    while let Some(state) = pending.pop() {
        if matches!(tokens.get(state), Some(Token::Seg | Token::Any)) && states.insert(state + 1) {
            pending.push(state + 1);
        }
    }
    states
}

/// States after reading one byte (`None`: a byte no literal of either side uses, never `/`).
fn step(tokens: &[Token], state: usize, byte: Option<u8>) -> Option<usize> {
    match (tokens.get(state)?, byte) {
        (Token::Lit(expected), Some(byte)) if *expected == byte => Some(state + 1),
        (Token::Lit(_), _) => None,
        (Token::Seg, Some(b'/')) => None,
        (Token::Seg | Token::Any, _) => Some(state),
    }
}

/// A path in both languages and in the domain (request paths never start with `/`: the ACL
/// strips leading slashes), or `None` when they are disjoint. The shortest such path is
/// returned; bytes that no literal uses are shown as `x` (or another unused letter).
///
/// Cost: a breadth-first search of the product automaton, O(|a| × |b| × alphabet) where the
/// alphabet is the literals of both sides plus one "other" byte.
pub fn intersection_witness(a: &Seq, b: &Seq, domain: Domain) -> Option<String> {
    let alphabet = alphabet_of(a, b);
    let other = unused_letter(&alphabet);
    // State: (position in a, position in b, last byte was `/`, nothing read yet).
    type State = (usize, usize, bool, bool);
    let starts_a = closure(&a.0, [0].into_iter().collect());
    let starts_b = closure(&b.0, [0].into_iter().collect());
    let mut parent: HashMap<State, Option<(State, u8)>> = HashMap::new();
    let mut queue = VecDeque::new();
    for &i in &starts_a {
        for &j in &starts_b {
            let state = (i, j, false, true);
            parent.insert(state, None);
            queue.push_back(state);
        }
    }
    while let Some(state) = queue.pop_front() {
        let (i, j, last_slash, empty) = state;
        if i == a.0.len() && j == b.0.len() && (!domain.trailing_slash || last_slash) {
            return Some(rebuild(&parent, state));
        }
        for byte in alphabet.iter().copied().map(Some).chain([None]) {
            if empty && byte == Some(b'/') {
                continue;
            }
            let (Some(next_i), Some(next_j)) = (step(&a.0, i, byte), step(&b.0, j, byte)) else {
                continue;
            };
            let shown = byte.unwrap_or(other);
            for &ci in &closure(&a.0, [next_i].into_iter().collect()) {
                for &cj in &closure(&b.0, [next_j].into_iter().collect()) {
                    let next = (ci, cj, byte == Some(b'/'), false);
                    if let std::collections::hash_map::Entry::Vacant(slot) = parent.entry(next) {
                        slot.insert(Some((state, shown)));
                        queue.push_back(next);
                    }
                }
            }
        }
    }
    None
}

/// Whether some request path in the domain is in both languages. Literal and prefix
/// languages (the common case: exact and glob rules) are compared in O(L); the others take
/// [`intersection_witness`]'s search.
pub fn intersects(a: &Seq, b: &Seq, domain: Domain) -> bool {
    if let Some(answer) = literal_intersects(a, b, domain) {
        return answer;
    }
    product_reaches_end(a, b, domain)
}

/// [`intersection_witness`]'s search without the witness: a depth-first walk of the product
/// automaton over a flat visited table, (|a| + 1) × (|b| + 1) × 4 states, each stepped once
/// per alphabet byte. Same cost bound, without hashing or paths kept.
fn product_reaches_end(a: &Seq, b: &Seq, domain: Domain) -> bool {
    let (a, b) = (&a.0, &b.0);
    let alphabet = alphabet_of_tokens(a, b);
    let width = b.len() + 1;
    let index = |i: usize, j: usize, last_slash: bool, empty: bool| {
        ((i * width + j) * 2 + usize::from(last_slash)) * 2 + usize::from(empty)
    };
    let mut seen = vec![false; (a.len() + 1) * width * 4];
    let mut pending: Vec<(usize, usize, bool, bool)> = Vec::new();
    let push = |state: (usize, usize, bool, bool),
                seen: &mut Vec<bool>,
                pending: &mut Vec<(usize, usize, bool, bool)>| {
        let at = index(state.0, state.1, state.2, state.3);
        if !seen[at] {
            seen[at] = true;
            pending.push(state);
        }
    };
    for i in skips(a, 0) {
        for j in skips(b, 0) {
            push((i, j, false, true), &mut seen, &mut pending);
        }
    }
    while let Some((i, j, last_slash, empty)) = pending.pop() {
        if i == a.len() && j == b.len() && (!domain.trailing_slash || last_slash) {
            return true;
        }
        for byte in alphabet.iter().copied().map(Some).chain([None]) {
            if empty && byte == Some(b'/') {
                continue;
            }
            let (Some(next_i), Some(next_j)) = (step(a, i, byte), step(b, j, byte)) else {
                continue;
            };
            for ci in skips(a, next_i) {
                for cj in skips(b, next_j) {
                    push((ci, cj, byte == Some(b'/'), false), &mut seen, &mut pending);
                }
            }
        }
    }
    false
}

/// `state` and the states after it reachable by skipping `Seg`/`Any` tokens (both may match
/// nothing): a run of consecutive positions, [`closure`] of one state without a set.
fn skips(tokens: &[Token], state: usize) -> std::ops::RangeInclusive<usize> {
    let skippable = tokens[state.min(tokens.len())..]
        .iter()
        .take_while(|token| matches!(token, Token::Seg | Token::Any))
        .count();
    state..=state + skippable
}

/// Whether every request path of `inner` in the domain is also in `outer` (language
/// inclusion). Literal and prefix languages are compared in O(L); the others by a search for
/// a path of `inner` that `outer` refuses, over pairs (state of `inner`, set of states of
/// `outer`). For patterns (segments of literals or `+`, a glob at the end or before a final
/// `/`) the sets stay of a few states, so the search is O(|inner| × |outer| × alphabet); on
/// anything else it gives up after [`INCLUSION_BUDGET`] pairs and answers `false`, which is
/// always safe: `true` means inclusion is certain, `false` only that it was not shown.
pub fn includes(outer: &Seq, inner: &Seq, domain: Domain) -> bool {
    if holds_no_request_path(inner, domain) {
        return true;
    }
    // A non-empty `inner` inside `outer` has `outer`'s head as a prefix of its own: after its
    // own head a `+` or glob can start with a byte `outer` does not allow.
    let (outer_head, inner_head) = (literal_head(&outer.0), literal_head(&inner.0));
    if !inner.0[..inner_head].starts_with(&outer.0[..outer_head]) {
        return false;
    }
    if let Some(answer) = literal_includes(outer, inner, domain) {
        return answer;
    }
    inclusion_search(outer, inner, domain)
}

/// Whether no request path in the domain is in the language: it starts with `/` (the ACL
/// strips leading slashes), or, for LIST paths, it cannot end in `/` (its last byte comes
/// from the last token that is not a `+`, which may match nothing).
fn holds_no_request_path(seq: &Seq, domain: Domain) -> bool {
    let tokens = &seq.0;
    let last_byte = tokens.iter().rev().find(|token| **token != Token::Seg);
    tokens.first() == Some(&Token::Lit(b'/'))
        || (domain.trailing_slash && !matches!(last_byte, Some(Token::Lit(b'/') | Token::Any)))
}

/// How many literal tokens the sequence starts with.
fn literal_head(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .take_while(|token| matches!(token, Token::Lit(_)))
        .count()
}

/// Pairs [`includes`] explores at most, beyond `|inner| × |outer| × 4`.
pub const INCLUSION_BUDGET: usize = 4096;

/// [`includes`] for two literal-or-prefix languages over every request path, `None` for any
/// other case (or when `inner` starts with `/` and so holds no request path at all).
fn literal_includes(outer: &Seq, inner: &Seq, domain: Domain) -> Option<bool> {
    if domain.trailing_slash || inner.0.first() == Some(&Token::Lit(b'/')) {
        return None;
    }
    let (outer, outer_glob) = literal_and_glob(outer)?;
    let (inner, inner_glob) = literal_and_glob(inner)?;
    Some(if outer_glob {
        inner.starts_with(outer)
    } else {
        !inner_glob && inner == outer
    })
}

/// The search behind [`includes`]: breadth-first over (position in `inner`, the sorted
/// positions `outer` can be in after the same bytes, last byte was `/`, nothing read yet),
/// looking for a path that `inner` accepts in the domain while `outer` does not.
fn inclusion_search(outer: &Seq, inner: &Seq, domain: Domain) -> bool {
    type State = (usize, Vec<usize>, bool, bool);
    let alphabet = alphabet_of(outer, inner);
    let budget = INCLUSION_BUDGET + (inner.0.len() + 1) * (outer.0.len() + 1) * 4;
    let outer_start = sorted_closure(&outer.0, [0].into_iter().collect());
    let mut seen: HashSet<State> = HashSet::new();
    let mut queue: VecDeque<State> = VecDeque::new();
    for i in closure(&inner.0, [0].into_iter().collect()) {
        let state = (i, outer_start.clone(), false, true);
        if seen.insert(state.clone()) {
            queue.push_back(state);
        }
    }
    while let Some((i, outer_states, last_slash, empty)) = queue.pop_front() {
        let accepted_by_inner = i == inner.0.len() && (!domain.trailing_slash || last_slash);
        if accepted_by_inner && !outer_states.contains(&outer.0.len()) {
            return false;
        }
        for byte in alphabet.iter().copied().map(Some).chain([None]) {
            if empty && byte == Some(b'/') {
                continue;
            }
            let Some(next_i) = step(&inner.0, i, byte) else {
                continue;
            };
            let next_outer = sorted_closure(
                &outer.0,
                outer_states
                    .iter()
                    .filter_map(|&state| step(&outer.0, state, byte))
                    .collect(),
            );
            for ci in closure(&inner.0, [next_i].into_iter().collect()) {
                let next = (ci, next_outer.clone(), byte == Some(b'/'), false);
                if seen.insert(next.clone()) {
                    if seen.len() > budget {
                        return false;
                    }
                    queue.push_back(next);
                }
            }
        }
    }
    true
}

/// [`closure`] as a sorted list (a hashable state of the subset construction).
fn sorted_closure(tokens: &[Token], states: HashSet<usize>) -> Vec<usize> {
    let mut sorted: Vec<usize> = closure(tokens, states).into_iter().collect();
    sorted.sort_unstable();
    sorted
}

/// A language of literal bytes, perhaps followed by one glob: (its bytes, the glob).
fn literal_and_glob(seq: &Seq) -> Option<(&[Token], bool)> {
    let (literal, glob) = match seq.0.split_last() {
        Some((Token::Any, literal)) => (literal, true),
        _ => (seq.0.as_slice(), false),
    };
    literal
        .iter()
        .all(|token| matches!(token, Token::Lit(_)))
        .then_some((literal, glob))
}

/// [`intersects`] for two literal-or-prefix languages over every request path, `None` for
/// any other case. A common path, if any, starts with the longer literal (which is then the
/// shortest one), and a request path never starts with `/`.
fn literal_intersects(a: &Seq, b: &Seq, domain: Domain) -> Option<bool> {
    if domain.trailing_slash {
        return None;
    }
    let (a, a_glob) = literal_and_glob(a)?;
    let (b, b_glob) = literal_and_glob(b)?;
    let (short, short_glob, long, long_glob) = if a.len() <= b.len() {
        (a, a_glob, b, b_glob)
    } else {
        (b, b_glob, a, a_glob)
    };
    let fits = if short_glob {
        long.starts_with(short)
    } else {
        short == long || (long_glob && short.starts_with(long))
    };
    Some(fits && long.first() != Some(&Token::Lit(b'/')))
}

fn alphabet_of(a: &Seq, b: &Seq) -> Vec<u8> {
    alphabet_of_tokens(&a.0, &b.0)
}

fn alphabet_of_tokens(a: &[Token], b: &[Token]) -> Vec<u8> {
    let mut bytes: Vec<u8> = a
        .iter()
        .chain(b.iter())
        .filter_map(|token| match token {
            Token::Lit(byte) => Some(*byte),
            _ => None,
        })
        .chain([b'/'])
        .collect();
    bytes.sort_unstable();
    bytes.dedup();
    bytes
}

fn unused_letter(alphabet: &[u8]) -> u8 {
    (b'a'..=b'z')
        .rev()
        .find(|letter| !alphabet.contains(letter))
        .unwrap_or(b'~')
}

fn rebuild<S: Copy + Eq + std::hash::Hash>(
    parent: &HashMap<S, Option<(S, u8)>>,
    mut state: S,
) -> String {
    let mut bytes = Vec::new();
    while let Some(Some((previous, byte))) = parent.get(&state) {
        bytes.push(*byte);
        state = *previous;
    }
    bytes.reverse();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(pattern: &str) -> Seq {
        Seq::of_pattern(&PathPattern::parse(pattern).unwrap())
    }

    const ANY: Domain = Domain {
        trailing_slash: false,
    };

    fn token_seq() -> impl proptest::strategy::Strategy<Value = Seq> {
        use proptest::prelude::*;
        let token = prop_oneof![
            4 => prop::sample::select(vec![b'a', b'b', b'/']).prop_map(Token::Lit),
            1 => Just(Token::Seg),
        ];
        (prop::collection::vec(token, 0..5), 0..3u8).prop_map(|(mut tokens, tail)| {
            // A glob at the end, or before a final `/` (the LIST fallbacks' shifted regions).
            if tail > 0 {
                tokens.push(Token::Any);
            }
            if tail == 2 {
                tokens.push(Token::Lit(b'/'));
            }
            Seq(tokens)
        })
    }

    /// Every path over {a, b, /, x} of at most 6 bytes (`x`: a byte no literal uses).
    fn short_paths() -> &'static [String] {
        static PATHS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        PATHS.get_or_init(|| {
            let mut all = vec![String::new()];
            let mut frontier = vec![String::new()];
            for _ in 0..6 {
                frontier = frontier
                    .iter()
                    .flat_map(|path| ["a", "b", "/", "x"].map(|c| format!("{path}{c}")))
                    .collect();
                all.extend(frontier.iter().cloned());
            }
            all
        })
    }

    proptest::proptest! {
        /// The O(L) literal comparison answers as the automaton search does.
        #[test]
        fn literal_fast_path_agrees_with_the_search(
            a in token_seq(),
            b in token_seq(),
            trailing_slash in proptest::bool::ANY,
        ) {
            let domain = Domain { trailing_slash };
            proptest::prop_assert_eq!(
                intersects(&a, &b, domain),
                intersection_witness(&a, &b, domain).is_some(),
                "{:?} {:?}", a, b
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Inclusion as enumeration decides it: no short request path of `inner` (in the
        /// domain) is missing from `outer`. Both directions are checked, so the answer is
        /// neither unsound (pruning a region that still matters) nor needlessly weak.
        #[test]
        fn inclusion_agrees_with_enumeration(
            outer in token_seq(),
            inner in token_seq(),
            trailing_slash in proptest::bool::ANY,
        ) {
            let domain = Domain { trailing_slash };
            let enumerated = short_paths()
                .iter()
                .filter(|path| !path.starts_with('/') && (!trailing_slash || path.ends_with('/')))
                .all(|path| !inner.matches(path) || outer.matches(path));
            proptest::prop_assert_eq!(
                includes(&outer, &inner, domain),
                enumerated,
                "{} in {}", inner, outer
            );
        }
    }

    #[test]
    fn inclusion_with_segments_and_globs() {
        let listing = Domain {
            trailing_slash: true,
        };
        assert!(includes(&seq("a/+/*"), &seq("a/b/*"), ANY));
        assert!(includes(&seq("+/b"), &seq("a/b"), ANY));
        assert!(includes(&seq("+/+"), &seq("a/+"), ANY));
        assert!(!includes(&seq("a/b/*"), &seq("a/+/*"), ANY));
        assert!(!includes(&seq("a/+"), &seq("a/b/c"), ANY));
        // `+` may be empty, a prefix glob is byte-wise.
        assert!(includes(&seq("a/+/c"), &seq("a//c"), ANY));
        assert!(includes(&seq("a*"), &seq("ab/+/c"), ANY));
        assert!(!includes(&seq("a/+"), &seq("a*"), ANY));
        // Only paths ending in `/` count for LIST.
        assert!(includes(&seq("a/+/"), &seq("a/b/"), listing));
        assert!(includes(&seq("a/*"), &seq("a/+/"), listing));
        assert!(!includes(&seq("a/+"), &seq("a/*"), listing));
        assert!(
            includes(&seq("a/+"), &seq("a/b"), listing),
            "no LIST path in `a/b`"
        );
        // A leading `/` never reaches the ACL, so such a language holds no request path.
        assert!(includes(&seq("b"), &Seq::literal("/a"), ANY));
    }

    #[test]
    fn matching_follows_spec_examples() {
        // spec 3.4: character-wise prefixes and part-wise segment wildcards.
        assert!(seq("secret/zip-*").matches("secret/zip-zap/zong"));
        assert!(seq("secret/foo*").matches("secret/foobar"));
        assert!(!seq("secret/bar/*").matches("secret/bar"));
        assert!(seq("foo/+").matches("foo/bar"));
        assert!(seq("foo/+").matches("foo/"));
        assert!(!seq("foo/+").matches("foo/bar/"));
        assert!(seq("foo/+/").matches("foo/x/"));
        assert!(!seq("foo/+/").matches("foo/x/y"));
        // Spec 3.4 claims `test/a/wildcard/b` matches too; OpenBao 2.7.2 answers `deny` for it
        // (`sys/capabilities`), in line with the part-count check of the same section.
        assert!(!seq("test/+/wildcard/+/*").matches("test/a/wildcard/b"));
        assert!(seq("test/+/wildcard/+/*").matches("test/a/wildcard/b/"));
        assert!(seq("test/+/wildcard/+/*").matches("test/a/wildcard/b/c/d"));
        assert!(seq("foo/bar/+/b*").matches("foo/bar/x/baz"));
        assert!(!seq("foo/bar").matches("foo/bar/"));
        assert!(seq("a*b").matches("a*b"));
        assert!(!seq("a*b").matches("axb"));
    }

    #[test]
    fn intersections_find_witnesses() {
        assert_eq!(
            intersection_witness(&seq("secret/*"), &seq("secret/data/ai/openai"), ANY).as_deref(),
            Some("secret/data/ai/openai")
        );
        assert!(intersects(&seq("a/+/c"), &seq("a/b*"), ANY));
        assert!(!intersects(&seq("a/+"), &seq("a/b/c"), ANY));
        assert!(!intersects(&seq("a/*"), &seq("b/*"), ANY));
        let witness = intersection_witness(&seq("+/x"), &seq("*"), ANY).unwrap();
        assert!(
            !witness.starts_with('/') && witness.ends_with("/x"),
            "{witness}"
        );
        // A leading `/` never reaches the ACL.
        assert!(!intersects(&Seq::literal("/x"), &seq("*"), ANY));
        let listing = Domain {
            trailing_slash: true,
        };
        assert_eq!(
            intersection_witness(&seq("a/+"), &seq("a/*"), listing).as_deref(),
            Some("a/")
        );
        assert!(!intersects(&seq("a/b"), &seq("a/*"), listing));
    }
}
