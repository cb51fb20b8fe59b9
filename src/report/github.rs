//! GitHub Actions workflow commands: one annotation per finding,
//! `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=T::message`.
//!
//! Escaping follows the runner's rules: in the message `%`, `\r` and `\n` become `%25`,
//! `%0D`, `%0A`; in properties `:` and `,` also become `%3A` and `%2C`.

use super::{each, Position};
use crate::diag::{FileDiagnostics, Severity};

pub fn render(results: &[FileDiagnostics]) -> String {
    let mut out = String::new();
    for (file, diagnostic) in each(results) {
        let position = Position::of(file, diagnostic);
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let title = format!("capable {}", diagnostic.rule);
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&file.name),
            position.line,
            position.column,
            position.end_line,
            position.end_column,
            escape_property(&title),
            escape_data(&message),
        ));
    }
    out
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
