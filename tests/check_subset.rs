//! `capable check FILE` on some files of a policy tree with an inventory (what pre-commit does
//! with `pass_filenames`): role-level checks still see every policy of the tree, so naming one
//! file does not make the others "missing", while real inventory errors are still reported.

use std::path::Path;
use std::process::Command;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

fn check(cwd: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_capable"))
        .arg("check")
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run capable");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
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
