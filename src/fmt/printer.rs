//! HCL1's printer (`hcl/printer`, v1.0.1-vault-7, the one `bao policy fmt` runs), rebuilt
//! rule for rule so that the output is byte-identical:
//! - two-space indentation; heredoc lines and the lines of block comments are never indented
//!   (they are marked while printing and the marks removed at the end, as HCL1 does);
//! - inside a block, runs of one-line items on consecutive lines are aligned on `=` and their
//!   line comments aligned after the longest value; other items get a blank line around them;
//! - at the top level, items are separated by a blank line, except consecutive empty blocks
//!   written on consecutive lines (`path "a" {}`);
//! - a list stays on one line when it was written on one line and holds only literals without
//!   line comments (and at most one heredoc); otherwise one element per line with a trailing
//!   comma;
//! - standalone comments are printed where they fall between items, by position.
//!
//! HCL1 decides whether items align by printing each candidate and counting lines, which is
//! exponential in the nesting depth; [`Printer::candidate_lines`] computes the same count
//! without printing. Cost: O(output length × nesting depth) for the indentation, plus
//! O(log c) per item for the standalone comment lookups (c comments).

use super::tree::{Comment, GroupId, Item, List, Literal, Object, Pos, Tree, Value};
use crate::hcl1::lexer::Kind;

/// HCL1's "do not indent this line" mark (a private-use character).
const UNINDENT: &[u8] = "\u{E123}".as_bytes();
const INDENT: &[u8] = b"  ";

/// Prints `tree` (parsed from `text`) the way `printer.Format` does, final newline included.
/// Also returns, for each comment group, which of its comments were printed.
pub(super) fn print(text: &str, tree: &Tree) -> (Vec<u8>, Vec<Vec<bool>>) {
    let mut printer = Printer::new(text, tree);
    let mut out = printer.object_list(&tree.items);
    out = unindent(&out);
    out.push(b'\n');
    (out, printer.printed)
}

/// One standalone comment and the group it belongs to.
#[derive(Clone, Copy)]
struct Standalone {
    group: GroupId,
    /// Index of the comment in its group.
    index: usize,
    comment: Comment,
}

struct Printer<'a> {
    text: &'a str,
    tree: &'a Tree,
    /// HCL1's `prev`: the position of the last item (or `}`) printed.
    prev: Pos,
    /// Comments of groups no node took, in source order.
    standalone: Vec<Standalone>,
    /// Which comments were printed, by group and index (HCL1 drops some; the caller refuses
    /// to write such output).
    printed: Vec<Vec<bool>>,
}

impl<'a> Printer<'a> {
    fn new(text: &'a str, tree: &'a Tree) -> Printer<'a> {
        let mut attached = vec![false; tree.groups.len()];
        mark_attached(&tree.items, &mut attached);
        let standalone = tree
            .groups
            .iter()
            .enumerate()
            .filter(|(group, _)| !attached[*group])
            .flat_map(|(group, comments)| {
                comments
                    .iter()
                    .enumerate()
                    .map(move |(index, &comment)| Standalone {
                        group,
                        index,
                        comment,
                    })
            })
            .collect();
        Printer {
            text,
            tree,
            prev: Pos::default(),
            standalone,
            printed: tree
                .groups
                .iter()
                .map(|group| vec![false; group.len()])
                .collect(),
        }
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.text[start..end]
    }

    fn comment_text(&self, comment: &Comment) -> &'a str {
        self.slice(comment.start, comment.end)
    }

    /// The standalone comments after `prev` and before `next` (HCL1's `After`/`Before`),
    /// in order. `next` of `None` is HCL1's "infinity". Cost: O(log c + k).
    fn standalone_between(&self, prev: Pos, next: Option<Pos>) -> &[Standalone] {
        let first = if prev.is_valid() {
            self.standalone
                .partition_point(|entry| entry.comment.pos.offset <= prev.offset)
        } else {
            0
        };
        let rest = &self.standalone[first..];
        let count = match next {
            Some(next) => rest.partition_point(|entry| entry.comment.pos.offset < next.offset),
            None => rest.len(),
        };
        &rest[..count]
    }

    /// The root items (HCL1's `output` of an `ObjectList`).
    fn object_list(&mut self, items: &[Item]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut index = 0;
        loop {
            let next = items.get(index).map(Item::pos);
            let at_end = index == items.len();
            let comments = self.standalone_between(self.prev, next).to_vec();
            for run in group_runs(&comments) {
                if self.prev.is_valid() && at_end {
                    out.extend_from_slice(b"\n\n");
                }
                for entry in run {
                    self.printed[entry.group][entry.index] = true;
                    out.extend_from_slice(self.comment_text(&entry.comment).as_bytes());
                    out.push(b'\n');
                }
                if !at_end {
                    out.push(b'\n');
                }
            }
            let Some(item) = items.get(index) else {
                break;
            };
            self.prev = item.pos();
            out.extend(self.object_item(item));
            if let Some(following) = items.get(index + 1) {
                out.push(b'\n');
                let adjacent = following.pos().line == item.pos().line + 1;
                if !adjacent || !is_single_line_object(following) || !is_single_line_object(item) {
                    out.push(b'\n');
                }
            }
            index += 1;
        }
        out
    }

    fn output(&mut self, value: &Value) -> Vec<u8> {
        match value {
            Value::Literal(literal) => self.literal(literal),
            Value::List(list) => self.list(list),
            Value::Object(object) => self.object_type(object),
        }
    }

    fn literal(&self, literal: &Literal) -> Vec<u8> {
        let token = &literal.token;
        let text = self.slice(token.start, token.end).as_bytes();
        match token.kind {
            Kind::Heredoc => heredoc_indent(text.strip_suffix(b"\n").unwrap_or(text)),
            Kind::Str if text.contains(&b'\n') => heredoc_indent(text),
            _ => text.to_vec(),
        }
    }

    fn group_lines(&mut self, group: GroupId, out: &mut Vec<u8>) {
        self.printed[group].fill(true);
        for comment in &self.tree.groups[group] {
            out.extend_from_slice(self.comment_text(comment).as_bytes());
            out.push(b'\n');
        }
    }

    fn group_inline(&mut self, group: GroupId, out: &mut Vec<u8>) {
        self.printed[group].fill(true);
        for comment in &self.tree.groups[group] {
            out.extend_from_slice(self.comment_text(comment).as_bytes());
        }
    }

    fn object_item(&mut self, item: &Item) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(lead) = item.lead {
            self.group_lines(lead, &mut out);
        }
        let same_line = item.value.pos().line == item.pos().line;
        // A line comment between the key and a value on a later line is printed as a lead.
        if let (Some(line), false) = (item.line, same_line) {
            self.group_lines(line, &mut out);
        }
        for key in &item.keys {
            out.extend_from_slice(self.slice(key.start, key.end).as_bytes());
            out.push(b' ');
            if item.assign.is_some() && item.keys.len() == 1 {
                out.extend_from_slice(b"= ");
            }
        }
        out.extend(self.output(&item.value));
        if let (Some(line), true) = (item.line, same_line) {
            out.push(b' ');
            self.group_inline(line, &mut out);
        }
        out
    }

    fn object_type(&mut self, object: &Object) -> Vec<u8> {
        let items = &object.items;
        let mut out = vec![b'{'];
        let mut index = 0;
        let mut commented = false;
        let mut newline_printed = false;
        loop {
            let next = items.get(index).map_or(object.rbrace, Item::pos);
            let comments = self.standalone_between(self.prev, Some(next)).to_vec();
            for run in group_runs(&comments) {
                let mut last_comment = Pos::default();
                for entry in run {
                    if !newline_printed {
                        newline_printed = true;
                        out.push(b'\n');
                    }
                    if index > 0 {
                        commented = true;
                        out.push(b'\n');
                    }
                    last_comment = entry.comment.pos;
                    self.printed[entry.group][entry.index] = true;
                    let text = self.comment_text(&entry.comment).as_bytes();
                    out.extend(indent(&heredoc_indent(text)));
                }
                out.push(b'\n');
                if next != object.rbrace && next.line != last_comment.line + 1 {
                    out.push(b'\n');
                }
            }
            if index == items.len() {
                self.prev = object.rbrace;
                break;
            }
            if !newline_printed {
                out.push(b'\n');
                newline_printed = true;
            }
            let aligned = self.aligned_run(items, &mut index);
            if !commented && index != aligned.len() {
                out.push(b'\n');
            }
            if let Some(last) = aligned.last() {
                self.prev = last.pos();
                let printed = self.aligned_items(aligned);
                out.extend(indent(&printed));
            } else {
                let item = &items[index];
                self.prev = item.pos();
                let printed = self.object_item(item);
                out.extend(indent(&printed));
                index += 1;
            }
            out.push(b'\n');
        }
        out.push(b'}');
        out
    }

    /// HCL1's search for a run of one-line items on consecutive lines starting at `index`
    /// (advanced past the run). A block with one item never aligns.
    fn aligned_run<'i>(&self, items: &'i [Item], index: &mut usize) -> &'i [Item] {
        let start = *index;
        // HCL1 prints each candidate to count its lines, which moves `prev` past any empty
        // block it prints; the count below follows the same `prev`.
        let mut prev = self.prev;
        while *index < items.len() && items.len() != 1 {
            let item = &items[*index];
            if self.candidate_lines(item, &mut prev) > 2 {
                break;
            }
            let line = item.pos().line;
            let next_line = items.get(*index + 1).map_or(0, |next| next.pos().line);
            let prev_line = match *index {
                0 => 0,
                i => items[i - 1].pos().line,
            };
            if line + 1 == next_line {
                *index += 1;
                continue;
            }
            if line == prev_line + 1 {
                *index += 1;
            }
            break;
        }
        &items[start..*index]
    }

    /// The number of lines `object_item(item)` would print, exact up to 3 (larger counts
    /// come back as 3). `prev` moves as printing would move it. Cost: O(item's own text),
    /// never a recursive print.
    fn candidate_lines(&self, item: &Item, prev: &mut Pos) -> usize {
        const MANY: usize = 3;
        let mut newlines = 0;
        let count = |text: &str| text.bytes().filter(|&b| b == b'\n').count();
        let group_newlines = |group: GroupId| -> usize {
            self.tree.groups[group]
                .iter()
                .map(|comment| 1 + count(self.comment_text(comment)))
                .sum()
        };
        if let Some(lead) = item.lead {
            newlines += group_newlines(lead);
        }
        let same_line = item.value.pos().line == item.pos().line;
        if let Some(line) = item.line {
            newlines += match same_line {
                false => group_newlines(line),
                true => group_newlines(line) - self.tree.groups[line].len(),
            };
        }
        for key in &item.keys {
            newlines += count(self.slice(key.start, key.end));
        }
        newlines += match &item.value {
            Value::Literal(literal) => count(&self.literal_text(literal)),
            Value::List(list) if is_single_line_list(list) => list
                .elements
                .iter()
                .map(|element| match element {
                    Value::Literal(literal) if literal.token.kind == Kind::Heredoc => {
                        count(&self.literal_text(literal)) + 1
                    }
                    Value::Literal(literal) => count(&self.literal_text(literal)),
                    _ => MANY,
                })
                .sum(),
            // Multi-line lists and blocks with items print at least three lines.
            Value::List(_) => MANY,
            Value::Object(object) if !object.items.is_empty() => MANY,
            Value::Object(object) => {
                let commented = !self
                    .standalone_between(*prev, Some(object.rbrace))
                    .is_empty();
                *prev = object.rbrace;
                if commented {
                    MANY
                } else {
                    0
                }
            }
        };
        (newlines + 1).min(MANY)
    }

    /// A literal as printed, as text (for counting lines).
    fn literal_text(&self, literal: &Literal) -> String {
        let token = &literal.token;
        let text = self.slice(token.start, token.end);
        match token.kind {
            Kind::Heredoc => text.strip_suffix('\n').unwrap_or(text).to_string(),
            _ => text.to_string(),
        }
    }

    fn aligned_items(&mut self, items: &[Item]) -> Vec<u8> {
        let mut longest_key = 0;
        let mut longest_value = 0;
        for item in items {
            let key = &item.keys[0];
            longest_key = longest_key.max(key.end - key.start);
            longest_value = longest_value.max(self.output(&item.value).len());
        }
        let mut out = Vec::new();
        for (position, item) in items.iter().enumerate() {
            if let Some(lead) = item.lead {
                self.group_lines(lead, &mut out);
            }
            for key in &item.keys {
                let text = self.slice(key.start, key.end);
                out.extend_from_slice(text.as_bytes());
                let pad = (longest_key + 1).saturating_sub(text.len());
                out.extend(std::iter::repeat_n(b' ', pad));
                if item.keys.len() == 1 {
                    out.extend_from_slice(b"= ");
                }
            }
            let value = self.output(&item.value);
            let value_len = value.len();
            out.extend(value);
            if let (Some(line), true) = (item.line, item.value.pos().line == item.pos().line) {
                let pad = (longest_value + 1).saturating_sub(value_len);
                out.extend(std::iter::repeat_n(b' ', pad));
                self.group_inline(line, &mut out);
            }
            if position + 1 != items.len() {
                out.push(b'\n');
            }
        }
        out
    }

    fn list(&mut self, list: &List) -> Vec<u8> {
        if is_single_line_list(list) {
            return self.single_line_list(list);
        }
        let mut out = b"[\n".to_vec();
        let longest = list
            .elements
            .iter()
            .filter_map(|element| match element {
                // Every literal counts, with or without a line comment (as in HCL1).
                Value::Literal(literal) => Some(literal.token.end - literal.token.start),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let mut have_empty_line = false;
        for (position, element) in list.elements.iter().enumerate() {
            let literal = match element {
                Value::Literal(literal) => Some(literal),
                _ => None,
            };
            let lead = literal.and_then(|literal| literal.lead);
            if let Some(lead) = lead {
                // A blank line before every element with a lead comment but the first.
                if !have_empty_line && position != 0 {
                    out.push(b'\n');
                }
                self.printed[lead].fill(true);
                for comment in &self.tree.groups[lead] {
                    out.extend(indent(self.comment_text(comment).as_bytes()));
                    out.push(b'\n');
                }
            }
            let value = self.output(element);
            let value_len = value.len();
            out.extend(indent(&value));
            if is_heredoc(element) {
                out.push(b'\n');
                out.extend(indent(b","));
            } else {
                out.push(b',');
            }
            if let Some(line) = literal.and_then(|literal| literal.line) {
                out.push(b' ');
                out.extend(std::iter::repeat_n(b' ', longest.saturating_sub(value_len)));
                self.group_inline(line, &mut out);
            }
            out.push(b'\n');
            have_empty_line = lead.is_some() && position + 1 != list.elements.len();
            if have_empty_line {
                out.push(b'\n');
            }
        }
        out.push(b']');
        out
    }

    fn single_line_list(&mut self, list: &List) -> Vec<u8> {
        let mut out = vec![b'['];
        for (position, element) in list.elements.iter().enumerate() {
            if position != 0 {
                out.extend_from_slice(b", ");
            }
            out.extend(self.output(element));
            if is_heredoc(element) {
                out.push(b'\n');
            }
        }
        out.push(b']');
        out
    }
}

/// Splits a run of standalone comments into their groups (HCL1 prints group by group).
fn group_runs(comments: &[Standalone]) -> impl Iterator<Item = &[Standalone]> {
    comments.chunk_by(|a, b| a.group == b.group)
}

/// Marks the groups taken as lead or line comments of some node.
fn mark_attached(items: &[Item], attached: &mut [bool]) {
    for item in items {
        for group in [item.lead, item.line].into_iter().flatten() {
            attached[group] = true;
        }
        mark_value(&item.value, attached);
    }
}

fn mark_value(value: &Value, attached: &mut [bool]) {
    match value {
        Value::Literal(literal) => {
            for group in [literal.lead, literal.line].into_iter().flatten() {
                attached[group] = true;
            }
        }
        Value::List(list) => {
            for element in &list.elements {
                mark_value(element, attached);
            }
        }
        Value::Object(object) => mark_attached(&object.items, attached),
    }
}

/// HCL1's `isSingleLineObject`: an empty block without lead comment or `=`.
fn is_single_line_object(item: &Item) -> bool {
    if item.lead.is_some() || item.assign.is_some() {
        return false;
    }
    matches!(&item.value, Value::Object(object) if object.items.is_empty())
}

/// HCL1's `isSingleLineList`: written on one line, only literals, no line comments, and a
/// heredoc only as the sole element.
fn is_single_line_list(list: &List) -> bool {
    list.elements.iter().all(|element| {
        let Value::Literal(literal) = element else {
            return false;
        };
        element.pos().line == list.lbrack.line
            && (literal.token.kind != Kind::Heredoc || list.elements.len() == 1)
            && literal.line.is_none()
    })
}

fn is_heredoc(value: &Value) -> bool {
    matches!(value, Value::Literal(literal) if literal.token.kind == Kind::Heredoc)
}

/// Two spaces before every non-empty line.
fn indent(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + INDENT.len());
    let mut at_line_start = true;
    for &byte in text {
        if at_line_start && byte != b'\n' {
            out.extend_from_slice(INDENT);
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    out
}

/// Marks the second and later non-empty lines as "never indent".
fn heredoc_indent(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at_line_start = false;
    for &byte in text {
        if at_line_start && byte != b'\n' {
            out.extend_from_slice(UNINDENT);
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    out
}

/// Removes each mark and everything printed before it on its line (the indentation).
/// Cost: O(length): each byte is pushed and removed at most once.
fn unindent(text: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut index = 0;
    while index < text.len() {
        // HCL1 does not look for a mark in the last `UNINDENT.len()` bytes.
        let is_mark = text.len() - index > UNINDENT.len() && text[index..].starts_with(UNINDENT);
        if !is_mark {
            out.push(text[index]);
            index += 1;
            continue;
        }
        let line_start = out
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        out.truncate(line_start);
        index += UNINDENT.len();
    }
    out
}
