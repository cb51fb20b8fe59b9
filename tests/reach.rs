//! `reach` against brute force: for random policy sets, every path up to length 5 over the
//! alphabet {a, b, /} (plus the patterns' own literals with short suffixes) gets exactly the
//! capabilities the reach answer predicts, compared with the ACL's own decisions
//! (`Acl::authorize` for reads and LISTs, `Acl::capabilities` for `sys/capabilities`), on
//! both targets.

mod support;

use std::sync::Arc;

use capable::acl::{Acl, Operation, Request};
use capable::policy::{parse_policy, CapSet, Capability, Policy};
use capable::query::reach::{Reach, View, CANDIDATE_BUDGET};
use capable::source::SourceFile;
use capable::target::Target;
use proptest::prelude::*;

fn policy(name: &str, text: &str, target: Target) -> Policy {
    let source = Arc::new(SourceFile::new(format!("{name}.hcl"), text.to_string()));
    let parsed = parse_policy(source, target);
    parsed
        .policy
        .unwrap_or_else(|| panic!("generated policy refused: {text}\n{:?}", parsed.diagnostics))
}

/// Every path over {a, b, /} up to length 5, then each literal with short suffixes.
fn paths(literals: &[String]) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..5 {
        let next: Vec<String> = frontier
            .iter()
            .flat_map(|path| ["a", "b", "/"].map(|c| format!("{path}{c}")))
            .collect();
        all.extend(next.iter().cloned());
        frontier = next;
    }
    for literal in literals {
        for suffix in ["", "/", "a", "/a", "a/", "/a/", "//"] {
            all.push(format!("{literal}{suffix}"));
        }
    }
    all.sort();
    all.dedup();
    all
}

fn check(policies: &[Policy], target: Target) -> Result<(), TestCaseError> {
    let refs: Vec<&Policy> = policies.iter().collect();
    let acl = Acl::new(&refs, target, None).expect("no root policy");
    let reach = Reach::new(&acl);
    let literals: Vec<String> = reach
        .rules
        .iter()
        .map(|r| r.pattern.key().replace(['+', '*'], "a"))
        .collect();
    // Both forms of the answer: exceptions found one by one (the default budget), and every
    // region taking all the exceptions ranked above it (budget 0).
    let answers: Vec<_> = [Capability::Read, Capability::Update, Capability::List]
        .into_iter()
        .flat_map(|capability| {
            [CANDIDATE_BUDGET, 0].map(|budget| reach.capability_within(capability, None, budget))
        })
        .collect();
    for path in paths(&literals) {
        let read = acl.authorize(&Request::new(Operation::Read, path.clone()));
        let request_caps = reach
            .view(View::Request)
            .decider(&path)
            .map(|region| reach.rules[region.rule].capabilities)
            .unwrap_or(CapSet::EMPTY);
        prop_assert_eq!(
            request_caps,
            read.capabilities,
            "request view, path `{}`",
            path
        );
        // The ACL strips leading slashes first; LIST `/` is a LIST of the empty path, which has
        // no trailing `/` left and is decided like any other request.
        let listing = path.trim_start_matches('/').ends_with('/');
        let list_caps = if listing {
            let list = acl.authorize(&Request::new(Operation::List, path.clone()));
            let caps = reach
                .view(View::Listing)
                .decider(&path)
                .map(|region| reach.rules[region.rule].capabilities)
                .unwrap_or(CapSet::EMPTY);
            prop_assert_eq!(caps, list.capabilities, "listing view, path `{}`", path);
            caps
        } else {
            request_caps
        };
        let sys = acl.capabilities(&path).0;
        prop_assert_eq!(
            sys,
            list_caps.sys_capabilities(),
            "sys/capabilities, path `{}`",
            path
        );
        for answer in &answers {
            if answer.view == View::Listing && !listing {
                continue;
            }
            let decided = if answer.view == View::Listing {
                list_caps
            } else {
                request_caps
            };
            let expected = !decided.is_deny() && decided.contains(answer.capability);
            prop_assert_eq!(
                answer.holds(&path),
                expected,
                "{} on `{}` per the reach answer",
                answer.capability,
                path
            );
        }
    }
    Ok(())
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("ab".to_string()),
        Just("+".to_string()),
        Just(String::new()),
    ]
}

/// A pattern over the alphabet: 1-3 segments, then nothing, `/`, `*` or `/*`.
fn pattern() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 1..4),
        prop_oneof![Just(""), Just("/"), Just("*"), Just("/*")],
    )
        .prop_map(|(segments, tail)| {
            let mut text = segments.join("/");
            if text.ends_with('+') && tail == "*" {
                // `+*` is refused by both products.
                text.push('/');
            }
            text.push_str(tail);
            text
        })
}

fn capabilities() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        1 => Just(vec!["deny"]),
        1 => Just(vec![]),
        6 => prop::collection::vec(prop_oneof![Just("read"), Just("list"), Just("update")], 1..3),
    ]
}

/// Rules, some with a wrapping TTL (a condition `reach` flags and carves out, never drops).
fn policy_text() -> impl Strategy<Value = String> {
    prop::collection::vec((pattern(), capabilities(), prop::bool::weighted(0.2)), 1..5).prop_map(
        |rules| {
            rules
                .iter()
                .map(|(pattern, caps, wrapped)| {
                    let caps: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
                    let ttl = if *wrapped {
                        "  max_wrapping_ttl = \"5m\"\n"
                    } else {
                        ""
                    };
                    format!(
                        "path \"{pattern}\" {{\n  capabilities = [{}]\n{ttl}}}\n",
                        caps.join(", ")
                    )
                })
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn reach_equals_brute_force(texts in prop::collection::vec(policy_text(), 1..4)) {
        for target in [Target::OpenBao, Target::Vault] {
            let policies: Vec<Policy> = texts
                .iter()
                .enumerate()
                .map(|(index, text)| policy(&format!("p{index}"), text, target))
                .collect();
            check(&policies, target)?;
        }
    }
}

#[test]
fn seed_policy_carves_the_deny_out_of_nothing_and_reads_one_key() {
    let text = "path \"secret/data/ai/openai\" { capabilities = [\"read\"] }\n\
                path \"secret/*\" { capabilities = [\"deny\"] }\n\
                path \"secret/data/ai/*\" { capabilities = [\"read\", \"list\"] }\n\
                path \"secret/data/ai/anthropic\" { capabilities = [\"deny\"] }\n";
    let seed = policy("seed", text, Target::Vault);
    let acl = Acl::new(&[&seed], Target::Vault, None).unwrap();
    let reach = Reach::new(&acl);
    let read = reach.capability(Capability::Read, None);
    let shown: Vec<(String, Vec<String>)> = read
        .grants
        .iter()
        .map(|grant| {
            let exceptions = grant
                .exceptions(&read.exceptions)
                .map(|e| e.pattern.clone())
                .collect();
            (grant.region.pattern.clone(), exceptions)
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "secret/data/ai/*".to_string(),
                vec!["secret/data/ai/anthropic".to_string()]
            ),
            ("secret/data/ai/openai".to_string(), vec![]),
        ]
    );
    assert!(read.holds("secret/data/ai/x"));
    assert!(!read.holds("secret/data/ai/anthropic"));
    assert!(!read.holds("secret/data/other"));
    let under = reach.capability(Capability::Read, Some("secret/data/ai/open"));
    assert_eq!(under.grants.len(), 2);
    let nowhere = reach.capability(Capability::Read, Some("sys/"));
    assert!(nowhere.grants.is_empty());
}

/// The CLI on the world of `fixtures/explain/world`: a person's reach under `secret/`, with
/// the group-granted glob carved by an exact rule of the same group.
#[test]
fn cli_reach_of_a_person_under_secret() {
    let world = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/explain/world");
    let output = support::cli::command()
        .args(["reach", "--role", "userpass/alice", "--under", "secret/"])
        .current_dir(&world)
        .env("NO_COLOR", "1")
        .output()
        .expect("capable runs");
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
    let json = support::cli::command()
        .args([
            "reach",
            "--role",
            "userpass/alice",
            "--capability",
            "create",
            "--format",
            "json",
        ])
        .current_dir(&world)
        .output()
        .expect("capable runs");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["version"], 2);
    let answer = &value["capabilities"][0];
    let regions = answer["regions"].as_array().unwrap();
    let ai = regions
        .iter()
        .find(|r| r["pattern"] == "secret/data/ai/*")
        .expect("the group's glob");
    // The exception is named by its id in the capability's table, printed once.
    let id = ai["except"][0].as_u64().unwrap();
    let exception = &answer["exceptions"][id as usize];
    assert_eq!(exception["id"], id);
    assert_eq!(exception["pattern"], "secret/data/ai/openai");
    assert_eq!(ai["except_first"], 0);
    assert_eq!(ai["sources"][0]["policy"], "ai-writers");
    // The region's endpoints, from the catalog: KV v2 data under the declared `secret/`.
    let endpoints = ai["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1, "{ai}");
    assert_eq!(endpoints[0]["kind"], "kv-v2");
    assert_eq!(endpoints[0]["template"], "data/{path}");
}

/// Over the candidate budget, a region takes every exception ranked above it: the human form
/// refers to the numbered list printed once per capability, the JSON to the table's first
/// entries, and the answer is still exact.
#[test]
fn cli_reach_beyond_the_budget_takes_the_ranked_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("path \"secret/*\" { capabilities = [\"read\"] }\n");
    for index in 0..=CANDIDATE_BUDGET {
        text.push_str(&format!(
            "path \"secret/d{index}/*\" {{ capabilities = [\"deny\"] }}\n"
        ));
    }
    std::fs::write(dir.path().join("p.hcl"), &text).unwrap();
    let denies = CANDIDATE_BUDGET + 1;
    let run = |format: &str| {
        let output = support::cli::command()
            .args(["reach", "--policy", "p.hcl", "--format", format])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("capable runs");
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8(output.stdout).unwrap()
    };
    let human = run("human");
    assert!(
        human.contains(&format!(
            "except exceptions 1 to {denies} of the ranked exceptions below"
        )),
        "{human}"
    );
    assert!(human.contains("  ranked exceptions (highest rank first)\n    1. `secret/d"));
    let value: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let answer = &value["capabilities"][0];
    assert_eq!(answer["capability"], "read");
    let table = answer["exceptions"].as_array().unwrap();
    assert_eq!(table.len(), denies);
    for (id, entry) in table.iter().enumerate() {
        assert_eq!(entry["id"], id);
        assert_eq!(entry["capabilities"][0], "deny");
    }
    let region = &answer["regions"][0];
    assert_eq!(region["pattern"], "secret/*");
    assert_eq!(region["except"].as_array().unwrap().len(), 0);
    assert_eq!(region["except_first"], denies);

    let seed = policy("p", &text, Target::Vault);
    let acl = Acl::new(&[&seed], Target::Vault, None).unwrap();
    let reach = Reach::new(&acl);
    let read = reach.capability(Capability::Read, None);
    assert!(read.holds("secret/x") && read.holds("secret/d/x"));
    assert!(read.holds("secret/d170/x"));
    assert!(!read.holds("secret/d3/x") && !read.holds("secret/d16/"));
}

/// OpenBao differential for a real login: a `userpass` user with token policies, an entity
/// with its own policies and a group with a templated policy. For every short path, the
/// capabilities `reach` predicts (the deciding region's rule) equal what `sys/capabilities`
/// answers for the login's token.
#[test]
fn reach_agrees_with_openbao_for_a_userpass_login() {
    use capable::acl::{builtin, Group, Identity};
    use serde_json::json;

    let bao = support::bao::Bao::start();
    let ok = |answer: support::bao::Answer| {
        assert!(answer.status < 300, "{} {}", answer.status, answer.errors());
        answer
    };
    let user = "path \"secret/data/*\" { capabilities = [\"read\"] }\n\
                path \"secret/metadata/+/\" { capabilities = [\"list\"] }\n\
                path \"a/b*\" { capabilities = [\"update\"] }\n";
    let entity = "path \"secret/data/private/*\" { capabilities = [\"deny\"] }\n\
                  path \"secret/+/a\" { capabilities = [\"update\"] }\n\
                  path \"a/+/b\" { capabilities = [\"read\"] }\n";
    let group =
        "path \"secret/data/{{identity.entity.id}}/*\" { capabilities = [\"create\", \"read\"] }\n\
                 path \"a/*\" { capabilities = [\"list\"] }\n\
                 path \"a/b/\" { capabilities = [\"read\", \"list\"] }\n\
                 path \"+/+\" { capabilities = [\"read\"] }\n";
    for (name, text) in [("user-p", user), ("entity-p", entity), ("group-p", group)] {
        ok(bao.put_policy(name, text));
    }
    ok(bao.root(
        "POST",
        "sys/auth/userpass",
        Some(&json!({"type": "userpass"})),
    ));
    ok(bao.root(
        "POST",
        "auth/userpass/users/alice",
        Some(&json!({"password": "pw", "token_policies": "user-p"})),
    ));
    let login = ok(bao.request(
        "",
        "POST",
        "auth/userpass/login/alice",
        Some(&json!({"password": "pw"})),
        None,
    ));
    let token = login.body["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    let entity_id = login.body["auth"]["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(bao.root(
        "POST",
        &format!("identity/entity/id/{entity_id}"),
        Some(&json!({"policies": ["entity-p"]})),
    ));
    let created = ok(bao.root(
        "POST",
        "identity/group",
        Some(&json!({"name": "team", "policies": ["group-p"], "member_entity_ids": [entity_id]})),
    ));
    let group_id = created.body["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let entity_name = ok(bao.root("GET", &format!("identity/entity/id/{entity_id}"), None)).body
        ["data"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let target = Target::OpenBao;
    let mut policies = vec![
        policy("user-p", user, target),
        builtin::default_policy(target),
        policy("entity-p", entity, target),
        policy("group-p", group, target),
    ];
    policies.dedup_by(|a, b| a.name == b.name);
    let identity = Identity {
        entity_id: entity_id.clone(),
        entity_name,
        groups: vec![Group {
            id: group_id,
            name: "team".into(),
            ..Group::default()
        }],
        ..Identity::default()
    };
    let refs: Vec<&Policy> = policies.iter().collect();
    let acl = Acl::new(&refs, target, Some(&identity)).unwrap();
    let reach = Reach::new(&acl);

    let mut literals: Vec<String> = reach
        .rules
        .iter()
        .map(|r| r.pattern.key().replace(['+', '*'], "a"))
        .collect();
    literals.push(format!("secret/data/{entity_id}/"));
    literals.extend([
        "secret/data/private/".to_string(),
        "secret/metadata/a/".to_string(),
    ]);
    // `sys/capabilities` refuses an empty path.
    let mut all = paths(&literals);
    all.retain(|path| !path.trim_start_matches('/').is_empty());
    let answers = bao.capabilities(&token, &all);
    for path in &all {
        let stripped = path.trim_start_matches('/');
        let view = if stripped.ends_with('/') {
            View::Listing
        } else {
            View::Request
        };
        let predicted = reach
            .view(view)
            .decider(path)
            .map(|region| reach.rules[region.rule].capabilities)
            .unwrap_or(CapSet::EMPTY)
            .sys_capabilities();
        assert_eq!(answers[path], predicted, "path `{path}`");
    }
    let read = reach.capability(Capability::Read, None);
    assert!(read.holds(&format!("secret/data/{entity_id}/notes")));
    assert!(!read.holds("secret/data/private/x"));
}
