//! Output formats through the library: SARIF against the official 2.1.0 JSON schema (vendored
//! in `tests/data/`), GitHub escaping, JSON positions, the human summary.

#[path = "support/cli.rs"]
mod cli_support;

use std::path::Path;
use std::sync::Arc;

use capable::diag::{Diagnostic, FileDiagnostics, Severity};
use capable::report::{self, Format};
use capable::source::SourceFile;
use capable::span::Span;

#[path = "support/sarif.rs"]
mod sarif;
use sarif::{assert_valid_sarif, sarif_validator};

fn sample() -> Vec<FileDiagnostics> {
    let text = "# a, b: c\npath \"sécret/data/x\" {\n  capabilities = [\"raed\"]\n}\n";
    let file = Arc::new(SourceFile::new("dir with space/a,b:c%.hcl", text));
    let star = text.find("x\"").unwrap();
    let raed = text.find("\"raed\"").unwrap();
    let diagnostics = vec![
        Diagnostic::new(
            "literal-star",
            Severity::Warning,
            Span::new(star, star + 1),
            "100% literal: `x`\nsecond line",
        )
        .with_help("write `+`"),
        Diagnostic::error(
            "invalid-capability",
            Span::new(raed, raed + 6),
            "bad `raed`",
        ),
        Diagnostic::new(
            "policy-admin",
            Severity::Error,
            Span::new(raed, raed + 6),
            "writes policies",
        ),
        Diagnostic::new(
            "role-unknown-policy",
            Severity::Info,
            Span::new(0, 0),
            "an id outside the registry",
        ),
    ];
    let clean = Arc::new(SourceFile::new("clean.hcl", "path \"a\" {}\n"));
    vec![
        FileDiagnostics { file, diagnostics },
        FileDiagnostics {
            file: clean,
            diagnostics: Vec::new(),
        },
    ]
}

#[test]
fn sarif_of_the_sample_is_valid() {
    assert_valid_sarif(&report::render(Format::Sarif, &sample(), false));
}

/// The check must fail on an invalid log, or the validation above proves nothing.
#[test]
fn sarif_validator_rejects_a_broken_log() {
    let text = report::render(Format::Sarif, &sample(), false);
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_validator().is_valid(&value));
    value["runs"][0]["results"][0]["level"] = "error".into();
    value["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!sarif_validator().is_valid(&value));
    value["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        1.into();
    assert!(sarif_validator().is_valid(&value));
    value["runs"][0]["tool"]["driver"]["informationUri"] = "not a uri".into();
    assert!(!sarif_validator().is_valid(&value));
}

#[test]
fn sarif_of_a_real_check_is_valid() {
    let output = cli_support::command()
        .args(["check", "--format", "sarif"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/check/formats"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_valid_sarif(&String::from_utf8(output.stdout).unwrap());
}

#[test]
fn sarif_describes_rules_and_results() {
    let text = report::render(Format::Sarif, &sample(), false);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run = &value["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "capable");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let policy_admin = rules.iter().find(|r| r["id"] == "policy-admin").unwrap();
    let meta = capable::lint::rule_meta("policy-admin").unwrap();
    assert_eq!(policy_admin["help"]["text"], meta.documentation());
    assert_eq!(
        policy_admin["fullDescription"]["text"],
        meta.documentation()
    );
    assert_eq!(policy_admin["shortDescription"]["text"], meta.summary);
    assert!(policy_admin["helpUri"]
        .as_str()
        .unwrap()
        .ends_with("README.md#policy-admin"));
    assert!(policy_admin["properties"]["security-severity"].is_string());
    let literal_star = rules.iter().find(|r| r["id"] == "literal-star").unwrap();
    assert!(literal_star["properties"]
        .get("security-severity")
        .is_none());
    // Ids outside the registry get a descriptor too, so every ruleIndex resolves.
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["partialFingerprints"]["capable/v1"].is_string());
    }
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "dir%20with%20space/a%2Cb%3Ac%25.hcl"
    );
    // `sécret/data/x`: the `x` is the 19th character of line 2 (columns count characters).
    assert_eq!(location["region"]["startLine"], 2);
    assert_eq!(location["region"]["startColumn"], 19);
    assert_eq!(location["region"]["endColumn"], 20);
}

#[test]
fn sarif_fingerprints_survive_moving_lines() {
    let before = sample();
    let mut after = sample();
    let shifted = format!("# new first line\n{}", after[0].file.text);
    after[0].file = Arc::new(SourceFile::new(after[0].file.name.clone(), shifted));
    for diagnostic in &mut after[0].diagnostics {
        if !diagnostic.span.is_empty() {
            diagnostic.span = Span::new(diagnostic.span.start + 17, diagnostic.span.end + 17);
        }
    }
    let fingerprints = |results: &[FileDiagnostics]| -> Vec<serde_json::Value> {
        let value: serde_json::Value =
            serde_json::from_str(&report::render(Format::Sarif, results, false)).unwrap();
        value["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    let (before, after) = (fingerprints(&before), fingerprints(&after));
    assert_eq!(before[..3], after[..3]);
    assert_ne!(before[0], before[1]);
}

#[test]
fn github_escapes_properties_and_data() {
    let text = report::render(Format::Github, &sample(), false);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "::warning file=dir with space/a%2Cb%3Ac%25.hcl,line=2,col=19,endLine=2,endColumn=20,\
         title=capable literal-star::100%25 literal: `x`%0Asecond line%0Ahelp: write `+`"
    );
    assert!(text.lines().nth(1).unwrap().starts_with("::error "));
    assert!(text.lines().nth(3).unwrap().starts_with("::notice "));
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn json_positions_are_one_based_with_category() {
    let text = report::render(Format::Json, &sample(), false);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["version"], 1);
    let diagnostics = value["diagnostics"].as_array().unwrap();
    let keys: Vec<&str> = diagnostics[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "rule",
            "severity",
            "category",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "message",
            "help"
        ]
    );
    assert_eq!(diagnostics[0]["category"], "correctness");
    assert_eq!(diagnostics[0]["line"], 2);
    assert_eq!(diagnostics[0]["column"], 19);
    assert_eq!(diagnostics[0]["end_column"], 20);
    assert_eq!(diagnostics[1]["category"], "invalid");
    assert_eq!(diagnostics[1]["help"], serde_json::Value::Null);
    assert_eq!(diagnostics[2]["category"], "security");
    assert_eq!(diagnostics[3]["category"], serde_json::Value::Null);
    assert_eq!(diagnostics[3]["line"], 1);
    assert_eq!(diagnostics[3]["column"], 1);
}

#[test]
fn concise_is_one_line_per_finding() {
    let text = report::render(Format::Concise, &sample(), false);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        "dir with space/a,b:c%.hcl:2:19: warning[literal-star] 100% literal: `x` second line"
    );
}

#[test]
fn human_groups_by_file_and_summarises() {
    let text = report::render(Format::Human, &sample(), false);
    assert!(text.ends_with("found 2 errors, 1 warning and 1 note in 1 of 2 files\n"));
    assert!(!text.contains("clean.hcl"));
    let clean_only = &sample()[1..];
    assert_eq!(
        report::render(Format::Human, clean_only, false),
        "no findings in 1 file\n"
    );
}

#[test]
fn readme_lists_every_other_diagnostic_id() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("<!-- codes:start -->\n")
        .expect("codes:start marker")
        + 21;
    let end = readme.find("<!-- codes:end -->").expect("codes:end marker");
    assert_eq!(
        &readme[start..end],
        capable::report::codes::other_codes_markdown_table(),
        "README's other diagnostics table is stale: paste the generated table between the markers"
    );
}

/// Every descriptor (lint rules, refusals, other ids) has help text and a `helpUri` whose
/// README anchor exists.
#[test]
fn sarif_help_links_point_at_existing_readme_anchors() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut results = sample();
    for code in capable::report::codes::OTHER_CODES {
        results[0]
            .diagnostics
            .push(Diagnostic::error(code.id, Span::new(0, 1), "x"));
    }
    let text = report::render(Format::Sarif, &results, false);
    assert_valid_sarif(&text);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rules = value["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|rule| rule["id"] == "invalid-syntax"));
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let help = rule["help"]["text"].as_str().unwrap_or("");
        assert!(!help.is_empty(), "`{id}` has no help text");
        let uri = rule["helpUri"].as_str().unwrap();
        let anchor = uri.split_once("README.md#").expect("a README anchor").1;
        let exists = readme.contains(&format!("<a id=\"{anchor}\"></a>"))
            || (anchor == "other-diagnostics" && readme.contains("## Other diagnostics"));
        assert!(exists, "`{id}`: README has no anchor `{anchor}`");
        assert!(uri.starts_with(capable::lint::project_url()), "{uri}");
    }
}

#[test]
fn sarif_uris_are_relative_to_the_git_top_level() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let sub = repo.path().join("infra/vault");
    std::fs::create_dir_all(&sub).unwrap();
    let file = Arc::new(SourceFile::new("policies/a.hcl", "path \"x\" {}\n"));
    let results = vec![FileDiagnostics {
        file,
        diagnostics: vec![Diagnostic::error("invalid-key", Span::new(0, 4), "x")],
    }];
    let sarif = report::sarif::build_in(&results, &sub);
    let text = serde_json::to_string(&sarif).unwrap();
    assert_valid_sarif(&text);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run = &value["runs"][0];
    let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "infra/vault/policies/a.hcl");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let root = std::fs::canonicalize(repo.path()).unwrap_or(repo.path().to_path_buf());
    assert!(
        base.contains(root.file_name().unwrap().to_str().unwrap()),
        "{base}"
    );
}

/// Every diagnostic id the code reports (a literal first argument of `Diagnostic::error` or
/// `Diagnostic::new`, every `"invalid-..."` literal, every `/// Rule id` constant) is a lint
/// rule or one of the other
/// codes, so SARIF gives it help text and a link to an anchor that exists. Scans `src/`
/// (test modules left out). Cost: one read of the sources.
#[test]
fn every_reported_id_has_a_sarif_descriptor_with_a_readme_anchor() {
    fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    /// The kebab-case literal starting right after `at` (spaces and newlines skipped).
    fn literal_after(text: &str, at: usize) -> Option<&str> {
        let rest = text[at..].trim_start().strip_prefix('"')?;
        let end = rest.find('"')?;
        let id = &rest[..end];
        id.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            .then_some(id)
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut ids = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for opener in ["Diagnostic::error(", "Diagnostic::new("] {
            for (at, _) in text.match_indices(opener) {
                if let Some(id) = literal_after(text, at + opener.len()) {
                    ids.insert(id.to_string());
                }
            }
        }
        for (at, _) in text.match_indices("\"invalid-") {
            if let Some(id) = literal_after(text, at).filter(|id| !id.ends_with('-')) {
                ids.insert(id.to_string());
            }
        }
        // `/// Rule id of ...` constants (`terraform-unparsed`, ...).
        for (at, _) in text.match_indices("/// Rule id") {
            let Some(equals) = text[at..].find("&str =") else {
                continue;
            };
            if let Some(id) = literal_after(text, at + equals + "&str =".len()) {
                ids.insert(id.to_string());
            }
        }
    }
    assert!(ids.len() >= 25, "only {} ids found: {ids:?}", ids.len());
    for expected in [
        "invalid-syntax",
        "duplicate-inventory",
        "terraform-computed-inventory",
        "terraform-unparsed",
    ] {
        assert!(ids.contains(expected), "`{expected}` not found: {ids:?}");
    }
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| {
            capable::lint::rule_meta(id).is_none()
                && capable::report::codes::other_code(id).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "ids without a descriptor: {missing:?}");
    let unanchored: Vec<&String> = ids
        .iter()
        .filter(|id| !readme.contains(&format!("<a id=\"{id}\"></a>")))
        .collect();
    assert!(
        unanchored.is_empty(),
        "ids without a README anchor: {unanchored:?}"
    );
}
