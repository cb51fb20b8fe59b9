//! The three rule stores of an ACL (spec 2), built once and read per request without ever
//! scanning all rules.
//!
//! - exact rules: a hash table of rule ids, keyed through the rules' own keys
//!   ([`ExactIndex`], O(path length) to hash and compare);
//! - prefix rules: a byte radix tree ([`RadixTree`]): all prefix rules covering a path are found
//!   by one walk down the tree, O(path length);
//! - segment-wildcard rules: a segment trie ([`SegmentTrie`]) keyed by pattern segments, where
//!   `+` is a wildcard child and the last segment of a glob pattern is kept in a per-node radix
//!   tree. Matching costs O(path segments × branching), the branching being at most two per
//!   level (the literal child and the `+` child), plus O(segment length) for the globs of a node.

use std::collections::HashMap;

/// A hash map with foldhash's randomly seeded hasher: the ACL's and the lint indexes' maps are
/// probed once or more per decision, and SipHash dominated short keys there.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set with [`FastMap`]'s hasher.
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Index of a merged rule in the ACL's rule list.
pub(crate) type RuleId = u32;

/// Exact rules by key: rule ids in a hash table, hashed and compared through the rules' own
/// keys (`key_of`), so the ACL keeps no second copy of each exact pattern: 4 bytes a slot,
/// not a `String` and its text. Cost: O(key length) to hash and to compare.
#[derive(Clone, Default)]
pub(crate) struct ExactIndex {
    table: hashbrown::HashTable<RuleId>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for ExactIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExactIndex({} rules)", self.table.len())
    }
}

impl ExactIndex {
    pub(crate) fn with_capacity(capacity: usize) -> ExactIndex {
        ExactIndex {
            table: hashbrown::HashTable::with_capacity(capacity),
            hasher: Default::default(),
        }
    }

    /// Puts `id` under `key`, in place of a rule already there; `key_of` gives the key of
    /// each rule already in.
    pub(crate) fn insert<'k>(&mut self, key: &str, id: RuleId, key_of: impl Fn(RuleId) -> &'k str) {
        use std::hash::BuildHasher;
        let hasher = &self.hasher;
        let hash = hasher.hash_one(key);
        let entry = self.table.entry(
            hash,
            |&other| key_of(other) == key,
            |&other| hasher.hash_one(key_of(other)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut slot) => *slot.get_mut() = id,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(id);
            }
        }
    }

    /// The rule under `key`, if any.
    pub(crate) fn get<'k>(&self, key: &str, key_of: impl Fn(RuleId) -> &'k str) -> Option<RuleId> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(key);
        self.table.find(hash, |&id| key_of(id) == key).copied()
    }
}

/// A compressed byte trie mapping keys to rules. Each edge carries a byte string; children of a
/// node start with distinct bytes and are kept in a list sorted by that byte.
///
/// Memory: 32 bytes per node and every edge's bytes once, in one buffer (`labels`): a split
/// edge shares its bytes with the two edges it becomes. A node's children are a chain
/// through `next_sibling`, so that no node holds a list of its own. A tree of n keys has at
/// most 2n nodes.
#[derive(Clone, Debug)]
pub(crate) struct RadixTree {
    nodes: Vec<RadixNode>,
    labels: Vec<u8>,
}

/// No node: the end of a sibling chain, or a node without children.
const NO_NODE: u32 = u32::MAX;
/// No rule ends at this node.
const NO_VALUE: RuleId = RuleId::MAX;

#[derive(Clone, Copy, Debug)]
struct RadixNode {
    /// The bytes on the edge from the parent to this node: `labels[label_start..][..label_len]`.
    label_start: usize,
    label_len: usize,
    /// The first child (the one whose label starts with the smallest byte), or [`NO_NODE`].
    first_child: u32,
    /// The next child of this node's parent, by first byte, or [`NO_NODE`].
    next_sibling: u32,
    /// The rule whose key ends here, or [`NO_VALUE`].
    value: RuleId,
    /// The label's first byte (0 for the root), read when searching a sibling chain.
    first_byte: u8,
}

impl RadixNode {
    fn value(&self) -> Option<RuleId> {
        (self.value != NO_VALUE).then_some(self.value)
    }
}

impl Default for RadixTree {
    fn default() -> RadixTree {
        RadixTree {
            nodes: vec![RadixNode {
                label_start: 0,
                label_len: 0,
                first_child: NO_NODE,
                next_sibling: NO_NODE,
                value: NO_VALUE,
                first_byte: 0,
            }],
            labels: Vec::new(),
        }
    }
}

impl RadixTree {
    /// Inserts or replaces `key`. Cost: O(key length × 256) at worst (a sibling chain holds
    /// at most one child per byte value; path keys branch on far fewer).
    pub fn insert(&mut self, key: &[u8], value: RuleId) {
        debug_assert!(
            value != NO_VALUE,
            "rule id {value} is the tree's empty mark"
        );
        let mut node = 0usize;
        let mut pos = 0usize;
        loop {
            if pos == key.len() {
                self.nodes[node].value = value;
                return;
            }
            let rest = &key[pos..];
            let (previous, found) = self.find_child(node, rest[0]);
            let Some(child) = found else {
                let leaf = self.push_leaf(rest, value);
                self.link(node, previous, leaf);
                return;
            };
            let common = common_prefix(self.label(child), rest);
            if common < self.nodes[child].label_len {
                self.split(child, common);
            }
            node = child;
            pos += common;
        }
    }

    /// Splits `node`'s edge after `at` bytes, in place: the node keeps the first `at` bytes
    /// and its place among its siblings, and a new node below it takes the rest of the edge,
    /// the children and the value. Cost: O(1).
    fn split(&mut self, node: usize, at: usize) {
        let upper = self.nodes[node];
        let lower_start = upper.label_start + at;
        let lower = RadixNode {
            label_start: lower_start,
            label_len: upper.label_len - at,
            first_child: upper.first_child,
            next_sibling: NO_NODE,
            value: upper.value,
            first_byte: self.labels[lower_start],
        };
        let lower_id = self.nodes.len() as u32;
        self.nodes.push(lower);
        let upper = &mut self.nodes[node];
        upper.label_len = at;
        upper.first_child = lower_id;
        upper.value = NO_VALUE;
    }

    /// The child of `node` whose label starts with `byte`, and the child before where it is
    /// or would be in the chain (`None`: first). Cost: O(children).
    fn find_child(&self, node: usize, byte: u8) -> (Option<usize>, Option<usize>) {
        let mut previous = None;
        let mut child = self.nodes[node].first_child;
        while child != NO_NODE {
            let here = &self.nodes[child as usize];
            if here.first_byte >= byte {
                let found = (here.first_byte == byte).then_some(child as usize);
                return (previous, found);
            }
            previous = Some(child as usize);
            child = here.next_sibling;
        }
        (previous, None)
    }

    fn child(&self, node: usize, byte: u8) -> Option<usize> {
        self.find_child(node, byte).1
    }

    fn label(&self, node: usize) -> &[u8] {
        let here = &self.nodes[node];
        &self.labels[here.label_start..here.label_start + here.label_len]
    }

    /// Calls `found(key_length, rule)` for every key that is a prefix of `path`, shortest first.
    /// Cost: O(path length) node steps, each searching a sibling chain.
    pub fn for_each_prefix_of(&self, path: &[u8], mut found: impl FnMut(usize, RuleId)) {
        let mut node = 0usize;
        let mut pos = 0usize;
        loop {
            if let Some(value) = self.nodes[node].value() {
                found(pos, value);
            }
            if pos == path.len() {
                return;
            }
            let Some(child) = self.child(node, path[pos]) else {
                return;
            };
            let label = self.label(child);
            if !path[pos..].starts_with(label) {
                return;
            }
            pos += label.len();
            node = child;
        }
    }

    /// The longest key that is a prefix of `path`. Cost: O(path length).
    pub fn longest_prefix_of(&self, path: &[u8]) -> Option<RuleId> {
        let mut longest = None;
        self.for_each_prefix_of(path, |_, rule| longest = Some(rule));
        longest
    }

    /// Calls `found(rule)` for every key starting with `prefix`, in byte order.
    /// Cost: O(prefix length + size of the matching subtree).
    pub fn for_each_with_prefix(&self, prefix: &[u8], mut found: impl FnMut(RuleId)) {
        let mut node = 0usize;
        let mut pos = 0usize;
        while pos < prefix.len() {
            let Some(child) = self.child(node, prefix[pos]) else {
                return;
            };
            let label = self.label(child);
            let rest = &prefix[pos..];
            let common = common_prefix(label, rest);
            if common < label.len() && common < rest.len() {
                return;
            }
            pos += common;
            node = child;
        }
        self.walk(node, &mut found);
    }

    /// Every value in the subtree of `node`, in byte order, with an explicit stack (a chain
    /// of nested keys can be as deep as the keys are long).
    fn walk(&self, node: usize, found: &mut impl FnMut(RuleId)) {
        if let Some(value) = self.nodes[node].value() {
            found(value);
        }
        let mut stack = vec![self.nodes[node].first_child];
        while let Some(next) = stack.pop() {
            if next == NO_NODE {
                continue;
            }
            let here = &self.nodes[next as usize];
            if let Some(value) = here.value() {
                found(value);
            }
            // The node's children come before its next sibling.
            stack.push(here.next_sibling);
            stack.push(here.first_child);
        }
    }

    /// Releases the room the node list and the label bytes grew into. Cost: one copy of them
    /// at most.
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.labels.shrink_to_fit();
    }

    fn push_leaf(&mut self, label: &[u8], value: RuleId) -> usize {
        let label_start = self.labels.len();
        self.labels.extend_from_slice(label);
        self.nodes.push(RadixNode {
            label_start,
            label_len: label.len(),
            first_child: NO_NODE,
            next_sibling: NO_NODE,
            value,
            first_byte: label[0],
        });
        self.nodes.len() - 1
    }

    /// Puts `child` in `parent`'s chain after `previous` (`None`: first).
    fn link(&mut self, parent: usize, previous: Option<usize>, child: usize) {
        let child_id = child as u32;
        match previous {
            None => {
                self.nodes[child].next_sibling = self.nodes[parent].first_child;
                self.nodes[parent].first_child = child_id;
            }
            Some(previous) => {
                self.nodes[child].next_sibling = self.nodes[previous].next_sibling;
                self.nodes[previous].next_sibling = child_id;
            }
        }
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Segment-wildcard patterns as a trie of `/`-separated segments.
///
/// A pattern `p0/p1/.../pn` (after dropping a trailing `*`) is inserted along `p0..pn-1`; a
/// segment exactly `+` goes to the wildcard child. A non-glob pattern ends at the node after
/// `pn` (`ends`); a glob pattern (trailing `*`) keeps `pn` as a prefix in the radix tree
/// `globs` of the node after `pn-1`, so that it matches any path segment starting with `pn`
/// and absorbs the rest of the path (spec 3.4).
#[derive(Clone, Debug)]
pub(crate) struct SegmentTrie {
    nodes: Vec<SegmentNode>,
    len: usize,
}

#[derive(Clone, Debug, Default)]
struct SegmentNode {
    literal: Children,
    plus: Option<u32>,
    /// A non-glob pattern ending exactly here.
    ends: Option<RuleId>,
    /// Glob patterns whose last segment is matched as a prefix of the next path segment.
    globs: Option<Box<RadixTree>>,
}

/// The literal children of a trie node by segment. Most nodes of a big policy's trie have
/// one child or none, and a hash table for one entry takes about 120 bytes: up to
/// [`Children::FEW`] children are kept in a list searched in order (O(FEW × segment length)),
/// more in a hash map (O(segment length)). Inserting is O(FEW) then O(1), so building stays
/// linear in the number of children.
#[derive(Clone, Debug)]
enum Children {
    Few(Vec<(Box<str>, u32)>),
    Many(Box<FastMap<Box<str>, u32>>),
}

impl Default for Children {
    fn default() -> Children {
        Children::Few(Vec::new())
    }
}

impl Children {
    const FEW: usize = 8;

    fn get(&self, segment: &str) -> Option<u32> {
        match self {
            Children::Few(list) => list
                .iter()
                .find(|(text, _)| &**text == segment)
                .map(|(_, child)| *child),
            Children::Many(map) => map.get(segment).copied(),
        }
    }

    /// Adds a child for a segment not yet present.
    fn insert(&mut self, segment: &str, child: u32) {
        match self {
            Children::Few(list) if list.len() < Children::FEW => {
                // Room for exactly one more: most nodes get one child, and a first push
                // would make room for four.
                list.reserve_exact(1);
                list.push((segment.into(), child));
            }
            Children::Few(list) => {
                let mut map: FastMap<Box<str>, u32> = std::mem::take(list).into_iter().collect();
                map.insert(segment.into(), child);
                *self = Children::Many(Box::new(map));
            }
            Children::Many(map) => {
                map.insert(segment.into(), child);
            }
        }
    }
}

impl Default for SegmentTrie {
    fn default() -> SegmentTrie {
        SegmentTrie {
            nodes: vec![SegmentNode::default()],
            len: 0,
        }
    }
}

impl SegmentTrie {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Drops the room left from the node list's growth, and the globs' trees'. Cost: O(nodes).
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        for node in &mut self.nodes {
            if let Some(globs) = &mut node.globs {
                globs.shrink_to_fit();
            }
        }
    }

    /// Inserts a segment-wildcard pattern (`*` kept when it is a glob). Cost: O(pattern length).
    pub fn insert(&mut self, pattern: &str, rule: RuleId) {
        let (body, glob) = match pattern.strip_suffix('*') {
            Some(body) => (body, true),
            None => (pattern, false),
        };
        let mut parts: Vec<&str> = body.split('/').collect();
        let last = if glob { parts.pop() } else { None };
        let mut node = 0usize;
        for part in parts {
            node = self.child_or_insert(node, part);
        }
        match last {
            Some(prefix) => self.nodes[node]
                .globs
                .get_or_insert_with(Default::default)
                .insert(prefix.as_bytes(), rule),
            None => self.nodes[node].ends = Some(rule),
        }
        self.len += 1;
    }

    fn child_or_insert(&mut self, node: usize, part: &str) -> usize {
        let existing = if part == "+" {
            self.nodes[node].plus
        } else {
            self.nodes[node].literal.get(part)
        };
        if let Some(child) = existing {
            return child as usize;
        }
        self.nodes.push(SegmentNode::default());
        let child = (self.nodes.len() - 1) as u32;
        if part == "+" {
            self.nodes[node].plus = Some(child);
        } else {
            self.nodes[node].literal.insert(part, child);
        }
        child as usize
    }

    /// Calls `found(rule)` for every pattern matching `path`, split at its `/`s as
    /// [`SegmentTrie::for_each_match`] takes it, without splitting it into a list: the walk
    /// keeps the offset of the next segment. Cost: that of `for_each_match`.
    pub fn for_each_match_path(&self, path: &str, mut found: impl FnMut(RuleId)) {
        // (node, offset of the segment to match); an offset past the end: every part used.
        let mut stack: Vec<(usize, usize)> = Vec::with_capacity(8);
        stack.push((0, 0));
        while let Some((node, offset)) = stack.pop() {
            let here = &self.nodes[node];
            if offset > path.len() {
                if let Some(rule) = here.ends {
                    found(rule);
                }
                continue;
            }
            let rest = &path[offset..];
            let part = rest.find('/').map_or(rest, |end| &rest[..end]);
            let next = offset + part.len() + 1;
            if let Some(globs) = &here.globs {
                globs.for_each_prefix_of(part.as_bytes(), |_, rule| found(rule));
            }
            if let Some(child) = here.literal.get(part) {
                stack.push((child as usize, next));
            }
            if let Some(child) = here.plus {
                stack.push((child as usize, next));
            }
        }
    }

    /// Calls `found(rule)` for every pattern matching the path given as its `/`-separated parts.
    /// Cost: O(parts × branching) node visits (branching ≤ 2 per level), plus a glob walk of
    /// O(segment length) at each visited node that holds globs. The reference for
    /// [`SegmentTrie::for_each_match_path`] in the tests.
    #[cfg(test)]
    pub fn for_each_match(&self, parts: &[&str], mut found: impl FnMut(RuleId)) {
        let mut stack = vec![(0usize, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            let here = &self.nodes[node];
            if depth == parts.len() {
                if let Some(rule) = here.ends {
                    found(rule);
                }
                continue;
            }
            let part = parts[depth];
            if let Some(globs) = &here.globs {
                globs.for_each_prefix_of(part.as_bytes(), |_, rule| found(rule));
            }
            if let Some(child) = here.literal.get(part) {
                stack.push((child as usize, depth + 1));
            }
            if let Some(child) = here.plus {
                stack.push((child as usize, depth + 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact index answers as a map of keys does, through growth (many keys), with a key
    /// put twice (the later id wins) and for keys it does not hold.
    #[test]
    fn exact_index_agrees_with_a_map() {
        let mut keys: Vec<String> = (0..3000).map(|i| format!("secret/data/k{i}")).collect();
        keys.push(String::new());
        keys.push("secret/data/k7".into());
        let mut index = ExactIndex::with_capacity(4);
        let mut map: std::collections::HashMap<&str, RuleId> = Default::default();
        for (id, key) in keys.iter().enumerate() {
            let id = id as RuleId;
            index.insert(key, id, |other| keys[other as usize].as_str());
            map.insert(key, id);
        }
        for key in
            keys.iter()
                .map(String::as_str)
                .chain(["secret/data/k", "x", "secret/data/k30000"])
        {
            let got = index.get(key, |other| keys[other as usize].as_str());
            assert_eq!(got, map.get(key).copied(), "{key:?}");
        }
        assert_eq!(
            index.get("secret/data/k7", |o| keys[o as usize].as_str()),
            Some(3001)
        );
    }

    fn prefixes(tree: &RadixTree, path: &str) -> Vec<(usize, RuleId)> {
        let mut out = Vec::new();
        tree.for_each_prefix_of(path.as_bytes(), |len, rule| out.push((len, rule)));
        out
    }

    proptest::proptest! {
        /// The radix tree answers as a sorted map of its keys does: the keys that are prefixes
        /// of a path (shortest first), the keys under a prefix (in byte order), the longest
        /// prefix; keys put twice keep the later rule. Short keys over a few bytes make edges
        /// split, share bytes and nest.
        #[test]
        fn radix_tree_agrees_with_a_sorted_map(
            keys in proptest::collection::vec("[ab/é]{0,6}", 0..40),
            paths in proptest::collection::vec("[ab/é]{0,8}", 1..10),
        ) {
            let mut tree = RadixTree::default();
            let mut map: std::collections::BTreeMap<Vec<u8>, RuleId> = Default::default();
            for (id, key) in keys.iter().enumerate() {
                tree.insert(key.as_bytes(), id as RuleId);
                map.insert(key.as_bytes().to_vec(), id as RuleId);
            }
            tree.shrink_to_fit();
            for path in &paths {
                let path = path.as_bytes();
                let expected: Vec<(usize, RuleId)> = (0..=path.len())
                    .filter_map(|len| map.get(&path[..len]).map(|&id| (len, id)))
                    .collect();
                let mut got = Vec::new();
                tree.for_each_prefix_of(path, |len, id| got.push((len, id)));
                proptest::prop_assert_eq!(&got, &expected);
                proptest::prop_assert_eq!(tree.longest_prefix_of(path), expected.last().map(|&(_, id)| id));
                let under: Vec<RuleId> = map
                    .iter()
                    .filter(|(key, _)| key.starts_with(path))
                    .map(|(_, &id)| id)
                    .collect();
                let mut got = Vec::new();
                tree.for_each_with_prefix(path, |id| got.push(id));
                proptest::prop_assert_eq!(got, under);
            }
        }
    }

    #[test]
    fn radix_tree_finds_every_prefix_and_splits_edges() {
        let mut tree = RadixTree::default();
        tree.insert(b"secret/foo", 1);
        tree.insert(b"secret/", 2);
        tree.insert(b"secret/fob", 3);
        tree.insert(b"", 4);
        tree.insert(b"sec", 5);
        assert_eq!(
            prefixes(&tree, "secret/foobar"),
            vec![(0, 4), (3, 5), (7, 2), (10, 1)]
        );
        assert_eq!(tree.longest_prefix_of(b"secret/fo"), Some(2));
        assert_eq!(tree.longest_prefix_of(b"se"), Some(4));
        let mut under = Vec::new();
        tree.for_each_with_prefix(b"secret/f", |rule| under.push(rule));
        assert_eq!(under, vec![3, 1]);
        let mut under_mid_edge = Vec::new();
        tree.for_each_with_prefix(b"se", |rule| under_mid_edge.push(rule));
        assert_eq!(under_mid_edge, vec![5, 2, 3, 1]);
    }

    fn matches(trie: &SegmentTrie, path: &str) -> Vec<RuleId> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut out = Vec::new();
        trie.for_each_match(&parts, |rule| out.push(rule));
        let mut by_path = Vec::new();
        trie.for_each_match_path(path, |rule| by_path.push(rule));
        // Same rules in the same order: the walks visit the trie alike.
        assert_eq!(out, by_path, "{path}");
        out.sort_unstable();
        out
    }

    #[test]
    fn segment_trie_finds_every_child_past_the_short_list() {
        let mut trie = SegmentTrie::default();
        for i in 0..20 {
            trie.insert(&format!("kv/team{i}/+"), i);
        }
        for i in 0..20 {
            assert_eq!(matches(&trie, &format!("kv/team{i}/x")), vec![i], "team{i}");
        }
        assert_eq!(matches(&trie, "kv/team20/x"), Vec::<RuleId>::new());
        assert_eq!(matches(&trie, "kv/team1"), Vec::<RuleId>::new());
    }

    #[test]
    fn segment_trie_follows_part_matching_of_spec_3_4() {
        let mut trie = SegmentTrie::default();
        trie.insert("foo/+", 1);
        trie.insert("foo/+/", 2);
        trie.insert("test/+/wildcard/+/*", 3);
        trie.insert("foo/bar/+/b*", 4);
        trie.insert("a/+b", 5);
        assert_eq!(matches(&trie, "foo/bar"), vec![1]);
        assert_eq!(matches(&trie, "foo/"), vec![1]);
        assert_eq!(matches(&trie, "foo/bar/"), vec![2]);
        assert_eq!(matches(&trie, "test/a/wildcard/b"), Vec::<RuleId>::new());
        assert_eq!(matches(&trie, "test/a/wildcard/b/"), vec![3]);
        assert_eq!(matches(&trie, "test/a/wildcard/b/c/"), vec![3]);
        assert_eq!(matches(&trie, "test/a/wildcard"), Vec::<RuleId>::new());
        assert_eq!(matches(&trie, "foo/bar/x/baz"), vec![4]);
        assert_eq!(matches(&trie, "foo/bar/x/az"), Vec::<RuleId>::new());
        assert_eq!(matches(&trie, "a/+b"), vec![5]);
        assert_eq!(matches(&trie, "a/xb"), Vec::<RuleId>::new());
    }
}
