//! The CLI → API translation table of spec section 7, one row per CLI form, on a KV v2 mount
//! (`secret/`) and a KV v1 mount (`kv1/`). Each expected line is `METHOD path (capability)`
//! with the request data when the command sends some; `preflight` is the kv mount lookup.

mod support;

use std::process::Command;
use std::sync::Arc;

use capable::acl::Acl;
use capable::config::{Mount, Mounts};
use capable::policy::parse_policy;
use capable::scenario::decide_translation;
use capable::scenario::vault_cli::{split_words, translate};
use capable::source::SourceFile;
use capable::target::Target;
use serde_json::json;
use support::bao::{bao_binary, Bao};

fn mounts() -> Mounts {
    Mounts::new(vec![
        Mount {
            path: "secret/".into(),
            engine: "kv".into(),
            kv_version: Some(2),
        },
        Mount {
            path: "kv1".into(),
            engine: "kv".into(),
            kv_version: Some(1),
        },
        Mount {
            path: "database/".into(),
            engine: "database".into(),
            kv_version: None,
        },
    ])
}

fn check(rows: &[(&str, &str)]) {
    let mounts = mounts();
    let mut failures = Vec::new();
    for (command, expected) in rows {
        let actual = match translate(command, &mounts) {
            Ok(translation) => translation.to_string(),
            Err(error) => format!("error: {error}"),
        };
        if actual.trim_end() != expected.trim_end() {
            failures.push(format!(
                "{command}\n  expected:\n{expected}\n  actual:\n{actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const PF_SECRET: &str = "preflight GET sys/internal/ui/mounts/";

fn pf(path: &str, mount: &str) -> String {
    format!("{PF_SECRET}{path} (mount `{mount}`)")
}

#[test]
fn kv_v2_table() {
    let rows: Vec<(&str, String)> = vec![
        (
            "vault kv get secret/ai/openai",
            format!("{}\nGET secret/data/ai/openai (read)", pf("secret/ai/openai", "secret/")),
        ),
        (
            "vault kv get -field=api-key secret/ai/openai",
            format!("{}\nGET secret/data/ai/openai (read)", pf("secret/ai/openai", "secret/")),
        ),
        (
            "vault kv get -version=3 secret/ai/openai",
            format!(
                "{}\nGET secret/data/ai/openai (read) {{\"version\":\"3\"}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv get -mount=secret ai/openai",
            format!("{}\nGET secret/data/ai/openai (read)", pf("secret/ai/openai", "secret/")),
        ),
        (
            "vault kv list secret/ai",
            format!("{}\nLIST secret/metadata/ai/ (list)", pf("secret/ai", "secret/")),
        ),
        (
            "vault kv list secret/",
            format!("{}\nLIST secret/metadata/ (list)", pf("secret/", "secret/")),
        ),
        (
            "bao kv scan secret/ai",
            format!("{}\nSCAN secret/metadata/ai/ (scan)", pf("secret/ai", "secret/")),
        ),
        (
            "vault kv put secret/ai/openai api-key=sk-1",
            format!(
                "{}\nPOST secret/data/ai/openai (create|update) {{\"data\":{{\"api-key\":\"sk-1\"}},\"options\":{{}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv put -cas=2 secret/ai/openai api-key=sk-1",
            format!(
                "{}\nPOST secret/data/ai/openai (create|update) {{\"data\":{{\"api-key\":\"sk-1\"}},\"options\":{{\"cas\":\"2\"}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv patch secret/ai/openai org=acme",
            format!(
                "{}\nPATCH secret/data/ai/openai (patch) {{\"data\":{{\"org\":\"acme\"}},\"options\":{{}}}}\n\
                 fallback GET secret/data/ai/openai (read)\n\
                 fallback POST secret/data/ai/openai (update) {{\"data\":{{\"org\":\"acme\"}},\"options\":{{\"cas\":\"<current>\"}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv patch -method=patch secret/ai/openai org=acme",
            format!(
                "{}\nPATCH secret/data/ai/openai (patch) {{\"data\":{{\"org\":\"acme\"}},\"options\":{{}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv patch -method=rw secret/ai/openai org=acme",
            format!(
                "{}\nGET secret/data/ai/openai (read)\n\
                 POST secret/data/ai/openai (update) {{\"data\":{{\"org\":\"acme\"}},\"options\":{{\"cas\":\"<current>\"}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv delete secret/ai/openai",
            format!("{}\nDELETE secret/data/ai/openai (delete)", pf("secret/ai/openai", "secret/")),
        ),
        (
            "vault kv delete -versions=1,2 secret/ai/openai",
            format!(
                "{}\nPOST secret/delete/ai/openai (update) {{\"versions\":[\"1\",\"2\"]}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv undelete -versions=2 secret/ai/openai",
            format!(
                "{}\nPOST secret/undelete/ai/openai (update) {{\"versions\":[\"2\"]}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv destroy -versions=2 secret/ai/openai",
            format!(
                "{}\nPUT secret/destroy/ai/openai (update) {{\"versions\":[\"2\"]}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv rollback -version=2 secret/ai/openai",
            format!(
                "{}\nGET secret/data/ai/openai (read)\n\
                 GET secret/data/ai/openai (read) {{\"version\":\"2\"}}\n\
                 POST secret/data/ai/openai (update) {{\"data\":{{}},\"options\":{{\"cas\":\"<current>\"}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv metadata get secret/ai/openai",
            format!("{}\nGET secret/metadata/ai/openai (read)", pf("secret/ai/openai", "secret/")),
        ),
        (
            "vault kv metadata put -max-versions=5 secret/ai/openai",
            format!(
                "{}\nPOST secret/metadata/ai/openai (create|update) {{\"max_versions\":\"5\"}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv metadata patch -custom-metadata=owner=ai secret/ai/openai",
            format!(
                "{}\nPATCH secret/metadata/ai/openai (patch) {{\"custom_metadata\":{{\"owner\":\"ai\"}}}}",
                pf("secret/ai/openai", "secret/")
            ),
        ),
        (
            "vault kv metadata delete secret/ai/openai",
            format!("{}\nDELETE secret/metadata/ai/openai (delete)", pf("secret/ai/openai", "secret/")),
        ),
        (
            "vault kv enable-versioning secret",
            "POST sys/mounts/secret/tune (update) {\"options\":{\"version\":\"2\"}}".to_string(),
        ),
    ];
    let rows: Vec<(&str, &str)> = rows.iter().map(|(c, e)| (*c, e.as_str())).collect();
    check(&rows);
}

#[test]
fn kv_v1_table() {
    let rows: Vec<(&str, String)> = vec![
        (
            "vault kv get kv1/ci/token",
            format!("{}\nGET kv1/ci/token (read)", pf("kv1/ci/token", "kv1/")),
        ),
        (
            "vault kv list kv1/ci",
            format!("{}\nLIST kv1/ci/ (list)", pf("kv1/ci", "kv1/")),
        ),
        (
            "vault kv put kv1/ci/token value=1",
            format!(
                "{}\nPOST kv1/ci/token (create|update) {{\"value\":\"1\"}}",
                pf("kv1/ci/token", "kv1/")
            ),
        ),
        (
            "vault kv delete kv1/ci/token",
            format!(
                "{}\nDELETE kv1/ci/token (delete)",
                pf("kv1/ci/token", "kv1/")
            ),
        ),
        (
            "vault kv rollback -version=2 kv1/ci/token",
            "error: `kv rollback` needs a KV v2 mount, but `kv1/` is KV v1".into(),
        ),
        (
            "vault kv metadata get kv1/ci/token",
            "error: `kv metadata get` needs a KV v2 mount, but `kv1/` is KV v1".into(),
        ),
        (
            "vault kv patch kv1/ci/token a=b",
            "error: `kv patch` needs a KV v2 mount, but `kv1/` is KV v1".into(),
        ),
    ];
    let rows: Vec<(&str, &str)> = rows.iter().map(|(c, e)| (*c, e.as_str())).collect();
    check(&rows);
}

#[test]
fn generic_commands_table() {
    check(&[
        (
            "vault read database/creds/model-server",
            "GET database/creds/model-server (read)",
        ),
        (
            "vault read sys/mounts/secret/tune",
            "GET sys/mounts/secret/tune (read)",
        ),
        ("vault list database/roles", "LIST database/roles/ (list)"),
        (
            "bao list sys/policies/acl/",
            "LIST sys/policies/acl/ (list)",
        ),
        (
            "vault write database/roles/x db_name=pg",
            "POST database/roles/x (update) {\"db_name\":\"pg\"}",
        ),
        // A raw write to a KV path checks existence like `kv put`.
        (
            "vault write secret/data/ai/openai data=x",
            "POST secret/data/ai/openai (create|update) {\"data\":\"x\"}",
        ),
        (
            "vault delete database/roles/x",
            "DELETE database/roles/x (delete)",
        ),
        (
            "vault patch database/roles/x ttl=1h",
            "PATCH database/roles/x (patch) {\"ttl\":\"1h\"}",
        ),
        (
            "vault read -wrap-ttl=5m database/creds/model-server",
            "GET database/creds/model-server (read) wrap_ttl=300",
        ),
        ("vault policy list", "LIST sys/policies/acl/ (list)"),
        (
            "vault policy read Ai-Reader",
            "GET sys/policies/acl/ai-reader (read)",
        ),
        (
            "vault policy write ai-reader ai-reader.hcl",
            "PUT sys/policies/acl/ai-reader (update) {\"policy\":\"<contents of ai-reader.hcl>\"}",
        ),
        (
            "vault policy delete ai-reader",
            "DELETE sys/policies/acl/ai-reader (delete)",
        ),
        ("vault token create", "POST auth/token/create (update)"),
        (
            "vault token create -policy=a -policy=b,c -ttl=1h",
            "POST auth/token/create (update) {\"policies\":[\"a\",\"b\",\"c\"],\"ttl\":\"1h\"}",
        ),
        (
            "vault token create -orphan -policy=a",
            "POST auth/token/create (update+sudo) {\"policies\":[\"a\"],\"no_parent\":true}",
        ),
        (
            "vault token create -role=ci",
            "POST auth/token/create/ci (update)",
        ),
        ("vault token lookup", "GET auth/token/lookup-self (read)"),
        (
            "vault token lookup s.abc",
            "POST auth/token/lookup (update) {\"token\":\"s.abc\"}",
        ),
        ("vault token renew", "PUT auth/token/renew-self (update)"),
        (
            "vault token revoke -self",
            "PUT auth/token/revoke-self (update)",
        ),
    ]);
}

#[test]
fn quoting_and_errors() {
    check(&[
        (
            "vault kv put secret/ai/openai 'api-key=sk 1' \"org=a\\\"b\"",
            "preflight GET sys/internal/ui/mounts/secret/ai/openai (mount `secret/`)\n\
             POST secret/data/ai/openai (create|update) {\"data\":{\"api-key\":\"sk 1\",\"org\":\"a\\\"b\"},\"options\":{}}",
        ),
        ("curl secret/x", "error: command must start with `vault` or `bao`, not `curl`"),
        ("vault kv get -bogus secret/x", "error: unknown flag `-bogus`"),
        ("vault kv get database/creds/x", "error: `database/creds/x` is not under a KV mount"),
        ("vault kv rollback secret/x", "error: `kv rollback` needs `-version`"),
        ("vault kv undelete secret/x", "error: `kv undelete` needs `-versions`"),
        ("vault kv get 'secret/x", "error: unterminated `'` in command"),
        ("vault -namespace=ns1 read x", "error: unsupported command `vault -namespace=ns1`"),
        ("vault read -namespace=ns1 x", "error: namespaces are not supported"),
        ("vault operator unseal", "error: unsupported command `vault operator`"),
    ]);
}

/// Runs a CLI command against the server with a token: `true` when it succeeds, `false` on a
/// permission denial (or the token store's root-or-sudo refusal); panics on anything else.
fn server_allows(bao: &Bao, token: &str, command: &str) -> bool {
    let words = split_words(command).expect("words");
    let output = Command::new(bao_binary())
        .args(&words[1..])
        .env("BAO_ADDR", format!("http://{}", bao.addr))
        .env("BAO_TOKEN", token)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run bao");
    if output.status.success() {
        return true;
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("403")
            || stderr.contains("permission denied")
            || stderr.contains("root or sudo privileges required"),
        "`{command}` failed for another reason than a denial: {stderr}"
    );
    false
}

/// Each command run by the real `bao` CLI with a token holding one policy must be allowed
/// exactly when our translation (preflight, requests, fallback) is. Keys that `existing`
/// calls existing are written by root first; new keys are unique per row.
#[test]
fn commands_match_the_openbao_cli() {
    let bao = Bao::start();
    assert!(
        (200..300).contains(
            &bao.root(
                "POST",
                "sys/mounts/kv1",
                Some(&json!({"type": "kv", "options": {"version": "1"}}))
            )
            .status
        ),
        "enable kv1"
    );
    let root = bao.root_token.clone();
    for (key, value) in [
        ("secret/ai/openai", "v1"),
        ("secret/ai/openai", "v2"),
        ("secret/ai/anthropic", "a1"),
    ] {
        assert!(server_allows(
            &bao,
            &root,
            &format!("bao kv put {key} api-key={value}")
        ));
    }
    assert!(server_allows(
        &bao,
        &root,
        "bao kv put kv1/ci/token value=1"
    ));
    let rows: &[(&str, &str, Option<bool>)] = &[
        (r#"path "secret/data/ai/openai" { capabilities = ["read"] }"#, "vault kv get secret/ai/openai", None),
        (r#"path "secret/data/ai/openai" { capabilities = ["read"] }"#, "vault kv get secret/ai/anthropic", None),
        (r#"path "secret/data/ai/openai" { capabilities = ["read"] }"#, "vault kv get -version=1 secret/ai/openai", None),
        (r#"path "other/*" { capabilities = ["read"] }"#, "vault kv get secret/ai/openai", None),
        (
            "path \"secret/*\" { capabilities = [\"deny\"] }\npath \"secret/data/ai/openai\" { capabilities = [\"read\"] }",
            "vault kv get secret/ai/openai",
            None,
        ),
        (r#"path "+/data/ai/*" { capabilities = ["read"] }"#, "vault kv get secret/ai/openai", None),
        (r#"path "secret/data/ai/*" { capabilities = ["create", "update"] }"#, "vault kv put secret/ai/openai api-key=v3", Some(true)),
        (r#"path "secret/data/ai/*" { capabilities = ["create", "update"] }"#, "vault kv put secret/ai/new-1 api-key=n", Some(false)),
        (r#"path "secret/data/ai/*" { capabilities = ["update"] }"#, "vault kv put secret/ai/openai api-key=v4", Some(true)),
        (r#"path "secret/data/ai/*" { capabilities = ["update"] }"#, "vault kv put secret/ai/new-2 api-key=n", Some(false)),
        (r#"path "secret/data/ai/*" { capabilities = ["create"] }"#, "vault kv put secret/ai/openai api-key=v5", Some(true)),
        (r#"path "secret/data/ai/*" { capabilities = ["create"] }"#, "vault kv put secret/ai/new-3 api-key=n", Some(false)),
        (r#"path "secret/data/ai/*" { capabilities = ["read", "update"] }"#, "vault kv patch secret/ai/openai org=a", None),
        (r#"path "secret/data/ai/*" { capabilities = ["patch"] }"#, "vault kv patch secret/ai/openai org=b", None),
        (r#"path "secret/data/ai/*" { capabilities = ["read"] }"#, "vault kv patch secret/ai/openai org=c", None),
        (r#"path "secret/data/ai/*" { capabilities = ["read", "update"] }"#, "vault kv patch -method=patch secret/ai/openai org=d", None),
        (r#"path "secret/data/ai/*" { capabilities = ["patch"] }"#, "vault kv patch -method=rw secret/ai/openai org=e", None),
        (r#"path "secret/data/ai/*" { capabilities = ["read", "update"] }"#, "vault kv rollback -version=1 secret/ai/openai", None),
        (r#"path "secret/data/ai/*" { capabilities = ["update"] }"#, "vault kv rollback -version=1 secret/ai/openai", None),
        (r#"path "secret/metadata/ai/*" { capabilities = ["read"] }"#, "vault kv metadata get secret/ai/openai", None),
        (r#"path "secret/data/ai/*" { capabilities = ["read"] }"#, "vault kv metadata get secret/ai/openai", None),
        (r#"path "secret/metadata/ai/*" { capabilities = ["list"] }"#, "vault kv list secret/ai", None),
        (r#"path "secret/metadata/ai" { capabilities = ["list"] }"#, "vault kv list secret/ai", None),
        (r#"path "secret/data/ai/*" { capabilities = ["list"] }"#, "vault kv list secret/ai", None),
        (r#"path "secret/delete/ai/*" { capabilities = ["update"] }"#, "vault kv delete -versions=1 secret/ai/anthropic", None),
        (r#"path "secret/data/ai/*" { capabilities = ["delete"] }"#, "vault kv delete -versions=1 secret/ai/anthropic", None),
        (r#"path "secret/undelete/ai/*" { capabilities = ["update"] }"#, "vault kv undelete -versions=1 secret/ai/anthropic", None),
        (r#"path "secret/destroy/ai/*" { capabilities = ["update"] }"#, "vault kv destroy -versions=1 secret/ai/anthropic", None),
        (r#"path "secret/data/ai/*" { capabilities = ["update"] }"#, "vault kv destroy -versions=1 secret/ai/anthropic", None),
        (r#"path "secret/data/ai/anthropic" { capabilities = ["delete"] }"#, "vault kv delete secret/ai/anthropic", None),
        (r#"path "kv1/ci/*" { capabilities = ["read"] }"#, "vault kv get kv1/ci/token", None),
        (r#"path "kv1/ci/*" { capabilities = ["list"] }"#, "vault kv list kv1/ci", None),
        (r#"path "kv1/ci/*" { capabilities = ["update"] }"#, "vault kv put kv1/ci/token value=2", Some(true)),
        (r#"path "kv1/ci/*" { capabilities = ["update"] }"#, "vault kv put kv1/ci/new value=2", Some(false)),
        (r#"path "sys/policies/acl/*" { capabilities = ["read"] }"#, "vault policy read default", None),
        (r#"path "sys/policies/acl" { capabilities = ["list"] }"#, "vault policy list", None),
        (r#"path "sys/policies/acl/*" { capabilities = ["list"] }"#, "vault policy list", None),
        (r#"path "sys/policies/acl/*" { capabilities = ["update"] }"#, "vault token lookup", None),
        (r#"path "auth/token/lookup-self" { capabilities = ["read"] }"#, "vault token lookup", None),
        (r#"path "sys/mounts" { capabilities = ["read"] }"#, "vault read sys/mounts", None),
        // `{self}` is the row's own policy name.
        (r#"path "auth/token/create" { capabilities = ["update"] }"#, "vault token create -policy={self}", None),
        (r#"path "auth/token/create" { capabilities = ["update"] }"#, "vault token create -orphan -policy={self}", None),
        (
            r#"path "auth/token/create" { capabilities = ["update", "sudo"] }"#,
            "vault token create -orphan -policy={self}",
            None,
        ),
        (
            r#"path "sys/policies/acl/*" { capabilities = ["update"] }"#,
            "vault write sys/policies/acl/written policy='path \"x\" { capabilities = [\"read\"] }'",
            None,
        ),
        (r#"path "sys/policies/acl/*" { capabilities = ["create"] }"#, "vault policy write {self}-copy /dev/null", None),
        (r#"path "sys/policies/acl/*" { capabilities = ["delete"] }"#, "vault delete sys/policies/acl/written", None),
        (r#"path "sys/policies/acl/*" { capabilities = ["list"] }"#, "vault list sys/policies/acl", None),
        (
            "path \"sys/policies/acl/*\" {\n  capabilities = [\"read\"]\n  max_wrapping_ttl = \"1h\"\n}",
            "vault read sys/policies/acl/default",
            None,
        ),
        (
            "path \"sys/policies/acl/*\" {\n  capabilities = [\"read\"]\n  max_wrapping_ttl = \"1h\"\n}",
            "vault read -wrap-ttl=5m sys/policies/acl/default",
            None,
        ),
    ];
    let mounts = Mounts::new(vec![
        Mount {
            path: "secret/".into(),
            engine: "kv".into(),
            kv_version: Some(2),
        },
        Mount {
            path: "kv1/".into(),
            engine: "kv".into(),
            kv_version: Some(1),
        },
    ]);
    let mut differences = Vec::new();
    let mut allowed_rows = 0;
    for (index, (policy_text, command, existing)) in rows.iter().enumerate() {
        let name = format!("row-{index}");
        let answer = bao.put_policy(&name, policy_text);
        assert_eq!(answer.status, 204, "policy {name}: {:?}", answer.body);
        let token = bao.token_with(&[&name]);
        let source = Arc::new(SourceFile::new(format!("{name}.hcl"), *policy_text));
        let policy = parse_policy(source, Target::OpenBao)
            .policy
            .expect("valid policy");
        let acl = Acl::new(&[&policy], Target::OpenBao, None).expect("acl");
        let command = command.replace("{self}", &name);
        let translation = translate(&command, &mounts).expect("translates");
        let (ours, _) = decide_translation(&acl, &translation, *existing);
        let theirs = server_allows(&bao, &token, &command.replacen("vault", "bao", 1));
        allowed_rows += usize::from(theirs);
        if ours != theirs {
            differences.push(format!(
                "{command} with {policy_text:?}: ours {ours}, openbao {theirs}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // Both answers occur often: the table exercises grants and denials alike.
    assert!(
        allowed_rows >= 15 && rows.len() - allowed_rows >= 10,
        "{allowed_rows} allowed"
    );
}

/// The kv preflight (`GET sys/internal/ui/mounts/secret`, spec 3.5 `hasMountAccess`) against
/// OpenBao, including its quirks (a deny-only prefix rule covering the mount counts).
#[test]
fn mount_preflight_matches_openbao() {
    let bao = Bao::start();
    let rows: &[&str] = &[
        r#"path "*" { capabilities = ["deny"] }"#,
        r#"path "secret/*" { capabilities = ["deny"] }"#,
        r#"path "secret/" { capabilities = ["read"] }"#,
        r#"path "secret" { capabilities = ["read"] }"#,
        r#"path "sec*" { capabilities = ["read"] }"#,
        r#"path "+/data/*" { capabilities = ["read"] }"#,
        r#"path "+/data/*" { capabilities = ["deny"] }"#,
        "path \"*\" { capabilities = [\"deny\"] }\npath \"+/+/x\" { capabilities = [\"read\"] }",
        "path \"*\" { capabilities = [\"deny\"] }\npath \"other/+\" { capabilities = [\"read\"] }",
        r#"path "other/+" { capabilities = ["read"] }"#,
        r#"path "other/*" { capabilities = ["read"] }"#,
        r#"path "secret/data/x" { capabilities = ["deny"] }"#,
        r#"path "secret/data/x" { capabilities = ["read"] }"#,
        r#"path "secret/data/x" { capabilities = ["subscribe"] }"#,
        r#"path "secret/+/x" { capabilities = ["list"] }"#,
    ];
    let mut differences = Vec::new();
    let mut visible_rows = 0;
    for (index, policy_text) in rows.iter().enumerate() {
        let name = format!("mount-{index}");
        let answer = bao.put_policy(&name, policy_text);
        if answer.status != 204 {
            // Not valid for OpenBao (e.g. `subscribe`): nothing to compare.
            continue;
        }
        let token = bao.token_with(&[&name]);
        let theirs = bao
            .request(&token, "GET", "sys/internal/ui/mounts/secret", None, None)
            .status
            == 200;
        let source = Arc::new(SourceFile::new(format!("{name}.hcl"), *policy_text));
        let policy = parse_policy(source, Target::OpenBao)
            .policy
            .expect("valid policy");
        let acl = Acl::new(&[&policy], Target::OpenBao, None).expect("acl");
        let ours = capable::scenario::mount_visible(&acl, "secret/");
        visible_rows += usize::from(theirs);
        if ours != theirs {
            differences.push(format!("{policy_text:?}: ours {ours}, openbao {theirs}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(
        visible_rows >= 4 && rows.len() - visible_rows >= 3,
        "{visible_rows} visible"
    );
}
