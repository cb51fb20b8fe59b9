//! Inventory resolution: a role's effective policies (its own, `default` unless disabled, its
//! entity's and its groups', parents included), login → entity mapping, accessors, templated
//! paths resolved from the identity, and reference errors with their line.

#[path = "support/cli.rs"]
mod cli_support;

use std::path::PathBuf;
use std::sync::Arc;

use capable::acl::Operation;
use capable::acl::Request;
use capable::config::Config;
use capable::inventory::{accessor_for_mount, Inventory, LoginEntity, Subject};
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;

const CONFIG: &str = "\
mounts:
  secret/: {type: kv, version: 2}
roles:
  kubernetes/inference-role:
    policies: [ai-inference-service]
    bound_service_account_names: [inference-sa]
    bound_service_account_namespaces: [inference]
  userpass/alice:
    policies: [Reader, reader]
  approle/ci:
    policies: [reader]
    token_no_default_policy: true
    entity: robot
groups:
  ai-team:
    policies: [team]
    member_entities: [alice]
    metadata: {team: ai}
  engineering:
    policies: [eng]
    member_groups: [ai-team]
  everyone:
    policies: [all]
    member_groups: [engineering]
entities:
  alice:
    metadata: {team: ai, tier: gold}
    aliases:
      - {mount: userpass, name: alice, metadata: {dept: research}}
  inference:
    policies: [reader]
    aliases:
      - {mount: kubernetes, accessor: auth_kubernetes_0badc0de, name: inference/inference-sa}
  robot: {}
";

fn policy(name: &str, text: &str) -> Arc<SourceFile> {
    Arc::new(SourceFile::new(format!("policies/{name}.hcl"), text))
}

fn workspace(config: &str) -> Workspace {
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", config)),
        PathBuf::from("."),
    )
    .expect("config");
    let accessor = accessor_for_mount("userpass", "userpass/");
    let sources = vec![
        policy("ai-inference-service", "path \"secret/data/ai/openai\" { capabilities = [\"read\"] }\n"),
        policy("reader", "path \"secret/data/shared/*\" { capabilities = [\"read\"] }\n"),
        policy(
            "team",
            &format!(
                "path \"secret/data/teams/{{{{identity.entity.metadata.team}}}}/*\" {{ capabilities = [\"read\"] }}\n\
                 path \"secret/data/home/{{{{identity.entity.aliases.{accessor}.name}}}}/*\" {{ capabilities = [\"create\", \"update\"] }}\n\
                 path \"secret/data/dept/{{{{identity.entity.aliases.{accessor}.metadata.dept}}}}\" {{ capabilities = [\"read\"] }}\n\
                 path \"secret/data/groups/{{{{identity.groups.names.ai-team.metadata.team}}}}\" {{ capabilities = [\"list\"] }}\n\
                 path \"secret/data/missing/{{{{identity.entity.metadata.nope}}}}\" {{ capabilities = [\"read\"] }}\n"
            ),
        ),
        policy("eng", "path \"secret/data/eng/*\" { capabilities = [\"read\"] }\n"),
        policy("all", "path \"secret/data/all\" { capabilities = [\"read\"] }\n"),
    ];
    Workspace::from_sources(config, Target::Vault, sources).expect("workspace")
}

fn inventory(ws: &Workspace) -> Inventory {
    Inventory::new(&ws.config, &ws.policies).unwrap_or_else(|errors| panic!("{errors:?}"))
}

fn role(name: &str) -> Subject {
    Subject::Role(name.into())
}

#[test]
fn role_gets_default_entity_and_group_policies_with_parents() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    assert_eq!(
        inv.policies_of(&role("userpass/alice")),
        ["default", "reader", "team", "eng", "all"]
    );
    // `Reader` is lower-cased to the stored policy name and de-duplicated.
    assert_eq!(
        inv.policies_of(&role("inference-role")),
        ["ai-inference-service", "default", "reader"]
    );
    assert_eq!(inv.policies_of(&role("approle/ci")), ["reader"]);
    assert_eq!(
        inv.policies_of(&Subject::Group("ai-team".into())),
        ["team", "eng", "all"]
    );
    assert_eq!(
        inv.policies_of(&Subject::Entity("alice".into())),
        ["default", "team", "eng", "all"]
    );
    assert_eq!(
        inv.policies_of(&Subject::Policies(vec!["reader".into()])),
        ["reader"]
    );
}

#[test]
fn logins_map_to_entities() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    // userpass: the alias name is the user name.
    assert_eq!(
        inv.login_entity("userpass/alice").unwrap(),
        (LoginEntity::Alias("alice".into()), "alice".into())
    );
    // kubernetes: `<namespace>/<service account>` with one of each bound.
    assert_eq!(
        inv.login_entity("kubernetes/inference-role").unwrap(),
        (LoginEntity::Alias("inference".into()), "inference".into())
    );
    assert_eq!(
        inv.login_entity("ci").unwrap(),
        (LoginEntity::Declared("robot".into()), "robot".into())
    );
    assert_eq!(inv.accessor("kubernetes"), Some("auth_kubernetes_0badc0de"));
    assert_eq!(
        inv.accessor("auth/userpass/"),
        Some(accessor_for_mount("userpass", "userpass/").as_str())
    );
    assert!(accessor_for_mount("userpass", "userpass/").starts_with("auth_userpass_"));
}

#[test]
fn subjects_lists_roles_groups_entities() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    let subjects: Vec<String> = inv.subjects().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        subjects,
        [
            "role `approle/ci`",
            "role `kubernetes/inference-role`",
            "role `userpass/alice`",
            "group `ai-team`",
            "group `engineering`",
            "group `everyone`",
            "entity `alice`",
            "entity `inference`",
            "entity `robot`",
        ]
    );
}

fn allowed(inv: &Inventory, subject: &Subject, operation: Operation, path: &str) -> bool {
    let acl = inv.acl_for(subject, Target::Vault).expect("acl");
    acl.authorize(&Request::new(operation, path)).allowed
}

#[test]
fn templated_paths_resolve_from_the_identity() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    let alice = role("userpass/alice");
    assert!(allowed(
        &inv,
        &alice,
        Operation::Read,
        "secret/data/teams/ai/plan"
    ));
    assert!(!allowed(
        &inv,
        &alice,
        Operation::Read,
        "secret/data/teams/web/plan"
    ));
    assert!(allowed(
        &inv,
        &alice,
        Operation::Create,
        "secret/data/home/alice/notes"
    ));
    assert!(!allowed(
        &inv,
        &alice,
        Operation::Create,
        "secret/data/home/bob/notes"
    ));
    assert!(allowed(
        &inv,
        &alice,
        Operation::Read,
        "secret/data/dept/research"
    ));
    assert!(allowed(
        &inv,
        &alice,
        Operation::List,
        "secret/data/groups/ai/"
    ));
    // Missing metadata: the path is skipped, not an error.
    assert!(!allowed(
        &inv,
        &alice,
        Operation::Read,
        "secret/data/missing/"
    ));
    // Inherited group policies.
    assert!(allowed(&inv, &alice, Operation::Read, "secret/data/eng/x"));
    assert!(allowed(&inv, &alice, Operation::Read, "secret/data/all"));
    // The default policy's entity paths use the entity's id.
    let identity = inv.identity_for(&alice).unwrap().unwrap();
    let own = format!("identity/entity/id/{}", identity.entity_id);
    assert!(allowed(&inv, &alice, Operation::Read, &own));
    assert!(allowed(
        &inv,
        &alice,
        Operation::Read,
        "identity/entity/name/alice"
    ));
    assert!(!allowed(
        &inv,
        &alice,
        Operation::Read,
        "identity/entity/name/bob"
    ));
}

#[test]
fn group_subject_has_no_entity_but_its_groups() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    let group = Subject::Group("ai-team".into());
    // Entity templates cannot resolve for a group alone; group templates can.
    assert!(!allowed(
        &inv,
        &group,
        Operation::Read,
        "secret/data/teams/ai/plan"
    ));
    assert!(allowed(
        &inv,
        &group,
        Operation::List,
        "secret/data/groups/ai/"
    ));
}

#[test]
fn no_default_policy_means_no_self_lookup() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    assert!(!allowed(
        &inv,
        &role("approle/ci"),
        Operation::Read,
        "auth/token/lookup-self"
    ));
    assert!(allowed(
        &inv,
        &role("userpass/alice"),
        Operation::Read,
        "auth/token/lookup-self"
    ));
}

#[test]
fn unknown_subjects_are_errors() {
    let ws = workspace(CONFIG);
    let inv = inventory(&ws);
    assert_eq!(
        inv.acl_for(&role("nobody"), Target::Vault)
            .unwrap_err()
            .to_string(),
        "unknown role `nobody`"
    );
    assert_eq!(
        inv.acl_for(&Subject::Policies(vec!["ghost".into()]), Target::Vault)
            .unwrap_err()
            .to_string(),
        "unknown policy `ghost`"
    );
}

#[test]
fn bad_references_point_at_their_line() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/inventory/bad-references.yaml"
    ))
    .unwrap();
    let source = Arc::new(SourceFile::new("bad-references.yaml", text));
    let config = Config::from_text(source.clone(), PathBuf::from(".")).expect("config parses");
    let ws = Workspace::from_sources(
        config,
        Target::Vault,
        vec![policy(
            "ai-inference-service",
            "path \"a\" { capabilities = [\"read\"] }\n",
        )],
    )
    .unwrap();
    let files = Inventory::new(&ws.config, &ws.policies).expect_err("errors");
    assert_eq!(files.len(), 1, "every error is in capable.yaml");
    let errors = &files[0].diagnostics;
    let found: Vec<String> = errors
        .iter()
        .map(|d| {
            let (line, column) = source.line_col(d.span.start);
            format!("{line}:{column} {} {}", d.rule, d.message)
        })
        .collect();
    insta::assert_snapshot!(found.join("\n"));
    assert!(errors.iter().all(|d| d.help.is_some()));
}

/// Role-level lints through `capable check`: each policy is clean alone, the roles are not.
#[test]
fn role_lints_fire_on_merged_roles() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory/role-lints");
    let output = cli_support::command()
        .args(["check", "--format", "concise"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run capable");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for expected in [
        "policies/fence.hcl:2:6: warning[overridden-deny] deny on `secret/*` does not hold for role `kubernetes/batch-role`, role `kubernetes/inference-role`",
        "grants `read` on `secret/data/ai/anything`",
        "policies/token-app.hcl:1:6: warning[parameters-narrowed-by-merge] for role `kubernetes/inference-role`",
        "policies/token-app.hcl:5:6: warning[parameters-narrowed-by-merge] for role `kubernetes/inference-role`, `auth/token/lookup` denies the parameters `accessor`: `denied_parameters` in `token-limits` apply to this rule too",
        "policies/team.hcl:1:6: warning[unresolved-template]",
        "does not resolve for role `userpass/bob`: the entity has no metadata `team`",
        // A security rule on the role's merged ACL: the template resolves to the whole mount.
        "policies/team-data.hcl:2:6: warning[broad-secret-access] grants `read` on `secret/data/anything`",
        "(for role `userpass/mallory`, with its identity and other policies)",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in\n{stdout}");
    }
    // carol has the metadata: her login resolves the template.
    assert!(!stdout.contains("userpass/carol"), "{stdout}");
    // A finding a policy already has alone is not repeated, nor blamed on role partners.
    assert_eq!(stdout.matches("token-create").count(), 2, "{stdout}");
    insta::assert_snapshot!(stdout);
}

/// Turning a role-level rule off in `rules:` removes its findings.
#[test]
fn role_lints_respect_rule_levels() {
    let dir = tempfile::tempdir().unwrap();
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory/role-lints");
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    for entry in std::fs::read_dir(source.join("policies")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("policies").join(entry.file_name()),
        )
        .unwrap();
    }
    let config = std::fs::read_to_string(source.join("capable.yaml")).unwrap();
    std::fs::write(
        dir.path().join("capable.yaml"),
        format!("{config}rules:\n  overridden-deny: off\n  unresolved-template: error\n"),
    )
    .unwrap();
    let output = cli_support::command()
        .args(["check", "--format", "concise"])
        .current_dir(dir.path())
        .output()
        .expect("run capable");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!stdout.contains("overridden-deny"), "{stdout}");
    assert!(stdout.contains("error[unresolved-template]"), "{stdout}");
}

/// Inventory reference errors make `check` fail with the line in capable.yaml.
#[test]
fn check_reports_inventory_errors_in_capable_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.hcl"),
        "path \"x\" { capabilities = [\"read\"] }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("capable.yaml"),
        "roles:\n  userpass/dave:\n    policies: [a, b]\n",
    )
    .unwrap();
    let output = cli_support::command()
        .args(["check", "--format", "concise"])
        .current_dir(dir.path())
        .output()
        .expect("run capable");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("capable.yaml:3:19: error[unknown-policy] role `userpass/dave` refers to policy `b`, which does not exist"),
        "{stdout}"
    );
}

/// On OpenBao a substituted value with `/`, `*` or `+` is forbidden (observed on 2.7.2: the
/// token's requests all fail); on Vault a `/` is allowed (spec 1.8).
#[test]
fn forbidden_substitution_is_reported_for_openbao_only() {
    let config = "\
roles:
  userpass/mallory:
    policies: [team-data]
entities:
  mallory:
    metadata: {team: 'a/b'}
    aliases:
      - {mount: userpass, name: mallory}
";
    let policy_text =
        "path \"secret/data/{{identity.entity.metadata.team}}/*\" { capabilities = [\"read\"] }\n";
    for (target, expected) in [
        (
            Target::OpenBao,
            Some("which OpenBao forbids, so every request of the token fails"),
        ),
        (Target::Vault, None),
    ] {
        let config = Config::from_text(
            Arc::new(SourceFile::new("capable.yaml", config)),
            PathBuf::from("."),
        )
        .expect("config");
        let mounts = config.mounts.clone();
        let ws = Workspace::from_sources(config, target, vec![policy("team-data", policy_text)])
            .expect("workspace");
        let inv = inventory(&ws);
        let findings = capable::inventory::lints::lint_inventory(&inv, target, &mounts);
        let messages: Vec<&str> = findings
            .iter()
            .filter(|(_, d)| d.rule == "unresolved-template")
            .map(|(_, d)| d.message.as_str())
            .collect();
        match expected {
            Some(text) => assert!(
                messages.len() == 1 && messages[0].contains(text),
                "{target}: {messages:?}"
            ),
            None => assert!(messages.is_empty(), "{target}: {messages:?}"),
        }
    }
}
