//! Vault Agent template checks (`agent-secret-unreadable`) on good and bad configurations,
//! and every agent file of the shared corpus read without a panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capable::agent::{self, template};
use capable::config::Mounts;
use capable::diag::FileDiagnostics;
use capable::report::human;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/agent")
}

fn check_fixture() -> Vec<FileDiagnostics> {
    let dir = fixture();
    let workspace = Workspace::load_in(&dir, &[], None, None).expect("fixture loads");
    let mut found = agent::check(&workspace);
    found.sort_by(|a, b| a.file.name.cmp(&b.file.name));
    found
}

fn rendered(files: &[FileDiagnostics]) -> String {
    files
        .iter()
        .map(|file| human::render(&file.file, &file.diagnostics, false))
        .collect::<Vec<_>>()
        .join("\n")
}

fn messages_of(files: &[FileDiagnostics], name: &str) -> Vec<String> {
    files
        .iter()
        .filter(|file| file.file.name.ends_with(name))
        .flat_map(|file| file.diagnostics.iter().map(|d| d.message.clone()))
        .collect()
}

#[test]
fn the_inference_sidecar_reads_only_what_its_role_may() {
    let found = check_fixture();
    assert!(
        messages_of(&found, "good.hcl").is_empty(),
        "{}",
        rendered(&found)
    );
    assert!(
        messages_of(&found, "openai.ctmpl").is_empty(),
        "{}",
        rendered(&found)
    );
}

#[test]
fn unreadable_secrets_point_into_the_template() {
    let found = check_fixture();
    let bad = messages_of(&found, "bad.hcl");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("cannot read `secret/data/ai/anthropic`"),
        "{bad:?}"
    );
    // The escaped inline string: the label sits on the path itself.
    let file = found
        .iter()
        .find(|f| f.file.name.ends_with("bad.hcl"))
        .unwrap();
    let span = file.diagnostics[0].span;
    assert_eq!(file.file.slice(span), "secret/data/ai/anthropic");
    // The template file found next to the configuration (its absolute path is a container's).
    let providers = messages_of(&found, "providers.ctmpl");
    assert_eq!(providers.len(), 2, "{providers:?}");
    assert!(providers[0].contains("cannot list `secret/ai/` (API path `secret/metadata/ai/`)"));
    assert!(
        providers[1].contains("cannot read `secret/ai/google` (API path `secret/data/ai/google`)")
    );
}

#[test]
fn writes_with_parameters_and_kv1_reads_follow_the_role() {
    let found = check_fixture();
    let web = messages_of(&found, "web.hcl");
    assert_eq!(web.len(), 2, "{web:?}");
    assert!(web[0].contains("cannot write `pki/issue/web`"), "{web:?}");
    assert!(web[0].contains("common_name"), "{web:?}");
    assert!(
        web[1].contains("cannot read `kv1/admin/config`: no rule matches"),
        "{web:?}"
    );
}

#[test]
fn unknown_roles_and_broken_templates_are_reported() {
    let found = check_fixture();
    let unknown = messages_of(&found, "unknown-role.hcl");
    assert_eq!(
        unknown,
        ["role `kubernetes/batch-role` that this agent logs in as is not in the inventory"]
    );
    let broken = messages_of(&found, "broken-template.hcl");
    assert_eq!(broken, ["template action `{{` is never closed"]);
}

#[test]
fn rendered_findings() {
    insta::assert_snapshot!(rendered(&check_fixture()));
}

/// Every corpus file: agent configurations go through the whole check (no inventory, so the
/// role is unknown), templates through the action parser; nothing panics, and a file that
/// cannot be read yields a diagnostic with a real span.
#[test]
fn every_corpus_agent_file_parses_or_is_diagnosed() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/agent");
    let entries = std::fs::read_dir(&corpus).expect("the shared corpus is present");
    let mut seen = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let source = Arc::new(SourceFile::new(name.clone(), text.clone()));
        seen += 1;
        match template::secret_uses(&text) {
            Ok(uses) => {
                for secret in uses {
                    assert!(!secret.path.is_empty(), "{name}");
                    assert!(text[secret.span.start..secret.span.end].contains(&secret.path));
                }
            }
            Err(error) => {
                assert!(
                    error.span.end <= text.len() && !error.message.is_empty(),
                    "{name}"
                );
            }
        }
        if name.ends_with(".hcl") {
            let files = agent::check_with(None, &Mounts::default(), Target::Vault, &[source]);
            for file in files {
                for diagnostic in &file.diagnostics {
                    assert!(diagnostic.span.end <= file.file.text.len(), "{name}");
                    assert!(diagnostic.help.is_some(), "{name}: {}", diagnostic.message);
                }
            }
        }
    }
    assert!(seen >= 16, "corpus files seen: {seen}");
}

#[test]
fn the_rules_setting_turns_the_check_off_or_changes_its_severity() {
    use capable::config::RuleLevel;
    use capable::diag::Severity;
    let mut workspace = Workspace::load_in(&fixture(), &[], None, None).unwrap();
    workspace
        .config
        .rules
        .insert("agent-secret-unreadable".into(), RuleLevel::Off);
    assert!(agent::check(&workspace).is_empty());
    workspace.config.rules.insert(
        "agent-secret-unreadable".into(),
        RuleLevel::Severity(Severity::Info),
    );
    let found = agent::check(&workspace);
    let severities: Vec<Severity> = found
        .iter()
        .flat_map(|file| file.diagnostics.iter().map(|d| d.severity))
        .collect();
    assert!(severities.contains(&Severity::Info), "{severities:?}");
    assert!(!severities.contains(&Severity::Error), "{severities:?}");
}
