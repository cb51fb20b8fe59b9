//! The GitHub Action (`action.yml`): its steps' `run` scripts, as written, run with bash in a
//! scratch repository whose pull request widens the inference policy; the step summary they
//! write is snapshotted. The install step (`cargo install`) and `uses:` steps are skipped:
//! the binary under test is put on `PATH` instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::git::git;

#[derive(serde::Deserialize)]
struct Action {
    inputs: BTreeMap<String, Input>,
    runs: Runs,
}

#[derive(serde::Deserialize)]
struct Input {
    default: String,
}

#[derive(serde::Deserialize)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(serde::Deserialize)]
struct Step {
    id: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
    run: Option<String>,
    uses: Option<String>,
    shell: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Action {
    let text = std::fs::read_to_string(manifest_dir().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).expect("action.yml parses")
}

/// `${{ inputs.NAME }}` replaced by the input's value.
fn expand(text: &str, inputs: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (name, value) in inputs {
        out = out.replace(&format!("${{{{ inputs.{name} }}}}"), value);
    }
    out
}

/// The step conditions the action uses: `always()`, optionally `&& inputs.X == 'v'`.
fn runs(condition: Option<&str>, inputs: &BTreeMap<String, String>) -> bool {
    let Some(condition) = condition else {
        return true;
    };
    let inner = condition
        .trim()
        .trim_start_matches("${{")
        .trim_end_matches("}}")
        .trim();
    inner.split("&&").all(|part| {
        let part = part.trim();
        if part == "always()" {
            return true;
        }
        let (left, right) = part.split_once("==").expect("a comparison");
        let name = left.trim().strip_prefix("inputs.").expect("an input");
        inputs[name] == right.trim().trim_matches('\'')
    })
}

/// A repository with `origin/main` holding the example setup and a checked-out branch whose
/// one commit rewrites the inference policy with `edit`.
fn pull_request(root: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let origin = root.join("origin.git");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(root, &["init", "-q", "--bare", "origin.git"]);
    crate::support::git::init(&work);
    let policies = work.join("policies");
    crate::cli::copy_example(&policies);
    crate::support::git::commit_all(&work, "base");
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    git(&work, &["checkout", "-q", "-b", "change"]);
    let file = policies.join("ai-inference-service.hcl");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the example policy changed; update this test");
    std::fs::write(&file, edited).unwrap();
    git(
        &work,
        &["commit", "-q", "-am", "change the inference policy"],
    );
    work
}

/// The action's run steps on the pull request in `work`: each step's exit code, the `diff`
/// step's output, and the step summary written.
fn run_steps(temp: &Path, work: &Path) -> (BTreeMap<String, Option<i32>>, String, String) {
    let action = action();
    assert_eq!(action.runs.using, "composite");
    let summary = temp.join("summary.md");
    let runner_temp = temp.join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let mut inputs: BTreeMap<String, String> = action
        .inputs
        .iter()
        .map(|(name, input)| (name.clone(), input.default.clone()))
        .collect();
    inputs.insert("path".into(), "policies".into());
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_capable"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut statuses = BTreeMap::new();
    let mut diff_output = String::new();
    for step in &action.runs.steps {
        let id = step.id.clone().unwrap_or_default();
        if id == "install" || step.uses.is_some() || !runs(step.condition.as_deref(), &inputs) {
            continue;
        }
        assert_eq!(step.shell.as_deref(), Some("bash"), "step `{id}`");
        let script = step.run.as_ref().expect("a run step");
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(expand(script, &inputs))
            .current_dir(work)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("CAPABLE_NO_CACHE", "1")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_PATH", temp.join("github_path"))
            .env("GITHUB_BASE_REF", "main")
            .env("GITHUB_ACTION_PATH", manifest_dir())
            .env("RUNNER_TEMP", &runner_temp);
        for (name, value) in &step.env {
            command.env(name, expand(value, &inputs));
        }
        let output = command.output().expect("bash runs");
        statuses.insert(id.clone(), output.status.code());
        if id == "diff" {
            diff_output = String::from_utf8_lossy(&output.stdout).into_owned();
        }
    }
    let text = std::fs::read_to_string(&summary).unwrap_or_default();
    (statuses, diff_output, text)
}

/// The "done when": widening `secret/data/ai/openai` to `secret/data/ai/*` for the
/// inference role shows in the step summary and as an annotation on the changed line, and the
/// job fails.
#[test]
fn the_action_steps_gate_a_pull_request_that_gains_access() {
    let temp = tempfile::tempdir().unwrap();
    let work = pull_request(temp.path(), |text| {
        text.replace("secret/data/ai/openai\"", "secret/data/ai/*\"")
    });
    let (statuses, annotations, text) = run_steps(temp.path(), &work);
    assert!(
        annotations.contains("::error file=policies/ai-inference-service.hcl,line=5,col=6"),
        "{annotations}"
    );
    assert!(
        text.contains("kubernetes/inference-role") && text.contains("secret/data/ai/anthropic"),
        "{text}"
    );
    assert_eq!(
        statuses.get("check"),
        Some(&Some(1)),
        "the guard fires: {statuses:?}"
    );
    assert_eq!(
        statuses.get("test"),
        Some(&Some(1)),
        "a scenario fails: {statuses:?}"
    );
    assert_eq!(
        statuses.get("diff"),
        Some(&Some(1)),
        "access was gained: {statuses:?}"
    );
    insta::assert_snapshot!(text);
}

/// A pull request that only reformats a policy passes, and says "no access changed".
#[test]
fn the_action_steps_pass_a_reformatting_pull_request() {
    let temp = tempfile::tempdir().unwrap();
    let work = pull_request(temp.path(), |text| {
        text.lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .map(|line| format!("\n{}\n", line.replace("  ", "    ")))
            .collect()
    });
    let (statuses, annotations, text) = run_steps(temp.path(), &work);
    assert_eq!(
        statuses.get("diff"),
        Some(&Some(0)),
        "{statuses:?}\n{annotations}"
    );
    assert!(!annotations.contains("::error"), "{annotations}");
    assert!(text.contains("no access changed"), "{text}");
}
