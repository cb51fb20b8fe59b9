//! `capable who-can` on an inventory with groups, entities and a templated policy
//! (`fixtures/explain/world`).

mod support;

use std::path::{Path, PathBuf};

fn world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/explain/world")
}

fn who_can(args: &[&str]) -> (i32, String, String) {
    support::cli::capable_sub(&world(), "who-can", args)
}

/// The subjects allowed, as `kind name`, with the deciding pattern.
fn allowed(args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = who_can(&all);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["version"], 1);
    value["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["allowed"] == true)
        .map(|s| {
            (
                format!(
                    "{} {}",
                    s["kind"].as_str().unwrap(),
                    s["name"].as_str().unwrap()
                ),
                s["rule"]["pattern"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_templated_group_policy_reaches_only_its_team() {
    let found = allowed(&["read", "secret/data/teams/ai/notes"]);
    assert_eq!(
        found,
        [
            (
                "role userpass/alice".to_string(),
                "secret/data/teams/ai/*".to_string()
            ),
            (
                "entity alice".to_string(),
                "secret/data/teams/ai/*".to_string()
            ),
        ]
    );
    let ml = allowed(&["read", "secret/data/teams/ml/notes"]);
    let names: Vec<&str> = ml.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["role userpass/bob", "entity bob"]);
}

#[test]
fn writers_and_the_rotator() {
    // Alice's group grants update on `secret/data/ai/*`, but the exact rule for `openai`
    // requires response wrapping, so only the rotator may update it without wrapping.
    let openai = allowed(&["update", "secret/data/ai/openai"]);
    assert_eq!(
        openai,
        [(
            "role approle/rotator".to_string(),
            "secret/data/ai/*".to_string()
        )]
    );
    let names: Vec<String> = allowed(&["create", "secret/data/ai/mistral"])
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "role approle/rotator",
            "role userpass/alice",
            "group ai-team",
            "entity alice"
        ]
    );
    // The rotator's deny on the signing key is a carve-out.
    let signing: Vec<String> = allowed(&["update", "secret/data/ai/signing"])
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        signing,
        ["role userpass/alice", "group ai-team", "entity alice"]
    );
}

#[test]
fn human_output_names_rule_and_location() {
    let (code, stdout, _) = who_can(&["read", "secret/data/teams/ai/notes", "--all"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn list_gets_its_trailing_slash() {
    let found = allowed(&["list", "secret/metadata/teams/ai"]);
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["role userpass/alice", "entity alice"]);
}

#[test]
fn a_cli_command_needs_every_call_allowed() {
    // `kv rollback` reads the key and writes it back: read + (create or update).
    let names: Vec<String> = allowed(&[
        "--",
        "vault",
        "kv",
        "rollback",
        "-version=2",
        "secret/ai/mistral",
    ])
    .into_iter()
    .map(|(name, _)| name)
    .collect();
    assert_eq!(names, ["role approle/rotator"]);
    // `kv put` on a new key needs create: the group's glob grants it to alice too.
    let names: Vec<String> =
        allowed(&["--", "vault", "kv", "put", "secret/ai/mistral", "api-key=x"])
            .into_iter()
            .map(|(name, _)| name)
            .collect();
    assert_eq!(
        names,
        [
            "role approle/rotator",
            "role userpass/alice",
            "group ai-team",
            "entity alice"
        ]
    );
    let (code, stdout, _) = who_can(&[
        "--",
        "vault",
        "kv",
        "rollback",
        "-version=2",
        "secret/ai/mistral",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

/// The JSON names the endpoint of each API call of the question (additive field).
#[test]
fn json_names_the_endpoint_of_each_call() {
    let (code, stdout, stderr) = who_can(&["--format", "json", "update", "sys/policies/acl/x"]);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let endpoints = value["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1, "{stdout}");
    assert_eq!(endpoints[0]["kind"], "sys");
    assert_eq!(endpoints[0]["template"], "policies/acl/{name}");
    let (_, text, _) = who_can(&["update", "sys/policies/acl/x"]);
    assert!(
        text.contains("\n  endpoint: system `sys/policies/acl/{name}`\n"),
        "{text}"
    );
}

#[path = "support/gen.rs"]
mod gen;

/// `who-can` builds each subject's ACL from the rules that may match the asked paths only
/// (`narrow_for`); every answer, with its explanation, must be the one the whole ACL gives.
/// Random policy sets (exact, prefix, `+`, literal `*`, parameters) held by random roles,
/// groups and entities, asked about instances of their patterns and random paths.
#[test]
fn narrowed_acls_answer_as_the_whole_ones_on_random_trees() {
    use capable::query::who_can::{narrow_for, render_human, render_json, who_can};
    use std::fmt::Write as _;
    let mut rng = gen::Rng::new(gen::seed(
        "narrowed_acls_answer_as_the_whole_ones_on_random_trees",
    ));
    let mut compared = 0;
    for round in 0..40 {
        let target = if round % 2 == 0 { "vault" } else { "openbao" };
        let (policies, patterns) = gen::random_policy_set(&mut rng, "p");
        let sources: Vec<_> = policies
            .iter()
            .map(|policy| {
                let extension = if policy.text().starts_with('{') {
                    "json"
                } else {
                    "hcl"
                };
                std::sync::Arc::new(capable::source::SourceFile::new(
                    format!("{}.{extension}", policy.name),
                    policy.text(),
                ))
            })
            .collect();
        let names: Vec<&str> = policies.iter().map(|policy| policy.name.as_str()).collect();
        let mut yaml = format!("target: {target}\nroles:\n");
        for index in 0..6 {
            let held: Vec<&str> = (0..1 + rng.below(3)).map(|_| *rng.pick(&names)).collect();
            let _ = writeln!(
                yaml,
                "  userpass/u{index}:\n    policies: [{}]",
                held.join(", ")
            );
            if rng.chance(30) {
                yaml.push_str("    token_no_default_policy: true\n");
            }
            if rng.chance(40) {
                let _ = writeln!(yaml, "    entity: e{}", rng.below(2));
            }
        }
        let _ = writeln!(
            yaml,
            "groups:\n  g:\n    policies: [{}]\n    member_entities: [e0]",
            rng.pick(&names)
        );
        let _ = writeln!(
            yaml,
            "entities:\n  e0: {{}}\n  e1:\n    policies: [{}]",
            rng.pick(&names)
        );
        let source = std::sync::Arc::new(capable::source::SourceFile::new("capable.yaml", yaml));
        let config = capable::config::Config::from_text(source, ".".into()).unwrap();
        let target = config.target;
        let workspace =
            capable::workspace::Workspace::from_sources(config.clone(), target, sources).unwrap();
        let Ok(inventory) = capable::inventory::Inventory::new(&config, &workspace.policies) else {
            continue; // a policy the target refuses: the inventory says so, nothing to compare
        };
        for path in gen::random_paths(&mut rng, &patterns, 6) {
            for operation in ["read", "list", "update", "create", "delete", "sudo"] {
                let words = [operation.to_string(), path.clone()];
                let Ok(calls) = capable::query::request::build(&words, &[], None, &config.mounts)
                else {
                    continue;
                };
                let whole = who_can(&inventory, target, &calls);
                let mut narrowed = inventory.clone();
                narrow_for(&mut narrowed, target, &calls);
                let answers = who_can(&narrowed, target, &calls);
                let context = format!("{operation} {path} ({target})");
                assert_eq!(format!("{answers:?}"), format!("{whole:?}"), "{context}");
                assert_eq!(
                    render_human(&calls, target, &answers, true, &[]),
                    render_human(&calls, target, &whole, true, &[]),
                    "{context}"
                );
                assert_eq!(
                    render_json(&calls, target, &answers, &[]),
                    render_json(&calls, target, &whole, &[]),
                    "{context}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 300, "{compared} questions compared");
}
