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

// ---- `caps`: the same subjects and the same `capable.yaml` ----

/// Runs `capable caps ARGS` in `dir` with `stdin` as its input.
fn caps_with_input(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = support::cli::command()
        .arg("caps")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run capable");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    // Written from another thread: the answers stream out while the paths stream in.
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().expect("wait for capable");
    writer.join().expect("writer thread").expect("write stdin");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8 stdout"),
        String::from_utf8(output.stderr).expect("utf-8 stderr"),
    )
}

#[test]
fn caps_reads_the_target_from_capable_yaml() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("lister.hcl"),
        "path \"kv/*\" { capabilities = [\"scan\", \"read\"] }\n",
    )
    .unwrap();
    let args = ["--policy", "lister.hcl", "kv/a"];
    // `scan` exists only on OpenBao: without a config the target is `vault`, which refuses it.
    let (code, _, stderr) = support::cli::capable_sub(dir.path(), "caps", &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("would be refused by vault"), "{stderr}");
    std::fs::write(dir.path().join("capable.yaml"), "target: openbao\n").unwrap();
    let (code, stdout, stderr) = support::cli::capable_sub(dir.path(), "caps", &args);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "kv/a: read, scan\n"),
        "{stderr}"
    );
    // `--target` still overrides the file.
    let mut vault = vec!["--target", "vault"];
    vault.extend_from_slice(&args);
    assert_eq!(support::cli::capable_sub(dir.path(), "caps", &vault).0, 2);
}

#[test]
fn caps_answers_for_a_role_of_the_inventory() {
    let (code, stdout, stderr) = support::cli::capable_sub(
        &world(),
        "caps",
        &[
            "--role",
            "kubernetes/inference-role",
            "secret/data/ai/openai",
            "secret/data/ai/anthropic",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "secret/data/ai/openai: read\nsecret/data/ai/anthropic: deny\n"
    );
}

#[test]
fn caps_streams_paths_from_stdin_and_files_past_the_argument_limit() {
    let dir = world().join("policies");
    let policy = ["--policy", "ai-inference-service.hcl"];
    // 200,000 paths (about 5 MB) would not fit on a command line.
    let mut input = String::new();
    let mut expected = String::new();
    for i in 0..100_000 {
        input.push_str(&format!("secret/data/ai/openai\r\nsecret/data/ai/x{i}\n"));
        expected.push_str(&format!(
            "secret/data/ai/openai: read\nsecret/data/ai/x{i}: deny\n"
        ));
    }
    input.push_str("\n\n");
    let mut args = policy.to_vec();
    args.extend(["--paths-from", "-"]);
    let (code, stdout, stderr) = caps_with_input(&dir, &args, &input);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout == expected, "streamed answers differ");

    // From a file, as JSON: the same object as the arguments give, a repeated path once.
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        file.path(),
        "secret/data/ai/openai\nsecret/data/ai/anthropic\nsecret/data/ai/openai\n",
    )
    .unwrap();
    let path = file.path().to_str().expect("utf-8 temp path");
    let mut from_file = policy.to_vec();
    from_file.extend(["--format", "json", "--paths-from", path]);
    let mut from_args = policy.to_vec();
    from_args.extend([
        "--format",
        "json",
        "secret/data/ai/openai",
        "secret/data/ai/anthropic",
        "secret/data/ai/openai",
    ]);
    let streamed = support::cli::capable_sub(&dir, "caps", &from_file);
    let given = support::cli::capable_sub(&dir, "caps", &from_args);
    assert_eq!(streamed.0, 0, "{}", streamed.2);
    assert_eq!(streamed.1, given.1);
    let value: serde_json::Value = serde_json::from_str(&streamed.1).expect("JSON");
    assert_eq!(value["secret/data/ai/openai"], serde_json::json!(["read"]));
}

#[test]
fn caps_paths_from_errors_name_the_file_and_line() {
    let dir = world().join("policies");
    let missing = support::cli::capable_sub(
        &dir,
        "caps",
        &[
            "--policy",
            "ai-inference-service.hcl",
            "--paths-from",
            "nope.txt",
        ],
    );
    assert_eq!(missing.0, 2);
    assert!(
        missing.2.contains("cannot read `nope.txt`"),
        "{}",
        missing.2
    );
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), b"secret/a\nsecret/\xff\n").unwrap();
    let path = file.path().to_str().expect("utf-8 temp path");
    let (code, stdout, stderr) = support::cli::capable_sub(
        &dir,
        "caps",
        &["--policy", "ai-inference-service.hcl", "--paths-from", path],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("line 2 is not UTF-8"), "{stderr}");
    // The paths before the bad line were answered.
    assert_eq!(stdout, "secret/a: deny\n");
    let both = support::cli::capable_sub(
        &dir,
        "caps",
        &[
            "--policy",
            "ai-inference-service.hcl",
            "--paths-from",
            path,
            "secret/a",
        ],
    );
    assert_eq!(
        both.0, 2,
        "a path list and --paths-from together are refused"
    );
}

/// The example setup in `policies/` (`secret/` is KV v2, `kubernetes/inference-role`).
fn example_setup() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

#[test]
fn a_mistyped_cli_command_gets_a_did_you_mean() {
    let role = ["--role", "kubernetes/inference-role", "--"];
    let mut args = role.to_vec();
    args.extend(["vault", "kv", "gett", "secret/ai/openai"]);
    let (code, _, stderr) = support::cli::capable_sub(&example_setup(), "explain", &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unsupported command `vault kv gett`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `vault kv get`?"), "{stderr}");
    let mut args = role.to_vec();
    args.extend(["vault", "tokn", "lookup"]);
    let (_, _, stderr) = support::cli::capable_sub(&example_setup(), "explain", &args);
    assert!(stderr.contains("did you mean `vault token`?"), "{stderr}");
}

#[test]
fn a_policy_named_without_its_extension_suggests_the_file() {
    let args = ["--policy", "auditor", "secret/data/x"];
    let (code, _, stderr) = support::cli::capable_sub(&example_setup(), "caps", &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("did you mean `auditor.hcl`?"), "{stderr}");
    let args = ["--policy", "nothing-like-it", "secret/data/x"];
    let (_, _, stderr) = support::cli::capable_sub(&example_setup(), "caps", &args);
    assert!(!stderr.contains("did you mean"), "{stderr}");
}

#[test]
fn an_api_path_on_kv2_without_data_says_where_the_secret_is() {
    let args = [
        "--role",
        "kubernetes/inference-role",
        "read",
        "secret/ai/openai",
    ];
    let (_, stdout, _) = support::cli::capable_sub(&example_setup(), "explain", &args);
    assert!(
        stdout.contains("the API path of secret `ai/openai` is `secret/data/ai/openai`"),
        "{stdout}"
    );
    let args = [
        "--role",
        "kubernetes/inference-role",
        "read",
        "secret/data/ai/openai",
    ];
    let (_, stdout, _) = support::cli::capable_sub(&example_setup(), "explain", &args);
    assert!(!stdout.contains("KV v2 mount"), "{stdout}");
}

/// The endpoint catalog names the API endpoint a path is: its mount's kind (here declared in
/// `capable.yaml`, or only guessed from an engine's default path), the template, and whether
/// it is root-protected.
#[test]
fn json_and_text_name_the_endpoint_a_path_is() {
    let role = ["--role", "kubernetes/inference-role"];
    let value = json(&[&role[..], &["read", "secret/data/ai/openai"]].concat());
    assert_eq!(
        value["endpoint"],
        serde_json::json!({
            "kind": "kv-v2", "title": "kv v2", "mount": "secret/", "template": "data/{path}",
            "sudo": false, "unauthenticated": false, "guessed": false
        })
    );
    let value = json(&[&role[..], &["update", "sys/auth/approle"]].concat());
    assert_eq!(value["endpoint"]["template"], "auth/{path}");
    assert_eq!(value["endpoint"]["sudo"], true);
    let value = json(&[&role[..], &["read", "pki/cert/ca"]].concat());
    assert_eq!(value["endpoint"]["kind"], "pki");
    assert_eq!(value["endpoint"]["guessed"], true);
    let value = json(&[&role[..], &["read", "nowhere/at/all"]].concat());
    assert_eq!(value["endpoint"], serde_json::Value::Null);
    let (_, text, _) = explain(&[&role[..], &["read", "pki/cert/ca"]].concat());
    assert!(
        text.contains("  endpoint: pki `pki/cert/{serial}`, answered without a token (if `pki/` is pki, as its default path suggests)\n"),
        "{text}"
    );
}
