//! `capable check` on Terraform files: the Terraform notes, the parse and validation
//! diagnostics of every extracted policy and, for policies the target accepts, the lints,
//! with the configuration and the file's `capable:ignore` comments applied (an ignore comment
//! above a `rule` block of a `vault_policy_document` applies to that rule; comments inside a
//! heredoc are not read). Cost: one ACL build per policy plus the rules' own costs.

use std::sync::Arc;

use super::TerraformFile;
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::lint::engine::{apply_levels, check_file, lint_policy, sort_diagnostics};
use crate::lint::suppress::{self, Block};
use crate::workspace::Workspace;

/// Diagnostics of every Terraform file of the workspace, and of the policy files their
/// `file("...")` calls read.
pub fn check(workspace: &Workspace) -> Vec<FileDiagnostics> {
    let mut results = Vec::new();
    for terraform in &workspace.terraform {
        results.push(check_terraform_file(workspace, terraform));
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
                    &workspace.config,
                ),
            });
        }
    }
    results
}

fn check_terraform_file(workspace: &Workspace, terraform: &TerraformFile) -> FileDiagnostics {
    let config = &workspace.config;
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
    let mut diagnostics = suppress::apply(&terraform.file, Some(&blocks), diagnostics, config);
    sort_diagnostics(&mut diagnostics);
    FileDiagnostics {
        file: terraform.file.clone(),
        diagnostics,
    }
}
