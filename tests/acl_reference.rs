//! The fast ACL (hash map, radix tree, segment trie) against a plain reference evaluator written
//! straight from the spec text (sections 2, 3.3, 3.4, 3.6, 3.8): a linear scan over every rule,
//! every candidate computed and ranked. Random policy sets over a small alphabet, so that
//! patterns collide and match often; both targets.

use std::sync::Arc;

use capable::acl::{builtin, Acl, Operation, Request};
use capable::policy::{CapSet, Capability, PathPattern, PatternKind, Policy, Rule};
use capable::source::SourceFile;
use capable::span::{Span, Spanned};
use capable::target::Target;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Building policies
// ---------------------------------------------------------------------------------------------

fn rule(raw: &str, capabilities: CapSet) -> Rule {
    let pattern = PathPattern::parse(raw).expect("generated patterns are valid");
    Rule {
        capability_list: capabilities
            .iter()
            .map(|c| Spanned::new(c, Span::default()))
            .collect(),
        ..Rule::bare(raw, Some(pattern), capabilities)
    }
}

fn policy(name: String, rules: Vec<Rule>) -> Policy {
    Policy {
        source: Arc::new(SourceFile::new(format!("{name}.hcl"), "")),
        name,
        declared_name: None,
        rules,
        templated: false,
        namespace: String::new(),
        template_flags: Default::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// The reference evaluator
// ---------------------------------------------------------------------------------------------

/// One merged entry: the pattern and its bitmap.
#[derive(Clone, Debug)]
struct Entry {
    pattern: PathPattern,
    capabilities: CapSet,
}

struct Reference {
    target: Target,
    entries: Vec<Entry>,
}

impl Reference {
    /// Spec 2: entries merge when store and key coincide; deny on either side leaves deny only;
    /// otherwise the bitmaps are united.
    fn new(policies: &[Policy], target: Target) -> Reference {
        let mut entries: Vec<Entry> = Vec::new();
        for rule in policies.iter().flat_map(|p| &p.rules) {
            let pattern = rule.pattern.clone().unwrap();
            let mut capabilities = rule.capabilities;
            if capabilities.contains(Capability::Deny) {
                capabilities = CapSet::only(Capability::Deny);
            }
            let same = entries
                .iter_mut()
                .find(|e| e.pattern.kind == pattern.kind && e.pattern.key == pattern.key);
            match same {
                None => entries.push(Entry {
                    pattern,
                    capabilities,
                }),
                Some(existing) => {
                    if existing.capabilities.contains(Capability::Deny) {
                        continue;
                    }
                    if capabilities.contains(Capability::Deny) {
                        existing.capabilities = CapSet::only(Capability::Deny);
                    } else {
                        existing.capabilities = existing.capabilities.union(capabilities);
                    }
                }
            }
        }
        Reference { target, entries }
    }

    fn exact(&self, path: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.pattern.kind == PatternKind::Exact && e.pattern.key == path)
    }

    /// Spec 3.4: the single longest prefix rule plus every matching segment-wildcard rule,
    /// each with its priority key (firstWCOrGlob, non-prefix, -wildcards, length, bytes).
    fn candidates(&self, path: &str) -> Vec<(usize, RankKey)> {
        let mut out = Vec::new();
        let longest_prefix = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.pattern.kind == PatternKind::Prefix)
            .filter(|(_, e)| path.starts_with(&e.pattern.key))
            .max_by_key(|(_, e)| e.pattern.key.len());
        if let Some((index, entry)) = longest_prefix {
            let key = &entry.pattern.key;
            out.push((index, RankKey::new(key.len(), true, 0, key)));
        }
        for (index, entry) in self.entries.iter().enumerate() {
            if entry.pattern.kind != PatternKind::SegmentWildcard {
                continue;
            }
            if let Some(rank) = wildcard_match(&entry.pattern.normalized, path) {
                out.push((index, rank));
            }
        }
        out
    }

    fn best(candidates: &[(usize, RankKey)]) -> Option<usize> {
        candidates
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1))
            .map(|(index, _)| *index)
    }

    /// Spec 3.3 for both targets.
    fn lookup(&self, path: &str, op: Operation) -> Option<usize> {
        let listing = match self.target {
            Target::OpenBao => matches!(op, Operation::List | Operation::Scan),
            Target::Vault => op == Operation::List,
        };
        if let Some(index) = self.exact(path) {
            return Some(index);
        }
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        if listing {
            if let Some(index) = self.exact(trimmed) {
                return Some(index);
            }
        }
        let trailing = path.ends_with('/');
        match self.target {
            Target::OpenBao => {
                let full = self.candidates(path);
                if !full.is_empty() {
                    return Reference::best(&full);
                }
                if listing && trailing {
                    return Reference::best(&self.candidates(trimmed));
                }
                None
            }
            Target::Vault if listing && trailing => {
                let mut pool = self.candidates(trimmed);
                pool.extend(self.candidates(path));
                let with = |capability| -> Vec<(usize, RankKey)> {
                    pool.iter()
                        .filter(|(i, _)| self.entries[*i].capabilities.contains(capability))
                        .cloned()
                        .collect()
                };
                let deny = with(Capability::Deny);
                let list = with(Capability::List);
                let best_deny = deny.iter().max_by(|a, b| a.1.cmp(&b.1));
                let best_list = list.iter().max_by(|a, b| a.1.cmp(&b.1));
                match (best_deny, best_list) {
                    (Some(d), None) => Some(d.0),
                    (Some(d), Some(l)) if l.1 < d.1 => Some(d.0),
                    (_, Some(l)) => Some(l.0),
                    (None, None) => Reference::best(&pool),
                }
            }
            Target::Vault => Reference::best(&self.candidates(path)),
        }
    }

    fn bitmap(&self, path: &str, op: Operation) -> CapSet {
        let path = path.trim_start_matches('/');
        self.lookup(path, op)
            .map_or(CapSet::EMPTY, |i| self.entries[i].capabilities)
    }

    /// Spec 3.8.
    fn capabilities(&self, path: &str) -> Vec<&'static str> {
        let bitmap = self.bitmap(path, Operation::List);
        if bitmap.contains(Capability::Deny) || bitmap.is_empty() {
            return vec!["deny"];
        }
        let mut names: Vec<&'static str> = bitmap.iter().map(Capability::name).collect();
        names.sort();
        names
    }

    /// Spec 3.2, 3.6 and 6 (no parameters, no wrapping in the generated rules).
    fn allowed(&self, path: &str, op: Operation) -> bool {
        let Some(needed) = op.capability() else {
            return true;
        };
        let bitmap = self.bitmap(path, op);
        if bitmap.contains(Capability::Deny) || !bitmap.contains(needed) {
            return false;
        }
        let stripped = path.trim_start_matches('/');
        let sudo_needed = stripped == "sys/seal"
            || stripped == "sys/step-down"
            || builtin::requires_sudo(self.target, stripped);
        !sudo_needed || bitmap.contains(Capability::Sudo)
    }
}

/// The priority of spec 3.4 as a sort key: larger ranks higher.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RankKey {
    first_wildcard_or_glob: usize,
    not_prefix: bool,
    fewer_plus: std::cmp::Reverse<usize>,
    length: usize,
    bytes: Vec<u8>,
}

impl RankKey {
    fn new(first: usize, is_prefix: bool, plus: usize, wc_path: &str) -> RankKey {
        RankKey {
            first_wildcard_or_glob: first,
            not_prefix: !is_prefix,
            fewer_plus: std::cmp::Reverse(plus),
            length: wc_path.len(),
            bytes: wc_path.as_bytes().to_vec(),
        }
    }
}

/// Spec 3.4 steps 1-6, literally.
fn wildcard_match(pattern: &str, path: &str) -> Option<RankKey> {
    let (wc_path, is_prefix) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let pattern_parts: Vec<&str> = wc_path.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    if path_parts.len() < pattern_parts.len() {
        return None;
    }
    if !is_prefix && path_parts.len() != pattern_parts.len() {
        return None;
    }
    let mut wildcards = 0;
    for (i, part) in pattern_parts.iter().enumerate() {
        let is_last = i == pattern_parts.len() - 1;
        let glob_match = is_prefix && is_last && path_parts[i].starts_with(part);
        if *part == "+" {
            wildcards += 1;
        } else if *part != path_parts[i] && !glob_match {
            return None;
        }
    }
    let first = pattern.find('+').unwrap_or(pattern.len());
    Some(RankKey::new(first, is_prefix, wildcards, wc_path))
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const SEGMENTS: [&str; 6] = ["a", "b", "ab", "sys", "auth", ""];

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(&SEGMENTS[..]).prop_map(str::to_string),
        2 => Just("+".to_string()),
        1 => Just("a*b".to_string()),
        1 => Just("seal".to_string()),
    ]
}

/// Exact, prefix, `+`, glob, `*` mid-path and trailing-slash patterns; `+*` is filtered out
/// (the parser refuses it).
fn pattern() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::collection::vec(segment(), 1..4),
        0..4u8,
        proptest::option::of(proptest::sample::select(&["a", "b", ""][..])),
    )
        .prop_map(|(leading_slash, parts, ending, glob_head)| {
            let mut text = parts.join("/");
            match ending {
                1 => text.push('/'),
                2 => text.push('*'),
                3 => {
                    text.push('/');
                    text.push_str(glob_head.unwrap_or(""));
                    text.push('*');
                }
                _ => {}
            }
            if leading_slash {
                text.insert(0, '/');
            }
            text
        })
        .prop_filter("`+*` is refused by the parser", |text| {
            PathPattern::parse(text).is_ok()
        })
}

fn capability_set(target: Target) -> impl Strategy<Value = CapSet> {
    let mut pool = vec![
        Capability::Read,
        Capability::List,
        Capability::Update,
        Capability::Create,
        Capability::Delete,
        Capability::Sudo,
        Capability::Patch,
    ];
    if target == Target::OpenBao {
        pool.push(Capability::Scan);
    }
    prop_oneof![
        1 => Just(CapSet::EMPTY),
        1 => Just(CapSet::only(Capability::Deny)),
        6 => proptest::sample::subsequence(pool, 1..4).prop_map(|caps| CapSet::of(&caps)),
    ]
}

fn policies(target: Target) -> impl Strategy<Value = Vec<Policy>> {
    let one_rule = (pattern(), capability_set(target)).prop_map(|(raw, caps)| rule(&raw, caps));
    proptest::collection::vec(proptest::collection::vec(one_rule, 1..7), 1..4).prop_map(|sets| {
        sets.into_iter()
            .enumerate()
            .map(|(i, rules)| policy(format!("p{i}"), rules))
            .collect()
    })
}

fn request_path() -> impl Strategy<Value = String> {
    (
        0..3u8,
        proptest::collection::vec(
            proptest::sample::select(
                &["a", "b", "ab", "abb", "a*b", "+", "sys", "auth", "seal", ""][..],
            ),
            0..5,
        ),
        any::<bool>(),
    )
        .prop_map(|(slashes, parts, trailing)| {
            let mut text = "/".repeat(slashes.saturating_sub(1) as usize);
            text.push_str(&parts.join("/"));
            if trailing {
                text.push('/');
            }
            text
        })
}

const OPERATIONS: [Operation; 9] = [
    Operation::Read,
    Operation::List,
    Operation::Scan,
    Operation::Update,
    Operation::Create,
    Operation::Delete,
    Operation::Patch,
    Operation::Help,
    Operation::Recover,
];

fn case(target: Target) -> impl Strategy<Value = (Vec<Policy>, Vec<String>)> {
    (
        policies(target),
        proptest::collection::vec(request_path(), 1..12),
    )
}

fn check(target: Target, policies: &[Policy], paths: &[String]) -> Result<(), TestCaseError> {
    let refs: Vec<&Policy> = policies.iter().collect();
    let fast = Acl::new(&refs, target, None).expect("no root policy generated");
    let reference = Reference::new(policies, target);
    for path in paths {
        let (names, explanation) = fast.capabilities(path);
        prop_assert_eq!(
            &names,
            &reference.capabilities(path),
            "capabilities of {:?}",
            path
        );
        let expected_winner = reference
            .lookup(path.trim_start_matches('/'), Operation::List)
            .map(|i| reference.entries[i].pattern.normalized.clone());
        let winner = explanation.winner.map(|w| w.pattern.normalized);
        prop_assert_eq!(winner, expected_winner, "winner for {:?}", path);
        for op in OPERATIONS {
            let mut request = Request::new(op, path.clone());
            if op.is_listing() && !path.ends_with('/') {
                // The HTTP layer always appends the slash for list and scan.
                request.path.push('/');
            }
            let decision = fast.authorize(&request);
            prop_assert_eq!(
                decision.allowed,
                reference.allowed(&request.path, op),
                "{} {:?}",
                op,
                &request.path
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn fast_acl_equals_reference_on_openbao((policies, paths) in case(Target::OpenBao)) {
        check(Target::OpenBao, &policies, &paths)?;
    }

    #[test]
    fn fast_acl_equals_reference_on_vault((policies, paths) in case(Target::Vault)) {
        check(Target::Vault, &policies, &paths)?;
    }
}

/// The reference agrees with the spec's observable target difference (spec 3.3), so that a
/// reference bug cannot hide behind agreement with an identical fast-ACL bug.
#[test]
fn reference_knows_the_list_difference() {
    let rules = vec![
        rule("secret/+", CapSet::only(Capability::List)),
        rule("secret/*", CapSet::only(Capability::Read)),
    ];
    let set = vec![policy("p".into(), rules)];
    let bao = Reference::new(&set, Target::OpenBao);
    let vault = Reference::new(&set, Target::Vault);
    assert!(!bao.allowed("secret/foo/", Operation::List));
    assert!(vault.allowed("secret/foo/", Operation::List));
    assert_eq!(bao.capabilities("secret/foo"), ["list"]);
}

/// End to end from policy text: the `aclPolicy` examples of spec 3.8 (old-style `policy =`
/// values, duplicate blocks) through the parser, then a templated rule resolved from an identity.
#[test]
fn parsed_policy_text_end_to_end() {
    let text = r#"
name = "DeV"
path "dev/*" { policy = "sudo" }
path "stage/*" { policy = "write" }
path "stage/aws/*" {
  policy = "read"
  capabilities = ["update", "sudo"]
}
path "stage/aws/policy/*" { policy = "sudo" }
path "prod/*" { policy = "read" }
path "prod/aws/*" { policy = "deny" }
path "sys/*" { policy = "deny" }
path "foo/bar" { capabilities = ["read", "create", "sudo"] }
path "foo/bar" { capabilities = ["list"] }
path "users/{{identity.entity.name}}/*" { capabilities = ["read"] }
"#;
    for target in [Target::Vault, Target::OpenBao] {
        let source = Arc::new(SourceFile::new("acl.hcl", text));
        let parsed = capable::policy::parse_policy(source, target);
        let policy = parsed.policy.expect("the aclPolicy text is valid");
        let alice = capable::acl::Identity {
            entity_id: "e-1".into(),
            entity_name: "alice".into(),
            ..Default::default()
        };
        let acl = Acl::new(&[&policy], target, Some(&alice)).unwrap();
        let caps = |path: &str| acl.capabilities(path).0;
        assert_eq!(caps("dev"), ["deny"]);
        assert_eq!(
            caps("dev/"),
            ["create", "delete", "list", "read", "sudo", "update"]
        );
        assert_eq!(caps("stage/aws/test"), ["list", "read", "sudo", "update"]);
        assert_eq!(caps("foo/bar"), ["create", "list", "read", "sudo"]);
        assert_eq!(caps("prod/aws/x"), ["deny"]);
        assert_eq!(caps("users/alice/x"), ["read"]);
        assert_eq!(caps("users/bob/x"), ["deny"]);
        let winner = acl.capabilities("foo/bar").1.winner.expect("winner");
        assert_eq!(winner.sources.len(), 2);
        assert_eq!(
            &text[winner.sources[1].pattern_span.start..winner.sources[1].pattern_span.end],
            "\"foo/bar\""
        );
    }
}
