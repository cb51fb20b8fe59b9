//! The published pre-commit hook (`.pre-commit-hooks.yaml`), run by the real `pre-commit` in
//! a scratch git repository. The hook is mirrored as a `repo: local`, `language: system` hook
//! pointing at the binary under test (the published `language: rust` hook would rebuild
//! capable with `cargo install`); `files`, `pass_filenames`, `require_serial` and the
//! arguments of `entry` are taken from the published file.
//!
//! Needs `pre-commit`: `.venv/bin/pre-commit` (scripts/test installs it) or on `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(serde::Deserialize)]
struct Hook {
    id: String,
    entry: String,
    language: String,
    files: String,
    pass_filenames: bool,
    #[serde(default)]
    require_serial: bool,
    name: String,
    #[allow(dead_code)]
    description: String,
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The published hook with this id.
fn published_hook(id: &str) -> Hook {
    let text = std::fs::read_to_string(manifest_dir().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<Hook> = serde_saphyr::from_str(&text).expect("valid hook file");
    hooks
        .into_iter()
        .find(|hook| hook.id == id)
        .unwrap_or_else(|| panic!("no published hook `{id}`"))
}

fn pre_commit() -> PathBuf {
    let venv = manifest_dir().join(".venv/bin/pre-commit");
    if venv.is_file() {
        return venv;
    }
    let on_path = Command::new("pre-commit").arg("--version").output();
    assert!(
        on_path.is_ok_and(|output| output.status.success()),
        "pre-commit is missing: run `.venv/bin/pip install pre-commit` (scripts/test does)"
    );
    PathBuf::from("pre-commit")
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

/// A git repository with the mirrored hook, `capable.yaml`, and the given files staged.
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    repository_with("capable-check", files)
}

/// [`repository`] with the published hook `id`.
fn repository_with(id: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let hook = published_hook(id);
    let arguments = hook
        .entry
        .strip_prefix("capable")
        .expect("the entry runs capable");
    let entry = format!("{}{arguments}", env!("CARGO_BIN_EXE_capable"));
    let config = format!(
        "repos:\n- repo: local\n  hooks:\n  - id: {}\n    name: {}\n    \
         entry: '{entry}'\n    language: system\n    files: '{}'\n    pass_filenames: {}\n    \
         require_serial: {}\n",
        hook.id, hook.name, hook.files, hook.pass_filenames, hook.require_serial
    );
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    git(dir.path(), &["config", "user.email", "test@example.com"]);
    git(dir.path(), &["config", "user.name", "test"]);
    std::fs::write(dir.path().join(".pre-commit-config.yaml"), config).unwrap();
    std::fs::write(dir.path().join("capable.yaml"), "target: vault\n").unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dir.path(), &["add", "."]);
    dir
}

fn run_hooks(dir: &Path) -> Output {
    Command::new(pre_commit())
        .args(["run", "--color", "never"])
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", dir.join(".pre-commit-home"))
        .env("NO_COLOR", "1")
        .env("CAPABLE_NO_CACHE", "1")
        .output()
        .expect("run pre-commit")
}

const GOOD: &str = "path \"secret/data/app/config\" {\n  capabilities = [\"read\"]\n}\n";
const BAD: &str = "path \"secret/data/app/config\" {\n  capabilities = [\"raed\"]\n}\n";

#[test]
fn published_hook_shape() {
    let hook = published_hook("capable-check");
    assert_eq!(hook.id, "capable-check");
    assert_eq!(hook.entry, "capable check --only-policies");
    assert_eq!(hook.language, "rust");
    assert!(hook.pass_filenames);
}

#[test]
fn hook_passes_on_a_good_policy() {
    // `package.json` matches the hook's file pattern but is not a policy: it is skipped.
    let dir = repository(&[
        ("policies/app.hcl", GOOD),
        ("notes.txt", BAD),
        (
            "package.json",
            "{\"name\": \"web\", \"version\": \"1.0.0\"}\n",
        ),
    ]);
    let output = run_hooks(dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("capable check"), "{stdout}");
    assert!(stdout.contains("Passed"), "{stdout}");
}

#[test]
fn hook_fails_on_a_bad_policy() {
    // A broken JSON policy is still a policy: `--only-policies` keeps it.
    let dir = repository(&[
        ("policies/app.hcl", GOOD),
        ("policies/broken.hcl", BAD),
        ("policies/other.json", "{\"path\": {\"secret/data/x\": [}\n"),
    ]);
    let output = run_hooks(dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Failed"), "{stdout}");
    assert!(stdout.contains("invalid-capability"), "{stdout}");
    assert!(stdout.contains("policies/broken.hcl"), "{stdout}");
    assert!(stdout.contains("policies/other.json"), "{stdout}");
}

#[test]
fn fmt_hook_rewrites_a_messy_policy_then_passes() {
    let hook = published_hook("capable-fmt");
    assert_eq!(
        (hook.entry.as_str(), hook.language.as_str()),
        ("capable fmt", "rust")
    );
    let messy = "path \"secret/data/app/config\" {\ncapabilities = [\"read\"]\n}\n";
    let dir = repository_with("capable-fmt", &[("policies/app.hcl", messy)]);
    let output = run_hooks(dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("files were modified by this hook"),
        "{stdout}"
    );
    let formatted = std::fs::read_to_string(dir.path().join("policies/app.hcl")).unwrap();
    assert_eq!(formatted, GOOD);
    git(dir.path(), &["add", "."]);
    let output = run_hooks(dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

const ROLE_CONFIG: &str = "target: vault\nroles:\n  kubernetes/app:\n    policies: [app]\n";
const SCENARIO: &str = "scenarios:\n  - name: the app reads its config\n    role: kubernetes/app\n    path: secret/data/app/config\n    operation: read\n    expect: allow\n";

#[test]
fn scenario_hook_runs_the_scenarios() {
    let hook = published_hook("capable-test");
    assert_eq!(
        (hook.entry.as_str(), hook.language.as_str()),
        ("capable test", "rust")
    );
    assert!(!hook.pass_filenames, "scenarios run as a whole");
    let files = |policy: &'static str| {
        [
            ("capable.yaml", ROLE_CONFIG),
            ("app.hcl", policy),
            ("tests/app.yaml", SCENARIO),
        ]
    };
    let dir = repository_with("capable-test", &files(GOOD));
    let output = run_hooks(dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Passed"), "{stdout}");
    const LIST_ONLY: &str = "path \"secret/data/app/config\" {\n  capabilities = [\"list\"]\n}\n";
    let dir = repository_with("capable-test", &files(LIST_ONLY));
    let output = run_hooks(dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("the app reads its config"),
        "{stdout}"
    );
}
