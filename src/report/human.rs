//! Human output: miette source frames with a label at the offending token and a `help:` line.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};

use super::Counts;
use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::source::SourceFile;

/// Renders one diagnostic with its source frame. `color` picks ANSI styling (only on a TTY,
/// never with `NO_COLOR`); without it the output is plain ASCII-safe text for snapshots.
pub fn render_one(file: &SourceFile, diagnostic: &Diagnostic, color: bool) -> String {
    let span = diagnostic.span;
    let start = span.start.min(file.text.len());
    let len = span.len().min(file.text.len() - start);
    let label = diagnostic.label.clone();
    let mut report_diagnostic = MietteDiagnostic::new(diagnostic.message.clone())
        .with_code(diagnostic.rule.clone())
        .with_severity(miette_severity(diagnostic.severity))
        .with_label(LabeledSpan::new(label, start, len));
    if let Some(help) = &diagnostic.help {
        report_diagnostic = report_diagnostic.with_help(help.clone());
    }
    let report = Report::new(report_diagnostic)
        .with_source_code(NamedSource::new(file.name.clone(), file.text.clone()));
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        // Rendering into a String cannot fail in practice; fall back to the one-line form.
        out = format!(
            "{}: {}[{}] {}\n",
            file.name, diagnostic.severity, diagnostic.rule, diagnostic.message
        );
    }
    out
}

/// Renders every diagnostic of one file, in order, separated by blank lines.
pub fn render(file: &SourceFile, diagnostics: &[Diagnostic], color: bool) -> String {
    diagnostics
        .iter()
        .map(|d| render_one(file, d, color))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole `check` report: each file's diagnostics (files in the given order, clean files
/// skipped), then a summary line such as `found 3 errors and 2 warnings in 2 of 4 files`.
pub fn render_report(results: &[FileDiagnostics], color: bool) -> String {
    let mut out = String::new();
    for result in results.iter().filter(|r| !r.diagnostics.is_empty()) {
        out.push_str(&render(&result.file, &result.diagnostics, color));
        out.push('\n');
    }
    out.push_str(&Counts::of(results).summary());
    out.push('\n');
    out
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    #[test]
    fn renders_frame_label_and_help() {
        let file = SourceFile::new("p.hcl", "path \"x\" {\n  capabilities = [\"banana\"]\n}\n");
        let diagnostic = Diagnostic::error(
            "invalid-capability",
            Span::new(29, 37),
            "invalid capability `banana`",
        )
        .with_label("not a capability")
        .with_help("use one of `create`, `read`");
        let text = render(&file, &[diagnostic], false);
        assert!(text.contains("invalid-capability"), "{text}");
        assert!(text.contains("p.hcl:2:"), "{text}");
        assert!(text.contains("not a capability"), "{text}");
        assert!(text.contains("help: use one of"), "{text}");
    }
}
