//! Output formats of `check`, one file each: `human` (miette frames), `concise` (one line per
//! finding), `json` (version 1 schema), `github` (workflow commands) and `sarif` (2.1.0).

pub mod codes;
pub mod concise;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::lint::Category;
use crate::source::SourceFile;

/// The `--format` of `check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source frames with labels and help, grouped by file, and a summary line.
    #[default]
    Human,
    /// One line per finding: `file:line:col: severity[rule] message`.
    Concise,
    /// `{"version":1,"diagnostics":[...]}`.
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
    Sarif,
    /// GitLab Code Quality report (`artifacts: reports: codequality`).
    Gitlab,
}

/// Renders the results of a check (every checked file, including clean ones) in a format.
/// `color` only matters for `human`.
pub fn render(format: Format, results: &[FileDiagnostics], color: bool) -> String {
    match format {
        Format::Human => human::render_report(results, color),
        Format::Concise => concise::render(results),
        Format::Json => json::render(results),
        Format::Github => github::render(results),
        Format::Sarif => sarif::render(results),
        Format::Gitlab => gitlab::render(results),
    }
}

/// Writes the results of a check in a format to `out`. SARIF, JSON, human and concise are
/// written result by result (SARIF's log is several kilobytes per finding in memory, a human
/// frame or a JSON entry a few hundred bytes); GitHub's (at most a few dozen annotations) and
/// GitLab's are rendered whole first.
pub fn write(
    format: Format,
    results: &[FileDiagnostics],
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Sarif => sarif::write(results, out),
        Format::Json => json::write(results, out),
        Format::Human => human::write_report(results, color, out),
        Format::Concise => concise::write(results, out),
        _ => out.write_all(render(format, results, color).as_bytes()),
    }
}

/// 1-based start and end (exclusive) positions of a span; columns count characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Position {
    pub fn of(file: &SourceFile, diagnostic: &Diagnostic) -> Position {
        let (line, column) = file.line_col(diagnostic.span.start);
        let (end_line, end_column) = file.line_col(diagnostic.span.end.max(diagnostic.span.start));
        Position {
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// The category of a rule id: `invalid` for refusals, the registry's for lint rules, `None`
/// for ids the registry does not know (e.g. inventory or agent findings).
pub fn category_of(rule: &str) -> Option<Category> {
    if rule.starts_with("invalid-") {
        return Some(Category::Invalid);
    }
    crate::lint::rule_meta(rule).map(|meta| meta.category)
}

/// How many findings of each severity, and in how many files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub files_with_findings: usize,
    pub files_checked: usize,
}

impl Counts {
    pub fn of(results: &[FileDiagnostics]) -> Counts {
        let mut counts = Counts {
            files_checked: results.len(),
            ..Counts::default()
        };
        for result in results {
            if !result.diagnostics.is_empty() {
                counts.files_with_findings += 1;
            }
            for diagnostic in &result.diagnostics {
                match diagnostic.severity {
                    Severity::Error => counts.errors += 1,
                    Severity::Warning => counts.warnings += 1,
                    Severity::Info => counts.infos += 1,
                }
            }
        }
        counts
    }

    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.infos
    }

    /// `found 3 errors and 2 warnings in 2 of 4 files`, or `no findings in 4 files`.
    pub fn summary(&self) -> String {
        let files = plural(self.files_checked, "file", "files");
        if self.total() == 0 {
            return format!("no findings in {files}");
        }
        let parts: Vec<String> = [
            (self.errors, "error", "errors"),
            (self.warnings, "warning", "warnings"),
            (self.infos, "note", "notes"),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, one, many)| plural(count, one, many))
        .collect();
        let found = match parts.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, init)) => format!("{} and {last}", init.join(", ")),
            None => String::new(),
        };
        format!("found {found} in {} of {files}", self.files_with_findings)
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Every diagnostic with its file, in report order.
pub fn each(results: &[FileDiagnostics]) -> impl Iterator<Item = (&SourceFile, &Diagnostic)> {
    results.iter().flat_map(|result| {
        result
            .diagnostics
            .iter()
            .map(move |diagnostic| (&*result.file, diagnostic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let mut counts = Counts {
            files_checked: 4,
            ..Counts::default()
        };
        assert_eq!(counts.summary(), "no findings in 4 files");
        counts.errors = 3;
        counts.warnings = 2;
        counts.files_with_findings = 2;
        assert_eq!(
            counts.summary(),
            "found 3 errors and 2 warnings in 2 of 4 files"
        );
        counts.infos = 1;
        assert_eq!(
            counts.summary(),
            "found 3 errors, 2 warnings and 1 note in 2 of 4 files"
        );
    }
}
