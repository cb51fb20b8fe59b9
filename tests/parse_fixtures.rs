//! Parse fixtures: every file in `fixtures/parse/ok` is accepted (no `invalid-` diagnostic),
//! every file in `fixtures/parse/err` is refused (at least one), and the rendered diagnostics
//! plus a summary of the lowered rules are snapshotted with insta.
//!
//! The target is OpenBao (whose verdicts the oracle test checks against the real binary),
//! unless the file's first line is `# target: vault` (Vault-only behaviour, per the spec
//! section named in the fixture's header).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capable::policy::{parse_policy, Parsed};
use capable::report::human::render;
use capable::source::SourceFile;
use capable::target::Target;

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/parse")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "hcl" || ext == "json")
        })
        .collect();
    files.sort();
    files
}

fn target_of(text: &str) -> Target {
    if text.starts_with("# target: vault") {
        Target::Vault
    } else {
        Target::OpenBao
    }
}

/// One line per rule: what the model holds, so quirks show in the snapshot.
fn summary(parsed: &Parsed) -> String {
    let Some(policy) = &parsed.policy else {
        return "refused".to_string();
    };
    let mut lines = vec![format!("policy `{}`", policy.name)];
    for rule in &policy.rules {
        let pattern = match &rule.pattern {
            Some(pattern) => format!("{:?} `{}`", pattern.kind, pattern.key()),
            None => format!(
                "templated {:?}",
                rule.template_vars
                    .iter()
                    .map(|v| &v.value)
                    .collect::<Vec<_>>()
            ),
        };
        lines.push(format!(
            "rule `{}` -> {pattern} caps {}{}{}",
            rule.raw_pattern,
            rule.capabilities,
            if rule.expired { " (expired)" } else { "" },
            match (
                &rule.extra().min_wrapping_ttl,
                &rule.extra().max_wrapping_ttl
            ) {
                (None, None) => String::new(),
                (min, max) => format!(
                    " wrap {:?}..{:?}",
                    min.as_ref().map(|t| t.value),
                    max.as_ref().map(|t| t.value)
                ),
            }
        ));
    }
    lines.join("\n")
}

fn check(kind: &str, accepted: bool) {
    let files = fixtures(kind);
    assert!(!files.is_empty(), "no fixtures in fixtures/parse/{kind}");
    for path in files {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = Arc::new(SourceFile::new(format!("{kind}/{name}"), text.clone()));
        let parsed = parse_policy(file.clone(), target_of(&text));
        let invalid = parsed.diagnostics.iter().filter(|d| d.is_invalid()).count();
        if accepted {
            assert_eq!(
                invalid, 0,
                "{name} should be accepted: {:#?}",
                parsed.diagnostics
            );
            assert!(parsed.policy.is_some(), "{name}: accepted but no policy");
        } else {
            assert!(invalid > 0, "{name} should be refused");
            assert!(
                parsed.policy.is_none(),
                "{name}: refused but a policy was returned"
            );
            for diagnostic in &parsed.diagnostics {
                assert!(
                    diagnostic.help.is_some(),
                    "{name}: `{}` has no help",
                    diagnostic.message
                );
            }
        }
        let rendered = render(&file, &parsed.diagnostics, false);
        let snapshot_name = format!("{kind}__{}", name.replace('.', "_"));
        insta::assert_snapshot!(
            snapshot_name,
            format!("{rendered}\n--- model ---\n{}\n", summary(&parsed))
        );
    }
}

#[test]
fn ok_fixtures_are_accepted() {
    check("ok", true);
}

#[test]
fn err_fixtures_are_refused_with_help() {
    check("err", false);
}
