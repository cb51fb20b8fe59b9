//! Every lint rule against its fixture (ruff's pattern): `fixtures/rules/<id>.hcl`, or every
//! `*.hcl` of `fixtures/rules/<id>/` (one policy per file, for cases that would shadow each
//! other inside one policy). Each case of a fixture starts with a `# bad: ...` or `# ok: ...`
//! comment and runs to the next such comment. The rule runs alone, through
//! `Rule::check_policy`, with the ACL of the policy alone and the default mounts (`secret/`
//! is KV v2). The rendered output is snapshotted, and the test asserts that every `bad` case
//! gets at least one diagnostic and that no diagnostic lands outside a `bad` case.
//!
//! A fixture may start with `# target: openbao` to run for OpenBao.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capable::config::Mounts;
use capable::diag::Diagnostic;
use capable::lint::codes::RULES;
use capable::lint::{PolicyIndex, Rule};
use capable::policy::parse_policy;
use capable::source::SourceFile;
use capable::target::Target;

/// Rules that do not run per policy (their `check_policy` does nothing): `unused-ignore`
/// works on suppression comments in the engine, `agent-secret-unreadable` on Vault Agent
/// configs, and the role-level rules of the inventory on a role's merged policies. Their
/// owners test them with their own fixtures; here they only need their documentation.
const ENGINE_RULES: &[&str] = &[
    "unused-ignore",
    "agent-secret-unreadable",
    "parameters-narrowed-by-merge",
    "unresolved-template",
    "overridden-deny",
    "terraform-interpolated-policy",
];

const HEADINGS: &[&str] = &[
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
];

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rule(id: &str) -> &'static dyn Rule {
    RULES
        .iter()
        .copied()
        .find(|rule| rule.meta().id == id)
        .unwrap_or_else(|| panic!("rule `{id}` is not registered"))
}

/// The fixture files of a rule, relative to the crate root, sorted.
fn fixture_files(id: &str) -> Vec<PathBuf> {
    let single = PathBuf::from(format!("fixtures/rules/{id}.hcl"));
    if crate_root().join(&single).is_file() {
        return vec![single];
    }
    let folder = PathBuf::from(format!("fixtures/rules/{id}"));
    let Ok(entries) = std::fs::read_dir(crate_root().join(&folder)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| folder.join(entry.file_name()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "hcl"))
        .collect();
    files.sort();
    files
}

fn target_of(text: &str) -> Target {
    if text.lines().next() == Some("# target: openbao") {
        Target::OpenBao
    } else {
        Target::Vault
    }
}

/// Parses a policy text and runs one rule on it, as the engine does for one policy.
fn run_rule(
    rule: &dyn Rule,
    name: &str,
    text: &str,
    target: Target,
) -> (Arc<SourceFile>, Vec<Diagnostic>) {
    let source = Arc::new(SourceFile::new(name, text));
    let parsed = parse_policy(source.clone(), target);
    let invalid: Vec<&Diagnostic> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_invalid())
        .collect();
    assert!(
        invalid.is_empty(),
        "{name} must be a valid policy: {invalid:#?}"
    );
    let policy = parsed
        .policy
        .unwrap_or_else(|| panic!("{name} must parse: {:#?}", parsed.diagnostics));
    let index = PolicyIndex::new(&policy, target).expect("one policy builds an ACL");
    let mounts = Mounts::default();
    let ctx = index.context(&mounts);
    let mut diagnostics = Vec::new();
    rule.check_policy(&ctx, &mut diagnostics);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    (source, diagnostics)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Case {
    Bad,
    Ok,
}

/// The case each line (1-based index) belongs to, from the `# bad:` / `# ok:` markers.
fn cases(text: &str) -> Vec<Option<(Case, usize)>> {
    let mut current = None;
    let mut out = vec![None];
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("# bad:") {
            current = Some((Case::Bad, index + 1));
        } else if trimmed.starts_with("# ok:") {
            current = Some((Case::Ok, index + 1));
        }
        out.push(current);
    }
    out
}

/// Checks the case markers against the diagnostics; returns the problems found.
fn check_cases(file: &SourceFile, diagnostics: &[Diagnostic]) -> Vec<String> {
    let per_line = cases(&file.text);
    let mut problems = Vec::new();
    let mut hit_bad_cases = Vec::new();
    for diagnostic in diagnostics {
        let line = file.line(diagnostic.span.start);
        match per_line.get(line).copied().flatten() {
            Some((Case::Bad, start)) => hit_bad_cases.push(start),
            Some((Case::Ok, start)) => problems.push(format!(
                "{}:{line}: diagnostic in the `# ok` case of line {start}: {}",
                file.name, diagnostic.message
            )),
            None => problems.push(format!(
                "{}:{line}: diagnostic outside any case: {}",
                file.name, diagnostic.message
            )),
        }
    }
    for (index, line) in file.text.lines().enumerate() {
        let is_bad_marker = line.trim_start().starts_with("# bad:");
        if is_bad_marker && !hit_bad_cases.contains(&(index + 1)) {
            problems.push(format!(
                "{}:{}: `# bad` case without a diagnostic: {line}",
                file.name,
                index + 1
            ));
        }
    }
    problems
}

/// Runs a rule on its fixtures, asserts the cases, returns the rendered output.
fn run_fixture(id: &str) -> String {
    let rule = rule(id);
    let files = fixture_files(id);
    assert!(!files.is_empty(), "rule `{id}` has no fixture");
    let mut rendered = String::new();
    let mut problems = Vec::new();
    let mut total = 0;
    let mut has_ok_case = false;
    for path in &files {
        let name = path.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(crate_root().join(path)).expect("fixture readable");
        has_ok_case |= text.lines().any(|l| l.trim_start().starts_with("# ok:"));
        let (source, diagnostics) = run_rule(rule, &name, &text, target_of(&text));
        total += diagnostics.len();
        problems.extend(check_cases(&source, &diagnostics));
        rendered.push_str(&format!("==> {name} ({} diagnostics)\n", diagnostics.len()));
        rendered.push_str(&capable::report::human::render(
            &source,
            &diagnostics,
            false,
        ));
        rendered.push('\n');
    }
    assert!(total > 0, "rule `{id}` flags nothing in its fixture");
    assert!(has_ok_case, "rule `{id}` has no `# ok` case");
    assert!(problems.is_empty(), "rule `{id}`:\n{}", problems.join("\n"));
    rendered
}

macro_rules! fixture_tests {
    ($($name:ident => $id:literal,)*) => {
        $(
            #[test]
            fn $name() {
                let rendered = run_fixture($id);
                insta::assert_snapshot!($id, rendered);
            }
        )*

        /// The ids covered by a fixture test above.
        const TESTED: &[&str] = &[$($id),*];
    };
}

fixture_tests! {
    literal_star => "literal-star",
    literal_plus => "literal-plus",
    deny_with_capabilities => "deny-with-capabilities",
    no_capabilities => "no-capabilities",
    duplicate_path => "duplicate-path",
    deprecated_policy_key => "deprecated-policy-key",
    kv2_missing_data_prefix => "kv2-missing-data-prefix",
    kv2_list_on_data => "kv2-list-on-data",
    kv2_parameters => "kv2-parameters",
    parameter_key_case_clash => "parameter-key-case-clash",
    parameters_unused => "parameters-unused",
    unknown_template_variable => "unknown-template-variable",
    create_without_update => "create-without-update",
    sudo_unneeded => "sudo-unneeded",
    expired_rule => "expired-rule",
    leading_slash => "leading-slash",
    grants_everything => "grants-everything",
    wildcard_mount => "wildcard-mount",
    sudo_wildcard => "sudo-wildcard",
    policy_admin => "policy-admin",
    token_create => "token-create",
    auth_role_admin => "auth-role-admin",
    identity_admin => "identity-admin",
    auth_method_admin => "auth-method-admin",
    audit_admin => "audit-admin",
    mount_admin => "mount-admin",
    plugin_admin => "plugin-admin",
    raw_storage => "raw-storage",
    seal_admin => "seal-admin",
    lease_revoke_prefix => "lease-revoke-prefix",
    broad_secret_access => "broad-secret-access",
    sudo_missing => "sudo-missing",
    unauthenticated_path => "unauthenticated-path",
    capability_unsupported => "capability-unsupported",
    unknown_endpoint => "unknown-endpoint",
    kv2_destroy => "kv2-destroy",
    pki_ca_admin => "pki-ca-admin",
    secrets_role_admin => "secrets-role-admin",
    transit_key_export => "transit-key-export",
}

#[test]
fn every_registered_rule_has_a_fixture_and_a_test() {
    for rule in RULES {
        let id = rule.meta().id;
        if ENGINE_RULES.contains(&id) {
            continue;
        }
        assert!(!fixture_files(id).is_empty(), "rule `{id}` has no fixture");
        assert!(
            TESTED.contains(&id),
            "rule `{id}` has no fixture test in tests/rules.rs"
        );
    }
    for id in TESTED {
        assert!(
            RULES.iter().any(|rule| rule.meta().id == *id),
            "`{id}` is not registered"
        );
    }
}

#[test]
fn every_fixture_belongs_to_a_registered_rule() {
    let folder = crate_root().join("fixtures/rules");
    for entry in std::fs::read_dir(folder).expect("fixtures/rules exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let id = name.strip_suffix(".hcl").unwrap_or(&name);
        assert!(
            RULES.iter().any(|rule| rule.meta().id == id),
            "fixtures/rules/{name} names no registered rule"
        );
    }
}

#[test]
fn ids_are_unique_kebab_case() {
    let mut seen = Vec::new();
    for rule in RULES {
        let id = rule.meta().id;
        let kebab = !id.is_empty()
            && id.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        assert!(kebab, "`{id}` is not kebab-case");
        assert!(
            !id.starts_with("no-") || id == "no-capabilities",
            "`{id}` names a fix, not what is flagged"
        );
        assert!(!seen.contains(&id), "`{id}` is registered twice");
        seen.push(id);
    }
}

#[test]
fn every_rule_documents_itself() {
    for rule in RULES {
        let meta = rule.meta();
        let doc = meta.documentation();
        let mut position = 0;
        for heading in HEADINGS {
            let found = doc[position..].find(heading);
            assert!(
                found.is_some(),
                "`{}`: missing or misplaced `{heading}`",
                meta.id
            );
            position += found.unwrap_or(0);
        }
        assert!(
            !meta.summary.is_empty() && !meta.summary.ends_with('.'),
            "`{}` summary",
            meta.id
        );
    }
}

/// The ```hcl blocks under a heading of a rule's documentation.
fn doc_examples(doc: &str, heading: &str) -> Vec<String> {
    let Some(start) = doc.find(heading) else {
        return Vec::new();
    };
    let section = &doc[start + heading.len()..];
    let section = section.find("\n## ").map_or(section, |end| &section[..end]);
    section
        .split("```hcl\n")
        .skip(1)
        .filter_map(|block| block.split_once("```").map(|(code, _)| code.to_string()))
        .collect()
}

/// Vault, unless only OpenBao accepts the snippet (OpenBao-only keys such as `expiration`).
fn doc_target(text: &str) -> Target {
    let source = Arc::new(SourceFile::new("doc.hcl", text));
    let vault = parse_policy(source, Target::Vault);
    if vault.policy.is_some() && !vault.diagnostics.iter().any(|d| d.is_invalid()) {
        Target::Vault
    } else {
        Target::OpenBao
    }
}

/// The documentation is honest: its example is flagged by the rule, its fix is not.
#[test]
fn documented_examples_are_flagged_and_fixes_are_clean() {
    let mut problems = Vec::new();
    for rule in RULES {
        let id = rule.meta().id;
        if ENGINE_RULES.contains(&id) {
            continue;
        }
        let doc = rule.meta().documentation();
        let examples = doc_examples(&doc, "## Example");
        let fixes = doc_examples(&doc, "## Use instead");
        if examples.is_empty() || fixes.is_empty() {
            problems.push(format!(
                "`{id}`: Example and Use instead need a ```hcl block"
            ));
            continue;
        }
        for example in examples {
            let (_, found) = run_rule(
                *rule,
                &format!("{id}-example.hcl"),
                &example,
                doc_target(&example),
            );
            if found.is_empty() {
                problems.push(format!("`{id}`: its Example is not flagged"));
            }
        }
        for fix in fixes {
            let (_, found) = run_rule(*rule, &format!("{id}-fix.hcl"), &fix, doc_target(&fix));
            if !found.is_empty() {
                problems.push(format!(
                    "`{id}`: its Use instead is flagged: {}",
                    found[0].message
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fixture_case_markers_are_read() {
    // The harness itself: an `ok` diagnostic and an unflagged `bad` case are both reported.
    let file = SourceFile::new(
        "t.hcl",
        "# bad: one\npath \"a\" {}\n# ok: two\npath \"b\" {}\n",
    );
    let at = |offset| Diagnostic::error("x", capable::span::Span::new(offset, offset + 1), "m");
    assert!(check_cases(&file, &[at(16)]).is_empty());
    assert_eq!(check_cases(&file, &[at(40)]).len(), 2);
    assert!(Path::new(&crate_root()).join("fixtures/rules").is_dir());
}

/// The real policies of `../shared/corpus/policies`: no rule panics on any of them, the count
/// of findings and of flagged files per rule is snapshotted (read them when it changes), and
/// no rule fires on most files: a rule that does is broken.
#[test]
fn corpus_findings_per_rule() {
    let corpus = crate_root().join("../shared/corpus/policies");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("the corpus is at ../shared/corpus/policies")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    let mut valid_files = 0;
    let mut per_rule: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for path in &paths {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let source = Arc::new(SourceFile::new(name.as_ref(), text));
        let Some(policy) = parse_policy(source, Target::Vault).policy else {
            continue;
        };
        valid_files += 1;
        let index = PolicyIndex::new(&policy, Target::Vault).expect("one policy builds an ACL");
        let mounts = Mounts::default();
        let ctx = index.context(&mounts);
        for rule in RULES {
            let mut found = Vec::new();
            rule.check_policy(&ctx, &mut found);
            if found.is_empty() {
                continue;
            }
            let entry = per_rule.entry(rule.meta().id).or_default();
            entry.0 += found.len();
            entry.1 += 1;
        }
    }
    assert!(
        valid_files > 150,
        "only {valid_files} corpus policies parsed"
    );
    let mut table = format!("{valid_files} valid policies\nrule: findings in files\n");
    for (id, (findings, files)) in &per_rule {
        table.push_str(&format!("{id}: {findings} in {files}\n"));
        assert!(
            *files * 2 < valid_files,
            "`{id}` fires on {files} of {valid_files} real policies"
        );
    }
    insta::assert_snapshot!("corpus-findings-per-rule", table);
}
