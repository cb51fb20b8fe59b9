//! Durations as the write path reads them: `parseutil.ParseDurationSecond` from
//! go-secure-stdlib (spec 1.7), on top of Go's `time.ParseDuration`. Written from their
//! documented behaviour; the error texts are Go's, because OpenBao's messages embed them.

use super::gostr::{parse_int, time_quote};
use super::model::ParamValue;

/// Nanoseconds, like Go's `time.Duration`.
pub type Nanos = i64;

const SECOND: i64 = 1_000_000_000;

/// A decoded HCL value handed to `ParseDurationSecond` (Go's `interface{}`).
#[derive(Clone, Debug, PartialEq)]
pub enum DurationInput<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    /// A bool, list or object: always `could not parse duration from input`.
    Other,
}

impl<'a> From<&'a ParamValue> for DurationInput<'a> {
    /// A decoded parameter value (a `ttl`, a wrapping TTL) as Go's `interface{}` reaches
    /// `ParseDurationSecond`.
    fn from(value: &'a ParamValue) -> DurationInput<'a> {
        match value {
            ParamValue::Str(text) => DurationInput::Str(text),
            ParamValue::Int(v) => DurationInput::Int(*v),
            ParamValue::Float(v) => DurationInput::Float(*v),
            _ => DurationInput::Other,
        }
    }
}

/// `parseutil.ParseDurationSecond`:
/// - `""` is 0;
/// - a string that is a base-10 integer is seconds (`"300"`, `"-5"`, `"+5"`);
/// - a string ending in `d` is whole days (`"2d"`; `"1.5d"` is an error);
/// - any other string goes to Go's `time.ParseDuration` (`"1h30m"`, `"1.5h"`, `".5s"`);
/// - an integer is seconds and a float is seconds truncated towards zero.
///
/// Like Go, the multiplications wrap on overflow instead of failing. Cost: O(len).
pub fn parse_duration_second(input: DurationInput<'_>) -> Result<Nanos, String> {
    match input {
        DurationInput::Str(text) => parse_duration_string(text),
        DurationInput::Int(seconds) => Ok(seconds.wrapping_mul(SECOND)),
        // Go converts the float to an integer Duration first (truncating), then scales it.
        DurationInput::Float(seconds) => Ok(go_float_to_int(seconds).wrapping_mul(SECOND)),
        DurationInput::Other => Err("could not parse duration from input".to_string()),
    }
}

fn parse_duration_string(text: &str) -> Result<Nanos, String> {
    if text.is_empty() {
        return Ok(0);
    }
    if let Ok(seconds) = parse_int(text, 10) {
        return Ok(seconds.wrapping_mul(SECOND));
    }
    if let Some(days) = text.strip_suffix('d') {
        let days = parse_int(days, 10)?;
        return Ok(days.wrapping_mul(24).wrapping_mul(3600 * SECOND));
    }
    parse_go_duration(text)
}

/// Go's float64 → int64 conversion as amd64 performs it (out of range gives `i64::MIN`).
fn go_float_to_int(value: f64) -> i64 {
    // 2^63 is exact in f64; anything outside [-2^63, 2^63) does not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if value.is_nan() || !(-LIMIT..LIMIT).contains(&value) {
        return i64::MIN;
    }
    value.trunc() as i64
}

/// The nanoseconds per unit `time.ParseDuration` knows (both micro signs included).
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, e.g. `"1h30m"`, `"-1.5h"`,
/// `".5s"`; `"0"` alone needs no unit. Errors carry Go's text (`time: invalid duration "x"`,
/// `time: missing unit in duration "1"`, `time: unknown unit "x" in duration "1x"`).
/// Cost: O(len).
pub fn parse_go_duration(original: &str) -> Result<Nanos, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(original));
    let mut rest = original.as_bytes();
    let mut negative = false;
    if let Some(&sign) = rest.first() {
        if sign == b'-' || sign == b'+' {
            negative = sign == b'-';
            rest = &rest[1..];
        }
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = rest.len();
        let (whole, after_whole) = leading_int(rest).ok_or_else(invalid)?;
        rest = after_whole;
        let had_whole = before != rest.len();
        let mut fraction = 0u64;
        let mut scale = 1f64;
        let mut had_fraction = false;
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            let before_fraction = rest.len();
            let (f, s, after) = leading_fraction(rest);
            fraction = f;
            scale = s;
            rest = after;
            had_fraction = before_fraction != rest.len();
        }
        if !had_whole && !had_fraction {
            return Err(invalid());
        }
        let unit_len = rest
            .iter()
            .position(|b| *b == b'.' || b.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                time_quote(original)
            ));
        }
        let unit_text = String::from_utf8_lossy(&rest[..unit_len]).into_owned();
        rest = &rest[unit_len..];
        let Some(unit) = unit_nanos(&unit_text) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                time_quote(&unit_text),
                time_quote(original)
            ));
        };
        if whole > (1u64 << 63) / unit {
            return Err(invalid());
        }
        let mut value = whole * unit;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > 1u64 << 63 {
                return Err(invalid());
            }
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > 1u64 << 63 {
            return Err(invalid());
        }
    }
    if negative {
        return Ok((total as i64).wrapping_neg());
    }
    if total > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Go's `leadingInt`: the leading digits; `None` on overflow past 2^63.
fn leading_int(text: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    let mut index = 0;
    while index < text.len() && text[index].is_ascii_digit() {
        if value > (1u64 << 63) / 10 {
            return None;
        }
        value = value * 10 + u64::from(text[index] - b'0');
        if value > 1u64 << 63 {
            return None;
        }
        index += 1;
    }
    Some((value, &text[index..]))
}

/// Go's `leadingFraction`: digits after the point, and the power of ten they scale by;
/// digits past the precision limit are consumed and ignored.
fn leading_fraction(text: &[u8]) -> (u64, f64, &[u8]) {
    let mut value: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    let mut index = 0;
    while index < text.len() && text[index].is_ascii_digit() {
        let digit = u64::from(text[index] - b'0');
        index += 1;
        if overflow {
            continue;
        }
        if value > (i64::MAX as u64) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + digit;
        if next > 1u64 << 63 {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, &text[index..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> Result<i64, String> {
        parse_duration_second(DurationInput::Str(text)).map(|n| n / SECOND)
    }

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(secs("300"), Ok(300));
        assert_eq!(secs("2d"), Ok(172_800));
        assert_eq!(secs("300s"), Ok(300));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("1.5h"), Ok(5400));
        assert_eq!(secs(""), Ok(0));
        assert_eq!(secs("-5"), Ok(-5));
        assert_eq!(secs("+5"), Ok(5));
        assert_eq!(secs("0"), Ok(0));
        assert_eq!(secs("-0"), Ok(0));
        assert_eq!(secs("1h1h"), Ok(7200));
        assert_eq!(
            parse_duration_second(DurationInput::Str(".5s")),
            Ok(SECOND / 2)
        );
        assert_eq!(
            parse_duration_second(DurationInput::Str("1\u{b5}s")),
            Ok(1000)
        );
        assert_eq!(
            parse_duration_second(DurationInput::Int(300)),
            Ok(300 * SECOND)
        );
        assert_eq!(parse_duration_second(DurationInput::Float(1.5)), Ok(SECOND));
        assert_eq!(
            parse_duration_second(DurationInput::Float(-1.5)),
            Ok(-SECOND)
        );
    }

    #[test]
    fn errors_carry_go_texts() {
        // Each expected text was returned by OpenBao 2.7.2 for the same input.
        assert_eq!(
            secs("bad"),
            Err("strconv.ParseInt: parsing \"ba\": invalid syntax".into())
        );
        assert_eq!(
            secs("d"),
            Err("strconv.ParseInt: parsing \"\": invalid syntax".into())
        );
        assert_eq!(
            secs("1.5d"),
            Err("strconv.ParseInt: parsing \"1.5\": invalid syntax".into())
        );
        assert_eq!(secs(" 5"), Err("time: invalid duration \" 5\"".into()));
        assert_eq!(
            secs("5 "),
            Err("time: unknown unit \" \" in duration \"5 \"".into())
        );
        assert_eq!(
            secs("1x"),
            Err("time: unknown unit \"x\" in duration \"1x\"".into())
        );
        assert_eq!(
            secs("1e3"),
            Err("time: unknown unit \"e\" in duration \"1e3\"".into())
        );
        assert_eq!(secs("."), Err("time: invalid duration \".\"".into()));
        assert_eq!(
            secs("3000000h"),
            Err("time: invalid duration \"3000000h\"".into())
        );
        assert_eq!(
            secs("99999999999999999999"),
            Err("time: invalid duration \"99999999999999999999\"".into())
        );
        assert_eq!(
            secs("1é"),
            Err("time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"".into())
        );
        assert_eq!(
            parse_duration_second(DurationInput::Other),
            Err("could not parse duration from input".into())
        );
        assert_eq!(
            parse_go_duration("1"),
            Err("time: missing unit in duration \"1\"".into())
        );
    }
}
