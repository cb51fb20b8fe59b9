//! ## What it does
//! Notes a Terraform-managed policy (`resource "vault_policy"` or
//! `data "vault_policy_document"`) whose text Terraform computes: a heredoc or string with
//! `${...}` interpolations or `%{...}` directives, a `vault_policy_document` with non-literal
//! values, or a policy taken from a variable, a local or a function such as `templatefile`.
//!
//! ## Why is this bad?
//! capable checks the policy Vault will receive, and only Terraform knows the computed parts.
//! A policy with `${...}` is checked with the interpolation as literal text when that text is
//! accepted (findings on interpolated paths may not apply to the real values); a policy whose
//! literal text is refused, or that uses directives or expressions, is not checked at all.
//! It is not wrong in itself, so this is a note, not a warning.
//!
//! ## Example
//! ```hcl
//! resource "vault_policy" "app" {
//!   name   = "app"
//!   policy = <<EOT
//! path "${var.mount}/data/app/*" {
//!   capabilities = ["read"]
//! }
//! EOT
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # A literal policy is checked exactly; keep the mount fixed, or check the rendered text.
//! resource "vault_policy" "app" {
//!   name   = "app"
//!   policy = <<EOT
//! path "secret/data/app/*" {
//!   capabilities = ["read"]
//! }
//! EOT
//! }
//! ```

use crate::diag::Severity;
use crate::lint::{Category, Rule, RuleMeta};

/// Reported while reading Terraform files (`crate::terraform`), not per policy.
pub struct TerraformInterpolatedPolicy;

impl Rule for TerraformInterpolatedPolicy {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "terraform-interpolated-policy",
            severity: Severity::Info,
            category: Category::Correctness,
            summary:
                "a Terraform policy computed by Terraform is checked only partly, or not at all",
            source: include_str!("terraform_interpolated_policy.rs"),
        }
    }
}
