//! JUnit XML for scenario runs: one `testsuite` per scenario file (with its `file`), one
//! `testcase` per scenario (with its `time`), a failed or invalid scenario a `failure` with the
//! one-line reason as its message and `file:line:column` plus the explanation as its text.
//!
//! The document is valid against the Jenkins xUnit plugin's `junit-10.xsd` (the schema pytest
//! and Jenkins read; `tests/data/junit-10.xsd`). That schema has no `file` or `line` attribute
//! on `testcase`, so a case's position is its suite's `file` and the `file:line:column` that
//! starts its failure text. Written by hand (no serialiser attribute outside the schema), with
//! every character XML 1.0 cannot hold replaced by U+FFFD. Cost: O(size of the output).

use std::fmt::Write as _;
use std::time::Duration;

use crate::scenario::report::describe_call;
use crate::scenario::{Entry, FileOutcome};

/// Renders the run as a JUnit XML document.
pub fn render(files: &[FileOutcome]) -> String {
    let tests: usize = files.iter().map(|file| file.entries().len()).sum();
    let failures: usize = files.iter().map(FileOutcome::failed).sum();
    let total: Duration = files.iter().map(suite_time).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"capable\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{}\">",
        seconds(total)
    );
    for file in files {
        suite(&mut out, file);
    }
    out.push_str("</testsuites>\n");
    out
}

fn suite_time(file: &FileOutcome) -> Duration {
    file.outcomes.iter().map(|outcome| outcome.time).sum()
}

fn suite(out: &mut String, file: &FileOutcome) {
    let name = escape(&file.file.name);
    let entries = file.entries();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{}\" file=\"{name}\">",
        entries.len(),
        file.failed(),
        seconds(suite_time(file)),
    );
    for entry in entries {
        let (case, time, failure) = match entry {
            Entry::Ran(outcome) => {
                let failure = (!outcome.passed).then(|| {
                    let message = outcome
                        .failure
                        .clone()
                        .unwrap_or_else(|| "scenario failed".into());
                    let details: Vec<String> = outcome.calls.iter().map(describe_call).collect();
                    let at = position(file, outcome.scenario.span.start);
                    let text = format!("{at}: {message}\n{}", details.join("\n"));
                    ("scenario", message, text)
                });
                (outcome.scenario.name.clone(), outcome.time, failure)
            }
            Entry::Invalid(invalid) => {
                let at = position(file, invalid.span.start);
                let message = invalid
                    .diagnostics
                    .first()
                    .map_or_else(|| "invalid scenario".to_string(), |d| d.message.clone());
                let text: Vec<String> = invalid
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let at = position(file, d.span.start);
                        match &d.help {
                            Some(help) => format!("{at}: {}\n  help: {help}", d.message),
                            None => format!("{at}: {}", d.message),
                        }
                    })
                    .collect();
                let text = format!("{at}: invalid scenario\n{}", text.join("\n"));
                (
                    invalid.label(&file.file),
                    Duration::ZERO,
                    Some(("invalid-scenario", message, text)),
                )
            }
        };
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{name}\" time=\"{}\"",
            escape(&case),
            seconds(time)
        );
        match failure {
            None => out.push_str("/>\n"),
            Some((kind, message, text)) => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>",
                    escape(&message),
                    escape(&text)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// `file:line:column` of an offset of the suite's file.
fn position(file: &FileOutcome, offset: usize) -> String {
    let (line, column) = file.file.line_col(offset);
    format!("{}:{line}:{column}", file.file.name)
}

/// Seconds with millisecond precision (`0.004`), the form the schema's time pattern takes.
fn seconds(time: Duration) -> String {
    format!("{:.3}", time.as_secs_f64())
}

/// Text safe in an attribute value or element text: markup characters escaped, characters
/// XML 1.0 forbids (most control characters) replaced by U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_replaces_forbidden_characters() {
        assert_eq!(
            escape("a<b>&\"'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}\n"
        );
        assert_eq!(seconds(Duration::from_millis(1234)), "1.234");
    }
}
