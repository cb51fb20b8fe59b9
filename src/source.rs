//! A named source text with line lookup.

use crate::span::Span;

/// One input file (or stdin, or an inline snippet) held in memory.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown to users: the path as given on the command line.
    pub name: String,
    pub text: String,
    /// Byte offset of the start of each line; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// Whether the text is ASCII, so a column is a byte difference.
    ascii: bool,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            ascii: text.is_ascii(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset. Cost: O(log lines) for ASCII
    /// text, else O(log lines + line length).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_index];
        let column = if self.ascii {
            offset - line_start
        } else {
            self.text[line_start..floor_char_boundary(&self.text, offset)]
                .chars()
                .count()
        };
        (line_index + 1, column + 1)
    }

    /// 0-based index of the line holding a byte offset (clamped to the text). Cost: O(log lines).
    pub fn line_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// The number of lines (a text ending in a newline has an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte range of the 0-based line `index` without its line break (`\n` or `\r\n`);
    /// empty past the last line.
    pub fn line_range(&self, index: usize) -> std::ops::Range<usize> {
        let Some(&start) = self.line_starts.get(index) else {
            return self.text.len()..self.text.len();
        };
        let mut end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// Whether the text is ASCII (then character columns are byte offsets).
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }

    /// The text a span covers (empty if out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// The policy name this file stands for: the file name without its last extension
    /// (`rabbitmq.creds.write.hcl` is policy `rabbitmq.creds.write`, as Vault names allow dots).
    pub fn stem(&self) -> String {
        stem_of(&self.name).to_string()
    }
}

/// The file name of `name` (a path) without its last extension: a policy's name.
pub fn stem_of(name: &str) -> &str {
    let file_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    }
}

/// The span of a parser's `(byte offset, byte length)` widened to at least one character, so a
/// zero-length error location still underlines something, and never ending inside a multi-byte
/// character (a `\u{feff}` after the location, say). Cost: O(1).
pub fn at_least_one_char(text: &str, start: usize, len: usize) -> crate::span::Span {
    let start = floor_char_boundary(text, start);
    let mut end = start.saturating_add(len).min(text.len());
    if end == start {
        end = text[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
    }
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    crate::span::Span::new(start, end)
}

/// The largest char boundary at or before `offset` (clamped to the text).
pub(crate) fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zero-length location before a byte-order mark widens to the whole mark, never into it
    /// (the `scenario` fuzz target's crash: a SARIF fingerprint sliced at byte 37 of a BOM).
    #[test]
    fn at_least_one_char_never_ends_inside_a_char() {
        let text = "ab\u{feff}c";
        assert_eq!(at_least_one_char(text, 2, 0), crate::span::Span::new(2, 5));
        assert_eq!(at_least_one_char(text, 2, 1), crate::span::Span::new(2, 5));
        assert_eq!(at_least_one_char(text, 3, 0), crate::span::Span::new(2, 5));
        assert_eq!(at_least_one_char(text, 0, 0), crate::span::Span::new(0, 1));
        assert_eq!(at_least_one_char(text, 6, 0), crate::span::Span::new(6, 6));
        assert_eq!(at_least_one_char(text, 99, 4), crate::span::Span::new(6, 6));
    }

    #[test]
    fn line_col_counts_from_one() {
        let file = SourceFile::new("a.hcl", "ab\ncdé\nf");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(7), (2, 4));
        assert_eq!(file.line_col(8), (3, 1));
    }

    #[test]
    fn stem_drops_the_last_extension() {
        assert_eq!(
            SourceFile::new("dir/ai-inference.hcl", "").stem(),
            "ai-inference"
        );
        assert_eq!(SourceFile::new("x/a.b.c.hcl", "").stem(), "a.b.c");
        assert_eq!(SourceFile::new("x/.hidden", "").stem(), ".hidden");
    }
}
