//! Reading input files safely: regular files only, with a size limit, and files an input
//! names (Terraform `file()`, agent template `source`) confined to the workspace.
//!
//! capable runs in CI on files anyone can put in a pull request, so nothing it reads may hang
//! it (a FIFO), exhaust its memory (`/dev/zero`, a huge file) or leak a file of the machine
//! (`file("/etc/shadow")` quoted in a report). Every read goes through [`read_text`]:
//! - the path is resolved (symlinks followed) and must be a regular file: a FIFO, socket,
//!   character or block device, or folder is refused before it is opened, so opening it
//!   cannot block;
//! - at most `limit` bytes are read (default [`DEFAULT_MAX_BYTES`]); a longer file is refused
//!   without reading the rest;
//! - the text must be UTF-8.
//!
//! A file named *by an input* is first checked by [`confine`]: the name must be relative, and
//! the resolved path (after `..` and symlinks) must lie inside one of the workspace's
//! boundaries ([`boundaries`]: the folder of `capable.yaml`, or the git top level above it,
//! or the folder checked). A refusal names the path as written and never its content.
//!
//! Cost: one `stat` and one bounded read per file; [`confine`] adds one `realpath`.

use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The default size limit of one input file: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No such file (also a dangling symlink).
    NotFound,
    /// Not a regular file: what it is (`a FIFO`, `a folder`, `a character device`, ...).
    NotRegular(&'static str),
    /// Larger than the limit, in bytes.
    TooLarge { limit: u64 },
    /// The bytes are not UTF-8.
    NotUtf8,
    /// Any other I/O error, without the OS error number.
    Io(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge { limit } => {
                write!(f, "it is larger than the limit of {}", human_size(*limit))
            }
            ReadError::NotUtf8 => f.write_str("it is not UTF-8 text"),
            ReadError::Io(message) => f.write_str(message),
        }
    }
}

impl ReadError {
    /// What to do about it, when that is more than checking the path: every command that reads
    /// files honours `max-file-size`, so a file over it says how to raise it.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ReadError::TooLarge { .. } => Some(
                "to check a file this large, raise the limit in `capable.yaml`, e.g. \
                 `max-file-size: 256MiB`",
            ),
            _ => None,
        }
    }

    fn from_io(error: &std::io::Error) -> ReadError {
        match error.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            std::io::ErrorKind::InvalidData => ReadError::NotUtf8,
            kind => ReadError::Io(kind.to_string()),
        }
    }
}

/// `65536` → `64 KiB`, `67108864` → `64 MiB`; other sizes in bytes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

/// Parses a size: `1048576`, `512KiB`, `64MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`,
/// `GB`, all binary multiples; spaces allowed before the unit).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..digits_end].parse().ok()?;
    let multiplier: u64 = match text[digits_end..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(multiplier).filter(|size| *size > 0)
}

/// What a non-regular file is, in words; `None` for a regular file.
fn irregular_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
    }
    Some("not a regular file")
}

/// Checks that `path` (symlinks followed) is a regular file, without opening it.
pub fn check_regular(path: &Path) -> Result<(), ReadError> {
    let metadata = std::fs::metadata(path).map_err(|error| ReadError::from_io(&error))?;
    match irregular_kind(metadata.file_type()) {
        Some(kind) => Err(ReadError::NotRegular(kind)),
        None => Ok(()),
    }
}

/// Reads a regular file of at most `limit` bytes as UTF-8. A FIFO or device is refused before
/// it is opened (so this never blocks); the open file is checked again, so a file swapped
/// for something else in between is refused too. Cost: O(size), at most `limit` bytes read.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    check_regular(path)?;
    let file = std::fs::File::open(path).map_err(|error| ReadError::from_io(&error))?;
    let metadata = file
        .metadata()
        .map_err(|error| ReadError::from_io(&error))?;
    if let Some(kind) = irregular_kind(metadata.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| ReadError::from_io(&error))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Reads all of a reader (stdin) up to `limit` bytes as UTF-8. Cost: O(min(size, limit)).
pub fn read_stream(reader: impl Read, limit: u64) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| ReadError::from_io(&error))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Why a file named by an input was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The name is an absolute path.
    Absolute,
    /// The resolved path (after `..` and symlinks) is outside every boundary.
    Outside,
    /// It could not be read (missing, not a regular file, too large, ...).
    Unreadable(ReadError),
}

impl Refusal {
    /// Whether the file was refused for where it is (rather than merely missing or unreadable).
    pub fn is_escape(&self) -> bool {
        matches!(self, Refusal::Absolute | Refusal::Outside)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Absolute => f.write_str("absolute paths are not read"),
            Refusal::Outside => f.write_str("it resolves outside the workspace"),
            Refusal::Unreadable(error) => error.fmt(f),
        }
    }
}

/// The `help:` line for a refused escape.
pub const ESCAPE_HELP: &str = "capable reads only files inside the workspace (the folder of \
     `capable.yaml`, the git repository, or the folder checked); use a relative path to a file \
     in the repository";

/// Whether a name as written is absolute (`/x`, `\x`, `C:\x`, `C:/x`).
pub fn is_absolute_name(written: &str) -> bool {
    let bytes = written.as_bytes();
    let drive = bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes.get(2), None | Some(b'/' | b'\\'));
    written.starts_with(['/', '\\']) || drive || Path::new(written).is_absolute()
}

/// Resolves a file an input names and checks that it stays inside `boundaries` (each
/// canonical, see [`boundaries`]). `written` is the name as the input wrote it; `path` is where
/// it points (already joined to the folder it is relative to). Returns the canonical path.
/// Cost: one `realpath`, O(boundaries) prefix checks.
pub fn confine(boundaries: &[PathBuf], written: &str, path: &Path) -> Result<PathBuf, Refusal> {
    if is_absolute_name(written) {
        return Err(Refusal::Absolute);
    }
    let resolved = match std::fs::canonicalize(path) {
        Ok(resolved) => resolved,
        Err(error) => {
            // A dangling symlink or a missing file: do not say more than "not found", but a
            // name that leaves the workspace lexically is still an escape.
            if leaves_lexically(boundaries, path) {
                return Err(Refusal::Outside);
            }
            return Err(Refusal::Unreadable(ReadError::from_io(&error)));
        }
    };
    if !boundaries.iter().any(|root| resolved.starts_with(root)) {
        return Err(Refusal::Outside);
    }
    Ok(resolved)
}

/// Reads a file an input names: [`confine`], then [`read_text`].
pub fn read_confined(
    boundaries: &[PathBuf],
    written: &str,
    path: &Path,
    limit: u64,
) -> Result<String, Refusal> {
    let resolved = confine(boundaries, written, path)?;
    read_text(&resolved, limit).map_err(Refusal::Unreadable)
}

/// Whether `path`, normalised lexically (absolute), is outside every boundary.
fn leaves_lexically(boundaries: &[PathBuf], path: &Path) -> bool {
    let Ok(absolute) = std::path::absolute(path) else {
        return true;
    };
    let normalized = crate::workspace::normalize(&absolute);
    !boundaries.iter().any(|root| normalized.starts_with(root))
}

/// The folders files named by inputs must stay in: for each start folder (the folder of
/// `capable.yaml`, or the folders checked), the git top level above it, or else the folder
/// itself; canonical, without duplicates. Cost: O(depth) `stat`s per start.
pub fn boundaries(starts: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    for start in starts {
        let Ok(canonical) = std::fs::canonicalize(start) else {
            continue;
        };
        let folder = if canonical.is_dir() {
            canonical
        } else {
            match canonical.parent() {
                Some(parent) => parent.to_path_buf(),
                None => continue,
            }
        };
        let boundary = git_top_level(&folder).unwrap_or(folder);
        if !found.contains(&boundary) {
            found.push(boundary);
        }
    }
    found
}

/// The nearest folder at or above `folder` holding a `.git` entry (folder or worktree file).
fn git_top_level(folder: &Path) -> Option<PathBuf> {
    folder
        .ancestors()
        .find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
        .filter(|dir| dir.components().any(|c| matches!(c, Component::Normal(_))))
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("512 KiB"), Some(512 << 10));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("99999999999999999999GiB"), None);
        assert_eq!(parse_size("18446744073709551615G"), None);
        assert_eq!(parse_size("5 parsecs"), None);
        assert_eq!(human_size(64 << 20), "64 MiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }

    #[test]
    fn absolute_names_are_recognised() {
        for name in ["/etc/passwd", "\\x", "C:\\x", "c:/x"] {
            assert!(is_absolute_name(name), "{name}");
        }
        for name in ["a/b", "../x", "./x", "x:y"] {
            assert!(!is_absolute_name(name), "{name}");
        }
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.hcl");
        std::fs::write(&path, "x".repeat(100)).unwrap();
        assert_eq!(read_text(&path, 100).unwrap().len(), 100);
        assert_eq!(read_text(&path, 99), Err(ReadError::TooLarge { limit: 99 }));
        assert_eq!(
            read_text(dir.path(), 99),
            Err(ReadError::NotRegular("a folder"))
        );
        assert_eq!(
            read_text(&dir.path().join("missing"), 99),
            Err(ReadError::NotFound)
        );
        assert_eq!(
            read_stream(&b"abc"[..], 2),
            Err(ReadError::TooLarge { limit: 2 })
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_without_reading() {
        let zero = Path::new("/dev/zero");
        if zero.exists() {
            assert_eq!(
                read_text(zero, 10),
                Err(ReadError::NotRegular("a character device"))
            );
        }
    }
}
