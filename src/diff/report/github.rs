//! `diff --format github`: a workflow-command annotation on each HEAD line whose rule grants
//! new access (`error`) or changes its conditions (`warning`); lost access is a `notice`
//! without a line (the line is on the base side).

use std::collections::BTreeSet;

use super::{change_message, granting_sources, region};
use crate::acl::builtin::is_builtin_source;
use crate::diff::{ChangeKind, Diff, Side};
use crate::report::github::{escape_data, escape_property};

/// The annotations, one per (file, line, message).
pub fn render(diff: &Diff) -> String {
    let mut lines: BTreeSet<String> = BTreeSet::new();
    let mut out = String::new();
    for subject in &diff.subjects {
        for change in &subject.changes {
            let message = change_message(subject, change);
            let title = escape_property(&format!("capable diff: {}", change.kind.name()));
            let head = change
                .head
                .filter(|_| change.kind != ChangeKind::Lost)
                .map(|index| region(subject, Side::Head, change.view, index));
            let Some(head) = head else {
                let line = format!("::notice title={title}::{}\n", escape_data(&message));
                if lines.insert(line.clone()) {
                    out.push_str(&line);
                }
                continue;
            };
            let rule = &subject.head.reach.rules[head.rule];
            let command = match change.kind {
                ChangeKind::Gained => "error",
                _ => "warning",
            };
            let sources: Vec<_> = granting_sources(rule, Some(change.capability))
                .into_iter()
                .filter(|source| !is_builtin_source(&source.file))
                .collect();
            if sources.is_empty() {
                // A built-in policy (`default`) has no line to annotate.
                let line = format!("::{command} title={title}::{}\n", escape_data(&message));
                if lines.insert(line.clone()) {
                    out.push_str(&line);
                }
            }
            for source in sources {
                let (line, column) = source.line_col();
                let annotation = format!(
                    "::{command} file={},line={line},col={column},title={title}::{}\n",
                    escape_property(&source.file.name),
                    escape_data(&message)
                );
                if lines.insert(annotation.clone()) {
                    out.push_str(&annotation);
                }
            }
        }
    }
    out
}
