//! Concise output: one line per finding, `file:line:col: severity[rule] message`.

use super::{each, Position};
use crate::diag::FileDiagnostics;

pub fn render(results: &[FileDiagnostics]) -> String {
    let mut out = String::new();
    for (file, diagnostic) in each(results) {
        let position = Position::of(file, diagnostic);
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            file.name,
            position.line,
            position.column,
            diagnostic.severity,
            diagnostic.rule,
            one_line(&diagnostic.message)
        ));
    }
    out
}

/// Messages are one line already; a stray newline would break the format.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}
