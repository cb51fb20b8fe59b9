//! JSON output, version 1:
//! `{"version":1,"diagnostics":[{"rule","severity","category","file","line","column",
//! "end_line","end_column","message","help"}]}` with 1-based lines and columns (the end is
//! exclusive). `category` is `null` for ids outside the rule registry; `help` is `null` when
//! there is none.

use serde::Serialize;

use super::{category_of, each, Position};
use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::source::SourceFile;

/// The report as it is written: the diagnostics are serialised one at a time from the
/// results, so the report never exists whole in memory (a few hundred bytes per finding would
/// be about as much as all the policies of a run).
#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    diagnostics: Entries<'a>,
}

/// Every diagnostic of the results, as [`Entry`] values, in order.
struct Entries<'a>(&'a [FileDiagnostics]);

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(each(self.0).map(|(file, diagnostic)| entry(file, diagnostic)))
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    rule: &'a str,
    severity: Severity,
    category: Option<&'static str>,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
}

fn entry<'a>(file: &'a SourceFile, diagnostic: &'a Diagnostic) -> Entry<'a> {
    let position = Position::of(file, diagnostic);
    Entry {
        rule: &diagnostic.rule,
        severity: diagnostic.severity,
        category: category_of(&diagnostic.rule).map(|category| category.name()),
        file: &file.name,
        line: position.line,
        column: position.column,
        end_line: position.end_line,
        end_column: position.end_column,
        message: &diagnostic.message,
        help: diagnostic.help.as_deref(),
    }
}

/// Writes the report to `out`, one diagnostic at a time. Cost: O(findings) time, O(1) memory
/// beyond the results.
pub fn write(results: &[FileDiagnostics], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let report = Report {
        version: 1,
        diagnostics: Entries(results),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

/// The report as one string (see [`write()`]).
pub fn render(results: &[FileDiagnostics]) -> String {
    let mut text = Vec::new();
    if write(results, &mut text).is_err() {
        return "{}\n".into();
    }
    String::from_utf8(text).unwrap_or_else(|_| "{}\n".into())
}
