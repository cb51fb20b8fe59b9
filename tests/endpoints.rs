//! The endpoint catalog (`src/endpoints/`) against its sources: the committed data files are
//! exactly what the generator makes of OpenBao's own OpenAPI document and of the Vault facts
//! file; every root-protected endpoint agrees with the ACL's table (spec section 6) and with
//! the binary; every endpoint marked unauthenticated answers without a token.
//!
//! `scripts/gen-endpoints` rewrites the data files (it runs the freshness tests with
//! `CAPABLE_UPDATE_ENDPOINTS=1`).

mod support;

#[path = "endpoints/reduce.rs"]
mod reduce;

use std::path::PathBuf;

use serde_json::{json, Value};
use support::bao::Bao;

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/endpoints/data")
        .join(name)
}

/// Compares the generated text with the committed file, or rewrites it when asked to.
fn check_fresh(name: &str, generated: &str) {
    let path = data_file(name);
    if std::env::var("CAPABLE_UPDATE_ENDPOINTS").as_deref() == Ok("1") {
        std::fs::write(&path, generated).expect("write the data file");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(generated.lines().count()));
        panic!(
            "src/endpoints/data/{name} is stale (first difference at line {}: committed {:?}, \
             generated {:?}); help: run `scripts/gen-endpoints`",
            first + 1,
            committed.lines().nth(first),
            generated.lines().nth(first)
        );
    }
}

/// Mounts every built-in secrets engine and auth method of the server at its default path
/// (its type name; `kv` as version 1, next to the dev server's KV v2 `secret/`).
fn mount_everything(bao: &Bao) {
    let catalog = bao.root("GET", "sys/plugins/catalog", None);
    assert_eq!(catalog.status, 200, "{:?}", catalog.body);
    let names = |kind: &str| -> Vec<String> {
        catalog.body["data"][kind]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    // `database` is built in; its plugins are listed under `database`, not `secret`.
    let mut secrets = names("secret");
    secrets.push("database".into());
    for engine in secrets {
        let mut body = json!({ "type": engine });
        if engine == "kv" {
            body["options"] = json!({ "version": "1" });
        }
        let answer = bao.root("POST", &format!("sys/mounts/{engine}"), Some(&body));
        assert!(
            answer.status == 204 || answer.errors().contains("already in use"),
            "mount {engine}: {:?}",
            answer.body
        );
    }
    for method in names("auth") {
        let answer = bao.root(
            "POST",
            &format!("sys/auth/{method}"),
            Some(&json!({ "type": method })),
        );
        assert!(
            answer.status == 204 || answer.errors().contains("already in use"),
            "enable {method}: {:?}",
            answer.body
        );
    }
}

/// The server's mounts with their catalog kinds.
fn server_mounts(bao: &Bao) -> Vec<reduce::ServerMount> {
    let mut mounts = Vec::new();
    for (table, auth) in [("sys/mounts", false), ("sys/auth", true)] {
        let answer = bao.root("GET", table, None);
        assert_eq!(answer.status, 200, "{table}: {:?}", answer.body);
        for (path, mount) in answer.body["data"].as_object().expect("mount table") {
            let prefix = if auth { "auth/" } else { "" };
            mounts.push(reduce::ServerMount {
                path: format!("{prefix}{path}"),
                kind: reduce::kind_of(
                    mount["type"].as_str().unwrap_or_default(),
                    mount["options"]["version"].as_str(),
                    auth,
                ),
            });
        }
    }
    mounts
}

/// What the generator makes of a running server.
fn generate_openbao(bao: &Bao) -> String {
    mount_everything(bao);
    let mounts = server_mounts(bao);
    let document = bao.root("GET", "sys/internal/specs/openapi", None);
    assert_eq!(document.status, 200, "openapi: {:?}", document.body);
    let version = document.body["info"]["version"]
        .as_str()
        .expect("info.version")
        .to_string();
    let mut default_paths: Vec<String> = mounts
        .iter()
        .map(|m| format!("{}={}", m.kind, m.path))
        .collect();
    default_paths.sort();
    let table = reduce::reduce_openapi(&document.body, &mounts);
    reduce::render(
        &[
            ("product", "openbao".into()),
            ("version", version),
            (
                "source",
                "GET sys/internal/specs/openapi of `bao server -dev` with every built-in \
                 engine and auth method mounted at its default path"
                    .into(),
            ),
            ("mounts", default_paths.join(" ")),
        ],
        &table,
    )
}

fn generate_vault() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/endpoints/vault-1.15.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is required: {e}", path.display()));
    let document: Value = serde_json::from_str(&text).expect("vault facts parse");
    let table = reduce::reduce_vault(&document);
    reduce::render(
        &[
            ("product", "vault".into()),
            (
                "version",
                document["version"].as_str().expect("version").to_string(),
            ),
            (
                "source",
                document["source"].as_str().expect("source").to_string(),
            ),
        ],
        &table,
    )
}

#[test]
fn openbao_catalog_is_generated_from_the_binary() {
    let bao = Bao::start();
    check_fresh("openbao.tsv", &generate_openbao(&bao));
}

#[test]
fn vault_catalog_is_reduced_from_the_facts_file() {
    check_fresh("vault.tsv", &generate_vault());
}

/// The mount path the generator used for a kind (its default path).
fn default_mount(kind: &str) -> String {
    match kind {
        "sys" => "sys/".into(),
        "token" => "auth/token/".into(),
        "kv-v2" => "secret/".into(),
        "kv-v1" => "kv/".into(),
        other => match other.strip_prefix("auth-") {
            Some(method) => format!("auth/{method}/"),
            None => format!("{other}/"),
        },
    }
}

/// A concrete request path of an endpoint at its default mount (parameters filled with
/// `x`; a listing request with its `/`), and the HTTP method of one of its operations.
fn request_of(endpoint: &capable::endpoints::Endpoint) -> (String, &'static str) {
    use capable::policy::Capability;
    let path = format!(
        "{}{}",
        default_mount(endpoint.kind),
        endpoint.instance(|_| "x".to_string())
    );
    let caps = endpoint.capabilities;
    let path = path.trim_end_matches('/').to_string();
    if caps.contains(Capability::Read) {
        (path, "GET")
    } else if caps.contains(Capability::Update) {
        (path, "POST")
    } else if caps.contains(Capability::List) {
        (format!("{path}/"), "LIST")
    } else if caps.contains(Capability::Delete) {
        (path, "DELETE")
    } else {
        (path, "PATCH")
    }
}

/// Where the OpenAPI documents' `x-vault-sudo` marker and the ACL's root-protected table
/// (spec 6) disagree, and why. The ACL's table is what decides requests; the binary test below
/// confirms it for OpenBao.
const SUDO_DISAGREEMENTS: &[(&str, &str, &str)] = &[
    // Root-protected by code, not by the backend's root paths: OpenAPI does not mark them.
    ("openbao", "sys/seal", "always sudo by code (spec 6)"),
    ("openbao", "sys/step-down", "always sudo by code (spec 6)"),
    // The prefix `config/ui/headers/*` covers the listing path; OpenAPI marks only the
    // named header.
    (
        "openbao",
        "sys/config/ui/headers/",
        "prefix entry covers the LIST",
    ),
    // OpenAPI marks the bare `leases/lookup` (a POST) from the `leases/lookup/*` prefix; the
    // longest-match rule (spec 6) leaves it unprotected, and the server agrees.
    (
        "openbao",
        "sys/leases/lookup",
        "longest match is the exact `leases` entry",
    ),
    // Newer than the fork point the spec's Vault table describes (VF, about 1.14).
    (
        "vault",
        "sys/plugins/runtimes/catalog/",
        "Vault 1.15 runtime catalog, not in VF",
    ),
    (
        "vault",
        "sys/plugins/runtimes/catalog/x/x",
        "Vault 1.15 runtime catalog, not in VF",
    ),
    // The handler checks sudo itself (spec 6, handler-level checks); not a root path.
    (
        "vault",
        "auth/token/revoke-orphan",
        "handler-level sudo check",
    ),
];

/// Every endpoint the catalog marks `sudo` is root-protected for the ACL (spec 6), and every
/// other endpoint is not, except the documented disagreements above.
#[test]
fn sudo_endpoints_agree_with_the_acl_root_protected_list() {
    use capable::acl::builtin::requires_sudo;
    use capable::endpoints::catalog;
    use capable::target::Target;
    let mut problems = Vec::new();
    let mut disagreements = Vec::new();
    for target in [Target::OpenBao, Target::Vault] {
        for endpoint in catalog(target).endpoints() {
            let (path, _) = request_of(endpoint);
            let protected = requires_sudo(target, &path);
            if protected == endpoint.sudo {
                continue;
            }
            let known = SUDO_DISAGREEMENTS
                .iter()
                .any(|(product, known, _)| *product == target.to_string() && *known == path);
            if known {
                disagreements.push(path.clone());
            } else {
                problems.push(format!(
                    "{target}: `{path}` ({} `{}`): catalog sudo {}, ACL {protected}",
                    endpoint.kind, endpoint.template, endpoint.sudo
                ));
            }
        }
    }
    assert_eq!(
        disagreements.len(),
        SUDO_DISAGREEMENTS.len(),
        "a documented disagreement is gone: {disagreements:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `sys/step-down` needs sudo on an HA cluster; a dev server (not HA) returns before the
/// check, so it cannot show it.
const NOT_CHECKED_ON_DEV: &[&str] = &["sys/step-down"];

/// On the real server: a token with every capability but `sudo` on every path is refused on
/// exactly the endpoints the ACL's table protects, among all those the catalog or the table
/// mark (every other request is not refused for want of sudo).
#[test]
fn sudo_endpoints_refuse_a_token_without_sudo() {
    use capable::acl::builtin::requires_sudo;
    use capable::endpoints::catalog;
    use capable::target::Target;
    let bao = Bao::start();
    mount_everything(&bao);
    let policy = "path \"*\" {\n  capabilities = [\"create\", \"read\", \"update\", \"delete\", \
                  \"list\", \"patch\", \"scan\"]\n}\n";
    assert_eq!(bao.put_policy("everything-but-sudo", policy).status, 204);
    let token = bao.token_with(&["everything-but-sudo"]);
    let mut problems = Vec::new();
    let mut checked = 0;
    for endpoint in catalog(Target::OpenBao).endpoints() {
        let (path, method) = request_of(endpoint);
        let protected = requires_sudo(Target::OpenBao, &path);
        if !endpoint.sudo && !protected || NOT_CHECKED_ON_DEV.contains(&path.as_str()) {
            continue;
        }
        let body = (method == "POST").then(|| json!({}));
        let answer = bao.request(&token, method, &path, body.as_ref(), None);
        checked += 1;
        let refused = answer.status == 403 && answer.errors().contains("permission denied");
        if refused != protected {
            problems.push(format!(
                "{method} {path}: ACL says sudo {protected}, server {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert!(checked > 10, "only {checked} sudo endpoints");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Endpoints that consult no policy on their own path but whose handler checks the caller's
/// token itself: `sys/internal/ui/mounts/<m>` answers by the token's access to the mount
/// (spec 3.5), so without any token it is refused.
const HANDLER_CHECKS_TOKEN: &[&str] = &["sys/internal/ui/mounts/x"];

/// On the real server, for every endpoint the catalog marks unauthenticated: a token whose
/// policy denies exactly that path is not refused there (the deny protects nothing), and a
/// request without any token is not refused either (except where the handler checks the
/// token itself, listed above).
#[test]
fn unauthenticated_endpoints_answer_without_a_token() {
    use capable::endpoints::catalog;
    use capable::target::Target;
    let bao = Bao::start();
    mount_everything(&bao);
    let mut problems = Vec::new();
    let mut checked = 0;
    let endpoints = catalog(Target::OpenBao).endpoints();
    for (index, endpoint) in endpoints.iter().filter(|e| e.unauthenticated).enumerate() {
        let (path, method) = request_of(endpoint);
        let name = format!("deny-{index}");
        let policy = format!(
            "path \"*\" {{\n  capabilities = [\"read\", \"list\"]\n}}\n\
             path \"{path}\" {{\n  capabilities = [\"deny\"]\n}}\n"
        );
        assert_eq!(bao.put_policy(&name, &policy).status, 204, "{policy}");
        let token = bao.token_with(&[&name]);
        let body = (method == "POST").then(|| json!({}));
        checked += 1;
        let denied = |answer: &support::bao::Answer| {
            answer.status == 403 && answer.errors().contains("permission denied")
        };
        let with_deny = bao.request(&token, method, &path, body.as_ref(), None);
        if denied(&with_deny) {
            problems.push(format!("{method} {path} with a deny: {}", with_deny.body));
        }
        let anonymous = bao.request("", method, &path, body.as_ref(), None);
        if denied(&anonymous) && !HANDLER_CHECKS_TOKEN.contains(&path.as_str()) {
            problems.push(format!(
                "{method} {path} without a token: {}",
                anonymous.body
            ));
        }
    }
    assert!(checked > 10, "only {checked} unauthenticated endpoints");
    // The contrast: an endpoint that needs a token refuses the same requests.
    let answer = bao.request("", "GET", "sys/mounts", None, None);
    assert_eq!(answer.status, 403, "{:?}", answer.body);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
