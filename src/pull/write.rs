//! Writing the pulled files into the output folder: each file atomically
//! ([`crate::atomic_write`]), only when its bytes change; policy files the server no longer has
//! are removed. A file that would change or be removed must be committed first: inside a git
//! work tree, `git status` must show it clean; outside one, an existing file is never
//! overwritten. `--force` lifts both. Nothing is written when one file is refused.
//!
//! Cost: one read per existing file, one `git status` over the files that change, one write per
//! changed file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::client::PullError;
use super::render::OutFile;

/// What writing did, by relative path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

/// Writes `files` under `out` (created if missing). `policy_folder` is where stale policy
/// files are looked for.
pub fn write_files(
    out: &Path,
    files: &[OutFile],
    policy_folder: &str,
    force: bool,
) -> Result<Written, PullError> {
    std::fs::create_dir_all(out).map_err(|error| {
        PullError::usage(
            format!("cannot create `{}`: {error}", out.display()),
            "check the `--out` folder",
        )
    })?;
    let mut written = Written::default();
    let mut changing: Vec<String> = Vec::new();
    let mut unchanged: BTreeSet<&str> = BTreeSet::new();
    for file in files {
        let path = out.join(&file.path);
        match std::fs::read(&path) {
            Ok(existing) if existing == file.text.as_bytes() => {
                written.unchanged.push(file.path.clone());
                unchanged.insert(file.path.as_str());
            }
            Ok(_) => {
                written.updated.push(file.path.clone());
                changing.push(file.path.clone());
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                written.created.push(file.path.clone())
            }
            Err(error) => {
                return Err(PullError::usage(
                    format!("cannot read `{}`: {error}", path.display()),
                    "pull compares each file with what it would write",
                ))
            }
        }
    }
    let keep: BTreeSet<&str> = files.iter().map(|file| file.path.as_str()).collect();
    for stale in policy_files_under(out, policy_folder)? {
        if !keep.contains(stale.as_str()) {
            written.removed.push(stale.clone());
            changing.push(stale);
        }
    }
    if !force {
        refuse_uncommitted(out, &changing)?;
    }
    for file in files {
        if unchanged.contains(file.path.as_str()) {
            continue;
        }
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| write_error(&path, &error))?;
        }
        crate::atomic_write::write(&path, file.text.as_bytes())
            .map_err(|error| write_error(&path, &error))?;
    }
    for stale in &written.removed {
        let path = out.join(stale);
        std::fs::remove_file(&path).map_err(|error| write_error(&path, &error))?;
    }
    Ok(written)
}

fn write_error(path: &Path, error: &std::io::Error) -> PullError {
    PullError::usage(
        format!("cannot write `{}`: {error}", path.display()),
        "check the permissions and free space of the `--out` folder",
    )
}

/// Policy files (`.hcl`, `.json`, `.policy`) under `out/<folder>`, relative to `out`, sorted.
fn policy_files_under(out: &Path, folder: &str) -> Result<Vec<String>, PullError> {
    let root = out.join(folder);
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = vec![root];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                return Err(PullError::usage(
                    format!("cannot read `{}`: {error}", dir.display()),
                    "check the `--out` folder",
                ))
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let is_policy = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| crate::workspace::POLICY_EXTENSIONS.contains(&e));
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if is_policy && !hidden {
                if let Ok(relative) = path.strip_prefix(out) {
                    found.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Refuses when a file that would change is not committed: `git status` shows it modified or
/// untracked, or `out` is not in a git work tree at all.
fn refuse_uncommitted(out: &Path, changing: &[String]) -> Result<(), PullError> {
    if changing.is_empty() {
        return Ok(());
    }
    let dirty = match git_dirty(out, changing) {
        Some(dirty) => dirty,
        // Not in a git work tree: nothing says the files are saved anywhere.
        None => changing.to_vec(),
    };
    if dirty.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = dirty.iter().take(5).map(|p| format!("`{p}`")).collect();
    let more = if dirty.len() > 5 {
        format!(" and {} more", dirty.len() - 5)
    } else {
        String::new()
    };
    Err(PullError::Usage {
        message: format!(
            "refusing to overwrite or remove {} file{} with uncommitted changes in `{}`: {}{more}",
            dirty.len(),
            if dirty.len() == 1 { "" } else { "s" },
            out.display(),
            shown.join(", ")
        ),
        help: Some(
            "commit them (or pull into a new folder with `--out DIR`); `--force` overwrites them"
                .into(),
        ),
    })
}

/// The paths among `paths` that `git status` shows changed or untracked; `None` when `out` is
/// not inside a git work tree (or git is missing). Cost: one `git status` per 500 paths, then
/// a set lookup per path.
fn git_dirty(out: &Path, paths: &[String]) -> Option<Vec<String>> {
    let prefix = git_output(
        out,
        &["rev-parse", "--is-inside-work-tree", "--show-prefix"],
    )?;
    let mut lines = prefix.lines();
    if lines.next() != Some("true") {
        return None;
    }
    // `git status` names paths from the repository root; `out` is at `prefix` below it.
    let prefix = lines.next().unwrap_or_default().to_string();
    let mut listed: BTreeSet<String> = BTreeSet::new();
    for chunk in paths.chunks(500) {
        let mut args = vec!["status", "--porcelain", "-z", "--untracked-files=all", "--"];
        args.extend(chunk.iter().map(String::as_str));
        let output = git_output(out, &args)?;
        let mut entries = output.split('\0');
        while let Some(entry) = entries.next() {
            let Some(path) = entry.get(3..) else {
                continue;
            };
            // A rename or copy is followed by its source path.
            if entry.starts_with('R') || entry.starts_with('C') {
                entries.next();
            }
            if let Some(relative) = path.strip_prefix(prefix.as_str()) {
                listed.insert(relative.to_string());
            }
        }
    }
    Some(
        paths
            .iter()
            .filter(|path| listed.contains(path.as_str()))
            .cloned()
            .collect(),
    )
}

/// Stdout of `git -C out ARGS`, when it succeeds.
fn git_output(out: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(out)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
