//! Our built-in data for the `openbao` target checked against a real OpenBao: the `default`
//! policy (spec 5) and the root-protected paths (spec 6).

mod support;

use std::sync::Arc;

use capable::acl::builtin::{
    default_policy, requires_sudo, requires_sudo_with_mounts, sudo_patterns,
};
use capable::acl::{Acl, Identity, Operation, Request};
use capable::policy::{parse_policy, CapSet, PathPattern, PatternKind, Policy};
use capable::source::SourceFile;
use capable::target::Target;
use serde_json::json;

use support::bao::Bao;

const TARGET: Target = Target::OpenBao;

/// Paths around every rule of both default policies (each label, its children, trailing
/// slashes, near misses, the two Vault-only paths).
fn default_policy_probe_paths() -> Vec<String> {
    let mut paths = Vec::new();
    for target in [Target::Vault, Target::OpenBao] {
        for rule in default_policy(target).rules {
            let label = rule
                .raw_pattern
                .replace("{{identity.entity.id}}", "some-id")
                .replace("{{identity.entity.name}}", "some-name")
                .replace('+', "provider-1");
            let base = label.trim_end_matches('*').to_string();
            for path in [
                base.clone(),
                format!("{base}/"),
                format!("{base}x"),
                format!("{base}/x"),
                base.trim_end_matches('/').to_string(),
            ] {
                if !path.is_empty() && !paths.contains(&path) {
                    paths.push(path);
                }
            }
        }
    }
    paths.extend(
        [
            "cubbyhole",
            "cubbyhole/a/b",
            "identity/oidc/provider/p/authorize/",
            "identity/oidc/provider//authorize",
            "identity/entity/id/",
            "sys/tools/random",
            "secret/data/x",
        ]
        .map(String::from),
    );
    paths
}

fn default_only_token(bao: &Bao) -> String {
    let answer = bao.root(
        "POST",
        "auth/token/create",
        Some(&json!({ "policies": ["default"], "no_default_policy": false, "ttl": "1h" })),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["auth"]["client_token"]
        .as_str()
        .expect("client_token")
        .to_string()
}

fn server_default_policy(bao: &Bao) -> Policy {
    let answer = bao.root("GET", "sys/policies/acl/default", None);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let text = answer.body["data"]["policy"]
        .as_str()
        .expect("policy text")
        .to_string();
    let parsed = parse_policy(Arc::new(SourceFile::new("default.hcl", text)), TARGET);
    parsed.policy.unwrap_or_else(|| {
        panic!(
            "we refuse OpenBao's default policy: {:?}",
            parsed.diagnostics
        )
    })
}

/// The rules as (label, capabilities), sorted: what a policy grants, independent of comments
/// and order.
fn rule_set(policy: &Policy) -> Vec<(String, u16)> {
    let mut rules: Vec<(String, u16)> = policy
        .rules
        .iter()
        .map(|rule| (rule.raw_pattern.clone(), rule.capabilities.bits()))
        .collect();
    rules.sort();
    rules
}

#[test]
fn openbao_default_policy_grants_what_the_server_grants() {
    let bao = Bao::start();
    let ours = default_policy(TARGET);
    let theirs = server_default_policy(&bao);
    assert_eq!(rule_set(&ours), rule_set(&theirs));

    let token = default_only_token(&bao);
    let paths = default_policy_probe_paths();
    let answers = bao.capabilities(&token, &paths);
    let acl = Acl::new(&[&ours], TARGET, None).expect("acl");
    let mut differences = Vec::new();
    for path in &paths {
        let ours: Vec<String> = acl
            .capabilities(path)
            .0
            .into_iter()
            .map(String::from)
            .collect();
        if ours != answers[path] {
            differences.push(format!(
                "`{path}`: capable {ours:?}, OpenBao {:?}",
                answers[path]
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // The probe set must exercise grants and denials alike.
    let granted = paths.iter().filter(|p| answers[*p] != ["deny"]).count();
    assert!(
        granted >= 15 && granted < paths.len(),
        "{granted} of {}",
        paths.len()
    );
    assert_eq!(answers["sys/renew"], ["deny"]);
    assert_eq!(answers["sys/control-group/request"], ["deny"]);
}

/// A token holding only `default`, attached to an entity (through a token role that allows
/// an entity alias): (token, entity id, entity name).
fn entity_token(bao: &Bao) -> (String, String, String) {
    let role = bao.root(
        "POST",
        "auth/token/roles/with-entity",
        Some(&json!({ "allowed_entity_aliases": ["alice"], "orphan": true })),
    );
    assert_eq!(role.status, 204, "{:?}", role.body);
    let created = bao.root(
        "POST",
        "auth/token/create/with-entity",
        Some(&json!({ "entity_alias": "alice", "policies": ["default"] })),
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    let token = created.body["auth"]["client_token"]
        .as_str()
        .expect("token");
    let entity_id = created.body["auth"]["entity_id"].as_str().expect("entity");
    let entity = bao.root("GET", &format!("identity/entity/id/{entity_id}"), None);
    let entity_name = entity.body["data"]["name"].as_str().expect("entity name");
    (
        token.to_string(),
        entity_id.to_string(),
        entity_name.to_string(),
    )
}

#[test]
fn default_policy_templates_resolve_like_openbao() {
    let bao = Bao::start();
    let (token, entity_id, entity_name) = entity_token(&bao);
    let identity = Identity {
        entity_id: entity_id.clone(),
        entity_name: entity_name.clone(),
        ..Identity::default()
    };
    let paths: Vec<String> = vec![
        format!("identity/entity/id/{entity_id}"),
        format!("identity/entity/name/{entity_name}"),
        format!("identity/entity/id/{entity_id}/"),
        format!("identity/entity/id/{entity_id}x"),
        format!("identity/entity/name/{entity_id}"),
        format!("identity/entity/id/{entity_name}"),
        "identity/entity/id/someone-else".to_string(),
        "cubbyhole/x".to_string(),
    ];
    let answers = bao.capabilities(&token, &paths);
    let policy = default_policy(TARGET);
    let acl = Acl::new(&[&policy], TARGET, Some(&identity)).expect("acl");
    for path in &paths {
        let ours: Vec<String> = acl
            .capabilities(path)
            .0
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(ours, answers[path], "{path}");
    }
    assert_eq!(answers[&paths[0]], ["read"], "the entity must resolve");
}

#[test]
fn vault_default_policy_is_openbao_plus_two_paths() {
    // Spec 5: Vault's default adds `sys/renew` and `sys/control-group/request` (update).
    let vault = rule_set(&default_policy(Target::Vault));
    let openbao = rule_set(&default_policy(Target::OpenBao));
    let update = CapSet::of(&[capable::policy::Capability::Update]).bits();
    let extra: Vec<&(String, u16)> = vault.iter().filter(|r| !openbao.contains(r)).collect();
    assert_eq!(
        extra,
        [
            &("sys/control-group/request".to_string(), update),
            &("sys/renew".to_string(), update)
        ]
    );
    assert!(openbao.iter().all(|r| vault.contains(r)));
}

// ---------------------------------------------------------------------------------------------
// Sudo
// ---------------------------------------------------------------------------------------------

/// Every capability OpenBao knows except sudo (and deny), on everything.
const NO_SUDO: &str = r#"path "*" {
  capabilities = ["create", "read", "update", "delete", "list", "patch", "scan"]
}
"#;
const WITH_SUDO: &str = r#"path "*" {
  capabilities = ["create", "read", "update", "delete", "list", "patch", "scan", "sudo"]
}
"#;

const PKI_MOUNTS: &[&str] = &["pki/", "pki-int/"];

/// Read-only probes: (method, path as sent). LIST paths get their trailing `/` from the HTTP
/// layer, so the ACL sees `path/`.
fn sudo_probes() -> Vec<(&'static str, String)> {
    let mut paths: Vec<String> = Vec::new();
    let mut add = |path: String| {
        if !path.is_empty() && !paths.contains(&path) {
            paths.push(path);
        }
    };
    for pattern in sudo_patterns(TARGET) {
        if pattern == "sys/seal" || pattern == "sys/step-down" {
            continue;
        }
        let parsed = PathPattern::parse(pattern).expect("pattern");
        let key = parsed.key().to_string();
        add(key.clone());
        add(format!("{key}x"));
        add(format!("{}x", key.trim_end_matches('/')));
        add(key.trim_end_matches('/').to_string());
        if parsed.kind == PatternKind::Prefix {
            add(format!("{key}a/b"));
        } else {
            add(format!("{key}/"));
            add(format!("{key}/x"));
            let mut shorter = key.clone();
            shorter.pop();
            add(shorter);
        }
    }
    // Vault-only rows and other near misses must not be protected on OpenBao.
    for path in [
        "sys/auth",
        "sys/auth/token/tune",
        "sys/leases/lookup",
        "sys/leases/lookup/",
        "sys/leases/renew",
        "sys/replication/reindex",
        "sys/replication/dr/primary/secondary-token",
        "sys/storage/raft/snapshot-auto/config/x",
        "sys/rotate/config",
        "sys/mounts",
        "sys/policies/acl",
        "sys/internal/ui/mounts",
        "sys/seal-status",
        "auth/token/accessor",
        "auth/token/lookup-self",
        "pki-int/root",
        "pki-int/root/sign-self-issued",
        "pki-int/rootx",
        "pki/roots",
    ] {
        add(path.to_string());
    }
    let mut probes = Vec::new();
    for path in paths {
        probes.push(("GET", path.clone()));
        probes.push(("LIST", path));
    }
    probes
}

fn token_for(bao: &Bao, name: &str, text: &str) -> String {
    let answer = bao.put_policy(name, text);
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    bao.token_with(&[name])
}

fn acl_path(method: &str, path: &str) -> String {
    if method == "LIST" && !path.ends_with('/') {
        return format!("{path}/");
    }
    path.to_string()
}

fn parse(name: &str, text: &str) -> Policy {
    parse_policy(Arc::new(SourceFile::new(name, text)), TARGET)
        .policy
        .expect("test policy parses")
}

#[test]
fn sudo_paths_match_openbao() {
    let bao = Bao::start();
    for mount in PKI_MOUNTS {
        let answer = bao.root(
            "POST",
            &format!("sys/mounts/{}", mount.trim_end_matches('/')),
            Some(&json!({ "type": "pki" })),
        );
        assert_eq!(answer.status, 204, "mount {mount}: {:?}", answer.body);
    }
    let without = token_for(&bao, "nosudo", NO_SUDO);
    let with = token_for(&bao, "withsudo", WITH_SUDO);
    let no_sudo_policy = parse("nosudo.hcl", NO_SUDO);
    let sudo_policy = parse("withsudo.hcl", WITH_SUDO);
    let no_sudo_acl = Acl::new(&[&no_sudo_policy], TARGET, None).expect("acl");
    let sudo_acl = Acl::new(&[&sudo_policy], TARGET, None).expect("acl");

    let probes = sudo_probes();
    let mut failures = Vec::new();
    let mut protected = 0;
    for (method, path) in &probes {
        let seen = acl_path(method, path);
        let expected = requires_sudo_with_mounts(TARGET, &seen, PKI_MOUNTS);
        protected += usize::from(expected);
        let denied = bao.request(&without, method, path, None, None).status == 403;
        if denied != expected {
            failures.push(format!(
                "{method} {path}: OpenBao {} without sudo, requires_sudo says {expected}",
                if denied { "denies" } else { "allows" }
            ));
        }
        let answer = bao.request(&with, method, path, None, None);
        if answer.status == 403 {
            failures.push(format!("{method} {path}: OpenBao denies even with sudo"));
        }
        // The ACL applies the same rule (assuming `pki/` as the only PKI mount).
        let operation = if *method == "LIST" {
            Operation::List
        } else {
            Operation::Read
        };
        let request = Request::new(operation, seen.clone());
        let default_mounts_expected = requires_sudo(TARGET, &seen);
        let decision = no_sudo_acl.authorize(&request);
        if decision.allowed == default_mounts_expected {
            failures.push(format!(
                "{method} {path}: Acl::authorize without sudo allowed={}, sudo required={}",
                decision.allowed, default_mounts_expected
            ));
        }
        if !sudo_acl.authorize(&request).allowed {
            failures.push(format!("{method} {path}: Acl::authorize denies with sudo"));
        }
    }
    assert!(
        protected >= 20 && protected < probes.len() / 2 + 20,
        "{protected} protected of {}",
        probes.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn seal_and_step_down_need_sudo() {
    // Not probed for real: sealing would stop the server. Spec 3.6 / 6: by code, always.
    assert!(requires_sudo(TARGET, "sys/seal"));
    assert!(requires_sudo(TARGET, "sys/step-down"));
    let policy = parse("nosudo.hcl", NO_SUDO);
    let acl = Acl::new(&[&policy], TARGET, None).expect("acl");
    let decision = acl.authorize(&Request::new(Operation::Update, "sys/seal"));
    assert!(!decision.allowed);
}
