//! The HCL1 syntax tree, mirroring `github.com/hashicorp/hcl/hcl/ast`.
//!
//! The tree borrows from the text it was parsed from: a string or key without escapes is a
//! slice of the input (`Cow::Borrowed`); only a decoded escape, a heredoc with indentation to
//! strip, or a CRLF text (which HCL1 normalises before scanning) owns its text. Keys live
//! inline in their item (two fit without an allocation: `path "secret/*"`), so parsing a
//! policy allocates one vector per object and list, and nothing per token.

use std::borrow::Cow;

use crate::span::Span;

/// A value with its span (for strings, the span includes the quotes).
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind<'a> {
    /// A quoted string or heredoc, unescaped. `${...}` stays literal text.
    Str(Cow<'a, str>),
    /// An integer literal (HCL1 NUMBER token without fraction or exponent).
    Int(i64),
    /// A float literal (HCL1 FLOAT token).
    Float(f64),
    /// A NUMBER or FLOAT token that HCL1 scans but Go's `strconv` cannot convert (`08`, an
    /// integer beyond 64 bits, `1e400`, the `1e}` the exponent scanner swallows). OpenBao
    /// parses it and fails only when a value is decoded from it, so the policy layer decides.
    /// `float` says whether HCL typed it FLOAT (else NUMBER). Kept as written.
    BadNumber {
        text: Cow<'a, str>,
        float: bool,
    },
    Bool(bool),
    /// A bare identifier used as a value. Never produced: HCL1 refuses `x = foo` with
    /// `Unknown token: 1:5 IDENT foo` (checked against OpenBao 2.7.2). Kept for API stability.
    Ident(Cow<'a, str>),
    List(Vec<Node<'a>>),
    /// An object: `{ ... }` or the root of a file. Items in source order; duplicates kept.
    Object(Vec<Item<'a>>),
}

/// The keys of one item, inline up to two (an assignment has one, a `path` block two; only
/// JSON flattening or unusual HCL writes more, and those go to the heap). Reads as a slice.
///
/// Our own rather than a crate's small vector: this one stays covariant in `'a` (a tree can
/// be read through a shorter borrow), and needs no `unsafe` (unused slots hold an empty key,
/// which owns nothing).
#[derive(Clone, Default)]
pub struct Keys<'a>(KeyStore<'a>);

#[derive(Clone)]
enum KeyStore<'a> {
    Inline { len: u8, keys: [Key<'a>; 2] },
    Heap(Vec<Key<'a>>),
}

impl Default for KeyStore<'_> {
    fn default() -> Self {
        KeyStore::Inline {
            len: 0,
            keys: [Key::EMPTY, Key::EMPTY],
        }
    }
}

impl<'a> Keys<'a> {
    pub fn new() -> Keys<'a> {
        Keys::default()
    }

    /// Appends a key. Cost: O(1) amortised; allocates only for a third key.
    pub fn push(&mut self, key: Key<'a>) {
        match &mut self.0 {
            KeyStore::Inline { len, keys } if usize::from(*len) < keys.len() => {
                keys[usize::from(*len)] = key;
                *len += 1;
            }
            KeyStore::Inline { keys, .. } => {
                let mut heap = Vec::with_capacity(4);
                heap.extend(keys.iter_mut().map(std::mem::take));
                heap.push(key);
                self.0 = KeyStore::Heap(heap);
            }
            KeyStore::Heap(heap) => heap.push(key),
        }
    }
}

impl<'a> std::ops::Deref for Keys<'a> {
    type Target = [Key<'a>];

    fn deref(&self) -> &[Key<'a>] {
        match &self.0 {
            KeyStore::Inline { len, keys } => &keys[..usize::from(*len)],
            KeyStore::Heap(heap) => heap,
        }
    }
}

impl<'a> Extend<Key<'a>> for Keys<'a> {
    fn extend<I: IntoIterator<Item = Key<'a>>>(&mut self, keys: I) {
        for key in keys {
            self.push(key);
        }
    }
}

impl<'a> FromIterator<Key<'a>> for Keys<'a> {
    fn from_iter<I: IntoIterator<Item = Key<'a>>>(keys: I) -> Keys<'a> {
        let mut out = Keys::new();
        out.extend(keys);
        out
    }
}

impl<'a> IntoIterator for Keys<'a> {
    type Item = Key<'a>;
    type IntoIter = KeysIntoIter<'a>;

    /// Cost: O(1); inline keys are moved out without an allocation.
    fn into_iter(self) -> Self::IntoIter {
        KeysIntoIter(match self.0 {
            KeyStore::Inline { len, keys } => {
                KeysIterStore::Inline(keys.into_iter().take(usize::from(len)))
            }
            KeyStore::Heap(heap) => KeysIterStore::Heap(heap.into_iter()),
        })
    }
}

/// The keys of a [`Keys`], by value.
pub struct KeysIntoIter<'a>(KeysIterStore<'a>);

enum KeysIterStore<'a> {
    Inline(std::iter::Take<std::array::IntoIter<Key<'a>, 2>>),
    Heap(std::vec::IntoIter<Key<'a>>),
}

impl<'a> Iterator for KeysIntoIter<'a> {
    type Item = Key<'a>;

    fn next(&mut self) -> Option<Key<'a>> {
        match &mut self.0 {
            KeysIterStore::Inline(keys) => keys.next(),
            KeysIterStore::Heap(keys) => keys.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            KeysIterStore::Inline(keys) => keys.size_hint(),
            KeysIterStore::Heap(keys) => keys.size_hint(),
        }
    }
}

impl<'k, 'a> IntoIterator for &'k Keys<'a> {
    type Item = &'k Key<'a>;
    type IntoIter = std::slice::Iter<'k, Key<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for Keys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Keys<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

/// One object item: `keys... = value` or `keys... { ... }`.
///
/// `path "secret/*" { ... }` has keys `path`, `"secret/*"` and an object value.
#[derive(Clone, Debug, PartialEq)]
pub struct Item<'a> {
    pub keys: Keys<'a>,
    /// The `=` token, if the item was written as an assignment (HCL1 reports key errors on
    /// the line of this token, and line 0 for a block without one).
    pub assign: Option<Span>,
    pub value: Node<'a>,
}

/// An object key: an identifier or a quoted string.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Key<'a> {
    /// The key text, unquoted and unescaped.
    pub name: Cow<'a, str>,
    pub span: Span,
    pub quoted: bool,
}

impl<'a> Node<'a> {
    pub fn as_object(&self) -> Option<&[Item<'a>]> {
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

    pub fn as_list(&self) -> Option<&[Node<'a>]> {
        match &self.kind {
            NodeKind::List(nodes) => Some(nodes),
            _ => None,
        }
    }
}

impl Item<'_> {
    /// The span from the first key to the end of the value.
    pub fn span(&self) -> Span {
        match self.keys.first() {
            Some(first) => first.span.join(self.value.span),
            None => self.value.span,
        }
    }
}

impl Key<'_> {
    /// An empty key (owns nothing).
    const EMPTY: Key<'static> = Key {
        name: Cow::Borrowed(""),
        span: Span { start: 0, end: 0 },
        quoted: false,
    };

    /// The key text, unquoted and unescaped.
    pub fn name(&self) -> &str {
        &self.name
    }
}
