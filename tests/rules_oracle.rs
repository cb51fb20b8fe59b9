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
