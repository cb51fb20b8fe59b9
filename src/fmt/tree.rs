//! The HCL1 syntax tree `bao policy fmt` prints from: tokens as written, their positions, and
//! the comments HCL1's parser attaches to items (lead and line comments) or leaves standalone.
//!
//! `crate::hcl1::parse` decides what is valid and reports errors; this parser runs only on
//! text it accepted, and rebuilds the tree the way HCL1's parser (`hcl/parser`, v1.0.1-vault-7
//! as built into OpenBao 2.7.2) does, because the printer's output depends on where HCL1
//! attaches each comment. HCL1's rules, checked against the binary:
//! - a comment group is a run of comments each starting at most one line after the previous
//!   one ends; a group that starts on the line of the previous token and is followed by a token
//!   on another line is that token's *line comment*;
//! - a group ending on the line just before a token other than `}` or `]` is the *lead
//!   comment* of the next item or list element that picks it up (it can travel: a comment
//!   between `=` and its value becomes the lead comment of the value's first list element);
//! - every other group is *standalone* and printed by position.
//!
//! Cost: O(text length); recursion depth bounded by [`crate::hcl1::MAX_DEPTH`] (checked by
//! `hcl1::parse` before this runs).

use crate::hcl1::lexer::{Kind, Lexer, Token};

/// A position as HCL1 compares them: byte offset and line (line 0 is "no position").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Pos {
    pub offset: usize,
    pub line: usize,
}

impl Pos {
    pub(super) fn of(token: &Token) -> Pos {
        Pos {
            offset: token.start,
            line: token.line,
        }
    }

    pub(super) fn is_valid(self) -> bool {
        self.line > 0
    }
}

/// A token kept for printing: its kind, its text range and its position.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tok {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub pos: Pos,
}

impl Tok {
    fn of(token: &Token) -> Tok {
        Tok {
            kind: token.kind,
            start: token.start,
            end: token.end,
            pos: Pos::of(token),
        }
    }
}

/// A comment: where it starts and its text range (no trailing newline).
#[derive(Clone, Copy, Debug)]
pub(super) struct Comment {
    pub pos: Pos,
    pub start: usize,
    pub end: usize,
}

/// Index of a comment group in [`Tree::groups`].
pub(super) type GroupId = usize;

#[derive(Debug)]
pub(super) enum Value {
    Literal(Literal),
    List(List),
    Object(Object),
}

impl Value {
    /// HCL1's `Pos()`: the token, `[` or `{`.
    pub(super) fn pos(&self) -> Pos {
        match self {
            Value::Literal(literal) => literal.token.pos,
            Value::List(list) => list.lbrack,
            Value::Object(object) => object.lbrace,
        }
    }
}

#[derive(Debug)]
pub(super) struct Literal {
    pub token: Tok,
    pub lead: Option<GroupId>,
    pub line: Option<GroupId>,
}

#[derive(Debug)]
pub(super) struct List {
    pub lbrack: Pos,
    pub elements: Vec<Value>,
}

#[derive(Debug)]
pub(super) struct Object {
    pub lbrace: Pos,
    pub rbrace: Pos,
    pub items: Vec<Item>,
}

#[derive(Debug)]
pub(super) struct Item {
    /// Never empty.
    pub keys: Vec<Tok>,
    pub assign: Option<Pos>,
    pub value: Value,
    pub lead: Option<GroupId>,
    pub line: Option<GroupId>,
}

impl Item {
    pub(super) fn pos(&self) -> Pos {
        self.keys[0].pos
    }
}

/// A parsed file: the root items and every comment group in source order.
#[derive(Debug)]
pub(super) struct Tree {
    pub items: Vec<Item>,
    pub groups: Vec<Vec<Comment>>,
}

/// Why the tree could not be built: text `hcl1::parse` accepted but this parser did not
/// (a bug, reported as an internal error).
#[derive(Debug)]
pub(super) struct Mismatch {
    pub offset: usize,
}

/// Parses text `crate::hcl1::parse` accepted (already CRLF-normalised).
pub(super) fn parse(text: &str) -> Result<Tree, Mismatch> {
    let mut parser = Parser {
        lexer: Lexer::new(text),
        // HCL1's zero token: line 0, so a comment on line 1 is never a line comment.
        tok: Token {
            kind: Kind::Eof,
            start: 0,
            end: 0,
            line: 0,
            column: 0,
        },
        buffered: false,
        groups: Vec::new(),
        lead: None,
        line: None,
    };
    let items = match parser.object_list(false) {
        Ok(items) => items,
        Err(Fail::At(offset)) => return Err(Mismatch { offset }),
        Err(Fail::Eof) => Vec::new(),
    };
    Ok(Tree {
        items,
        groups: parser.groups,
    })
}

enum Fail {
    Eof,
    At(usize),
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    tok: Token,
    buffered: bool,
    groups: Vec<Vec<Comment>>,
    /// HCL1's `leadComment` and `lineComment`: set while scanning, taken by the next node.
    lead: Option<GroupId>,
    line: Option<GroupId>,
}

impl Parser<'_> {
    /// The next non-comment token; comments on the way are grouped and remembered as lead
    /// or line comments (HCL1's `scan`).
    fn scan(&mut self) -> Token {
        if self.buffered {
            self.buffered = false;
            return self.tok;
        }
        let previous = self.tok;
        self.tok = self.lexer.scan();
        if self.tok.kind != Kind::Comment {
            return self.tok;
        }
        let mut last_group = None;
        if self.tok.line == previous.line {
            let (group, end_line) = self.comment_group(0);
            if self.tok.line != end_line {
                self.line = Some(group);
            }
            last_group = Some(group);
        }
        let mut end_line: Option<usize> = None;
        while self.tok.kind == Kind::Comment {
            let (group, end) = self.comment_group(1);
            last_group = Some(group);
            end_line = Some(end);
        }
        let follows = end_line.is_some_and(|end| end + 1 == self.tok.line);
        if follows && !matches!(self.tok.kind, Kind::RBrace | Kind::RBrack) {
            self.lead = last_group;
        }
        self.tok
    }

    fn unscan(&mut self) {
        self.buffered = true;
    }

    /// Comments starting at most `gap` lines after the previous one ends.
    fn comment_group(&mut self, gap: usize) -> (GroupId, usize) {
        let mut comments = Vec::new();
        let mut end_line = self.tok.line;
        while self.tok.kind == Kind::Comment && self.tok.line <= end_line + gap {
            let text = &self.lexer.text()[self.tok.start..self.tok.end];
            end_line = self.tok.line;
            if text.as_bytes().get(1) == Some(&b'*') {
                end_line += text.bytes().filter(|&b| b == b'\n').count();
            }
            comments.push(Comment {
                pos: Pos::of(&self.tok),
                start: self.tok.start,
                end: self.tok.end,
            });
            self.tok = self.lexer.scan();
        }
        self.groups.push(comments);
        (self.groups.len() - 1, end_line)
    }

    fn object_list(&mut self, in_object: bool) -> Result<Vec<Item>, Fail> {
        let mut items = Vec::new();
        loop {
            if in_object {
                let next = self.scan();
                self.unscan();
                if next.kind == Kind::RBrace {
                    break;
                }
            }
            match self.object_item() {
                Ok(item) => items.push(item),
                Err(Fail::Eof) => break,
                Err(error) => return Err(error),
            }
            if self.scan().kind != Kind::Comma {
                self.unscan();
            }
        }
        // The tree is kept whole while printing: no room left from the list's growth (a
        // block's body of one item would keep room for four, 450 bytes per block).
        items.shrink_to_fit();
        Ok(items)
    }

    fn object_item(&mut self) -> Result<Item, Fail> {
        let keys = self.object_keys()?;
        let lead = self.lead.take();
        let current = self.tok;
        let (assign, value) = match current.kind {
            Kind::Assign => (Some(Pos::of(&current)), self.value()?),
            Kind::LBrace => (None, Value::Object(self.object_type(current)?)),
            _ => return Err(Fail::At(current.start)),
        };
        let mut item = Item {
            keys,
            assign,
            value,
            lead,
            line: self.line.take(),
        };
        // Look ahead for a comment on the line the item ends on.
        self.scan();
        if item.value.pos().line == item.keys[0].pos.line && self.line.is_some() {
            item.line = self.line.take();
        }
        self.unscan();
        Ok(item)
    }

    /// Keys up to `=` or `{`; an end of text before any key ends the list.
    fn object_keys(&mut self) -> Result<Vec<Tok>, Fail> {
        let mut keys = Vec::with_capacity(2);
        loop {
            let token = self.scan();
            match token.kind {
                Kind::Eof if keys.is_empty() => return Err(Fail::Eof),
                Kind::Ident | Kind::Str => keys.push(Tok::of(&token)),
                Kind::Assign if keys.len() == 1 => return Ok(keys),
                Kind::LBrace if !keys.is_empty() => return Ok(keys),
                _ => return Err(Fail::At(token.start)),
            }
        }
    }

    /// A value after `=`; an end of text drops the item, as HCL1 does.
    fn value(&mut self) -> Result<Value, Fail> {
        let token = self.scan();
        match token.kind {
            Kind::Number | Kind::Float | Kind::Bool | Kind::Str | Kind::Heredoc => {
                Ok(Value::Literal(literal(&token)))
            }
            Kind::LBrace => Ok(Value::Object(self.object_type(token)?)),
            Kind::LBrack => Ok(Value::List(self.list_type(token)?)),
            Kind::Eof => Err(Fail::Eof),
            _ => Err(Fail::At(token.start)),
        }
    }

    fn object_type(&mut self, lbrace: Token) -> Result<Object, Fail> {
        let items = match self.object_list(true) {
            Ok(items) => items,
            Err(Fail::Eof) => return Err(Fail::At(self.tok.start)),
            Err(error) => return Err(error),
        };
        let closing = self.scan();
        if closing.kind != Kind::RBrace {
            return Err(Fail::At(closing.start));
        }
        Ok(Object {
            lbrace: Pos::of(&lbrace),
            rbrace: Pos::of(&closing),
            items,
        })
    }

    fn list_type(&mut self, lbrack: Token) -> Result<List, Fail> {
        let mut elements: Vec<Value> = Vec::new();
        let mut need_comma = false;
        loop {
            let token = self.scan();
            if need_comma && !matches!(token.kind, Kind::Comma | Kind::RBrack) {
                return Err(Fail::At(token.start));
            }
            match token.kind {
                Kind::Bool | Kind::Number | Kind::Float | Kind::Str | Kind::Heredoc => {
                    let mut element = literal(&token);
                    element.lead = self.lead.take();
                    elements.push(Value::Literal(element));
                    need_comma = true;
                }
                Kind::Comma => {
                    // A line comment after the comma belongs to the element before it.
                    self.scan();
                    if let Some(Value::Literal(last)) = elements.last_mut() {
                        if self.line.is_some() {
                            last.line = self.line.take();
                        }
                    }
                    self.unscan();
                    need_comma = false;
                }
                Kind::LBrace => {
                    elements.push(Value::Object(self.object_type(token)?));
                    need_comma = true;
                }
                Kind::LBrack => elements.push(Value::List(self.list_type(token)?)),
                Kind::RBrack => {
                    // Kept until printing ends, like `object_list`'s items.
                    elements.shrink_to_fit();
                    return Ok(List {
                        lbrack: Pos::of(&lbrack),
                        elements,
                    });
                }
                _ => return Err(Fail::At(token.start)),
            }
        }
    }
}

fn literal(token: &Token) -> Literal {
    Literal {
        token: Tok::of(token),
        lead: None,
        line: None,
    }
}
