//! `diff --format sarif`: SARIF 2.1.0, one result per change at the HEAD rule that decides it
//! (`access-gained` errors, `access-changed` warnings); lost access has no HEAD line and is a
//! note without a location.

use serde_json::{json, Value};

use super::{change_message, granting_sources, region};
use crate::acl::builtin::is_builtin_source;
use crate::diff::{ChangeKind, Diff, Side};

fn rule_id(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Gained => "access-gained",
        ChangeKind::Lost => "access-lost",
        ChangeKind::Changed => "access-changed",
    }
}

fn level(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Gained => "error",
        ChangeKind::Changed => "warning",
        ChangeKind::Lost => "note",
    }
}

/// The SARIF log.
pub fn render(diff: &Diff) -> Value {
    let mut results = Vec::new();
    for subject in &diff.subjects {
        for change in &subject.changes {
            let text = change_message(subject, change);
            let locations: Vec<Value> = change
                .head
                .filter(|_| change.kind != ChangeKind::Lost)
                .map(|index| {
                    let found = region(subject, Side::Head, change.view, index);
                    let rule = &subject.head.reach.rules[found.rule];
                    granting_sources(rule, Some(change.capability))
                        .into_iter()
                        .filter(|source| !is_builtin_source(&source.file))
                        .map(|source| {
                            let (line, column) = source.line_col();
                            json!({"physicalLocation": {
                                "artifactLocation": {"uri": crate::report::sarif::uri_of(&source.file.name)},
                                "region": {"startLine": line, "startColumn": column},
                            }})
                        })
                        .collect()
                })
                .unwrap_or_default();
            results.push(json!({
                "ruleId": rule_id(change.kind),
                "level": level(change.kind),
                "message": {"text": text},
                "locations": locations,
            }));
        }
    }
    let rules: Vec<Value> = [ChangeKind::Gained, ChangeKind::Changed, ChangeKind::Lost]
        .into_iter()
        .map(|kind| {
            json!({
                "id": rule_id(kind),
                "shortDescription": {"text": format!("a subject {} access", kind.name())},
                "defaultConfiguration": {"level": level(kind)},
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "capable",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": crate::lint::project_url(),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
