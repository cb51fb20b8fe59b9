//! `capable check FILE` on some files of a policy tree with an inventory (what pre-commit does
//! with `pass_filenames`): role-level checks still see every policy of the tree, so naming one
//! file does not make the others "missing", while real inventory errors are still reported.

mod support;

use std::path::Path;

use support::cli::capable_sub;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

/// `capable check ARGS` in `cwd`: (exit code, stdout then stderr).
fn check(cwd: &Path, args: &[&str]) -> (i32, String) {
    let (code, stdout, stderr) = capable_sub(cwd, "check", args);
    (code, stdout + &stderr)
}

const READ_APP: &str = "path \"secret/data/app/*\" {\n  capabilities = [\"read\"]\n}\n";
const READ_WEB: &str = "path \"secret/data/web/*\" {\n  capabilities = [\"read\"]\n}\n";

#[test]
fn one_file_of_a_tree_keeps_the_inventory_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "roles:\n  approle/app:\n    policies: [app, web]\n";
    write(
        dir.path(),
        &[
            ("capable.yaml", config),
            ("app.hcl", READ_APP),
            ("web.hcl", READ_WEB),
        ],
    );
    let (code, output) = check(dir.path(), &["app.hcl"]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(output, "no findings in 1 file\n");
}

#[test]
fn a_policy_missing_from_the_whole_tree_is_still_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "roles:\n  approle/app:\n    policies: [app, gone]\n";
    write(
        dir.path(),
        &[("capable.yaml", config), ("app.hcl", READ_APP)],
    );
    let (code, output) = check(dir.path(), &["app.hcl"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("unknown-policy"), "{output}");
    assert!(output.contains("`gone`"), "{output}");
    assert!(output.contains("capable.yaml:3:"), "{output}");
}

/// A policy tree in `tree/` with its own `capable.yaml` (a role) and a scenario in
/// `tree/tests/`, seen from the folder above it, as from a repository root.
fn tree_below_the_working_directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    // `deprecated-policy-key` and `kv2-list-on-data` are off only in this config: finding it
    // is what keeps
    // `legacy.hcl` clean.
    let config =
        "rules:\n  deprecated-policy-key: off\n  kv2-list-on-data: off\nroles:\n  approle/app:\n    policies: [app]\n";
    let legacy = "path \"secret/data/legacy/*\" {\n  policy = \"read\"\n}\n";
    let scenario = "scenarios:\n  - name: app reads its secret\n    role: approle/app\n    \
                    command: vault kv get secret/app/db\n    expect: allow\n";
    write(
        dir.path(),
        &[
            ("tree/capable.yaml", config),
            ("tree/app.hcl", READ_APP),
            ("tree/legacy.hcl", legacy),
            ("tree/tests/app.yaml", scenario),
        ],
    );
    dir
}

#[test]
fn check_finds_the_config_above_the_path_given() {
    let dir = tree_below_the_working_directory();
    let (code, output) = check(dir.path(), &["tree"]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(output, "no findings in 2 files\n");
}

#[test]
fn test_runs_only_the_tests_folder_of_a_tree_given_as_a_folder() {
    let dir = tree_below_the_working_directory();
    let (code, stdout, stderr) = capable_sub(dir.path(), "test", &["tree"]);
    let output = stdout + &stderr;
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("PASS tree/tests/app.yaml"), "{output}");
    assert!(
        !output.contains("capable.yaml"),
        "capable.yaml is not a scenario file: {output}"
    );
    assert!(output.contains("1 scenario passed, 0 failed"), "{output}");
}
