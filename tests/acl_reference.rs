//! The fast ACL (hash map, radix tree, segment trie) against a plain reference evaluator written
//! straight from the spec text (sections 2, 3.3, 3.4, 3.6, 3.8): a linear scan over every rule,
//! every candidate computed and ranked. Random policy sets over a small alphabet, so that
//! patterns collide and match often; both targets.

use std::sync::Arc;

use capable::acl::reference::{disagreement, Reference};
use capable::acl::{Acl, Operation};
use capable::policy::{CapSet, Capability, PathPattern, Policy, Rule};
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
        if let Some(disagreement) = disagreement(&fast, &reference, path) {
            return Err(TestCaseError::fail(disagreement));
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
