//! `diff --format human`: grouped by subject, gained first; red for gained and green for lost
//! on a terminal only.

use super::{
    decider_words, exception_words, grouped, primary_side, region_words, subject_title,
    summary_line, Labels, MEANING,
};
use crate::diff::{ChangeKind, Diff, Side, SubjectDiff};

/// Exceptions shown per change before the rest are counted (JSON lists them all).
const SHOWN_EXCEPTIONS: usize = 8;

fn paint(text: &str, kind: ChangeKind, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match kind {
        ChangeKind::Gained => "31",
        ChangeKind::Lost => "32",
        ChangeKind::Changed => "33",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

fn policies_words(names: &[String]) -> String {
    if names.is_empty() {
        return "no policies".into();
    }
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

fn subject_lines(out: &mut String, subject: &SubjectDiff, color: bool) {
    out.push_str(&format!("\n{}\n", subject_title(subject)));
    if subject.base.policies != subject.head.policies {
        out.push_str(&format!(
            "  policies: {} → {}\n",
            policies_words(&subject.base.policies),
            policies_words(&subject.head.policies)
        ));
    } else {
        out.push_str(&format!(
            "  policies: {}\n",
            policies_words(&subject.head.policies)
        ));
    }
    if subject.changes.is_empty() {
        out.push_str("  no access on either side\n");
    }
    for group in grouped(subject) {
        let change = group[0];
        let capabilities: Vec<&str> = group.iter().map(|c| c.capability.name()).collect();
        let title = format!(
            "{} {} {}",
            change.kind.name(),
            capabilities.join(", "),
            region_words(subject, change)
        );
        out.push_str(&format!("  {}\n", paint(&title, change.kind, color)));
        out.push_str(&format!("    witness: {}\n", change.witness));
        let sides = match primary_side(change) {
            Side::Head => [Side::Head, Side::Base],
            Side::Base => [Side::Base, Side::Head],
        };
        for side in sides {
            out.push_str(&format!(
                "    {}: {}\n",
                super::side_name(side),
                decider_words(subject, change, side)
            ));
        }
        if change.kind == ChangeKind::Changed {
            for (side, index) in [(Side::Base, change.base), (Side::Head, change.head)] {
                let Some(index) = index else { continue };
                let rule = subject.rule(side, change.view, index);
                let conditions = crate::diff::cells::conditions_json(rule, change.capability);
                out.push_str(&format!(
                    "    {} conditions: {}\n",
                    super::side_name(side),
                    conditions
                ));
            }
        }
        for exception in change.except.iter().take(SHOWN_EXCEPTIONS) {
            out.push_str(&format!(
                "    except {}\n",
                exception_words(subject, change, exception)
            ));
        }
        if change.except.len() > SHOWN_EXCEPTIONS {
            out.push_str(&format!(
                "    except {} more regions (`--format json` lists them)\n",
                change.except.len() - SHOWN_EXCEPTIONS
            ));
        }
    }
}

/// The human rendering.
pub fn render(diff: &Diff, labels: &Labels, color: bool) -> String {
    let targets = if diff.base_target == diff.head_target {
        format!("target {}", diff.head_target)
    } else {
        format!("targets {} → {}", diff.base_target, diff.head_target)
    };
    let mut out = format!("diff {} → {} ({targets})\n", labels.base, labels.head);
    for subject in &diff.subjects {
        subject_lines(&mut out, subject, color);
    }
    out.push_str(&format!("\n{}\n", summary_line(diff)));
    if !diff.subjects.is_empty() {
        out.push_str(&format!("\nmeaning: {MEANING}\n"));
    }
    out
}
