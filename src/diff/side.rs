//! The two sides of a diff: a folder, `git:REV` (a commit's tree of the repository the command
//! runs in) or `-` (the working tree), each loaded as a full workspace with its own
//! `capable.yaml`, inventory and target.
//!
//! A `git:REV` side is the tree of REV written into a temporary folder (`git ls-tree` and
//! `git cat-file --batch`; no libgit2), at the same place relative to the repository's top as
//! the working directory, so file names read as they do in the working tree. Within a side,
//! `capable.yaml` is looked for in the folder compared and above it, but never above the side
//! (the folder given, or the repository's top).
//!
//! Cost: one `git ls-tree` and one `git cat-file --batch` run per `git:` side, writing every
//! blob of the tree once; then a workspace load.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::{Config, CONFIG_FILE_NAME};
use crate::inventory::Inventory;
use crate::report::human;
use crate::target::Target;
use crate::workspace::Workspace;

/// How a side was named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SideSpec {
    Folder(PathBuf),
    /// `git:REV`.
    Git(String),
    /// `-`.
    WorkTree,
}

impl SideSpec {
    pub fn parse(text: &str) -> SideSpec {
        if text == "-" {
            return SideSpec::WorkTree;
        }
        match text.strip_prefix("git:") {
            Some(rev) => SideSpec::Git(rev.to_string()),
            None => SideSpec::Folder(PathBuf::from(text)),
        }
    }

    /// How the side is shown in reports.
    pub fn label(&self) -> String {
        match self {
            SideSpec::Folder(path) => path.display().to_string(),
            SideSpec::Git(rev) => format!("git:{rev}"),
            SideSpec::WorkTree => "the working tree".to_string(),
        }
    }
}

/// Why a side could not be loaded (exit 2).
#[derive(Clone, Debug)]
pub struct SideError {
    pub message: String,
    pub help: Option<String>,
    /// Diagnostics with source frames, printed before the message.
    pub rendered: Option<String>,
}

impl SideError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> SideError {
        SideError {
            message: message.into(),
            help: Some(help.into()),
            rendered: None,
        }
    }
}

/// A loaded side. A `git:` side keeps its temporary folder alive while loaded.
pub struct LoadedSide {
    pub spec: SideSpec,
    pub workspace: Workspace,
    pub inventory: Option<Inventory>,
    _checkout: Option<tempfile::TempDir>,
}

impl LoadedSide {
    pub fn input(&self) -> super::SideInput<'_> {
        super::SideInput {
            workspace: &self.workspace,
            inventory: self.inventory.as_ref(),
        }
    }
}

/// Loads a side: `folder` (relative to each side's root, default the root itself) is the
/// part compared; `target` overrides the sides' configured targets.
pub fn load(
    spec: &SideSpec,
    cwd: &Path,
    folder: Option<&Path>,
    target: Option<Target>,
    color: bool,
) -> Result<LoadedSide, SideError> {
    let (names_from, boundary, checkout) = match spec {
        SideSpec::Folder(path) => {
            let root = cwd.join(path);
            if !root.is_dir() {
                return Err(SideError::new(
                    format!("`{}` is not a folder", path.display()),
                    "a side is a folder, `git:REV` (e.g. `git:origin/main`) or `-` for the working tree",
                ));
            }
            (cwd.to_path_buf(), root.clone(), None)
        }
        SideSpec::WorkTree => {
            let top = git_top(cwd).unwrap_or_else(|| cwd.to_path_buf());
            (cwd.to_path_buf(), top, None)
        }
        SideSpec::Git(rev) => {
            let top = git_top(cwd).ok_or_else(|| {
                SideError::new(
                    format!(
                        "`git:{rev}` needs a git repository, and `{}` is not in one",
                        cwd.display()
                    ),
                    "run `capable diff` inside the repository, or compare two folders",
                )
            })?;
            let prefix = git_output(cwd, &["rev-parse", "--show-prefix"]).unwrap_or_default();
            let checkout = checkout(&top, rev)?;
            let inside = checkout.path().join(prefix.trim());
            (inside, checkout.path().to_path_buf(), Some(checkout))
        }
    };
    let base = match spec {
        SideSpec::Folder(path) => cwd.join(path),
        _ => names_from.clone(),
    };
    let dir = match folder {
        Some(folder) => base.join(folder),
        None => base,
    };
    if !dir.is_dir() {
        return Err(SideError::new(
            format!(
                "{} has no folder `{}`",
                spec.label(),
                folder.unwrap_or(Path::new(".")).display()
            ),
            "the folder compared must exist on both sides",
        ));
    }
    let workspace = load_workspace(&names_from, &dir, &boundary, target, color)?;
    let inventory = if workspace.config.has_inventory() {
        Some(
            Inventory::new(&workspace.config, &workspace.policies).map_err(|errors| {
                let rendered = Some(
                    errors
                        .iter()
                        .map(|file| human::render(&file.file, &file.diagnostics, color))
                        .collect::<String>(),
                );
                SideError {
                    message: format!(
                        "the inventory of {} has {} error(s)",
                        spec.label(),
                        errors
                            .iter()
                            .map(|file| file.diagnostics.len())
                            .sum::<usize>()
                    ),
                    help: Some("`capable check` on that side shows the same errors".into()),
                    rendered,
                }
            })?,
        )
    } else {
        None
    };
    Ok(LoadedSide {
        spec: spec.clone(),
        workspace,
        inventory,
        _checkout: checkout,
    })
}

/// The tree of `rev` written into a temporary folder, and the working directory's place in
/// it (for `check --new-since`).
pub fn checkout_at(cwd: &Path, rev: &str) -> Result<(tempfile::TempDir, PathBuf), SideError> {
    let top = git_top(cwd).ok_or_else(|| {
        SideError::new(
            format!(
                "`{rev}` names a git revision, and `{}` is not in a git repository",
                cwd.display()
            ),
            "run inside the repository, or drop `--new-since` / `baseline`",
        )
    })?;
    let prefix = git_output(cwd, &["rev-parse", "--show-prefix"]).unwrap_or_default();
    let checkout = checkout(&top, rev)?;
    let inside = checkout.path().join(prefix.trim());
    if !inside.is_dir() {
        std::fs::create_dir_all(&inside).map_err(|error| {
            SideError::new(
                format!("cannot write the tree of `{rev}`: {error}"),
                "check that the temporary folder (`TMPDIR`) is writable",
            )
        })?;
    }
    Ok((checkout, inside))
}

/// `capable.yaml` in `dir` or above, up to `boundary`.
fn find_config(dir: &Path, boundary: &Path) -> Option<PathBuf> {
    for ancestor in dir.ancestors() {
        let candidate = ancestor.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if ancestor == boundary {
            return None;
        }
    }
    None
}

fn load_workspace(
    names_from: &Path,
    dir: &Path,
    boundary: &Path,
    target: Option<Target>,
    color: bool,
) -> Result<Workspace, SideError> {
    let config_path = find_config(dir, boundary);
    let (config, paths) = match &config_path {
        Some(path) => {
            let shown = path
                .strip_prefix(names_from)
                .unwrap_or(path)
                .display()
                .to_string();
            let config = Config::load(path, &shown).map_err(|error| SideError {
                message: error.message(),
                help: error.help(),
                rendered: Some(error.render(color)),
            })?;
            (config, Vec::new())
        }
        None => (
            Config {
                root: dir.to_path_buf(),
                ..Config::default()
            },
            vec![dir.to_path_buf()],
        ),
    };
    Workspace::load_with_config(names_from, &paths, config, target).map_err(|error| SideError {
        message: error.message(),
        help: error.help(),
        rendered: None,
    })
}

fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

fn git_top(dir: &Path) -> Option<PathBuf> {
    let top = git_output(dir, &["rev-parse", "--show-toplevel"])?;
    Some(PathBuf::from(top.trim()))
}

/// Writes the tree of `rev` into a new temporary folder.
fn checkout(top: &Path, rev: &str) -> Result<tempfile::TempDir, SideError> {
    let unknown = || {
        SideError::new(
            format!("unknown revision `{rev}`"),
            "name a commit, branch or tag of this repository, e.g. `git:origin/main` or `git:HEAD~1`",
        )
    };
    if rev.starts_with('-') {
        return Err(unknown());
    }
    let tree = git_output(
        top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{tree}}"),
        ],
    )
    .ok_or_else(unknown)?;
    let tree = tree.trim().to_string();
    let listing =
        git_output(top, &["ls-tree", "-r", "-z", "--full-tree", &tree]).ok_or_else(unknown)?;
    let mut blobs: Vec<(String, String)> = Vec::new();
    for entry in listing.split('\0').filter(|entry| !entry.is_empty()) {
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        // Regular files only: symlinks and submodules are not policy text.
        if let [mode, "blob", object] = fields.as_slice() {
            if *mode == "100644" || *mode == "100755" {
                blobs.push((object.to_string(), path.to_string()));
            }
        }
    }
    let temp = tempfile::Builder::new()
        .prefix("capable-diff-")
        .tempdir()
        .map_err(|error| {
            SideError::new(
                format!("cannot create a temporary folder: {error}"),
                "check that the temporary folder (`TMPDIR`) is writable",
            )
        })?;
    write_blobs(top, temp.path(), &blobs).map_err(|error| {
        SideError::new(
            format!("cannot write the tree of `{rev}`: {error}"),
            "check that the temporary folder (`TMPDIR`) is writable",
        )
    })?;
    Ok(temp)
}

/// Streams the blobs through one `git cat-file --batch` and writes each under `dest`.
fn write_blobs(top: &Path, dest: &Path, blobs: &[(String, String)]) -> std::io::Result<()> {
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let objects: Vec<String> = blobs.iter().map(|(object, _)| object.clone()).collect();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for object in objects {
            writeln!(stdin, "{object}")?;
        }
        Ok(())
    });
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    for (_, path) in blobs {
        let mut header = Vec::new();
        read_line(&mut stdout, &mut header)?;
        let header = String::from_utf8_lossy(&header);
        let size: usize = header
            .split(' ')
            .nth(2)
            .and_then(|size| size.trim().parse().ok())
            .ok_or_else(|| {
                std::io::Error::other(format!("unexpected `git cat-file` output `{header}`"))
            })?;
        let mut content = vec![0; size];
        stdout.read_exact(&mut content)?;
        let mut newline = [0; 1];
        stdout.read_exact(&mut newline)?;
        let target = dest.join(path);
        if !target.starts_with(dest) || path.split('/').any(|part| part == "..") {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, content)?;
    }
    writer
        .join()
        .map_err(|_| std::io::Error::other("the `git cat-file` writer panicked"))??;
    child.wait()?;
    Ok(())
}

fn read_line(reader: &mut impl std::io::BufRead, line: &mut Vec<u8>) -> std::io::Result<()> {
    reader.read_until(b'\n', line)?;
    if line.is_empty() {
        return Err(std::io::Error::other("`git cat-file` ended early"));
    }
    Ok(())
}
