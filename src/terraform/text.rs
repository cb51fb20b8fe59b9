//! Policy text cut out of a Terraform file, with a map from each byte of the text back to the
//! bytes of the `.tf` file it came from.
//!
//! The text the provider sends to Vault is not always a slice of the file: `<<-` heredocs
//! lose their indentation, `$${` becomes `${`, quoted strings lose their backslash escapes, and
//! a `vault_policy_document` block is rendered into HCL. Each piece of the text is recorded as
//! either *verbatim* (byte `i` of the piece is byte `i` of its source range) or an *atom* (the
//! whole piece stands for a whole source range, e.g. `"` for `\"`). Lookups cost O(log pieces).

use crate::span::Span;

/// One piece of the text and where it came from.
#[derive(Clone, Copy, Debug)]
struct Piece {
    text_start: usize,
    text_len: usize,
    source_start: usize,
    source_len: usize,
    verbatim: bool,
}

/// A text built piece by piece, remembering each piece's source range.
#[derive(Clone, Debug, Default)]
pub struct MappedText {
    pub text: String,
    pieces: Vec<Piece>,
}

impl MappedText {
    pub fn new() -> MappedText {
        MappedText::default()
    }

    /// Appends `source[range]` unchanged.
    pub fn verbatim(&mut self, source: &str, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let text_start = self.text.len();
        self.text.push_str(&source[start..end]);
        if let Some(last) = self.pieces.last_mut() {
            let contiguous = last.verbatim
                && last.text_start + last.text_len == text_start
                && last.source_start + last.source_len == start;
            if contiguous {
                last.text_len += end - start;
                last.source_len += end - start;
                return;
            }
        }
        self.pieces.push(Piece {
            text_start,
            text_len: end - start,
            source_start: start,
            source_len: end - start,
            verbatim: true,
        });
    }

    /// Appends `text`, which stands for the whole source span `source` (an escape, or a piece
    /// of rendered HCL pointing at the Terraform token it came from).
    pub fn atom(&mut self, text: &str, source: Span) {
        if text.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            text_start: self.text.len(),
            text_len: text.len(),
            source_start: source.start,
            source_len: source.len(),
            verbatim: false,
        });
        self.text.push_str(text);
    }

    /// The piece holding text byte `offset`, if any. Cost: O(log pieces).
    fn piece_at(&self, offset: usize) -> Option<&Piece> {
        let index = self
            .pieces
            .partition_point(|piece| piece.text_start + piece.text_len <= offset);
        self.pieces.get(index)
    }

    /// The source offset where text byte `offset` starts.
    pub fn map_start(&self, offset: usize) -> usize {
        match self.piece_at(offset) {
            Some(piece) if piece.verbatim => piece.source_start + (offset - piece.text_start),
            Some(piece) => piece.source_start,
            None => self
                .pieces
                .last()
                .map_or(0, |piece| piece.source_start + piece.source_len),
        }
    }

    /// The source offset where a text range ending (exclusively) at `offset` ends.
    pub fn map_end(&self, offset: usize) -> usize {
        if offset == 0 {
            return self.map_start(0);
        }
        match self.piece_at(offset - 1) {
            Some(piece) if piece.verbatim => piece.source_start + (offset - piece.text_start),
            Some(piece) => piece.source_start + piece.source_len,
            None => self.map_start(offset),
        }
    }

    /// A span of the text as a span of the source.
    pub fn map_span(&self, span: Span) -> Span {
        let start = self.map_start(span.start);
        if span.is_empty() {
            return Span::new(start, start);
        }
        Span::new(start, self.map_end(span.end).max(start))
    }
}

/// A `${...}` interpolation or `%{...}` directive found in a template.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TemplateMark {
    pub span: Span,
    pub directive: bool,
}

/// How a template's raw text is read: heredoc bodies keep backslashes, quoted strings
/// interpret them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Flavor {
    Heredoc,
    Quoted,
}

/// Decodes the raw template text `source[start..end]` (a heredoc body or the inside of a
/// quoted string) into `out`: `$${` → `${`, `%%{` → `%{`, and for quoted strings the
/// backslash escapes. Interpolations and directives are copied as written and returned.
/// `strip` is the indentation removed from the start of every line (`<<-`). Cost: O(n).
pub fn decode_template(
    source: &str,
    start: usize,
    end: usize,
    flavor: Flavor,
    strip: usize,
    out: &mut MappedText,
) -> Vec<TemplateMark> {
    let bytes = source.as_bytes();
    let mut marks = Vec::new();
    let mut at = start;
    let mut line_start = true;
    while at < end {
        if line_start && strip > 0 {
            at = skip_indent(source, at, end, strip);
            line_start = false;
            continue;
        }
        let rest = &source[at..end];
        if rest.starts_with("$${") || rest.starts_with("%%{") {
            out.atom(&rest[1..3], Span::new(at, at + 3));
            at += 3;
            continue;
        }
        if rest.starts_with("${") || rest.starts_with("%{") {
            let close = matching_brace(source, at + 1, end);
            marks.push(TemplateMark {
                span: Span::new(at, close),
                directive: rest.starts_with('%'),
            });
            out.verbatim(source, at, close);
            at = close;
            continue;
        }
        if flavor == Flavor::Quoted && bytes[at] == b'\\' {
            at = decode_escape(source, at, end, out);
            continue;
        }
        let width = rest.chars().next().map_or(1, char::len_utf8);
        out.verbatim(source, at, at + width);
        line_start = bytes[at] == b'\n';
        at += width;
    }
    marks
}

/// Skips up to `strip` leading whitespace characters of a line.
fn skip_indent(source: &str, mut at: usize, end: usize, strip: usize) -> usize {
    for _ in 0..strip {
        match source[at..end].chars().next() {
            Some(c) if c.is_whitespace() && c != '\n' => at += c.len_utf8(),
            _ => break,
        }
    }
    at
}

/// The offset just past the `}` closing the brace at `open`, counting nested braces and
/// skipping quoted strings; `end` if unclosed.
fn matching_brace(source: &str, open: usize, end: usize) -> usize {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut at = open;
    while at < end {
        match (in_string, bytes[at]) {
            (true, b'\\') => at += 1,
            (true, b'"') => in_string = false,
            (false, b'"') => in_string = true,
            (false, b'{') => depth += 1,
            (false, b'}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    end
}

/// Decodes one backslash escape of a quoted HCL2 string at `at`; returns the offset after it.
fn decode_escape(source: &str, at: usize, end: usize, out: &mut MappedText) -> usize {
    let rest = &source[at..end];
    let Some(kind) = rest[1..].chars().next() else {
        out.verbatim(source, at, at + 1);
        return at + 1;
    };
    let simple = match kind {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        '"' => Some('"'),
        '\\' => Some('\\'),
        _ => None,
    };
    if let Some(decoded) = simple {
        out.atom(decoded.encode_utf8(&mut [0; 4]), Span::new(at, at + 2));
        return at + 2;
    }
    let digits = match kind {
        'u' => 4,
        'U' => 8,
        _ => 0,
    };
    let hex = rest.get(2..2 + digits).unwrap_or("");
    let decoded = (digits > 0 && hex.len() == digits)
        .then(|| u32::from_str_radix(hex, 16).ok())
        .flatten()
        .and_then(char::from_u32);
    match decoded {
        Some(c) => {
            out.atom(c.encode_utf8(&mut [0; 4]), Span::new(at, at + 2 + digits));
            at + 2 + digits
        }
        None => {
            // Terraform refuses unknown escapes before the policy is sent; keep the text.
            let width = 1 + kind.len_utf8();
            out.verbatim(source, at, at + width);
            at + width
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(source: &str, flavor: Flavor, strip: usize) -> (MappedText, Vec<TemplateMark>) {
        let mut out = MappedText::new();
        let marks = decode_template(source, 0, source.len(), flavor, strip, &mut out);
        (out, marks)
    }

    #[test]
    fn escapes_map_back_to_their_source_bytes() {
        let source = r#"a\"b$${c}"#;
        let (out, marks) = decode(source, Flavor::Quoted, 0);
        assert_eq!(out.text, "a\"b${c}");
        assert!(marks.is_empty());
        // `b` is text byte 2, source byte 3; `c` is text byte 5, source byte 7.
        assert_eq!(out.map_start(2), 3);
        assert_eq!(out.map_start(5), 7);
        // The escaped quote covers both source bytes.
        assert_eq!(out.map_span(Span::new(1, 2)), Span::new(1, 3));
    }

    #[test]
    fn indentation_is_stripped_per_line() {
        let source = "    a\n      b\n\n    c\n";
        let (out, _) = decode(source, Flavor::Heredoc, 4);
        assert_eq!(out.text, "a\n  b\n\nc\n");
        assert_eq!(out.map_start(2), 10);
        assert_eq!(out.map_start(7), 19);
    }

    #[test]
    fn interpolations_and_directives_are_marked() {
        let source = "x ${var.a} %{ if true }y%{ endif }";
        let (out, marks) = decode(source, Flavor::Heredoc, 0);
        assert_eq!(out.text, source);
        assert_eq!(marks.len(), 3);
        assert_eq!(marks[0].span, Span::new(2, 10));
        assert!(!marks[0].directive);
        assert!(marks[1].directive);
    }
}
