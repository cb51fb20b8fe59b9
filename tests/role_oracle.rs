//! OpenBao differential for a role: a real `userpass` login whose token carries the user's
//! policies, `default`, an entity with its own policy and an alias on the userpass mount, and
//! two groups (one the parent of the other) with policies, one of them templated on the
//! entity's name, metadata, alias and group metadata, and one on a metadata key the entity
//! lacks (skipped). Our `Inventory::acl_for(role)` must give the same
//! `sys/capabilities` answers as the server for that token, on many paths; `reach` must agree
//! capability by capability.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use capable::config::Config;
use capable::inventory::{Inventory, Subject};
use capable::policy::Capability;
use capable::query::reach::Reach;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use serde_json::json;
use support::bao::Bao;

const USER_POLICY: &str = r#"
path "secret/data/app/*" { capabilities = ["read"] }
path "secret/metadata/app/*" { capabilities = ["list"] }
path "secret/data/app/private" { capabilities = ["deny"] }
path "secret/data/team/+/notes" { capabilities = ["read", "patch"] }
"#;

const ENTITY_POLICY: &str = r#"
path "transit/encrypt/app" { capabilities = ["update"] }
path "secret/data/app/shared" { capabilities = ["update"] }
"#;

const GROUP_POLICY: &str = r#"
path "secret/data/team/*" { capabilities = ["create", "update"] }
path "secret/data/app/private" { capabilities = ["read"] }
"#;

const PARENT_POLICY: &str = r#"
path "sys/policies/acl/*" { capabilities = ["read", "list"] }
path "secret/data/app/*" { capabilities = ["delete"] }
"#;

fn templated_policy(accessor: &str) -> String {
    format!(
        r#"
path "secret/data/users/{{{{identity.entity.name}}}}/*" {{ capabilities = ["create", "read", "update"] }}
path "secret/data/by-team/{{{{identity.entity.metadata.team}}}}" {{ capabilities = ["read"] }}
path "secret/data/by-alias/{{{{identity.entity.aliases.{accessor}.name}}}}/*" {{ capabilities = ["read", "list"] }}
path "secret/data/by-floor/{{{{identity.groups.names.eng.metadata.floor}}}}" {{ capabilities = ["read"] }}
path "secret/data/missing/{{{{identity.entity.metadata.nope}}}}" {{ capabilities = ["read"] }}
path "secret/data/ids/{{{{identity.entity.id}}}}" {{ capabilities = ["read"] }}
"#
    )
}

fn ok(answer: &support::bao::Answer, what: &str) {
    assert!(
        (200..300).contains(&answer.status),
        "{what} failed: {} {:?}",
        answer.status,
        answer.body
    );
}

/// The server side: mounts, policies, user, entity, alias, groups; returns (token, accessor,
/// entity id, eng group id, all group id).
fn set_up(bao: &Bao) -> (String, String, String, String, String) {
    ok(
        &bao.root(
            "POST",
            "sys/auth/userpass",
            Some(&json!({"type": "userpass"})),
        ),
        "enable userpass",
    );
    let auths = bao.root("GET", "sys/auth", None);
    let accessor = auths.body["data"]["userpass/"]["accessor"]
        .as_str()
        .expect("accessor")
        .to_string();
    for (name, text) in [
        ("user-pol", USER_POLICY.to_string()),
        ("entity-pol", ENTITY_POLICY.to_string()),
        ("group-pol", GROUP_POLICY.to_string()),
        ("parent-pol", PARENT_POLICY.to_string()),
        ("templated", templated_policy(&accessor)),
    ] {
        ok(&bao.put_policy(name, &text), name);
    }
    ok(
        &bao.root(
            "POST",
            "auth/userpass/users/alice",
            Some(&json!({"password": "pw-alice", "token_policies": ["user-pol"]})),
        ),
        "create user",
    );
    let entity = bao.root(
        "POST",
        "identity/entity",
        Some(&json!({
            "name": "alice-ent",
            "policies": ["entity-pol"],
            "metadata": {"team": "ai"},
        })),
    );
    ok(&entity, "create entity");
    let entity_id = entity.body["data"]["id"]
        .as_str()
        .expect("entity id")
        .to_string();
    ok(
        &bao.root(
            "POST",
            "identity/entity-alias",
            Some(&json!({"name": "alice", "mount_accessor": accessor, "canonical_id": entity_id})),
        ),
        "create alias",
    );
    let eng = bao.root(
        "POST",
        "identity/group",
        Some(&json!({
            "name": "eng",
            "policies": ["group-pol", "templated"],
            "member_entity_ids": [entity_id],
            "metadata": {"floor": "3"},
        })),
    );
    ok(&eng, "create group eng");
    let eng_id = eng.body["data"]["id"]
        .as_str()
        .expect("group id")
        .to_string();
    let all = bao.root(
        "POST",
        "identity/group",
        Some(&json!({"name": "all", "policies": ["parent-pol"], "member_group_ids": [eng_id]})),
    );
    ok(&all, "create group all");
    let all_id = all.body["data"]["id"]
        .as_str()
        .expect("group id")
        .to_string();
    let login = bao.request(
        "",
        "POST",
        "auth/userpass/login/alice",
        Some(&json!({"password": "pw-alice"})),
        None,
    );
    ok(&login, "login");
    let token = login.body["auth"]["client_token"]
        .as_str()
        .expect("client_token")
        .to_string();
    (token, accessor, entity_id, eng_id, all_id)
}

/// Our side: the same world as `capable.yaml` plus policy files.
fn our_inventory(accessor: &str, entity_id: &str, eng_id: &str, all_id: &str) -> Inventory {
    let config = format!(
        "target: openbao
roles:
  userpass/alice:
    policies: [user-pol]
groups:
  eng:
    id: {eng_id}
    policies: [group-pol, templated]
    member_entities: [alice-ent]
    metadata: {{floor: '3'}}
  all:
    id: {all_id}
    policies: [parent-pol]
    member_groups: [eng]
entities:
  alice-ent:
    id: {entity_id}
    policies: [entity-pol]
    metadata: {{team: ai}}
    aliases:
      - {{mount: userpass, accessor: {accessor}, name: alice}}
"
    );
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", config)),
        PathBuf::from("."),
    )
    .expect("config");
    let sources = [
        ("user-pol", USER_POLICY.to_string()),
        ("entity-pol", ENTITY_POLICY.to_string()),
        ("group-pol", GROUP_POLICY.to_string()),
        ("parent-pol", PARENT_POLICY.to_string()),
        ("templated", templated_policy(accessor)),
    ]
    .into_iter()
    .map(|(name, text)| Arc::new(SourceFile::new(format!("{name}.hcl"), text)))
    .collect();
    let workspace = Workspace::from_sources(config, Target::OpenBao, sources).expect("workspace");
    assert!(
        workspace
            .parse_diagnostics
            .iter()
            .all(|f| f.diagnostics.is_empty()),
        "{:?}",
        workspace.parse_diagnostics
    );
    Inventory::new(&workspace.config, &workspace.policies)
        .unwrap_or_else(|errors| panic!("inventory: {errors:?}"))
}

fn paths(entity_id: &str) -> Vec<String> {
    let mut paths: Vec<String> = [
        "secret/data/app/x",
        "secret/data/app/private",
        "secret/data/app/shared",
        "secret/metadata/app/",
        "secret/metadata/app/x",
        "secret/data/team/x",
        "secret/data/team/a/notes",
        "secret/data/team/a/notes/",
        "transit/encrypt/app",
        "sys/policies/acl/default",
        "sys/policies/acl/",
        "secret/data/users/alice-ent/k",
        "secret/data/users/alice/k",
        "secret/data/by-team/ai",
        "secret/data/by-team/web",
        "secret/data/by-alias/alice/k",
        "secret/data/by-alias/alice/",
        "secret/data/by-floor/3",
        "secret/data/missing/",
        "secret/data/missing/x",
        "auth/token/lookup-self",
        "auth/token/renew-self",
        "sys/capabilities-self",
        "identity/entity/name/alice-ent",
        "identity/entity/name/bob",
        "identity/entity/id/not-mine",
        "cubbyhole/x",
        "cubbyhole/",
        "sys/renew",
        "sys/leases/renew",
        "sys/tools/hash/sha2-256",
        "identity/oidc/provider/p/authorize",
        "sys/control-group/request",
        "secret/",
        "other/path",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    paths.push(format!("identity/entity/id/{entity_id}"));
    paths.push(format!("secret/data/ids/{entity_id}"));
    paths
}

#[test]
fn userpass_role_with_entity_and_groups_matches_openbao() {
    let bao = Bao::start();
    let (token, accessor, entity_id, eng_id, all_id) = set_up(&bao);
    let inventory = our_inventory(&accessor, &entity_id, &eng_id, &all_id);
    let role = Subject::Role("userpass/alice".into());
    let acl = inventory.acl_for(&role, Target::OpenBao).expect("acl");
    let paths = paths(&entity_id);
    let theirs = bao.capabilities(&token, &paths);
    let ours: BTreeMap<String, Vec<String>> = paths
        .iter()
        .map(|path| {
            let mut names: Vec<String> = acl
                .capabilities(path)
                .0
                .iter()
                .map(|s| s.to_string())
                .collect();
            names.sort();
            (path.clone(), names)
        })
        .collect();
    let differences: Vec<String> = paths
        .iter()
        .filter(|path| ours[*path] != theirs[*path])
        .map(|path| format!("{path}: ours {:?}, openbao {:?}", ours[path], theirs[path]))
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // The world is rich enough to matter: several sources of access are visible.
    assert_eq!(
        theirs["secret/data/users/alice-ent/k"],
        ["create", "read", "update"]
    );
    assert_eq!(theirs["sys/policies/acl/default"], ["list", "read"]);
    assert_eq!(theirs["secret/data/missing/x"], ["deny"]);
    assert_eq!(theirs["transit/encrypt/app"], ["update"]);

    // Effective policies as the token reports them (token + identity policies).
    let lookup = bao.request(&token, "GET", "auth/token/lookup-self", None, None);
    let mut token_policies: Vec<String> = lookup.body["data"]["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .chain(
            lookup.body["data"]["identity_policies"]
                .as_array()
                .expect("identity policies"),
        )
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    token_policies.sort();
    token_policies.dedup();
    let mut our_policies = inventory.policies_of(&role);
    our_policies.sort();
    assert_eq!(our_policies, token_policies);

    // `reach` agrees with the server capability by capability: request-view capabilities on
    // paths without a trailing `/`, listing-view capabilities on paths with one.
    let reach = Reach::new(&acl);
    let mut reach_differences = Vec::new();
    for path in &paths {
        let listing = path.ends_with('/');
        let capabilities: &[Capability] = if listing {
            &[Capability::List, Capability::Scan]
        } else {
            &[
                Capability::Read,
                Capability::Create,
                Capability::Update,
                Capability::Delete,
                Capability::Patch,
                Capability::Sudo,
            ]
        };
        for capability in capabilities {
            let server = theirs[path].iter().any(|c| c == capability.name());
            let answer = reach.capability(*capability, None).holds(path);
            if server != answer {
                reach_differences.push(format!(
                    "{path} {}: reach {answer}, openbao {server}",
                    capability.name()
                ));
            }
        }
    }
    assert!(
        reach_differences.is_empty(),
        "{}",
        reach_differences.join("\n")
    );
}

/// AppRole: a login with `token_no_default_policy`, mapped to its entity through an alias
/// named after the role's `role_id`, the entity in a group with a policy.
#[test]
fn approle_without_default_matches_openbao() {
    let bao = Bao::start();
    ok(
        &bao.root(
            "POST",
            "sys/auth/approle",
            Some(&json!({"type": "approle"})),
        ),
        "enable approle",
    );
    let auths = bao.root("GET", "sys/auth", None);
    let accessor = auths.body["data"]["approle/"]["accessor"]
        .as_str()
        .expect("accessor")
        .to_string();
    ok(&bao.put_policy("user-pol", USER_POLICY), "user-pol");
    ok(&bao.put_policy("group-pol", GROUP_POLICY), "group-pol");
    ok(
        &bao.root(
            "POST",
            "auth/approle/role/ci",
            Some(&json!({"token_policies": ["user-pol"], "token_no_default_policy": true})),
        ),
        "create role",
    );
    let role_id = bao.root("GET", "auth/approle/role/ci/role-id", None).body["data"]["role_id"]
        .as_str()
        .expect("role id")
        .to_string();
    let secret = bao.root("POST", "auth/approle/role/ci/secret-id", None);
    ok(&secret, "secret id");
    let secret_id = secret.body["data"]["secret_id"]
        .as_str()
        .expect("secret id")
        .to_string();
    let entity = bao.root("POST", "identity/entity", Some(&json!({"name": "ci-bot"})));
    ok(&entity, "entity");
    let entity_id = entity.body["data"]["id"].as_str().expect("id").to_string();
    ok(
        &bao.root(
            "POST",
            "identity/entity-alias",
            Some(&json!({"name": role_id, "mount_accessor": accessor, "canonical_id": entity_id})),
        ),
        "alias",
    );
    ok(
        &bao.root(
            "POST",
            "identity/group",
            Some(&json!({"name": "builders", "policies": ["group-pol"], "member_entity_ids": [entity_id]})),
        ),
        "group",
    );
    let login = bao.request(
        "",
        "POST",
        "auth/approle/login",
        Some(&json!({"role_id": role_id, "secret_id": secret_id})),
        None,
    );
    ok(&login, "login");
    let token = login.body["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();

    let config = format!(
        "target: openbao
roles:
  approle/ci:
    policies: [user-pol]
    token_no_default_policy: true
    role_id: {role_id}
groups:
  builders:
    policies: [group-pol]
    member_entities: [ci-bot]
entities:
  ci-bot:
    id: {entity_id}
    aliases:
      - {{mount: approle, accessor: {accessor}, name: {role_id}}}
"
    );
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", config)),
        PathBuf::from("."),
    )
    .expect("config");
    let sources = vec![
        Arc::new(SourceFile::new("user-pol.hcl", USER_POLICY)),
        Arc::new(SourceFile::new("group-pol.hcl", GROUP_POLICY)),
    ];
    let workspace = Workspace::from_sources(config, Target::OpenBao, sources).expect("workspace");
    let inventory = Inventory::new(&workspace.config, &workspace.policies)
        .unwrap_or_else(|errors| panic!("inventory: {errors:?}"));
    let role = Subject::Role("approle/ci".into());
    assert_eq!(inventory.policies_of(&role), ["user-pol", "group-pol"]);
    let acl = inventory.acl_for(&role, Target::OpenBao).expect("acl");
    let paths: Vec<String> = [
        "secret/data/app/x",
        "secret/data/app/private",
        "secret/data/team/x",
        "secret/data/team/a/notes",
        "auth/token/lookup-self",
        "cubbyhole/x",
        &format!("identity/entity/id/{entity_id}"),
        "sys/policies/acl/default",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let theirs = bao.capabilities(&token, &paths);
    let mut differences = Vec::new();
    for path in &paths {
        let mut ours: Vec<String> = acl
            .capabilities(path)
            .0
            .iter()
            .map(|s| s.to_string())
            .collect();
        ours.sort();
        if ours != theirs[path] {
            differences.push(format!("{path}: ours {ours:?}, openbao {:?}", theirs[path]));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // No `default`: the token cannot look itself up; the group grants team writes.
    assert_eq!(theirs["auth/token/lookup-self"], ["deny"]);
    assert_eq!(theirs["secret/data/team/x"], ["create", "update"]);
}

/// OpenBao's per-policy template switches (spec 1.8): set on the server with the policy, and in
/// `capable.yaml` under `policies:`. With the switches, substituted `/`, `*` and `+` go into the
/// path; without them the whole token fails, on the server and in our ACL.
#[test]
fn template_switches_in_capable_yaml_match_openbao() {
    let bao = Bao::start();
    ok(
        &bao.root(
            "POST",
            "sys/auth/userpass",
            Some(&json!({"type": "userpass"})),
        ),
        "enable userpass",
    );
    let slash_policy = "path \"secret/data/s/{{identity.entity.metadata.slash}}/*\" { capabilities = [\"read\"] }\npath \"plain/*\" { capabilities = [\"list\"] }\n";
    let wild_policy = "path \"secret/data/w/{{identity.entity.metadata.star}}\" { capabilities = [\"read\"] }\npath \"secret/data/p/{{identity.entity.metadata.plus}}/x\" { capabilities = [\"update\"] }\n";
    let put = |name: &str, text: &str, slashes: bool, wildcards: bool| {
        bao.root(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(&json!({
                "policy": text,
                "allow_slashes_in_identity_templates": slashes,
                "allow_wildcards_in_identity_templates": wildcards,
            })),
        )
    };
    ok(&put("p-slash", slash_policy, true, false), "p-slash");
    ok(&put("p-wild", wild_policy, false, true), "p-wild");
    ok(
        &bao.root(
            "POST",
            "auth/userpass/users/carol",
            Some(&json!({"password": "pw-carol", "token_policies": ["p-slash", "p-wild"]})),
        ),
        "create user",
    );
    let accessor = bao.root("GET", "sys/auth", None).body["data"]["userpass/"]["accessor"]
        .as_str()
        .expect("accessor")
        .to_string();
    let entity = bao.root(
        "POST",
        "identity/entity",
        Some(&json!({"name": "carol", "metadata": {"slash": "a/b", "star": "x*", "plus": "+"}})),
    );
    ok(&entity, "entity");
    let entity_id = entity.body["data"]["id"].as_str().expect("id").to_string();
    ok(
        &bao.root(
            "POST",
            "identity/entity-alias",
            Some(&json!({"name": "carol", "mount_accessor": accessor, "canonical_id": entity_id})),
        ),
        "alias",
    );
    let login = bao.request(
        "",
        "POST",
        "auth/userpass/login/carol",
        Some(&json!({"password": "pw-carol"})),
        None,
    );
    ok(&login, "login");
    let token = login.body["auth"]["client_token"]
        .as_str()
        .expect("client_token")
        .to_string();
    let ours = |switches: &str| {
        let config = format!(
            "target: openbao
roles:
  userpass/carol:
    policies: [p-slash, p-wild]
    token_no_default_policy: true
entities:
  carol:
    id: {entity_id}
    metadata: {{slash: a/b, star: 'x*', plus: '+'}}
    aliases:
      - {{mount: userpass, accessor: {accessor}, name: carol}}
{switches}"
        );
        let config = Config::from_text(
            Arc::new(SourceFile::new("capable.yaml", config)),
            PathBuf::from("."),
        )
        .expect("config");
        let sources = vec![
            Arc::new(SourceFile::new("p-slash.hcl", slash_policy)),
            Arc::new(SourceFile::new("p-wild.hcl", wild_policy)),
        ];
        let workspace =
            Workspace::from_sources(config, Target::OpenBao, sources).expect("workspace");
        let inventory = Inventory::new(&workspace.config, &workspace.policies)
            .unwrap_or_else(|errors| panic!("inventory: {errors:?}"));
        inventory.acl_for(&Subject::Role("userpass/carol".into()), Target::OpenBao)
    };
    let switches = "policies:
  p-slash: {allow_slashes_in_identity_templates: true}
  p-wild: {allow_wildcards_in_identity_templates: true}
";
    let acl = ours(switches).expect("acl with the switches");
    let paths: Vec<String> = [
        "secret/data/s/a/b/k",
        "secret/data/s/a/k",
        "secret/data/w/x",
        "secret/data/w/xyz",
        "secret/data/p/any/x",
        "secret/data/p/+/x",
        "plain/x",
        "other",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let theirs = bao.capabilities(&token, &paths);
    for path in &paths {
        let mut names: Vec<String> = acl
            .capabilities(path)
            .0
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.sort();
        assert_eq!(names, theirs[path], "{path}");
    }
    assert_eq!(theirs["secret/data/s/a/b/k"], ["read"]);
    assert_eq!(theirs["secret/data/p/any/x"], ["update"]);

    // One switch fewer: the server refuses every request of the token; so does our ACL.
    ok(
        &put("p-wild", wild_policy, false, false),
        "p-wild without switches",
    );
    let answer = bao.root(
        "POST",
        "sys/capabilities",
        Some(&json!({"token": token, "paths": ["plain/x"]})),
    );
    assert!(answer.errors().contains("forbidden value"), "{answer:?}");
    let only_slashes = "policies:
  p-slash: {allow_slashes_in_identity_templates: true}
";
    assert!(ours(only_slashes).is_err());
}
