//! HCL1's JSON parser: what OpenBao uses when the trimmed policy text starts with `{`.
//!
//! It is far more lenient than JSON (all checked against OpenBao 2.7.2):
//! - an object ends at the first token after an item that is not a comma, whatever it is,
//!   and nothing after the root object is read: `{"a": 1 "b": 2}` is `{"a": 1}`, `{` alone
//!   and `{"path": {}} garbage` are accepted;
//! - an error raised while the current token is `}` is ignored (`{"a": }`, `{"a": [}`);
//! - several keys may precede one `:` (`{"a" "b": 1}` is `a b = 1`);
//! - `true`/`false` inside an array are dropped; `null` is an empty string outside arrays
//!   and an error inside them;
//! - parser errors carry no position (OpenBao prints only the message); scanner errors read
//!   `L:C: message`.
//!
//! After parsing, objects are flattened into HCL's block form: an item whose value is a
//! non-empty object of objects becomes one item per inner item with the keys joined
//! (`"path": {"a": {...}}` is `path "a" {...}`), and an item whose value is a non-empty list
//! of objects becomes one item per element (`"path": [{...}, {...}]`), recursively, in
//! source order.

use std::borrow::Cow;

use super::ast::{Item, Key, Keys, Node, NodeKind};
use super::cursor::{Ch, Cursor, ScanError};
use super::lexer::{digit_value, is_digit, is_letter};
use super::parser::{
    finish, float_value, help_for, number_value, too_deep_message, SyntaxError, MAX_DEPTH,
};
use super::unquote;
use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Illegal,
    Eof,
    Number,
    Float,
    Bool,
    Null,
    Str,
    LBrack,
    LBrace,
    Comma,
    Period,
    Colon,
    RBrack,
    RBrace,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Illegal => "ILLEGAL",
            Kind::Eof => "EOF",
            Kind::Number => "NUMBER",
            Kind::Float => "FLOAT",
            Kind::Bool => "BOOL",
            Kind::Null => "NULL",
            Kind::Str => "STRING",
            Kind::LBrack => "LBRACK",
            Kind::LBrace => "LBRACE",
            Kind::Comma => "COMMA",
            Kind::Period => "PERIOD",
            Kind::Colon => "COLON",
            Kind::RBrack => "RBRACK",
            Kind::RBrace => "RBRACE",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: usize,
    column: usize,
}

struct Scanner<'a> {
    cursor: Cursor<'a>,
}

impl<'a> Scanner<'a> {
    fn scan(&mut self) -> Token {
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
            return self.scan_word();
        }
        if c.is_ascii_digit() {
            return self.scan_number(ch);
        }
        match c {
            '"' => {
                self.scan_string();
                Kind::Str
            }
            '.' => {
                let peeked = self.cursor.peek();
                if !peeked.is_decimal() {
                    return Kind::Period;
                }
                let after = self.cursor.scan_mantissa(peeked);
                self.cursor.scan_exponent(after);
                Kind::Float
            }
            '[' => Kind::LBrack,
            ']' => Kind::RBrack,
            '{' => Kind::LBrace,
            '}' => Kind::RBrace,
            ',' => Kind::Comma,
            ':' => Kind::Colon,
            '-' if self.cursor.peek().is_decimal() => {
                let first = self.cursor.next();
                self.scan_number(first)
            }
            '-' => {
                self.cursor.error("illegal char");
                Kind::Illegal
            }
            other => {
                self.cursor.error(&format!("illegal char: {other}"));
                Kind::Illegal
            }
        }
    }

    /// `true`, `false`, `null`; any other word is an `illegal char` (on its last character).
    fn scan_word(&mut self) -> Kind {
        let start = self.cursor.last_char_start();
        self.cursor
            .skip_run(|c| is_letter(c) || is_digit(c) || c == '-');
        let after = self.cursor.next();
        if after != Ch::Eof {
            self.cursor.unread();
        }
        match &self.cursor.text[start..self.cursor.pos.offset] {
            "true" | "false" => Kind::Bool,
            "null" => Kind::Null,
            _ => {
                self.cursor.error("illegal char");
                Kind::Illegal
            }
        }
    }

    fn scan_number(&mut self, first: Ch) -> Kind {
        let zero = first.is('0');
        let before = self.cursor.pos;
        self.cursor.scan_mantissa(first);
        let ch = self.cursor.next();
        if ch.is('e') || ch.is('E') {
            self.cursor.scan_exponent(ch);
            return Kind::Float;
        }
        if ch.is('.') {
            let peeked = self.cursor.peek();
            let after = self.cursor.scan_mantissa(peeked);
            if after.is('e') || after.is('E') {
                let again = self.cursor.next();
                self.cursor.scan_exponent(again);
            }
            return Kind::Float;
        }
        if ch != Ch::Eof {
            self.cursor.unread();
        }
        if zero && before != self.cursor.pos {
            self.cursor.error("numbers cannot start with 0");
        }
        Kind::Number
    }

    /// A JSON string ends at the first unescaped `"` (no `${}` rule), never at a newline.
    fn scan_string(&mut self) {
        loop {
            self.cursor.skip_run(|c| !matches!(c, '"' | '\\' | '\n'));
            let ch = self.cursor.next();
            if ch.is('\n') || ch == Ch::Eof {
                self.cursor.error("literal not terminated");
                return;
            }
            if ch.is('"') {
                return;
            }
            if ch.is('\\') {
                self.scan_escape();
            }
        }
    }
}

impl Scanner<'_> {
    /// Like the HCL scanner's escape check, except that the character after the digits is
    /// always put back, even when no digit was read (`"\u"` ends at its second quote).
    /// After the end of the text HCL1's JSON scanner panics (OpenBao closes the connection);
    /// we stop there and report the unterminated string instead.
    fn scan_escape(&mut self) {
        let ch = self.cursor.next();
        let (first, base, count) = match ch.char() {
            Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' | '"') => return,
            Some('0'..='7') => (ch, 8, 3),
            Some('x') => (self.cursor.next(), 16, 2),
            Some('u') => (self.cursor.next(), 16, 4),
            Some('U') => (self.cursor.next(), 16, 8),
            _ => {
                self.cursor.error("illegal char escape");
                return;
            }
        };
        let mut ch = first;
        let mut left = count;
        while left > 0 && digit_value(ch) < base {
            ch = self.cursor.next();
            left -= 1;
        }
        if left > 0 {
            self.cursor.error("illegal char escape");
        }
        // A NUL reads as the end but can be put back.
        if ch != Ch::Eof || self.cursor.read_a_char() {
            self.cursor.unread();
        }
    }
}

enum Fail {
    Eof,
    /// A parser error: message and token (JSON parser errors have no printed position).
    At(String, Token),
}

struct JsonParser<'a> {
    scanner: Scanner<'a>,
    tok: Token,
    depth: usize,
    /// The items of the objects being read, innermost last (see [`finish`]).
    items: Vec<Item<'a>>,
    /// The elements of the lists being read, innermost last.
    nodes: Vec<Node<'a>>,
}

/// Parses JSON policy text the way HCL1's JSON parser does, then flattens it.
/// Cost: O(text length), plus O(depth) key copies per flattened item.
pub(crate) fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    let mut parser = JsonParser {
        scanner: Scanner {
            cursor: Cursor::json(text),
        },
        tok: Token {
            kind: Kind::Eof,
            start: 0,
            end: 0,
            line: 1,
            column: 1,
        },
        depth: 0,
        items: Vec::new(),
        nodes: Vec::new(),
    };
    let result = parser.root();
    if let Some(error) = &parser.scanner.cursor.last_error {
        return Err(scan_error(error));
    }
    let items = match result {
        Ok(items) => items,
        Err(Fail::Eof) => Vec::new(),
        Err(Fail::At(message, token)) => {
            return Err(SyntaxError {
                help: help_for(&message),
                message,
                span: Span::new(token.start, token.end),
            })
        }
    };
    Ok(Node {
        kind: NodeKind::Object(flatten_items(items)),
        span: Span::new(0, text.len()),
    })
}

fn scan_error(error: &ScanError) -> SyntaxError {
    SyntaxError {
        help: help_for(&error.message),
        message: error.message.clone(),
        span: Span::new(error.offset, error.offset + error.len),
    }
}

impl<'a> JsonParser<'a> {
    fn scan(&mut self) -> Token {
        self.tok = self.scanner.scan();
        self.tok
    }

    fn text(&self, token: &Token) -> &'a str {
        &self.scanner.cursor.text[token.start..token.end]
    }

    fn root(&mut self) -> Result<Vec<Item<'a>>, Fail> {
        let token = self.scan();
        match token.kind {
            // The root's items are the whole item stack once read: taken as they are, not
            // copied into a vector of their own (the flattening copies them anyway).
            Kind::LBrace => {
                self.object_onto_stack(token)?;
                Ok(std::mem::take(&mut self.items))
            }
            Kind::Eof => Err(Fail::Eof),
            _ => Err(Fail::At(
                format!(
                    "Expected object, got unknown token: {}",
                    self.describe(&token)
                ),
                token,
            )),
        }
    }

    fn describe(&self, token: &Token) -> String {
        format!(
            "{}:{} {} {}",
            token.line,
            token.column,
            token.kind.name(),
            self.text(token)
        )
    }

    /// Items onto the item stack, each followed by a comma or by the token that ends the object
    /// (consumed). On an error the items parsed before it stay on the stack: HCL1 keeps them
    /// when the error is ignored (see [`JsonParser::object_type`]), which is how a trailing
    /// comma parses.
    fn object_list(&mut self) -> Result<(), Fail> {
        loop {
            match self.object_item() {
                Ok(item) => self.items.push(item),
                Err(Fail::Eof) => return Ok(()),
                Err(error) => return Err(error),
            }
            if self.scan().kind != Kind::Comma {
                return Ok(());
            }
        }
    }

    fn object_item(&mut self) -> Result<Item<'a>, Fail> {
        let keys = self.object_keys()?;
        let colon = self.tok;
        let value = self.object_value()?;
        Ok(Item {
            keys,
            assign: Some(Span::new(colon.start, colon.end)),
            value,
        })
    }

    fn object_keys(&mut self) -> Result<Keys<'a>, Fail> {
        let mut keys = Keys::new();
        loop {
            let token = self.scan();
            match token.kind {
                Kind::Eof => return Err(Fail::Eof),
                Kind::Str => {
                    let name = self.string(&token);
                    keys.push(Key {
                        name,
                        span: Span::new(token.start, token.end),
                        quoted: true,
                    });
                }
                Kind::Colon if !keys.is_empty() => return Ok(keys),
                Kind::Illegal => return Err(Fail::At("illegal".into(), token)),
                other => {
                    return Err(Fail::At(
                        format!("expected: STRING got: {}", other.name()),
                        token,
                    ))
                }
            }
        }
    }

    fn string(&self, token: &Token) -> Cow<'a, str> {
        unquote::json_string(self.text(token))
    }

    fn literal(&mut self, token: &Token) -> Node<'a> {
        let text = self.text(token);
        let kind = match token.kind {
            Kind::Str => NodeKind::Str(self.string(token)),
            Kind::Null => NodeKind::Str(Cow::Borrowed("")),
            Kind::Bool => NodeKind::Bool(text == "true"),
            Kind::Number => number_value(Cow::Borrowed(text)),
            _ => float_value(Cow::Borrowed(text)),
        };
        Node {
            kind,
            span: Span::new(token.start, token.end),
        }
    }

    fn object_value(&mut self) -> Result<Node<'a>, Fail> {
        let token = self.scan();
        match token.kind {
            Kind::Number | Kind::Float | Kind::Bool | Kind::Null | Kind::Str => {
                Ok(self.literal(&token))
            }
            Kind::LBrace => self.object_type(token),
            Kind::LBrack => self.list_type(token),
            Kind::Eof => Err(Fail::Eof),
            _ => Err(Fail::At(
                format!(
                    "Expected object value, got unknown token: {}",
                    self.describe(&token)
                ),
                token,
            )),
        }
    }

    fn enter(&mut self, token: &Token) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fail::At(too_deep_message(), *token));
        }
        Ok(())
    }

    /// After `{`. An error met while the current token is `}` is ignored and the items parsed
    /// before it are kept (HCL1 quirk): `{"a": 1,}` is `{"a": 1}` and `{"a": 1, "b": }` is
    /// `{"a": 1}`, both accepted by OpenBao 2.7.2.
    fn object_type(&mut self, lbrace: Token) -> Result<Node<'a>, Fail> {
        let start = self.items.len();
        let outcome = self.object_onto_stack(lbrace);
        let (items, ()) = finish(&mut self.items, start, outcome)?;
        self.depth -= 1;
        Ok(Node {
            kind: NodeKind::Object(items),
            span: Span::new(lbrace.start, self.tok.end.max(lbrace.end)),
        })
    }

    /// [`JsonParser::object_type`]'s items, pushed onto the item stack (the depth stays
    /// entered: the caller leaves it).
    fn object_onto_stack(&mut self, lbrace: Token) -> Result<(), Fail> {
        self.enter(&lbrace)?;
        match self.object_list() {
            Err(Fail::At(message, token)) if self.tok.kind != Kind::RBrace || is_deep(&message) => {
                Err(Fail::At(message, token))
            }
            _ => Ok(()),
        }
    }

    fn list_type(&mut self, lbrack: Token) -> Result<Node<'a>, Fail> {
        self.enter(&lbrack)?;
        let start = self.nodes.len();
        let result = self.list_onto_stack();
        let (elements, closing) = finish(&mut self.nodes, start, result)?;
        self.depth -= 1;
        Ok(Node {
            kind: NodeKind::List(elements),
            span: Span::new(lbrack.start, closing.end),
        })
    }

    /// A list's elements up to its `]` (returned), pushed onto the node stack.
    fn list_onto_stack(&mut self) -> Result<Token, Fail> {
        loop {
            let token = self.scan();
            match token.kind {
                Kind::Number | Kind::Float | Kind::Str => {
                    let node = self.literal(&token);
                    self.nodes.push(node);
                }
                Kind::Comma | Kind::Bool => {}
                Kind::LBrace => {
                    let node = self.object_type(token)?;
                    self.nodes.push(node);
                }
                Kind::LBrack => {
                    let node = self.list_type(token)?;
                    self.nodes.push(node);
                }
                Kind::RBrack => return Ok(token),
                other => {
                    return Err(Fail::At(
                        format!("unexpected token while parsing list: {}", other.name()),
                        token,
                    ))
                }
            }
        }
    }
}

fn is_deep(message: &str) -> bool {
    message == too_deep_message()
}

/// HCL1's JSON flattening (see the module notes), applied to a whole object list: top down,
/// since whether an item splits depends on its value's children *before* they are flattened.
/// A list with no item to split is flattened in place (no allocation). Cost: O(nodes), plus
/// O(keys) per split item for the joined keys.
fn flatten_items(mut items: Vec<Item<'_>>) -> Vec<Item<'_>> {
    if !items.iter().any(splittable) {
        for item in &mut items {
            flatten_node(&mut item.value);
        }
        return items;
    }
    // Room for one level of splitting (deeper splits are rare): the root of a JSON policy
    // (`{"path": {...}}`) becomes its thousands of blocks without growth copies.
    let capacity = items.iter().map(split_width).sum();
    let mut out = Vec::with_capacity(capacity);
    for item in items {
        expand(item, &mut out);
    }
    for item in &mut out {
        flatten_node(&mut item.value);
    }
    out
}

/// HCL1's JSON flattening (see the module notes) of a node and everything under it.
fn flatten_node(node: &mut Node<'_>) {
    match &mut node.kind {
        NodeKind::Object(items) => {
            let taken = std::mem::take(items);
            *items = flatten_items(taken);
        }
        NodeKind::List(elements) => elements.iter_mut().for_each(flatten_node),
        _ => {}
    }
}

fn is_object(node: &Node<'_>) -> bool {
    matches!(node.kind, NodeKind::Object(_))
}

/// How many items this item becomes at the first level of splitting.
fn split_width(item: &Item<'_>) -> usize {
    match &item.value.kind {
        NodeKind::Object(children) if splittable(item) => children.len(),
        NodeKind::List(elements) if splittable(item) => elements.len(),
        _ => 1,
    }
}

/// Whether HCL1 replaces this item by one item per child (or element).
fn splittable(item: &Item<'_>) -> bool {
    match &item.value.kind {
        NodeKind::Object(children) => {
            !children.is_empty() && children.iter().all(|child| is_object(&child.value))
        }
        NodeKind::List(elements) => !elements.is_empty() && elements.iter().all(is_object),
        _ => false,
    }
}

fn expand<'a>(item: Item<'a>, out: &mut Vec<Item<'a>>) {
    if !splittable(&item) {
        out.push(item);
        return;
    }
    let Item {
        keys,
        assign,
        value,
    } = item;
    match value.kind {
        NodeKind::Object(children) => {
            for child in children {
                let mut joined = keys.clone();
                joined.extend(child.keys);
                let value = child.value;
                expand(
                    Item {
                        keys: joined,
                        assign,
                        value,
                    },
                    out,
                );
            }
        }
        NodeKind::List(elements) => {
            for value in elements {
                let item = Item {
                    keys: keys.clone(),
                    assign,
                    value,
                };
                expand(item, out);
            }
        }
        _ => {}
    }
}
