//! `capable check` on Terraform files: the Terraform notes, the parse and validation
//! diagnostics of every extracted policy and, for policies the target accepts, the lints,
//! with the configuration and the file's `capable:ignore` comments applied: an ignore comment
//! inside a policy heredoc applies to the path block below it, one above a `rule` block of a
//! `vault_policy_document` to that rule. Cost: one ACL build per policy plus the rules' own
//! costs, or with the findings cache on ([`crate::cache`]) one SHA-256 of what the
//! findings depend on and one entry read when that is unchanged.

use std::sync::Arc;

use super::TerraformFile;
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::lint::engine::{apply_levels, check_file, lint_policy, sort_diagnostics};
use crate::lint::settings::LintSettings;
use crate::lint::suppress::{self, Block};
use crate::source::SourceFile;
use crate::workspace::Workspace;

/// Diagnostics of every Terraform file of the workspace, and of the policy files their
/// `file("...")` calls read.
pub fn check(workspace: &Workspace) -> Vec<FileDiagnostics> {
    use rayon::prelude::*;
    let checker = Checker::new(workspace);
    // Each `.tf` file on its own, on all cores; the order is the files' (indexed collect).
    let per_file: Vec<Vec<FileDiagnostics>> = workspace
        .terraform
        .par_iter()
        .map(|terraform| checker.check_one(terraform))
        .collect();
    per_file.into_iter().flatten().collect()
}

/// What every Terraform file's check shares, made once: the lint settings and, with the
/// findings cache on, the cache and the settings' fingerprint.
struct Checker<'w> {
    workspace: &'w Workspace,
    settings: LintSettings<'w>,
    cache: Option<(crate::cache::Cache, String)>,
}

impl<'w> Checker<'w> {
    fn new(workspace: &'w Workspace) -> Checker<'w> {
        let settings = workspace.config.lint_settings();
        let cache = crate::cache::Cache::for_config(&workspace.config).map(|cache| {
            let fingerprint = crate::cache::settings_fingerprint(&settings);
            (cache, fingerprint)
        });
        Checker {
            workspace,
            settings,
            cache,
        }
    }

    /// A `.tf` file's findings, then those of each policy file it reads with `file()`.
    fn check_one(&self, terraform: &TerraformFile) -> Vec<FileDiagnostics> {
        let mut results = vec![self.check_terraform_file(terraform)];
        for policy in &terraform.policies {
            if Arc::ptr_eq(&policy.source, &terraform.file) {
                continue;
            }
            let check = || {
                check_file(
                    &policy.source,
                    &policy.parsed.diagnostics,
                    policy.parsed.policy.as_ref(),
                    self.workspace.target,
                    &self.settings,
                )
            };
            results.push(FileDiagnostics {
                file: policy.source.clone(),
                diagnostics: self.cached(&policy.source, || vec![inputs_of(policy)], check),
            });
        }
        results
    }

    fn check_terraform_file(&self, terraform: &TerraformFile) -> FileDiagnostics {
        let inputs = || {
            let mut inputs = vec![format!("{:?}", terraform.heredocs).into_bytes()];
            inputs.push(serde_json::to_vec(&terraform.diagnostics).unwrap_or_default());
            inputs.extend(own_policies(terraform).map(inputs_of));
            inputs
        };
        let diagnostics = self.cached(&terraform.file, inputs, || {
            terraform_findings(self.workspace, &self.settings, terraform)
        });
        FileDiagnostics {
            file: terraform.file.clone(),
            diagnostics,
        }
    }

    /// `check`'s findings from the cache when everything they depend on besides `source`'s
    /// name and text is in `inputs()` and unchanged, else `check()` (then stored). Without
    /// the cache, `check()` (and `inputs` is not computed).
    fn cached(
        &self,
        source: &SourceFile,
        inputs: impl FnOnce() -> Vec<Vec<u8>>,
        check: impl FnOnce() -> Vec<Diagnostic>,
    ) -> Vec<Diagnostic> {
        let Some((cache, fingerprint)) = &self.cache else {
            return check();
        };
        let context = format!(
            "terraform\0{}\0{}\0{fingerprint}",
            source.name,
            crate::cache::digest_hex(&inputs()),
        );
        cache.findings_or(source, self.workspace.target, &context, check)
    }
}

/// What the findings about one extracted policy depend on besides its file's text: its name,
/// the text sent to Vault, and its parse (model, with namespace and template switches, and
/// diagnostics), serialized as the cache stores them. Cost: O(size of the model).
fn inputs_of(policy: &super::EmbeddedPolicy) -> Vec<u8> {
    let mut bytes = format!(
        "{}\0{}\0{}\0",
        policy.name, policy.text, policy.interpolated
    )
    .into_bytes();
    let _ = serde_json::to_writer(&mut bytes, &policy.parsed.policy);
    bytes.push(0);
    let _ = serde_json::to_writer(&mut bytes, &policy.parsed.diagnostics);
    bytes
}

/// The policies written in the `.tf` file itself (not read with `file()`).
fn own_policies(terraform: &TerraformFile) -> impl Iterator<Item = &super::EmbeddedPolicy> {
    terraform
        .policies
        .iter()
        .filter(|policy| Arc::ptr_eq(&policy.source, &terraform.file))
}

fn terraform_findings(
    workspace: &Workspace,
    config: &LintSettings<'_>,
    terraform: &TerraformFile,
) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = apply_levels(terraform.diagnostics.clone(), config);
    let mut blocks = Vec::new();
    for policy in own_policies(terraform) {
        diagnostics.extend(apply_levels(policy.parsed.diagnostics.clone(), config));
        let Some(model) = &policy.parsed.policy else {
            continue;
        };
        diagnostics.extend(lint_policy(model, workspace.target, config));
        blocks.extend(model.rules.iter().map(|rule| Block {
            span: rule.block_span,
        }));
    }
    let view = ignore_view(terraform);
    let mut diagnostics = suppress::apply(&view, Some(&blocks), diagnostics, config);
    sort_diagnostics(&mut diagnostics);
    diagnostics
}

/// The `.tf` text as the suppression scanner should see it: the `<<EOT` openers and `EOT`
/// closers of policy heredocs blanked (same length, same lines), so the comments of the
/// policy bodies are read as comments. Cost: O(n).
fn ignore_view(terraform: &TerraformFile) -> SourceFile {
    let mut bytes = terraform.file.text.clone().into_bytes();
    for (whole, body) in &terraform.heredocs {
        for range in [whole.start..body.start, body.end..whole.end] {
            for byte in bytes.get_mut(range).unwrap_or_default() {
                if *byte != b'\n' {
                    *byte = b' ';
                }
            }
        }
    }
    // Only whole characters were replaced by spaces, byte by byte: still UTF-8.
    let text = String::from_utf8(bytes).unwrap_or_else(|_| terraform.file.text.clone());
    SourceFile::new(terraform.file.name.clone(), text)
}
