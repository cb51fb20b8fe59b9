//! The README's rule table (between `<!-- rules:start -->` and `<!-- rules:end -->`) is the
//! registry's, as `capable rules --format markdown` prints it.

#[path = "support/cli.rs"]
mod cli_support;

use std::path::Path;

const START: &str = "<!-- rules:start -->\n";
const END: &str = "<!-- rules:end -->";

#[test]
fn readme_rule_table_matches_the_registry() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find(START)
        .expect("README has `<!-- rules:start -->`")
        + START.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README has `<!-- rules:end -->`");
    let expected = capable::lint::rules_markdown_table();
    assert!(
        readme[start..end] == expected,
        "the README's rule table is out of date; replace the section with \
         (`capable rules --format markdown`):\n\n{START}{expected}{END}\n"
    );
}

#[test]
fn table_has_one_row_per_rule_with_an_anchor() {
    let table = capable::lint::rules_markdown_table();
    let metas = capable::lint::all_rule_metas();
    assert_eq!(table.lines().count(), metas.len() + 2);
    for meta in metas {
        assert!(
            table.contains(&format!("<a id=\"{0}\"></a>`{0}` |", meta.id)),
            "{}",
            meta.id
        );
    }
}

#[test]
fn rules_command_prints_the_table_and_docs() {
    let run = |args: &[&str]| {
        let output = cli_support::command().args(args).output().unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, stdout, _) = run(&["rules", "--format", "markdown"]);
    assert_eq!((code, stdout), (0, capable::lint::rules_markdown_table()));
    let meta = capable::lint::rule_meta("unused-ignore").unwrap();
    let (code, stdout, _) = run(&["rules", "unused-ignore"]);
    assert_eq!((code, stdout.as_str()), (0, meta.documentation().as_str()));
    assert!(stdout.starts_with("## What it does\n"), "{stdout}");
    let (code, stdout, _) = run(&["rules"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.lines().count(),
        capable::lint::all_rule_metas().len()
    );
    assert!(stdout.contains("unused-ignore"), "{stdout}");
    let (code, stdout, _) = run(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["version"], 1);
    let first = &value["rules"][0];
    for key in ["id", "severity", "category", "summary", "help_uri"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let (code, stdout, stderr) = run(&["rules", "unused-ignor"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.contains("unknown rule `unused-ignor`"), "{stderr}");
    assert!(stderr.contains("did you mean `unused-ignore`?"), "{stderr}");
}
