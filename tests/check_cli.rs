//! `capable check` end to end: exit codes, every output format (snapshots on
//! `fixtures/check/formats`), file selection, per-rule settings, fail level and inline
//! suppressions.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::cli::capable;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/check")
        .join(name)
}

/// A scratch folder with an (empty) `capable.yaml`, so no config above it applies.
fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("capable.yaml"), "").unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const CLEAN: &str = "path \"secret/data/app/config\" {\n  capabilities = [\"read\"]\n}\n";
/// One `literal-star` warning (line 1).
const STAR: &str = "path \"secret/data/app/*/config\" {\n  capabilities = [\"read\"]\n}\n";
/// One `leading-slash` info (line 1).
const SLASH: &str = "path \"/secret/data/app/config\" {\n  capabilities = [\"read\"]\n}\n";
/// Refused by Vault: `invalid-capability`.
const REFUSED: &str = "path \"secret/data/app/config\" {\n  capabilities = [\"raed\"]\n}\n";

fn rules_in(concise: &str) -> Vec<String> {
    concise
        .lines()
        .filter_map(|line| {
            let start = line.find('[')?;
            let end = line[start..].find(']')?;
            Some(line[start + 1..start + end].to_string())
        })
        .collect()
}

// ---- exit codes ---------------------------------------------------------------------------

#[test]
fn clean_policy_exits_0() {
    let dir = scratch(&[("app.hcl", CLEAN)]);
    let (code, stdout, stderr) = capable(dir.path(), &["check", "app.hcl"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "no findings in 1 file\n");
}

#[test]
fn refused_policy_exits_1() {
    let dir = scratch(&[("app.hcl", REFUSED)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise", "app.hcl"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(rules_in(&stdout), ["invalid-capability"]);
}

#[test]
fn missing_path_exits_2_naming_it() {
    let dir = scratch(&[]);
    let (code, stdout, stderr) = capable(dir.path(), &["check", "nope.hcl"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("cannot read `nope.hcl`"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
}

#[test]
fn unreadable_file_exits_2() {
    let dir = scratch(&[]);
    std::fs::write(dir.path().join("binary.hcl"), [0xff, 0xfe, 0x00]).unwrap();
    let (code, _, stderr) = capable(dir.path(), &["check", "binary.hcl"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`binary.hcl`"), "{stderr}");
}

#[test]
fn bad_flag_value_exits_2() {
    let dir = scratch(&[("app.hcl", CLEAN)]);
    assert_eq!(capable(dir.path(), &["check", "--format", "xml"]).0, 2);
    assert_eq!(capable(dir.path(), &["check", "--target", "consul"]).0, 2);
    assert_eq!(capable(dir.path(), &["check", "--fail-level", "high"]).0, 2);
}

#[test]
fn two_files_with_one_stem_exit_2() {
    let dir = scratch(&[("a/app.hcl", CLEAN), ("b/app.hcl", CLEAN)]);
    let (code, _, stderr) = capable(dir.path(), &["check", "a", "b"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`a/app.hcl` and `b/app.hcl` are both policy `app`"),
        "{stderr}"
    );
}

// ---- formats ------------------------------------------------------------------------------

fn format_output(format: &str) -> (i32, String) {
    let (code, stdout, stderr) = capable(&fixture("formats"), &["check", "--format", format]);
    assert_eq!(stderr, "", "stderr for {format}");
    (code, stdout)
}

#[test]
fn format_human() {
    let (code, stdout) = format_output("human");
    assert_eq!(code, 1);
    assert!(!stdout.contains('\u{1b}'), "no colour when not a terminal");
    insta::assert_snapshot!(stdout);
}

#[test]
fn format_concise() {
    let (code, stdout) = format_output("concise");
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn format_json() {
    let (code, stdout) = format_output("json");
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(value["version"], 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn format_github() {
    let (code, stdout) = format_output("github");
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

/// The SARIF log without `tool.driver.rules` and the version (they change with every rule
/// edit and release; `report_formats.rs` checks the descriptors and validates the full log).
/// Each result's `ruleIndex` is checked to resolve to its `ruleId`, then elided.
#[test]
fn format_sarif() {
    let (code, stdout) = format_output("sarif");
    assert_eq!(code, 1);
    let mut value: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let run = &mut value["runs"][0];
    let rule_ids: Vec<serde_json::Value> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["id"].clone())
        .collect();
    for result in run["results"].as_array_mut().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], result["ruleId"]);
        result["ruleIndex"] = "[index]".into();
    }
    // Where the checkout is differs per machine; the URIs under it do not.
    let base = &mut run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert!(base
        .as_str()
        .is_some_and(|uri| uri.starts_with("file:///") && uri.ends_with('/')));
    *base = "[repository root]".into();
    let driver = &mut run["tool"]["driver"];
    driver["version"] = "[version]".into();
    driver["rules"] = "[rules]".into();
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn no_color_flag_and_env_give_plain_text() {
    let (_, stdout) = format_output("human");
    let output = support::cli::command()
        .args(["check", "--no-color"])
        .current_dir(fixture("formats"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), stdout);
}

// ---- file selection -----------------------------------------------------------------------

#[test]
fn no_paths_uses_the_config_include() {
    let dir = scratch(&[("policies/app.hcl", STAR), ("other/ignored.hcl", REFUSED)]);
    std::fs::write(dir.path().join("capable.yaml"), "include: [policies]\n").unwrap();
    let (code, stdout, stderr) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("policies/app.hcl:1:"), "{stdout}");
}

#[test]
fn no_paths_and_no_include_walks_the_config_folder_from_below() {
    let empty_block = "{\"path\": {\"secret/data/x\": {\"capabilities\": []}}}";
    let dir = scratch(&[("policies/app.hcl", STAR), ("deep/er/x.json", empty_block)]);
    let below = dir.path().join("deep/er");
    let (code, stdout, _) = capable(&below, &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    let mut files: Vec<&str> = stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["../../policies/app.hcl", "x.json"], "{stdout}");
}

#[test]
fn exclude_globs_apply_to_walked_and_named_files() {
    let dir = scratch(&[
        ("policies/app.hcl", CLEAN),
        ("policies/legacy/old.hcl", REFUSED),
        ("policies/tmp.bak.hcl", REFUSED),
    ]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "exclude: ['policies/legacy', '**/*.bak.hcl']\n",
    )
    .unwrap();
    let (code, stdout, _) = capable(dir.path(), &["check", "policies"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 1 file\n"));
    let (code, stdout, _) = capable(dir.path(), &["check", "policies/tmp.bak.hcl"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 0 files\n"));
}

#[test]
fn include_globs_select_files() {
    let dir = scratch(&[("teams/a/app.hcl", STAR), ("teams/a/notes.hcl", REFUSED)]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "include: ['teams/*/app.hcl']\n",
    )
    .unwrap();
    let (_, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(rules_in(&stdout), ["literal-star"]);
}

#[test]
fn gitignored_files_are_skipped_when_walking() {
    let dir = scratch(&[
        ("p/app.hcl", CLEAN),
        ("p/generated/out.hcl", REFUSED),
        (".gitignore", "generated/\n"),
    ]);
    let (code, stdout, _) = capable(dir.path(), &["check", "p"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 1 file\n"));
}

#[test]
fn only_policy_extensions_are_walked() {
    let dir = scratch(&[
        ("p/a.hcl", CLEAN),
        ("p/b.policy", CLEAN),
        (
            "p/c.json",
            "{\"path\": {\"secret/data/x\": {\"capabilities\": [\"read\"]}}}",
        ),
        ("p/readme.md", "not a policy"),
        ("p/main.tf", "resource \"x\" \"y\" {}"),
    ]);
    let (code, stdout, _) = capable(dir.path(), &["check", "p"]);
    // `.tf` files are read too, for the Vault policies defined in Terraform (tests/terraform.rs).
    assert_eq!((code, stdout.as_str()), (0, "no findings in 4 files\n"));
}

#[test]
fn agent_configs_are_not_checked_as_policies() {
    let agent = "vault {\n  address = \"http://127.0.0.1:8200\"\n}\nauto_auth {\n  method \"approle\" {}\n}\n";
    let dir = scratch(&[("p/app.hcl", CLEAN), ("p/agent.hcl", agent)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "p"]);
    // The agent config is checked as an agent config (clean here), not refused as a policy.
    assert_eq!((code, stdout.as_str()), (0, "no findings in 2 files\n"));
}

// ---- configuration of rules and fail level ------------------------------------------------

#[test]
fn rule_off_and_severity_override() {
    let dir = scratch(&[("star.hcl", STAR), ("slash.hcl", SLASH)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("warning[literal-star]"), "{stdout}");
    assert!(stdout.contains("info[leading-slash]"), "{stdout}");

    std::fs::write(
        dir.path().join("capable.yaml"),
        "rules:\n  literal-star: off\n  leading-slash: error\n",
    )
    .unwrap();
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    assert_eq!(rules_in(&stdout), ["leading-slash"]);
    assert!(stdout.contains("error[leading-slash]"), "{stdout}");

    std::fs::write(
        dir.path().join("capable.yaml"),
        "rules:\n  literal-star: info\n  leading-slash: off\n",
    )
    .unwrap();
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 0, "an info finding is below the default fail level");
    assert!(stdout.contains("info[literal-star]"), "{stdout}");
}

#[test]
fn fail_level_decides_the_exit_code() {
    let dir = scratch(&[("star.hcl", STAR)]);
    assert_eq!(
        capable(dir.path(), &["check"]).0,
        1,
        "warning fails by default"
    );
    assert_eq!(
        capable(dir.path(), &["check", "--fail-level", "error"]).0,
        0
    );
    std::fs::write(dir.path().join("capable.yaml"), "fail-level: error\n").unwrap();
    assert_eq!(capable(dir.path(), &["check"]).0, 0);
    assert_eq!(
        capable(dir.path(), &["check", "--fail-level", "warning"]).0,
        1,
        "the flag beats the config"
    );

    let info = scratch(&[("slash.hcl", SLASH)]);
    assert_eq!(
        capable(info.path(), &["check"]).0,
        0,
        "info does not fail by default"
    );
    assert_eq!(
        capable(info.path(), &["check", "--fail-level", "info"]).0,
        1
    );
}

#[test]
fn refusals_cannot_be_turned_off_or_softened() {
    let dir = scratch(&[("app.hcl", REFUSED)]);
    let (code, _, stderr) = capable(dir.path(), &["check", "--fail-level", "error"]);
    assert_eq!(code, 1, "{stderr}");
    std::fs::write(
        dir.path().join("capable.yaml"),
        "rules:\n  invalid-capability: off\n",
    )
    .unwrap();
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("rule `invalid-capability` cannot be configured"),
        "{stderr}"
    );
}

#[test]
fn target_flag_beats_config() {
    // `subscribe_event_types` is Vault-only (spec 1.3 table): OpenBao refuses the key.
    let policy = "path \"sys/events/subscribe/*\" {\n  capabilities = [\"read\"]\n  \
                  subscribe_event_types = [\"*\"]\n}\n";
    let dir = scratch(&[("events.hcl", policy)]);
    std::fs::write(dir.path().join("capable.yaml"), "target: openbao\n").unwrap();
    let (_, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert!(stdout.contains("[invalid-key]"), "{stdout}");
    let (_, stdout, _) = capable(
        dir.path(),
        &["check", "--format", "concise", "--target", "vault"],
    );
    assert!(!stdout.contains("[invalid-key]"), "{stdout}");
}

// ---- suppressions -------------------------------------------------------------------------

#[test]
fn ignore_on_the_line_before_suppresses() {
    let policy = format!("# capable:ignore literal-star -- the key really has a `*`\n{STAR}");
    let dir = scratch(&[("app.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 1 file\n"));
}

#[test]
fn ignore_at_the_end_of_the_first_line_suppresses() {
    let policy = STAR.replacen("{\n", "{ # capable:ignore literal-star -- on purpose\n", 1);
    let dir = scratch(&[("app.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 1 file\n"));
}

#[test]
fn ignore_with_slashes_and_several_ids() {
    let policy = "// capable:ignore leading-slash, literal-star -- legacy layout\n\
                  path \"/secret/data/app/*/config\" {\n  capabilities = [\"read\"]\n}\n";
    let dir = scratch(&[("app.hcl", policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check"]);
    assert_eq!((code, stdout.as_str()), (0, "no findings in 1 file\n"));
}

#[test]
fn ignore_only_covers_its_own_block_and_rule() {
    let policy = format!(
        "# capable:ignore literal-star -- first block only\n{STAR}\n{}",
        STAR.replace("app", "other")
    );
    let dir = scratch(&[("app.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    assert_eq!(rules_in(&stdout), ["literal-star"]);
    assert!(stdout.starts_with("app.hcl:6:"), "{stdout}");
}

#[test]
fn unused_ignores_are_reported() {
    let policy = "# capable:ignore literal-star -- stale: the pattern was fixed\n\
                  path \"secret/data/app/config\" {\n  capabilities = [\"read\"]\n}\n\
                  \n\
                  # capable:ignore leading-slash -- detached by the blank line\n\
                  \n\
                  path \"secret/data/b\" { # capable:ignore literal-str, policy-admin\n  \
                  capabilities = [\"read\"]\n}\n";
    let dir = scratch(&[("app.hcl", policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "unused-ignore is a warning");
    insta::assert_snapshot!(stdout);
    assert_eq!(
        rules_in(&stdout),
        [
            "unused-ignore",
            "unused-ignore",
            "unused-ignore",
            "unused-ignore"
        ]
    );
}

#[test]
fn unused_ignore_can_be_configured() {
    let policy = format!("# capable:ignore leading-slash -- stale\n{CLEAN}");
    let dir = scratch(&[("app.hcl", &policy)]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "rules:\n  unused-ignore: off\n",
    )
    .unwrap();
    assert_eq!(capable(dir.path(), &["check"]).1, "no findings in 1 file\n");
}

#[test]
fn ignores_of_rules_turned_off_are_not_unused() {
    let policy = format!("# capable:ignore leading-slash -- off anyway\n{CLEAN}");
    let dir = scratch(&[("app.hcl", &policy)]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "rules:\n  leading-slash: off\n",
    )
    .unwrap();
    assert_eq!(capable(dir.path(), &["check"]).1, "no findings in 1 file\n");
}

#[test]
fn refusals_cannot_be_suppressed() {
    let policy = format!("# capable:ignore invalid-capability -- please\n{REFUSED}");
    let dir = scratch(&[("app.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    assert_eq!(rules_in(&stdout), ["unused-ignore", "invalid-capability"]);
    assert!(
        stdout.contains("`invalid-capability` cannot be suppressed"),
        "{stdout}"
    );
}

#[test]
fn refusal_ignores_are_findings_in_valid_policies_too() {
    let policy = format!("# capable:ignore invalid-key -- just in case\n{CLEAN}");
    let dir = scratch(&[("app.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("warning[unused-ignore] `invalid-key` cannot be suppressed"),
        "{stdout}"
    );
}

/// Runs `check` on a pseudo-terminal (util-linux `script`) and returns its output.
fn on_a_terminal(no_color_env: Option<&str>, extra: &str) -> String {
    let command = format!("{} check {extra} risky.hcl", env!("CARGO_BIN_EXE_capable"));
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env("CAPABLE_NO_CACHE", "1")
        .current_dir(fixture("formats"))
        .env_remove("NO_COLOR");
    if let Some(value) = no_color_env {
        script.env("NO_COLOR", value);
    }
    let output = script
        .output()
        .expect("util-linux `script` is needed to run capable on a terminal");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    assert!(
        on_a_terminal(None, "").contains("\u{1b}["),
        "colour on a terminal"
    );
    assert!(
        !on_a_terminal(Some("1"), "").contains('\u{1b}'),
        "NO_COLOR=1"
    );
    assert!(
        !on_a_terminal(None, "--no-color").contains('\u{1b}'),
        "--no-color"
    );
    assert!(
        on_a_terminal(Some(""), "").contains("\u{1b}["),
        "an empty NO_COLOR does not count"
    );
}

#[test]
fn included_folders_may_be_hidden_and_must_exist() {
    let dir = scratch(&[(".vault/policies/app.hcl", STAR), ("other/x.hcl", REFUSED)]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "include: [.vault/policies]\n",
    )
    .unwrap();
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with(".vault/policies/app.hcl:1:"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");

    std::fs::write(dir.path().join("capable.yaml"), "include: [policies]\n").unwrap();
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `policies`"), "{stderr}");
}

#[test]
fn plain_and_glob_includes_combine_without_duplicates() {
    let dir = scratch(&[
        ("a/one.hcl", STAR),
        ("b/two.hcl", STAR),
        ("c/three.hcl", REFUSED),
    ]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "include: [a, 'a/*.hcl', 'b/**']\n",
    )
    .unwrap();
    let (_, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    let files: Vec<&str> = stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(files, ["a/one.hcl", "b/two.hcl"], "{stdout}");
}

// ---- file-level ignores and per-file-ignores ----------------------------------------------

/// A break-glass policy: `literal-star` in two blocks and a `leading-slash` note.
const ADMIN: &str = "path \"secret/data/a/*/x\" {\n  capabilities = [\"read\"]\n}\n\
                     path \"secret/data/b/*/y\" {\n  capabilities = [\"read\"]\n}\n\
                     path \"/secret/data/c\" {\n  capabilities = [\"read\"]\n}\n";

#[test]
fn ignore_file_suppresses_its_rules_in_every_block() {
    let policy = format!("# capable:ignore-file literal-star -- break-glass admin\n{ADMIN}");
    let dir = scratch(&[("admin.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 0, "only the `leading-slash` note is left: {stdout}");
    assert_eq!(rules_in(&stdout), ["leading-slash"]);
}

#[test]
fn unused_ignore_file_ids_are_reported() {
    let policy =
        format!("{CLEAN}# capable:ignore-file literal-star, policy-admin, literal-str -- stale\n");
    let dir = scratch(&[("app.hcl", &policy)]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(rules_in(&stdout), ["unused-ignore"; 3]);
    assert!(
        stdout.contains("no `literal-star` finding to suppress in this file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unknown rule `literal-str` in `capable:ignore-file`"),
        "{stdout}"
    );
}

#[test]
fn a_block_ignore_takes_precedence_over_the_file_ignore() {
    let policy = format!(
        "# capable:ignore-file leading-slash -- repeats the block ignore\n\
         # capable:ignore leading-slash -- legacy path\n{SLASH}"
    );
    let dir = scratch(&[("app.hcl", &policy)]);
    let (_, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(rules_in(&stdout), ["unused-ignore"], "{stdout}");
    assert!(
        stdout.contains("app.hcl:1:"),
        "the file ignore is unused: {stdout}"
    );
}

#[test]
fn per_file_ignores_suppress_in_matching_files_only() {
    let dir = scratch(&[
        ("policies/break-glass/admin.hcl", ADMIN),
        ("policies/app.hcl", STAR),
    ]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "per-file-ignores:\n  \"policies/break-glass/*.hcl\": [literal-star, leading-slash]\n",
    )
    .unwrap();
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(rules_in(&stdout), ["literal-star"], "{stdout}");
    assert!(stdout.starts_with("policies/app.hcl:1:"), "{stdout}");
}

#[test]
fn unused_per_file_ignores_are_reported_on_whole_tree_runs() {
    let dir = scratch(&[("policies/app.hcl", STAR)]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "per-file-ignores:\n  \"policies/*.hcl\": [literal-star, policy-admin]\n  \
         legacy/: [grants-everything]\n",
    )
    .unwrap();
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "{stdout}");
    insta::assert_snapshot!(stdout);
    assert_eq!(rules_in(&stdout), ["unused-ignore", "unused-ignore"]);
    // With files named, an entry may be for files not checked: nothing is reported.
    let (code, stdout, _) = capable(
        dir.path(),
        &["check", "--format", "concise", "policies/app.hcl"],
    );
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn per_file_ignores_name_known_rules() {
    let dir = scratch(&[("app.hcl", CLEAN)]);
    std::fs::write(
        dir.path().join("capable.yaml"),
        "per-file-ignores:\n  app.hcl: [policy-admn]\n",
    )
    .unwrap();
    let (code, _, stderr) = capable(dir.path(), &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown rule `policy-admn`"), "{stderr}");
    assert!(stderr.contains("did you mean `policy-admin`?"), "{stderr}");
}

#[test]
fn github_format_stays_under_the_annotation_limit_and_writes_the_step_summary() {
    let blocks: String = (0..15)
        .map(|index| {
            format!(
                "path \"secret/data/a{index}/*/config\" {{\n  capabilities = [\"read\"]\n}}\n\n"
            )
        })
        .collect();
    let dir = scratch(&[("many.hcl", blocks.as_str())]);
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = support::cli::command()
        .args(["check", "--format", "github", "many.hcl"])
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let warnings = stdout
        .lines()
        .filter(|line| line.starts_with("::warning "))
        .count();
    assert_eq!(warnings, 10, "{stdout}");
    assert!(stdout.contains("5 more findings not annotated"), "{stdout}");
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("earlier step\n## capable check\n"),
        "{written}"
    );
    assert!(written.contains("| 0 | 15 | 0 | 1 | 1 |"), "{written}");
    assert!(written.contains("5 of them are not annotated"), "{written}");
    let rows = written
        .lines()
        .filter(|line| line.starts_with("| `many.hcl:"))
        .count();
    assert_eq!(rows, 15, "{written}");
}

#[test]
fn json_files_that_are_not_policies_are_skipped_by_walks_only() {
    let package = "{\"name\": \"web\", \"version\": \"1.0.0\"}";
    let dir = scratch(&[
        ("p/a.hcl", CLEAN),
        ("p/package.json", package),
        ("p/list.json", "[1, 2]"),
        ("p/broken.json", "{\"path\": {\"secret/data/x\": [}"),
    ]);
    let (code, stdout, _) = capable(dir.path(), &["check", "--format", "concise", "p"]);
    assert_eq!(code, 1, "the broken policy still fails: {stdout}");
    let files: Vec<&str> = stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(files, ["p/broken.json"], "{stdout}");
    // Named on the command line, a file is checked whatever it holds.
    let (code, stdout, _) = capable(
        dir.path(),
        &["check", "--format", "concise", "p/package.json"],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.starts_with("p/package.json:"), "{stdout}");
    // `--only-policies` (the pre-commit hook) sifts named files as a walk does.
    let named = [
        "check",
        "--only-policies",
        "--format",
        "concise",
        "p/package.json",
        "p/list.json",
        "p/a.hcl",
    ];
    let (code, stdout, stderr) = capable(dir.path(), &named);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let (code, stdout, _) = capable(
        dir.path(),
        &[
            "check",
            "--only-policies",
            "--format",
            "concise",
            "p/broken.json",
        ],
    );
    assert_eq!(code, 1, "a broken policy is still one: {stdout}");
}
