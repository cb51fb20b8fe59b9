//! `check` on every policy of the shared corpus (`../shared/corpus/policies`), one file at a
//! time (several corpus files share a stem): nothing may crash, and every output format must
//! render. The number of findings per rule id is snapshotted, for both targets, so that a
//! change in what the rules flag on real policies is reviewed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use capable::check::check_workspace;
use capable::config::Config;
use capable::report::{self, Format};
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/policies");

fn corpus_dir() -> &'static Path {
    let dir = Path::new(CORPUS);
    assert!(dir.is_dir(), "the corpus is missing at {CORPUS}");
    dir
}

/// Per rule id: (files with a finding, findings).
fn tally(target: Target) -> (BTreeMap<String, (usize, usize)>, usize, usize) {
    let mut entries: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut policies, mut agents) = (0, 0);
    for path in entries {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = Arc::new(SourceFile::new(
            name.clone(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
        let workspace = Workspace::from_sources(Config::default(), target, vec![source])
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        policies += workspace.files.len();
        agents += workspace.agent_files.len();
        let results = check_workspace(&workspace);
        let findings: usize = results.iter().map(|r| r.diagnostics.len()).sum();
        let lines = report::render(Format::Concise, &results, false)
            .lines()
            .count();
        assert_eq!(lines, findings, "{name}: one concise line per finding");
        // GitHub: at most 10 annotations per level, then one line counting the rest.
        let mut per_level: BTreeMap<String, usize> = BTreeMap::new();
        for diagnostic in results.iter().flat_map(|r| &r.diagnostics) {
            *per_level
                .entry(diagnostic.severity.to_string())
                .or_default() += 1;
        }
        let limit = capable::report::github::ANNOTATIONS_PER_LEVEL;
        let annotated: usize = per_level.values().map(|count| (*count).min(limit)).sum();
        let expected = annotated + usize::from(annotated < findings);
        let lines = report::render(Format::Github, &results, false)
            .lines()
            .count();
        assert_eq!(
            lines, expected,
            "{name}: GitHub annotations within the limit"
        );
        for format in [Format::Human, Format::Json, Format::Sarif] {
            assert!(!report::render(format, &results, false).is_empty());
        }
        let mut seen_here: BTreeMap<&str, usize> = BTreeMap::new();
        for diagnostic in results.iter().flat_map(|r| &r.diagnostics) {
            *seen_here.entry(&diagnostic.rule).or_default() += 1;
        }
        for (rule, findings) in seen_here {
            let entry = counts.entry(rule.to_string()).or_default();
            entry.0 += 1;
            entry.1 += findings;
        }
    }
    (counts, policies, agents)
}

fn table(target: Target) -> String {
    let (counts, policies, agents) = tally(target);
    let mut text = format!(
        "target {target}: {policies} policy files, {agents} agent configs\n\
         rule: files with a finding / findings\n"
    );
    for (rule, (files, findings)) in counts {
        text.push_str(&format!("{rule}: {files} / {findings}\n"));
    }
    text
}

#[test]
fn corpus_findings_per_rule_vault() {
    insta::assert_snapshot!(table(Target::Vault));
}

#[test]
fn corpus_findings_per_rule_openbao() {
    insta::assert_snapshot!(table(Target::OpenBao));
}
