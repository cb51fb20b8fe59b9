//! Scenario results for people (`human`) and programs (`json`); JUnit is in
//! [`crate::report::junit`].

use serde_json::{json, Value};

use super::model::ScenarioRequest;
use super::run::{CallResult, Entry, FileOutcome, Outcome};
use crate::acl::{DenyReason, MergedRule, RuleSource};
use crate::source::SourceFile;
use crate::target::Target;

/// Version of the JSON output shape.
pub const JSON_VERSION: u32 = 1;

/// `file:line:column` of a byte offset.
fn location(file: &SourceFile, offset: usize) -> String {
    let (line, column) = file.line_col(offset);
    format!("{}:{line}:{column}", file.name)
}

/// What a scenario asks, in one line.
pub fn describe_request(outcome: &Outcome) -> String {
    let request = describe_bare_request(outcome);
    match outcome.namespace.as_str() {
        "" => request,
        namespace => format!("{request} in namespace `{namespace}`"),
    }
}

fn describe_bare_request(outcome: &Outcome) -> String {
    match &outcome.scenario.request {
        ScenarioRequest::Api {
            operation, path, ..
        } => {
            let operation = match operation {
                super::model::ApiOperation::Write => "write".to_string(),
                super::model::ApiOperation::Op(op) => op.name().to_string(),
            };
            format!("{operation} `{path}`")
        }
        ScenarioRequest::Command { text, .. } => format!("`{text}`"),
        ScenarioRequest::Capabilities { path } => format!("capabilities at `{path}`"),
    }
}

/// The winning rule in one line: pattern, capabilities, and each block it came from.
pub fn describe_rule(rule: &MergedRule) -> String {
    let capabilities: Vec<&str> = rule.capabilities.iter().map(|c| c.name()).collect();
    let sources: Vec<String> = rule
        .sources
        .iter()
        .map(|source| {
            format!(
                "policy `{}` at {}",
                source.policy,
                location(&source.file, source.pattern_span.start)
            )
        })
        .collect();
    format!(
        "`{}` [{}] from {}",
        rule.pattern.normalized,
        capabilities.join(", "),
        sources.join(", ")
    )
}

fn describe_deny(reason: &DenyReason) -> String {
    match reason {
        DenyReason::NoPolicies => "the token has no policies".into(),
        DenyReason::NoMatchingRule => "no rule matches the path".into(),
        DenyReason::ExplicitDeny => "the winning rule denies".into(),
        DenyReason::MissingCapability(c) => format!("the winning rule lacks `{c}`"),
        DenyReason::SudoRequired => "the path needs `sudo` on the winning rule".into(),
        DenyReason::WrappingRequired {
            min,
            max,
            requested,
        } => format!(
            "response wrapping required (min {min}s, max {max}s), requested {}",
            requested.map_or("none".into(), |t| format!("{t}s"))
        ),
        DenyReason::WrappingTtlConflict { min, max } => {
            format!("wrapping ttl bounds conflict (min {min}s > max {max}s)")
        }
        DenyReason::MissingRequiredParameter(p) => format!("required parameter `{p}` is missing"),
        DenyReason::DeniedParameter(p) => format!("parameter `{p}` is denied"),
        DenyReason::ParameterNotAllowed(p) => format!("parameter `{p}` is not allowed"),
        DenyReason::Other(text) => text.clone(),
    }
}

/// One request's line in the explanation.
pub fn describe_call(call: &CallResult) -> String {
    let verdict = if call.allowed { "allowed" } else { "denied" };
    let Some(decision) = &call.decision else {
        return format!("{:<10}{}: {verdict}", call.stage, call.label);
    };
    let explanation = &decision.explanation;
    let mut text = format!("{:<10}{}: {verdict}", call.stage, call.label);
    if let Some(reason) = &explanation.deny_reason {
        text.push_str(&format!(" ({})", describe_deny(reason)));
    } else if decision.allowed && !call.allowed {
        text.push_str(" (the backend also requires `sudo` on the winning rule)");
    }
    match &explanation.winner {
        Some(rule) => text.push_str(&format!("\n            rule {}", describe_rule(rule))),
        None if explanation.root => text.push_str("\n            rule `root` policy"),
        None => {}
    }
    text
}

/// Human output: one line per scenario, failures with their explanation, then a summary.
pub fn human(files: &[FileOutcome], subject_policies: &dyn Fn(&Outcome) -> Vec<String>) -> String {
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        for entry in file.entries() {
            let outcome = match entry {
                Entry::Ran(outcome) => outcome,
                Entry::Invalid(invalid) => {
                    failed += 1;
                    let at = location(&file.file, invalid.span.start);
                    match &invalid.name {
                        Some(name) => {
                            out.push_str(&format!("FAIL {at} {name} (invalid scenario)\n"))
                        }
                        None => out.push_str(&format!("FAIL {at} (invalid scenario file)\n")),
                    }
                    for diagnostic in &invalid.diagnostics {
                        let at = location(&file.file, diagnostic.span.start);
                        out.push_str(&format!("  {at}: {}\n", diagnostic.message));
                    }
                    continue;
                }
            };
            let at = location(&file.file, outcome.scenario.span.start);
            if outcome.passed {
                passed += 1;
                out.push_str(&format!("PASS {at} {}\n", outcome.scenario.name));
                continue;
            }
            failed += 1;
            out.push_str(&format!("FAIL {at} {}\n", outcome.scenario.name));
            if let Some(failure) = &outcome.failure {
                out.push_str(&format!("  {failure}\n"));
            }
            out.push_str(&format!(
                "  {} asks {}; policies: {}\n",
                outcome.scenario.subject,
                describe_request(outcome),
                subject_policies(outcome)
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            for call in &outcome.calls {
                out.push_str(&format!("  {}\n", describe_call(call)));
            }
        }
    }
    out.push_str(&format!(
        "\n{passed} scenario{} passed, {failed} failed\n",
        if passed == 1 { "" } else { "s" }
    ));
    out
}

fn rule_json(rule: &MergedRule) -> Value {
    let sources: Vec<Value> = rule.sources.iter().map(RuleSource::location_json).collect();
    json!({
        "pattern": rule.pattern.normalized,
        "capabilities": rule.capabilities.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "sources": sources,
    })
}

fn call_json(call: &CallResult) -> Value {
    let mut value = json!({
        "stage": call.stage,
        "request": call.label,
        "allowed": call.allowed,
    });
    if let Some(decision) = &call.decision {
        let explanation = &decision.explanation;
        value["rule"] = explanation.winner.as_ref().map_or(Value::Null, rule_json);
        value["deny_reason"] = explanation
            .deny_reason
            .as_ref()
            .map_or(Value::Null, |r| Value::String(describe_deny(r)));
    }
    value
}

/// An invalid scenario (or file) in the JSON output: `status: invalid`, its diagnostics.
fn invalid_json(file: &FileOutcome, invalid: &super::model::Invalid) -> Value {
    let (line, column) = file.file.line_col(invalid.span.start);
    let errors: Vec<Value> = invalid
        .diagnostics
        .iter()
        .map(|d| {
            let (line, column) = file.file.line_col(d.span.start);
            json!({
                "rule": d.rule,
                "line": line,
                "column": column,
                "message": d.message,
                "help": d.help,
            })
        })
        .collect();
    json!({
        "name": invalid.name,
        "line": line,
        "column": column,
        "status": "invalid",
        "errors": errors,
    })
}

/// JSON output (`version` first). A scenario is `passed`, `failed`, or `invalid` (it could
/// not run: its `errors` say why); invalid ones count as failed in the summary.
pub fn json(files: &[FileOutcome], target: Target) -> Value {
    let mut passed = 0;
    let mut failed = 0;
    let files: Vec<Value> = files
        .iter()
        .map(|file| {
            let scenarios: Vec<Value> = file
                .entries()
                .into_iter()
                .map(|entry| {
                    let outcome = match entry {
                        Entry::Ran(outcome) => outcome,
                        Entry::Invalid(invalid) => {
                            failed += 1;
                            return invalid_json(file, invalid);
                        }
                    };
                    if outcome.passed {
                        passed += 1;
                    } else {
                        failed += 1;
                    }
                    let (line, column) = file.file.line_col(outcome.scenario.span.start);
                    json!({
                        "name": outcome.scenario.name,
                        "line": line,
                        "column": column,
                        "status": if outcome.passed { "passed" } else { "failed" },
                        "subject": {
                            "kind": outcome.scenario.subject.kind(),
                            "name": outcome.scenario.subject.name(),
                        },
                        "request": describe_request(outcome),
                        "expected": outcome.scenario.expect.describe(),
                        "actual": outcome.actual,
                        "message": outcome.failure,
                        "decided_by": outcome.decided_by.as_ref().map(|(policies, pattern)| {
                            json!({"policies": policies, "pattern": pattern})
                        }),
                        "requests": outcome.calls.iter().map(call_json).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"file": file.file.name, "scenarios": scenarios})
        })
        .collect();
    json!({
        "version": JSON_VERSION,
        "target": target.name(),
        "summary": {"passed": passed, "failed": failed},
        "files": files,
    })
}
