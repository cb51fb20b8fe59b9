//! The streaming `audit replay`, `usage` and `suggest` against a plain reference: the whole
//! log read into memory as `serde_json::Value`s, each request decided on its own with the
//! spec-text ACL evaluator (`capable::acl::reference`), and the groups, counts and first/last
//! times computed with a linear scan. Generated logs over a small alphabet of subjects,
//! operations, KV v2 paths and times, with request entries, server decisions that sometimes
//! disagree with the tree (fidelity), and malformed lines.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use capable::acl::reference::Reference;
use capable::acl::{Acl, Operation};
use capable::audit::observed::{observe, Selector};
use capable::audit::replay::{replay, Group};
use capable::audit::suggest::{suggest, SuggestInput};
use capable::audit::usage::usage;
use capable::audit::LogSource;
use capable::config::{Config, Mounts};
use capable::namespace::Namespaces;
use capable::policy::Policy;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use proptest::prelude::*;
use serde_json::{json, Value};

const TARGET: Target = Target::OpenBao;
const POLICIES: [&str; 3] = ["p0", "p1", "p2"];
const KEYS: [&str; 5] = ["a", "b", "a/x", "b/y", "ab"];
const TIMES: [&str; 4] = [
    "2026-11-30T10:00:00Z",
    "2026-11-30T11:00:00Z",
    "2026-12-01T09:30:00Z",
    "2026-12-01T23:59:59Z",
];

/// Patterns that collide with the generated paths in every way the ACL ranks.
fn pattern() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "secret/data/a",
        "secret/data/a/x",
        "secret/data/a/*",
        "secret/data/*",
        "secret/data/+",
        "secret/data/+/y",
        "secret/data/a*",
        "secret/metadata/*",
        "secret/metadata/+/",
        "secret/metadata/",
    ])
    .prop_map(str::to_string)
}

fn capabilities() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        9 => prop::sample::subsequence(vec!["read", "list", "create", "update", "delete"], 1..4),
        1 => Just(vec!["deny"]),
    ]
}

fn policy_text() -> impl Strategy<Value = String> {
    prop::collection::vec((pattern(), capabilities()), 1..4).prop_map(|rules| {
        rules
            .iter()
            .map(|(pattern, caps)| {
                let caps: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
                format!(
                    "path \"{pattern}\" {{\n  capabilities = [{}]\n}}\n",
                    caps.join(", ")
                )
            })
            .collect()
    })
}

/// One generated log line's ingredients.
#[derive(Clone, Debug)]
struct Line {
    subject: usize,
    operation: &'static str,
    path: String,
    time: &'static str,
    /// Whether the server's decision is the opposite of the base tree's (a fidelity case).
    flip: bool,
    /// Written as a malformed line instead.
    broken: bool,
}

fn line() -> impl Strategy<Value = Line> {
    let operation = prop::sample::select(vec!["read", "list", "create", "update", "delete"]);
    let key = prop::sample::select(KEYS.to_vec());
    let folder = prop::sample::select(vec!["data", "metadata"]);
    (
        0..3usize,
        operation,
        folder,
        key,
        prop::sample::select(TIMES.to_vec()),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(subject, operation, folder, key, time, flip, broken)| {
            let trailing = if operation == "list" { "/" } else { "" };
            Line {
                subject,
                operation,
                path: format!("secret/{folder}/{key}{trailing}"),
                time,
                flip,
                broken,
            }
        })
}

/// The three tokens: display name and policies.
fn subject(index: usize) -> (String, Vec<&'static str>) {
    let policies = match index {
        0 => vec!["p0"],
        1 => vec!["p0", "p1"],
        _ => vec!["p1", "p2"],
    };
    (format!("svc{index}"), policies)
}

fn workspace(texts: &[String]) -> Workspace {
    let sources: Vec<Arc<SourceFile>> = texts
        .iter()
        .zip(POLICIES)
        .map(|(text, name)| Arc::new(SourceFile::new(format!("{name}.hcl"), text.as_str())))
        .collect();
    let config = Config {
        target: TARGET,
        ..Config::default()
    };
    Workspace::from_sources(config, TARGET, sources).expect("generated policies load")
}

fn reference_of(workspace: &Workspace, names: &[&str]) -> Reference {
    let policies: Vec<Policy> = names
        .iter()
        .filter_map(|name| workspace.policies.get(*name).cloned())
        .collect();
    Reference::new(&policies, TARGET)
}

/// The log text: for each line a request entry and a response entry (or one malformed line).
/// The server's decision is the base tree's by the reference, flipped where the line says.
fn log_text(lines: &[Line], base: &Workspace) -> String {
    let mut text = String::new();
    for (index, line) in lines.iter().enumerate() {
        if line.broken {
            text.push_str(match index % 3 {
                0 => "{\"type\":\"response\",\"request\":{\"path\":\"secret/da\n",
                1 => "not json at all\n",
                _ => "{\"type\":\"response\",\"request\":{\"path\":\"secret/\u{fffd}\"},\"auth\":3}\n",
            });
            continue;
        }
        let (display, policies) = subject(line.subject);
        let operation: Operation = line.operation.parse().unwrap();
        let allowed = reference_of(base, &policies).allowed(&line.path, operation) != line.flip;
        let token = format!("hmac-sha256:{:064x}", line.subject + 1);
        let mut auth = json!({
            "client_token": token,
            "accessor": format!("hmac-sha256:{:064x}", line.subject + 100),
            "display_name": display,
            "policies": policies,
            "token_policies": policies,
            "policy_results": {"allowed": allowed},
            "token_type": "service",
        });
        if allowed {
            auth["policy_results"]["granting_policies"] = json!(policies
                .iter()
                .map(|name| json!({"name": name, "namespace_id": "root", "type": "acl"}))
                .collect::<Vec<_>>());
        }
        let request = json!({
            "operation": line.operation,
            "mount_point": "secret/",
            "mount_type": "kv",
            "client_token": token,
            "namespace": {"id": "root"},
            "path": line.path,
        });
        let entry = json!({"time": line.time, "type": "request", "auth": auth, "request": request});
        text.push_str(&entry.to_string());
        text.push('\n');
        let mut response = entry;
        response["type"] = json!("response");
        if !allowed {
            response["error"] = json!("1 error occurred:\n\t* permission denied\n\n");
        }
        text.push_str(&response.to_string());
        text.push('\n');
    }
    text
}

/// The reference's entries: every line parsed whole; responses only, with their subject.
struct Logged {
    display: String,
    policies: Vec<String>,
    operation: Operation,
    path: String,
    time: String,
    server_allowed: bool,
    granting: Vec<String>,
}

fn read_whole(text: &str) -> (Vec<Logged>, u64) {
    let mut entries = Vec::new();
    let mut bad = 0;
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            bad += 1;
            continue;
        };
        if !value["auth"].is_object() && !value["auth"].is_null() {
            bad += 1;
            continue;
        }
        if value["type"] != "response" {
            continue;
        }
        let strings = |value: &Value| -> Vec<String> {
            value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().or_else(|| v["name"].as_str()))
                .map(str::to_string)
                .collect()
        };
        entries.push(Logged {
            display: value["auth"]["display_name"].as_str().unwrap().to_string(),
            policies: strings(&value["auth"]["token_policies"]),
            operation: value["request"]["operation"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
            path: value["request"]["path"].as_str().unwrap().to_string(),
            time: value["time"].as_str().unwrap().to_string(),
            server_allowed: value["auth"]["policy_results"]["allowed"] == true,
            granting: strings(&value["auth"]["policy_results"]["granting_policies"]),
        });
    }
    (entries, bad)
}

/// (display name, operation, path) → (count, first seen, last seen).
type Groups = BTreeMap<(String, String, String), (u64, String, String)>;

fn add(groups: &mut Groups, entry: &Logged) {
    let key = (
        entry.display.clone(),
        entry.operation.name().to_string(),
        entry.path.clone(),
    );
    let slot = groups
        .entry(key)
        .or_insert((0, entry.time.clone(), entry.time.clone()));
    slot.0 += 1;
    slot.1 = slot.1.clone().min(entry.time.clone());
    slot.2 = slot.2.clone().max(entry.time.clone());
}

/// The streaming report's groups in the reference's shape.
fn streamed(groups: &[Group]) -> Groups {
    groups
        .iter()
        .map(|group| {
            let display = group
                .subject
                .split('`')
                .nth(1)
                .expect("a token label names its display name")
                .to_string();
            assert!(group.namespace.is_empty());
            (
                (display, group.operation.clone(), group.path.clone()),
                (
                    group.count,
                    group.first_seen.clone(),
                    group.last_seen.clone(),
                ),
            )
        })
        .collect()
}

fn write_log(text: &str) -> (tempfile::TempDir, Vec<LogSource>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    std::fs::write(&path, text).unwrap();
    (dir, vec![LogSource::File(path)])
}

fn check_replay(base: &[String], proposed: &[String], lines: &[Line]) -> Result<(), TestCaseError> {
    let base_tree = workspace(base);
    let proposed_tree = workspace(proposed);
    let text = log_text(lines, &base_tree);
    let (_dir, sources) = write_log(&text);
    let report = replay(
        &sources,
        ("base", &base_tree),
        Some(("proposed", &proposed_tree)),
    )
    .unwrap();

    let (entries, bad) = read_whole(&text);
    let (mut newly_denied, mut newly_allowed, mut fidelity) =
        (Groups::new(), Groups::new(), Groups::new());
    for entry in &entries {
        let names: Vec<&str> = entry.policies.iter().map(String::as_str).collect();
        let before = reference_of(&base_tree, &names).allowed(&entry.path, entry.operation);
        let after = reference_of(&proposed_tree, &names).allowed(&entry.path, entry.operation);
        if before != entry.server_allowed {
            add(&mut fidelity, entry);
        }
        match (before, after) {
            (true, false) => add(&mut newly_denied, entry),
            (false, true) => add(&mut newly_allowed, entry),
            _ => {}
        }
    }
    prop_assert_eq!(report.read.bad_lines, bad);
    prop_assert_eq!(report.replayed, entries.len() as u64);
    prop_assert_eq!(streamed(&report.newly_denied), newly_denied);
    prop_assert_eq!(streamed(&report.newly_allowed), newly_allowed);
    prop_assert_eq!(streamed(&report.fidelity), fidelity);
    Ok(())
}

/// The allowed requests the server logged for tokens `policy` granted: (operation, path) →
/// count.
fn granted_by(entries: &[Logged], policy: &str) -> HashMap<(Operation, String), u64> {
    let mut found = HashMap::new();
    for entry in entries {
        if entry.server_allowed && entry.granting.iter().any(|name| name == policy) {
            *found
                .entry((entry.operation, entry.path.clone()))
                .or_default() += 1;
        }
    }
    found
}

fn check_usage_and_suggest(
    texts: &[String],
    lines: &[Line],
    threshold: usize,
) -> Result<(), TestCaseError> {
    let tree = workspace(texts);
    let text = log_text(lines, &tree);
    let (_dir, sources) = write_log(&text);
    let (entries, _) = read_whole(&text);
    let policy = "p1";
    let observed = observe(&sources, &Selector::Policy(policy.into())).unwrap();
    let granted = granted_by(&entries, policy);
    let streamed: HashMap<(Operation, String), u64> = observed
        .allowed
        .iter()
        .map(|((operation, path), seen)| ((operation.0, path.clone()), seen.count))
        .collect();
    prop_assert_eq!(&streamed, &granted);

    // usage: the winning rule of each allowed request, with the capability it used.
    let held = tree.policies.get(policy).unwrap().clone();
    let acl = Acl::new(&[&held], TARGET, None).unwrap();
    let found = usage(&acl, &observed);
    let reference = Reference::new(std::slice::from_ref(&held), TARGET);
    let mut used: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut not_allowed_now = 0;
    for ((operation, path), count) in &granted {
        if !reference.allowed(path, *operation) {
            not_allowed_now += count;
            continue;
        }
        let winner = reference.lookup(path, *operation).unwrap();
        let capability = operation.capability().unwrap().name().to_string();
        *used
            .entry((reference.pattern(winner).to_string(), capability))
            .or_default() += count;
    }
    let streamed_used: BTreeMap<(String, String), u64> = found
        .rules
        .iter()
        .flat_map(|rule| {
            rule.used.iter().map(|(capability, count)| {
                ((rule.rule.pattern.clone(), capability.clone()), *count)
            })
        })
        .collect();
    prop_assert_eq!(streamed_used, used);
    prop_assert_eq!(found.not_allowed_now, not_allowed_now);

    // suggest: allows every granted request; with a threshold above the alphabet, nothing
    // else (KV v2 writes get both `create` and `update`).
    let suggestion = suggest(&SuggestInput {
        observed: &observed,
        target: TARGET,
        mounts: &Mounts::default(),
        default_policy: None,
        threshold,
        title: "generated".into(),
        namespace: "",
        namespaces: &Namespaces::default(),
    });
    let parsed = capable::policy::parse_policy(
        Arc::new(SourceFile::new("suggested.hcl", suggestion.text.as_str())),
        TARGET,
    );
    let suggested = parsed.policy.expect("the suggestion parses");
    let reference = Reference::new(std::slice::from_ref(&suggested), TARGET);
    let total: u64 = granted.values().sum();
    prop_assert_eq!(suggestion.uncovered, 0);
    prop_assert_eq!(suggestion.covered_requests, total);
    let counted: u64 = suggestion.rules.iter().map(|rule| rule.requests).sum();
    prop_assert_eq!(counted, total);
    for (operation, path) in granted.keys() {
        prop_assert!(
            reference.allowed(path, *operation),
            "{} {} not allowed by\n{}",
            operation.name(),
            path,
            suggestion.text
        );
    }
    if threshold < KEYS.len() * 2 {
        return Ok(());
    }
    let writes = [Operation::Create, Operation::Update];
    for key in KEYS {
        for folder in ["data", "metadata"] {
            for operation in [
                Operation::Read,
                Operation::List,
                Operation::Create,
                Operation::Update,
                Operation::Delete,
            ] {
                let trailing = if operation == Operation::List {
                    "/"
                } else {
                    ""
                };
                let path = format!("secret/{folder}/{key}{trailing}");
                let observed_here = granted.contains_key(&(operation, path.clone()))
                    || (writes.contains(&operation)
                        && writes
                            .iter()
                            .any(|write| granted.contains_key(&(*write, path.clone()))));
                prop_assert_eq!(
                    reference.allowed(&path, operation),
                    observed_here,
                    "{} {} in\n{}",
                    operation.name(),
                    path,
                    suggestion.text
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn streaming_replay_equals_the_whole_log_reference(
        base in prop::collection::vec(policy_text(), 3),
        proposed in prop::collection::vec(policy_text(), 3),
        lines in prop::collection::vec(line(), 1..60),
    ) {
        check_replay(&base, &proposed, &lines)?;
        // The unchanged tree changes nothing.
        check_replay(&base, &base, &lines)?;
    }

    #[test]
    fn streaming_usage_and_suggest_equal_the_whole_log_reference(
        texts in prop::collection::vec(policy_text(), 3),
        lines in prop::collection::vec(line(), 1..60),
        threshold in prop::sample::select(vec![0usize, 1, 2, 1000]),
    ) {
        check_usage_and_suggest(&texts, &lines, threshold)?;
    }
}
