//! A character cursor that keeps positions exactly the way HCL1's Go scanner does.
//!
//! HCL1 reports errors as `At line:col`, where the column is counted in characters from 1
//! and some quirks leak out: reading past the end moves the column one further *every time*
//! (so an error at the end of the text can sit one or two columns past it), an error is
//! placed on the last character read, and a character can be "unread" once. To report the
//! same line and column as OpenBao, both scanners (HCL and JSON) move through the text with
//! this cursor and its three primitives `next`, `unread` and `peek`, which behave like the Go
//! scanner's. Long runs of ordinary characters are skipped in one step (`skip_run`, ASCII
//! byte by byte), which keeps scanning linear in the text length.

/// What `next` returns: a character, or the end of the text.
///
/// A NUL character also reads as `Eof` (HCL1 stops there and records an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ch {
    Char(char),
    Eof,
}

impl Ch {
    pub(crate) fn is(self, wanted: char) -> bool {
        self == Ch::Char(wanted)
    }

    pub(crate) fn char(self) -> Option<char> {
        match self {
            Ch::Char(c) => Some(c),
            Ch::Eof => None,
        }
    }

    pub(crate) fn is_decimal(self) -> bool {
        matches!(self, Ch::Char('0'..='9'))
    }
}

/// A Go-style source position: line from 1, column in characters from 1 (0 right after a
/// newline has been read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GoPos {
    /// Byte offset of the next character to read.
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

/// A scanner error: HCL1's message and where HCL1 puts it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ScanError {
    pub message: String,
    /// Byte offset of the character the error points at (the text length at the end).
    pub offset: usize,
    /// Byte length of that character (0 at the end of the text).
    pub len: usize,
    pub line: usize,
    pub column: usize,
}

pub(crate) struct Cursor<'a> {
    pub text: &'a str,
    pub pos: GoPos,
    prev: GoPos,
    last_char_len: usize,
    last_line_len: usize,
    /// HCL1 keeps only the most recent scanner error, and it wins over any parser error.
    pub last_error: Option<ScanError>,
    /// The HCL scanner complains about NUL and U+E123; the JSON scanner silently reads a NUL
    /// as the end of the text and U+E123 as an ordinary character.
    hcl: bool,
}

impl<'a> Cursor<'a> {
    /// A cursor for the HCL scanner.
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor::with_dialect(text, true)
    }

    /// A cursor for the JSON scanner.
    pub(crate) fn json(text: &'a str) -> Cursor<'a> {
        Cursor::with_dialect(text, false)
    }

    fn with_dialect(text: &'a str, hcl: bool) -> Cursor<'a> {
        let start = GoPos {
            offset: 0,
            line: 1,
            column: 0,
        };
        Cursor {
            text,
            pos: start,
            prev: start,
            last_char_len: 0,
            last_line_len: 0,
            last_error: None,
            hcl,
        }
    }

    /// Reads one character. At the end of the text the column still moves on (Go quirk).
    pub(crate) fn next(&mut self) -> Ch {
        let Some(c) = self.char_at_offset() else {
            self.pos.column += 1;
            self.last_char_len = 0;
            return Ch::Eof;
        };
        // Field by field: a copy of the whole position compiles to one wide load, which
        // cannot be served from the narrow stores the previous `next` just made and so
        // waits for them (most of this function's time on a long text).
        let GoPos {
            offset,
            line,
            column,
        } = self.pos;
        self.prev.offset = offset;
        self.prev.line = line;
        self.prev.column = column;
        self.pos.column += 1;
        self.last_char_len = c.len_utf8();
        self.pos.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.last_line_len = self.pos.column;
            self.pos.column = 0;
        }
        match c {
            '\0' => {
                if self.hcl {
                    self.error("unexpected null character (0x00)");
                }
                Ch::Eof
            }
            '\u{E123}' if self.hcl => {
                self.error("unicode code point U+E123 reserved for internal use");
                Ch::Char(char::REPLACEMENT_CHARACTER)
            }
            _ => Ch::Char(c),
        }
    }

    /// Puts the last character read back (only one level, like Go's `UnreadRune`).
    pub(crate) fn unread(&mut self) {
        self.pos = self.prev;
    }

    /// The character at the current offset (ASCII without UTF-8 decoding).
    fn char_at_offset(&self) -> Option<char> {
        let byte = *self.text.as_bytes().get(self.pos.offset)?;
        if byte.is_ascii() {
            return Some(char::from(byte));
        }
        self.text[self.pos.offset..].chars().next()
    }

    /// Whether the last `next` read a character (a NUL counts) rather than the end.
    pub(crate) fn read_a_char(&self) -> bool {
        self.last_char_len > 0
    }

    /// The next character without reading it.
    pub(crate) fn peek(&self) -> Ch {
        match self.char_at_offset() {
            Some(c) => Ch::Char(c),
            None => Ch::Eof,
        }
    }

    /// Byte offset where the character last read starts.
    pub(crate) fn last_char_start(&self) -> usize {
        self.pos.offset - self.last_char_len
    }

    /// The position HCL1 gives a token whose first character was just read.
    pub(crate) fn token_line_col(&self) -> (usize, usize) {
        if self.pos.column > 0 {
            (self.pos.line, self.pos.column)
        } else {
            (self.pos.line - 1, self.last_line_len)
        }
    }

    /// Records a scanner error on the character last read (HCL1's `recentPosition`).
    pub(crate) fn error(&mut self, message: &str) {
        let (line, column) = match (self.pos.column, self.last_line_len) {
            (column, _) if column > 0 => (self.pos.line, column),
            (_, last) if last > 0 => (self.pos.line - 1, last),
            _ => (1, 1),
        };
        // HCL1's column is that of the last character consumed (after an `unread`, the one
        // before the unread one), so the span is the character ending at the current offset;
        // after reading the end it is the empty span at the end.
        let consumed = &self.text[..self.pos.offset];
        let len = match consumed.chars().next_back() {
            Some(c) if self.last_char_len > 0 => c.len_utf8(),
            _ => 0,
        };
        self.last_error = Some(ScanError {
            message: message.to_string(),
            offset: self.pos.offset - len,
            len,
            line,
            column,
        });
    }

    /// Skips a run of characters matching `ordinary` (which must exclude NUL and U+E123, the
    /// characters `next` treats specially), leaving the cursor as if each had been read with
    /// `next`. Returns whether anything was skipped. Cost: O(run length).
    pub(crate) fn skip_run(&mut self, ordinary: impl Fn(char) -> bool) -> bool {
        let rest = &self.text[self.pos.offset..];
        let bytes = rest.as_bytes();
        // ASCII characters byte by byte; from the first other character on, by characters.
        let mut len = bytes
            .iter()
            .position(|&b| !b.is_ascii() || b == 0 || !ordinary(char::from(b)))
            .unwrap_or(bytes.len());
        if bytes.get(len).is_some_and(|b| !b.is_ascii()) {
            let tail = &rest[len..];
            len += tail
                .char_indices()
                .find(|&(_, c)| !ordinary(c) || c == '\0' || c == '\u{E123}')
                .map_or(tail.len(), |(index, _)| index);
        }
        let run = &rest[..len];
        let Some(last) = run.chars().next_back() else {
            return false;
        };
        // Everything but the last character moves in bulk; the last goes through `next` so
        // that `unread` and the "last character" bookkeeping stay exact.
        let body = &run[..run.len() - last.len_utf8()];
        self.advance_over(body);
        self.next();
        true
    }

    /// Reads past blanks (space, tab, newline, carriage return) and returns the first other
    /// character: where both scanners (HCL and JSON) start a token. Cost: O(blanks).
    pub(crate) fn next_non_blank(&mut self) -> Ch {
        // Each blank exactly as `next` reads it (none is special), without decoding. The
        // positions move in locals and are stored once: storing `prev` and `pos` per blank
        // made every iteration wait for the previous one's stores (a third of the JSON
        // scanner's time on indented text).
        let bytes = self.text.as_bytes();
        let mut pos = self.pos;
        let mut before_last = None;
        let mut last_line_len = self.last_line_len;
        while let Some(&byte) = bytes.get(pos.offset) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            before_last = Some(pos);
            pos.offset += 1;
            pos.column += 1;
            if byte == b'\n' {
                pos.line += 1;
                last_line_len = pos.column;
                pos.column = 0;
            }
        }
        if let Some(prev) = before_last {
            self.prev = prev;
            self.last_char_len = 1;
            self.pos = pos;
            self.last_line_len = last_line_len;
        }
        self.next()
    }

    /// Reads decimal digits starting at `ch` (read or merely peeked), puts the first
    /// non-digit back and returns it (HCL1's `scanMantissa`, shared by both scanners).
    pub(crate) fn scan_mantissa(&mut self, mut ch: Ch) -> Ch {
        let mut scanned = false;
        while ch.is_decimal() {
            ch = self.next();
            scanned = true;
        }
        if scanned && ch != Ch::Eof {
            self.unread();
        }
        ch
    }

    /// `ch` is the `e`/`E` just read (or anything else, which ends the number): reads an
    /// optional sign and the exponent's digits (HCL1's `scanExponent`).
    pub(crate) fn scan_exponent(&mut self, ch: Ch) -> Ch {
        if !(ch.is('e') || ch.is('E')) {
            return ch;
        }
        let mut next = self.next();
        if next.is('-') || next.is('+') {
            next = self.next();
        }
        self.scan_mantissa(next)
    }

    fn advance_over(&mut self, body: &str) {
        match body.rfind('\n') {
            None => self.pos.column += body.chars().count(),
            Some(last_newline) => {
                let newlines = body.bytes().filter(|&b| b == b'\n').count();
                let before = &body[..last_newline];
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let width_before = before[line_start..].chars().count();
                self.last_line_len = if newlines == 1 {
                    self.pos.column + width_before + 1
                } else {
                    width_before + 1
                };
                self.pos.line += newlines;
                self.pos.column = body[last_newline + 1..].chars().count();
            }
        }
        self.pos.offset += body.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk_by_next(text: &str) -> (GoPos, usize) {
        let mut cursor = Cursor::new(text);
        while cursor.peek() != Ch::Eof {
            cursor.next();
        }
        (cursor.pos, cursor.last_line_len)
    }

    #[test]
    fn skip_run_matches_reading_one_by_one() {
        for text in [
            "abc",
            "a\nbc",
            "ab\n\ncd\ne",
            "é\nü x",
            "\n",
            "x\n",
            "aé\nb",
            "ab\né",
        ] {
            let mut cursor = Cursor::new(text);
            cursor.skip_run(|_| true);
            assert_eq!(
                (cursor.pos, cursor.last_line_len),
                walk_by_next(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn next_non_blank_matches_reading_one_by_one() {
        for text in [
            "x",
            "  x",
            "\n\n  \t\r\nx",
            " \n",
            "",
            "\u{e9} x",
            " \u{e9}",
            "\n",
        ] {
            let mut fast = Cursor::new(text);
            let fast_ch = fast.next_non_blank();
            let mut slow = Cursor::new(text);
            let mut slow_ch = slow.next();
            while matches!(slow_ch, Ch::Char(' ' | '\t' | '\n' | '\r')) {
                slow_ch = slow.next();
            }
            assert_eq!(fast_ch, slow_ch, "{text:?}");
            assert_eq!(
                (fast.pos, fast.prev, fast.last_char_len, fast.last_line_len),
                (slow.pos, slow.prev, slow.last_char_len, slow.last_line_len),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        /// `next_non_blank` leaves the cursor as reading each blank with `next` would, from
        /// any starting point.
        #[test]
        fn next_non_blank_agrees_with_next(text in "[ \t\r\nxé]{0,16}", skip in 0usize..4) {
            let mut fast = Cursor::json(&text);
            let mut slow = Cursor::json(&text);
            for _ in 0..skip {
                fast.next();
                slow.next();
            }
            let fast_ch = fast.next_non_blank();
            let mut slow_ch = slow.next();
            while matches!(slow_ch, Ch::Char(' ' | '\t' | '\n' | '\r')) {
                slow_ch = slow.next();
            }
            proptest::prop_assert_eq!(fast_ch, slow_ch);
            proptest::prop_assert_eq!(
                (fast.pos, fast.prev, fast.last_char_len, fast.last_line_len),
                (slow.pos, slow.prev, slow.last_char_len, slow.last_line_len)
            );
        }
    }

    #[test]
    fn skip_run_stops_at_the_first_extraordinary_character() {
        for text in ["abc\u{e9}d ef", "ab\0cd", "\u{e9}\u{e9}a b", "a\u{E123}b"] {
            let mut cursor = Cursor::new(text);
            cursor.skip_run(|c| c != ' ');
            let expected = text.find([' ', '\0', '\u{E123}']).unwrap_or(text.len());
            assert_eq!(cursor.pos.offset, expected, "{text:?}");
        }
    }

    #[test]
    fn reading_past_the_end_moves_the_column_each_time() {
        let mut cursor = Cursor::new("ab");
        cursor.next();
        cursor.next();
        assert_eq!(cursor.next(), Ch::Eof);
        assert_eq!(cursor.token_line_col(), (1, 3));
        cursor.next();
        assert_eq!(cursor.token_line_col(), (1, 4));
    }
}
