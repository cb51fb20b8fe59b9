//! Human output: miette source frames with a label at the offending token and a `help:` line.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::Counts;
use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::source::{floor_char_boundary, SourceFile};
use crate::span::Span;

/// Characters of a long line shown around a label: a frame for a line longer than this shows
/// a window of it (and says so), so output stays linear in the input and the renderer never
/// sees a huge column.
const WINDOW_CHARS: usize = 120;
/// Characters shown before the label's start in a window.
const WINDOW_LEAD: usize = 40;
/// Lines a label may cover before only its first line is framed.
const MAX_LABEL_LINES: usize = 8;

/// Renders one diagnostic with its source frame. `color` picks ANSI styling (only on a TTY,
/// never with `NO_COLOR`); without it the output is plain ASCII-safe text for snapshots.
/// The frame holds the label's lines and one line of context each side, each cut to a
/// window when long (`frame`). Cost: O(length of the framed lines), never the whole file.
pub fn render_one(file: &SourceFile, diagnostic: &Diagnostic, color: bool) -> String {
    let mut report_diagnostic = MietteDiagnostic::new(diagnostic.message.clone())
        .with_code(diagnostic.rule.clone())
        .with_severity(miette_severity(diagnostic.severity));
    if let Some(help) = &diagnostic.help {
        report_diagnostic = report_diagnostic.with_help(help.clone());
    }
    let fallback = || {
        format!(
            "{}: {}[{}] {}\n",
            file.name, diagnostic.severity, diagnostic.rule, diagnostic.message
        )
    };
    render_framed(
        file,
        diagnostic.span,
        report_diagnostic,
        diagnostic.label.as_deref().map(str::to_string),
        color,
        fallback,
    )
}

/// A note-like frame of `span` titled `title` with `label` under it (as `explain` shows the
/// deciding block), windowed like every other frame, without colour.
pub fn render_advice(file: &SourceFile, span: Span, title: &str, label: &str) -> String {
    let report_diagnostic =
        MietteDiagnostic::new(title.to_string()).with_severity(miette::Severity::Advice);
    let (line, column) = file.line_col(span.start);
    let fallback = || format!("  {title} at {}:{line}:{column}\n", file.name);
    render_framed(
        file,
        span,
        report_diagnostic,
        Some(label.to_string()),
        false,
        fallback,
    )
}

/// Renders `report_diagnostic` over the frame of `span`, then the frame's notes.
fn render_framed(
    file: &SourceFile,
    span: Span,
    report_diagnostic: MietteDiagnostic,
    label: Option<String>,
    color: bool,
    fallback: impl FnOnce() -> String,
) -> String {
    let framed = frame(file, span);
    let report_diagnostic = report_diagnostic.with_label(LabeledSpan::new(
        label,
        framed.label_start,
        framed.label_len,
    ));
    let report = WithExcerpt {
        diagnostic: report_diagnostic,
        excerpt: framed.excerpt,
    };
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering into a String cannot fail in practice; fall back to the one-line form.
        out = fallback();
    }
    for note in framed.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

/// A diagnostic with the excerpt it points into, as miette's `Report::with_source_code`
/// pairs them, but without a `Report`: making one asks miette's global hook for a handler,
/// which reads the terminal and the environment, once per finding (a sixth of the time of a
/// big policy's human report); the frame is rendered by our own handler anyway.
#[derive(Debug)]
struct WithExcerpt {
    diagnostic: MietteDiagnostic,
    excerpt: Excerpt,
}

impl std::fmt::Display for WithExcerpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.diagnostic, f)
    }
}

impl std::error::Error for WithExcerpt {}

impl miette::Diagnostic for WithExcerpt {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diagnostic.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.diagnostic.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diagnostic.help()
    }

    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diagnostic.url()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.diagnostic.labels()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }
}

/// The part of a file one frame shows, with the label placed in it.
struct Framed {
    excerpt: Excerpt,
    /// Byte offset and length of the label in `excerpt.text`.
    label_start: usize,
    label_len: usize,
    /// What was left out (a long line's other columns, a long label's other lines).
    notes: Vec<String>,
}

/// Lines of a file, each cut to the same character columns, that miette reads as if they
/// were the whole file: line and column numbers are shifted back to the file's.
#[derive(Debug)]
struct Excerpt {
    name: String,
    text: String,
    /// 0-based line of the file the excerpt starts at.
    first_line: usize,
    /// 0-based character column of the file each excerpt line starts at.
    first_column: usize,
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            inner.column() + self.first_column,
            inner.line_count(),
        )))
    }
}

/// Cuts the frame for `span`: the span is clamped to the text and to char boundaries (a span
/// past the end of a line or of the file points at its end); a label over more than
/// [`MAX_LABEL_LINES`] lines is shown on its first line; lines longer than [`WINDOW_CHARS`]
/// are cut to a window starting [`WINDOW_LEAD`] characters before the label. Cost: O(bytes
/// of the framed lines).
fn frame(file: &SourceFile, span: Span) -> Framed {
    let text = &file.text;
    let start = floor_char_boundary(text, span.start);
    let mut end = floor_char_boundary(text, span.end.max(start));
    let first = file.line_index(start);
    let mut last = file.line_index(end);
    // A span ending with a line break ends on the line it breaks.
    if last > first && end == file.line_range(last).start {
        last -= 1;
    }
    let mut notes = Vec::new();
    if last - first >= MAX_LABEL_LINES {
        notes.push(format!(
            "the label spans lines {} to {}; only line {} is shown",
            first + 1,
            last + 1,
            first + 1
        ));
        last = first;
        end = file.line_range(first).end.max(start);
    }
    let from = first.saturating_sub(1);
    let to = (last + 1).min(file.line_count() - 1);
    let start_column = file.line_col(start).1 - 1;
    let ascii = file.is_ascii();
    let longest = (from..=to)
        .map(|line| file.line_range(line).len())
        .max()
        .unwrap_or(0);
    let (first_column, width) = if longest > WINDOW_CHARS {
        (start_column.saturating_sub(WINDOW_LEAD), WINDOW_CHARS)
    } else {
        (0, usize::MAX)
    };
    let mut excerpt = String::new();
    let mut label_start = 0;
    let mut label_end = 0;
    for line in from..=to {
        let range = file.line_range(line);
        let line_text = &text[range.clone()];
        let shown = if ascii {
            let begin = first_column.min(line_text.len());
            &line_text[begin..begin.saturating_add(width).min(line_text.len())]
        } else {
            char_window(line_text, first_column, width)
        };
        let offset_of = |at: usize| {
            // Byte offset in the excerpt of the file offset `at` on this line.
            let at = at.clamp(range.start, range.end);
            if ascii {
                let local = (at - range.start)
                    .saturating_sub(first_column)
                    .min(shown.len());
                return excerpt.len() + local;
            }
            let column = text[range.start..at].chars().count();
            let local = column.saturating_sub(first_column).min(width);
            excerpt.len() + shown.chars().take(local).map(char::len_utf8).sum::<usize>()
        };
        if line == first {
            label_start = offset_of(start);
        }
        if line == last {
            label_end = offset_of(end).max(label_start);
        }
        excerpt.push_str(shown);
        if line + 1 < file.line_count() {
            excerpt.push('\n');
            // A label on the line break itself (an error at the end of a line) keeps it.
            let shown_to_end = if ascii {
                first_column + shown.len() >= line_text.len()
            } else {
                first_column + shown.chars().count() >= line_text.chars().count()
            };
            if line == last && end > range.end && shown_to_end {
                label_end = excerpt.len();
            }
        }
        if width != usize::MAX && line_text.len() > WINDOW_CHARS && line == first {
            let length = if ascii {
                line_text.len()
            } else {
                line_text.chars().count()
            };
            if length > width {
                notes.push(format!(
                    "line {} is {length} characters long; columns {} to {} are shown",
                    line + 1,
                    first_column + 1,
                    (first_column + width).min(length)
                ));
            }
        }
    }
    Framed {
        excerpt: Excerpt {
            name: file.name.clone(),
            text: excerpt,
            first_line: from,
            first_column,
        },
        label_start,
        label_len: label_end - label_start,
        notes,
    }
}

/// The characters `skip..skip + take` of a line, as a slice.
fn char_window(line: &str, skip: usize, take: usize) -> &str {
    let mut indices = line.char_indices().map(|(index, _)| index).skip(skip);
    let Some(begin) = indices.next() else {
        return "";
    };
    let finish = match take.checked_sub(1) {
        Some(rest) => line[begin..]
            .char_indices()
            .nth(rest + 1)
            .map_or(line.len(), |(index, _)| begin + index),
        None => begin,
    };
    &line[begin..finish]
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
    let mut out = Vec::new();
    if write_report(results, color, &mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Frames rendered at once: enough to keep every core busy, few enough that the rendered
/// text held at a time stays small (a frame is a few hundred bytes).
const FRAMES_PER_BATCH: usize = 1024;

/// Writes [`render_report`] to `out` as it is rendered: frames are rendered in batches of
/// `FRAMES_PER_BATCH` on all cores (rayon) and written in order, so the report never exists
/// whole in memory (it is several times the size of the policies). Cost: O(findings × frame)
/// time, O(batch) memory beyond the results.
pub fn write_report(
    results: &[FileDiagnostics],
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    for result in results.iter().filter(|r| !r.diagnostics.is_empty()) {
        for (batch_index, batch) in result.diagnostics.chunks(FRAMES_PER_BATCH).enumerate() {
            let frames: Vec<String> = batch
                .par_iter()
                .map(|d| render_one(&result.file, d, color))
                .collect();
            for (index, frame) in frames.iter().enumerate() {
                // Frames of one file are separated by a blank line (see [`render`]).
                if batch_index > 0 || index > 0 {
                    out.write_all(b"\n")?;
                }
                out.write_all(frame.as_bytes())?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.write_all(Counts::of(results).summary().as_bytes())?;
    out.write_all(b"\n")
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

    #[test]
    fn a_label_far_along_a_line_is_shown_in_a_window() {
        // Columns past 65,536 once made the renderer panic.
        for column in [65_536, 70_000, 200] {
            let text = format!("{}}}\nnext line\n", " ".repeat(column));
            let file = SourceFile::new("w.hcl", text);
            let diagnostic = Diagnostic::error("hcl-syntax", Span::new(column, column + 1), "bad")
                .with_label("here");
            let out = render_one(&file, &diagnostic, false);
            assert!(out.contains(&format!("w.hcl:1:{}", column + 1)), "{out}");
            assert!(out.contains("here"), "{out}");
            assert!(out.contains("characters long; columns"), "{out}");
            assert!(out.len() < 2_000, "{} bytes", out.len());
        }
    }

    #[test]
    fn spans_past_the_end_and_inside_a_char_are_clamped() {
        let file = SourceFile::new("p.hcl", "path \"é\" {}\nx");
        for span in [
            Span::new(7, 8),
            Span::new(100, 200),
            Span::new(14, 3),
            Span::new(0, usize::MAX),
        ] {
            let diagnostic = Diagnostic::error("x", span, "m").with_label("l");
            let out = render_one(&file, &diagnostic, false);
            assert!(out.contains("p.hcl:"), "{span:?}: {out}");
        }
    }

    #[test]
    fn a_label_over_many_lines_shows_its_first() {
        let text = "a\n".repeat(1_000);
        let file = SourceFile::new("p.hcl", text.clone());
        let diagnostic =
            Diagnostic::error("x", Span::new(0, text.len()), "m").with_label("whole file");
        let out = render_one(&file, &diagnostic, false);
        assert!(out.contains("only line 1 is shown"), "{out}");
        assert!(out.lines().count() < 20, "{out}");
    }

    #[test]
    fn the_written_report_is_the_frames_joined_across_batches() {
        // More frames than one batch, in two files: the blank lines between frames and after
        // each file must fall where joining every frame of a file puts them.
        let file = std::sync::Arc::new(SourceFile::new("p.hcl", "a\n".repeat(3_000)));
        let other = std::sync::Arc::new(SourceFile::new("q.hcl", "b\n"));
        let finding = |line: usize| {
            Diagnostic::error("x", Span::new(2 * line, 2 * line + 1), format!("m{line}"))
        };
        let results = [
            FileDiagnostics {
                file: file.clone(),
                diagnostics: (0..FRAMES_PER_BATCH + 3).map(finding).collect(),
            },
            FileDiagnostics {
                file: other.clone(),
                diagnostics: Vec::new(),
            },
            FileDiagnostics {
                file: other.clone(),
                diagnostics: vec![finding(0)],
            },
        ];
        let expected = format!(
            "{}\n{}\n{}\n",
            render(&file, &results[0].diagnostics, false),
            render(&other, &results[2].diagnostics, false),
            Counts::of(&results).summary()
        );
        let mut written = Vec::new();
        write_report(&results, false, &mut written).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), expected);
    }

    #[test]
    fn char_windows_slice_on_char_boundaries() {
        assert_eq!(char_window("héllo", 1, 3), "éll");
        assert_eq!(char_window("héllo", 4, 10), "o");
        assert_eq!(char_window("héllo", 9, 10), "");
        assert_eq!(char_window("héllo", 0, usize::MAX), "héllo");
    }
}
