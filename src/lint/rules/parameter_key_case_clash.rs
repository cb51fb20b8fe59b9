//! ## What it does
//! Flags two keys of one `allowed_parameters` (or `denied_parameters`) block that are spelt
//! differently but equal once lower-cased, such as `Foo` and `foo`.
//!
//! ## Why is this bad?
//! OpenBao lower-cases parameter keys when it stores a policy, and stores them into a Go map.
//! Both keys land on the same map entry, and which key's values survive depends on Go's
//! randomised map iteration order. Observed with OpenBao 2.7.2: writing the same policy again
//! and again gave a request allowed, allowed, denied, allowed, ... The policy's meaning
//! changes from one write to the next, and a test that passed once proves nothing.
//! `required_parameters` is a plain list, so it is not affected.
//!
//! ## Example
//! ```hcl
//! path "auth/token/create" {
//!   capabilities = ["update"]
//!   allowed_parameters = {
//!     "TTL" = ["1h"]
//!     "ttl" = ["2h"]
//!   }
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "auth/token/create" {
//!   capabilities = ["update"]
//!   allowed_parameters = {
//!     "ttl" = ["1h", "2h"]
//!   }
//! }
//! ```
//!
//! ## References
//! - spec section 1.6 (parameter keys are lower-cased when stored)
//! - spec section 3.7 (parameter matching)

use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct ParameterKeyCaseClash;

impl Rule for ParameterKeyCaseClash {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "parameter-key-case-clash",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "parameter keys equal once lower-cased keep one key's values at random",
            source: include_str!("parameter_key_case_clash.rs"),
        }
    }

    /// Cost: O(clashes); the lowering found them while building the parameter maps.
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        // Expired rules are dropped by OpenBao before their parameters matter.
        let live = ctx.policy.rules.iter().filter(|rule| !rule.expired);
        for clash in live.flat_map(|rule| &rule.extra().param_case_clashes) {
            let line = ctx.policy.source.line(clash.first.span.start);
            let message = format!(
                "`{}` and `{}` in `{}` are the same parameter once lower-cased: OpenBao keeps \
                 either one's values at random",
                clash.first.value, clash.second.value, clash.block
            );
            out.push(
                diagnostic(&meta, clash.second.span, message)
                    .with_label(format!(
                        "same key as `{}` on line {line}",
                        clash.first.value
                    ))
                    .with_help(help(clash.block)),
            );
        }
    }
}

fn help(block: &str) -> &'static str {
    if block == "denied_parameters" {
        return "keep one key, written in lower case, with every denied value";
    }
    "keep one key, written in lower case, with every allowed value"
}
