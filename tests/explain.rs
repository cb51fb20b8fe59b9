//! `capable explain` end to end on the world of `fixtures/explain/world` (roles, groups,
//! entities, a templated policy) and on policy files.

mod support;

use std::path::{Path, PathBuf};

fn world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/explain/world")
}

/// Runs `capable explain ARGS` in `dir`: (exit code, stdout, stderr).
fn explain_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    support::cli::capable_sub(dir, "explain", args)
}

fn explain(args: &[&str]) -> (i32, String, String) {
    explain_in(&world(), args)
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = explain(&all);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).expect("valid JSON")
}

#[test]
fn exact_rule_beats_the_deny_glob() {
    let (code, stdout, _) = explain(&[
        "--role",
        "kubernetes/inference-role",
        "read",
        "secret/data/ai/openai",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn cli_command_denied_by_the_glob() {
    let (code, stdout, _) = explain(&[
        "--role",
        "inference-role",
        "--",
        "vault",
        "kv",
        "get",
        "secret/ai/anthropic",
    ]);
    // A query that was answered exits 0 even when the answer is DENIED.
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn fail_on_deny_turns_a_deny_into_exit_1() {
    let args = [
        "--fail-on-deny",
        "--role",
        "inference-role",
        "read",
        "secret/data/ai/anthropic",
    ];
    assert_eq!(explain(&args).0, 1);
    let args = [
        "--fail-on-deny",
        "--role",
        "inference-role",
        "read",
        "secret/data/ai/openai",
    ];
    assert_eq!(explain(&args).0, 0);
}

#[test]
fn wrapping_ttl_check_and_its_outcome() {
    let (_, stdout, _) = explain(&[
        "--role",
        "userpass/alice",
        "update",
        "secret/data/ai/openai",
    ]);
    insta::assert_snapshot!(stdout);
    let wrapped = json(&[
        "--role",
        "userpass/alice",
        "--wrap-ttl",
        "2m",
        "update",
        "secret/data/ai/openai",
    ]);
    assert_eq!(wrapped["allowed"], true);
    assert_eq!(
        wrapped["checks"]["response_wrapping"],
        "passed (ttl at most 300s; requested 120s)"
    );
    let too_long = json(&[
        "--role",
        "userpass/alice",
        "--wrap-ttl",
        "10m",
        "update",
        "secret/data/ai/openai",
    ]);
    assert_eq!(too_long["allowed"], false);
    assert_eq!(too_long["deny_reason"]["kind"], "wrapping-required");
}

#[test]
fn templated_group_policy_resolves_for_the_entity() {
    let answer = json(&["--entity", "alice", "read", "secret/data/teams/ai/notes"]);
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["winner"]["pattern"], "secret/data/teams/ai/*");
    assert_eq!(answer["winner"]["sources"][0]["policy"], "team-kv");
    assert_eq!(answer["winner"]["sources"][0]["line"], 2);
    let other_team = json(&["--entity", "bob", "read", "secret/data/teams/ai/notes"]);
    assert_eq!(other_team["allowed"], false);
    assert_eq!(other_team["deny_reason"]["kind"], "no-matching-rule");
}

#[test]
fn json_names_each_loser_and_the_step_that_beat_it() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/explain");
    let (code, stdout, stderr) = explain_in(
        &fixtures,
        &[
            "--format",
            "json",
            "--policy",
            "priority.hcl",
            "read",
            "secret/data/ai/openai",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["version"], 1);
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["winner"]["pattern"], "secret/data/ai/*");
    let losers: Vec<(String, String)> = answer["losers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["rule"]["pattern"].as_str().unwrap().to_string(),
                l["beaten_by"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        losers.contains(&("secret/+/ai/openai".into(), "later-wildcard".into())),
        "{losers:?}"
    );
    assert!(losers.iter().any(|(p, _)| p == "secret/*"), "{losers:?}");
    let (_, human, _) = explain_in(
        &fixtures,
        &["--policy", "priority.hcl", "read", "secret/data/ai/openai"],
    );
    insta::assert_snapshot!(human);
}

#[test]
fn usage_errors_exit_2_with_help() {
    let (code, _, stderr) = explain(&["--role", "inference-role", "fetch", "secret/x"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown operation `fetch`") && stderr.contains("help:"),
        "{stderr}"
    );
    let (code, _, stderr) = explain(&["--role", "nobody", "read", "secret/x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown role `nobody`"), "{stderr}");
    let (code, _, stderr) = explain(&["read", "secret/x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no subject given"), "{stderr}");
}

#[test]
fn merged_rule_names_every_contributing_policy() {
    let answer = json(&[
        "--policy",
        "policies/key-rotation.hcl",
        "--policy",
        "policies/ai-writers.hcl",
        "create",
        "secret/data/ai/mistral",
    ]);
    assert_eq!(answer["allowed"], true);
    let sources: Vec<&str> = answer["winner"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["policy"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["key-rotation", "ai-writers"]);
    assert_eq!(
        answer["winner"]["granting_policies"]["create"],
        serde_json::json!(["key-rotation", "ai-writers"])
    );
    assert_eq!(
        answer["winner"]["granting_policies"]["read"],
        serde_json::json!(["key-rotation"])
    );
    // The carve-out of one policy does not reach the other's merged glob: the exact deny wins.
    let signing = json(&[
        "--policy",
        "policies/key-rotation.hcl",
        "--policy",
        "policies/ai-writers.hcl",
        "update",
        "secret/data/ai/signing",
    ]);
    assert_eq!(signing["allowed"], false);
    assert_eq!(signing["deny_reason"]["kind"], "explicit-deny");
    assert_eq!(signing["losers"][0]["beaten_by"], "exact-match");
}
