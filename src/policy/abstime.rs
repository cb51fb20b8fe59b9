//! Absolute times as OpenBao's `expiration` key reads them: `parseutil.ParseAbsoluteTime`
//! (RFC 3339 with or without fractional seconds, else a base-10 Unix-epoch integer).
//!
//! Limits: Go's general `time.Parse` fallback is approximated by the strict RFC 3339 form
//! plus a one-digit hour; exotic forms it tolerates beyond that are refused here.

use super::gostr::parse_int;

/// Seconds since the Unix epoch (the fraction is dropped: only the ordering against "now"
/// matters at write time).
pub fn parse_absolute_time(text: &str) -> Result<i64, String> {
    if let Some(seconds) = parse_rfc3339(text) {
        return Ok(seconds);
    }
    parse_int(text, 10).map_err(|_| "could not parse string as date and time".to_string())
}

fn digits(text: &[u8], range: std::ops::Range<usize>) -> Option<i64> {
    let slice = text.get(range)?;
    if slice.is_empty() || !slice.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        slice
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')),
    )
}

/// `2006-01-02T15:04:05[.fraction](Z|±hh:mm)`, fields range-checked like Go.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let year = digits(bytes, 0..4)?;
    let month = digits(bytes, 5..7)?;
    let day = digits(bytes, 8..10)?;
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') || bytes.get(10) != Some(&b'T') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // Go's general parser accepts a one-digit hour; the fast path wants two.
    let hour_len = if bytes.get(12) == Some(&b':') { 1 } else { 2 };
    let hour = digits(bytes, 11..11 + hour_len)?;
    let rest = &bytes[11 + hour_len..];
    if rest.first() != Some(&b':') || rest.get(3) != Some(&b':') {
        return None;
    }
    let minute = digits(rest, 1..3)?;
    let second = digits(rest, 4..6)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut zone = &rest[6..];
    if zone.len() >= 2 && zone[0] == b'.' && zone[1].is_ascii_digit() {
        let fraction_len = zone[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        zone = &zone[1 + fraction_len..];
    }
    let offset = match zone {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(zone, 1..3)?;
            let minutes = digits(zone, 4..6)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = (hours * 60 + minutes) * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_and_epoch() {
        assert_eq!(parse_absolute_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_absolute_time("2099-01-01T00:00:00Z"),
            Ok(4_070_908_800)
        );
        assert_eq!(
            parse_absolute_time("2099-01-01T00:00:00.123456789+02:00"),
            Ok(4_070_908_800 - 7200)
        );
        assert_eq!(parse_absolute_time("4102444800"), Ok(4_102_444_800));
        assert_eq!(parse_absolute_time("2000-02-29T1:00:00Z"), Ok(951_786_000));
    }

    #[test]
    fn refuses_other_forms_with_go_text() {
        for bad in [
            "bad",
            "2099-01-01",
            "2099-01-01 00:00:00Z",
            "2099-02-30T00:00:00Z",
            "",
            "2099-01-01T00:00:00z",
        ] {
            assert_eq!(
                parse_absolute_time(bad),
                Err("could not parse string as date and time".to_string()),
                "{bad}"
            );
        }
    }
}
