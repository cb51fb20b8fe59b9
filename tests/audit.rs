//! `capable audit`: real audit logs from an OpenBao dev server with a file audit device, and
//! hand-built Kubernetes-shaped entries (the documented format: `auth.metadata.role`,
//! `service_account_name`, ...; a cluster is not available here).
//!
//! The server gets the example setup's policies (`policies/*.hcl`) and stand-ins for its
//! Kubernetes roles that a dev server can log in with: an AppRole role `inference-role` and a
//! token role `model-eval`; the humans `rita` and `ada` log in with userpass and get their
//! policies through identity groups, as in `policies/capable.yaml`.

mod support;

#[path = "audit/reference.rs"]
mod reference;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::bao::Bao;
use support::cli::capable_sub;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");

/// The inventory of the test tree: the example's humans, and stand-ins for its pods.
const INVENTORY: &str = r#"target: openbao
mounts:
  secret/: {type: kv, version: 2}
roles:
  approle/inference-role:
    policies: [ai-inference-service]
  token/model-eval:
    policies: [model-eval]
  userpass/rita:
    entity: rita
  userpass/ada:
    entity: ada
groups:
  key-rotators:
    policies: [key-rotation]
    member_entities: [rita]
  auditors:
    policies: [auditor]
    member_entities: [ada]
entities:
  rita:
    aliases:
      - {mount: userpass, name: rita}
  ada:
    aliases:
      - {mount: userpass, name: ada}
"#;

/// A policy tree in `dir`: the example's policies and the test inventory.
fn write_tree(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(EXAMPLE).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "hcl") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("capable.yaml"), INVENTORY).unwrap();
}

fn policy_text(name: &str) -> String {
    std::fs::read_to_string(Path::new(EXAMPLE).join(format!("{name}.hcl"))).unwrap()
}

/// What the test did against the server, and what it knows about it.
struct Session {
    log: PathBuf,
    /// Every clear token and accessor the test saw (none may appear in any output).
    secrets: Vec<String>,
    /// (operation, path) of rita's writes to `secret/data/ai/*` (update on existing keys).
    rita_writes: BTreeSet<(String, String)>,
}

fn token_of(answer: &support::bao::Answer, secrets: &mut Vec<String>) -> String {
    assert_eq!(answer.status, 200, "login failed: {:?}", answer.body);
    let auth = &answer.body["auth"];
    let token = auth["client_token"].as_str().expect("token").to_string();
    secrets.push(token.clone());
    if let Some(accessor) = auth["accessor"].as_str() {
        secrets.push(accessor.to_string());
    }
    token
}

/// A `kv` CLI read: the preflight, then the data path.
fn kv_get(bao: &Bao, token: &str, key: &str) -> u16 {
    bao.request(
        token,
        "GET",
        &format!("sys/internal/ui/mounts/secret/{key}"),
        None,
        None,
    );
    bao.request(token, "GET", &format!("secret/data/{key}"), None, None)
        .status
}

fn setup(bao: &Bao, log: PathBuf) -> Session {
    let mut secrets = vec![bao.root_token.clone()];
    for name in [
        "ai-inference-service",
        "auditor",
        "key-rotation",
        "model-eval",
        "model-server",
    ] {
        assert_eq!(bao.put_policy(name, &policy_text(name)).status, 204);
    }
    for (path, kind) in [("userpass", "userpass"), ("approle", "approle")] {
        let answer = bao.root(
            "POST",
            &format!("sys/auth/{path}"),
            Some(&json!({"type": kind})),
        );
        assert_eq!(answer.status, 204, "{:?}", answer.body);
    }
    let accessor = bao.root("GET", "sys/auth", None).body["data"]["userpass/"]["accessor"]
        .as_str()
        .unwrap()
        .to_string();
    for (user, group, policy) in [
        ("rita", "key-rotators", "key-rotation"),
        ("ada", "auditors", "auditor"),
    ] {
        bao.root(
            "POST",
            &format!("auth/userpass/users/{user}"),
            Some(&json!({"password": "pw-not-secret"})),
        );
        let entity = bao.root("POST", "identity/entity", Some(&json!({"name": user})));
        let id = entity.body["data"]["id"].as_str().unwrap().to_string();
        bao.root(
            "POST",
            "identity/entity-alias",
            Some(&json!({"name": user, "canonical_id": id, "mount_accessor": accessor})),
        );
        bao.root(
            "POST",
            "identity/group",
            Some(&json!({"name": group, "policies": [policy], "member_entity_ids": [id]})),
        );
    }
    bao.root(
        "POST",
        "auth/approle/role/inference-role",
        Some(&json!({"token_policies": ["ai-inference-service"]})),
    );
    bao.root(
        "POST",
        "auth/token/roles/model-eval",
        Some(&json!({"allowed_policies": ["model-eval"]})),
    );
    for key in ["openai", "anthropic", "mistral"] {
        let answer = bao.root(
            "POST",
            &format!("secret/data/ai/{key}"),
            Some(&json!({"data": {"api_key": format!("sk-{key}-value")}})),
        );
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    secrets.push("sk-openai-value".into());

    // The inference pods: read their key; the others are denied.
    let role_id = bao
        .root("GET", "auth/approle/role/inference-role/role-id", None)
        .body["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret_id = bao
        .root("POST", "auth/approle/role/inference-role/secret-id", None)
        .body["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(secret_id.clone());
    let login = bao.request(
        "",
        "POST",
        "auth/approle/login",
        Some(&json!({"role_id": role_id, "secret_id": secret_id})),
        None,
    );
    let inference = token_of(&login, &mut secrets);
    for _ in 0..3 {
        assert_eq!(kv_get(bao, &inference, "ai/openai"), 200);
    }
    assert_eq!(kv_get(bao, &inference, "ai/anthropic"), 403);
    bao.request(&inference, "GET", "auth/token/lookup-self", None, None);

    // The evaluation job: a token role; every key but Anthropic's.
    let created = bao.root("POST", "auth/token/create/model-eval", Some(&json!({})));
    let eval = token_of(&created, &mut secrets);
    assert_eq!(kv_get(bao, &eval, "ai/openai"), 200);
    assert_eq!(kv_get(bao, &eval, "ai/mistral"), 200);
    assert_eq!(kv_get(bao, &eval, "ai/anthropic"), 403);

    // rita rotates keys: writes, metadata, rollback's reads, a listing.
    let login = |user: &str, secrets: &mut Vec<String>| {
        let answer = bao.request(
            "",
            "POST",
            &format!("auth/userpass/login/{user}"),
            Some(&json!({"password": "pw-not-secret"})),
            None,
        );
        token_of(&answer, secrets)
    };
    let rita = login("rita", &mut secrets);
    let mut rita_writes = BTreeSet::new();
    for key in ["openai", "mistral"] {
        let path = format!("secret/data/ai/{key}");
        let answer = bao.request(
            &rita,
            "POST",
            &path,
            Some(&json!({"data": {"api_key": "rotated"}})),
            None,
        );
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        rita_writes.insert(("update".to_string(), path));
        assert_eq!(
            bao.request(
                &rita,
                "GET",
                &format!("secret/metadata/ai/{key}"),
                None,
                None
            )
            .status,
            200
        );
    }
    assert_eq!(kv_get(bao, &rita, "ai/openai"), 200);
    assert_eq!(
        bao.request(&rita, "LIST", "secret/metadata/ai/", None, None)
            .status,
        200
    );
    assert_eq!(kv_get(bao, &rita, "team/other"), 403);
    assert_eq!(
        bao.request(&rita, "GET", "sys/policies/acl/auditor", None, None)
            .status,
        403
    );

    // ada audits: key names and policies, never a value; the audit device list needs sudo.
    let ada = login("ada", &mut secrets);
    assert_eq!(
        bao.request(&ada, "LIST", "secret/metadata/", None, None)
            .status,
        200
    );
    assert_eq!(
        bao.request(&ada, "GET", "secret/metadata/ai/openai", None, None)
            .status,
        200
    );
    assert_eq!(
        bao.request(&ada, "GET", "sys/policies/acl/auditor", None, None)
            .status,
        200
    );
    assert_eq!(
        bao.request(&ada, "GET", "sys/audit", None, None).status,
        200
    );
    assert_eq!(kv_get(bao, &ada, "ai/openai"), 403);
    Session {
        log,
        secrets,
        rita_writes,
    }
}

/// One server and log for every check (starting OpenBao costs seconds); the server is
/// stopped when the test ends.
#[test]
fn real_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let bao = Bao::start_with_audit_log(&log);
    let session = setup(&bao, log);
    drop(bao);
    replay_against_the_unchanged_tree_changes_nothing_and_matches_the_server(&session);
    replay_against_a_narrowed_policy_reports_exactly_the_broken_requests(&session);
    replay_warns_when_the_tree_is_not_what_the_server_ran(&session);
    suggestion_installed_on_the_server_allows_what_the_role_did_and_denies_the_rest(&session);
    usage_lists_the_granted_access_the_log_never_used(&session);
    suggestion_is_linted_before_it_is_printed(&session);
    malformed_truncated_and_non_utf8_lines_are_reported_and_the_rest_replayed(&session);
}

fn run(session: &Session, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let (code, stdout, stderr) = capable_sub(dir, "audit", args);
    assert_no_secrets(session, &stdout);
    assert_no_secrets(session, &stderr);
    (code, stdout, stderr)
}

/// `audit replay LOG --against .` in `dir`, JSON, failing on any changed decision and on any
/// request the tree decides differently from the server.
fn replay_against_itself(session: &Session, dir: &Path, log: &str) -> (i32, String, String) {
    let args = ["replay", log, "--against", ".", "--format", "json"];
    let fail_on = ["--fail-on", "changed", "--fail-on", "fidelity"];
    run(session, dir, &[&args[..], &fail_on[..]].concat())
}

/// No token, accessor, HMAC or secret value the session saw or the log holds may be printed.
fn assert_no_secrets(session: &Session, output: &str) {
    assert!(
        !output.contains("hmac-sha256"),
        "an HMAC was printed:\n{output}"
    );
    for secret in &session.secrets {
        assert!(
            !output.contains(secret.as_str()),
            "a secret was printed:\n{output}"
        );
    }
    for hmac in hmacs_in_log(session) {
        let digest = hmac.trim_start_matches("hmac-sha256:");
        assert!(!output.contains(digest), "an HMAC was printed:\n{output}");
    }
}

fn hmacs_in_log(session: &Session) -> BTreeSet<String> {
    let text = std::fs::read_to_string(&session.log).unwrap();
    let mut found = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("hmac-sha256:") {
        let tail = &rest[start..];
        let end = tail.find(['"', ',', '}']).unwrap_or(tail.len());
        found.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    assert!(found.len() > 10, "the log should hold HMACs");
    found
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn log_arg(session: &Session) -> String {
    session.log.display().to_string()
}

fn replay_against_the_unchanged_tree_changes_nothing_and_matches_the_server(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let log = log_arg(s);
    let (code, stdout, stderr) = replay_against_itself(s, dir.path(), &log);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report = json_of(&stdout);
    assert_eq!(report["version"], 1);
    assert_eq!(report["fidelity"], json!([]), "{stdout}");
    assert_eq!(report["newly_denied"], json!([]));
    assert_eq!(report["newly_allowed"], json!([]));
    assert_eq!(report["read"]["bad_lines"], 0);
    assert!(report["replayed"].as_u64().unwrap() > 20, "{stdout}");
    assert_eq!(report["undecidable"], 0);
}

/// (subject, operation, path) of each group of a JSON report's list.
fn groups(report: &Value, list: &str) -> BTreeSet<(String, String, String)> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["subject"].as_str().unwrap().to_string(),
                g["operation"].as_str().unwrap().to_string(),
                g["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn replay_against_a_narrowed_policy_reports_exactly_the_broken_requests(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let proposed = dir.path().join("proposed");
    write_tree(&base);
    write_tree(&proposed);
    // The change under review: key rotation loses `update` on the data paths.
    let narrowed = policy_text("key-rotation").replace(
        "capabilities = [\"create\", \"read\", \"update\"]",
        "capabilities = [\"create\", \"read\"]",
    );
    assert_ne!(narrowed, policy_text("key-rotation"));
    std::fs::write(proposed.join("key-rotation.hcl"), narrowed).unwrap();
    let log = log_arg(s);
    let (code, stdout, stderr) = run(
        s,
        &base,
        &[
            "replay",
            &log,
            "--against",
            "../proposed",
            "--format",
            "json",
            "--fail-on",
            "broken",
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let report = json_of(&stdout);
    let expected: BTreeSet<(String, String, String)> = s
        .rita_writes
        .iter()
        .map(|(op, path)| ("role `userpass/rita`".to_string(), op.clone(), path.clone()))
        .collect();
    assert_eq!(groups(&report, "newly_denied"), expected, "{stdout}");
    assert_eq!(report["newly_allowed"], json!([]));
    assert_eq!(report["fidelity"], json!([]));
    let first = &report["newly_denied"][0];
    assert_eq!(first["before"]["allowed"], true);
    assert_eq!(first["before"]["rule"]["pattern"], "secret/data/ai/*");
    assert_eq!(first["after"]["reason"], "the rule lacks `update`");
    // Grouped by endpoint too: the catalog's name of the path, the mount from `capable.yaml`.
    assert_eq!(first["endpoint"]["kind"], "kv-v2", "{stdout}");
    assert_eq!(first["endpoint"]["template"], "data/{path}");

    // The same change read from git: the base is the previous commit, the proposal the work tree.
    let repo = dir.path().join("repo");
    write_tree(&repo);
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    std::fs::copy(
        proposed.join("key-rotation.hcl"),
        repo.join("key-rotation.hcl"),
    )
    .unwrap();
    let (code, stdout, _) = run(
        s,
        &repo,
        &[
            "replay",
            &log,
            "--base",
            "git:HEAD",
            "--against",
            ".",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(groups(&json_of(&stdout), "newly_denied"), expected);

    // People read the same answer.
    let (_, human, _) = run(s, &base, &["replay", &log, "--against", "../proposed"]);
    assert!(
        human.contains("newly denied: 2 requests in 2 groups"),
        "{human}"
    );
    assert!(human.contains("role `userpass/rita`"), "{human}");
    assert!(human.contains("the rule lacks `update`"), "{human}");
    assert!(
        human.contains("      endpoint: kv v2 `secret/data/{path}`\n"),
        "{human}"
    );
}

fn replay_warns_when_the_tree_is_not_what_the_server_ran(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    // The server denied Anthropic to the evaluation job; this tree would allow it.
    std::fs::write(
        dir.path().join("model-eval.hcl"),
        "path \"secret/data/ai/*\" {\n  capabilities = [\"read\"]\n}\n",
    )
    .unwrap();
    let log = log_arg(s);
    let (code, stdout, _) = run(
        s,
        dir.path(),
        &["replay", &log, "--format", "json", "--fail-on", "fidelity"],
    );
    assert_eq!(code, 1);
    let expected: BTreeSet<_> = [(
        "role `token/model-eval`".to_string(),
        "read".to_string(),
        "secret/data/ai/anthropic".to_string(),
    )]
    .into();
    assert_eq!(groups(&json_of(&stdout), "fidelity"), expected, "{stdout}");
}

fn suggestion_installed_on_the_server_allows_what_the_role_did_and_denies_the_rest(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let log = log_arg(s);
    let (code, stdout, stderr) = run(s, dir.path(), &["suggest", &log, "--role", "userpass/rita"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // Each rule is commented with the requests it covers: rita rotated Mistral's key once.
    assert!(
        stdout.contains("# 1 request: update 1\npath \"secret/data/ai/mistral\""),
        "{stdout}"
    );
    let (_, json_out, _) = run(
        s,
        dir.path(),
        &[
            "suggest",
            &log,
            "--role",
            "userpass/rita",
            "--format",
            "json",
        ],
    );
    let suggestion = json_of(&json_out);
    assert_eq!(suggestion["uncovered"], 0);
    let openai = suggestion["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["pattern"] == "secret/data/ai/openai")
        .unwrap_or_else(|| panic!("{json_out}"));
    assert_eq!(
        openai["by_operation"],
        json!({"read": 1, "update": 1}),
        "{json_out}"
    );
    assert_eq!(
        openai["capabilities"],
        json!(["create", "read", "update"]),
        "{json_out}"
    );

    let bao = Bao::start();
    assert_eq!(bao.put_policy("suggested", &stdout).status, 204, "{stdout}");
    let token = bao.token_with(&["suggested"]);
    // Every request the server allowed rita, by operation and path.
    let allowed = allowed_requests_of(&s.log, "userpass-rita");
    assert!(allowed.len() >= 5, "{allowed:?}");
    let paths: Vec<String> = allowed.iter().map(|(_, p)| p.clone()).collect();
    let caps = bao.capabilities(&token, &paths);
    for (operation, path) in &allowed {
        let needed = if operation == "create" || operation == "update" {
            vec!["update", "create"]
        } else {
            vec![operation.as_str()]
        };
        for capability in needed {
            assert!(
                caps[path].iter().any(|c| c == capability),
                "{operation} {path}: {:?}\n{stdout}",
                caps[path]
            );
        }
    }
    // A sample of what rita did not do (or was denied) stays denied.
    let others: Vec<String> = [
        "secret/data/team/other",
        "secret/data/ai/anthropic",
        "secret/metadata/ai/anthropic",
        "sys/policies/acl/auditor",
        "secret/metadata/",
        "sys/audit",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let caps = bao.capabilities(&token, &others);
    for path in &others {
        assert_eq!(caps[path], vec!["deny".to_string()], "{path}\n{stdout}");
    }

    // --diff: the group policy's wildcard is what the suggestion takes away.
    let (_, diffed, _) = run(
        s,
        dir.path(),
        &["suggest", &log, "--role", "userpass/rita", "--diff"],
    );
    assert!(
        diffed.contains("# - path `secret/data/ai/*` removed: [create, read, update]"),
        "{diffed}"
    );
}

/// ada listed every key name of `secret/`: the suggestion grants exactly that, and the lint
/// catalog says what such a grant means, beside the policy (stderr) and in the JSON.
fn suggestion_is_linted_before_it_is_printed(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let log = log_arg(s);
    let (code, stdout, stderr) = run(s, dir.path(), &["suggest", &log, "--role", "userpass/ada"]);
    assert_eq!(code, 0, "a note is below the fail level\n{stderr}");
    assert!(stdout.contains("path \"secret/metadata/\""), "{stdout}");
    assert!(stderr.contains("broad-secret-access"), "{stderr}");
    assert!(stderr.contains("suggested.hcl"), "{stderr}");
    let (_, json_out, _) = run(
        s,
        dir.path(),
        &[
            "suggest",
            &log,
            "--role",
            "userpass/ada",
            "--format",
            "json",
        ],
    );
    let lint = json_of(&json_out)["lint"].clone();
    let rules: Vec<&str> = lint
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"broad-secret-access"), "{json_out}");
    // At the fail level the suggestion is still printed, and the exit status says so.
    std::fs::write(
        dir.path().join("capable.yaml"),
        format!("{INVENTORY}fail-level: info\n"),
    )
    .unwrap();
    let (code, stdout, _) = run(s, dir.path(), &["suggest", &log, "--role", "userpass/ada"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("path \"secret/metadata/\""), "{stdout}");
}

/// (operation, path) of the requests the server allowed a display name (ACL-decided ones).
fn allowed_requests_of(log: &Path, display: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if entry["type"] != "response" || entry["auth"]["display_name"] != display {
            continue;
        }
        let granted = entry["auth"]["policy_results"]["granting_policies"]
            .as_array()
            .is_some_and(|g| g.iter().any(|p| p["name"] != "default"));
        if entry["auth"]["policy_results"]["allowed"] == true && granted {
            found.insert((
                entry["request"]["operation"].as_str().unwrap().to_string(),
                entry["request"]["path"].as_str().unwrap().to_string(),
            ));
        }
    }
    found
}

fn usage_lists_the_granted_access_the_log_never_used(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let log = log_arg(s);
    let (code, stdout, _) = run(
        s,
        dir.path(),
        &["usage", &log, "--role", "userpass/ada", "--format", "json"],
    );
    assert_eq!(code, 0);
    let report = json_of(&stdout);
    let rules = report["rules"].as_array().unwrap();
    let rule = |pattern: &str| {
        rules
            .iter()
            .find(|r| r["rule"]["pattern"] == pattern)
            .unwrap_or_else(|| panic!("no rule {pattern}: {stdout}"))
    };
    // ada read one policy and never listed them.
    assert_eq!(rule("sys/policies/acl/*")["used"], json!({"read": 1}));
    assert_eq!(rule("sys/policies/acl/*")["unused"], json!(["list"]));
    assert_eq!(
        rule("secret/metadata/*")["used"],
        json!({"read": 1, "list": 1})
    );
    // The audit device list was read with sudo: both used.
    assert_eq!(rule("sys/audit")["unused"], json!([]));
    let (_, human, _) = run(s, dir.path(), &["usage", &log, "--role", "userpass/ada"]);
    assert!(
        human.contains("`sys/policies/acl/*` read 1; never: list"),
        "{human}"
    );
}

fn malformed_truncated_and_non_utf8_lines_are_reported_and_the_rest_replayed(s: &Session) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let good = std::fs::read(&s.log).unwrap();
    let good_lines = good
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let mut bad = good.clone();
    bad.extend_from_slice(b"not json at all\n");
    bad.extend_from_slice(b"{\"type\":\"response\",\"request\":{\"path\":\"secret/\xff\"}}\n");
    bad.extend_from_slice(b"{\"type\":\"response\",\"request\":{\"path\":\"secret/da");
    // Gzip, read from stdin: the same answer as the plain file.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&bad).unwrap();
    let gz = encoder.finish().unwrap();
    let output = support::cli::command()
        .args(["audit", "replay", "-", "--format", "json"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(&gz)?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_no_secrets(s, &stdout);
    let report = json_of(&stdout);
    assert_eq!(report["read"]["bad_lines"], 3, "{stdout}");
    let lines: Vec<u64> = report["read"]["bad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    let n = good_lines as u64;
    assert_eq!(lines, vec![n + 1, n + 2, n + 3]);
    assert_eq!(report["fidelity"], json!([]));
    let plain = dir.path().join("audit.log");
    std::fs::write(&plain, &good).unwrap();
    let (_, clean, _) = run(s, dir.path(), &["replay", "audit.log", "--format", "json"]);
    assert_eq!(json_of(&clean)["replayed"], report["replayed"]);
    // People see the line numbers and reasons.
    let bad_file = dir.path().join("bad.log");
    std::fs::write(&bad_file, &bad).unwrap();
    let (_, human, _) = run(s, dir.path(), &["replay", "bad.log"]);
    assert!(
        human.contains(&format!("bad.log:{}: not UTF-8", n + 2)),
        "{human}"
    );
    assert!(
        human.contains(&format!("bad.log:{}: truncated", n + 3)),
        "{human}"
    );
}

/// Kubernetes logins, built by hand from the documented entry format, replayed against the
/// example tree itself (`policies/`, whose inventory names the Kubernetes roles).
#[test]
fn kubernetes_roles_are_found_from_their_login_metadata() {
    let entry = |path: &str, allowed: bool| {
        let mut value = json!({
            "time": "2026-11-30T10:00:00Z",
            "type": "response",
            "auth": {
                "client_token": "hmac-sha256:0001",
                "accessor": "hmac-sha256:0002",
                "display_name": "kubernetes-inference-inference-sa",
                "policies": ["ai-inference-service", "default"],
                "token_policies": ["ai-inference-service", "default"],
                "metadata": {
                    "role": "inference-role",
                    "service_account_name": "inference-sa",
                    "service_account_namespace": "inference",
                    "service_account_uid": "7f0c0c3e",
                    "service_account_secret_name": ""
                },
                "policy_results": {"allowed": allowed},
                "token_type": "service"
            },
            "request": {
                "operation": "read",
                "mount_point": "secret/",
                "mount_type": "kv",
                "client_token": "hmac-sha256:0001",
                "namespace": {"id": "root"},
                "path": path
            }
        });
        if allowed {
            value["auth"]["policy_results"]["granting_policies"] =
                json!([{"name": "ai-inference-service", "type": "acl"}]);
        } else {
            value["error"] = json!("1 error occurred:\n\t* permission denied\n\n");
        }
        value.to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("k8s.log");
    let text = [
        entry("secret/data/ai/openai", true),
        entry("secret/data/ai/openai", true),
        entry("secret/data/ai/anthropic", false),
    ]
    .join("\n");
    std::fs::write(&log, text).unwrap();
    let log = log.display().to_string();
    let example = Path::new(EXAMPLE);
    let (code, stdout, _) = capable_sub(
        example,
        "audit",
        &["replay", &log, "--format", "json", "--fail-on", "fidelity"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(json_of(&stdout)["replayed"], 3);
    let (_, stdout, _) = capable_sub(
        example,
        "audit",
        &[
            "usage",
            &log,
            "--role",
            "inference-role",
            "--format",
            "json",
        ],
    );
    let report = json_of(&stdout);
    assert_eq!(report["subject"], "role `kubernetes/inference-role`");
    assert_eq!(report["requests"], 2);
    assert!(!stdout.contains("hmac-sha256"));
}

/// The tree of the namespace test: `lead` in `admin/`, `reader` in `admin/team-a/`.
const NAMESPACED: &str = r#"target: openbao
namespaces:
  admin/: {policies: [lead]}
  admin/team-a/: {policies: [reader]}
"#;

const READER: &str =
    "path \"secret/data/app/*\" {\n  capabilities = [\"create\", \"read\", \"update\"]\n}\n";
const LEAD: &str = "path \"team-a/secret/data/shared/*\" {\n  capabilities = [\"read\"]\n}\n\npath \"team-a/secret/metadata/*\" {\n  capabilities = [\"list\"]\n}\n";

fn write_namespaced_tree(dir: &Path, lead: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("capable.yaml"), NAMESPACED).unwrap();
    std::fs::write(dir.join("reader.hcl"), READER).unwrap();
    std::fs::write(dir.join("lead.hcl"), lead).unwrap();
}

/// (namespace, operation, path) of each group of a JSON report's list.
fn namespaced_groups(report: &Value, list: &str) -> BTreeSet<(String, String, String)> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["namespace"].as_str().unwrap().to_string(),
                g["operation"].as_str().unwrap().to_string(),
                g["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Requests in child namespaces, logged by a real server, are re-decided in their namespace:
/// the path relative to the logged `namespace.path`, the token's policies looked up in the
/// token's namespace (a token of `admin/` used in `admin/team-a/` holds `admin/lead`).
#[test]
fn requests_in_child_namespaces_are_replayed_in_their_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let bao = Bao::start_with_audit_log(&log);
    let root = bao.root_token.clone();
    let mut secrets = vec![root.clone()];
    let answer = bao.root("POST", "sys/namespaces/admin", None);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let answer = bao.request_in("admin/", &root, "POST", "sys/namespaces/team-a", None, None);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let team = "admin/team-a/";
    let mount = json!({"type": "kv", "options": {"version": "2"}});
    let answer = bao.request_in(team, &root, "POST", "sys/mounts/secret", Some(&mount), None);
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    for (namespace, name, text) in [(team, "reader", READER), ("admin/", "lead", LEAD)] {
        let body = json!({"policy": text});
        let path = format!("sys/policies/acl/{name}");
        let answer = bao.request_in(namespace, &root, "PUT", &path, Some(&body), None);
        assert_eq!(answer.status, 204, "{:?}", answer.body);
    }
    let token_in = |namespace: &str, policy: &str, secrets: &mut Vec<String>| {
        let body = json!({"policies": [policy]});
        let answer = bao.request_in(
            namespace,
            &root,
            "POST",
            "auth/token/create",
            Some(&body),
            None,
        );
        token_of(&answer, secrets)
    };
    let reader = token_in(team, "reader", &mut secrets);
    let lead = token_in("admin/", "lead", &mut secrets);
    let write = json!({"data": {"password": "not-a-real-secret"}});
    let call = |namespace: &str, token: &str, method: &str, path: &str, body: Option<&Value>| {
        bao.request_in(namespace, token, method, path, body, None)
            .status
    };
    assert_eq!(
        call(team, &reader, "POST", "secret/data/app/db", Some(&write)),
        200
    );
    assert_eq!(call(team, &reader, "GET", "secret/data/app/db", None), 200);
    assert_eq!(call(team, &reader, "GET", "secret/data/other", None), 403);
    // The lead's token lives in `admin/`: asked in the child, and from `admin/` by full path.
    assert_eq!(call(team, &lead, "GET", "secret/data/shared/x", None), 404);
    assert_eq!(
        call("admin/", &lead, "GET", "team-a/secret/data/shared/y", None),
        404
    );
    assert_eq!(
        call("admin/", &lead, "LIST", "team-a/secret/metadata/", None),
        200
    );
    assert_eq!(call(team, &lead, "GET", "secret/data/app/db", None), 403);
    assert_eq!(
        call("admin/", &lead, "GET", "sys/policies/acl/lead", None),
        403
    );
    // The reader's token used from `admin/` by full path: the server routes it to the child.
    let body = json!({"data": {"password": "x"}});
    let status = call(
        "admin/",
        &reader,
        "POST",
        "team-a/secret/data/app/z",
        Some(&body),
    );
    assert_eq!(status, 200);
    let session = Session {
        log: log.clone(),
        secrets,
        rita_writes: BTreeSet::new(),
    };
    let log = log.display().to_string();

    // The unchanged tree: every request decided as the server did.
    let tree = dir.path().join("tree");
    write_namespaced_tree(&tree, LEAD);
    let (code, stdout, stderr) = replay_against_itself(&session, &tree, &log);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report = json_of(&stdout);
    assert_eq!(report["fidelity"], json!([]), "{stdout}");
    assert_eq!(report["missing_policies"], json!([]), "{stdout}");
    assert_eq!(report["unknown_namespace"], 0);
    assert_eq!(report["undeclared_namespaces"], json!([]));
    let in_team = report["by_namespace"][team].as_u64().unwrap_or(0);
    let in_admin = report["by_namespace"]["admin/"].as_u64().unwrap_or(0);
    assert!(in_team >= 8 && in_admin >= 1, "{stdout}");

    // The lead loses the shared keys: exactly its two reads of them break. The one asked from
    // `admin/` by full path is logged in the namespace the server routed it to.
    let narrowed = dir.path().join("narrowed");
    write_namespaced_tree(&narrowed, &LEAD.replace("[\"read\"]", "[\"list\"]"));
    let (code, stdout, _) = run(
        &session,
        &tree,
        &[
            "replay",
            &log,
            "--against",
            "../narrowed",
            "--format",
            "json",
            "--fail-on",
            "broken",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let report = json_of(&stdout);
    let expected: BTreeSet<(String, String, String)> = [
        (
            team.to_string(),
            "read".to_string(),
            "secret/data/shared/x".to_string(),
        ),
        (team.into(), "read".into(), "secret/data/shared/y".into()),
    ]
    .into();
    assert_eq!(
        namespaced_groups(&report, "newly_denied"),
        expected,
        "{stdout}"
    );
    assert_eq!(report["newly_allowed"], json!([]));
    let (_, human, _) = run(
        &session,
        &tree,
        &["replay", &log, "--against", "../narrowed"],
    );
    assert!(
        human.contains("read `secret/data/shared/x` in namespace `admin/team-a/`: 1 request"),
        "{human}"
    );

    // A tree that puts `reader` in the root namespace is not what the server ran: the token's
    // `reader` is `admin/team-a/reader`, which that tree lacks.
    let flat = dir.path().join("flat");
    write_namespaced_tree(&flat, LEAD);
    std::fs::write(
        flat.join("capable.yaml"),
        "target: openbao\nnamespaces:\n  admin/: {policies: [lead]}\n  admin/team-a/: {}\n",
    )
    .unwrap();
    let (code, stdout, _) = run(
        &session,
        &flat,
        &["replay", &log, "--format", "json", "--fail-on", "fidelity"],
    );
    assert_eq!(code, 1, "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(
        report["missing_policies"],
        json!([["the working tree", ["admin/team-a/reader"]]]),
        "{stdout}"
    );
    let broken: BTreeSet<_> = ["create app/db", "read app/db", "create app/z"]
        .iter()
        .map(|request| {
            let (operation, key) = request.split_once(' ').unwrap();
            let path = format!("secret/data/{key}");
            (team.to_string(), operation.to_string(), path)
        })
        .collect();
    assert_eq!(namespaced_groups(&report, "fidelity"), broken, "{stdout}");

    // The suggestion for `reader` is a policy of `admin/team-a/`; installed there, it allows
    // what the token did and nothing the lead was denied.
    let (code, policy, stderr) = run(
        &session,
        &tree,
        &["suggest", &log, "--policy", "admin/team-a/reader"],
    );
    assert_eq!(code, 0, "{policy}\n{stderr}");
    assert!(
        policy.contains("a policy of the namespace `admin/team-a/`"),
        "{policy}"
    );
    let body = json!({"policy": policy});
    let answer = bao.request_in(
        team,
        &root,
        "PUT",
        "sys/policies/acl/suggested",
        Some(&body),
        None,
    );
    assert_eq!(answer.status, 204, "{:?}\n{policy}", answer.body);
    let body = json!({"policies": ["suggested"], "no_default_policy": true});
    let answer = bao.request_in(team, &root, "POST", "auth/token/create", Some(&body), None);
    let suggested = token_of(&answer, &mut Vec::new());
    let paths: Vec<String> = [
        "secret/data/app/db",
        "secret/data/other",
        "secret/data/shared/x",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let caps = bao.capabilities_in(team, &suggested, &paths);
    assert!(
        caps["secret/data/app/db"].contains(&"read".to_string()),
        "{caps:?}\n{policy}"
    );
    assert!(
        caps["secret/data/app/db"].contains(&"create".to_string()),
        "{caps:?}"
    );
    assert_eq!(caps["secret/data/other"], vec!["deny".to_string()]);
    assert_eq!(caps["secret/data/shared/x"], vec!["deny".to_string()]);

    // usage of the lead's policy: its list rule was used from `admin/`, its read rule twice.
    let (code, stdout, _) = run(
        &session,
        &tree,
        &["usage", &log, "--policy", "admin/lead", "--format", "json"],
    );
    assert_eq!(code, 0, "{stdout}");
    let report = json_of(&stdout);
    let rules = report["rules"].as_array().unwrap();
    let used = |pattern: &str| {
        rules
            .iter()
            .find(|r| r["rule"]["pattern"] == pattern)
            .map(|r| r["used"].clone())
            .unwrap_or_else(|| panic!("no rule {pattern}: {stdout}"))
    };
    assert_eq!(
        used("team-a/secret/data/shared/*"),
        json!({"read": 2}),
        "{stdout}"
    );
    assert_eq!(
        used("team-a/secret/metadata/*"),
        json!({"list": 1}),
        "{stdout}"
    );
}
