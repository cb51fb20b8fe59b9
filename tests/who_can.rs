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
