//! Guards in `capable.yaml`, checked by `check`: each form with a violating and a passing
//! setup, output snapshotted.

use std::path::Path;

use crate::support::cli::capable_sub;

const CONFIG: &str = r#"target: vault
roles:
  kubernetes/app:
    policies: [app]
  kubernetes/ops:
    policies: [ops]
guards:
  - id: db-creds-stay-with-ops
    never: {capabilities: [read], paths: ["database/creds/+"]}
    except: [kubernetes/ops]
  - id: nobody-lists-keys
    never: {capabilities: [list], paths: ["secret/metadata/keys"]}
  - id: nobody-reads-audit
    never: {capabilities: [read], paths: ["sys/audit"]}
rules:
  sudo-missing: off         # the fixtures grant `read` without `sudo` on purpose
  broad-secret-access: off
"#;

fn setup(app: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("capable.yaml"), CONFIG).unwrap();
    std::fs::write(
        dir.path().join("ops.hcl"),
        "path \"database/creds/+\" {\n  capabilities = [\"read\"]\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.hcl"), app).unwrap();
    dir
}

fn check(dir: &Path) -> (i32, String) {
    let (code, stdout, stderr) = capable_sub(dir, "check", &["--format", "concise"]);
    (code, stdout + &stderr)
}

#[test]
fn guards_pass_when_only_excepted_subjects_hold_the_access() {
    // `sys/audit` is root-protected: read without sudo is no access there.
    let dir = setup(
        "path \"database/creds/app\" {\n  capabilities = [\"deny\"]\n}\n\
         path \"secret/metadata/keys\" {\n  capabilities = [\"read\"]\n}\n\
         path \"sys/audit\" {\n  capabilities = [\"read\"]\n}\n",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 0, "{output}");
}

#[test]
fn each_guard_form_reports_its_violation() {
    let dir = setup(
        "path \"database/*\" {\n  capabilities = [\"read\"]\n}\n\
         path \"secret/metadata/+\" {\n  capabilities = [\"list\"]\n}\n\
         path \"sys/audit\" {\n  capabilities = [\"read\", \"sudo\"]\n}\n",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    insta::assert_snapshot!(output);
    let (_, human, _) = capable_sub(dir.path(), "check", &["--no-color"]);
    insta::assert_snapshot!("each_guard_form_human", human);
}

#[test]
fn guard_errors_point_into_the_config() {
    let dir = setup("path \"a\" {\n  capabilities = [\"read\"]\n}\n");
    let config = CONFIG.replace("except: [kubernetes/ops]", "except: [kubernetes/opps]");
    std::fs::write(dir.path().join("capable.yaml"), config).unwrap();
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("capable.yaml:10:") && output.contains("unknown-subject"),
        "{output}"
    );
    let config = CONFIG.replace("capabilities: [list]", "capabilities: [lst]");
    std::fs::write(dir.path().join("capable.yaml"), config).unwrap();
    let (code, output) = check(dir.path());
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("capable.yaml:12:") && output.contains("`lst`"),
        "{output}"
    );
}
