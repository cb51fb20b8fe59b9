//! JSON output, version 1:
//! `{"version":1,"diagnostics":[{"rule","severity","category","file","line","column",
//! "end_line","end_column","message","help"}]}` with 1-based lines and columns (the end is
//! exclusive). `category` is `null` for ids outside the rule registry; `help` is `null` when
//! there is none.

use serde::Serialize;

use super::{category_of, each, Position};
use crate::diag::{FileDiagnostics, Severity};

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    diagnostics: Vec<Entry<'a>>,
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

pub fn render(results: &[FileDiagnostics]) -> String {
    let diagnostics = each(results)
        .map(|(file, diagnostic)| {
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
        })
        .collect();
    let report = Report {
        version: 1,
        diagnostics,
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}
