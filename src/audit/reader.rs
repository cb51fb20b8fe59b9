//! Streaming audit logs: files, gzip files (one or more members, as rotated logs are often
//! concatenated) and stdin (`-`), one entry at a time.
//!
//! Memory is constant: a fixed read buffer, plus one line when it spans two reads (a line longer
//! than [`MAX_LINE`] is skipped and reported, never buffered whole). Lines inside the buffer are
//! parsed in place. A line that is not an audit entry (bad JSON, truncated, not UTF-8, too long,
//! not an object of the audit shape) is counted and reported with its line number, never fatal;
//! the reasons never quote the line, which may hold HMACs. Cost: one pass over the bytes.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::entry::Entry;

/// Lines longer than this are reported as bad and skipped (audit lines are a few KiB; a huge
/// response body can reach a few MiB).
pub const MAX_LINE: usize = 64 << 20;

/// How many bad lines are kept with their reason (the rest are only counted).
pub const BAD_LINES_KEPT: usize = 20;

const BUFFER: usize = 1 << 20;

/// Where a log comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogSource {
    File(PathBuf),
    Stdin,
}

impl LogSource {
    /// `-` is stdin, anything else a file.
    pub fn parse(text: &str) -> LogSource {
        if text == "-" {
            LogSource::Stdin
        } else {
            LogSource::File(PathBuf::from(text))
        }
    }

    pub fn name(&self) -> String {
        match self {
            LogSource::File(path) => path.display().to_string(),
            LogSource::Stdin => "<stdin>".into(),
        }
    }
}

/// A line that is not an audit entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    pub source: String,
    pub line: u64,
    pub reason: String,
}

/// What reading saw, over every source.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadStats {
    pub lines: u64,
    pub bytes: u64,
    pub requests: u64,
    pub responses: u64,
    pub bad_lines: u64,
    /// The first [`BAD_LINES_KEPT`] bad lines.
    pub bad: Vec<BadLine>,
}

impl ReadStats {
    fn bad_line(&mut self, source: &str, line: u64, reason: String) {
        self.bad_lines += 1;
        if self.bad.len() < BAD_LINES_KEPT {
            self.bad.push(BadLine {
                source: source.to_string(),
                line,
                reason,
            });
        }
    }
}

/// Where an entry was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Index of the source in the list given to [`read_logs`].
    pub source: usize,
    /// 1-based line number.
    pub line: u64,
}

/// An unreadable source (missing file, corrupt gzip stream).
#[derive(Debug)]
pub struct ReadError {
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read `{}`: {}", self.source, self.message)
    }
}

/// Reads every source in order, calling `on_entry` for each audit entry. Bad lines go to
/// `stats`; an I/O error ends reading with the error (entries before it were delivered).
pub fn read_logs(
    sources: &[LogSource],
    stats: &mut ReadStats,
    mut on_entry: impl FnMut(&Entry<'_>, Position),
) -> Result<(), ReadError> {
    for (index, source) in sources.iter().enumerate() {
        let name = source.name();
        let fail = |error: io::Error| ReadError {
            source: name.clone(),
            message: error.to_string(),
        };
        let reader = open(source).map_err(fail)?;
        read_lines(reader, &name, index, stats, &mut on_entry).map_err(fail)?;
    }
    Ok(())
}

/// Opens a source; gzip is recognised by its magic bytes, not by the file name.
fn open(source: &LogSource) -> io::Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = match source {
        LogSource::File(path) => Box::new(open_file(path)?),
        LogSource::Stdin => Box::new(io::stdin()),
    };
    let mut buffered = BufReader::with_capacity(BUFFER, raw);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = MultiGzDecoder::new(buffered);
        return Ok(Box::new(BufReader::with_capacity(BUFFER, decoder)));
    }
    Ok(Box::new(buffered))
}

fn open_file(path: &Path) -> io::Result<File> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::other("is a directory, not an audit log"));
    }
    Ok(file)
}

/// Splits `reader` into lines and hands each to [`parse_line`]. A line inside the current
/// buffer is parsed in place; one spanning reads is gathered into `carry`.
fn read_lines(
    mut reader: Box<dyn BufRead + '_>,
    name: &str,
    index: usize,
    stats: &mut ReadStats,
    on_entry: &mut impl FnMut(&Entry<'_>, Position),
) -> io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    // Set when the current line passed MAX_LINE: its remaining bytes are dropped.
    let mut overlong = false;
    let mut line_number: u64 = 0;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buffer.is_empty() {
            break;
        }
        let length = buffer.len();
        stats.bytes += length as u64;
        let mut start = 0;
        while let Some(offset) = memchr::memchr(b'\n', &buffer[start..]) {
            let end = start + offset;
            line_number += 1;
            let position = Position {
                source: index,
                line: line_number,
            };
            if overlong {
                overlong = false;
                stats.bad_line(name, line_number, too_long());
            } else if carry.is_empty() {
                parse_line(&buffer[start..end], name, position, stats, on_entry, false);
            } else if carry.len() + offset > MAX_LINE {
                carry.clear();
                stats.bad_line(name, line_number, too_long());
            } else {
                carry.extend_from_slice(&buffer[start..end]);
                parse_line(&carry, name, position, stats, on_entry, false);
                carry.clear();
            }
            start = end + 1;
        }
        let rest = &buffer[start..];
        if !overlong {
            if carry.len() + rest.len() > MAX_LINE {
                carry = Vec::new();
                overlong = true;
            } else {
                carry.extend_from_slice(rest);
            }
        }
        reader.consume(length);
    }
    if overlong {
        stats.bad_line(name, line_number + 1, too_long());
    } else if !carry.is_empty() {
        let position = Position {
            source: index,
            line: line_number + 1,
        };
        parse_line(&carry, name, position, stats, on_entry, true);
    }
    Ok(())
}

fn too_long() -> String {
    format!("line longer than {} MiB", MAX_LINE >> 20)
}

fn parse_line(
    line: &[u8],
    name: &str,
    position: Position,
    stats: &mut ReadStats,
    on_entry: &mut impl FnMut(&Entry<'_>, Position),
    last_without_newline: bool,
) {
    stats.lines += 1;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    match Entry::parse(line) {
        Ok(entry) => {
            if entry.kind.is_none() || entry.request.is_none() {
                let reason = "not an audit entry (no `type` or no `request`)".to_string();
                stats.bad_line(name, position.line, reason);
                return;
            }
            if entry.is_response() {
                stats.responses += 1;
            } else {
                stats.requests += 1;
            }
            on_entry(&entry, position);
        }
        Err(error) => {
            let reason = describe(&error, line, last_without_newline);
            stats.bad_line(name, position.line, reason);
        }
    }
}

/// Our own words for a parse error: serde's messages can quote the offending value, which may
/// be an HMAC, so they are never shown.
fn describe(error: &serde_json::Error, line: &[u8], last_without_newline: bool) -> String {
    use serde_json::error::Category;
    let column = error.column();
    if let Err(utf8) = std::str::from_utf8(line) {
        return format!(
            "not UTF-8 (invalid byte at column {})",
            utf8.valid_up_to() + 1
        );
    }
    match error.classify() {
        Category::Eof if last_without_newline => {
            "truncated: the log ends inside this entry".to_string()
        }
        Category::Eof => format!("truncated JSON (the line ends at column {column})"),
        Category::Syntax => format!("invalid JSON at column {column}"),
        Category::Data => {
            format!("not an audit entry: a field has an unexpected type (column {column})")
        }
        Category::Io => "could not be read".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> (ReadStats, Vec<(u64, String)>) {
        let mut stats = ReadStats::default();
        let mut seen = Vec::new();
        let reader: Box<dyn BufRead + '_> = Box::new(BufReader::with_capacity(7, bytes));
        read_lines(reader, "log", 0, &mut stats, &mut |entry, position| {
            seen.push((position.line, entry.path().unwrap_or_default().to_string()));
        })
        .unwrap();
        (stats, seen)
    }

    const GOOD: &str =
        r#"{"type":"response","request":{"path":"secret/data/a","operation":"read"}}"#;

    #[test]
    fn lines_spanning_reads_are_joined_and_numbered() {
        let text = format!("{GOOD}\n\n{GOOD}\r\n{GOOD}");
        let (stats, seen) = read(text.as_bytes());
        assert_eq!(stats.bad_lines, 0, "{:?}", stats.bad);
        let lines: Vec<u64> = seen.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![1, 3, 4]);
        assert!(seen.iter().all(|(_, path)| path == "secret/data/a"));
    }

    #[test]
    fn bad_lines_are_counted_with_their_number_and_never_quoted() {
        let secret = "hmac-sha256:deadbeef";
        let mut text = format!(
            "{GOOD}\n{{\"type\":\"response\",\"request\":{{\"path\":\"{secret}\"\n\
             not json {secret}\n{{\"type\":1,\"request\":{{\"path\":\"{secret}\"}}}}\n"
        )
        .into_bytes();
        text.extend_from_slice(b"{\"type\":\"response\",\"request\":{\"path\":\"a\xff\"}}\n");
        text.extend_from_slice(format!("{GOOD}\n").as_bytes());
        text.extend_from_slice(b"{\"type\":\"response\",\"request\":{\"path\":");
        let (stats, seen) = read(&text);
        assert_eq!(seen.len(), 2);
        let lines: Vec<u64> = stats.bad.iter().map(|bad| bad.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 7]);
        assert!(
            stats.bad[3].reason.starts_with("not UTF-8"),
            "{:?}",
            stats.bad
        );
        assert!(stats.bad[4].reason.starts_with("truncated: the log ends"));
        for bad in &stats.bad {
            assert!(!bad.reason.contains(secret), "{bad:?}");
        }
    }
}
