//! GitHub Actions workflow commands: one annotation per finding,
//! `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=T::message`.
//!
//! GitHub shows at most [`ANNOTATIONS_PER_LEVEL`] annotations of each level (error, warning,
//! notice) per step and drops the rest silently, so capable writes that many per level (in
//! report order), then one plain line counting the others. With `$GITHUB_STEP_SUMMARY` set,
//! `check` also appends [`step_summary`]: the counts and a table of every finding (up to
//! [`SUMMARY_ROWS`] rows; the step summary holds at most 1 MiB), so nothing is lost.
//!
//! Escaping follows the runner's rules: in the message `%`, `\r` and `\n` become `%25`,
//! `%0D`, `%0A`; in properties `:` and `,` also become `%3A` and `%2C`.

use super::{each, Counts, Position};
use crate::diag::{Diagnostic, FileDiagnostics, Severity};

/// Annotations GitHub shows per level and step.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;
/// Findings listed in the step summary table.
pub const SUMMARY_ROWS: usize = 1000;

fn command_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn message_of(diagnostic: &Diagnostic) -> String {
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    message
}

/// The annotations (at most [`ANNOTATIONS_PER_LEVEL`] per level), then a line counting the
/// findings left out.
pub fn render(results: &[FileDiagnostics]) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut omitted = 0;
    for (file, diagnostic) in each(results) {
        let level = diagnostic.severity as usize;
        if shown[level] == ANNOTATIONS_PER_LEVEL {
            omitted += 1;
            continue;
        }
        shown[level] += 1;
        let position = Position::of(file, diagnostic);
        let title = format!("capable {}", diagnostic.rule);
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            command_of(diagnostic.severity),
            escape_property(&file.name),
            position.line,
            position.column,
            position.end_line,
            position.end_column,
            escape_property(&title),
            escape_data(&message_of(diagnostic)),
        ));
    }
    if omitted > 0 {
        out.push_str(&format!(
            "{omitted} more finding{} not annotated (GitHub shows {ANNOTATIONS_PER_LEVEL} per level \
             and step); see the step summary or run `capable check` locally\n",
            if omitted == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Markdown for `$GITHUB_STEP_SUMMARY`: the counts, how many findings were not annotated, and
/// a table of the findings (the first [`SUMMARY_ROWS`]).
pub fn step_summary(results: &[FileDiagnostics]) -> String {
    let counts = Counts::of(results);
    let mut out = format!(
        "## capable check\n\n{}\n\n| errors | warnings | notes | files with findings | files checked |\n\
         |---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n",
        counts.summary(),
        counts.errors,
        counts.warnings,
        counts.infos,
        counts.files_with_findings,
        counts.files_checked
    );
    let not_annotated = [counts.errors, counts.warnings, counts.infos]
        .iter()
        .map(|count| count.saturating_sub(ANNOTATIONS_PER_LEVEL))
        .sum::<usize>();
    if not_annotated > 0 {
        out.push_str(&format!(
            "\n{not_annotated} of them are not annotated on the pull request (GitHub shows \
             {ANNOTATIONS_PER_LEVEL} per level and step); all are listed here.\n"
        ));
    }
    if counts.total() == 0 {
        return out;
    }
    out.push_str("\n| location | severity | rule | message |\n|---|---|---|---|\n");
    for (file, diagnostic) in each(results).take(SUMMARY_ROWS) {
        let position = Position::of(file, diagnostic);
        out.push_str(&format!(
            "| `{}:{}:{}` | {} | `{}` | {} |\n",
            file.name.replace('|', "\\|").replace('`', "'"),
            position.line,
            position.column,
            diagnostic.severity,
            diagnostic.rule,
            markdown_cell(&message_of(diagnostic)),
        ));
    }
    if counts.total() > SUMMARY_ROWS {
        out.push_str(&format!(
            "\n{} more findings are not listed; run `capable check` locally for all of them.\n",
            counts.total() - SUMMARY_ROWS
        ));
    }
    out
}

/// A table cell: `|` escaped, line breaks as `<br>`, HTML-significant `<` and `>` escaped.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// Escapes a command's message.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("100%\r\nx: y, z"), "100%25%0D%0Ax: y, z");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
