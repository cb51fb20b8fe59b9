//! `capable.yaml` through the command line: discovery, `--config`, errors with their line,
//! column and source frame (exit 2), mounts, and the inventory sections.

mod support;

use support::cli::capable;

fn scratch(config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("capable.yaml"), config).unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// `kv2-missing-data-prefix` on the default KV v2 `secret/` mount.
const NO_DATA: &str = "path \"secret/app/config\" {\n  capabilities = [\"read\"]\n}\n";

#[test]
fn unknown_key_is_an_error_with_line_column_and_frame() {
    let dir = scratch("target: vault\nfail_level: error\n", &[("a.hcl", NO_DATA)]);
    let (code, stdout, stderr) = capable(dir.path(), &["check", "a.hcl"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("[capable.yaml:2:1]"), "{stderr}");
    assert!(stderr.contains("fail_level"), "{stderr}");
    assert!(
        stderr.contains(" 2 │ fail_level: error"),
        "source frame: {stderr}"
    );
    assert!(
        stderr.contains("help: did you mean `fail-level`?"),
        "{stderr}"
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_nested_key_is_an_error_with_line() {
    let dir = scratch(
        "mounts:\n  secret/:\n    type: kv\n    verison: 2\n",
        &[("a.hcl", NO_DATA)],
    );
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("[capable.yaml:4:5]"), "{stderr}");
    assert!(stderr.contains("verison"), "{stderr}");
}

#[test]
fn unknown_key_inside_an_inventory_section_is_an_error_with_line() {
    let dir = scratch(
        "roles:\n  kubernetes/app:\n    policies: [a]\n    polices: [b]\n",
        &[("a.hcl", NO_DATA)],
    );
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("[capable.yaml:4:5]"), "{stderr}");
    assert!(stderr.contains("polices"), "{stderr}");
}

#[test]
fn unknown_rule_id_is_an_error_with_a_suggestion() {
    let dir = scratch("rules:\n  literal-stars: off\n", &[("a.hcl", NO_DATA)]);
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown rule `literal-stars`"), "{stderr}");
    assert!(stderr.contains("[capable.yaml:2:3]"), "{stderr}");
    assert!(stderr.contains("did you mean `literal-star`?"), "{stderr}");
}

#[test]
fn bad_rule_setting_is_an_error() {
    let dir = scratch("rules:\n  literal-star: loud\n", &[("a.hcl", NO_DATA)]);
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown rule setting `loud`"), "{stderr}");
    assert!(stderr.contains("[capable.yaml:2:17]"), "{stderr}");
}

#[test]
fn yaml_syntax_error_is_exit_2_with_line() {
    let dir = scratch("rules: [\n", &[("a.hcl", NO_DATA)]);
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("capable.yaml:"), "{stderr}");
}

#[test]
fn config_is_found_from_a_subfolder() {
    let dir = scratch(
        "mounts:\n  secret/: {type: kv, version: 1}\n",
        &[("p/a.hcl", NO_DATA)],
    );
    let below = dir.path().join("p");
    // With the config's KV v1 mount, `secret/app/config` is a real secret path.
    let (code, stdout, _) = capable(&below, &["check", "a.hcl"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 1 file\n"));
}

#[test]
fn default_mounts_make_secret_kv_v2() {
    // Assumed, not known: the finding is a note, which does not fail the check.
    let dir = scratch("", &[("a.hcl", NO_DATA)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise", "a.hcl"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("info[kv2-missing-data-prefix]"), "{stdout}");
    // Declared: a warning.
    let dir = scratch(
        "mounts:\n  secret/: {type: kv, version: 2}\n",
        &[("a.hcl", NO_DATA)],
    );
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise", "a.hcl"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("warning[kv2-missing-data-prefix]"),
        "{stdout}"
    );
}

#[test]
fn config_flag_points_elsewhere() {
    let dir = scratch("", &[("a.hcl", NO_DATA)]);
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    std::fs::write(
        dir.path().join("conf/kv1.yaml"),
        "mounts:\n  secret/: {type: kv, version: 1}\n",
    )
    .unwrap();
    let (code, _, _) = capable(dir.path(), &["check", "--fail-level", "info", "a.hcl"]);
    assert_eq!(code, 1, "the discovered config keeps KV v2");
    let (code, stdout, stderr) =
        capable(dir.path(), &["check", "--config", "conf/kv1.yaml", "a.hcl"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "no findings in 1 file\n"),
        "{stderr}"
    );
    let (code, _, stderr) = capable(dir.path(), &["check", "--config", "missing.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `missing.yaml`"), "{stderr}");
}

#[test]
fn config_includes_are_relative_to_the_config_folder() {
    let dir = scratch("include: [policies]\n", &[("policies/a.hcl", NO_DATA)]);
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    let (code, stdout, _) = capable(
        &dir.path().join("elsewhere"),
        &["check", "--format", "concise", "--fail-level", "info"],
    );
    assert_eq!(code, 1);
    assert!(stdout.starts_with("../policies/a.hcl:1:"), "{stdout}");
}

#[test]
fn inventory_sections_are_accepted() {
    let dir = scratch(
        "roles:\n  kubernetes/app:\n    policies: [a]\ngroups: {}\nentities: {}\n",
        &[(
            "a.hcl",
            "path \"secret/data/a\" {\n  capabilities = [\"read\"]\n}\n",
        )],
    );
    let (code, stdout, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
