//! Go standard-library behaviour the write path depends on, reproduced from its documented
//! behaviour: `strconv.Quote`, `time`'s own quoting, and `strconv.ParseInt` with its error texts.
//! OpenBao's error messages embed these texts, so ours must match them byte for byte.

/// Go's `strconv.Quote` (what `%q` prints for a string): printable characters as written,
/// the usual backslash escapes, `\xNN` for other control bytes, `\uNNNN` for other
/// non-printable characters.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` good enough for policy text: everything but
/// control characters, unassigned-looking format characters and the private-use planes.
fn is_printable(c: char) -> bool {
    if c.is_control() {
        return false;
    }
    let code = c as u32;
    // Format characters (Cf) and separators other than the ASCII space are not printable in Go.
    let format_character = matches!(
        code,
        0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb
    );
    let private_use = (0xe000..=0xf8ff).contains(&code);
    let non_space_whitespace = c.is_whitespace() && c != ' ';
    !(format_character || private_use || non_space_whitespace)
}

/// The quoting `package time` uses in its error messages: ASCII printable characters as
/// written (with `"` and `\` escaped), every byte of any other character as `\xNN`.
pub fn time_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if (c as u32) >= 0x80 || c < ' ' {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
            continue;
        }
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Go's `strconv.ParseInt(text, base, 64)` for base 10 or 0 (0: `0x`, `0o`, `0b` and
/// leading-`0` octal prefixes, `_` digit separators). The error is Go's own text, e.g.
/// `strconv.ParseInt: parsing "x": invalid syntax`.
pub fn parse_int(text: &str, base: u32) -> Result<i64, String> {
    let syntax_error = || format!("strconv.ParseInt: parsing {}: invalid syntax", quote(text));
    let range_error = || {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            quote(text)
        )
    };
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        Some(_) => (false, text),
        None => return Err(syntax_error()),
    };
    let magnitude = match parse_uint(unsigned, base) {
        Ok(value) => value,
        Err(UintError::Syntax) => return Err(syntax_error()),
        Err(UintError::Range) => return Err(range_error()),
    };
    const CUTOFF: u64 = 1 << 63;
    if !negative && magnitude >= CUTOFF {
        return Err(range_error());
    }
    if negative && magnitude > CUTOFF {
        return Err(range_error());
    }
    Ok(if negative {
        (magnitude as i64).wrapping_neg()
    } else {
        magnitude as i64
    })
}

enum UintError {
    Syntax,
    Range,
}

/// Go's `strconv.ParseUint(text, base, 64)` (base 10 or 0). Cost: O(len).
fn parse_uint(text: &str, base: u32) -> Result<u64, UintError> {
    if text.is_empty() {
        return Err(UintError::Syntax);
    }
    let base_zero = base == 0;
    let bytes = text.as_bytes();
    let (radix, digits) = if base_zero && bytes[0] == b'0' {
        let marker = bytes.get(1).map(u8::to_ascii_lowercase);
        match marker {
            Some(b'b') if bytes.len() >= 3 => (2, &text[2..]),
            Some(b'o') if bytes.len() >= 3 => (8, &text[2..]),
            Some(b'x') if bytes.len() >= 3 => (16, &text[2..]),
            _ => (8, &text[1..]),
        }
    } else if base_zero {
        (10, text)
    } else {
        (base, text)
    };
    let mut value: u64 = 0;
    let mut saw_underscore = false;
    for c in digits.chars() {
        if c == '_' && base_zero {
            saw_underscore = true;
            continue;
        }
        let digit = match c.to_digit(36) {
            Some(d) if d < radix => d as u64,
            _ => return Err(UintError::Syntax),
        };
        value = value
            .checked_mul(radix as u64)
            .and_then(|v| v.checked_add(digit))
            .ok_or(UintError::Range)?;
    }
    if saw_underscore && !underscores_ok(text) {
        return Err(UintError::Syntax);
    }
    Ok(value)
}

/// Go's rule for `_` separators (base 0 only): each `_` sits between digits or after a base
/// prefix.
fn underscores_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    // 'start', 'digit', 'underscore' or 'other': the class of the last character seen.
    let mut last = 's';
    let mut hex = false;
    if bytes.len() >= 2
        && bytes[0] == b'0'
        && matches!(bytes[1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        index = 2;
        last = 'd';
        hex = bytes[1].eq_ignore_ascii_case(&b'x');
    }
    for &byte in &bytes[index..] {
        if byte.is_ascii_digit() || (hex && byte.is_ascii_hexdigit()) {
            last = 'd';
            continue;
        }
        if byte == b'_' {
            if last != 'd' {
                return false;
            }
            last = '_';
            continue;
        }
        if last == '_' {
            return false;
        }
        last = 'o';
    }
    last != '_'
}

/// Go's `strconv.ParseFloat(text, 64)` for the literals HCL1's scanner produces.
pub fn parse_float(text: &str) -> Result<f64, String> {
    text.parse::<f64>().map_err(|_| {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            quote(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("tab\there"), "\"tab\\there\"");
        assert_eq!(quote("é"), "\"é\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
        assert_eq!(time_quote("1é"), "\"1\\xc3\\xa9\"");
    }

    #[test]
    fn parse_int_matches_go() {
        assert_eq!(parse_int("300", 10), Ok(300));
        assert_eq!(parse_int("+5", 10), Ok(5));
        assert_eq!(parse_int("-5", 10), Ok(-5));
        assert_eq!(parse_int("0x10", 0), Ok(16));
        assert_eq!(parse_int("010", 0), Ok(8));
        assert_eq!(parse_int("0b11", 0), Ok(3));
        assert_eq!(parse_int("1_000", 0), Ok(1000));
        assert_eq!(
            parse_int("1_000", 10),
            Err("strconv.ParseInt: parsing \"1_000\": invalid syntax".into())
        );
        assert_eq!(
            parse_int("", 10),
            Err("strconv.ParseInt: parsing \"\": invalid syntax".into())
        );
        assert_eq!(
            parse_int("99999999999999999999", 0),
            Err("strconv.ParseInt: parsing \"99999999999999999999\": value out of range".into())
        );
        assert_eq!(parse_int("-9223372036854775808", 10), Ok(i64::MIN));
        assert!(parse_int("9223372036854775808", 10).is_err());
        assert!(parse_int("0x", 0).is_err());
        assert!(parse_int("_1", 0).is_err());
    }
}
