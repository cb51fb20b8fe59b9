//! Unit tests of the ACL against the spec's examples (sections 2, 3.3-3.8, 6).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::policy::{
    CapSet, Capability, ParamEntry, ParamMap, ParamValue, PathPattern, Policy, Rule,
};
use crate::source::SourceFile;
use crate::span::{Span, Spanned};
use crate::target::Target;

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

fn caps(names: &[&str]) -> CapSet {
    names.iter().fold(CapSet::EMPTY, |set, name| {
        let capability = Capability::ALL
            .into_iter()
            .find(|c| c.name() == *name)
            .unwrap_or_else(|| panic!("capability {name}"));
        set.with(capability)
    })
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Span::default())
}

fn rule(pattern: &str, capabilities: &[&str]) -> Rule {
    let templated = pattern.contains("{{");
    let set = caps(capabilities);
    let parsed = (!templated).then(|| PathPattern::parse(pattern).expect("valid pattern"));
    Rule {
        template_vars: if templated {
            vec![spanned("template".to_string())]
        } else {
            Vec::new()
        },
        capability_list: set.iter().map(spanned).collect(),
        ..Rule::bare(pattern, parsed, set)
    }
}

fn params(entries: &[(&str, Vec<ParamValue>)]) -> Option<ParamMap> {
    Some(
        entries
            .iter()
            .map(|(key, values)| {
                let entry = ParamEntry {
                    span: Span::default(),
                    values: values.iter().cloned().map(spanned).collect(),
                };
                (key.to_string(), entry)
            })
            .collect(),
    )
}

fn s(text: &str) -> ParamValue {
    ParamValue::Str(text.to_string())
}

fn policy(name: &str, rules: Vec<Rule>) -> Policy {
    Policy {
        name: name.to_string(),
        source: Arc::new(SourceFile::new(format!("{name}.hcl"), "")),
        declared_name: None,
        templated: rules.iter().any(Rule::is_templated),
        rules,
        namespace: String::new(),
        template_flags: Default::default(),
    }
}

fn acl_of(target: Target, policies: &[Policy]) -> Acl {
    let refs: Vec<&Policy> = policies.iter().collect();
    Acl::new(&refs, target, None).expect("acl")
}

fn acl(target: Target, rules: Vec<Rule>) -> Acl {
    acl_of(target, &[policy("p", rules)])
}

fn caps_of(acl: &Acl, path: &str) -> Vec<&'static str> {
    acl.capabilities(path).0
}

fn request(operation: Operation, path: &str) -> Request {
    Request::new(operation, path)
}

fn with_data(operation: Operation, path: &str, data: serde_json::Value) -> Request {
    let mut request = Request::new(operation, path);
    request.data = data.as_object().expect("object").clone();
    request
}

fn allowed(acl: &Acl, request: &Request) -> bool {
    let decision = acl.authorize(request);
    assert_eq!(decision.allowed, acl.is_allowed(request), "{request:?}");
    decision.allowed
}

fn values(map: &Option<ParamMap>, key: &str) -> Vec<ParamValue> {
    map.as_ref().expect("map")[key]
        .values
        .iter()
        .map(|v| v.value.clone())
        .collect()
}

const BOTH: [Target; 2] = [Target::Vault, Target::OpenBao];

// ---------------------------------------------------------------------------------------------
// Section 2: merging
// ---------------------------------------------------------------------------------------------

#[test]
fn merge_allow_all_keeps_existing_keys() {
    let mut first = rule("foo/bar", &["update"]);
    first.extra_mut().allowed_parameters = params(&[("test", vec![]), ("test1", vec![s("foo")])]);
    let mut second = rule("foo/bar", &["update"]);
    second.extra_mut().allowed_parameters = params(&[("*", vec![])]);
    let acl = acl(Target::Vault, vec![first, second]);
    let merged = acl.exact_rule("foo/bar").unwrap();
    let keys: Vec<&String> = merged
        .extra()
        .allowed_parameters
        .as_ref()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["*", "test", "test1"]);
    assert_eq!(
        values(&merged.extra().allowed_parameters, "test1"),
        vec![s("foo")]
    );
    assert!(values(&merged.extra().allowed_parameters, "*").is_empty());
}

#[test]
fn merge_values_puts_the_newer_first() {
    let ints = |a: i64, b: i64| vec![ParamValue::Int(a), ParamValue::Int(b)];
    let mut first = rule("foo/bar", &["update"]);
    first.extra_mut().allowed_parameters = params(&[("zip", ints(1, 2))]);
    first.extra_mut().denied_parameters = params(&[("zap", ints(1, 2))]);
    let mut second = rule("foo/bar", &["update"]);
    second.extra_mut().allowed_parameters = params(&[("zip", ints(3, 4))]);
    second.extra_mut().denied_parameters = params(&[("zap", ints(3, 4))]);
    let acl = acl(Target::Vault, vec![first, second]);
    let merged = acl.exact_rule("foo/bar").unwrap();
    let expected: Vec<ParamValue> = [3, 4, 1, 2].map(ParamValue::Int).to_vec();
    assert_eq!(values(&merged.extra().allowed_parameters, "zip"), expected);
    assert_eq!(values(&merged.extra().denied_parameters, "zap"), expected);
}

#[test]
fn merge_empty_value_list_wins_in_either_order() {
    for empty_first in [true, false] {
        let mut a = rule("foo/bar", &["update"]);
        a.extra_mut().allowed_parameters = params(&[("zip", vec![])]);
        let mut b = rule("foo/bar", &["update"]);
        b.extra_mut().allowed_parameters = params(&[("zip", vec![s("x")])]);
        let rules = if empty_first { vec![a, b] } else { vec![b, a] };
        let acl = acl(Target::Vault, rules);
        let merged = acl.exact_rule("foo/bar").unwrap();
        assert!(values(&merged.extra().allowed_parameters, "zip").is_empty());
    }
}

/// Spec 2: a rule with no allowed_parameters merged with one that has some is restricted.
#[test]
fn merge_narrows_parameters() {
    let open = rule("kv/x", &["update"]);
    let mut narrow = rule("kv/x", &["create"]);
    narrow.extra_mut().allowed_parameters = params(&[("a", vec![])]);
    let acl = acl(Target::OpenBao, vec![open, narrow]);
    let req = with_data(Operation::Update, "kv/x", json!({"b": "1"}));
    assert!(!allowed(&acl, &req));
    let req = with_data(Operation::Update, "kv/x", json!({"a": "1"}));
    assert!(allowed(&acl, &req));
}

#[test]
fn merge_deny_wins_and_resets_parameters() {
    for deny_first in [true, false] {
        let mut grant = rule("a/b", &["read", "update"]);
        grant.extra_mut().allowed_parameters = params(&[("x", vec![])]);
        let deny = rule("a/b", &["deny"]);
        let rules = if deny_first {
            vec![deny, grant]
        } else {
            vec![grant, deny]
        };
        let acl = acl(Target::Vault, rules);
        let merged = acl.exact_rule("a/b").unwrap();
        assert_eq!(merged.capabilities, CapSet::only(Capability::Deny));
        assert_eq!(merged.sources.len(), 2);
        if !deny_first {
            assert!(merged.extra().allowed_parameters.is_none());
        }
        assert_eq!(caps_of(&acl, "a/b"), ["deny"]);
    }
}

#[test]
fn merge_capabilities_union_with_granting_policies() {
    let one = policy("one", vec![rule("a/*", &["read"])]);
    let two = policy("two", vec![rule("a/*", &["read", "list"])]);
    let acl = acl_of(Target::Vault, &[one, two]);
    let merged = acl.rules()[0];
    assert_eq!(merged.capabilities, caps(&["read", "list"]));
    assert_eq!(
        merged.granting_policies(),
        vec![
            (Capability::Read, vec!["one".to_string(), "two".to_string()]),
            (Capability::List, vec!["two".to_string()]),
        ]
    );
    assert_eq!(caps_of(&acl, "a/x"), ["list", "read"]);
}

/// Spec 2 step 3: a deny replaces what the entry granted, and blocks merged after it are
/// ignored; the granting map, derived from the sources, names the policy that denied only.
#[test]
fn granting_policies_after_a_deny_name_the_denier_only() {
    let one = policy("one", vec![rule("a/*", &["read"])]);
    let two = policy("two", vec![rule("a/*", &["deny"])]);
    let three = policy("three", vec![rule("a/*", &["list"])]);
    let acl = acl_of(Target::Vault, &[one, two, three]);
    let merged = acl.rules()[0];
    assert_eq!(merged.sources.len(), 3);
    assert_eq!(
        merged.granting_policies(),
        vec![(Capability::Deny, vec!["two".to_string()])]
    );
    // A policy granting twice is named once; capabilities come in capability order.
    let again = policy(
        "one",
        vec![rule("b", &["update", "read"]), rule("b", &["read"])],
    );
    let acl = acl_of(Target::Vault, &[again]);
    assert_eq!(
        acl.rules()[0].granting_policies(),
        vec![
            (Capability::Read, vec!["one".to_string()]),
            (Capability::Update, vec!["one".to_string()]),
        ]
    );
}

/// The per-block structures stay small: a 100 MB policy has 1.5 million blocks, so each
/// byte here is 1.5 MB of peak memory for `check`, `caps` and `reach`.
#[test]
fn per_block_structures_stay_small() {
    assert!(std::mem::size_of::<Rule>() <= 176);
    // 48 bytes and the one source inline (`Sources`): no 88-byte allocation per entry.
    assert!(
        std::mem::size_of::<MergedRule>() <= 136,
        "{}",
        std::mem::size_of::<MergedRule>()
    );
    assert_eq!(
        std::mem::size_of::<super::Sources>(),
        std::mem::size_of::<super::types::RuleSource>()
    );
    assert!(std::mem::size_of::<PathPattern>() <= 32);
    assert!(std::mem::size_of::<super::types::RuleSource>() <= 88);
}

/// Each key other than `capabilities`, set alone in a block, is kept: in the rule's extra
/// box and in the merged entry's (`RuleExtra::is_empty` and `MergedExtra::is_empty` decide
/// whether a box is kept; a key they missed would be dropped silently).
#[test]
fn every_other_key_set_alone_keeps_its_box() {
    let keys = [
        (Target::Vault, "policy = \"read\"", false),
        (Target::Vault, "allowed_parameters = { \"a\" = [] }", true),
        (Target::Vault, "denied_parameters = { \"a\" = [] }", true),
        (Target::Vault, "required_parameters = [\"a\"]", true),
        (Target::Vault, "min_wrapping_ttl = \"1m\"", true),
        (Target::Vault, "max_wrapping_ttl = \"1h\"", true),
        (Target::Vault, "mfa_methods = [\"m\"]", true),
        (
            Target::Vault,
            "control_group = { factor \"f\" { identity { group_names = [\"g\"] approvals = 1 } } }",
            true,
        ),
        (Target::Vault, "subscribe_event_types = [\"kv*\"]", true),
        (Target::OpenBao, "pagination_limit = 5", true),
        (
            Target::OpenBao,
            "expiration = \"2999-01-01T00:00:00Z\"",
            false,
        ),
        (
            Target::OpenBao,
            "list_scan_response_keys_filter_path = \"{{ .key }}\"",
            true,
        ),
    ];
    for (target, key, merged) in keys {
        let capabilities = if key.starts_with("policy") {
            String::new()
        } else {
            "capabilities = [\"read\", \"list\"]\n".to_string()
        };
        let text = format!("path \"a/*\" {{\n{capabilities}{key}\n}}\n");
        let file = Arc::new(SourceFile::new("p.hcl", &text));
        let parsed = crate::policy::parse_policy(file, target);
        let policy = parsed
            .policy
            .unwrap_or_else(|| panic!("{key}: {:?}", parsed.diagnostics));
        assert!(policy.rules[0].extra.is_some(), "{key}: rule lost it");
        if merged {
            let acl = Acl::new(&[&policy], target, None).unwrap();
            assert!(acl.rules()[0].extra.is_some(), "{key}: ACL entry lost it");
        }
    }
    assert!(crate::policy::RuleExtra::default().is_empty() && MergedExtra::default().is_empty());
}

#[test]
fn merge_wrapping_ttls_take_smallest_non_zero() {
    let mut a = rule("w", &["read"]);
    a.extra_mut().min_wrapping_ttl = Some(spanned(300));
    a.extra_mut().max_wrapping_ttl = Some(spanned(3600));
    let mut b = rule("w", &["read"]);
    b.extra_mut().min_wrapping_ttl = Some(spanned(100));
    let mut c = rule("w", &["read"]);
    c.extra_mut().max_wrapping_ttl = Some(spanned(600));
    let acl = acl(Target::Vault, vec![a, b, c]);
    let merged = acl.exact_rule("w").unwrap();
    assert_eq!(
        (
            merged.extra().min_wrapping_ttl,
            merged.extra().max_wrapping_ttl
        ),
        (100, 600)
    );
}

#[test]
fn merge_required_union_and_mfa_sorted() {
    let mut a = rule("m", &["read"]);
    a.extra_mut().required_parameters = vec![spanned("a".into()), spanned("b".into())];
    a.extra_mut().mfa_methods = vec![spanned("m9".into()), spanned("m8".into())];
    let mut b = rule("m", &["read"]);
    b.extra_mut().required_parameters = vec![spanned("b".into()), spanned("c".into())];
    b.extra_mut().mfa_methods = vec![
        spanned(" m6 ".into()),
        spanned("m7".into()),
        spanned("m9".into()),
        spanned("".into()),
    ];
    let acl = acl(Target::Vault, vec![a, b]);
    let merged = acl.exact_rule("m").unwrap();
    assert_eq!(merged.extra().required_parameters, ["a", "b", "c"]);
    assert_eq!(merged.extra().mfa_methods, ["m6", "m7", "m8", "m9"]);
}

#[test]
fn merge_bao_pagination_and_filter_path() {
    let mut a = rule("l/*", &["list"]);
    a.extra_mut().pagination_limit = Some(spanned(50));
    let mut b = rule("l/*", &["list"]);
    b.extra_mut().pagination_limit = Some(spanned(20));
    b.extra_mut().list_scan_response_keys_filter_path = Some(spanned("l/{{ .key }}".into()));
    let mut c = rule("l/*", &["list"]);
    c.extra_mut().pagination_limit = Some(spanned(30));
    c.extra_mut().list_scan_response_keys_filter_path = Some(spanned("other/{{ .key }}".into()));
    let acl = acl(Target::OpenBao, vec![a, b, c]);
    let merged = acl.rules()[0];
    assert_eq!(merged.extra().pagination_limit, 20);
    assert_eq!(
        merged
            .extra()
            .list_scan_response_keys_filter_path
            .as_deref(),
        Some("l/{{ .key }}")
    );
}

#[test]
fn merge_only_same_store_and_key() {
    let acl = acl(
        Target::Vault,
        vec![rule("foo/", &["read"]), rule("foo/*", &["list"])],
    );
    assert_eq!(acl.rules().len(), 2);
    assert_eq!(caps_of(&acl, "foo/"), ["read"]);
    assert_eq!(caps_of(&acl, "foo/x"), ["list"]);
}

#[test]
fn expired_rules_are_skipped() {
    let mut gone = rule("a", &["read"]);
    gone.expired = true;
    let acl = acl(Target::OpenBao, vec![gone, rule("b", &["read"])]);
    assert_eq!(caps_of(&acl, "a"), ["deny"]);
    assert_eq!(caps_of(&acl, "b"), ["read"]);
    assert_eq!(acl.skipped_rules().len(), 1);
}

#[test]
fn root_policy_alone_allows_everything() {
    let root = policy("root", vec![]);
    let acl = acl_of(Target::OpenBao, std::slice::from_ref(&root));
    assert!(acl.is_root());
    assert_eq!(caps_of(&acl, "any/path"), ["root"]);
    assert!(allowed(&acl, &request(Operation::Update, "sys/seal")));
    let other = policy("other", vec![rule("a", &["read"])]);
    let refs = [&root, &other];
    assert_eq!(
        Acl::new(&refs, Target::Vault, None).unwrap_err(),
        AclError::RootWithOthers
    );
}

#[test]
fn zero_policies_deny_everything_but_help() {
    let acl = Acl::new(&[], Target::OpenBao, None).unwrap();
    assert_eq!(caps_of(&acl, "a"), ["deny"]);
    assert!(!allowed(&acl, &request(Operation::Read, "a")));
    assert!(allowed(&acl, &request(Operation::Help, "a")));
    assert_eq!(
        acl.capabilities("a").1.deny_reason,
        Some(DenyReason::NoPolicies)
    );
}

// ---------------------------------------------------------------------------------------------
// Section 3.8: capabilities
// ---------------------------------------------------------------------------------------------

/// The `aclPolicy` examples of spec 3.8 (old-style `policy =` values written as capabilities).
#[test]
fn capabilities_of_the_acl_policy_examples() {
    let rules = vec![
        rule(
            "dev/*",
            &["sudo", "read", "list", "update", "delete", "create"],
        ),
        rule("stage/*", &["read", "list", "update", "delete", "create"]),
        rule("stage/aws/*", &["read", "list", "update", "sudo"]),
        rule(
            "stage/aws/policy/*",
            &["sudo", "read", "list", "update", "delete", "create"],
        ),
        rule("prod/*", &["read", "list"]),
        rule("prod/aws/*", &["deny"]),
        rule("sys/*", &["deny"]),
        rule("foo/bar", &["read", "create", "sudo"]),
        rule("foo/bar", &["list"]),
    ];
    for target in BOTH {
        let acl = acl(target, rules.clone());
        assert_eq!(caps_of(&acl, "dev"), ["deny"]);
        assert_eq!(
            caps_of(&acl, "dev/"),
            ["create", "delete", "list", "read", "sudo", "update"]
        );
        assert_eq!(
            caps_of(&acl, "stage/aws/test"),
            ["list", "read", "sudo", "update"]
        );
        assert_eq!(caps_of(&acl, "prod/aws/x"), ["deny"]);
        assert_eq!(caps_of(&acl, "foo/bar"), ["create", "list", "read", "sudo"]);
        assert_eq!(
            caps_of(&acl, "/foo/bar"),
            ["create", "list", "read", "sudo"]
        );
    }
}

#[test]
fn empty_capability_list_reports_deny() {
    let acl = acl(
        Target::OpenBao,
        vec![rule("a/*", &[]), rule("a/b/*", &["read"])],
    );
    assert_eq!(caps_of(&acl, "a/x"), ["deny"]);
    assert_eq!(caps_of(&acl, "a/b/c"), ["read"]);
}

// ---------------------------------------------------------------------------------------------
// Section 3.3: lookup
// ---------------------------------------------------------------------------------------------

/// Spec 3.3: `secret/+`=[list], `secret/*`=[read], LIST `secret/foo/`: OpenBao denies, Vault
/// (VN) allows.
#[test]
fn plus_list_versus_star_read_differs_by_target() {
    let rules = vec![rule("secret/+", &["list"]), rule("secret/*", &["read"])];
    let bao = acl(Target::OpenBao, rules.clone());
    let list = request(Operation::List, "secret/foo/");
    assert!(!allowed(&bao, &list));
    assert_eq!(caps_of(&bao, "secret/foo/"), ["read"]);
    let explanation = bao.authorize(&list).explanation;
    assert_eq!(explanation.step, Some(LookupStep::NonExact));
    assert_eq!(explanation.winner.unwrap().pattern.normalized, "secret/*");
    assert!(explanation
        .losers
        .iter()
        .any(|c| c.rule.pattern.normalized == "secret/+"
            && c.beaten_by == PriorityStep::FullPathFirst));
    let vault = acl(Target::Vault, rules);
    assert!(allowed(&vault, &list));
    assert_eq!(caps_of(&vault, "secret/foo/"), ["list"]);
    assert_eq!(
        vault.authorize(&list).explanation.step,
        Some(LookupStep::ListPool)
    );
    // Read is not a list operation: the full path only, on both targets; on `secret/foo`
    // the non-prefix `secret/+` outranks the prefix `secret/*` (same position).
    for acl in [&bao, &vault] {
        assert!(!allowed(acl, &request(Operation::Read, "secret/foo")));
        assert!(allowed(acl, &request(Operation::List, "secret/foo")));
        assert!(allowed(acl, &request(Operation::Read, "secret/foo/bar")));
        assert!(!allowed(acl, &request(Operation::List, "secret/foo/bar/")));
    }
}

/// Spec 3.3 (`TestACL_ListScanWildcardDeny`): a more specific deny is not bypassed by LIST.
#[test]
fn list_cannot_bypass_a_more_specific_deny() {
    let rules = vec![rule("foo/*", &["list"]), rule("foo/private/*", &["deny"])];
    for target in BOTH {
        let acl = acl(target, rules.clone());
        assert!(
            !allowed(&acl, &request(Operation::List, "foo/private/")),
            "{target}"
        );
        assert!(
            allowed(&acl, &request(Operation::List, "foo/public/")),
            "{target}"
        );
        assert_eq!(caps_of(&acl, "foo/private/"), ["deny"]);
    }
}

/// Spec 3.3, Vault newest pool: the best deny wins over a higher-ranked rule without list.
#[test]
fn vault_list_pool_prefers_deny_over_non_list_rules() {
    let rules = vec![rule("a/+", &["deny"]), rule("a/b/*", &["read"])];
    let vault = acl(Target::Vault, rules.clone());
    assert_eq!(caps_of(&vault, "a/b/"), ["deny"]);
    let explanation = vault.capabilities("a/b/").1;
    assert_eq!(explanation.winner.unwrap().pattern.normalized, "a/+");
    let loser = &explanation.losers[0];
    assert_eq!(
        (loser.rule.pattern.normalized.as_str(), loser.beaten_by),
        ("a/b/*", PriorityStep::ListResolver)
    );
    let bao = acl(Target::OpenBao, rules);
    assert_eq!(caps_of(&bao, "a/b/"), ["read"]);
}

/// Spec 3.3, Vault newest pool: a more specific list-granting rule beats the deny; on a tie of
/// rank (impossible for distinct rules) list would win.
#[test]
fn vault_list_pool_more_specific_list_beats_deny() {
    let rules = vec![rule("foo/*", &["deny"]), rule("foo/bar/*", &["list"])];
    for target in BOTH {
        let acl = acl(target, rules.clone());
        assert!(
            allowed(&acl, &request(Operation::List, "foo/bar/")),
            "{target}"
        );
        assert!(
            !allowed(&acl, &request(Operation::List, "foo/baz/")),
            "{target}"
        );
    }
    // Without any list or deny bit in the pool, the best overall candidate.
    let vault = acl(
        Target::Vault,
        vec![rule("x/+", &["read"]), rule("x/y/*", &["update"])],
    );
    assert_eq!(caps_of(&vault, "x/y/"), ["update"]);
}

#[test]
fn exact_beats_everything_and_exact_trimmed_serves_list() {
    for target in BOTH {
        let acl = acl(
            target,
            vec![
                rule("foo", &["list"]),
                rule("foo/*", &["deny"]),
                rule("+/*", &["read"]),
            ],
        );
        assert!(allowed(&acl, &request(Operation::List, "foo/")), "{target}");
        assert!(
            !allowed(&acl, &request(Operation::Read, "foo/")),
            "{target}"
        );
        let explanation = acl.authorize(&request(Operation::List, "foo/")).explanation;
        assert_eq!(explanation.step, Some(LookupStep::ExactTrimmed));
        assert!(explanation
            .losers
            .iter()
            .all(|c| c.beaten_by == PriorityStep::ExactMatch));
        assert_eq!(explanation.losers.len(), 2);
    }
}

/// Spec 8: scan uses the trimmed fallbacks on OpenBao.
#[test]
fn scan_uses_list_fallbacks_on_openbao() {
    let acl = acl(Target::OpenBao, vec![rule("kv/metadata/a", &["scan"])]);
    assert!(allowed(&acl, &request(Operation::Scan, "kv/metadata/a/")));
    assert!(!allowed(&acl, &request(Operation::List, "kv/metadata/a/")));
}

#[test]
fn sudo_on_a_less_specific_rule_does_not_count() {
    let rules = vec![
        rule("sys/*", &["sudo", "update"]),
        rule("sys/auth/*", &["update"]),
    ];
    for target in BOTH {
        let acl = acl(target, rules.clone());
        let decision = acl.authorize(&request(Operation::Update, "sys/auth/github"));
        assert!(!decision.allowed);
        assert_eq!(
            decision.explanation.deny_reason,
            Some(DenyReason::SudoRequired)
        );
        assert_eq!(decision.explanation.sudo_required, Some(true));
        assert!(allowed(&acl, &request(Operation::Update, "sys/audit/x")));
        assert!(allowed(&acl, &request(Operation::Help, "sys/auth/github")));
    }
}

/// Spec 3.6: `sys/seal` and `sys/step-down` always need sudo.
#[test]
fn seal_and_step_down_need_sudo() {
    let acl = acl(
        Target::OpenBao,
        vec![
            rule("sys/seal", &["update"]),
            rule("sys/step-down", &["update", "sudo"]),
        ],
    );
    assert!(!allowed(&acl, &request(Operation::Update, "sys/seal")));
    assert!(allowed(&acl, &request(Operation::Update, "sys/step-down")));
    assert!(allowed(
        &acl,
        &request(Operation::Update, "//sys/step-down")
    ));
}

// ---------------------------------------------------------------------------------------------
// Section 3.4: candidates and priority
// ---------------------------------------------------------------------------------------------

#[test]
fn prefix_matching_is_by_characters() {
    let acl = acl(
        Target::Vault,
        vec![
            rule("secret/zip-*", &["read"]),
            rule("secret/foo*", &["list"]),
            rule("secret/bar/*", &["update"]),
        ],
    );
    assert_eq!(caps_of(&acl, "secret/zip-zap/zong"), ["read"]);
    assert_eq!(caps_of(&acl, "secret/foobar"), ["list"]);
    assert_eq!(caps_of(&acl, "secret/bar"), ["deny"]);
}

#[test]
fn longest_prefix_only_even_when_it_grants_nothing() {
    let acl = acl(
        Target::OpenBao,
        vec![rule("a/*", &["read"]), rule("a/b/*", &["list"])],
    );
    assert!(!allowed(&acl, &request(Operation::Read, "a/b/c")));
    let explanation = acl
        .authorize(&request(Operation::Read, "a/b/c"))
        .explanation;
    assert_eq!(
        explanation.deny_reason,
        Some(DenyReason::MissingCapability(Capability::Read))
    );
    assert_eq!(explanation.losers.len(), 1);
    assert_eq!(explanation.losers[0].beaten_by, PriorityStep::ShorterPrefix);
}

#[test]
fn priority_examples_decide_requests() {
    let cases: [(&str, &str, &str); 7] = [
        ("*", "+/*", "a/b"),
        ("foo/+/*", "+/*", "foo/x/y"),
        ("foo/+/bar/baz", "foo/+/+/baz", "foo/x/bar/baz"),
        ("a/+/+b/*", "a/+/*", "a/z/+b/q"),
        ("foo/bar/+/baz", "foo/bar/+/baz*", "foo/bar/x/baz"),
        ("foo/bar/+/ba*", "foo/bar/+/b*", "foo/bar/x/baz"),
        ("1/2/+", "1/2/*", "1/2/x"),
    ];
    for target in BOTH {
        for (winner, loser, path) in cases {
            for order in [[winner, loser], [loser, winner]] {
                let rules = order
                    .iter()
                    .map(|p| rule(p, if *p == winner { &["read"] } else { &["update"] }))
                    .collect();
                let acl = acl(target, rules);
                assert_eq!(
                    caps_of(&acl, path),
                    ["read"],
                    "{winner} vs {loser} on {path}"
                );
            }
        }
    }
}

#[test]
fn segment_wildcard_part_matching() {
    let acl = acl(
        Target::Vault,
        vec![
            rule("foo/+", &["read"]),
            rule("foo/+/", &["list"]),
            rule("test/+/wildcard/+/*", &["update"]),
        ],
    );
    assert_eq!(caps_of(&acl, "foo/bar"), ["read"]);
    assert_eq!(caps_of(&acl, "foo/"), ["read"]);
    assert_eq!(caps_of(&acl, "foo/x/"), ["list"]);
    // Spec 3.4 claims `test/+/wildcard/+/*` matches `test/a/wildcard/b`; OpenBao 2.7.2 says
    // deny (the path has fewer parts than the pattern), and so do we.
    assert_eq!(caps_of(&acl, "test/a/wildcard/b"), ["deny"]);
    assert_eq!(caps_of(&acl, "test/a/wildcard/b/"), ["update"]);
    assert_eq!(caps_of(&acl, "test/a/wildcard/b/c/"), ["update"]);
}

// ---------------------------------------------------------------------------------------------
// Section 3.6: wrapping TTLs
// ---------------------------------------------------------------------------------------------

#[test]
fn wrapping_ttl_bounds() {
    let mut wrapped = rule("w", &["read", "list", "delete"]);
    wrapped.extra_mut().min_wrapping_ttl = Some(spanned(60));
    wrapped.extra_mut().max_wrapping_ttl = Some(spanned(300));
    let acl = acl(Target::OpenBao, vec![wrapped]);
    for (ttl, expected) in [
        (None, false),
        (Some(30), false),
        (Some(60), true),
        (Some(300), true),
        (Some(301), false),
    ] {
        for operation in [Operation::Read, Operation::Delete] {
            let mut req = request(operation, "w");
            req.wrap_ttl = ttl;
            assert_eq!(allowed(&acl, &req), expected, "{operation} {ttl:?}");
        }
    }
    // A merged min above the merged max denies everything that would pass the capability check.
    let mut a = rule("c", &["read"]);
    a.extra_mut().max_wrapping_ttl = Some(spanned(100));
    let mut b = rule("c", &["read"]);
    b.extra_mut().min_wrapping_ttl = Some(spanned(200));
    let conflicted = super::Acl::new(&[&policy("x", vec![a, b])], Target::Vault, None).unwrap();
    let mut req = request(Operation::Read, "c");
    req.wrap_ttl = Some(150);
    assert!(!allowed(&conflicted, &req));
}

// ---------------------------------------------------------------------------------------------
// Section 3.7: parameters
// ---------------------------------------------------------------------------------------------

fn param_acl(target: Target, edit: impl FnOnce(&mut Rule)) -> Acl {
    let mut r = rule(
        "kv/p",
        &["read", "create", "update", "patch", "list", "delete"],
    );
    edit(&mut r);
    acl(target, vec![r])
}

#[test]
fn required_parameters_are_lower_cased_and_exact() {
    for target in BOTH {
        let acl = param_acl(target, |r| {
            r.extra_mut().required_parameters = vec![spanned("Foo".into())]
        });
        assert!(!allowed(&acl, &request(Operation::Update, "kv/p")));
        assert!(!allowed(
            &acl,
            &with_data(Operation::Update, "kv/p", json!({"Foo": 1}))
        ));
        assert!(allowed(
            &acl,
            &with_data(Operation::Update, "kv/p", json!({"foo": 1}))
        ));
        // List and delete do not check parameters.
        assert!(allowed(&acl, &request(Operation::Delete, "kv/p")));
    }
}

#[test]
fn denied_parameters() {
    for target in BOTH {
        let star = param_acl(target, |r| {
            r.extra_mut().denied_parameters = params(&[("*", vec![])])
        });
        assert!(allowed(&star, &request(Operation::Update, "kv/p")));
        assert!(!allowed(
            &star,
            &with_data(Operation::Update, "kv/p", json!({"a": 1}))
        ));
        let named = param_acl(target, |r| {
            r.extra_mut().denied_parameters = params(&[("any", vec![]), ("env", vec![s("prod*")])])
        });
        assert!(!allowed(
            &named,
            &with_data(Operation::Update, "kv/p", json!({"ANY": "x"}))
        ));
        assert!(!allowed(
            &named,
            &with_data(Operation::Create, "kv/p", json!({"env": "prod-eu"}))
        ));
        assert!(allowed(
            &named,
            &with_data(Operation::Patch, "kv/p", json!({"env": "dev"}))
        ));
    }
}

#[test]
fn allowed_parameters() {
    for target in BOTH {
        let star_only = param_acl(target, |r| {
            r.extra_mut().allowed_parameters = params(&[("*", vec![])])
        });
        assert!(allowed(
            &star_only,
            &with_data(Operation::Update, "kv/p", json!({"z": 1}))
        ));
        let mixed = param_acl(target, |r| {
            r.extra_mut().allowed_parameters =
                params(&[("*", vec![]), ("ttl", vec![s("1h"), s("2h")])])
        });
        assert!(allowed(
            &mixed,
            &with_data(Operation::Update, "kv/p", json!({"z": 1}))
        ));
        assert!(allowed(
            &mixed,
            &with_data(Operation::Update, "kv/p", json!({"ttl": "2h"}))
        ));
        assert!(!allowed(
            &mixed,
            &with_data(Operation::Update, "kv/p", json!({"ttl": "3h"}))
        ));
        let strict = param_acl(target, |r| {
            r.extra_mut().allowed_parameters = params(&[("n", vec![ParamValue::Int(1)])])
        });
        // A JSON number never equals an HCL integer.
        assert!(!allowed(
            &strict,
            &with_data(Operation::Update, "kv/p", json!({"n": 1}))
        ));
        assert!(!allowed(
            &strict,
            &with_data(Operation::Update, "kv/p", json!({"m": 1}))
        ));
        // Read checks parameters too (query strings are request data).
        assert!(!allowed(
            &strict,
            &with_data(Operation::Read, "kv/p", json!({"m": "1"}))
        ));
        assert!(allowed(&strict, &request(Operation::Read, "kv/p")));
    }
}

/// Spec 3.7, Vault newest (`acl_policy_canonicalization_test.go`): the policy-bearing
/// parameters compare canonical policy names (case-folded, trimmed) on both sides, with `*`
/// inside a pattern; OpenBao compares the raw values (its deny-list is bypassable).
#[test]
fn vault_canonicalises_policy_names() {
    let denied = |target| {
        param_acl(target, |r| {
            r.extra_mut().denied_parameters =
                params(&[("token_policies", vec![s(" Super-Admin ")])])
        })
    };
    for value in [
        json!("super-admin"),
        json!(" Super-Admin\u{a0}"),
        json!(["default", "SUPER-ADMIN\n"]),
    ] {
        let req = with_data(
            Operation::Update,
            "kv/p",
            json!({ "token_policies": value }),
        );
        assert!(!allowed(&denied(Target::Vault), &req), "{value}");
        assert!(allowed(&denied(Target::OpenBao), &req), "{value}");
    }
    let allowed_glob = |target| {
        param_acl(target, |r| {
            r.extra_mut().allowed_parameters =
                params(&[("allowed_policies", vec![s("TEAM.*.LEAD")])])
        })
    };
    let lead = with_data(
        Operation::Update,
        "kv/p",
        json!({"allowed_policies": "team.platform.lead"}),
    );
    assert!(allowed(&allowed_glob(Target::Vault), &lead));
    assert!(!allowed(&allowed_glob(Target::OpenBao), &lead));
    let other = with_data(
        Operation::Update,
        "kv/p",
        json!({"allowed_policies": "team.platform.admin"}),
    );
    assert!(!allowed(&allowed_glob(Target::Vault), &other));
    // Any other parameter keeps the exact, case-sensitive comparison.
    let tags = param_acl(Target::Vault, |r| {
        r.extra_mut().allowed_parameters = params(&[("tags", vec![s("A")])])
    });
    let lower = with_data(Operation::Update, "kv/p", json!({"tags": "a"}));
    assert!(!allowed(&tags, &lower));
}

/// Spec 3.7: Vault ≥ 1.21 matches lists and comma-separated strings element-wise and
/// lower-cases `policies`; OpenBao matches whole values.
#[test]
fn vault_per_element_matching() {
    let denied = |target| {
        param_acl(target, |r| {
            r.extra_mut().denied_parameters = params(&[("policies", vec![s("root")])])
        })
    };
    let req = with_data(
        Operation::Update,
        "kv/p",
        json!({"policies": "default,root"}),
    );
    assert!(!allowed(&denied(Target::Vault), &req));
    assert!(allowed(&denied(Target::OpenBao), &req));
    let upper = with_data(
        Operation::Update,
        "kv/p",
        json!({"policies": ["default", "ROOT"]}),
    );
    assert!(!allowed(&denied(Target::Vault), &upper));
    assert!(allowed(&denied(Target::OpenBao), &upper));

    let allowed_list = |target| {
        param_acl(target, |r| {
            r.extra_mut().allowed_parameters = params(&[("tags", vec![s("a"), s("b*")])])
        })
    };
    let list = with_data(Operation::Update, "kv/p", json!({"tags": ["a", "bee"]}));
    assert!(allowed(&allowed_list(Target::Vault), &list));
    assert!(!allowed(&allowed_list(Target::OpenBao), &list));
    let comma = with_data(Operation::Update, "kv/p", json!({"tags": "a, bx"}));
    assert!(allowed(&allowed_list(Target::Vault), &comma));
    assert!(!allowed(&allowed_list(Target::OpenBao), &comma));
    let one_bad = with_data(Operation::Update, "kv/p", json!({"tags": "a,c"}));
    assert!(!allowed(&allowed_list(Target::Vault), &one_bad));
}

/// Spec 3.9: pagination on OpenBao list/scan.
#[test]
fn bao_pagination_limit() {
    let acl = param_acl(Target::OpenBao, |r| {
        r.extra_mut().pagination_limit = Some(spanned(10))
    });
    let list = |data| with_data(Operation::List, "kv/p/", data);
    assert!(allowed(&acl, &list(json!({}))));
    assert!(allowed(&acl, &list(json!({"limit": "10"}))));
    assert!(allowed(&acl, &list(json!({"limit": "0"}))));
    assert!(allowed(&acl, &list(json!({"limit": "max"}))));
    assert!(!allowed(&acl, &list(json!({"limit": "11"}))));
    assert!(!allowed(&acl, &list(json!({"limit": "-1"}))));
    assert!(!allowed(&acl, &list(json!({"limit": "lots"}))));
    let required = param_acl(Target::OpenBao, |r| {
        r.extra_mut().pagination_limit = Some(spanned(10));
        r.extra_mut().required_parameters = vec![spanned("LIMIT".into())];
    });
    assert!(!allowed(&required, &list(json!({}))));
}

// ---------------------------------------------------------------------------------------------
// Section 1.8: templates
// ---------------------------------------------------------------------------------------------

#[test]
fn templated_rules_resolve_or_are_skipped() {
    let who = Identity {
        entity_id: "e-1".into(),
        entity_name: "alice".into(),
        metadata: BTreeMap::from([("path".to_string(), "a/b".to_string())]),
        ..Identity::default()
    };
    let p = policy(
        "t",
        vec![
            rule("users/{{identity.entity.name}}/*", &["read"]),
            rule("meta/{{identity.entity.metadata.path}}", &["read"]),
        ],
    );
    for target in BOTH {
        let anonymous = Acl::new(&[&p], target, None).unwrap();
        assert_eq!(caps_of(&anonymous, "users/alice/x"), ["deny"]);
        assert_eq!(anonymous.skipped_rules().len(), 2);
    }
    let vault = Acl::new(&[&p], Target::Vault, Some(&who)).unwrap();
    assert_eq!(caps_of(&vault, "users/alice/x"), ["read"]);
    assert_eq!(caps_of(&vault, "meta/a/b"), ["read"]);
    // Asked of OpenBao 2.7.2: a forbidden substituted value fails the whole templated policy,
    // so every request of the token fails; a missing value only skips its rule.
    let error = Acl::new(&[&p], Target::OpenBao, Some(&who)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "error parsing templated policy \"t\": failed to parse policy: path \
         \"meta/{{identity.entity.metadata.path}}\": template substitution contains forbidden \
         value: \"/\""
    );
    let mut options = AclOptions::default();
    options.template_flags.insert(
        "t".into(),
        TemplateFlags {
            allow_slashes: true,
            allow_wildcards: false,
        },
    );
    let flagged = Acl::with_options(&[&p], Target::OpenBao, Some(&who), &options).unwrap();
    assert_eq!(caps_of(&flagged, "meta/a/b"), ["read"]);
}

#[test]
fn default_policy_is_merged_last() {
    let mine = policy("mine", vec![rule("kv/*", &["read"])]);
    for target in BOTH {
        let acl = Acl::with_default(&[&mine], target, None).unwrap();
        assert_eq!(caps_of(&acl, "kv/x"), ["read"]);
        assert_eq!(caps_of(&acl, "auth/token/lookup-self"), ["read"]);
        assert_eq!(caps_of(&acl, "identity/entity/id/"), ["deny"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Section 3.5: mount visibility
// ---------------------------------------------------------------------------------------------

/// `TestACL_SegmentWildcardPriority_BareMount`-style cases (spec 3.5; all true).
#[test]
fn bare_mount_access() {
    let cases = [
        ("+", "foo/"),
        ("+/*", "foo/"),
        ("foo/+/bar/*", "foo/"),
        ("foo/+/bar/*", "foo/bar/"),
        ("foo/+/bar/*", "foo/bar/bar/"),
        ("foo/+/+/*", "foo/bar/bar/"),
    ];
    for target in BOTH {
        for (pattern, mount) in cases {
            let acl = acl(target, vec![rule(pattern, &["read"])]);
            assert!(acl.has_mount_access(mount), "{target} {pattern} {mount}");
        }
    }
}

#[test]
fn mount_access_walks_rules_under_the_mount() {
    for target in BOTH {
        let deep = acl(target, vec![rule("secret/data/app/x", &["read"])]);
        assert!(deep.has_mount_access("secret"));
        assert!(!deep.has_mount_access("other/"));
        let denied = acl(
            target,
            vec![
                rule("secret/data/x", &["deny"]),
                rule("secret/y*", &["deny"]),
            ],
        );
        assert!(!denied.has_mount_access("secret/"));
        let wildcard_deny = acl(target, vec![rule("+/x/*", &["deny"])]);
        assert!(!wildcard_deny.has_mount_access("secret/"));
    }
    // Asked of OpenBao 2.7.2 (`GET sys/internal/ui/mounts/secret`, 200 or 403).
    let bao_cases = [
        (vec![rule("secret/+/bar/*", &["read"])], true),
        (vec![rule("secre*", &["deny"])], true),
        (vec![rule("secret/*", &[])], true),
        (vec![rule("secret/+/x", &[])], false),
        (vec![rule("secret/+/x", &["read"])], true),
        (
            vec![rule("secre*", &["deny"]), rule("x/+", &["read"])],
            false,
        ),
        (vec![rule("bar/+/*", &["read"])], false),
        (vec![rule("secre+/+", &["read"])], false),
        (
            vec![rule("secret/+/bar/*", &["deny"]), rule("zz/*", &["read"])],
            false,
        ),
    ];
    for (rules, expected) in bao_cases {
        let acl = acl(Target::OpenBao, rules);
        assert_eq!(
            acl.has_mount_access("secret"),
            expected,
            "{:?}",
            acl.rules()
        );
    }
    // The deny-only `path "*"` quirk: OpenBao counts it as access, Vault newest does not.
    let star = |target| acl(target, vec![rule("*", &["deny"])]);
    assert!(star(Target::OpenBao).has_mount_access("secret/"));
    assert!(!star(Target::Vault).has_mount_access("secret/"));
}

/// Asked of OpenBao 2.7.2: `sys/capabilities` strips every leading `/`; `/` alone is the empty
/// path, which `+` matches.
#[test]
fn leading_slashes_are_all_stripped() {
    let acl = acl(
        Target::OpenBao,
        vec![
            rule("x", &["read"]),
            rule("+", &["list"]),
            rule("/y/*", &["update"]),
        ],
    );
    for (path, expected) in [
        ("//x", "read"),
        ("/x", "read"),
        ("/", "list"),
        ("y", "list"),
        ("//y/a", "update"),
    ] {
        assert_eq!(caps_of(&acl, path), [expected], "{path}");
    }
}

#[test]
fn explanation_names_the_separating_step() {
    let acl = acl(
        Target::Vault,
        vec![
            rule("foo/+/bar/baz", &["read"]),
            rule("foo/+/+/baz", &["update"]),
            rule("+/+/bar/*", &["update"]),
            rule("foo/*", &["update"]),
            rule("f*", &["update"]),
            rule("foo/x/bar/baz/*", &["update"]),
        ],
    );
    let (names, explanation) = acl.capabilities("foo/x/bar/baz");
    assert_eq!(names, ["read"]);
    assert_eq!(explanation.step, Some(LookupStep::NonExact));
    let mut steps: Vec<(String, PriorityStep)> = explanation
        .losers
        .iter()
        .map(|c| (c.rule.pattern.normalized.clone(), c.beaten_by))
        .collect();
    steps.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        steps,
        vec![
            ("+/+/bar/*".to_string(), PriorityStep::LaterWildcard),
            ("f*".to_string(), PriorityStep::ShorterPrefix),
            ("foo/*".to_string(), PriorityStep::NotPrefix),
            ("foo/+/+/baz".to_string(), PriorityStep::FewerPlus),
        ]
    );
    assert_eq!(explanation.deny_reason, None);
    assert_eq!(explanation.sudo_required, Some(false));
}

#[test]
fn store_walks_for_queries() {
    let acl = acl(
        Target::Vault,
        vec![
            rule("secret/data/a", &["read"]),
            rule("secret/data/b", &["read"]),
            rule("secret/metadata/*", &["list"]),
            rule("secret/*", &["deny"]),
            rule("secret/+/a", &["update"]),
            rule("other", &["read"]),
        ],
    );
    let keys = |rules: Vec<&MergedRule>| -> Vec<String> {
        rules.iter().map(|r| r.pattern.normalized.clone()).collect()
    };
    assert_eq!(
        keys(acl.exact_rules_under("secret/")),
        ["secret/data/a", "secret/data/b"]
    );
    assert_eq!(
        keys(acl.prefix_rules_under("secret/m")),
        ["secret/metadata/*"]
    );
    assert_eq!(
        keys(acl.prefix_rules_covering("secret/metadata/x")),
        ["secret/*", "secret/metadata/*"]
    );
    assert_eq!(keys(acl.wildcard_rules()), ["secret/+/a"]);
    assert_eq!(
        keys(acl.matching_rules("/secret/metadata/a")),
        ["secret/metadata/*", "secret/+/a"]
    );
    assert!(acl.exact_rule("other").is_some());
    assert_eq!(acl.policy_count(), 1);
}

/// `verdict` is `authorize` without the explanation: same verdict, same capabilities, same
/// reason, and the winner it borrows is the one `authorize` clones.
#[test]
fn verdict_agrees_with_authorize() {
    let mut required = rule("secret/data/required", &["read", "update"]);
    required.extra_mut().required_parameters = vec![spanned("Name".to_string())];
    let mut wrapped = rule("secret/data/wrapped", &["read"]);
    wrapped.extra_mut().min_wrapping_ttl = Some(spanned(60));
    let rules = vec![
        rule("secret/*", &["read", "list"]),
        rule("secret/data/+/private", &["deny"]),
        rule("sys/policies/acl/*", &["update", "sudo"]),
        rule("auth/+/role/*", &["create", "update"]),
        rule("sys/seal", &["update"]),
        required,
        wrapped,
    ];
    let paths = [
        "secret/data/app",
        "secret/data/app/private",
        "secret/",
        "sys/policies/acl/x",
        "sys/seal",
        "auth/approle/role/x",
        "secret/data/required",
        "secret/data/wrapped",
        "kv/nothing",
        "/secret/x/",
    ];
    let operations = [
        Operation::Read,
        Operation::List,
        Operation::Update,
        Operation::Create,
        Operation::Delete,
        Operation::Help,
    ];
    for target in [Target::Vault, Target::OpenBao] {
        let acls = [
            acl(target, rules.clone()),
            acl_of(target, &[]),
            acl_of(target, &[policy("root", Vec::new())]),
        ];
        for acl in &acls {
            for path in paths {
                for operation in operations {
                    let request = request(operation, path);
                    let decision = acl.authorize(&request);
                    let verdict = acl.verdict(&request);
                    let case = format!("{target:?} {operation:?} {path}");
                    assert_eq!(decision.allowed, verdict.allowed, "{case}");
                    assert_eq!(decision.capabilities, verdict.capabilities, "{case}");
                    assert_eq!(decision.root_privs, verdict.root_privs, "{case}");
                    assert_eq!(
                        decision.explanation.deny_reason, verdict.deny_reason,
                        "{case}"
                    );
                    assert_eq!(
                        decision.explanation.winner.map(|w| w.pattern),
                        verdict.winner.map(|w| w.pattern.clone()),
                        "{case}"
                    );
                    if let Some(sudo) = decision.explanation.sudo_required {
                        assert_eq!(sudo, verdict.sudo_required, "{case}");
                    }
                }
            }
        }
    }
}

/// `Sources` keeps merge order whichever way it holds them: none, one inline, or a list.
#[test]
fn sources_keep_merge_order() {
    let source = |policy: &str| super::types::RuleSource {
        policy: policy.into(),
        raw_pattern: "a".into(),
        file: std::sync::Arc::new(crate::source::SourceFile::new("a.hcl", "")),
        pattern_span: crate::span::Span::default(),
        block_span: crate::span::Span::default(),
        capabilities: CapSet::EMPTY,
    };
    let names = |sources: &super::Sources| -> Vec<String> {
        sources.iter().map(|s| s.policy.to_string()).collect()
    };
    let mut sources = super::Sources::none();
    assert!(sources.is_empty());
    sources.extend(super::Sources::none());
    assert!(sources.is_empty());
    sources.extend(super::Sources::one(source("a")));
    assert_eq!(names(&sources), ["a"]);
    sources.extend(super::Sources::one(source("b")));
    assert_eq!(names(&sources), ["a", "b"]);
    let mut more = super::Sources::one(source("c"));
    more.extend(super::Sources::one(source("d")));
    sources.extend(more);
    sources.extend(super::Sources::none());
    assert_eq!(names(&sources), ["a", "b", "c", "d"]);
    let mut first = super::Sources::one(source("x"));
    first.extend(sources);
    assert_eq!(names(&first), ["x", "a", "b", "c", "d"]);
}
