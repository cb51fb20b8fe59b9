//! The `diff` command end to end: folders, `git:REV` and `-`, formats and exit codes, on the
//! example setup in `policies/`.

use std::path::{Path, PathBuf};

use crate::support::cli::capable_sub;
use crate::support::git::git;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies")
}

/// Copies the example setup (policies, namespaces' folders, `capable.yaml`, scenarios) into
/// `dest`.
pub fn copy_example(dest: &Path) {
    copy_tree(&example(), dest);
}

fn copy_tree(from: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = dest.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, target).unwrap();
        }
    }
}

/// The story: the inference policy widens `secret/data/ai/openai` to `secret/data/ai/*`.
fn widen(dir: &Path) {
    let file = dir.join("ai-inference-service.hcl");
    let text = std::fs::read_to_string(&file).unwrap();
    let widened = text.replace(
        "path \"secret/data/ai/openai\"",
        "path \"secret/data/ai/*\"",
    );
    assert_ne!(
        text, widened,
        "the example policy changed; update this test"
    );
    std::fs::write(file, widened).unwrap();
}

/// Reformats a policy without changing its meaning: comments dropped, blank lines added.
fn reformat(dir: &Path) {
    let file = dir.join("ai-inference-service.hcl");
    let text = std::fs::read_to_string(&file).unwrap();
    let reformatted: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| format!("\n{}\n", line.replace("  ", "    ")))
        .collect();
    std::fs::write(file, reformatted).unwrap();
}

/// `capable diff ARGS` in `dir` exits 0 and says so.
fn assert_no_access_changed(dir: &Path, args: &[&str]) {
    let (code, stdout, stderr) = capable_sub(dir, "diff", args);
    assert_eq!(
        (code, stdout.contains("no access changed")),
        (0, true),
        "{stdout}{stderr}"
    );
}

#[test]
fn widening_a_grant_is_reported_with_a_witness_and_fails() {
    let temp = tempfile::tempdir().unwrap();
    copy_example(&temp.path().join("base"));
    copy_example(&temp.path().join("head"));
    widen(&temp.path().join("head"));
    let (code, stdout, stderr) =
        capable_sub(temp.path(), "diff", &["base", "head", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["version"], 1);
    let changes = json["changes"].as_array().unwrap();
    let role = changes
        .iter()
        .find(|c| c["subject"]["name"] == "kubernetes/inference-role")
        .expect("the inference role gained access");
    assert_eq!(role["change"], "gained");
    assert_eq!(role["capability"], "read");
    assert_eq!(role["region"]["pattern"], "secret/data/ai/*");
    assert_eq!(role["witness"], "secret/data/ai/anthropic");
    assert_eq!(
        role["head"]["sources"][0]["file"],
        "head/ai-inference-service.hcl"
    );
    assert_eq!(role["base"]["rule"], "secret/*");
    let except: Vec<&str> = role["region"]["except"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(except, ["secret/data/ai/openai"]);
    // Nobody else changed except the policy on its own.
    let subjects: Vec<&str> = json["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["kubernetes/inference-role", "ai-inference-service"]
    );

    let (code, human, _) = capable_sub(temp.path(), "diff", &["base", "head"]);
    assert_eq!(code, 1);
    assert!(
        human.contains("gained read on `secret/data/ai/*` within `secret/*`"),
        "{human}"
    );
    let (code, _, _) = capable_sub(temp.path(), "diff", &["base", "head", "--fail-on", "never"]);
    assert_eq!(code, 0);
    // Narrowed to other paths or other subjects, nothing changed.
    assert_no_access_changed(temp.path(), &["base", "head", "--under", "database/"]);
    assert_no_access_changed(temp.path(), &["base", "head", "--subject", "model-eval"]);
    let (code, _, stderr) = capable_sub(
        temp.path(),
        "diff",
        &["base", "head", "--subject", "nobody"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("no subject `nobody`"), "{stderr}");
}

#[test]
fn reformatting_changes_no_access() {
    let temp = tempfile::tempdir().unwrap();
    copy_example(&temp.path().join("base"));
    copy_example(&temp.path().join("head"));
    reformat(&temp.path().join("head"));
    assert_no_access_changed(temp.path(), &["base", "head"]);
}

#[test]
fn narrowing_is_lost_and_a_new_role_appears() {
    let temp = tempfile::tempdir().unwrap();
    copy_example(&temp.path().join("base"));
    copy_example(&temp.path().join("head"));
    widen(&temp.path().join("base"));
    let config = temp.path().join("head/capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "  # The model server's pods.",
        "  kubernetes/auditor-bot:\n    policies: [auditor]\n  # The model server's pods.",
    );
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) =
        capable_sub(temp.path(), "diff", &["base", "head", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();
    assert!(changes
        .iter()
        .any(|c| c["subject"]["name"] == "kubernetes/inference-role"
            && c["change"] == "lost"
            && c["region"]["side"] == "base"));
    let bot = json["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "kubernetes/auditor-bot")
        .expect("the new role is reported");
    assert_eq!(bot["presence"], "added");
    assert!(bot["gained"].as_u64().unwrap() > 0);
    let (code, _, _) = capable_sub(
        temp.path(),
        "diff",
        &["head", "base", "--fail-on", "gained"],
    );
    assert_eq!(code, 1, "reverse: the widening is gained");
}

#[test]
fn git_revisions_and_the_working_tree() {
    let temp = tempfile::tempdir().unwrap();
    let repo = temp.path();
    crate::support::git::init(repo);
    copy_example(&repo.join("policies"));
    crate::support::git::commit_all(repo, "base");
    widen(&repo.join("policies"));
    // Uncommitted: the working tree gained, HEAD did not.
    let (code, stdout, stderr) = capable_sub(
        repo,
        "diff",
        &["git:HEAD", "-", "policies", "--format", "json"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let first = &json["changes"][0];
    assert_eq!(first["witness"], "secret/data/ai/anthropic");
    assert_eq!(
        first["head"]["sources"][0]["file"],
        "policies/ai-inference-service.hcl"
    );
    git(repo, &["commit", "-q", "-am", "widen"]);
    // Two commits; from inside the folder the place in the repository is kept.
    let (code, stdout, _) =
        capable_sub(&repo.join("policies"), "diff", &["git:HEAD~1", "git:HEAD"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("gained read on `secret/data/ai/*`"),
        "{stdout}"
    );
    assert_no_access_changed(repo, &["git:HEAD", "-", "policies"]);
    let (code, _, stderr) = capable_sub(repo, "diff", &["git:no-such-branch", "-"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown revision `no-such-branch`"),
        "{stderr}"
    );
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let temp = tempfile::tempdir().unwrap();
    // A folder name that must be percent-encoded in a URI.
    let (base, head) = (temp.path().join("base side"), temp.path().join("head side"));
    copy_example(&base);
    copy_example(&head);
    widen(&head);
    let config = head.join("capable.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "  # The model server's pods.",
            "  kubernetes/auditor-bot:\n    policies: [auditor]\n  # The model server's pods.",
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = capable_sub(
        temp.path(),
        "diff",
        &["base side", "head side", "--format", "sarif"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    crate::support::sarif::assert_valid_sarif(&stdout);
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let gained = results
        .iter()
        .find(|r| {
            r["ruleId"] == "access-gained"
                && r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .contains("kubernetes/inference-role")
        })
        .expect("the inference role's gain");
    assert_eq!(gained["level"], "error");
    assert_eq!(
        gained["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "head%20side/ai-inference-service.hcl"
    );
    // The new role's gains through the built-in `default` have no file to point at.
    assert!(results.iter().all(|r| r["locations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| !l.to_string().contains("builtin"))));
    // Reversed, the widening is lost: a note without a location, still valid.
    let (code, stdout, _) = capable_sub(
        temp.path(),
        "diff",
        &[
            "head side",
            "base side",
            "--format",
            "sarif",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(code, 0);
    crate::support::sarif::assert_valid_sarif(&stdout);
    assert!(stdout.contains("access-lost"), "{stdout}");
}

/// The research team's policy lives in the `ai-research/` namespace: its role is diffed there,
/// the outputs name the namespace, and `--namespace` asks every subject that may make requests
/// in it.
#[test]
fn subjects_in_a_child_namespace_are_diffed_there() {
    let temp = tempfile::tempdir().unwrap();
    copy_example(&temp.path().join("base"));
    copy_example(&temp.path().join("head"));
    let file = temp.path().join("head/ai-research/research-inference.hcl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("secret/data/research/*", "secret/data/*"),
    )
    .unwrap();
    let (code, stdout, stderr) =
        capable_sub(temp.path(), "diff", &["base", "head", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let change = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"]["name"] == "kubernetes/research-inference")
        .expect("the research role gained access");
    assert_eq!(change["subject"]["namespace"], "ai-research/");
    assert_eq!(change["change"], "gained");
    assert_eq!(change["region"]["pattern"], "ai-research/secret/data/*");
    let witness = change["witness"].as_str().unwrap();
    assert!(
        witness.starts_with("ai-research/secret/data/") && !witness.contains("/research/"),
        "{witness}"
    );
    let (_, human, _) = capable_sub(temp.path(), "diff", &["base", "head"]);
    assert!(
        human.contains("role `kubernetes/research-inference` in namespace `ai-research/`"),
        "{human}"
    );
    // Asked in the namespace, `--under` is relative to it.
    let (code, stdout, _) = capable_sub(
        temp.path(),
        "diff",
        &[
            "base",
            "head",
            "--namespace",
            "ai-research",
            "--under",
            "secret/data/",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["subject"]["namespace"] == "ai-research/"
            && c["witness"]
                .as_str()
                .unwrap()
                .starts_with("ai-research/secret/data/")));
    assert_no_access_changed(
        temp.path(),
        &[
            "base",
            "head",
            "--namespace",
            "ai-research/",
            "--under",
            "database/",
        ],
    );
    // A change in the root namespace is outside `ai-research/`.
    std::fs::write(&file, text).unwrap();
    widen(&temp.path().join("head"));
    assert_no_access_changed(
        temp.path(),
        &["base", "head", "--namespace", "ai-research/"],
    );
    let (code, _, stderr) = capable_sub(
        temp.path(),
        "diff",
        &["base", "head", "--namespace", "nowhere/"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("namespace `nowhere/` is declared on neither side"),
        "{stderr}"
    );
}
