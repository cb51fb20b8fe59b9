//! Install and help: shell completions, man pages, one option vocabulary across subcommands,
//! and the install facts the README states (`rust-version`, `repository`, `--locked`).

mod support;

use std::path::Path;

use support::cli::capable;

fn manifest() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap()
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The value of `key = "..."` in the `[package]` table.
fn package_field(key: &str) -> String {
    let manifest = manifest();
    let line = manifest
        .lines()
        .take_while(|line| !line.starts_with("[lib]"))
        .find(|line| line.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("Cargo.toml sets no `{key}`"));
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn completions_are_generated_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_capable()"),
        ("zsh", "#compdef capable"),
        ("fish", "complete -c capable"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[capable]"),
    ] {
        let (code, stdout, stderr) = capable(dir.path(), &["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(
            stdout.contains(marker),
            "{shell}: no `{marker}` in the script"
        );
        assert!(
            stdout.contains("who-can") && stdout.contains("fmt"),
            "{shell}"
        );
    }
    let (code, _, stderr) = capable(dir.path(), &["completions", "tcsh"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn man_pages_for_capable_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let (code, page, _) = capable(dir.path(), &["man"]);
    assert_eq!(code, 0);
    assert!(
        page.starts_with(".ie") || page.contains(".TH capable 1"),
        "{page}"
    );
    assert!(page.contains(".TH capable 1"), "{page}");
    let (code, page, _) = capable(dir.path(), &["man", "check"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH capable-check 1"), "{page}");
    assert!(page.contains("capable check"), "{page}");
    let (code, _, stderr) = capable(dir.path(), &["man", "chek"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean `check`?"), "{stderr}");
}

/// The help line of `--option` in `capable SUB --help`, whitespace collapsed.
fn option_help(subcommand: &str, option: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let (code, help, _) = capable(dir.path(), &[subcommand, "--help"]);
    assert_eq!(code, 0, "{subcommand} --help");
    let lines: Vec<&str> = help.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.trim_start().starts_with(&format!("{option} ")))?;
    // Long help puts the text on the next line; short help on the same one.
    let mut text = lines[at].trim().to_string();
    if let Some(next) = lines
        .get(at + 1)
        .filter(|line| !line.trim_start().starts_with('-'))
    {
        text.push(' ');
        text.push_str(next.trim());
    }
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn every_subcommand_speaks_one_vocabulary() {
    let subcommands = [
        "check", "caps", "test", "explain", "reach", "who-can", "fmt",
    ];
    for option in ["--target", "--config"] {
        let helps: Vec<(String, String)> = subcommands
            .iter()
            .filter_map(|sub| option_help(sub, option).map(|help| (sub.to_string(), help)))
            .collect();
        assert!(helps.len() >= 6, "{option}: {helps:?}");
        let first = &helps[0].1;
        for (sub, help) in &helps {
            assert_eq!(
                help, first,
                "`{sub} {option}` differs from `{} {option}`",
                helps[0].0
            );
        }
    }
    let target = option_help("check", "--target").unwrap();
    assert!(
        target.contains("<vault|openbao>") && target.contains("[default:"),
        "{target}"
    );
    // Every text format is called `human` (caps and rules still accept `text`).
    for sub in [
        "check", "caps", "test", "explain", "reach", "who-can", "rules",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (_, help, _) = capable(dir.path(), &[sub, "--help"]);
        let format = help
            .lines()
            .skip_while(|line| !line.contains("--format"))
            .take(12)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(format.contains("human"), "{sub}: {format}");
        assert!(!format.contains("possible values: text"), "{sub}: {format}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = capable(dir.path(), &["rules", "--format", "text"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn check_on_a_folder_without_policies_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("polices")).unwrap();
    std::fs::write(dir.path().join("polices/readme.txt"), "not a policy").unwrap();
    let (code, _, stderr) = capable(dir.path(), &["check", "polices"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no policy files found in `polices`"),
        "{stderr}"
    );
}

#[test]
fn the_readme_states_what_installing_needs() {
    let rust_version = package_field("rust-version");
    let repository = package_field("repository");
    assert!(repository.starts_with("https://"), "{repository}");
    let readme = readme();
    assert!(readme.contains(&format!("Rust **{rust_version}** or newer")));
    assert!(readme.contains("cargo install --locked"));
    assert!(
        readme.contains(&format!("repo: {repository}")),
        "the pre-commit snippet"
    );
    assert!(readme.contains("../shared/"));
    assert_eq!(capable::lint::project_url(), repository);
}
