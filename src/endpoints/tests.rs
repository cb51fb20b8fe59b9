use super::*;
use crate::mounts::{Mount, Mounts};
use crate::policy::{Capability, PathPattern};
use crate::target::Target;

fn pattern(text: &str) -> PathPattern {
    PathPattern::parse(text).unwrap()
}

fn template(target: Target, kind: &str, relative: &str) -> Option<&'static str> {
    catalog(target)
        .lookup(kind, relative)
        .map(|endpoint| endpoint.template)
}

#[test]
fn both_catalogs_say_what_they_describe() {
    assert_eq!(catalog(Target::OpenBao).product, "openbao");
    assert_eq!(catalog(Target::Vault).product, "vault");
    assert!(catalog(Target::Vault).version.starts_with("1.15"));
    assert!(!catalog(Target::OpenBao).version.is_empty());
}

#[test]
fn lookup_prefers_literals_and_takes_rest_parameters() {
    for target in [Target::OpenBao, Target::Vault] {
        assert_eq!(
            template(target, "kv-v2", "data/ai/openai"),
            Some("data/{path}")
        );
        assert_eq!(
            template(target, "kv-v2", "metadata/"),
            Some("metadata/{path}")
        );
        assert_eq!(
            template(target, "kv-v2", "metadata/a/b/"),
            Some("metadata/{path}")
        );
        assert_eq!(
            template(target, "sys", "policies/acl/ops"),
            Some("policies/acl/{name}")
        );
        assert_eq!(
            template(target, "sys", "auth/a/b/tune"),
            Some("auth/{path}/tune")
        );
        assert_eq!(template(target, "sys", "auth/approle"), Some("auth/{path}"));
        assert_eq!(template(target, "sys", "health"), Some("health"));
        assert_eq!(template(target, "token", "create"), Some("create"));
        assert_eq!(template(target, "sys", "no-such-thing"), None);
        assert_eq!(template(target, "pki", "issue/web"), Some("issue/{role}"));
    }
}

#[test]
fn flags_come_from_the_data() {
    let bao = catalog(Target::OpenBao);
    let health = bao.lookup("sys", "health").unwrap();
    assert!(health.unauthenticated && !health.sudo);
    let auth = bao.lookup("sys", "auth/x").unwrap();
    assert!(auth.sudo);
    let data = bao.lookup("kv-v2", "data/x").unwrap();
    assert!(data.capabilities.contains(Capability::Create));
    assert!(data.field_names().any(|field| field == "options"));
    let creds = bao.lookup("database", "creds/app").unwrap();
    assert!(!creds.capabilities.contains(Capability::Update));
}

fn reached(target: Target, kind: &str, relative: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    let catalog = catalog(target);
    catalog
        .reached_by(kind, &pattern(relative))
        .into_iter()
        .map(|r| {
            (
                catalog.endpoint(r.endpoint).template,
                r.capabilities.iter().map(Capability::name).collect(),
            )
        })
        .collect()
}

#[test]
fn patterns_reach_endpoints_and_their_listing_forms() {
    let t = Target::OpenBao;
    assert_eq!(
        reached(t, "database", "creds/+"),
        [("creds/{name}", vec!["read"])]
    );
    // `metadata/*` matches the LIST of `metadata/` and everything below.
    let below = reached(t, "kv-v2", "metadata/*");
    assert!(below
        .iter()
        .any(|(t, caps)| *t == "metadata/{path}" && caps.contains(&"list")));
    // An exact rule is found for a LIST with its `/` trimmed (spec 3.3).
    let exact = reached(t, "auth-approle", "role");
    assert_eq!(exact, [("role", vec!["list"])]);
    // `role/+` matches `role/` (LIST) and `role/<name>`.
    let plus = reached(t, "auth-approle", "role/+");
    assert!(plus.contains(&("role", vec!["list"])));
    assert!(plus.iter().any(|(t, _)| *t == "role/{role_name}"));
    assert!(reached(t, "sys", "transit/keys/x").is_empty());
    // A glob after a rest parameter's first segment continues the parameter.
    for relative in ["data/tokens/*", "metadata/app/*"] {
        let found = reached(t, "kv-v2", relative);
        assert!(
            found.iter().any(|(_, caps)| caps.contains(&"read")),
            "{relative}: {found:?}"
        );
    }
    let glob = reached(t, "sys", "generate-root*");
    assert!(glob.iter().any(|(t, _)| *t == "generate-root/update"));
    assert!(reached(t, "sys", "leases/lookup/a/b")
        .iter()
        .any(|(t, _)| *t == "leases/lookup/{prefix}"));
}

#[test]
fn mounts_from_the_table_the_policy_and_default_paths() {
    let defaults = Mounts::default();
    let kv = pattern("kv/data/app");
    let map = MountMap::from_patterns(Target::Vault, &defaults, [&kv]);
    let of = |path: &str| map.resolve(path).map(|m| (m.path, m.kind, m.evidence));
    assert_eq!(
        of("kv/metadata/x"),
        Some(("kv/".into(), "kv-v2".into(), Evidence::Policy))
    );
    assert_eq!(
        of("secret/x"),
        Some(("secret/".into(), "kv-v2".into(), Evidence::DefaultPath))
    );
    assert_eq!(
        of("sys/policy/x"),
        Some(("sys/".into(), "sys".into(), Evidence::Builtin))
    );
    assert_eq!(
        of("pki/issue/web"),
        Some(("pki/".into(), "pki".into(), Evidence::DefaultPath))
    );
    assert_eq!(
        of("auth/approle/login"),
        Some((
            "auth/approle/".into(),
            "auth-approle".into(),
            Evidence::DefaultPath
        ))
    );
    assert_eq!(of("team/x"), None);
    assert_eq!(of("sys"), None);
    let declared = Mounts::new(vec![
        Mount {
            path: "certs/".into(),
            engine: "pki".into(),
            kv_version: None,
        },
        Mount {
            path: "auth/ci/".into(),
            engine: "approle".into(),
            kv_version: None,
        },
    ]);
    let map = MountMap::from_patterns(Target::Vault, &declared, []);
    assert_eq!(map.resolve("certs/issue/x").unwrap().kind, "pki");
    assert_eq!(map.resolve("auth/ci/login").unwrap().kind, "auth-approle");
    assert_eq!(
        map.resolve("certs/issue/x").unwrap().evidence,
        Evidence::Declared
    );
    let (mount, endpoint) = map.endpoint("auth/ci/login").unwrap();
    assert_eq!(describe(&mount, endpoint), "approle auth `auth/ci/login`");
}
