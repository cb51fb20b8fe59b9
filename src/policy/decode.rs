//! HCL1's reflection decoder (`hcl.DecodeObject`), reproduced for the Go types a policy is
//! decoded into, so that values are converted, appended and refused exactly as the write path
//! does, with the decoder's own error texts (`At 1:27: unknown slice type: *ast.LiteralType`).
//!
//! Facts this follows (checked against OpenBao 2.7.2):
//! - a struct field collects every item whose first key is its name: items with more keys
//!   ("prefix matches", e.g. `allowed_parameters "a" {}`) are decoded first, as one object
//!   list, then each exact match in source order;
//! - an object value of an exact match is decoded as an object list (type `*ast.ObjectList`,
//!   position of its first key, or `-` when empty);
//! - slices append across duplicates, strings/ints/interfaces keep the last value;
//! - a number is accepted where a string is expected (its literal text), a float or a bool is
//!   not; an int field also accepts a string holding an integer (`strconv.ParseInt(s, 0, 0)`).

use std::borrow::Cow;
use std::fmt::{self, Display};

use super::gostr::{parse_float, parse_int};
use super::model::ParamValue;
use crate::hcl1::{Item, Key, Node, NodeKind};
use crate::source::SourceFile;
use crate::span::{Span, Spanned};

/// A decode failure: the decoder's message and the token it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeError {
    pub message: String,
    pub span: Span,
}

/// What a struct field is decoded from: one value, or an object list (several items).
#[derive(Clone, Copy, Debug)]
pub enum Source<'m, 't> {
    Node(&'t Node<'t>),
    /// Items with the keys that remain after the field name; `span` covers them all.
    List(&'m [ItemRef<'t>]),
}

/// An object item seen through a key prefix: `keys` are the keys that remain.
#[derive(Clone, Copy, Debug)]
pub struct ItemRef<'a> {
    pub keys: &'a [Key<'a>],
    pub assign: Option<Span>,
    pub value: &'a Node<'a>,
}

impl<'a> ItemRef<'a> {
    pub fn of(item: &'a Item<'a>, skip: usize) -> ItemRef<'a> {
        ItemRef {
            keys: item.keys.get(skip..).unwrap_or(&[]),
            assign: item.assign,
            value: &item.value,
        }
    }

    /// HCL's `ObjectItem.Pos()`: the first key, else the value.
    pub fn pos(&self) -> Span {
        self.keys.first().map_or(self.value.span, |key| key.span)
    }

    pub fn span(&self) -> Span {
        self.pos().join(self.value.span)
    }
}

/// The items of one struct field, in the order the decoder visits them.
pub struct FieldMatches<'a> {
    pub prefix: Vec<ItemRef<'a>>,
    pub exact: Vec<ItemRef<'a>>,
    /// Backing storage for the exact matches whose value is an object (it becomes an object
    /// list), in order: one entry per such match, none for the others.
    converted: Vec<Vec<ItemRef<'a>>>,
}

impl<'a> FieldMatches<'a> {
    /// Items of `body` whose first key is `field` (HCL matches field names case-insensitively).
    /// Cost: O(items); allocates only for the items found.
    pub fn collect(body: &'a [Item<'a>], field: &str) -> FieldMatches<'a> {
        let mut prefix = Vec::new();
        let mut exact = Vec::new();
        let mut converted = Vec::new();
        for item in body {
            let Some(first) = item.keys.first() else {
                continue;
            };
            if !first.name.eq_ignore_ascii_case(field) {
                continue;
            }
            if item.keys.len() > 1 {
                prefix.push(ItemRef::of(item, 1));
            } else {
                exact.push(ItemRef::of(item, 1));
                if let NodeKind::Object(items) = &item.value.kind {
                    converted.push(items.iter().map(|i| ItemRef::of(i, 0)).collect());
                }
            }
        }
        FieldMatches {
            prefix,
            exact,
            converted,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.prefix.is_empty() && self.exact.is_empty()
    }

    /// No match (allocates nothing).
    pub fn none() -> FieldMatches<'a> {
        FieldMatches {
            prefix: Vec::new(),
            exact: Vec::new(),
            converted: Vec::new(),
        }
    }

    /// The sources in decoding order: the prefix matches as one object list, then each exact
    /// match.
    pub fn sources(&self) -> impl Iterator<Item = Source<'_, 'a>> {
        let prefix = (!self.prefix.is_empty()).then_some(Source::List(&self.prefix));
        let mut converted = self.converted.iter();
        let exact = self.exact.iter().map(move |item| match item.value.kind {
            NodeKind::Object(_) => match converted.next() {
                Some(list) => Source::List(list),
                None => Source::List(&[]),
            },
            _ => Source::Node(item.value),
        });
        prefix.into_iter().chain(exact)
    }

    /// Every span the field was written at (keys to values), for labels.
    pub fn last_span(&self) -> Option<Span> {
        self.exact
            .last()
            .or(self.prefix.last())
            .map(|item| item.value.span)
    }
}

/// The fields of one object body that its items name, found in one pass, so that each of a
/// struct's fields is collected only when written: most `path` blocks set one or two of the
/// dozen fields, and collecting the others would walk the body once each for nothing.
pub struct BodyFields<'a, const N: usize> {
    body: &'a [Item<'a>],
    names: &'static [&'static str; N],
    /// Bit `i` set when some item's first key is `names[i]` (case-insensitively, as HCL).
    present: u64,
}

impl<'a, const N: usize> BodyFields<'a, N> {
    /// Cost: O(items × N) length comparisons, and a case-insensitive comparison for each
    /// name of the right length.
    pub fn of(body: &'a [Item<'a>], names: &'static [&'static str; N]) -> BodyFields<'a, N> {
        const { assert!(N <= 64) };
        let mut present = 0u64;
        for item in body {
            let Some(first) = item.keys.first() else {
                continue;
            };
            for (index, name) in names.iter().enumerate() {
                if first.name.len() == name.len() && first.name.eq_ignore_ascii_case(name) {
                    present |= 1 << index;
                }
            }
        }
        BodyFields {
            body,
            names,
            present,
        }
    }

    /// [`FieldMatches::collect`] for the field `names[index]`; at once empty when no item
    /// names it. Cost: O(1) when not written, else O(items).
    pub fn collect(&self, index: usize) -> FieldMatches<'a> {
        if self.present & (1 << index) == 0 {
            return FieldMatches::none();
        }
        FieldMatches::collect(self.body, self.names[index])
    }

    /// The name of field `index`.
    pub fn name(&self, index: usize) -> &'static str {
        self.names[index]
    }
}

/// The decoder, with the source it reports positions in.
pub struct Decoder<'a> {
    pub source: &'a SourceFile,
    /// HCL1's JSON parser drops token positions: every `At` then reads `At -:`.
    pub json: bool,
}

impl<'a> Decoder<'a> {
    /// `At line:col: ` for a span, as HCL prints a `token.Pos`.
    fn at(&self, span: Option<Span>) -> String {
        match span.filter(|_| !self.json) {
            Some(span) => {
                let (line, column) = self.source.line_col(span.start);
                format!("At {line}:{column}: ")
            }
            None => "At -: ".to_string(),
        }
    }

    fn list_pos(items: &[ItemRef<'_>]) -> Option<Span> {
        items.first().map(ItemRef::pos)
    }

    fn list_span(items: &[ItemRef<'_>]) -> Option<Span> {
        let first = items.first()?.span();
        Some(
            items
                .iter()
                .fold(first, |span, item| span.join(item.span())),
        )
    }

    fn error(&self, pos: Option<Span>, span: Span, text: String) -> DecodeError {
        DecodeError {
            message: format!("{}{text}", self.at(pos)),
            span,
        }
    }

    /// An error at one value node (Go's message prefixed with its position).
    fn node_error(&self, node: &Node<'_>, text: String) -> DecodeError {
        self.error(Some(node.span), node.span, text)
    }

    /// An error at a repeated key's list of items (all of them underlined).
    fn list_error(&self, items: &[ItemRef<'_>], text: String) -> DecodeError {
        self.error(
            Self::list_pos(items),
            Self::list_span(items).unwrap_or_default(),
            text,
        )
    }

    /// The literal text of a number token, as HCL keeps it.
    fn number_text(&self, node: &Node<'_>) -> String {
        match &node.kind {
            NodeKind::BadNumber { text, .. } => text.to_string(),
            _ => self.source.slice(node.span).to_string(),
        }
    }

    /// `decodeString`: strings and heredocs, or a number's literal text.
    pub fn string(
        &self,
        name: &dyn Display,
        source: Source<'_, '_>,
    ) -> Result<Spanned<String>, DecodeError> {
        self.text(|| name.to_string(), source)
            .map(|text| Spanned::new(text.value.into_owned(), text.span))
    }

    /// [`Decoder::string`], borrowing the text from the tree; `name` (the field's name in
    /// messages) is formatted only for an error.
    fn text<'t>(
        &self,
        name: impl Fn() -> String,
        source: Source<'_, 't>,
    ) -> Result<Spanned<Cow<'t, str>>, DecodeError> {
        match source {
            Source::Node(node) => match &node.kind {
                NodeKind::Str(text) => Ok(Spanned::new(text.clone(), node.span)),
                NodeKind::Int(_) | NodeKind::BadNumber { float: false, .. } => {
                    Ok(Spanned::new(Cow::Owned(self.number_text(node)), node.span))
                }
                _ => Err(self.node_error(
                    node,
                    format!("{}: unknown type for string {}", name(), go_type(node)),
                )),
            },
            Source::List(items) => Err(self.list_error(
                items,
                format!("{}: unknown type for string *ast.ObjectList", name()),
            )),
        }
    }

    /// `decodeSlice` into `[]string`, appending to `out` (owned strings, or text borrowed
    /// from the tree: `T` is `String` or `Cow<str>`).
    pub fn string_list<'t, T: From<Cow<'t, str>>>(
        &self,
        name: &dyn Display,
        source: Source<'_, 't>,
        out: &mut Vec<Spanned<T>>,
    ) -> Result<(), DecodeError> {
        match source {
            Source::Node(node) => match &node.kind {
                NodeKind::List(elements) => {
                    for (index, element) in elements.iter().enumerate() {
                        let text =
                            self.text(|| format!("{name}[{index}]"), Source::Node(element))?;
                        out.push(Spanned::new(T::from(text.value), text.span));
                    }
                    Ok(())
                }
                NodeKind::Object(_) => Err(self.node_error(
                    node,
                    format!("{name}[0]: unknown type for string *ast.ObjectType"),
                )),
                _ => Err(self.node_error(node, format!("unknown slice type: {}", go_type(node)))),
            },
            Source::List(items) => match items.first() {
                None => Ok(()),
                Some(item) => Err(self.error(
                    Some(item.pos()),
                    item.span(),
                    format!("{name}[0]: unknown type for string *ast.ObjectItem"),
                )),
            },
        }
    }

    /// `decodeInt`: an integer literal (any Go base prefix) or a string holding one.
    pub fn int(
        &self,
        name: &dyn Display,
        source: Source<'_, '_>,
    ) -> Result<Spanned<i64>, DecodeError> {
        let node = match source {
            Source::Node(node) => node,
            Source::List(items) => {
                return Err(self.list_error(items, format!("{name}: unknown type *ast.ObjectList")))
            }
        };
        let raw = |message: String| DecodeError {
            message,
            span: node.span,
        };
        match &node.kind {
            NodeKind::Int(_) | NodeKind::BadNumber { float: false, .. } => {
                parse_int(&self.number_text(node), 0)
                    .map(|v| Spanned::new(v, node.span))
                    .map_err(raw)
            }
            NodeKind::Str(text) => parse_int(text, 0)
                .map(|v| Spanned::new(v, node.span))
                .map_err(raw),
            _ => Err(self.node_error(node, format!("{name}: unknown type {}", go_type(node)))),
        }
    }

    /// `decodeBool`.
    pub fn boolean(&self, name: &dyn Display, source: Source<'_, '_>) -> Result<bool, DecodeError> {
        match source {
            Source::Node(Node {
                kind: NodeKind::Bool(value),
                ..
            }) => Ok(*value),
            Source::Node(node) => {
                Err(self.node_error(node, format!("{name}: unknown type {}", go_type(node))))
            }
            Source::List(items) => {
                Err(self.list_error(items, format!("{name}: unknown type *ast.ObjectList")))
            }
        }
    }

    /// `decodeInterface`: any value, typed as HCL decodes it.
    pub fn value(
        &self,
        name: &dyn Display,
        source: Source<'_, '_>,
    ) -> Result<ParamValue, DecodeError> {
        let node = match source {
            Source::Node(node) => node,
            Source::List(items) => return self.object_value(name, items),
        };
        match &node.kind {
            NodeKind::Str(text) | NodeKind::Ident(text) => Ok(ParamValue::Str(text.to_string())),
            NodeKind::BadNumber { float: true, text } => go_parse_float(text)
                .map(ParamValue::Float)
                .map_err(|message| DecodeError {
                    message,
                    span: node.span,
                }),
            NodeKind::Int(_) | NodeKind::BadNumber { .. } => parse_int(&self.number_text(node), 0)
                .map(ParamValue::Int)
                .map_err(|message| DecodeError {
                    message,
                    span: node.span,
                }),
            NodeKind::Float(value) => Ok(ParamValue::Float(
                parse_float(&self.number_text(node)).unwrap_or(*value),
            )),
            NodeKind::Bool(value) => Ok(ParamValue::Bool(*value)),
            NodeKind::List(elements) => {
                let mut values = Vec::with_capacity(elements.len());
                for (index, element) in elements.iter().enumerate() {
                    values
                        .push(self.value(&format_args!("{name}[{index}]"), Source::Node(element))?);
                }
                Ok(ParamValue::List(values))
            }
            NodeKind::Object(items) => {
                let refs: Vec<ItemRef<'_>> = items.iter().map(|i| ItemRef::of(i, 0)).collect();
                self.object_value(name, &refs)
            }
        }
    }

    /// Decodes into a Go `interface{}` field that may already hold a value: HCL decodes a
    /// repeated key into the *type of the value already there* (a bool field stays a bool, so
    /// `x = true` then `x = "1s"` fails). Lists append.
    pub fn value_into(
        &self,
        name: &dyn Display,
        source: Source<'_, '_>,
        previous: Option<&ParamValue>,
    ) -> Result<ParamValue, DecodeError> {
        match previous {
            None => self.value(name, source),
            Some(ParamValue::Bool(_)) => self.boolean(name, source).map(ParamValue::Bool),
            Some(ParamValue::Int(_)) => self.int(name, source).map(|v| ParamValue::Int(v.value)),
            Some(ParamValue::Str(_)) => self.string(name, source).map(|v| ParamValue::Str(v.value)),
            Some(ParamValue::Float(_)) => self.float(name, source).map(ParamValue::Float),
            Some(ParamValue::List(existing)) => {
                let mut values = Vec::new();
                self.value_list(name, source, &mut values)?;
                let mut all = existing.clone();
                all.extend(values.into_iter().map(|v| v.value));
                Ok(ParamValue::List(all))
            }
            Some(other) => {
                // An object decodes to a list of maps in Go: later values append to it, and
                // each of their elements must itself be an object.
                if let Source::Node(node) = source {
                    if let NodeKind::List(elements) = &node.kind {
                        for (index, element) in elements.iter().enumerate() {
                            if !matches!(element.kind, NodeKind::Object(_)) {
                                return Err(self.error(
                                    Some(element.span),
                                    element.span,
                                    format!(
                                        "{name}[{index}]: not an object type for map ({})",
                                        go_type(element)
                                    ),
                                ));
                            }
                        }
                    }
                }
                let mut values = Vec::new();
                self.value_list(name, source, &mut values)?;
                Ok(other.clone())
            }
        }
    }

    /// `decodeFloat`: a FLOAT or NUMBER literal.
    pub fn float(&self, name: &dyn Display, source: Source<'_, '_>) -> Result<f64, DecodeError> {
        match source {
            Source::Node(node) => match &node.kind {
                NodeKind::BadNumber { text, .. } => {
                    go_parse_float(text).map_err(|message| DecodeError {
                        message,
                        span: node.span,
                    })
                }
                NodeKind::Int(_) | NodeKind::Float(_) => parse_float(&self.number_text(node))
                    .map_err(|message| DecodeError {
                        message,
                        span: node.span,
                    }),
                _ => Err(self.node_error(node, format!("{name}: unknown type {}", go_type(node)))),
            },
            Source::List(items) => {
                Err(self.list_error(items, format!("{name}: unknown type *ast.ObjectList")))
            }
        }
    }

    fn object_value(
        &self,
        name: &dyn Display,
        items: &[ItemRef<'_>],
    ) -> Result<ParamValue, DecodeError> {
        let mut map = std::collections::BTreeMap::new();
        for item in items {
            let Some(key) = item.keys.first() else {
                continue;
            };
            let value = if item.keys.len() > 1 {
                let nested = [ItemRef {
                    keys: &item.keys[1..],
                    assign: item.assign,
                    value: item.value,
                }];
                self.object_value(&format_args!("{name}.{}", key.name), &nested)?
            } else {
                self.value(
                    &format_args!("{name}.{}", key.name),
                    Source::Node(item.value),
                )?
            };
            map.insert(key.name.to_string(), value);
        }
        Ok(ParamValue::Map(map))
    }

    /// `decodeSlice` into `[]interface{}`: a list's elements, or an object as one map.
    pub fn value_list(
        &self,
        name: &dyn Display,
        source: Source<'_, '_>,
        out: &mut Vec<Spanned<ParamValue>>,
    ) -> Result<(), DecodeError> {
        match source {
            Source::Node(node) => match &node.kind {
                NodeKind::List(elements) => {
                    for (index, element) in elements.iter().enumerate() {
                        let value =
                            self.value(&format_args!("{name}[{index}]"), Source::Node(element))?;
                        out.push(Spanned::new(value, element.span));
                    }
                    Ok(())
                }
                NodeKind::Object(_) => {
                    let value = self.value(&format_args!("{name}[0]"), source)?;
                    out.push(Spanned::new(value, node.span));
                    Ok(())
                }
                _ => Err(self.node_error(node, format!("unknown slice type: {}", go_type(node)))),
            },
            Source::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    let value = self.object_value(
                        &format_args!("{name}[{index}]"),
                        std::slice::from_ref(item),
                    )?;
                    out.push(Spanned::new(value, item.span()));
                }
                Ok(())
            }
        }
    }

    /// `decodeMap` into `map[string][]interface{}`: keys as written (the caller lower-cases
    /// them), values appended when a key repeats.
    pub fn param_map<'t>(
        &self,
        name: &dyn Display,
        source: Source<'_, 't>,
        out: &mut ParamEntries<'t>,
    ) -> Result<(), DecodeError> {
        let owned;
        let items: &[ItemRef<'_>] = match source {
            Source::List(items) => items,
            Source::Node(node) => match &node.kind {
                NodeKind::Object(items) => {
                    owned = items.iter().map(|i| ItemRef::of(i, 0)).collect::<Vec<_>>();
                    &owned
                }
                _ => {
                    return Err(self.node_error(
                        node,
                        format!("{name}: not an object type for map ({})", go_type(node)),
                    ))
                }
            },
        };
        for item in items {
            let Some(key) = item.keys.first() else {
                return Err(self.error(
                    Some(item.pos()),
                    item.span(),
                    format!("{name}: map must have string keys"),
                ));
            };
            let field = Member(name, &key.name);
            let mut values = Vec::new();
            if item.keys.len() > 1 {
                // `"x" "y" {}` nests an object item, which `[]interface{}` cannot hold.
                return Err(DecodeError {
                    message: format!("{field}[0]: cannot decode into interface: *ast.ObjectItem"),
                    span: item.span(),
                });
            }
            self.value_list(&field, Source::Node(item.value), &mut values)?;
            out.add(key, values);
        }
        Ok(())
    }
}

/// `parent.key`, a member's name in decoder messages, formatted only when a message is
/// (decoding a parameter map formats nothing per key or value otherwise).
struct Member<'n>(&'n dyn Display, &'n str);

impl Display for Member<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// A parameter map's entries in the order their keys first appear, the values of a repeated
/// key (spelt the same) appended to its first entry, as Go's map decoding does. Up to
/// [`ParamEntries::SCAN_LIMIT`] keys are found by scanning the entries (most maps hold one
/// or two: no index to allocate); beyond, through a hash index built then: O(1) per key, so
/// a map of n keys decodes in O(n).
#[derive(Debug, Default)]
pub struct ParamEntries<'t> {
    pub entries: Vec<(Key<'t>, Vec<Spanned<ParamValue>>)>,
    by_name: std::collections::HashMap<Cow<'t, str>, usize>,
}

impl<'t> ParamEntries<'t> {
    /// The most entries searched linearly.
    const SCAN_LIMIT: usize = 8;

    fn add(&mut self, key: &Key<'t>, values: Vec<Spanned<ParamValue>>) {
        match self.index_of(&key.name) {
            Some(index) => self.entries[index].1.extend(values),
            None => {
                if !self.by_name.is_empty() {
                    self.by_name.insert(key.name.clone(), self.entries.len());
                }
                self.entries.push((key.clone(), values));
                if self.entries.len() == Self::SCAN_LIMIT + 1 {
                    // The index starts here, with every key so far (the first of each name).
                    for (index, (key, _)) in self.entries.iter().enumerate() {
                        self.by_name.entry(key.name.clone()).or_insert(index);
                    }
                }
            }
        }
    }

    /// The entry of the first key spelt `name`. Cost: O(1) with the index, else O(entries).
    fn index_of(&self, name: &str) -> Option<usize> {
        if self.entries.len() > Self::SCAN_LIMIT {
            return self.by_name.get(name).copied();
        }
        self.entries.iter().position(|(key, _)| key.name == name)
    }
}

/// Go's `strconv.ParseFloat(text, 64)` for literals HCL1 scanned as numbers but Rust's
/// tokenizer kept as text: out-of-range values and malformed exponents fail with Go's text.
fn go_parse_float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            super::gostr::quote(text)
        )),
        Err(_) => Err(format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            super::gostr::quote(text)
        )),
    }
}

/// The Go type name of an HCL AST node, as the decoder's errors print it.
pub fn go_type(node: &Node<'_>) -> &'static str {
    match node.kind {
        NodeKind::List(_) => "*ast.ListType",
        NodeKind::Object(_) => "*ast.ObjectType",
        _ => "*ast.LiteralType",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(items: &[ItemRef<'_>]) -> Vec<Span> {
        items.iter().map(ItemRef::span).collect()
    }

    proptest::proptest! {
        /// Entries found by scan or by index: as a plain search of every entry would find them.
        #[test]
        fn param_entries_merge_as_a_plain_search(names in proptest::collection::vec("[a-l]", 0..40)) {
            let mut entries = ParamEntries::default();
            let mut plain: Vec<(String, Vec<i64>)> = Vec::new();
            for (index, name) in names.iter().enumerate() {
                let key = Key { name: Cow::Owned(name.clone()), span: Span::new(index, index + 1), quoted: true };
                let value = index as i64;
                entries.add(&key, vec![Spanned::new(ParamValue::Int(value), Span::default())]);
                match plain.iter_mut().find(|(n, _)| n == name) {
                    Some((_, values)) => values.push(value),
                    None => plain.push((name.clone(), vec![value])),
                }
            }
            let got: Vec<(String, Vec<i64>)> = entries
                .entries
                .iter()
                .map(|(key, values)| {
                    let values = values
                        .iter()
                        .map(|v| match v.value { ParamValue::Int(i) => i, _ => -1 })
                        .collect();
                    (key.name.to_string(), values)
                })
                .collect();
            proptest::prop_assert_eq!(got, plain);
        }

        /// A field collected through the body's field set matches the field collected alone.
        #[test]
        fn body_fields_collect_as_field_matches(text in "(policy|Policy|capabilities|CAPABILITIES|comment|x)( \"a\")?( = \"v\"| \\{\\})( |\\n)") {
            let text = text.repeat(3);
            let Ok(root) = crate::hcl1::parse(&text) else { return Ok(()) };
            let Some(body) = root.as_object() else { return Ok(()) };
            const NAMES: [&str; 2] = ["policy", "capabilities"];
            let fields = BodyFields::of(body, &NAMES);
            for (index, field) in NAMES.iter().enumerate() {
                let alone = FieldMatches::collect(body, field);
                let through = fields.collect(index);
                proptest::prop_assert_eq!(spans(&alone.prefix), spans(&through.prefix));
                proptest::prop_assert_eq!(spans(&alone.exact), spans(&through.exact));
                proptest::prop_assert_eq!(alone.converted.len(), through.converted.len());
            }
        }
    }
}
