//! Only new findings: `check --new-since REV` and `baseline: git:REV`, in a scratch git
//! repository with real commits; and the GitLab Code Quality report of `check`.

use std::path::Path;

use crate::support::cli::capable_sub;

const POLICY: &str = "path \"/secret/data/a\" {\n  capabilities = [\"read\"]\n}\n\
path \"secret/data/b\" {\n  capabilities = [\"deny\", \"read\"]\n}\n";

fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::support::git::init(dir.path());
    std::fs::write(dir.path().join("capable.yaml"), "target: vault\n").unwrap();
    std::fs::write(dir.path().join("p.hcl"), POLICY).unwrap();
    crate::support::git::commit_all(dir.path(), "two findings");
    dir
}

fn concise(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--format", "concise"];
    all.extend_from_slice(args);
    capable_sub(dir, "check", &all)
}

#[test]
fn moved_findings_are_not_new_and_added_ones_are() {
    let repo = repository();
    // Lines move (a comment and blank lines on top); one finding is added on a new pattern.
    let moved = format!(
        "# moved down\n\n\n{POLICY}path \"secret/data/c\" {{\n  capabilities = [\"deny\", \"list\"]\n}}\n"
    );
    std::fs::write(repo.path().join("p.hcl"), moved).unwrap();
    let (code, all, _) = concise(repo.path(), &[]);
    assert_eq!((code, all.lines().count()), (1, 3), "{all}");
    let (code, stdout, stderr) = concise(repo.path(), &["--new-since", "HEAD"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("`secret/data/c`"), "{stdout}");
    assert!(
        stderr.contains("2 finding(s) hidden: already present at `HEAD`"),
        "{stderr}"
    );
    // Only moved: nothing is new, and the exit status follows what is reported.
    std::fs::write(repo.path().join("p.hcl"), format!("\n\n{POLICY}")).unwrap();
    let (code, stdout, stderr) = concise(repo.path(), &["--new-since", "HEAD"]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    // The same through `baseline:`.
    std::fs::write(
        repo.path().join("capable.yaml"),
        "target: vault\nbaseline: git:HEAD\n",
    )
    .unwrap();
    let (code, stdout, stderr) = concise(repo.path(), &[]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let (code, _, stderr) = concise(repo.path(), &["--new-since", "no-such-rev"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown revision `no-such-rev`"),
        "{stderr}"
    );
}

#[test]
fn gitlab_code_quality_report() {
    let repo = repository();
    let (code, stdout, _) = capable_sub(repo.path(), "check", &["--format", "gitlab"]);
    assert_eq!(code, 1);
    let issues: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 2);
    for issue in issues {
        assert_eq!(issue["location"]["path"], "p.hcl");
        assert_eq!(issue["fingerprint"].as_str().unwrap().len(), 34, "{issue}");
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&issue["severity"].as_str().unwrap()));
    }
    assert_eq!(issues[1]["check_name"], "deny-with-capabilities");
    assert_eq!(issues[1]["location"]["lines"]["begin"], 5);
    // Moving the findings keeps their fingerprints.
    std::fs::write(repo.path().join("p.hcl"), format!("\n\n{POLICY}")).unwrap();
    let (_, moved, _) = capable_sub(repo.path(), "check", &["--format", "gitlab"]);
    let moved: serde_json::Value = serde_json::from_str(&moved).unwrap();
    assert_eq!(moved[1]["fingerprint"], issues[1]["fingerprint"]);
    assert_eq!(moved[1]["location"]["lines"]["begin"], 7);
}
