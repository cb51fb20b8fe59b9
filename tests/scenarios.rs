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
    insta::assert_snapshot!("failing_junit", stdout);
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
    assert_eq!(code, 2, "{stdout}");
    assert!(stderr.contains("errors/unknown_field.yaml:5:5"), "{stderr}");
    assert!(stderr.contains("unknown field `expects`"), "{stderr}");
    insta::assert_snapshot!("unknown_field", stderr);
}

#[test]
fn bad_yaml_points_at_its_line_and_column() {
    let (code, _, stderr) = capable_test(&["errors/bad_yaml.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("errors/bad_yaml.yaml:2:11"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
}

#[test]
fn invalid_scenarios_are_all_reported() {
    let (code, _, stderr) = capable_test(&["errors/invalid.yaml"]);
    assert_eq!(code, 2);
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
fn unknown_role_is_an_input_error() {
    let (code, _, stderr) = capable_test(&["errors/unknown_role.yaml"]);
    assert_eq!(code, 2);
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
