//! Namespaces (docs/namespaces.md): the OpenBao differential and the commands' `--namespace`.
//!
//! The differential: a random namespace tree (2-3 levels), random policies in random
//! namespaces (the same names reused across namespaces, patterns that reach into child
//! namespaces), and in each namespace a `userpass` login whose token carries policies of its
//! namespace, `default` (sometimes), an entity's policies and a group's. `sys/capabilities` is
//! asked in every namespace, for every token, on random relative paths (into child
//! namespaces too). capable, through `capable.yaml` and the folder layout, must agree on every
//! path. Seed printed, settable with `CAPABLE_SEED`.

#[path = "support/gen.rs"]
mod gen;
mod support;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use capable::config::Config;
use capable::inventory::{Inventory, Subject};
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use gen::{random_block, random_paths, random_pattern, GenPolicy, Rng};
use serde_json::json;
use support::bao::{Answer, Bao};

/// At least this many `sys/capabilities` answers are compared per run.
const MIN_PATHS: usize = 2_000;

fn ok(answer: &Answer, what: &str) {
    assert!(
        (200..300).contains(&answer.status),
        "{what} failed: {} {:?}",
        answer.status,
        answer.body
    );
}

/// A random tree: 1-2 top-level namespaces, each with 0-2 children, some with a grandchild;
/// at least two levels. Names are path segments the generated patterns use, so patterns of a
/// parent reach into its children.
fn random_tree(rng: &mut Rng) -> Vec<String> {
    loop {
        let mut tree = Vec::new();
        let top: &[&str] = if rng.chance(50) { &["s"] } else { &["s", "t"] };
        for first in top {
            let parent = format!("{first}/");
            tree.push(parent.clone());
            for second in ["a", "b"].iter().take(rng.below(3)) {
                let child = format!("{parent}{second}/");
                tree.push(child.clone());
                if rng.chance(40) {
                    tree.push(format!("{child}x/"));
                }
            }
        }
        if tree.iter().any(|ns| ns.matches('/').count() >= 2) {
            return tree;
        }
    }
}

/// A pattern for a policy of `namespace`: random, sometimes aimed at one of its children
/// (`a/...`) or at every child (`+/...`).
fn pattern_in(rng: &mut Rng, children: &[String]) -> String {
    let base = random_pattern(rng);
    match rng.below(10) {
        0..=2 if !children.is_empty() => {
            format!("{}{}", rng.pick(children), base.trim_start_matches('/'))
        }
        3 => format!("+/{}", base.trim_start_matches('/')),
        _ => base,
    }
}

struct World {
    namespaces: Vec<String>,
    /// (namespace, policy) pairs.
    policies: Vec<(String, GenPolicy)>,
    /// Per namespace (all but some): the login's user and whether it keeps `default`.
    logins: Vec<Login>,
}

struct Login {
    namespace: String,
    user: String,
    token_policies: Vec<String>,
    entity_policies: Vec<String>,
    group_policies: Vec<String>,
    no_default: bool,
}

fn random_world(rng: &mut Rng) -> World {
    let tree = random_tree(rng);
    let mut namespaces = vec![String::new()];
    namespaces.extend(tree);
    let mut policies = Vec::new();
    let mut logins = Vec::new();
    for (index, namespace) in namespaces.iter().enumerate() {
        let children: Vec<String> = namespaces
            .iter()
            .filter(|other| {
                other.len() > namespace.len()
                    && other.starts_with(namespace.as_str())
                    && other[namespace.len()..].matches('/').count() == 1
            })
            .map(|child| child[namespace.len()..].to_string())
            .collect();
        let count = 1 + rng.below(3);
        let mut names = Vec::new();
        for number in 0..count {
            let name = format!("p{number}");
            let blocks = (0..1 + rng.below(5))
                .map(|_| {
                    let pattern = pattern_in(rng, &children);
                    random_block(rng, pattern)
                })
                .collect();
            policies.push((
                namespace.clone(),
                GenPolicy {
                    name: name.clone(),
                    blocks,
                    json: rng.chance(10),
                },
            ));
            names.push(name);
        }
        let subset = |rng: &mut Rng| -> Vec<String> {
            names
                .iter()
                .filter(|_| rng.chance(50))
                .cloned()
                .collect::<Vec<_>>()
        };
        let token_policies = subset(rng);
        let entity_policies = subset(rng);
        let group_policies = subset(rng);
        logins.push(Login {
            namespace: namespace.clone(),
            user: format!("u{index}"),
            token_policies,
            entity_policies,
            group_policies,
            no_default: rng.chance(40),
        });
    }
    World {
        namespaces,
        policies,
        logins,
    }
}

/// Creates the world on the server; returns each login's token.
fn set_up(bao: &Bao, world: &World) -> Vec<String> {
    let root = bao.root_token.clone();
    for namespace in &world.namespaces[1..] {
        let (parent, name) = split_last(namespace);
        ok(
            &bao.request_in(
                parent,
                &root,
                "POST",
                &format!("sys/namespaces/{name}"),
                Some(&json!({})),
                None,
            ),
            &format!("create namespace {namespace}"),
        );
    }
    for (namespace, policy) in &world.policies {
        ok(
            &bao.request_in(
                namespace,
                &root,
                "PUT",
                &format!("sys/policies/acl/{}", policy.name),
                Some(&json!({ "policy": policy.text() })),
                None,
            ),
            &format!("policy {namespace}{}", policy.name),
        );
    }
    let mut tokens = Vec::new();
    for login in &world.logins {
        let ns = login.namespace.as_str();
        let call = |method: &str, path: &str, body: serde_json::Value| {
            bao.request_in(ns, &root, method, path, Some(&body), None)
        };
        ok(
            &call("POST", "sys/auth/userpass", json!({"type": "userpass"})),
            "enable userpass",
        );
        let auths = bao.request_in(ns, &root, "GET", "sys/auth", None, None);
        let accessor = auths.body["data"]["userpass/"]["accessor"]
            .as_str()
            .expect("accessor")
            .to_string();
        ok(
            &call(
                "POST",
                &format!("auth/userpass/users/{}", login.user),
                json!({
                    "password": "pw",
                    "token_policies": login.token_policies,
                    "token_no_default_policy": login.no_default,
                }),
            ),
            "user",
        );
        let entity = call(
            "POST",
            "identity/entity",
            json!({"name": format!("e-{}", login.user), "policies": login.entity_policies}),
        );
        ok(&entity, "entity");
        let entity_id = entity.body["data"]["id"].as_str().expect("id").to_string();
        ok(
            &call(
                "POST",
                "identity/entity-alias",
                json!({"name": login.user, "mount_accessor": accessor, "canonical_id": entity_id}),
            ),
            "alias",
        );
        ok(
            &call(
                "POST",
                "identity/group",
                json!({
                    "name": format!("g-{}", login.user),
                    "policies": login.group_policies,
                    "member_entity_ids": [entity_id],
                }),
            ),
            "group",
        );
        let answer = bao.request_in(
            ns,
            "",
            "POST",
            &format!("auth/userpass/login/{}", login.user),
            Some(&json!({"password": "pw"})),
            None,
        );
        ok(&answer, "login");
        tokens.push(
            answer.body["auth"]["client_token"]
                .as_str()
                .expect("client_token")
                .to_string(),
        );
    }
    tokens
}

fn split_last(namespace: &str) -> (&str, &str) {
    let inner = namespace.trim_end_matches('/');
    match inner.rfind('/') {
        Some(at) => (&namespace[..at + 1], &inner[at + 1..]),
        None => ("", inner),
    }
}

fn yaml_list(names: &[String]) -> String {
    format!("[{}]", names.join(", "))
}

/// Our side: `capable.yaml` with the tree and the logins, policy files laid out by namespace.
fn our_inventory(world: &World) -> Inventory {
    let mut config = String::from("target: openbao\nnamespaces:\n");
    for namespace in &world.namespaces[1..] {
        let _ = writeln!(config, "  {namespace}: {{}}");
    }
    config.push_str("roles:\n");
    for login in &world.logins {
        let _ = writeln!(
            config,
            "  userpass/{user}:\n    namespace: '{ns}'\n    policies: {policies}\n    token_no_default_policy: {no_default}\n    entity: e-{user}",
            user = login.user,
            ns = login.namespace,
            policies = yaml_list(&login.token_policies),
            no_default = login.no_default,
        );
    }
    config.push_str("entities:\n");
    for login in &world.logins {
        let _ = writeln!(
            config,
            "  e-{user}:\n    namespace: '{ns}'\n    policies: {policies}\n    groups: [g-{user}]",
            user = login.user,
            ns = login.namespace,
            policies = yaml_list(&login.entity_policies),
        );
    }
    config.push_str("groups:\n");
    for login in &world.logins {
        let _ = writeln!(
            config,
            "  g-{user}:\n    namespace: '{ns}'\n    policies: {policies}",
            user = login.user,
            ns = login.namespace,
            policies = yaml_list(&login.group_policies),
        );
    }
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", config.clone())),
        PathBuf::from("."),
    )
    .unwrap_or_else(|error| panic!("config: {error}\n{config}"));
    let sources = world
        .policies
        .iter()
        .map(|(namespace, policy)| {
            Arc::new(SourceFile::new(
                format!("policies/{namespace}{}.hcl", policy.name),
                policy.text(),
            ))
        })
        .collect();
    let workspace = Workspace::from_sources(config, Target::OpenBao, sources).expect("workspace");
    Inventory::new(&workspace.config, &workspace.policies)
        .unwrap_or_else(|errors| panic!("inventory: {errors:?}"))
}

/// Paths to ask in `asked`: generated from every pattern, made relative to `asked` where they
/// fall under it, plus the paths `default` grants.
fn paths_for(rng: &mut Rng, world: &World, asked: &str, count: usize) -> Vec<String> {
    let patterns: Vec<String> = world
        .policies
        .iter()
        .flat_map(|(namespace, policy)| {
            policy.blocks.iter().filter_map(move |block| {
                let full = format!("{namespace}{}", block.pattern.trim_start_matches('/'));
                full.strip_prefix(asked).map(str::to_string)
            })
        })
        .filter(|pattern| !pattern.is_empty())
        .collect();
    let mut paths = if patterns.is_empty() {
        Vec::new()
    } else {
        random_paths(rng, &patterns, count)
    };
    for namespace in &world.namespaces {
        if let Some(relative) = namespace.strip_prefix(asked) {
            for tail in [
                "auth/token/lookup-self",
                "cubbyhole/x",
                "sys/capabilities-self",
            ] {
                paths.push(format!("{relative}{tail}"));
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn namespaced_capabilities_match_openbao() {
    let seed = gen::seed("namespaced_capabilities_match_openbao");
    let mut rng = Rng::new(seed);
    let world = random_world(&mut rng);
    let bao = Bao::start();
    let tokens = set_up(&bao, &world);
    let inventory = our_inventory(&world);
    let per_question = MIN_PATHS / (tokens.len() * world.namespaces.len()) + 8;
    let mut compared = 0;
    let mut granted = 0;
    let mut differences = Vec::new();
    for (login, token) in world.logins.iter().zip(&tokens) {
        let subject = Subject::Role(format!("userpass/{}", login.user));
        let acl = inventory
            .acl_for(&subject, Target::OpenBao)
            .expect("our acl");
        for asked in &world.namespaces {
            let paths = paths_for(&mut rng, &world, asked, per_question);
            let theirs = bao.capabilities_in(asked, token, &paths);
            for path in &paths {
                let full = capable::namespace::join(asked, path);
                let mut ours: Vec<String> = acl
                    .capabilities(&full)
                    .0
                    .iter()
                    .map(|name| name.to_string())
                    .collect();
                ours.sort();
                compared += 1;
                granted += usize::from(ours != ["deny"]);
                if ours != theirs[path] {
                    differences.push(format!(
                        "token of {} asked in `{asked}` on {path:?}: ours {ours:?}, openbao {:?}",
                        login.user, theirs[path]
                    ));
                }
            }
        }
    }
    let mut world_text = String::new();
    for (namespace, policy) in &world.policies {
        let _ = writeln!(
            world_text,
            "--- {namespace}{}\n{}",
            policy.name,
            policy.text()
        );
    }
    assert!(
        differences.is_empty(),
        "seed {seed}: {} of {compared} differ:\n{}\n{world_text}",
        differences.len(),
        differences
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(compared >= MIN_PATHS, "only {compared} paths compared");
    assert!(
        granted > compared / 20,
        "only {granted} of {compared} answers grant anything"
    );
}

/// `caps --namespace`: the policies are the namespace's, the paths relative to it, and the
/// output names the namespace (docs/namespaces.md rules 1, 3, 4).
#[test]
fn caps_asks_in_a_namespace() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("admin-ops.hcl"),
        "path \"team-a/secret/*\" { capabilities = [\"read\"] }\n\
         path \"+/sys/policies/acl/*\" { capabilities = [\"create\", \"update\"] }\n",
    )
    .expect("write");
    let args = [
        "--namespace",
        "admin",
        "--policy",
        "admin-ops.hcl",
        "team-a/secret/x",
        "/team-a/secret/x",
        "team-b/sys/policies/acl/p",
        "sys/policies/acl/p",
    ];
    let (code, stdout, stderr) = support::cli::capable_sub(dir.path(), "caps", &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "namespace: admin/\nteam-a/secret/x: read\n/team-a/secret/x: deny\n\
         team-b/sys/policies/acl/p: create, update\nsys/policies/acl/p: deny\n"
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (code, stdout, _) = support::cli::capable_sub(dir.path(), "caps", &json_args);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(value["namespace"], "admin/");
    assert_eq!(value["version"], 1);
    assert_eq!(value["capabilities"]["team-a/secret/x"], json!(["read"]));
    // A namespace name the products refuse is a usage error.
    let (code, _, stderr) = support::cli::capable_sub(
        dir.path(),
        "caps",
        &["--namespace", "admin/sys", "--policy", "admin-ops.hcl", "x"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("reserved"), "{stderr}");
}

/// `explain --namespace`: the request is judged on its full path, sudo on the path relative to
/// the deepest declared namespace (docs/namespaces.md rule 5), and the output names both.
#[test]
fn explain_judges_sudo_in_the_deepest_namespace() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("capable.yaml"),
        "namespaces:\n  admin/team-a/: {}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("ops.hcl"),
        "path \"+/sys/audit\" { capabilities = [\"read\"] }\n",
    )
    .expect("write");
    let args = [
        "--namespace",
        "admin/",
        "--policy",
        "ops.hcl",
        "read",
        "team-a/sys/audit",
    ];
    let (code, stdout, stderr) = support::cli::capable_sub(dir.path(), "explain", &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(
            "DENIED: read `team-a/sys/audit` in namespace `admin/` (full path `admin/team-a/sys/audit`)\n"
        ),
        "{stdout}"
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (_, stdout, _) = support::cli::capable_sub(dir.path(), "explain", &json_args);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(value["namespace"], "admin/");
    assert_eq!(value["request"]["full_path"], "admin/team-a/sys/audit");
    assert_eq!(value["sudo_required"], true);
    assert_eq!(value["deny_reason"]["kind"], "sudo-required");
    // `team-b/` is not a declared namespace: `team-b/sys/audit` is an ordinary path of `admin/`.
    let (_, stdout, _) = support::cli::capable_sub(
        dir.path(),
        "explain",
        &[
            "--namespace",
            "admin/",
            "--policy",
            "ops.hcl",
            "read",
            "team-b/sys/audit",
        ],
    );
    assert!(stdout.starts_with("ALLOWED"), "{stdout}");
}

/// `check`: in a namespace with children, `+/sys/policies/acl/*` is policy administration in
/// every child namespace, not a wildcard mount; a policy in a child namespace is linted on its
/// own relative paths; without declared namespaces the same pattern is a wildcard mount.
#[test]
fn check_reports_namespace_wildcards_as_admin_of_every_child() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("policies/admin/team-a")).expect("mkdir");
    std::fs::write(
        dir.path().join("capable.yaml"),
        "include: [policies]\nnamespaces:\n  admin/team-a/: {}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("policies/admin/ns-ops.hcl"),
        "path \"+/sys/policies/acl/*\" {\n  capabilities = [\"create\", \"update\"]\n}\n\
         path \"team-*\" {\n  capabilities = [\"update\"]\n}\n\
         path \"+/sys/audit/x\" {\n  capabilities = [\"sudo\", \"update\"]\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("policies/admin/team-a/team-ops.hcl"),
        "path \"sys/mounts/*\" {\n  capabilities = [\"create\", \"update\"]\n}\n",
    )
    .expect("write");
    let (code, stdout, stderr) =
        support::cli::capable_sub(dir.path(), "check", &["--format", "concise"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let admin_line = stdout
        .lines()
        .find(|line| line.contains("ns-ops.hcl") && line.contains("[policy-admin]"))
        .unwrap_or_else(|| panic!("no policy-admin finding in\n{stdout}"));
    assert!(
        admin_line.contains("(in every child namespace of `admin/`)"),
        "{admin_line}"
    );
    assert!(!stdout.contains("wildcard-mount"), "{stdout}");
    // A glob first segment covers everything in the children it names.
    assert!(
        stdout.lines().any(|line| line.contains("ns-ops.hcl:4:")
            && line.contains("[grants-everything]")
            && line
                .contains("in every child namespace of `admin/` whose name starts with `team-`")),
        "{stdout}"
    );
    // `sudo` matters there: `admin/team-a/sys/audit/x` is root-protected in `admin/team-a/`.
    assert!(!stdout.contains("sudo-unneeded"), "{stdout}");
    assert!(
        stdout.lines().any(|line| line.contains("ns-ops.hcl:7:")
            && line.contains("[audit-admin]")
            && line.contains("(in every child namespace of `admin/`)")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|line| line.contains("team-ops.hcl") && line.contains("[mount-admin]")),
        "{stdout}"
    );
    // Without the tree, the first segment is a mount.
    std::fs::write(dir.path().join("capable.yaml"), "include: [policies]\n").expect("write");
    let (_, stdout, _) = support::cli::capable_sub(dir.path(), "check", &["--format", "concise"]);
    assert!(
        stdout
            .lines()
            .any(|line| line.contains("ns-ops.hcl") && line.contains("[wildcard-mount]")),
        "{stdout}"
    );
    assert!(!stdout.contains("child namespace"), "{stdout}");
}

/// `reach` and `who-can` in the example setup's namespace `ai-research/`: a role is asked in
/// its own namespace, `who-can --namespace` makes the request there, and both say so.
#[test]
fn reach_and_who_can_name_the_namespace() {
    let policies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let (code, stdout, stderr) = support::cli::capable_sub(
        &policies,
        "reach",
        &[
            "--role",
            "kubernetes/research-inference",
            "--under",
            "secret/",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("in namespace `ai-research/`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`ai-research/secret/data/research/*`")
            && stdout.contains("except `ai-research/secret/data/research/admin`"),
        "{stdout}"
    );
    let request = ["--", "vault", "kv", "get", "secret/research/openai"];
    let mut in_research = vec!["--namespace", "ai-research/", "--format", "json"];
    in_research.extend(request);
    let (code, stdout, stderr) = support::cli::capable_sub(&policies, "who-can", &in_research);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(value["namespace"], "ai-research/");
    assert_eq!(
        value["request"]["path"],
        "ai-research/secret/data/research/openai"
    );
    let allowed: Vec<&str> = value["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .filter(|subject| subject["allowed"] == true)
        .filter_map(|subject| subject["name"].as_str())
        .collect();
    assert_eq!(allowed, ["kubernetes/research-inference"], "{stdout}");
    // Asked in the root namespace, the research key is not there.
    let (_, stdout, _) = support::cli::capable_sub(&policies, "who-can", &request);
    assert!(stdout.contains("nobody in the inventory"), "{stdout}");
}

/// OpenBao refuses identity memberships across namespaces (a group's member entity or group,
/// an entity alias on another namespace's mount); capable refuses the same inventory on
/// `openbao`, at the reference in `capable.yaml`, and accepts it on `vault` (Vault
/// Enterprise takes members of any namespace).
#[test]
fn cross_namespace_members_are_refused_as_openbao_does() {
    let bao = Bao::start();
    let root = bao.root_token.clone();
    let call = |namespace: &str, method: &str, path: &str, body: serde_json::Value| {
        bao.request_in(namespace, &root, method, path, Some(&body), None)
    };
    ok(
        &call("", "POST", "sys/namespaces/admin", json!({})),
        "admin/",
    );
    ok(
        &call("admin/", "POST", "sys/namespaces/team-a", json!({})),
        "team-a/",
    );
    let id = |answer: Answer| answer.body["data"]["id"].as_str().unwrap().to_string();
    let rootling = id(call(
        "",
        "PUT",
        "identity/entity",
        json!({"name": "rootling"}),
    ));
    let adminling = id(call(
        "admin/",
        "PUT",
        "identity/entity",
        json!({"name": "adminling"}),
    ));
    let leads = id(call(
        "admin/team-a/",
        "PUT",
        "identity/group",
        json!({"name": "leads"}),
    ));
    let group = |members: serde_json::Value| {
        let mut body = json!({"name": "ops"});
        body.as_object_mut()
            .unwrap()
            .extend(members.as_object().unwrap().clone());
        call("admin/", "PUT", "identity/group", body)
    };
    let across_entity = group(json!({"member_entity_ids": [rootling]}));
    assert!(
        across_entity.errors().contains("invalid entity ID"),
        "{across_entity:?}"
    );
    let across_group = group(json!({"member_group_ids": [leads]}));
    assert!(
        across_group.errors().contains("invalid member group ID"),
        "{across_group:?}"
    );
    ok(
        &group(json!({"member_entity_ids": [adminling]})),
        "same-namespace member",
    );
    call("", "POST", "sys/auth/userpass", json!({"type": "userpass"}));
    let mounts = call("", "GET", "sys/auth", json!({}));
    let accessor = mounts.body["data"]["userpass/"]["accessor"]
        .as_str()
        .unwrap();
    let alias = call(
        "admin/",
        "PUT",
        "identity/entity-alias",
        json!({"name": "bob", "canonical_id": adminling, "mount_accessor": accessor}),
    );
    assert!(alias.errors().contains("different namespace"), "{alias:?}");

    let yaml = "target: TARGET
namespaces:
  admin/: {}
  admin/team-a/: {}
groups:
  ops:
    namespace: admin/
    member_entities: [rootling, adminling]
    member_groups: [leads]
  leads:
    namespace: admin/team-a/
entities:
  rootling: {}
  adminling:
    namespace: admin/
    groups: [leads]
roles:
  userpass/bob:
    entity: adminling
";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.hcl"),
        "path \"kv/x\" {\n  capabilities = [\"read\"]\n}\n",
    )
    .unwrap();
    let lines = |target: &str| {
        std::fs::write(
            dir.path().join("capable.yaml"),
            yaml.replace("TARGET", target),
        )
        .unwrap();
        let (_, stdout, stderr) =
            support::cli::capable_sub(dir.path(), "check", &["--format", "concise"]);
        let found: Vec<String> = stdout
            .lines()
            .filter(|line| line.contains("cross-namespace-member"))
            .map(|line| line.split(": ").next().unwrap().to_string())
            .collect();
        (found, stdout, stderr)
    };
    let (found, stdout, stderr) = lines("openbao");
    // `rootling` in `ops`, `leads` in `ops`, `leads` of `adminling`, `adminling` of the
    // root-namespace role `userpass/bob`; `adminling` in `ops` is fine.
    assert_eq!(
        found,
        [
            "capable.yaml:8:23",
            "capable.yaml:9:21",
            "capable.yaml:16:14",
            "capable.yaml:19:13"
        ],
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("group `ops` (namespace `admin/`) refers to entity `rootling` of namespace `root`, which OpenBao refuses"),
        "{stdout}"
    );
    let (found, stdout, _) = lines("vault");
    assert!(found.is_empty(), "{stdout}");
}

/// Role-level lints judge a role of a child namespace on the patterns its policies wrote
/// (relative to the namespace), as for a role of the root namespace.
#[test]
fn role_lints_see_roles_of_child_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    for folder in [dir.path().to_path_buf(), dir.path().join("admin")] {
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("fence.hcl"),
            "path \"secret/*\" {\n  capabilities = [\"deny\"]\n}\n",
        )
        .unwrap();
        std::fs::write(
            folder.join("reader.hcl"),
            "path \"secret/data/ai/*\" {\n  capabilities = [\"read\"]\n}\n",
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("capable.yaml"),
        "namespaces:\n  admin/: {}\nroles:\n  userpass/root-user:\n    policies: [fence, reader]\n  \
         userpass/ns-user:\n    namespace: admin/\n    policies: [fence, reader]\n",
    )
    .unwrap();
    let (_, stdout, stderr) =
        support::cli::capable_sub(dir.path(), "check", &["--format", "concise"]);
    let overridden: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("[overridden-deny]"))
        .collect();
    assert_eq!(overridden.len(), 2, "{stdout}{stderr}");
    assert!(
        overridden
            .iter()
            .any(|line| line.starts_with("admin/fence.hcl:1:6:")
                && line.contains("role `userpass/ns-user`")
                && line.contains("`secret/data/ai/*` in `reader`")),
        "{stdout}"
    );
}
