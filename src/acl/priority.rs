//! The priority order of non-exact candidates (spec 3.4).

use std::cmp::Ordering;

use super::types::PriorityStep;
use crate::policy::{PathPattern, PatternKind};

/// What the comparator looks at for one prefix or segment-wildcard rule. It depends on the
/// pattern only, so it is computed once when the ACL is built. 24 bytes: the pattern text
/// it ranks by is the rule's own, passed to [`rank`] beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Descriptor {
    /// Prefix rule: the key length. Wildcard rule: byte offset of the first `+` in the pattern.
    pub first_wildcard_or_glob: usize,
    /// A prefix rule, or a wildcard pattern ending in `*`.
    pub is_prefix: bool,
    /// Pattern segments exactly equal to `+`.
    pub wildcards: u32,
    /// The length of the pattern without its trailing `*` (see [`Descriptor::wc_path`]).
    pub wc_len: usize,
}

/// One side of a comparison: a rule's descriptor and its normalised pattern.
pub(crate) type Ranked<'a> = (&'a Descriptor, &'a str);

impl Descriptor {
    /// The descriptor of a non-exact pattern (`None` for exact ones).
    pub fn of(pattern: &PathPattern) -> Option<Descriptor> {
        match pattern.kind {
            PatternKind::Exact => None,
            PatternKind::Prefix => Some(Descriptor {
                first_wildcard_or_glob: pattern.key().len(),
                is_prefix: true,
                wildcards: 0,
                wc_len: pattern.key().len(),
            }),
            PatternKind::SegmentWildcard => {
                let full = &pattern.normalized;
                let (wc_path, is_prefix) = match full.strip_suffix('*') {
                    Some(body) => (body, true),
                    None => (full.as_str(), false),
                };
                Some(Descriptor {
                    first_wildcard_or_glob: full.find('+').unwrap_or(full.len()),
                    is_prefix,
                    wildcards: wc_path.split('/').filter(|part| *part == "+").count() as u32,
                    wc_len: wc_path.len(),
                })
            }
        }
    }

    /// The pattern without its trailing `*`, out of the rule's `normalized` text.
    pub fn wc_path<'a>(&self, normalized: &'a str) -> &'a str {
        normalized.get(..self.wc_len).unwrap_or(normalized)
    }
}

/// How `winner` ranks against `other`: `Greater` when `winner` is more specific, and the first
/// step of the order that separates them. Cost: O(pattern length) at worst (the last step).
pub(crate) fn rank(
    (winner, winner_pattern): Ranked<'_>,
    (other, other_pattern): Ranked<'_>,
) -> (Ordering, PriorityStep) {
    if winner.first_wildcard_or_glob != other.first_wildcard_or_glob {
        let order = winner
            .first_wildcard_or_glob
            .cmp(&other.first_wildcard_or_glob);
        return (order, PriorityStep::LaterWildcard);
    }
    if winner.is_prefix != other.is_prefix {
        let order = if winner.is_prefix {
            Ordering::Less
        } else {
            Ordering::Greater
        };
        return (order, PriorityStep::NotPrefix);
    }
    if winner.wildcards != other.wildcards {
        return (
            other.wildcards.cmp(&winner.wildcards),
            PriorityStep::FewerPlus,
        );
    }
    if winner.wc_len != other.wc_len {
        let order = winner.wc_len.cmp(&other.wc_len);
        return (order, PriorityStep::Longer);
    }
    let winner_path = winner.wc_path(winner_pattern);
    let other_path = other.wc_path(other_pattern);
    (
        winner_path.as_bytes().cmp(other_path.as_bytes()),
        PriorityStep::Lexicographic,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(pattern: &str) -> Descriptor {
        Descriptor::of(&PathPattern::parse(pattern).unwrap()).unwrap()
    }

    /// Ranks two patterns as written.
    fn rank_of(winner: &str, other: &str) -> (Ordering, PriorityStep) {
        let (winner_pattern, other_pattern) = (
            PathPattern::parse(winner).unwrap(),
            PathPattern::parse(other).unwrap(),
        );
        rank(
            (&descriptor(winner), &winner_pattern.normalized),
            (&descriptor(other), &other_pattern.normalized),
        )
    }

    /// The priority examples of spec 3.4.
    #[test]
    fn spec_priority_examples() {
        let cases = [
            ("*", "+/*", PriorityStep::FewerPlus),
            ("foo/+/*", "+/*", PriorityStep::LaterWildcard),
            ("foo/+/bar/baz", "foo/+/+/*", PriorityStep::NotPrefix),
            ("foo/+/bar/baz", "foo/+/+/baz", PriorityStep::FewerPlus),
            (
                "foo/(ar/+/baz",
                "foo/+/(ar/baz",
                PriorityStep::LaterWildcard,
            ),
            ("foo/bar/+/baz", "foo/bar/+/baz*", PriorityStep::NotPrefix),
            ("foo/bar/+/ba*", "foo/bar/+/b*", PriorityStep::Longer),
            ("1/2/+", "1/2/*", PriorityStep::NotPrefix),
        ];
        for (winner, loser, step) in cases {
            let (order, found) = rank_of(winner, loser);
            assert_eq!(
                (order, found),
                (Ordering::Greater, step),
                "{winner} vs {loser}"
            );
            let (reverse, _) = rank_of(loser, winner);
            assert_eq!(reverse, Ordering::Less, "{loser} vs {winner}");
        }
    }

    #[test]
    fn descriptors_follow_spec_3_4() {
        let prefix = descriptor("secret/zip-*");
        assert_eq!(
            (
                prefix.first_wildcard_or_glob,
                prefix.is_prefix,
                prefix.wildcards
            ),
            (11, true, 0)
        );
        let glob = descriptor("a+b/+/c/+/*");
        assert_eq!(glob.first_wildcard_or_glob, 1);
        assert_eq!(glob.wildcards, 2);
        assert_eq!(glob.wc_path("a+b/+/c/+/*"), "a+b/+/c/+/");
        let literal_plus = descriptor("a/+b");
        assert_eq!((literal_plus.wildcards, literal_plus.is_prefix), (0, false));
        let (order, step) = rank_of("b/+", "a/+");
        assert_eq!(
            (order, step),
            (Ordering::Greater, PriorityStep::Lexicographic)
        );
    }
}
