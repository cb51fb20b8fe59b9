//! The witnesses of the access rules, confirmed by OpenBao itself: every security finding on
//! the rule fixtures says "`op` on `path`"; the fixture policy is written to a real
//! `bao server -dev`, and `sys/capabilities` for a token holding only that policy must grant
//! that capability on that path (plus `sudo` where the path is root-protected, since the
//! operation would fail without it). Rules run with the `openbao` target here.

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use capable::acl::builtin::requires_sudo;
use capable::config::Mounts;
use capable::diag::Diagnostic;
use capable::lint::codes::RULES;
use capable::lint::PolicyIndex;
use capable::policy::parse_policy;
use capable::source::SourceFile;
use capable::target::Target;
use support::bao::Bao;

/// The rules whose messages name a witness the ACL allowed.
const ACCESS_RULES: &[&str] = &[
    "grants-everything",
    "wildcard-mount",
    "sudo-wildcard",
    "policy-admin",
    "token-create",
    "auth-role-admin",
    "identity-admin",
    "auth-method-admin",
    "audit-admin",
    "mount-admin",
    "plugin-admin",
    "raw-storage",
    "seal-admin",
    "lease-revoke-prefix",
    "broad-secret-access",
    "kv2-destroy",
    "pki-ca-admin",
    "secrets-role-admin",
    "transit-key-export",
];

fn fixture_files(id: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let single = root.join(format!("{id}.hcl"));
    if single.is_file() {
        return vec![single];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(id))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "hcl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn run(id: &str, name: &str, text: &str) -> Vec<Diagnostic> {
    let rule = RULES
        .iter()
        .find(|rule| rule.meta().id == id)
        .expect("registered");
    let source = Arc::new(SourceFile::new(name, text));
    let policy = parse_policy(source, Target::OpenBao)
        .policy
        .expect("fixture parses");
    let index = PolicyIndex::new(&policy, Target::OpenBao).expect("acl");
    let mounts = Mounts::default();
    let ctx = index.context(&mounts);
    let mut found = Vec::new();
    rule.check_policy(&ctx, &mut found);
    found
}

/// The operations and path of "... `update`, `create` on `sys/policy/x` ...": the last
/// "on `path`" of the message and the backticked words right before it.
fn witness(message: &str) -> Option<(Vec<String>, String)> {
    let at = message.rfind(" on `")?;
    let rest = &message[at + " on `".len()..];
    let path = rest[..rest.find('`')?].to_string();
    let before = &message[..at];
    let mut operations = Vec::new();
    let mut text = before.trim_end();
    while let Some(stripped) = text.strip_suffix('`') {
        let open = stripped.rfind('`')?;
        operations.push(stripped[open + 1..].to_string());
        text = stripped[..open].trim_end().trim_end_matches(',').trim_end();
    }
    (!operations.is_empty()).then_some((operations, path))
}

#[test]
fn witnesses_are_granted_by_openbao() {
    let bao = Bao::start();
    let mut checked = 0;
    let mut problems = Vec::new();
    for id in ACCESS_RULES {
        for (index, path) in fixture_files(id).iter().enumerate() {
            let text = std::fs::read_to_string(path).expect("fixture");
            // Templated rules apply only to tokens with an entity; the harness's tokens have
            // none, so those witnesses are checked by the ACL's own template tests.
            if text.contains("{{") {
                continue;
            }
            let name = format!("{id}-{index}");
            let diagnostics = run(id, &name, &text);
            if diagnostics.is_empty() {
                continue;
            }
            let accepted = bao.put_policy(&name, &text);
            assert_eq!(accepted.status, 204, "{name}: {:?}", accepted.body);
            let token = bao.token_with(&[&name]);
            for diagnostic in &diagnostics {
                let Some((operations, witness_path)) = witness(&diagnostic.message) else {
                    problems.push(format!("{id}: no witness in `{}`", diagnostic.message));
                    continue;
                };
                let answer = bao.capabilities(&token, std::slice::from_ref(&witness_path));
                let granted = &answer[&witness_path];
                for operation in &operations {
                    if !granted.contains(operation) {
                        problems.push(format!(
                            "{id} ({}): OpenBao grants {granted:?} on `{witness_path}`, not \
                             `{operation}`",
                            path.display()
                        ));
                    }
                }
                if requires_sudo(Target::OpenBao, &witness_path)
                    && !granted.contains(&"sudo".to_string())
                {
                    problems.push(format!(
                        "{id}: `{witness_path}` is root-protected but OpenBao grants {granted:?}"
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        checked >= ACCESS_RULES.len(),
        "only {checked} witnesses checked"
    );
}

#[test]
fn witness_parsing() {
    assert_eq!(
        witness("grants `update`, `create` on `sys/policy/x`: holders can"),
        Some((
            vec!["create".to_string(), "update".to_string()],
            "sys/policy/x".to_string()
        ))
    );
    assert_eq!(
        witness("`*` grants `read` on every path: e.g. `read` on `anything`"),
        Some((vec!["read".to_string()], "anything".to_string()))
    );
}

/// `denied-parameter-bypass`: its fixture's deny-list of `super-admin` on `auth/token/create`
/// is flagged, and OpenBao shows why: the exact string is refused, while a JSON list and a
/// case variant pass and mint a token that holds `super-admin`.
#[test]
fn denied_parameter_bypass_is_real_on_openbao() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/denied-parameter-bypass/openbao.hcl");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let diagnostics = run("denied-parameter-bypass", "bypass", &text);
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.contains("`auth/token/create`") && d.message.contains("super-admin")),
        "the fixture's token-create deny-list is flagged: {diagnostics:#?}"
    );
    let bao = Bao::start();
    let accepted = bao.put_policy("bypass", &text);
    assert_eq!(accepted.status, 204, "{:?}", accepted.body);
    let admin = bao.put_policy(
        "super-admin",
        "path \"*\" {\n  capabilities = [\"sudo\"]\n}\n",
    );
    assert_eq!(admin.status, 204, "{:?}", admin.body);
    let token = bao.token_with(&["bypass"]);
    let create = |policies: serde_json::Value| {
        let body = serde_json::json!({ "policies": policies, "no_default_policy": true });
        bao.request(&token, "POST", "auth/token/create", Some(&body), None)
    };
    let exact = create(serde_json::json!("super-admin"));
    assert_eq!(
        exact.status, 403,
        "the exact string is denied: {:?}",
        exact.body
    );
    for bypass in [
        serde_json::json!(["super-admin"]),
        serde_json::json!(["default", "super-admin"]),
        serde_json::json!("Super-Admin"),
        serde_json::json!(" super-admin"),
    ] {
        let answer = create(bypass.clone());
        assert_eq!(
            answer.status, 200,
            "{bypass} passes the deny-list: {:?}",
            answer.body
        );
        let granted: Vec<&str> = answer.body["auth"]["policies"]
            .as_array()
            .map(|names| names.iter().filter_map(|n| n.as_str()).collect())
            .unwrap_or_default();
        assert!(
            granted.contains(&"super-admin"),
            "{bypass} mints a token holding `super-admin`: {granted:?}"
        );
    }
}

/// The findings of one rule on its own fixture, with the fixture text.
fn fixture_findings(id: &str) -> Vec<(String, Vec<Diagnostic>)> {
    fixture_files(id)
        .iter()
        .enumerate()
        .map(|(index, path)| {
            let text = std::fs::read_to_string(path).expect("fixture");
            let found = run(id, &format!("{id}-{index}"), &text);
            (text, found)
        })
        .collect()
}

/// The first backticked word after `marker` in a message.
fn backticked_after<'m>(message: &'m str, marker: &str) -> Option<&'m str> {
    let rest = &message[message.find(marker)? + marker.len()..];
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    Some(&rest[start..end])
}

/// The HTTP method and request path of an operation on a path.
fn http(operation: &str, path: &str) -> (&'static str, String) {
    match operation {
        "read" => ("GET", path.to_string()),
        "list" => ("LIST", format!("{}/", path.trim_end_matches('/'))),
        "delete" => ("DELETE", path.to_string()),
        "patch" => ("PATCH", path.to_string()),
        _ => ("POST", path.to_string()),
    }
}

fn permission_denied(answer: &support::bao::Answer) -> bool {
    answer.status == 403 && answer.errors().contains("permission denied")
}

/// `sudo-missing`: the example request of each finding ("e.g. `update sys/auth/x`") is
/// refused on the real server for a token holding the fixture policy, and goes through the
/// ACL once `sudo` is added to the policy's capabilities.
#[test]
fn sudo_missing_grants_are_refused_by_openbao() {
    let bao = Bao::start();
    let pki = bao.root(
        "POST",
        "sys/mounts/pki",
        Some(&serde_json::json!({"type": "pki"})),
    );
    assert_eq!(pki.status, 204, "{:?}", pki.body);
    let mut checked = 0;
    for (index, (text, found)) in fixture_findings("sudo-missing").into_iter().enumerate() {
        let name = format!("sudo-missing-{index}");
        assert_eq!(bao.put_policy(&name, &text).status, 204);
        let with_sudo = text.replace("capabilities = [", "capabilities = [\"sudo\", ");
        let sudo_name = format!("{name}-sudo");
        assert_eq!(bao.put_policy(&sudo_name, &with_sudo).status, 204);
        let token = bao.token_with(&[&name]);
        let sudo_token = bao.token_with(&[&sudo_name]);
        for diagnostic in found {
            let example = backticked_after(&diagnostic.message, "e.g. ")
                .unwrap_or_else(|| panic!("no example in `{}`", diagnostic.message));
            let (operation, path) = example.split_once(' ').expect("`op path`");
            let (method, path) = http(operation, path);
            let body = (method == "POST").then(|| serde_json::json!({}));
            let refused = bao.request(&token, method, &path, body.as_ref(), None);
            assert!(
                permission_denied(&refused),
                "{method} {path} without sudo: {} {:?}",
                refused.status,
                refused.body
            );
            let allowed = bao.request(&sudo_token, method, &path, body.as_ref(), None);
            assert!(
                !permission_denied(&allowed),
                "{method} {path} with sudo: {:?}",
                allowed.body
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} findings checked");
}

/// `unauthenticated-path`: for each finding, a request to the endpoint it names, sent with a
/// token holding the fixture policy (its `deny` included), is not refused by any policy.
#[test]
fn unauthenticated_path_rules_do_not_stop_requests() {
    let bao = Bao::start();
    let mut checked = 0;
    for (index, (text, found)) in fixture_findings("unauthenticated-path")
        .into_iter()
        .enumerate()
    {
        let name = format!("unauthenticated-{index}");
        assert_eq!(bao.put_policy(&name, &text).status, 204);
        let token = bao.token_with(&[&name]);
        for diagnostic in found {
            let template = backticked_after(&diagnostic.message, "(")
                .unwrap_or_else(|| panic!("no endpoint in `{}`", diagnostic.message));
            let path = template.replace("{", "").replace("}", "");
            let map_mounts = Mounts::default();
            let map = capable::endpoints::MountMap::from_patterns(Target::OpenBao, &map_mounts, []);
            let (_, endpoint) = map
                .endpoint(&path)
                .unwrap_or_else(|| panic!("`{path}` is no endpoint"));
            let operation = if endpoint
                .capabilities
                .contains(capable::policy::Capability::Read)
            {
                "read"
            } else {
                "update"
            };
            let (method, path) = http(operation, &path);
            let body = (method == "POST").then(|| serde_json::json!({}));
            let answer = bao.request(&token, method, &path, body.as_ref(), None);
            assert!(
                !permission_denied(&answer),
                "{method} {path} was refused: {:?}",
                answer.body
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} findings checked");
}

/// `capability-unsupported`: each capability it calls never checked is never needed: even
/// the root token's request for that operation on the path is refused as unsupported.
#[test]
fn capability_unsupported_capabilities_are_never_needed() {
    let bao = Bao::start();
    let database = bao.root(
        "POST",
        "sys/mounts/database",
        Some(&serde_json::json!({"type": "database"})),
    );
    assert_eq!(database.status, 204, "{:?}", database.body);
    let mut checked = 0;
    for (_, found) in fixture_findings("capability-unsupported") {
        for diagnostic in found {
            let (operations, path) = witness(&diagnostic.message.replace(" is never", ""))
                .unwrap_or_else(|| panic!("no capabilities in `{}`", diagnostic.message));
            for operation in operations {
                let (method, request_path) = http(&operation, &path);
                let body = (method == "POST").then(|| serde_json::json!({}));
                let answer = bao.root(method, &request_path, body.as_ref());
                let unsupported = answer.status == 405
                    || answer.errors().contains("unsupported operation")
                    || answer.errors().contains("unsupported path");
                assert!(
                    unsupported,
                    "{method} {request_path} as root: {} {:?}",
                    answer.status, answer.body
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "only {checked} capabilities checked");
}
