//! String and heredoc values, decoded the way HCL1 decodes them.
//!
//! - HCL strings use HCL's own unquoting: Go escapes, and the text of every `${ ... }` copied
//!   as written (no escapes processed inside). `\uD800` (a surrogate) becomes U+FFFD.
//! - JSON strings use Go's `strconv.Unquote`: the same escapes, no `${}` rule, and a
//!   surrogate is invalid.
//! - `\x` and octal escapes give raw bytes; bytes that are not UTF-8 become U+FFFD here
//!   (Go keeps the raw byte; OpenBao then prints `\xff` where we print `\u{fffd}`).
//!
//! OpenBao 2.7.2 crashes the request (the connection closes without an answer) when it
//! *decodes* an octal escape above `\377`, a `\U` above `\U0010FFFF`, a JSON surrogate, or
//! a U+FFFD inside `${}`. Its parser accepts them, and values it never decodes (a `comment`,
//! an invalid key) do not crash it, so we accept them too and decode each such escape as
//! U+FFFD; the policy then fails or passes on its other merits.

use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Hcl,
    Json,
}

/// The value of an HCL STRING token (`text` includes the quotes), borrowed from `text` when
/// it holds no escape. Cost: O(text length).
pub(crate) fn hcl_string(text: &str) -> Cow<'_, str> {
    unquote(text, Dialect::Hcl)
}

/// The value of a JSON STRING token (`text` includes the quotes), borrowed from `text` when
/// it holds no escape. Cost: O(text length).
pub(crate) fn json_string(text: &str) -> Cow<'_, str> {
    unquote(text, Dialect::Json)
}

fn unquote(text: &str, dialect: Dialect) -> Cow<'_, str> {
    let body = text.strip_prefix('"').unwrap_or(text);
    let body = body.strip_suffix('"').unwrap_or(body);
    // Without a backslash every byte is copied as written (`${...}` included).
    if memchr::memchr(b'\\', body.as_bytes()).is_none() {
        return Cow::Borrowed(body);
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        if dialect == Dialect::Hcl && rest.starts_with("${") {
            let copied = interpolation_len(rest).unwrap_or(rest.len());
            out.extend_from_slice(&rest.as_bytes()[..copied]);
            rest = &rest[copied..];
            continue;
        }
        let Some(after_backslash) = rest.strip_prefix('\\') else {
            // Copy plain text up to the next escape or interpolation in one step.
            let first_len = rest.chars().next().map_or(1, char::len_utf8);
            let plain_len = match rest[first_len..].find(['\\', '$']) {
                Some(index) => first_len + index,
                None => rest.len(),
            };
            out.extend_from_slice(&rest.as_bytes()[..plain_len]);
            rest = &rest[plain_len..];
            continue;
        };
        match decode_escape(after_backslash, dialect) {
            Ok((used, bytes)) => {
                out.extend_from_slice(&bytes);
                rest = &after_backslash[used..];
            }
            Err(len) => {
                out.extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
                let len = len.clamp(1, after_backslash.len().max(1));
                rest = after_backslash.get(len..).unwrap_or("");
            }
        }
    }
    Cow::Owned(into_string(out))
}

/// The bytes as a string; bytes that are not UTF-8 (from `\x` or octal escapes) become U+FFFD.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Length of `${ ... }` at the start of `text` with balanced braces; `None` if it never
/// closes or holds U+FFFD (HCL treats both as fatal).
fn interpolation_len(text: &str) -> Option<usize> {
    let mut depth = 1usize;
    for (index, c) in text.char_indices().skip(2) {
        match c {
            char::REPLACEMENT_CHARACTER => return None,
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return Some(index + 1);
        }
    }
    None
}

/// Decodes the escape after a `\`: returns how many bytes it used and the bytes it stands
/// for, or the length of the bad escape.
fn decode_escape(text: &str, dialect: Dialect) -> Result<(usize, Vec<u8>), usize> {
    let Some(first) = text.chars().next() else {
        return Err(0);
    };
    let simple = match first {
        'a' => Some(0x07),
        'b' => Some(0x08),
        'f' => Some(0x0c),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(0x0b),
        '\\' => Some(b'\\'),
        '"' => Some(b'"'),
        _ => None,
    };
    if let Some(byte) = simple {
        return Ok((1, vec![byte]));
    }
    match first {
        '0'..='7' => {
            let value = digits(text, 0, 3, 8).ok_or(text.len().min(3))?;
            let byte = u8::try_from(value).map_err(|_| 3usize)?;
            Ok((3, vec![byte]))
        }
        'x' => {
            let value = digits(text, 1, 2, 16).ok_or(text.len().min(3))?;
            Ok((3, vec![value as u8]))
        }
        'u' | 'U' => {
            let count = if first == 'u' { 4 } else { 8 };
            let value = digits(text, 1, count, 16).ok_or(text.len().min(count + 1))?;
            let c = code_point(value, dialect).ok_or(count + 1)?;
            let mut buf = [0u8; 4];
            Ok((count + 1, c.encode_utf8(&mut buf).as_bytes().to_vec()))
        }
        _ => Err(first.len_utf8()),
    }
}

fn code_point(value: u32, dialect: Dialect) -> Option<char> {
    if value > 0x10FFFF {
        return None;
    }
    match char::from_u32(value) {
        Some(c) => Some(c),
        // A surrogate: HCL writes U+FFFD, Go's strconv (JSON) refuses it.
        None if dialect == Dialect::Hcl => Some(char::REPLACEMENT_CHARACTER),
        None => None,
    }
}

fn digits(text: &str, skip: usize, count: usize, radix: u32) -> Option<u32> {
    let slice = text.get(skip..skip + count)?;
    if !slice.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(slice, radix).ok()
}

/// The value of a HEREDOC token (from `<<` to the newline after the terminator), as HCL1
/// computes it: the text between the anchor line and the terminator *name* (whitespace
/// before the name on the last line stays); for `<<-`, the indentation of the terminator
/// line is removed from every line when all lines have it, else only trailing blanks go.
pub(crate) fn heredoc_value(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(newline) = text.find('\n') else {
        return Cow::Borrowed("");
    };
    let indented = bytes.get(2) == Some(&b'-');
    let from = (newline + 1).min(bytes.len());
    let plain_end = (bytes.len() + 1)
        .saturating_sub(newline)
        .clamp(from, bytes.len());
    if !indented {
        return String::from_utf8_lossy(&bytes[from..plain_end]);
    }
    let content_end = (bytes.len() + 2)
        .saturating_sub(newline)
        .clamp(from, bytes.len());
    let content = &bytes[from..content_end];
    let lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    let prefix = lines.last().copied().unwrap_or_default();
    if !lines.iter().all(|line| line.starts_with(prefix)) {
        let kept = &bytes[from..plain_end];
        let trimmed_len = kept
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |i| i + 1);
        return String::from_utf8_lossy(&kept[..trimmed_len]);
    }
    let mut out: Vec<u8> = Vec::with_capacity(content.len());
    for (index, line) in lines.iter().enumerate() {
        if index + 1 == lines.len() {
            break;
        }
        out.extend_from_slice(&line[prefix.len()..]);
        out.push(b'\n');
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_escapes() {
        assert_eq!(
            hcl_string(r#""\x41\U0001F600\a\101${a"}""#),
            "A😀\u{7}A${a\"}"
        );
        assert_eq!(hcl_string(r#""\uD800""#), "\u{FFFD}");
        assert_eq!(hcl_string(r#""${\"}""#), "${\\\"}");
        assert_eq!(hcl_string(r#""\t\"\\""#), "\t\"\\");
    }

    #[test]
    fn escapes_openbao_crashes_on_decode_as_replacement_characters() {
        assert_eq!(hcl_string(r#""a\400b""#), "a\u{FFFD}b");
        assert_eq!(hcl_string(r#""\U00110000""#), "\u{FFFD}");
        assert_eq!(json_string(r#""\uD800""#), "\u{FFFD}");
        assert_eq!(json_string(r#""\u00e9\x41\101 ${\"}""#), "éAA ${\"}");
    }

    #[test]
    fn heredoc_values_match_openbao() {
        assert_eq!(heredoc_value("<<EOF\nread\nEOF\n"), "read\n");
        assert_eq!(heredoc_value("<<EOF\nread\n  EOF\n"), "read\n  ");
        assert_eq!(
            heredoc_value("<<-EOF\n    read\n      x\n  EOF\n"),
            "  read\n    x\n"
        );
        assert_eq!(heredoc_value("<<-EOF\n read\n    EOF\n"), " read\n");
        assert_eq!(heredoc_value("<<-EOF\n\tread\n\tEOF\n"), "read\n");
        assert_eq!(heredoc_value("<<EOF\nEOF\n"), "");
    }
}
