//! Concise output: one line per finding, `file:line:col: severity[rule] message`.

use super::{each, Position};
use crate::diag::FileDiagnostics;

pub fn render(results: &[FileDiagnostics]) -> String {
    let mut out = Vec::new();
    if write(results, &mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Writes [`render`] to `out` line by line, so the report never exists whole in memory.
/// Cost: O(findings) time, O(1) memory beyond the results.
pub fn write(results: &[FileDiagnostics], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for (file, diagnostic) in each(results) {
        let position = Position::of(file, diagnostic);
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            file.name,
            position.line,
            position.column,
            diagnostic.severity,
            diagnostic.rule,
            one_line(&diagnostic.message)
        )?;
    }
    Ok(())
}

/// Messages are one line already; a stray newline would break the format.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}
