//! Diagnostics: what every stage (parse, validation, lint, inventory) reports.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::source::SourceFile;
use crate::span::Span;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding about one span of one file.
///
/// The rule id and the label are nearly always static texts: they are borrowed then, so that
/// a big policy's hundreds of thousands of findings allocate only their messages.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// Kebab-case rule id, e.g. `invalid-capability` or `literal-star`.
    pub rule: Cow<'static, str>,
    pub severity: Severity,
    /// Lowercase, no final period, user values in backticks.
    pub message: String,
    /// The offending token.
    pub span: Span,
    /// Short text shown at the span in the source frame.
    pub label: Option<Cow<'static, str>>,
    /// What to do about it; rendered as a `help:` line.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        rule: impl Into<Cow<'static, str>>,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            rule: rule.into(),
            severity,
            message: exact(message.into()),
            span,
            label: None,
            help: None,
        }
    }

    /// An `error` diagnostic.
    pub fn error(
        rule: impl Into<Cow<'static, str>>,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(rule, Severity::Error, span, message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(exact(help.into()));
        self
    }

    pub fn with_label(mut self, label: impl Into<Cow<'static, str>>) -> Diagnostic {
        self.label = Some(match label.into() {
            Cow::Owned(text) => Cow::Owned(exact(text)),
            borrowed => borrowed,
        });
        self
    }

    /// Whether this diagnostic means the target would refuse the policy.
    pub fn is_invalid(&self) -> bool {
        self.rule.starts_with("invalid-")
    }
}

/// `text` without spare capacity: `format!` leaves up to half of a message unused, and a big
/// policy keeps hundreds of thousands of messages until the report is written. Cost: O(1)
/// (shrinking a heap block in place), nothing when there is no spare capacity.
fn exact(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// The diagnostics of one file, with the file they point into.
#[derive(Clone, Debug)]
pub struct FileDiagnostics {
    pub file: Arc<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The longest user value (in bytes) a message quotes in full.
pub const QUOTE_LIMIT: usize = 80;

/// A user value as a message quotes it: in full when at most [`QUOTE_LIMIT`] bytes, else its
/// first and last 38 characters around `…`, so a message does not grow with the value (a path
/// of 100,000 `{{...}}` markers gets one finding per marker, each quoting the path). Cost:
/// O(1) in the value's length.
pub fn shorten(value: &str) -> std::borrow::Cow<'_, str> {
    const KEEP: usize = 38;
    if value.len() <= QUOTE_LIMIT {
        return std::borrow::Cow::Borrowed(value);
    }
    let head_end = value
        .char_indices()
        .nth(KEEP)
        .map_or(value.len(), |(index, _)| index);
    let tail_start = value
        .char_indices()
        .rev()
        .nth(KEEP - 1)
        .map_or(0, |(index, _)| index)
        .max(head_end);
    std::borrow::Cow::Owned(format!("{}…{}", &value[..head_end], &value[tail_start..]))
}

#[cfg(test)]
mod shorten_tests {
    use super::*;

    #[test]
    fn long_values_keep_their_ends() {
        assert_eq!(shorten("secret/app"), "secret/app");
        let long = format!("secret/{}/end", "é".repeat(200));
        let short = shorten(&long);
        assert!(short.starts_with("secret/éé"), "{short}");
        assert!(short.ends_with("éé/end"), "{short}");
        assert!(short.contains('…'));
        assert_eq!(short.chars().count(), 38 + 1 + 38);
    }
}

#[cfg(test)]
mod capacity_tests {
    use super::*;

    #[test]
    fn texts_keep_no_spare_capacity() {
        // A clone has no spare capacity: each text is made with room to spare.
        let text = || {
            let mut text = String::with_capacity(256);
            text.push_str("`list` is never used");
            text
        };
        let diagnostic = Diagnostic::new("x", Severity::Warning, Span::new(0, 1), text())
            .with_help(text())
            .with_label(text());
        let help = diagnostic.help.as_ref().unwrap();
        let label = diagnostic.label.as_ref().unwrap();
        assert_eq!(diagnostic.message.capacity(), diagnostic.message.len());
        assert_eq!(help.capacity(), help.len());
        let std::borrow::Cow::Owned(label) = label else {
            panic!("a label built at run time is owned");
        };
        assert_eq!(label.capacity(), label.len());
    }
}
