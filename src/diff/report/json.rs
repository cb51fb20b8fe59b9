//! `diff --format json` (`version` 1): the subjects, and a flat list `changes` whose entries
//! carry the subject, the change, the capability, the region (pattern, `within`, exceptions,
//! root protection), the witness and both sides' deciding rules.

use serde_json::{json, Value};

use super::{
    capability_names, granting_sources, primary_pattern, primary_side, region, side_name,
    summary_line, within_pattern, Labels, JSON_VERSION, MEANING,
};
use crate::acl::RuleSource;
use crate::diff::cells::conditions_json;
use crate::diff::{counts, Change, ChangeKind, Diff, Side, SubjectDiff};

fn protection(value: Option<bool>) -> Value {
    match value {
        Some(true) => json!("protected"),
        Some(false) => json!("unprotected"),
        None => Value::Null,
    }
}

fn side_json(subject: &SubjectDiff, change: &Change, side: Side) -> Value {
    let index = match side {
        Side::Base => change.base,
        Side::Head => change.head,
    };
    let refused = subject.side(side).refused.clone();
    let Some(index) = index else {
        return json!({"rule": Value::Null, "refused": refused});
    };
    let reach = &subject.side(side).reach;
    let found = region(subject, side, change.view, index);
    let rule = &reach.rules[found.rule];
    let sources: Vec<Value> = granting_sources(rule, Some(change.capability))
        .into_iter()
        .map(RuleSource::location_json)
        .collect();
    json!({
        "rule": rule.pattern.normalized,
        "region": found.pattern,
        "origin": found.origin,
        "root": reach.root,
        "capabilities": capability_names(rule),
        "conditions": conditions_json(rule, change.capability),
        "sources": sources,
    })
}

fn change_json(subject: &SubjectDiff, change: &Change) -> Value {
    let except: Vec<Value> = change
        .except
        .iter()
        .map(|exception| {
            let reach = &subject.side(exception.side).reach;
            let found = region(subject, exception.side, change.view, exception.region);
            let rule = &reach.rules[found.rule];
            json!({
                "side": side_name(exception.side),
                "pattern": found.pattern,
                "rule": rule.pattern.normalized,
                "capabilities": capability_names(rule),
            })
        })
        .collect();
    json!({
        "subject": {
            "kind": subject.subject.kind(),
            "name": subject.subject.name(),
            "namespace": crate::namespace::display(&subject.namespace),
        },
        "change": change.kind,
        "capability": change.capability.name(),
        "requests": change.view,
        "region": {
            "side": side_name(primary_side(change)),
            "pattern": primary_pattern(subject, change),
            "within": within_pattern(subject, change),
            "except": except,
            "root_protected": {
                "base": protection(change.sudo_base),
                "head": protection(change.sudo_head),
            },
        },
        "witness": change.witness,
        "base": side_json(subject, change, Side::Base),
        "head": side_json(subject, change, Side::Head),
        "cell": change.cell,
    })
}

/// The JSON rendering.
pub fn render(diff: &Diff, labels: &Labels) -> Value {
    let subjects: Vec<Value> = diff
        .subjects
        .iter()
        .map(|subject| {
            let (gained, lost, changed) = counts(subject);
            json!({
                "kind": subject.subject.kind(),
                "name": subject.subject.name(),
                "namespace": crate::namespace::display(&subject.namespace),
                "presence": subject.presence,
                "base_policies": subject.base.policies,
                "head_policies": subject.head.policies,
                "gained": gained,
                "lost": lost,
                "changed": changed,
            })
        })
        .collect();
    let changes: Vec<Value> = diff
        .subjects
        .iter()
        .flat_map(|subject| {
            let mut ordered: Vec<&Change> = subject.changes.iter().collect();
            ordered.sort_by_key(|change| (change.kind, change.cell, change.capability));
            ordered
                .into_iter()
                .map(move |change| change_json(subject, change))
        })
        .collect();
    json!({
        "version": JSON_VERSION,
        "base": {"side": labels.base, "target": diff.base_target.name()},
        "head": {"side": labels.head, "target": diff.head_target.name()},
        "meaning": MEANING,
        "summary": {
            "compared": diff.compared,
            "subjects": diff.subjects.len(),
            "gained": diff.count(ChangeKind::Gained),
            "lost": diff.count(ChangeKind::Lost),
            "changed": diff.count(ChangeKind::Changed),
            "text": summary_line(diff),
        },
        "subjects": subjects,
        "changes": changes,
    })
}
