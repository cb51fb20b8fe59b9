//! Pattern matching without an ACL: whether a pattern matches a path or can match under a
//! prefix, its literal start, and concrete paths it matches (instances), used to find
//! witness paths. Matching follows the ACL's own rules (spec 3.4).

use crate::policy::{PathPattern, PatternKind};

/// The segment used to fill a `+` or a trailing `*` when a concrete path is needed.
pub const FILLER: &str = "anything";

/// Whether a normalised pattern matches a request path, as Vault matches one rule (spec 3.4).
/// Cost: O(pattern length + path length).
pub fn pattern_matches(pattern: &PathPattern, path: &str) -> bool {
    match pattern.kind {
        PatternKind::Exact => pattern.key() == path,
        PatternKind::Prefix => path.starts_with(pattern.key()),
        PatternKind::SegmentWildcard => segments_match(&pattern.normalized, path),
    }
}

/// Parses a pattern written in a table (always valid) and matches it.
pub fn text_matches(pattern: &str, path: &str) -> bool {
    PathPattern::parse(pattern).is_ok_and(|parsed| pattern_matches(&parsed, path))
}

fn segments_match(pattern: &str, path: &str) -> bool {
    let (pattern, is_prefix) = match pattern.strip_suffix('*') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    // Part counts from the separators: no list of parts is built.
    let pattern_count = pattern.bytes().filter(|&b| b == b'/').count() + 1;
    let path_count = path.bytes().filter(|&b| b == b'/').count() + 1;
    if path_count < pattern_count {
        return false;
    }
    if !is_prefix && path_count != pattern_count {
        return false;
    }
    let last = pattern_count - 1;
    for (index, (part, path_part)) in pattern.split('/').zip(path.split('/')).enumerate() {
        if part == "+" || part == path_part {
            continue;
        }
        if is_prefix && index == last && path_part.starts_with(part) {
            return true;
        }
        return false;
    }
    true
}

/// Whether some path starting with `prefix` can match the pattern. Cost: O(length).
pub fn can_match_under(pattern: &PathPattern, prefix: &str) -> bool {
    match pattern.kind {
        PatternKind::Exact => pattern.key().starts_with(prefix),
        PatternKind::Prefix => {
            pattern.key().starts_with(prefix) || prefix.starts_with(pattern.key())
        }
        PatternKind::SegmentWildcard => segments_can_match_under(&pattern.normalized, prefix),
    }
}

fn segments_can_match_under(pattern: &str, prefix: &str) -> bool {
    let (pattern, is_prefix) = match pattern.strip_suffix('*') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let prefix_parts: Vec<&str> = prefix.split('/').collect();
    let last = pattern_parts.len() - 1;
    // Every prefix part but the last is a whole path segment; the last is the start of one.
    let (partial, whole) = prefix_parts.split_last().unwrap_or((&"", &[]));
    for (index, segment) in whole.iter().enumerate() {
        let Some(part) = pattern_parts.get(index) else {
            return false;
        };
        if is_prefix && index == last {
            return segment.starts_with(part);
        }
        if *part != "+" && part != segment {
            return false;
        }
    }
    let index = whole.len();
    let Some(part) = pattern_parts.get(index) else {
        return false;
    };
    if *part == "+" {
        return true;
    }
    if is_prefix && index == last {
        return part.starts_with(partial) || partial.starts_with(part);
    }
    part.starts_with(partial)
}

/// The literal start of a pattern: everything before its first `+` segment or trailing glob.
pub fn literal_prefix(pattern: &PathPattern) -> &str {
    match pattern.kind {
        PatternKind::Exact => pattern.key(),
        PatternKind::Prefix => pattern.key(),
        PatternKind::SegmentWildcard => {
            let text = pattern.normalized.as_str();
            if text == "+" || text.starts_with("+/") {
                return "";
            }
            let end = text.find("/+").map_or(text.len(), |index| index + 1);
            text[..end].trim_end_matches('*')
        }
    }
}

/// The bytes every path a pattern matches starts with: its [`literal_prefix`], cut before a
/// template marker (`{{`), whose substitution is not known here. Two patterns can share a
/// path only when one's head is a prefix of the other's.
pub fn literal_head(pattern: &PathPattern) -> &str {
    let prefix = literal_prefix(pattern);
    prefix.find("{{").map_or(prefix, |marker| &prefix[..marker])
}

/// Patterns indexed by their [`literal_head`], to find those that can share a path with a
/// given pattern without testing every pair. Built in O(n log n) for n patterns;
/// [`HeadIndex::related`] costs O(h log n + k) for a head of h bytes and k answers.
pub struct HeadIndex<'a> {
    /// (head, position in the input), sorted by head.
    sorted: Vec<(&'a str, usize)>,
}

impl<'a> HeadIndex<'a> {
    /// Indexes heads by their position in `heads`.
    pub fn new(heads: impl IntoIterator<Item = &'a str>) -> HeadIndex<'a> {
        let mut sorted: Vec<(&str, usize)> =
            heads.into_iter().enumerate().map(|(i, h)| (h, i)).collect();
        sorted.sort_unstable();
        HeadIndex { sorted }
    }

    /// The positions, ascending, of the heads that are a prefix or an extension of `head`:
    /// every pattern that can share a path with a pattern of that head (the others cannot).
    pub fn related(&self, head: &str) -> Vec<usize> {
        let start = self.sorted.partition_point(|(h, _)| *h < head);
        let mut found: Vec<usize> = self.sorted[start..]
            .iter()
            .take_while(|(h, _)| h.starts_with(head))
            .map(|(_, index)| *index)
            .collect();
        for (end, _) in head.char_indices() {
            let shorter = &head[..end];
            let from = self.sorted.partition_point(|(h, _)| *h < shorter);
            found.extend(
                self.sorted[from..]
                    .iter()
                    .take_while(|(h, _)| *h == shorter)
                    .map(|(_, index)| *index),
            );
        }
        found.sort_unstable();
        found
    }
}

/// Whether the pattern has no literal character at all: `*`, `+`, `+/*`, `+/+`, ...
pub fn is_all_wildcard(pattern: &PathPattern) -> bool {
    let text = pattern.normalized.as_str();
    let body = text.strip_suffix('*').unwrap_or(text);
    (text.contains('+') || text.contains('*')) && body.split('/').all(|p| p == "+" || p.is_empty())
}

/// Whether the pattern matches more than one path (a `+` segment or a trailing glob).
pub fn is_wildcard(pattern: &PathPattern) -> bool {
    match pattern.kind {
        PatternKind::Exact => false,
        PatternKind::Prefix => true,
        PatternKind::SegmentWildcard => {
            pattern.normalized.ends_with('*') || pattern.normalized.split('/').any(|p| p == "+")
        }
    }
}

/// Concrete paths a pattern matches: `+` filled from `template` (a witness path of the area
/// being probed, aligned segment by segment) or with [`FILLER`]; a trailing glob both closed
/// and extended (a glob inside a segment closed first, so that the first instance names a
/// real object: `connect_pki` for `connect_pki*`). Cost: O(pattern length).
pub fn instances(pattern: &PathPattern, template: &str) -> Vec<String> {
    let (body, glob) = match pattern.kind {
        PatternKind::Exact => (pattern.normalized.as_str(), false),
        PatternKind::Prefix => (pattern.key(), true),
        PatternKind::SegmentWildcard => match pattern.normalized.strip_suffix('*') {
            Some(body) => (body, true),
            None => (pattern.normalized.as_str(), false),
        },
    };
    let template_parts: Vec<&str> = template.split('/').collect();
    let filled: Vec<&str> = body
        .split('/')
        .enumerate()
        .map(|(index, part)| match part {
            "+" => template_parts
                .get(index)
                .copied()
                .filter(|t| !t.is_empty() && !t.contains(['+', '*']))
                .unwrap_or(FILLER),
            other => other,
        })
        .collect();
    let base = filled.join("/");
    if !glob {
        return vec![base];
    }
    // A glob after a word (`connect_pki*`) first gives the name as written (`connect_pki`),
    // a real name the glob matches, rather than a concatenation (`connect_pkianything`) no
    // one would mount; after a `/` or a separator (`app-*`) the filler completes the name.
    let closed_first = base.ends_with(|c: char| c.is_ascii_alphanumeric());
    let mut out = if closed_first {
        vec![base.clone(), format!("{base}{FILLER}")]
    } else {
        vec![format!("{base}{FILLER}"), base.clone()]
    };
    if template.starts_with(base.as_str()) && template != base {
        out.push(template.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).unwrap()
    }

    #[test]
    fn matching_follows_spec_3_4() {
        assert!(pattern_matches(&p("secret/zip-*"), "secret/zip-zap/zong"));
        assert!(!pattern_matches(&p("secret/bar/*"), "secret/bar"));
        assert!(pattern_matches(&p("foo/+"), "foo/"));
        assert!(!pattern_matches(&p("foo/+"), "foo/bar/"));
        // Same part-count rule as the ACL's segment trie (src/acl/store.rs): the glob part
        // needs a path part of its own.
        assert!(pattern_matches(
            &p("test/+/wildcard/+/*"),
            "test/a/wildcard/b/c"
        ));
        assert!(pattern_matches(&p("foo/bar/+/b*"), "foo/bar/x/baz"));
        assert!(pattern_matches(&p("a/+b"), "a/+b"));
        assert!(!pattern_matches(&p("a/+b"), "a/xb"));
    }

    #[test]
    fn overlap_with_a_prefix() {
        assert!(can_match_under(&p("secret/*"), "secret/data/"));
        assert!(can_match_under(&p("secret/+/app"), "secret/data/"));
        assert!(!can_match_under(&p("secret/ai/openai"), "secret/data/"));
        assert!(can_match_under(&p("+/*"), "secret/data/"));
        assert!(can_match_under(&p("secret/da*"), "secret/data/"));
        assert!(can_match_under(&p("secret/+/x/*"), "secret/"));
        assert!(!can_match_under(&p("secret/+/x/*"), "secret/a/y/"));
        assert!(can_match_under(&p("secret/+/x/*"), "secret/data/x"));
        assert!(!can_match_under(&p("secret/meta*"), "secret/data/"));
    }

    fn related_naively(heads: &[&str], head: &str) -> Vec<usize> {
        (0..heads.len())
            .filter(|&i| heads[i].starts_with(head) || head.starts_with(heads[i]))
            .collect()
    }

    #[test]
    fn head_index_finds_exactly_the_prefix_related_heads() {
        let heads = [
            "secret/",
            "secret/data/",
            "",
            "sys/",
            "secret/data/",
            "secret/d",
            "é/",
            "é",
        ];
        let index = HeadIndex::new(heads);
        for head in [
            "secret/data/x",
            "secret/",
            "",
            "sys",
            "zzz",
            "é/x",
            "secret/data/",
        ] {
            assert_eq!(
                index.related(head),
                related_naively(&heads, head),
                "{head:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn head_index_agrees_with_the_pairwise_test(
            heads in proptest::collection::vec("[ab/é]{0,4}", 0..12),
            head in "[ab/é]{0,5}",
        ) {
            let borrowed: Vec<&str> = heads.iter().map(String::as_str).collect();
            let index = HeadIndex::new(borrowed.iter().copied());
            proptest::prop_assert_eq!(index.related(&head), related_naively(&borrowed, &head));
        }

        /// The head is a prefix of every path the pattern matches (the index's premise).
        #[test]
        fn every_instance_starts_with_the_head(
            raw in "[ab/]{0,3}(\\+/)?[ab]{0,2}(/\\+)?[ab/]{0,2}\\*?",
            path in "[ab/x]{0,8}",
        ) {
            let Ok(pattern) = PathPattern::parse(&raw) else { return Ok(()) };
            if pattern_matches(&pattern, &path) {
                proptest::prop_assert!(path.starts_with(literal_head(&pattern)), "{raw} {path}");
            }
        }
    }

    #[test]
    fn literal_prefix_and_wildcards() {
        assert_eq!(
            literal_head(&p("secret/{{identity.entity.name}}/x")),
            "secret/"
        );
        assert_eq!(literal_prefix(&p("secret/+/x")), "secret/");
        assert_eq!(literal_prefix(&p("+/x")), "");
        assert_eq!(literal_prefix(&p("secret/data/*")), "secret/data/");
        assert!(is_all_wildcard(&p("*")));
        assert!(is_all_wildcard(&p("+/*")));
        assert!(is_all_wildcard(&p("+/+")));
        assert!(!is_all_wildcard(&p("secret/*")));
        assert!(is_wildcard(&p("a/+/b")));
        assert!(!is_wildcard(&p("a/+b")));
    }

    #[test]
    fn instances_fill_from_the_template() {
        assert_eq!(
            instances(&p("sys/policies/acl/app-*"), "sys/policies/acl/anything"),
            vec!["sys/policies/acl/app-anything", "sys/policies/acl/app-"]
        );
        assert_eq!(
            instances(&p("auth/+/role/x"), "auth/approle/role/anything"),
            vec!["auth/approle/role/x"]
        );
        assert!(instances(&p("sys/*"), "sys/policy/anything")
            .contains(&"sys/policy/anything".to_string()));
        // A glob after a word: the word itself first, not `connect_pkianything`.
        assert_eq!(
            instances(&p("connect_pki*"), ""),
            vec!["connect_pki", "connect_pkianything"]
        );
    }
}
