//! Path patterns and their normalisation (spec section 1.5).

/// How a normalised pattern is stored and matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PatternKind {
    /// Matches exactly one path.
    Exact,
    /// A trailing `*` (stripped from [`PathPattern::key`]): matches every path starting with the key.
    Prefix,
    /// Contains `/+`, starts with `+/` or is `+` (spec 1.5 step 7); a trailing `*` stays in the key.
    SegmentWildcard,
}

/// A normalised path pattern: one string (the storage key is a slice of it, see
/// [`PathPattern::key`]), 32 bytes plus the text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PathPattern {
    /// The pattern after stripping one leading `/` (and namespace prefixing, always root here).
    pub normalized: String,
    pub kind: PatternKind,
}

impl PathPattern {
    /// Normalises a pattern as written (after template substitution, if any).
    /// Returns `Err` with Vault's message for `+*`.
    pub fn parse(raw: &str) -> Result<PathPattern, String> {
        PathPattern::parse_in("", raw)
    }

    /// [`PathPattern::parse`] for a policy of `namespace` (`""` for root, else `admin/team-a/`):
    /// the namespace path goes in front after the leading `/` is stripped, and every later
    /// step works on the full path (spec 1.5 steps 4-8).
    pub fn parse_in(namespace: &str, raw: &str) -> Result<PathPattern, String> {
        let relative = raw.strip_prefix('/').unwrap_or(raw);
        let mut normalized = String::with_capacity(namespace.len() + relative.len());
        normalized.push_str(namespace);
        normalized.push_str(relative);
        if find_plus_star(&normalized).is_some() {
            return Err(format!(
                "path {normalized:?}: invalid use of wildcards ('+*' is forbidden)"
            ));
        }
        let kind = if has_segment_wildcards(&normalized) {
            PatternKind::SegmentWildcard
        } else if normalized.ends_with('*') {
            PatternKind::Prefix
        } else {
            PatternKind::Exact
        };
        Ok(PathPattern { normalized, kind })
    }

    /// The storage key: `normalized` minus the trailing `*` for prefix rules. Cost: O(1).
    pub fn key(&self) -> &str {
        match self.kind {
            // A prefix pattern ends with `*` by construction (`parse_in`); a pattern read back
            // from the cache is not trusted to.
            PatternKind::Prefix => self
                .normalized
                .strip_suffix('*')
                .unwrap_or(&self.normalized),
            _ => &self.normalized,
        }
    }

    pub fn is_exact(&self) -> bool {
        self.kind == PatternKind::Exact
    }
}

/// Vault's `HasSegmentWildcards`. Cost: O(len), one scan for `+` (cheaper on short paths
/// than a substring search, which sets up a searcher per call).
pub fn has_segment_wildcards(path: &str) -> bool {
    let bytes = path.as_bytes();
    path == "+"
        || path.starts_with("+/")
        || memchr::memchr_iter(b'+', bytes).any(|i| i > 0 && bytes[i - 1] == b'/')
}

/// The byte offset of the first `+*` (forbidden in a pattern), as `text.find("+*")`.
/// Cost: O(len), one scan for `+`.
pub(crate) fn find_plus_star(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'+', bytes).find(|&i| bytes.get(i + 1) == Some(&b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_spec_examples() {
        assert_eq!(
            PathPattern::parse("/foo/bar").unwrap().normalized,
            "foo/bar"
        );
        assert_eq!(PathPattern::parse("//x").unwrap().normalized, "/x");
        let star = PathPattern::parse("*").unwrap();
        assert_eq!((star.kind, star.key()), (PatternKind::Prefix, ""));
        let double = PathPattern::parse("foo**").unwrap();
        assert_eq!(double.key(), "foo*");
        assert_eq!(PathPattern::parse("foo+").unwrap().kind, PatternKind::Exact);
        assert_eq!(
            PathPattern::parse("+foo/bar").unwrap().kind,
            PatternKind::Exact
        );
        assert_eq!(
            PathPattern::parse("a/+b").unwrap().kind,
            PatternKind::SegmentWildcard
        );
        let glob = PathPattern::parse("foo/+/*").unwrap();
        assert_eq!(
            (glob.kind, glob.key()),
            (PatternKind::SegmentWildcard, "foo/+/*")
        );
        assert!(PathPattern::parse("foo/+*").is_err());
        assert_eq!(PathPattern::parse("a*b").unwrap().kind, PatternKind::Exact);
    }

    proptest::proptest! {
        /// The byte scans answer as the substring searches they replace.
        #[test]
        fn scans_agree_with_substring_search(path in "[a-z/+*é]{0,12}") {
            proptest::prop_assert_eq!(find_plus_star(&path), path.find("+*"));
            let plain = path == "+" || path.contains("/+") || path.starts_with("+/");
            proptest::prop_assert_eq!(has_segment_wildcards(&path), plain);
        }
    }

    /// Spec 1.5 step 5, observed on OpenBao 2.7.2: `+/sys/policies/*` in `admin/` matches
    /// `admin/<one child>/sys/policies/...`; a leading `/` goes before the namespace path.
    #[test]
    fn namespace_paths_go_in_front() {
        let admin = PathPattern::parse_in("admin/", "+/sys/policies/*").unwrap();
        assert_eq!(
            (admin.kind, admin.key()),
            (PatternKind::SegmentWildcard, "admin/+/sys/policies/*")
        );
        let slash = PathPattern::parse_in("admin/", "/team-b/lead/*").unwrap();
        assert_eq!(
            (slash.kind, slash.key()),
            (PatternKind::Prefix, "admin/team-b/lead/")
        );
        // `+foo` is exact in root, but `admin/+foo` contains `/+`: stored with the segment
        // wildcards, where the segment `+foo` still only matches itself (step 7).
        assert_eq!(
            PathPattern::parse_in("admin/", "+foo").unwrap().kind,
            PatternKind::SegmentWildcard
        );
    }
}
