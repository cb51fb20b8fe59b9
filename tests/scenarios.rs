//! `capable test`: passing and failing scenario files, every output format, and input errors
//! with their line and column. Runs the real binary in `fixtures/scenarios/world`.

mod support;

use std::path::{Path, PathBuf};

use capable::scenario::{run_scenarios, TestError};
use capable::workspace::Workspace;

fn world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/world")
}

/// Runs `capable test ARGS` in the fixture world: (exit code, stdout, stderr).
fn capable_test(args: &[&str]) -> (i32, String, String) {
    support::cli::capable_sub(&world(), "test", args)
}

#[test]
fn passing_files_exit_zero() {
    let (code, stdout, stderr) = capable_test(&[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    insta::assert_snapshot!("passing_human", stdout);
}

#[test]
fn failing_scenarios_show_their_explanation() {
    let (code, stdout, stderr) = capable_test(&["failing"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    insta::assert_snapshot!("failing_human", stdout);
}

#[test]
fn failing_scenarios_as_json() {
    let (code, stdout, _) = capable_test(&["--format", "json", "failing/failing.yaml"]);
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("valid json");
    assert_eq!(value["version"], 1);
    assert_eq!(value["summary"]["failed"], 4);
    assert_eq!(value["summary"]["passed"], 1);
    insta::assert_json_snapshot!("failing_json", value);
}

#[test]
fn failing_scenarios_as_junit() {
    let (code, stdout, _) = capable_test(&["--format", "junit", "failing"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("<testsuite name=\"failing/failing.yaml\""),
        "{stdout}"
    );
    assert_eq!(stdout.matches("<testcase ").count(), 5, "{stdout}");
    assert_eq!(stdout.matches("<failure ").count(), 4, "{stdout}");
    // Durations vary from run to run.
    let timeless = without_times(&stdout);
    insta::assert_snapshot!("failing_junit", timeless);
}

#[test]
fn junit_has_one_suite_per_file() {
    let (code, stdout, _) = capable_test(&["--format", "junit"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("<testsuite name=\"tests/inference.yaml\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("<testsuite name=\"tests/rotation.yaml\""),
        "{stdout}"
    );
    assert!(!stdout.contains("<failure"), "{stdout}");
}

#[test]
fn unknown_field_points_at_its_line_and_column() {
    let (code, stdout, stderr) = capable_test(&["errors/unknown_field.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("errors/unknown_field.yaml:5:5"), "{stderr}");
    assert!(stderr.contains("unknown key `expects`"), "{stderr}");
    assert!(stderr.contains("did you mean `expect`?"), "{stderr}");
    insta::assert_snapshot!("unknown_field", stderr);
}

#[test]
fn bad_yaml_points_at_its_line_and_column() {
    let (code, _, stderr) = capable_test(&["errors/bad_yaml.yaml"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("errors/bad_yaml.yaml:2:11"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
}

#[test]
fn invalid_scenarios_are_all_reported() {
    let (code, _, stderr) = capable_test(&["errors/invalid.yaml"]);
    assert_eq!(code, 1);
    for (location, message) in [
        ("errors/invalid.yaml:2:5", "has no subject"),
        ("errors/invalid.yaml:7:13", "more than one subject"),
        (
            "errors/invalid.yaml:13:13",
            "`expect` must be `allow` or `deny`",
        ),
        ("errors/invalid.yaml:16:14", "unknown flag `-bogus`"),
        ("errors/invalid.yaml:20:14", "is not under a KV mount"),
    ] {
        assert!(stderr.contains(location), "{location} missing in\n{stderr}");
        assert!(stderr.contains(message), "{message} missing in\n{stderr}");
    }
}

#[test]
fn unknown_role_is_a_failed_scenario() {
    let (code, _, stderr) = capable_test(&["errors/unknown_role.yaml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown role `kubernetes/nobody`"),
        "{stderr}"
    );
    assert!(stderr.contains("errors/unknown_role.yaml:3:11"), "{stderr}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let (code, _, stderr) = capable_test(&["nope.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `nope.yaml`"), "{stderr}");
}

/// The library entry point: failing scenarios carry the rule that decided.
#[test]
fn library_reports_the_deciding_rule() {
    let root = world();
    let workspace = Workspace::load_in(&root, &[], None, None).expect("workspace");
    let outcomes = match run_scenarios(&workspace, &root, &[PathBuf::from("failing")]) {
        Ok(outcomes) => outcomes,
        Err(TestError::Input(files)) => panic!("input errors: {files:?}"),
        Err(TestError::Other { message, .. }) => panic!("{message}"),
    };
    let outcomes = &outcomes[0].outcomes;
    let wrong_reason = outcomes
        .iter()
        .find(|o| o.scenario.name == "right decision, wrong reason")
        .expect("scenario");
    assert!(!wrong_reason.passed);
    assert_eq!(wrong_reason.actual, "allow");
    assert_eq!(
        wrong_reason.decided_by,
        Some((
            vec!["ai-inference-service".to_string()],
            "secret/data/ai/openai".to_string()
        ))
    );
}

// ---- one bad scenario does not stop the others -----------------------------------------------

const POLICY: &str = "path \"secret/data/app/*\" {\n  capabilities = [\"read\"]\n}\n";

/// A policy tree without `capable.yaml`: `policies/app.hcl` and the given scenario files.
fn tree(scenarios: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("policies/app.hcl"), POLICY).unwrap();
    for (name, text) in scenarios {
        std::fs::write(dir.path().join("tests").join(name), text).unwrap();
    }
    dir
}

const MIXED: &str = "scenarios:
  - name: reads app secrets
    policies: [app]
    operation: read
    path: secret/data/app/x
    expect: allow
  - name: typo in a key
    policies: [app]
    operation: read
    pth: secret/data/app/x
    expect: allow
  - name: typo in a capability
    policies: [app]
    path: secret/data/app/x
    capabilities: [raed]
  - name: cannot write
    policies: [app]
    operation: update
    path: secret/data/app/x
    expect: deny
";

const GOOD: &str = "scenarios:
  - name: other file runs
    policies: [app]
    operation: read
    path: secret/data/app/y
    expect: allow
";

#[test]
fn a_bad_scenario_fails_alone_and_the_others_run() {
    let dir = tree(&[
        ("mixed.yaml", MIXED),
        ("good.yaml", GOOD),
        ("broken.yaml", "scenarios: [\n"),
    ]);
    let (code, stdout, stderr) = support::cli::capable_sub(dir.path(), "test", &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    for line in [
        "PASS tests/mixed.yaml:2:5 reads app secrets",
        "FAIL tests/mixed.yaml:7:5 typo in a key (invalid scenario)",
        "FAIL tests/mixed.yaml:12:5 typo in a capability (invalid scenario)",
        "PASS tests/mixed.yaml:16:5 cannot write",
        "PASS tests/good.yaml:2:5 other file runs",
        "FAIL tests/broken.yaml:",
        "3 scenarios passed, 3 failed",
    ] {
        assert!(stdout.contains(line), "{line} missing:\n{stdout}");
    }
    // Did-you-mean errors at their span, with a help line.
    assert!(stderr.contains("unknown key `pth`"), "{stderr}");
    assert!(stderr.contains("tests/mixed.yaml:10:5"), "{stderr}");
    assert!(stderr.contains("did you mean `path`?"), "{stderr}");
    assert!(stderr.contains("unknown capability `raed`"), "{stderr}");
    assert!(stderr.contains("tests/mixed.yaml:15:20"), "{stderr}");
    assert!(stderr.contains("did you mean `read`?"), "{stderr}");
    let (code, stdout, _) = support::cli::capable_sub(dir.path(), "test", &["--format", "junit"]);
    assert_eq!(code, 1);
    assert_eq!(stdout.matches("<testcase ").count(), 6, "{stdout}");
    assert_eq!(stdout.matches("<failure ").count(), 3, "{stdout}");
    assert!(stdout.contains("type=\"invalid-scenario\""), "{stdout}");
    let (code, stdout, _) = support::cli::capable_sub(dir.path(), "test", &["--format", "json"]);
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(value["summary"]["failed"], 3);
    assert_eq!(value["summary"]["passed"], 3);
}

#[test]
fn test_dir_without_a_config_uses_that_folders_policies_only() {
    let outer = tempfile::tempdir().unwrap();
    // A config above the working directory, whose inventory names a missing policy: it must
    // not apply to the other tree.
    std::fs::write(
        outer.path().join("capable.yaml"),
        "roles:\n  approle/x:\n    policies: [missing]\n",
    )
    .unwrap();
    let cwd = outer.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let other = tree(&[("good.yaml", GOOD)]);
    let other_path = other.path().to_string_lossy().into_owned();
    let (code, stdout, stderr) = support::cli::capable_sub(&cwd, "test", &[&other_path]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 scenario passed, 0 failed"), "{stdout}");
    // From inside the tree too, without any path: the tree's own policies.
    let (code, stdout, stderr) =
        support::cli::capable_sub(other.path(), "test", &["tests/good.yaml"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

/// Validates a JUnit document against the Jenkins xUnit `junit-10.xsd` with Python's
/// `xmlschema` (scripts/test installs it into .venv). Returns `None` when the validator is
/// missing, which fails under `CI=true`.
fn xsd_errors(xml: &str) -> Option<Vec<String>> {
    let python = ["python3", "python"].into_iter().find(|python| {
        std::process::Command::new(python)
            .args(["-c", "import xmlschema"])
            .output()
            .is_ok_and(|output| output.status.success())
    });
    let Some(python) = python else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but python `xmlschema` is missing: run scripts/test (it installs it into .venv)"
        );
        eprintln!(
            "skipping the JUnit schema check: python `xmlschema` is missing (run scripts/test)"
        );
        return None;
    };
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit-10.xsd");
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("report.xml");
    std::fs::write(&document, xml).unwrap();
    let script = concat!(
        "import sys, xmlschema\n",
        "schema = xmlschema.XMLSchema(sys.argv[1])\n",
        "for error in schema.iter_errors(sys.argv[2]):\n",
        "    print(error.reason, error.path)\n",
    );
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&schema)
        .arg(&document)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn junit_is_valid_against_the_common_xsd() {
    let dir = tree(&[
        ("mixed.yaml", MIXED),
        ("good.yaml", GOOD),
        ("broken.yaml", "scenarios: [\n"),
    ]);
    let mut documents =
        vec![support::cli::capable_sub(dir.path(), "test", &["--format", "junit"]).1];
    documents.push(capable_test(&["--format", "junit"]).1);
    documents.push(capable_test(&["--format", "junit", "failing", "errors"]).1);
    // A name with markup and a control character stays well-formed.
    let odd = tree(&[(
        "odd.yaml",
        "scenarios:\n  - name: \"<&\\\"'> \\u0001\"\n    policies: [app]\n    operation: read\n    path: secret/data/app/x\n    expect: deny\n",
    )]);
    documents.push(support::cli::capable_sub(odd.path(), "test", &["--format", "junit"]).1);
    for document in &documents {
        assert!(document.contains(" time=\""), "{document}");
        assert!(document.contains(" file=\""), "{document}");
        let Some(errors) = xsd_errors(document) else {
            return;
        };
        assert!(errors.is_empty(), "{errors:?}\n{document}");
    }
    // The validator does refuse what the schema does not allow.
    let invalid = documents[0].replacen("<testcase ", "<testcase line=\"2\" ", 1);
    if let Some(errors) = xsd_errors(&invalid) {
        assert!(
            !errors.is_empty(),
            "the validator accepts `line` on a testcase"
        );
    }
}

/// The document with every `time="..."` value replaced by `T`.
fn without_times(document: &str) -> String {
    let mut out = String::new();
    let mut rest = document;
    while let Some(start) = rest.find(" time=\"") {
        let value = start + " time=\"".len();
        out.push_str(&rest[..value]);
        out.push('T');
        rest = &rest[value..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}
