//! `who-can`: every role, group and entity of the inventory, and whether it may make one
//! request, with the deciding rule.
//!
//! Each subject's ACL is built from its effective policies (a role's token policies,
//! `default` unless disabled, and its entity's and groups' policies; templated paths resolved
//! against its identity) and asked once. Cost: one ACL merge and one lookup per subject.

use serde_json::{json, Value};

use crate::acl::{Decision, MergedRule, Request};
use crate::inventory::{Inventory, Subject};
use crate::target::Target;

/// JSON output version.
pub const JSON_VERSION: u32 = 1;

/// One subject's answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub subject: Subject,
    pub policies: Vec<String>,
    /// The decision, or why the subject's ACL cannot be built.
    pub decision: Result<Decision, String>,
}

impl Answer {
    pub fn allowed(&self) -> bool {
        self.decision
            .as_ref()
            .is_ok_and(|decision| decision.allowed)
    }
}

/// Asks every subject of the inventory (roles, then groups, then entities, each sorted).
pub fn who_can(inventory: &Inventory, target: Target, request: &Request) -> Vec<Answer> {
    inventory
        .subjects()
        .into_iter()
        .map(|subject| {
            let decision = inventory
                .acl_for(&subject, target)
                .map(|acl| acl.authorize(request))
                .map_err(|error| error.to_string());
            Answer {
                policies: inventory.policies_of(&subject),
                subject,
                decision,
            }
        })
        .collect()
}

fn rule_words(rule: &MergedRule) -> String {
    let sources: Vec<String> = rule
        .sources
        .iter()
        .map(|source| {
            let (line, column) = source.file.line_col(source.pattern_span.start);
            format!(
                "`{}` at {}:{line}:{column}",
                source.policy, source.file.name
            )
        })
        .collect();
    format!("`{}` in {}", rule.pattern.normalized, sources.join(", "))
}

/// Human text: who may, with the deciding rule; with `all`, also who may not, and why.
pub fn render_human(request: &Request, target: Target, answers: &[Answer], all: bool) -> String {
    let mut out = format!(
        "who can {} `{}` (target {target})\n",
        request.operation, request.path
    );
    let allowed: Vec<&Answer> = answers.iter().filter(|a| a.allowed()).collect();
    if allowed.is_empty() {
        out.push_str("\nnobody in the inventory\n");
    }
    for answer in &allowed {
        let Ok(decision) = &answer.decision else {
            continue;
        };
        let how = match &decision.explanation.winner {
            Some(rule) => rule_words(rule),
            None if decision.explanation.root => "the `root` policy".to_string(),
            None => "no rule".to_string(),
        };
        out.push_str(&format!("\n  {}\n    by {how}\n", answer.subject));
    }
    if all {
        let denied: Vec<&Answer> = answers.iter().filter(|a| !a.allowed()).collect();
        if !denied.is_empty() {
            out.push_str("\nmay not:\n");
        }
        for answer in denied {
            let why = match &answer.decision {
                Ok(decision) => match &decision.explanation.deny_reason {
                    Some(reason) => super::explain::deny_reason_words(reason),
                    None => "denied".into(),
                },
                Err(error) => format!("cannot be evaluated: {error}"),
            };
            out.push_str(&format!("  {}: {why}\n", answer.subject));
        }
    }
    out
}

/// The JSON rendering (`version` 1): every subject with `allowed` and the deciding rule.
pub fn render_json(request: &Request, target: Target, answers: &[Answer]) -> Value {
    let subjects: Vec<Value> = answers
        .iter()
        .map(|answer| {
            let (allowed, rule, reason, error) = match &answer.decision {
                Ok(decision) => (
                    decision.allowed,
                    decision.explanation.winner.as_ref().map(rule_json),
                    decision
                        .explanation
                        .deny_reason
                        .as_ref()
                        .map(super::explain::deny_reason_words),
                    None,
                ),
                Err(error) => (false, None, None, Some(error.clone())),
            };
            json!({
                "kind": answer.subject.kind(),
                "name": answer.subject.name(),
                "policies": answer.policies,
                "allowed": allowed,
                "rule": rule,
                "deny_reason": reason,
                "error": error,
            })
        })
        .collect();
    json!({
        "version": JSON_VERSION,
        "target": target.name(),
        "request": {"operation": request.operation.name(), "path": request.path},
        "subjects": subjects,
    })
}

fn rule_json(rule: &MergedRule) -> Value {
    let sources: Vec<Value> = rule
        .sources
        .iter()
        .map(|source| {
            let (line, column) = source.file.line_col(source.pattern_span.start);
            json!({"policy": source.policy, "file": source.file.name, "line": line, "column": column})
        })
        .collect();
    json!({"pattern": rule.pattern.normalized, "sources": sources})
}
