//! The HCL1 scanner: text to tokens, with HCL1's token boundaries, error texts and positions.
//!
//! Facts matched against OpenBao 2.7.2 (`bao` binary; HCL `v1.0.1-vault-7`):
//! - whitespace is only space, tab, newline and carriage return (a BOM or `\v` is an
//!   `illegal char`);
//! - identifiers start with a letter or `_` and go on with letters, digits, `_`, `-`, `.`;
//!   `true`/`false` are BOOL tokens;
//! - a number may start with `-`; `0x` starts hex, a leading `0` octal (only digits after the
//!   second one are checked, so `08` scans and `089` is an `illegal octal number`), `.`, `e`
//!   and `E` make a FLOAT; the exponent scanner swallows the character after a bare `e` (so
//!   `1e}` is one token) and `.5e3` scans as `.5e` then `3`;
//! - strings: `"` to `"`, no newline, Go-style escapes checked while scanning, and inside
//!   `${ ... }` quotes and newlines are allowed (brace depth is tracked);
//! - comments: `#`, `//` to end of line, `/* */` (not nested; `/*/` does not close);
//! - heredocs: `<<ID` or `<<-ID` then a newline; the body ends at a line holding only
//!   optional leading whitespace, `ID` and optional `\r`, *followed by a newline*; for `<<-`
//!   the line must be at least as long as `-ID`, so `<<-EOF` cannot end on an unindented
//!   `EOF` line;
//! - only the last scanner error is kept, and it wins over any parser error.

use super::cursor::{Ch, Cursor, ScanError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Illegal,
    Eof,
    Comment,
    Ident,
    Number,
    Float,
    Bool,
    Str,
    Heredoc,
    LBrack,
    LBrace,
    Comma,
    Period,
    RBrack,
    RBrace,
    Assign,
    Add,
    Sub,
}

impl Kind {
    /// The token name HCL1 prints in its messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Illegal => "ILLEGAL",
            Kind::Eof => "EOF",
            Kind::Comment => "COMMENT",
            Kind::Ident => "IDENT",
            Kind::Number => "NUMBER",
            Kind::Float => "FLOAT",
            Kind::Bool => "BOOL",
            Kind::Str => "STRING",
            Kind::Heredoc => "HEREDOC",
            Kind::LBrack => "LBRACK",
            Kind::LBrace => "LBRACE",
            Kind::Comma => "COMMA",
            Kind::Period => "PERIOD",
            Kind::RBrack => "RBRACK",
            Kind::RBrace => "RBRACE",
            Kind::Assign => "ASSIGN",
            Kind::Add => "ADD",
            Kind::Sub => "SUB",
        }
    }
}

/// One token: kind, byte range in the scanned text, and HCL1's line and column for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

/// Go's `unicode.IsLetter` (general category L) above ASCII. Rust's `is_alphabetic` adds
/// letter numbers (Nl, also numeric, so excluded here exactly) and `Other_Alphabetic` marks;
/// the marks of the Hebrew, Arabic, Indic and Thai/Lao blocks are excluded by range, marks of
/// other scripts are letters for us and illegal characters for HCL1.
pub(crate) fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || c == '_'
        || (!c.is_ascii() && c.is_alphabetic() && !c.is_numeric() && !is_common_mark(c))
}

/// Combining marks that Rust counts as alphabetic (`Other_Alphabetic`) and Go does not.
fn is_common_mark(c: char) -> bool {
    let code = u32::from(c);
    if (0x0900..=0x0DFF).contains(&code) {
        // The Indic blocks share one layout: signs at 0x00-0x03, nukta 0x3C, vowel signs
        // and virama 0x3E-0x4F, stress and length marks 0x51-0x57, vowel signs 0x62-0x63.
        let offset = code & 0x7F;
        return matches!(offset, 0x00..=0x03 | 0x3C | 0x3E..=0x4F | 0x51..=0x57 | 0x62..=0x63);
    }
    matches!(
        code,
        0x0345
            | 0x05B0..=0x05C7
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0670
            | 0x06D6..=0x06ED
            | 0x0E31
            | 0x0E34..=0x0E3A
            | 0x0E47..=0x0E4E
            | 0x0EB1
            | 0x0EB4..=0x0EBC
            | 0x0EC8..=0x0ECD
    )
}

/// Go's `unicode.IsDigit` (category Nd) above ASCII. Rust's `is_numeric` adds Nl (excluded
/// exactly: it is also alphabetic) and No; the common No characters (superscripts,
/// subscripts, fractions, circled and parenthesised numbers) are excluded by range, rarer
/// ones are not.
pub(crate) fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
        || (!c.is_ascii() && c.is_numeric() && !c.is_alphabetic() && !is_common_other_number(c))
}

fn is_common_other_number(c: char) -> bool {
    matches!(
        c,
        '\u{b2}' | '\u{b3}' | '\u{b9}' | '\u{bc}'..='\u{be}'
            | '\u{2070}'..='\u{209f}'
            | '\u{2150}'..='\u{218b}'
            | '\u{2460}'..='\u{24ff}'
            | '\u{2776}'..='\u{2793}'
            | '\u{3192}'..='\u{3195}'
            | '\u{3220}'..='\u{3229}'
            | '\u{3248}'..='\u{325f}'
            | '\u{3280}'..='\u{3289}'
            | '\u{32b1}'..='\u{32bf}'
            | '\u{1f100}'..='\u{1f10c}'
    )
}

pub(crate) fn ch_is_letter(ch: Ch) -> bool {
    ch.char().is_some_and(is_letter)
}

pub(crate) fn ch_is_digit(ch: Ch) -> bool {
    ch.char().is_some_and(is_digit)
}

pub(crate) fn digit_value(ch: Ch) -> u32 {
    match ch.char() {
        Some(c) => c.to_digit(16).unwrap_or(16),
        None => 16,
    }
}

pub(crate) struct Lexer<'a> {
    pub cursor: Cursor<'a>,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            cursor: Cursor::new(text),
        }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.cursor.text
    }

    pub(crate) fn last_error(&self) -> Option<&ScanError> {
        self.cursor.last_error.as_ref()
    }

    /// Scans the next token (comments included). Cost: O(token length).
    pub(crate) fn scan(&mut self) -> Token {
        let ch = self.cursor.next_non_blank();
        let start = self.cursor.last_char_start();
        let (line, column) = self.cursor.token_line_col();
        let kind = self.scan_kind(ch);
        Token {
            kind,
            start,
            end: self.cursor.pos.offset.max(start),
            line,
            column,
        }
    }

    fn scan_kind(&mut self, ch: Ch) -> Kind {
        let Some(c) = ch.char() else {
            return Kind::Eof;
        };
        if is_letter(c) {
            return self.scan_identifier();
        }
        if c.is_ascii_digit() {
            return self.scan_number(ch);
        }
        match c {
            '"' => {
                self.scan_string();
                Kind::Str
            }
            '#' | '/' => {
                self.scan_comment(c);
                Kind::Comment
            }
            '.' => self.scan_period(),
            '<' => {
                self.scan_heredoc();
                Kind::Heredoc
            }
            '[' => Kind::LBrack,
            ']' => Kind::RBrack,
            '{' => Kind::LBrace,
            '}' => Kind::RBrace,
            ',' => Kind::Comma,
            '=' => Kind::Assign,
            '+' => Kind::Add,
            '-' if self.cursor.peek().is_decimal() => {
                let first = self.cursor.next();
                self.scan_number(first)
            }
            '-' => Kind::Sub,
            _ => {
                self.cursor.error("illegal char");
                Kind::Illegal
            }
        }
    }

    fn scan_identifier(&mut self) -> Kind {
        let start = self.cursor.last_char_start();
        let ident_char = |c: char| is_letter(c) || is_digit(c) || c == '-' || c == '.';
        self.cursor.skip_run(ident_char);
        let after = self.cursor.next();
        if after != Ch::Eof {
            self.cursor.unread();
        }
        match &self.cursor.text[start..self.cursor.pos.offset] {
            "true" | "false" => Kind::Bool,
            _ => Kind::Ident,
        }
    }

    fn scan_period(&mut self) -> Kind {
        let peeked = self.cursor.peek();
        if !peeked.is_decimal() {
            return Kind::Period;
        }
        let after = self.cursor.scan_mantissa(peeked);
        self.cursor.scan_exponent(after);
        Kind::Float
    }

    /// `first` is the first digit, already read.
    fn scan_number(&mut self, first: Ch) -> Kind {
        if first.is('0') {
            return self.scan_zero_number();
        }
        self.cursor.scan_mantissa(first);
        let ch = self.cursor.next();
        self.scan_number_tail(ch)
    }

    /// After the integer digits: an exponent or fraction makes a FLOAT.
    fn scan_number_tail(&mut self, ch: Ch) -> Kind {
        if ch.is('e') || ch.is('E') {
            self.cursor.scan_exponent(ch);
            return Kind::Float;
        }
        if ch.is('.') {
            let after = self.scan_fraction();
            if after.is('e') || after.is('E') {
                let again = self.cursor.next();
                self.cursor.scan_exponent(again);
            }
            return Kind::Float;
        }
        if ch != Ch::Eof {
            self.cursor.unread();
        }
        Kind::Number
    }

    fn scan_zero_number(&mut self) -> Kind {
        let mut ch = self.cursor.next();
        if ch.is('x') || ch.is('X') {
            ch = self.cursor.next();
            let mut found = false;
            while ch.char().is_some_and(|c| c.is_ascii_hexdigit()) {
                ch = self.cursor.next();
                found = true;
            }
            if !found {
                self.cursor.error("illegal hexadecimal number");
            }
            if ch != Ch::Eof {
                self.cursor.unread();
            }
            return Kind::Number;
        }
        // Only the digits after the one following `0` are checked for 8 and 9 (HCL1 quirk).
        let mut illegal_octal = false;
        while ch.is_decimal() {
            ch = self.cursor.next();
            if ch.is('8') || ch.is('9') {
                illegal_octal = true;
            }
        }
        if ch.is('e') || ch.is('E') || ch.is('.') {
            return self.scan_number_tail(ch);
        }
        if illegal_octal {
            self.cursor.error("illegal octal number");
        }
        if ch != Ch::Eof {
            self.cursor.unread();
        }
        Kind::Number
    }

    /// After a `.` that was read.
    fn scan_fraction(&mut self) -> Ch {
        let peeked = self.cursor.peek();
        self.cursor.scan_mantissa(peeked)
    }

    fn scan_string(&mut self) {
        let mut braces = 0usize;
        loop {
            if braces == 0 {
                self.cursor
                    .skip_run(|c| !matches!(c, '"' | '\\' | '$' | '{' | '}' | '\n'));
            } else {
                self.cursor
                    .skip_run(|c| !matches!(c, '\\' | '{' | '}' | '\n' | '"'));
            }
            let ch = self.cursor.next();
            if (ch.is('\n') && braces == 0) || ch == Ch::Eof {
                self.cursor.error("literal not terminated");
                return;
            }
            if ch.is('"') && braces == 0 {
                return;
            }
            if braces == 0 && ch.is('$') && self.cursor.peek().is('{') {
                braces += 1;
                self.cursor.next();
            } else if braces > 0 && ch.is('{') {
                braces += 1;
            }
            if braces > 0 && ch.is('}') {
                braces -= 1;
            }
            if ch.is('\\') {
                self.scan_escape();
            }
        }
    }

    fn scan_escape(&mut self) {
        scan_escape(&mut self.cursor);
    }

    fn scan_comment(&mut self, first: char) {
        let peeked = self.cursor.peek();
        if first == '#' || (first == '/' && !peeked.is('*')) {
            if first == '/' && !peeked.is('/') {
                self.cursor.error("expected '/' for comment");
                return;
            }
            // To the end of the line; a NUL reads as the end of the text and ends it too.
            loop {
                self.cursor.skip_run(|c| c != '\n');
                let ch = self.cursor.next();
                if ch.is('\n') {
                    self.cursor.unread();
                    return;
                }
                if ch == Ch::Eof {
                    return;
                }
            }
        }
        // `/*`: read the `*` and the character after it, then look for `*/`.
        self.cursor.next();
        let mut ch = self.cursor.next();
        loop {
            if ch == Ch::Eof {
                self.cursor.error("comment not terminated");
                return;
            }
            let before = ch;
            if !before.is('*') {
                self.cursor.skip_run(|c| c != '*');
            }
            ch = self.cursor.next();
            // After a skipped run the character before `ch` is not a `*` either.
            if before.is('*') && ch.is('/') {
                return;
            }
        }
    }

    fn scan_heredoc(&mut self) {
        if !self.cursor.next().is('<') {
            self.cursor
                .error("heredoc expected second '<', didn't see it");
            return;
        }
        let anchor_start = self.cursor.pos.offset;
        let mut ch = self.cursor.next();
        if ch.is('-') {
            ch = self.cursor.next();
        }
        while ch_is_letter(ch) || ch_is_digit(ch) {
            ch = self.cursor.next();
        }
        if ch == Ch::Eof {
            self.cursor.error("heredoc not terminated");
            return;
        }
        if ch.is('\r') && self.cursor.peek().is('\n') {
            ch = self.cursor.next();
        }
        if !ch.is('\n') {
            self.cursor.error("invalid characters in heredoc anchor");
            return;
        }
        let anchor_end = self.cursor.last_char_start();
        let anchor = &self.cursor.text[anchor_start..anchor_end];
        let anchor = anchor.strip_suffix('\r').unwrap_or(anchor);
        if anchor.is_empty() || anchor == "-" {
            self.cursor.error("zero-length heredoc anchor");
            return;
        }
        self.scan_heredoc_body(anchor);
    }

    /// Reads lines until one is the terminator (see the module notes). Cost: O(body length).
    fn scan_heredoc_body(&mut self, anchor_token: &str) {
        let name = anchor_token.strip_prefix('-').unwrap_or(anchor_token);
        let mut line_start = self.cursor.pos.offset;
        loop {
            self.cursor.skip_run(|c| c != '\n');
            let ch = self.cursor.next();
            if ch.is('\n') {
                let line_end = self.cursor.last_char_start();
                let line = &self.cursor.text[line_start..line_end];
                if line.len() >= anchor_token.len() && is_heredoc_terminator(line, name) {
                    return;
                }
                line_start = self.cursor.pos.offset;
                continue;
            }
            if ch == Ch::Eof {
                self.cursor.error("heredoc not terminated");
                return;
            }
        }
    }
}

/// HCL1's terminator test: optional leading whitespace, the name, then only `\r`s.
fn is_heredoc_terminator(line: &str, name: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t', '\n', '\u{b}', '\u{c}', '\r']);
    match trimmed.strip_prefix(name) {
        Some(rest) => rest.bytes().all(|b| b == b'\r'),
        None => false,
    }
}

/// Checks one escape after a `\` that was just read (the HCL scanner's rules).
fn scan_escape(cursor: &mut Cursor<'_>) {
    let ch = cursor.next();
    match ch.char() {
        Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' | '"') => {}
        Some('0'..='7') => scan_digits(cursor, ch, 8, 3),
        Some('x') => {
            let first = cursor.next();
            scan_digits(cursor, first, 16, 2)
        }
        Some('u') => {
            let first = cursor.next();
            scan_digits(cursor, first, 16, 4)
        }
        Some('U') => {
            let first = cursor.next();
            scan_digits(cursor, first, 16, 8)
        }
        _ => cursor.error("illegal char escape"),
    }
}

/// Reads up to `count` digits of `base` starting with `ch` (already read); HCL1 complains
/// when fewer are there, and puts the first non-digit back only if it read a digit.
fn scan_digits(cursor: &mut Cursor<'_>, mut ch: Ch, base: u32, count: usize) {
    let mut left = count;
    while left > 0 && digit_value(ch) < base {
        ch = cursor.next();
        if ch == Ch::Eof {
            break;
        }
        left -= 1;
    }
    if left > 0 {
        cursor.error("illegal char escape");
    }
    if left != count && ch != Ch::Eof {
        cursor.unread();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        let mut lexer = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let token = lexer.scan();
            if token.kind == Kind::Eof {
                return out;
            }
            out.push((token.kind, &text[token.start..token.end]));
        }
    }

    #[test]
    fn scans_the_basic_tokens() {
        assert_eq!(
            kinds(r#"path "a/*" { x = [1, 2.5, true] }"#),
            vec![
                (Kind::Ident, "path"),
                (Kind::Str, "\"a/*\""),
                (Kind::LBrace, "{"),
                (Kind::Ident, "x"),
                (Kind::Assign, "="),
                (Kind::LBrack, "["),
                (Kind::Number, "1"),
                (Kind::Comma, ","),
                (Kind::Float, "2.5"),
                (Kind::Comma, ","),
                (Kind::Bool, "true"),
                (Kind::RBrack, "]"),
                (Kind::RBrace, "}"),
            ]
        );
    }

    #[test]
    fn number_quirks() {
        assert_eq!(kinds("1e}"), vec![(Kind::Float, "1e}")]);
        assert_eq!(
            kinds(".5e3"),
            vec![(Kind::Float, ".5e"), (Kind::Number, "3")]
        );
        assert_eq!(kinds("-0x1F"), vec![(Kind::Number, "-0x1F")]);
        assert_eq!(kinds("08"), vec![(Kind::Number, "08")]);
        assert_eq!(kinds("1.5e3 "), vec![(Kind::Float, "1.5e3")]);
        assert_eq!(
            kinds("00x1"),
            vec![(Kind::Number, "00"), (Kind::Ident, "x1")]
        );
        assert_eq!(
            kinds("1_000"),
            vec![(Kind::Number, "1"), (Kind::Ident, "_000")]
        );
    }

    #[test]
    fn identifiers_take_dots_and_dashes() {
        assert_eq!(
            kinds("foo-bar.baz é"),
            vec![(Kind::Ident, "foo-bar.baz"), (Kind::Ident, "é")]
        );
    }

    #[test]
    fn comments_and_heredocs() {
        assert_eq!(
            kinds("/**/ # x\n// y"),
            vec![
                (Kind::Comment, "/**/"),
                (Kind::Comment, "# x"),
                (Kind::Comment, "// y")
            ]
        );
        assert_eq!(
            kinds("<<EOF\na\nEOF\n"),
            vec![(Kind::Heredoc, "<<EOF\na\nEOF\n")]
        );
        assert_eq!(kinds("/* a **/"), vec![(Kind::Comment, "/* a **/")]);
    }

    #[test]
    fn unterminated_block_comment_is_an_error() {
        let mut lexer = Lexer::new("/*/");
        lexer.scan();
        assert_eq!(
            lexer.last_error().map(|e| e.message.as_str()),
            Some("comment not terminated")
        );
    }
}
