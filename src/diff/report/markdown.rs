//! `diff --format markdown`: a pull-request comment or `$GITHUB_STEP_SUMMARY` body: the
//! summary, a table of subjects with their counts, then a collapsible section per subject.

use super::{
    decider_words, exception_words, grouped, primary_side, region_words, side_name, subject_title,
    summary_line, Labels,
};
use crate::diff::{counts, Diff, Side, SubjectDiff};

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn section(out: &mut String, subject: &SubjectDiff) {
    let (gained, lost, changed) = counts(subject);
    out.push_str(&format!(
        "<details><summary>{}: {gained} gained, {lost} lost, {changed} changed</summary>\n\n",
        subject_title(subject)
    ));
    for group in grouped(subject) {
        let change = group[0];
        let capabilities: Vec<String> = group
            .iter()
            .map(|c| format!("`{}`", c.capability.name()))
            .collect();
        out.push_str(&format!(
            "- **{}** {} {}, e.g. `{}`\n",
            change.kind.name(),
            capabilities.join(", "),
            region_words(subject, change),
            change.witness
        ));
        let sides = match primary_side(change) {
            Side::Head => [Side::Head, Side::Base],
            Side::Base => [Side::Base, Side::Head],
        };
        for side in sides {
            out.push_str(&format!(
                "  - {}: {}\n",
                side_name(side),
                decider_words(subject, change, side)
            ));
        }
        for exception in &change.except {
            out.push_str(&format!(
                "  - except {}\n",
                exception_words(subject, change, exception)
            ));
        }
    }
    out.push_str("\n</details>\n\n");
}

/// The markdown rendering.
pub fn render(diff: &Diff, labels: &Labels) -> String {
    let mut out = format!(
        "## capable diff: `{}` → `{}`\n\n**{}**\n\n",
        labels.base,
        labels.head,
        summary_line(diff)
    );
    if diff.subjects.is_empty() {
        return out;
    }
    out.push_str("| subject | gained | lost | changed |\n|---|---:|---:|---:|\n");
    for subject in &diff.subjects {
        let (gained, lost, changed) = counts(subject);
        out.push_str(&format!(
            "| {} | {gained} | {lost} | {changed} |\n",
            cell(&subject_title(subject))
        ));
    }
    out.push('\n');
    for subject in &diff.subjects {
        section(&mut out, subject);
    }
    out
}
