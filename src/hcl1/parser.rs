//! HCL1 text (and JSON) to [`Node`], accepting and refusing exactly what OpenBao 2.7.2 does.
//!
//! Error texts are HCL1's own (`github.com/hashicorp/hcl` `v1.0.1-vault-7`, as compiled into
//! OpenBao 2.7.2 and, per the spec, Vault): OpenBao prints them as
//! `failed to parse policy: At L:C: <message>` (HCL) or `failed to parse policy: <message>`
//! (JSON parser errors, which carry no position; JSON scanner errors read `L:C: <message>`).
//! [`SyntaxError::message`] is the part after `At L:C: ` (or after `L:C: `), and the span is
//! the token or character HCL1 points at. HCL1 counts columns in characters from 1 like
//! `SourceFile::line_col`, with one difference: at the end of the text it reports one or two
//! columns past the end (it advances on every read of the end), where our span is the empty
//! span at the end.
//!
//! How HCL1 parses (checked against the binary):
//! - a file is a list of items `keys... = value` or `keys... { ... }`, optionally separated by
//!   commas; any number of keys (names or quoted strings) before `{`, exactly one before `=`;
//! - values: strings, heredocs, numbers, floats, `true`/`false`, lists, objects; a bare word
//!   is an `Unknown token`; `key =` at the very end of the text is silently dropped;
//! - lists: elements need commas between them, except after a nested list (`[[1] [2]]`);
//!   stray commas are ignored (`[,]`, `[1,,2]`, `[1,]`);
//! - the first error ends parsing, and a scanner error (bad character, unterminated string...)
//!   always wins over a parser error.

use std::borrow::Cow;

use super::ast::{Item, Key, Keys, Node, NodeKind};
use super::cursor::ScanError;
use super::json;
use super::lexer::{Kind, Lexer, Token};
use super::unquote;
use crate::span::Span;

/// A syntax error, with HCL1's own message text and the span of the offending token.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// HCL1's message without the `At line:col:` prefix, e.g.
    /// `nested object expected: LBRACE got: ASSIGN`.
    pub message: String,
    pub span: Span,
    pub help: String,
}

/// Objects and lists nested deeper than this are refused (OpenBao has no limit; we keep the
/// recursion well inside a 2 MiB thread stack).
pub const MAX_DEPTH: usize = 128;

/// Parses policy text: JSON when the trimmed text starts with `{`, HCL1 otherwise.
/// The result is the root object (a `NodeKind::Object`); an empty or comment-only text gives
/// an empty root object (OpenBao refuses an empty policy at the `sys/policy` layer, not here).
///
/// Cost: O(text length) time; recursion depth at most [`MAX_DEPTH`].
pub fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    if text.trim_start().starts_with('{') {
        return json::parse(text);
    }
    parse_hcl(text)
}

fn parse_hcl(text: &str) -> Result<Node<'_>, SyntaxError> {
    // HCL1 turns CRLF into LF before scanning; spans are mapped back to `text`.
    let map = OffsetMap::new(text);
    let scanned = map.normalized.as_deref().unwrap_or(text);
    let mut parser = HclParser {
        lexer: Lexer::new(scanned),
        // Offsets into the scanned text are offsets into `text` unless CRLFs were removed.
        original: map.normalized.is_none().then_some(text),
        tok: Token {
            kind: Kind::Eof,
            start: 0,
            end: 0,
            line: 1,
            column: 1,
        },
        buffered: false,
        depth: 0,
        key_tokens: Vec::new(),
        items: Vec::new(),
        nodes: Vec::new(),
        map: &map,
    };
    let result = parser.object_list(false);
    if let Some(error) = parser.lexer.last_error() {
        return Err(map.scan_error(error));
    }
    let items = match result {
        Ok(items) => items,
        Err(Fail::At(error)) => return Err(map.parse_error(&error)),
        Err(Fail::Eof) => Vec::new(),
    };
    Ok(Node {
        kind: NodeKind::Object(items),
        span: Span::new(0, text.len()),
    })
}

/// A parser failure: HCL1's "EOF token found" signal, or a positioned error.
pub(crate) enum Fail {
    Eof,
    At(PosError),
}

/// A positioned parser error, offsets in the scanned text, line and column as HCL1 gives.
pub(crate) struct PosError {
    pub message: String,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

impl PosError {
    pub(crate) fn at(token: &Token, message: String) -> PosError {
        PosError {
            message,
            start: token.start,
            end: token.end,
            line: token.line,
            column: token.column,
        }
    }
}

/// Maps offsets in the CRLF-normalised text back to the original. Cost: O(log n) per span.
pub(crate) struct OffsetMap {
    pub normalized: Option<String>,
    /// Offsets, in the normalised text, of each `\n` whose `\r` was removed.
    removed_before: Vec<usize>,
    original_len: usize,
}

impl OffsetMap {
    pub(crate) fn new(text: &str) -> OffsetMap {
        if !text.contains("\r\n") {
            return OffsetMap::identity(text);
        }
        let mut removed_before = Vec::new();
        for (count, (index, _)) in text.match_indices("\r\n").enumerate() {
            removed_before.push(index - count);
        }
        OffsetMap {
            normalized: Some(text.replace("\r\n", "\n")),
            removed_before,
            original_len: text.len(),
        }
    }

    pub(crate) fn identity(text: &str) -> OffsetMap {
        OffsetMap {
            normalized: None,
            removed_before: Vec::new(),
            original_len: text.len(),
        }
    }

    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        // A position on a `\n` that lost its `\r` maps to the `\r`, so that columns agree
        // with HCL1's (it counts the line without the `\r`).
        let start_shift = self.removed_before.partition_point(|&p| p < start);
        let end_shift = self.removed_before.partition_point(|&p| p < end);
        let start = (start + start_shift).min(self.original_len);
        let end = (end + end_shift).clamp(start, self.original_len);
        Span::new(start, end)
    }

    pub(crate) fn scan_error(&self, error: &ScanError) -> SyntaxError {
        SyntaxError {
            help: help_for(&error.message),
            message: error.message.clone(),
            span: self.span(error.offset, error.offset + error.len),
        }
    }

    pub(crate) fn parse_error(&self, error: &PosError) -> SyntaxError {
        SyntaxError {
            help: help_for(&error.message),
            message: error.message.clone(),
            span: self.span(error.start, error.end),
        }
    }
}

/// The parser over the scanned text (`'s`, a CRLF-normalised copy or the text itself) that
/// builds a tree borrowing from the original text (`'a`).
struct HclParser<'s, 'a, 'm> {
    lexer: Lexer<'s>,
    /// The original text when it is the scanned one (no CRLF): strings borrow from it.
    original: Option<&'a str>,
    /// The current token (HCL1's `p.tok`).
    tok: Token,
    /// Whether `tok` was pushed back and is the next token to hand out.
    buffered: bool,
    depth: usize,
    /// Scratch for the key tokens of the item being read.
    key_tokens: Vec<Token>,
    /// The items of the objects being read, innermost last (see [`finish`]).
    items: Vec<Item<'a>>,
    /// The elements of the lists being read, innermost last.
    nodes: Vec<Node<'a>>,
    map: &'m OffsetMap,
}

impl<'s, 'a> HclParser<'s, 'a, '_> {
    /// The next non-comment token.
    fn scan(&mut self) -> Token {
        if self.buffered {
            self.buffered = false;
            return self.tok;
        }
        loop {
            self.tok = self.lexer.scan();
            if self.tok.kind != Kind::Comment {
                return self.tok;
            }
        }
    }

    fn unscan(&mut self) {
        self.buffered = true;
    }

    fn text(&self, token: &Token) -> &'s str {
        &self.lexer.text()[token.start..token.end]
    }

    /// A token's value through `decode`, borrowed from the original text when there is one
    /// (an owned copy for a CRLF text). Cost: O(token length), no allocation unless `decode`
    /// needs one.
    fn value_text(&self, token: &Token, decode: fn(&str) -> Cow<'_, str>) -> Cow<'a, str> {
        match self.original {
            Some(text) => decode(&text[token.start..token.end]),
            None => Cow::Owned(decode(self.text(token)).into_owned()),
        }
    }

    fn span(&self, token: &Token) -> Span {
        self.map.span(token.start, token.end)
    }

    /// Items until `}` (inside an object) or the end of the text.
    fn object_list(&mut self, in_object: bool) -> Result<Vec<Item<'a>>, Fail> {
        let start = self.items.len();
        let result = self.object_list_onto_stack(in_object);
        finish(&mut self.items, start, result).map(|(items, ())| items)
    }

    /// [`HclParser::object_list`]'s items, pushed onto the item stack.
    fn object_list_onto_stack(&mut self, in_object: bool) -> Result<(), Fail> {
        loop {
            if in_object {
                let next = self.scan();
                self.unscan();
                if next.kind == Kind::RBrace {
                    break;
                }
            }
            match self.object_item() {
                Ok(item) => self.items.push(item),
                Err(Fail::Eof) => break,
                Err(error) => return Err(error),
            }
            if self.scan().kind != Kind::Comma {
                self.unscan();
            }
        }
        Ok(())
    }

    fn object_item(&mut self) -> Result<Item<'a>, Fail> {
        // The key tokens go to a buffer the parser reuses: no allocation per item.
        let mut tokens = std::mem::take(&mut self.key_tokens);
        tokens.clear();
        let failure = self.object_keys(&mut tokens);
        let keys = self.item_keys(&tokens, failure);
        self.key_tokens = tokens;
        let keys = keys?;
        let current = self.tok;
        if current.kind == Kind::LBrace {
            let value = self.object_type(current)?;
            return Ok(Item {
                keys,
                assign: None,
                value,
            });
        }
        let value = self.value()?;
        Ok(Item {
            keys,
            assign: Some(self.span(&current)),
            value,
        })
    }

    /// The keys of an item from its key tokens, once `object_keys` stopped at `=` or `{`
    /// (the current token), or the error HCL1 reports there.
    fn item_keys(&mut self, tokens: &[Token], failure: Option<Fail>) -> Result<Keys<'a>, Fail> {
        let current = self.tok;
        match failure {
            None => {}
            Some(Fail::Eof) if !tokens.is_empty() => {}
            // A key followed by `}`: HCL1 reports the missing `=`/`{` on the `}`.
            Some(_) if !tokens.is_empty() && current.kind == Kind::RBrace => {
                return Err(self.missing_value(tokens, &current));
            }
            Some(failure) => return Err(failure),
        }
        if !matches!(current.kind, Kind::Assign | Kind::LBrace) {
            return Err(self.missing_value(tokens, &current));
        }
        Ok(tokens.iter().map(|token| self.key(token)).collect())
    }

    fn missing_value(&self, keys: &[Token], at: &Token) -> Fail {
        let raw = keys
            .iter()
            .map(|token| self.text(token))
            .collect::<Vec<_>>()
            .join(" ");
        Fail::At(PosError::at(
            at,
            format!("key '{raw}' expected start of object ('{{') or assignment ('=')"),
        ))
    }

    /// Keys up to `=` or `{`, into `keys`. Returns the failure, if any (HCL1 looks at both
    /// the keys read and the failure).
    fn object_keys(&mut self, keys: &mut Vec<Token>) -> Option<Fail> {
        loop {
            let token = self.scan();
            let message = match token.kind {
                Kind::Eof => return Some(Fail::Eof),
                Kind::Ident | Kind::Str => {
                    keys.push(token);
                    continue;
                }
                Kind::Assign if keys.len() > 1 => {
                    let error = "nested object expected: LBRACE got: ASSIGN".to_string();
                    keys.clear();
                    return Some(Fail::At(PosError::at(&token, error)));
                }
                Kind::Assign if keys.is_empty() => "no object keys found!".to_string(),
                Kind::Assign => return None,
                Kind::LBrace if keys.is_empty() => {
                    "expected: IDENT | STRING got: LBRACE".to_string()
                }
                Kind::LBrace => return None,
                Kind::Illegal => "illegal character".to_string(),
                other => format!(
                    "expected: IDENT | STRING | ASSIGN | LBRACE got: {}",
                    other.name()
                ),
            };
            return Some(Fail::At(PosError::at(&token, message)));
        }
    }

    fn key(&mut self, token: &Token) -> Key<'a> {
        let span = self.span(token);
        if token.kind != Kind::Str {
            return Key {
                name: self.value_text(token, as_written),
                span,
                quoted: false,
            };
        }
        Key {
            name: self.value_text(token, unquote::hcl_string),
            span,
            quoted: true,
        }
    }

    /// A value after `=` (HCL1's `object()`).
    fn value(&mut self) -> Result<Node<'a>, Fail> {
        let token = self.scan();
        match token.kind {
            Kind::Number | Kind::Float | Kind::Bool | Kind::Str | Kind::Heredoc => {
                Ok(self.literal(&token))
            }
            Kind::LBrace => self.object_type(token),
            Kind::LBrack => self.list_type(token),
            Kind::Eof => Err(Fail::Eof),
            _ => {
                let message = format!(
                    "Unknown token: {}:{} {} {}",
                    token.line,
                    token.column,
                    token.kind.name(),
                    self.text(&token)
                );
                Err(Fail::At(PosError::at(&token, message)))
            }
        }
    }

    fn literal(&mut self, token: &Token) -> Node<'a> {
        let text = self.text(token);
        let span = self.span(token);
        let kind = match token.kind {
            Kind::Str => NodeKind::Str(self.value_text(token, unquote::hcl_string)),
            Kind::Heredoc => NodeKind::Str(self.value_text(token, unquote::heredoc_value)),
            Kind::Bool => NodeKind::Bool(text == "true"),
            Kind::Number => number_value(self.value_text(token, as_written)),
            _ => float_value(self.value_text(token, as_written)),
        };
        // A heredoc's token ends with the newline after its terminator; leave that out.
        let span = match token.kind {
            Kind::Heredoc if span.end > span.start => Span::new(span.start, span.end - 1),
            _ => span,
        };
        Node { kind, span }
    }

    fn enter(&mut self, token: &Token) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fail::At(PosError::at(token, too_deep_message())));
        }
        Ok(())
    }

    /// `{ items }` after its `{` was read.
    fn object_type(&mut self, lbrace: Token) -> Result<Node<'a>, Fail> {
        self.enter(&lbrace)?;
        let items = self.object_list(true)?;
        let closing = self.scan();
        if closing.kind != Kind::RBrace {
            let message = format!(
                "object expected closing RBRACE got: {}",
                closing.kind.name()
            );
            return Err(Fail::At(PosError::at(&closing, message)));
        }
        self.depth -= 1;
        Ok(Node {
            kind: NodeKind::Object(items),
            span: self.span(&lbrace).join(self.span(&closing)),
        })
    }

    /// `[ elements ]` after its `[` was read.
    fn list_type(&mut self, lbrack: Token) -> Result<Node<'a>, Fail> {
        self.enter(&lbrack)?;
        let start = self.nodes.len();
        let result = self.list_onto_stack();
        let (elements, closing) = finish(&mut self.nodes, start, result)?;
        self.depth -= 1;
        Ok(Node {
            kind: NodeKind::List(elements),
            span: self.span(&lbrack).join(self.span(&closing)),
        })
    }

    /// A list's elements up to its `]` (returned), pushed onto the node stack.
    fn list_onto_stack(&mut self) -> Result<Token, Fail> {
        let mut need_comma = false;
        loop {
            let token = self.scan();
            if need_comma && !matches!(token.kind, Kind::Comma | Kind::RBrack) {
                let message = format!(
                    "error parsing list, expected comma or list end, got: {}",
                    token.kind.name()
                );
                return Err(Fail::At(PosError::at(&token, message)));
            }
            match token.kind {
                Kind::Bool | Kind::Number | Kind::Float | Kind::Str | Kind::Heredoc => {
                    let node = self.literal(&token);
                    self.nodes.push(node);
                    need_comma = true;
                }
                Kind::Comma => need_comma = false,
                Kind::LBrace => {
                    let node = self
                        .object_type(token)
                        .map_err(|inner| nested(&token, "object", inner))?;
                    self.nodes.push(node);
                    need_comma = true;
                }
                // HCL1 does not ask for a comma after a nested list.
                Kind::LBrack => {
                    let node = self
                        .list_type(token)
                        .map_err(|inner| nested(&token, "list", inner))?;
                    self.nodes.push(node);
                }
                Kind::RBrack => return Ok(token),
                other => {
                    let message = format!("unexpected token while parsing list: {}", other.name());
                    return Err(Fail::At(PosError::at(&token, message)));
                }
            }
        }
    }
}

/// The elements a list or object pushed onto `stack` from `start` (with what reading them
/// returned), moved into a vector of exactly their number: small blocks allocate little, big
/// ones are not grown by doubling. On an error they are dropped, so that the stack holds only
/// what enclosing lists and objects pushed. Cost: O(elements).
pub(crate) fn finish<T, R, F>(
    stack: &mut Vec<T>,
    start: usize,
    result: Result<R, F>,
) -> Result<(Vec<T>, R), F> {
    match result {
        Ok(value) => Ok((stack.drain(start..).collect(), value)),
        Err(error) => {
            stack.truncate(start);
            Err(error)
        }
    }
}

/// A token's text as written (identifiers and numbers).
fn as_written(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

/// HCL1 wraps an error inside a list element with the element's position, keeping the inner
/// `At L:C:` text.
fn nested(opening: &Token, what: &str, inner: Fail) -> Fail {
    let Fail::At(inner) = inner else {
        return Fail::Eof;
    };
    if inner.message == too_deep_message() {
        return Fail::At(inner);
    }
    let message = format!(
        "error while trying to parse {what} within list: At {}:{}: {}",
        inner.line, inner.column, inner.message
    );
    Fail::At(PosError::at(opening, message))
}

pub(crate) fn too_deep_message() -> String {
    format!("objects and lists are nested more than {MAX_DEPTH} deep")
}

/// A NUMBER token's value as Go's `strconv.ParseInt(text, 0, 64)` reads it.
pub(crate) fn number_value(text: Cow<'_, str>) -> NodeKind<'_> {
    match go_parse_int(&text) {
        Some(value) => NodeKind::Int(value),
        None => NodeKind::BadNumber { text, float: false },
    }
}

/// A FLOAT token's value as Go's `strconv.ParseFloat(text, 64)` reads it (out of range fails).
/// FLOAT tokens start with a digit, `.` or `-`, so Rust's `inf`/`nan` spellings never occur.
pub(crate) fn float_value(text: Cow<'_, str>) -> NodeKind<'_> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => NodeKind::Float(value),
        _ => NodeKind::BadNumber { text, float: true },
    }
}

fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// A `help:` text for each HCL1 / JSON message.
pub(crate) fn help_for(message: &str) -> String {
    const HELPS: &[(&str, &str)] = &[
        ("illegal char escape", "valid escapes are `\\n` `\\t` `\\r` `\\\\` `\\\"` `\\a` `\\b` `\\f` `\\v`, octal `\\101`, `\\x41`, `\\u00e9` and `\\U0001F600`; write `\\\\` for a backslash"),
        ("illegal char", "remove this character: strings use double quotes (`\"...\"`), keys and values are joined by `=`, and blocks use `{ }`"),
        ("illegal character", "remove this character: strings use double quotes (`\"...\"`)"),
        ("illegal UTF-8", "save the file as UTF-8"),
        ("literal not terminated", "close the string with `\"` on the same line (use a heredoc `<<EOF` for text over several lines)"),
        ("comment not terminated", "close the comment with `*/`"),
        ("expected '/' for comment", "start a line comment with `#` or `//`, or a block comment with `/*`"),
        ("heredoc not terminated", "end the heredoc with a line holding only its anchor (e.g. `EOF`) followed by a newline; after `<<-EOF` that line must be indented"),
        ("invalid characters in heredoc anchor", "put a newline right after the anchor, e.g. `<<EOF`"),
        ("zero-length heredoc anchor", "name the heredoc, e.g. `<<EOF`"),
        ("heredoc expected second '<'", "start a heredoc with `<<EOF`"),
        ("illegal hexadecimal number", "write hex digits after `0x`, e.g. `0x1F`"),
        ("illegal octal number", "a number starting with `0` is octal (digits 0-7): drop the leading `0` or quote the value"),
        ("numbers cannot start with 0", "drop the leading `0` (JSON numbers have no leading zeros)"),
        ("unexpected null character", "remove the NUL byte from the file"),
        ("unicode code point U+E123", "remove the U+E123 character"),
        ("nested object expected: LBRACE got: ASSIGN", "a block with a label takes no `=`: write `path \"secret/*\" { ... }`"),
        ("no object keys found!", "put a key before `=`, e.g. `capabilities = [\"read\"]`"),
        ("expected: IDENT | STRING got: LBRACE", "an object needs a key before `{`, e.g. `path \"secret/*\" { ... }`"),
        ("expected: IDENT | STRING | ASSIGN | LBRACE got:", "expected a key (a name or a quoted string) followed by `=` or `{`"),
        ("key '", "write `= value` after the key, or open a block with `{`"),
        ("Unknown token", "a value is a quoted string, a number, `true`/`false`, a list `[...]` or an object `{...}`: quote bare words"),
        ("object expected closing RBRACE", "close the block with `}`"),
        ("error parsing list, expected comma", "separate list elements with `,`"),
        ("unexpected token while parsing list", "list elements are quoted strings, numbers, `true`/`false`, lists or objects, and the list ends with `]`"),
        ("expected: STRING got:", "JSON object keys are double-quoted strings followed by `:`"),
        ("Expected object value", "a JSON value is a string, a number, `true`/`false`, `null`, an array or an object"),
        ("objects and lists are nested", "flatten the structure: policies never need this much nesting"),
    ];
    let inner = innermost(message);
    HELPS
        .iter()
        .find(|(prefix, _)| inner.starts_with(prefix))
        .map(|(_, help)| help.to_string())
        .unwrap_or_else(|| "fix the syntax at this position".to_string())
}

/// The innermost message of a nested list error (`... within list: At L:C: <inner>`).
fn innermost(message: &str) -> &str {
    let mut inner = message;
    while let Some(index) = inner.find("within list: At ") {
        let rest = &inner[index + "within list: At ".len()..];
        match rest.find(": ") {
            Some(colon) => inner = &rest[colon + 2..],
            None => break,
        }
    }
    inner
}
