//! The HCL1 syntax tree, mirroring `github.com/hashicorp/hcl/hcl/ast`.

use crate::span::Span;

/// A value with its span (for strings, the span includes the quotes).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A quoted string or heredoc, unescaped. `${...}` stays literal text.
    Str(String),
    /// An integer literal (HCL1 NUMBER token without fraction or exponent).
    Int(i64),
    /// A float literal (HCL1 FLOAT token).
    Float(f64),
    /// A NUMBER or FLOAT token that HCL1 scans but Go's `strconv` cannot convert (`08`, an
    /// integer beyond 64 bits, `1e400`, the `1e}` the exponent scanner swallows). OpenBao
    /// parses it and fails only when a value is decoded from it, so the policy layer decides.
    /// `float` says whether HCL typed it FLOAT (else NUMBER). Kept as written.
    BadNumber {
        text: String,
        float: bool,
    },
    Bool(bool),
    /// A bare identifier used as a value. Never produced: HCL1 refuses `x = foo` with
    /// `Unknown token: 1:5 IDENT foo` (checked against OpenBao 2.7.2). Kept for API stability.
    Ident(String),
    List(Vec<Node>),
    /// An object: `{ ... }` or the root of a file. Items in source order; duplicates kept.
    Object(Vec<Item>),
}

/// One object item: `keys... = value` or `keys... { ... }`.
///
/// `path "secret/*" { ... }` has keys `path`, `"secret/*"` and an object value.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub keys: Vec<Key>,
    /// The `=` token, if the item was written as an assignment (HCL1 reports key errors on
    /// the line of this token, and line 0 for a block without one).
    pub assign: Option<Span>,
    pub value: Node,
}

/// An object key: an identifier or a quoted string.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key text, unquoted and unescaped.
    pub name: String,
    pub span: Span,
    pub quoted: bool,
}

impl Node {
    pub fn as_object(&self) -> Option<&[Item]> {
        match &self.kind {
            NodeKind::Object(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::List(nodes) => Some(nodes),
            _ => None,
        }
    }
}

impl Item {
    /// The span from the first key to the end of the value.
    pub fn span(&self) -> Span {
        match self.keys.first() {
            Some(first) => first.span.join(self.value.span),
            None => self.value.span,
        }
    }
}
