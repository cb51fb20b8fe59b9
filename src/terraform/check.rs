//! `capable check` on Terraform files: the Terraform notes, the parse and validation
//! diagnostics of every extracted policy and, for policies the target accepts, the lints,
//! with the configuration and the file's `capable:ignore` comments applied: an ignore comment
//! inside a policy heredoc applies to the path block below it, one above a `rule` block of a
//! `vault_policy_document` to that rule. Cost: one ACL build per policy plus the rules' own
//! costs.

use std::sync::Arc;

use super::TerraformFile;
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::lint::engine::{apply_levels, check_file, lint_policy, sort_diagnostics};
use crate::lint::suppress::{self, Block};
use crate::source::SourceFile;
use crate::workspace::Workspace;

/// Diagnostics of every Terraform file of the workspace, and of the policy files their
/// `file("...")` calls read.
pub fn check(workspace: &Workspace) -> Vec<FileDiagnostics> {
    use rayon::prelude::*;
    // Each `.tf` file on its own, on all cores; the order is the files' (indexed collect).
    let per_file: Vec<Vec<FileDiagnostics>> = workspace
        .terraform
        .par_iter()
        .map(|terraform| check_one(workspace, terraform))
        .collect();
    per_file.into_iter().flatten().collect()
}

/// A `.tf` file's findings, then those of each policy file it reads with `file()`.
fn check_one(workspace: &Workspace, terraform: &TerraformFile) -> Vec<FileDiagnostics> {
    let mut results = vec![check_terraform_file(workspace, terraform)];
    for policy in &terraform.policies {
        if Arc::ptr_eq(&policy.source, &terraform.file) {
            continue;
        }
        results.push(FileDiagnostics {
            file: policy.source.clone(),
            diagnostics: check_file(
                &policy.source,
                &policy.parsed.diagnostics,
                policy.parsed.policy.as_ref(),
                workspace.target,
                &workspace.config.lint_settings(),
            ),
        });
    }
    results
}

fn check_terraform_file(workspace: &Workspace, terraform: &TerraformFile) -> FileDiagnostics {
    let config = &workspace.config.lint_settings();
    let mut diagnostics: Vec<Diagnostic> = apply_levels(terraform.diagnostics.clone(), config);
    let mut blocks = Vec::new();
    let own = terraform
        .policies
        .iter()
        .filter(|policy| Arc::ptr_eq(&policy.source, &terraform.file));
    for policy in own {
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
    FileDiagnostics {
        file: terraform.file.clone(),
        diagnostics,
    }
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
