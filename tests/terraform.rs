//! Policies kept in Terraform (`fixtures/terraform`, `../shared/corpus/terraform`):
//! `capable check` reads `.tf` files, checks every `vault_policy` and `vault_policy_document`
//! in them, and points its diagnostics at the exact token of the `.tf` file. The corpus
//! policies are also written to a real OpenBao: each one it refuses gets an `invalid-`
//! diagnostic from us, and each one it accepts gets none.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capable::config::Config;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/terraform");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/terraform")
}

/// Runs the built binary in the fixture folder; returns (exit code, stdout, stderr).
fn capable(args: &[&str]) -> (i32, String, String) {
    support::cli::capable(&fixtures(), args)
}

/// `(rule, line, column, end_line, end_column)` of every diagnostic, from `--format json`.
fn positions(args: &[&str]) -> Vec<(String, u64, u64, u64, u64)> {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let (_, stdout, stderr) = capable(&all);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}\n{stderr}"));
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let number = |key: &str| d[key].as_u64().expect("position");
            (
                d["rule"].as_str().expect("rule").to_string(),
                number("line"),
                number("column"),
                number("end_line"),
                number("end_column"),
            )
        })
        .collect()
}

fn human(file: &str) -> String {
    let (code, stdout, stderr) = capable(&["check", "--no-color", file]);
    assert_ne!(code, 3, "internal error on {file}: {stderr}");
    format!("exit: {code}\n{stdout}{stderr}")
}

// ---- diagnostics point into the .tf file ---------------------------------------------------

#[test]
fn heredoc_error_points_at_the_token_in_the_tf_file() {
    // `"raed"` on line 15, columns 27..33 of heredoc.tf.
    assert_eq!(
        positions(&["heredoc.tf"]),
        [("invalid-capability".to_string(), 15, 27, 15, 33)]
    );
}

#[test]
fn flush_heredoc_maps_stripped_indentation_back() {
    // `<<-EOT` strips four spaces; `"lsit"` is still at column 31 of line 7 in the file.
    assert_eq!(
        positions(&["flush.tf"]),
        [("invalid-capability".to_string(), 7, 31, 7, 37)]
    );
}

#[test]
fn quoted_policy_maps_backslash_escapes_back() {
    // `\"wrte\"` (with its escapes) is columns 69..77 of line 3.
    assert_eq!(
        positions(&["quoted.tf"]),
        [("invalid-capability".to_string(), 3, 69, 3, 77)]
    );
}

#[test]
fn dollar_escape_does_not_shift_later_spans() {
    // `$${` is sent as `${`: one byte shorter, yet `"bad"` is at its own column 60.
    assert_eq!(
        positions(&["escape.tf"]),
        [("invalid-capability".to_string(), 4, 60, 4, 65)]
    );
}

#[test]
fn policy_document_diagnostics_point_at_rule_attributes() {
    let found = positions(&["document.tf"]);
    let expected = [
        // `key = "owner"` of the `allowed_parameter` block (a lint on an accepted document).
        ("kv2-parameters", 8, 15, 8, 22),
        // `"updte"` in the `capabilities` list of the `admin` document.
        ("invalid-capability", 28, 29, 28, 36),
        // The `max_wrapping_ttl` value.
        ("invalid-ttl", 36, 24, 36, 34),
        // A computed `path` is not checked.
        ("terraform-interpolated-policy", 42, 20, 42, 47),
    ];
    let expected: Vec<(String, u64, u64, u64, u64)> = expected
        .iter()
        .map(|(rule, a, b, c, d)| (rule.to_string(), *a, *b, *c, *d))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn empty_heredoc_is_empty_and_tabs_are_stripped() {
    // An empty heredoc is refused by Vault as an empty policy (pointing at `<<EOT`) and does
    // not swallow the next resource, whose `<<-` body is indented with a tab; `"rd"` is at
    // column 20 of line 11 (columns count characters).
    assert_eq!(
        positions(&["empty.tf"]),
        [
            ("invalid-empty-policy".to_string(), 3, 12, 3, 14),
            ("invalid-capability".to_string(), 11, 20, 11, 24),
        ]
    );
}

#[test]
fn ignore_comments_work_in_heredocs_and_documents() {
    // Line 4 (inside the heredoc) suppresses the `literal-star` of line 5, line 16 (above a
    // `rule` block) the `create-without-update` of that rule; the ignore on line 9 suppresses
    // nothing, so the `literal-star` of line 9 stays and the ignore is reported.
    let found: Vec<(String, u64, u64)> = positions(&["suppress.tf"])
        .into_iter()
        .map(|(rule, line, column, _, _)| (rule, line, column))
        .collect();
    assert_eq!(
        found,
        [
            ("literal-star".to_string(), 9, 29),
            ("unused-ignore".to_string(), 9, 58),
        ]
    );
}

// ---- interpolation, file(), unparsed files --------------------------------------------------

#[test]
fn interpolated_policies_get_a_note_and_no_false_error() {
    let found = positions(&["interpolated.tf"]);
    let rules: Vec<(&str, u64, u64)> = found
        .iter()
        .map(|(rule, line, column, _, _)| (rule.as_str(), *line, *column))
        .collect();
    assert_eq!(
        rules,
        [
            ("terraform-interpolated-policy", 4, 7),
            ("terraform-interpolated-policy", 13, 1),
            ("terraform-interpolated-policy", 25, 18),
            ("terraform-interpolated-policy", 32, 12),
        ]
    );
    let (code, _, _) = capable(&["check", "interpolated.tf"]);
    assert_eq!(code, 0, "notes alone do not fail the check");
}

#[test]
fn file_reference_is_checked_once() {
    // Given the folder, `policies/app.hcl` is a workspace file and is not checked again
    // through `file()`; given only `main.tf`, it is read through `file()` once, though two
    // resources name it.
    let expected = vec![
        ("terraform-policy-file".to_string(), 8, 17),
        ("literal-star".to_string(), 1, 23),
    ];
    for args in [&["file_ref"][..], &["file_ref/main.tf"][..]] {
        let found: Vec<(String, u64, u64)> = positions(args)
            .into_iter()
            .map(|(rule, line, column, _, _)| (rule, line, column))
            .collect();
        assert_eq!(found, expected, "{args:?}");
    }
}

#[test]
fn unparsable_terraform_is_one_warning_not_a_crash() {
    let found = positions(&["unparsed.tf"]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "terraform-unparsed");
    let (code, _, _) = capable(&["check", "unparsed.tf"]);
    assert_eq!(code, 1);
}

#[test]
fn policies_are_named_by_the_resource() {
    let workspace = Workspace::load_in(&fixtures(), &[PathBuf::from(".")], None, None)
        .expect("workspace loads");
    let names: Vec<&str> = workspace.policies.keys().map(String::as_str).collect();
    // `app-reader` is the literal `name`; `app` comes from the document through the resource;
    // `app` the file stem (policies/app.hcl) is loaded first and keeps the name. Refused and
    // interpolated policies are not in the map. `doc` is a document no resource references,
    // named by its label.
    assert_eq!(names, ["app", "app-reader", "doc", "ignored"]);
    assert_eq!(workspace.policies["doc"].source.name, "suppress.tf");
    assert_eq!(
        workspace.policies["app"].source.name,
        "file_ref/policies/app.hcl"
    );
    let reader = &workspace.policies["app-reader"];
    assert_eq!(reader.source.name, "heredoc.tf");
    let (line, column) = reader.source.line_col(reader.rules[0].pattern_span.start);
    assert_eq!((line, column), (4, 6));
}

#[test]
fn human_output_snapshots() {
    for file in [
        "heredoc.tf",
        "flush.tf",
        "quoted.tf",
        "escape.tf",
        "document.tf",
        "empty.tf",
        "suppress.tf",
        "interpolated.tf",
        "unparsed.tf",
        "file_ref",
    ] {
        let name = file.replace(['.', '/'], "_");
        insta::assert_snapshot!(format!("terraform_{name}"), human(file));
    }
}

// ---- the corpus ---------------------------------------------------------------------------

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(CORPUS);
    assert!(dir.is_dir(), "the corpus is missing at {CORPUS}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// One workspace per corpus file (several share policy names).
fn corpus_workspace(path: &Path, target: Target) -> Workspace {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    let source = Arc::new(SourceFile::new(name, text));
    Workspace::from_sources(Config::default(), target, vec![source]).expect("workspace")
}

#[test]
fn every_corpus_file_is_read_without_panic() {
    let mut policies = 0;
    for path in corpus_files() {
        for target in [Target::Vault, Target::OpenBao] {
            let workspace = corpus_workspace(&path, target);
            let results = capable::terraform::check::check(&workspace);
            let _ = capable::report::render(capable::report::Format::Human, &results, false);
            let found: usize = workspace
                .terraform
                .iter()
                .map(|file| file.policies.len() + file.diagnostics.len())
                .sum();
            // No policy is dropped silently: a file with a policy resource or document
            // yields a policy or says why not.
            let text = &workspace.files[0].text;
            let defines = [
                "resource \"vault_policy\"",
                "resource vault_policy ",
                "data \"vault_policy_document\"",
            ]
            .iter()
            .any(|opening| text.contains(opening));
            assert!(
                !defines || found > 0,
                "{}: nothing extracted",
                path.display()
            );
            if target == Target::Vault {
                policies += found;
            }
        }
    }
    assert!(
        policies >= 20,
        "only {policies} policies and notes extracted"
    );
}

#[test]
fn truncated_and_edited_terraform_never_panics() {
    // Every prefix of every corpus file (cut every 5 bytes on a character boundary), and each
    // with an unterminated heredoc or a stray `$${`: parse errors are findings, not crashes.
    for path in corpus_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let cuts = (0..text.len())
            .step_by(5)
            .filter(|cut| text.is_char_boundary(*cut));
        for cut in cuts {
            for suffix in ["", "\n<<EOT\n", "$${", "\\u00"] {
                let edited = format!("{}{suffix}", &text[..cut]);
                let source = Arc::new(SourceFile::new("cut.tf", edited));
                let workspace =
                    Workspace::from_sources(Config::default(), Target::Vault, vec![source])
                        .expect("workspace");
                let _ = capable::terraform::check::check(&workspace);
            }
        }
    }
}

#[test]
fn openbao_accepts_exactly_the_policies_we_accept() {
    let bao = support::bao::Bao::start();
    let mut checked = 0;
    let mut refused = 0;
    let mut sources: Vec<(String, Workspace)> = corpus_files()
        .iter()
        .map(|path| {
            (
                path.display().to_string(),
                corpus_workspace(path, Target::OpenBao),
            )
        })
        .collect();
    // The fixtures add policies OpenBao refuses.
    for file in [
        "heredoc.tf",
        "flush.tf",
        "quoted.tf",
        "escape.tf",
        "document.tf",
    ] {
        sources.push((
            file.to_string(),
            corpus_workspace(&fixtures().join(file), Target::OpenBao),
        ));
    }
    for (file, workspace) in &sources {
        let literal = workspace
            .terraform
            .iter()
            .flat_map(|terraform| &terraform.policies)
            .filter(|policy| !policy.interpolated);
        for policy in literal {
            let answer = bao.put_policy("tf-oracle", &policy.text);
            let accepted = answer.status == 204;
            let ours = policy
                .parsed
                .diagnostics
                .iter()
                .filter(|d| d.is_invalid())
                .map(|d| d.message.clone())
                .collect::<Vec<_>>();
            assert_eq!(
                accepted,
                ours.is_empty(),
                "{file}: policy `{}`: OpenBao {} ({}), we said {ours:?}\n{}",
                policy.name,
                if accepted { "accepts" } else { "refuses" },
                answer.errors(),
                policy.text
            );
            checked += 1;
            refused += usize::from(!accepted);
        }
    }
    assert!(checked >= 20, "only {checked} policies written");
    assert!(refused >= 4, "only {refused} refused policies exercised");
}

// ---- Terraform as inventory -----------------------------------------------------------------

fn inventory_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory/terraform")
}

/// Every role, group and entity of a workspace with its effective policies, and its mounts.
fn inventory_summary(workspace: &Workspace) -> String {
    use capable::inventory::{Inventory, Subject};
    let mut lines = Vec::new();
    match Inventory::new(&workspace.config, &workspace.policies) {
        Ok(inventory) => {
            for subject in inventory.subjects() {
                let policies = inventory.policies_of(&subject).join(", ");
                let extra = match &subject {
                    Subject::Role(name) => {
                        let (how, entity) = inventory.login_entity(name).unwrap();
                        format!(" login {how:?} -> {entity}")
                    }
                    _ => String::new(),
                };
                lines.push(format!("{subject}: [{policies}]{extra}"));
            }
        }
        Err(errors) => {
            for file in errors {
                for d in file.diagnostics {
                    let (line, column) = file.file.line_col(d.span.start);
                    lines.push(format!(
                        "error {}:{line}:{column} {} {}",
                        file.file.name, d.rule, d.message
                    ));
                }
            }
        }
    }
    if workspace.config.mounts.is_declared() {
        for mount in workspace.config.mounts.iter() {
            lines.push(format!(
                "mount {} {} {:?}",
                mount.path, mount.engine, mount.kv_version
            ));
        }
    }
    for terraform in &workspace.terraform {
        for d in &terraform.diagnostics {
            if d.rule == "terraform-computed-inventory" {
                let (line, column) = terraform.file.line_col(d.span.start);
                lines.push(format!(
                    "note {}:{line}:{column} {}",
                    terraform.file.name, d.message
                ));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn terraform_resources_are_the_inventory_with_references_resolved() {
    let workspace = Workspace::load_in(&inventory_dir(), &[], None, None).expect("workspace");
    let summary = inventory_summary(&workspace);
    // References resolve: the role's policy, the group's member entity, the backend path.
    assert!(
        summary.contains("role `k8s/app`: [app-reader, default]"),
        "{summary}"
    );
    assert!(
        summary.contains("role `approle/ci`: [default, ops]"),
        "{summary}"
    );
    assert!(
        summary.contains("entity `alice`: [default, app-reader, ops]"),
        "{summary}"
    );
    assert!(summary.contains("mount kv/ kv Some(2)"), "{summary}");
    assert!(
        summary.contains("mount auth/k8s/ kubernetes None"),
        "{summary}"
    );
    insta::assert_snapshot!("terraform_inventory_fixture", summary);
}

#[test]
fn queries_work_on_terraform_declared_roles() {
    let dir = inventory_dir();
    let (code, stdout, stderr) = support::cli::capable(&dir, &["reach", "--role", "k8s/app"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("`kv/data/app/*`"), "{stdout}");
    assert!(stdout.contains("main.tf:15:6"), "{stdout}");
    let (code, stdout, stderr) = support::cli::capable(&dir, &["who-can", "read", "kv/data/ops/x"]);
    assert_eq!(code, 0, "{stderr}");
    for subject in ["role `approle/ci`", "group `ops-team`", "entity `alice`"] {
        assert!(stdout.contains(subject), "{subject} missing:\n{stdout}");
    }
    assert!(!stdout.contains("k8s/app"), "{stdout}");
    let (code, stdout, stderr) = support::cli::capable(
        &dir,
        &["explain", "--role", "ci", "update", "kv/data/ops/x"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ALLOWED: update"), "{stdout}");
    let (code, stdout, _) = support::cli::capable(
        &dir,
        &["explain", "--role", "k8s/app", "read", "kv/data/ops/x"],
    );
    assert_eq!(code, 0);
    assert!(stdout.starts_with("DENIED"), "{stdout}");
}

#[test]
fn a_role_in_capable_yaml_and_terraform_is_an_error_at_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(inventory_dir().join("main.tf"), dir.path().join("main.tf")).unwrap();
    std::fs::write(
        dir.path().join("capable.yaml"),
        "roles:\n  approle/ci:\n    policies: [ops]\n",
    )
    .unwrap();
    let (code, stdout, stderr) =
        support::cli::capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let duplicates: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("duplicate-inventory"))
        .collect();
    assert_eq!(duplicates.len(), 2, "{stdout}");
    assert!(duplicates[0].starts_with("capable.yaml:2:3"), "{stdout}");
    assert!(duplicates[1].starts_with("main.tf:39:20"), "{stdout}");
    // The queries refuse the inventory rather than pick one.
    let (code, _, stderr) = support::cli::capable(dir.path(), &["reach", "--role", "ci"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("main.tf:39:20") || stderr.contains("main.tf:39"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_policy_in_terraform_points_into_the_tf_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("roles.tf"),
        "resource \"vault_approle_auth_backend_role\" \"ci\" {\n  role_name      = \"ci\"\n  token_policies = [\"opz\"]\n}\n",
    )
    .unwrap();
    let (code, stdout, stderr) =
        support::cli::capable(dir.path(), &["check", "--format", "concise"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("roles.tf:3:21: error[unknown-policy]") || stdout.contains("roles.tf:3:21"),
        "{stdout}"
    );
}

#[test]
fn the_corpus_inventory_is_read() {
    let mut found = Vec::new();
    for path in corpus_files() {
        let workspace = corpus_workspace(&path, Target::Vault);
        let summary = inventory_summary(&workspace);
        if !summary.is_empty() {
            found.push(format!(
                "== {}\n{summary}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    let all = found.join("\n");
    assert!(all.contains("role `approle/aws-approle`"), "{all}");
    insta::assert_snapshot!("terraform_corpus_inventory", all);
}
