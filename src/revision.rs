//! A policy tree named on the command line: a folder, or `git:REV` (the working directory's
//! repository at a revision). Shared by commands that compare two trees (`audit replay`).
//!
//! `git:REV` is materialised with the `git` CLI into a private temporary folder, without
//! touching the repository's index, worktrees or refs: `git read-tree` into a temporary index
//! file, then `git checkout-index --prefix`. The folder is removed when the [`Checkout`] is
//! dropped. The tree is then loaded like the working tree, from the same relative folder (so
//! `capable.yaml` and its `include` resolve the same way). Cost: one checkout of the revision's
//! files plus one workspace load.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::target::Target;
use crate::workspace::{Workspace, WorkspaceError};

/// Where a tree comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeSpec {
    /// The working directory (the config found from it, its policies).
    Working,
    /// A folder: its `capable.yaml` (or the folder itself without one).
    Dir(PathBuf),
    /// `git:REV`.
    Git(String),
}

impl TreeSpec {
    /// `git:REV` or a folder.
    pub fn parse(text: &str) -> Result<TreeSpec, String> {
        match text.strip_prefix("git:") {
            Some("") => Err("`git:` needs a revision, e.g. `git:main` or `git:HEAD~1`".into()),
            Some(rev) => Ok(TreeSpec::Git(rev.to_string())),
            None => Ok(TreeSpec::Dir(PathBuf::from(text))),
        }
    }

    /// How reports name the tree.
    pub fn label(&self) -> String {
        match self {
            TreeSpec::Working => "the working tree".into(),
            TreeSpec::Dir(path) => format!("`{}`", path.display()),
            TreeSpec::Git(rev) => format!("`git:{rev}`"),
        }
    }
}

/// A loaded tree; keeps the temporary checkout alive as long as the workspace is used.
pub struct LoadedTree {
    pub spec: TreeSpec,
    pub workspace: Workspace,
    _checkout: Option<Checkout>,
}

/// Why a tree could not be loaded.
#[derive(Debug)]
pub enum TreeError {
    Git(String),
    Workspace(WorkspaceError),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::Git(message) => f.write_str(message),
            TreeError::Workspace(error) => write!(f, "{error}"),
        }
    }
}

/// Loads a tree relative to `cwd`. `config` is `--config` (used for the working tree only).
pub fn load_tree(
    spec: &TreeSpec,
    cwd: &Path,
    config: Option<&Path>,
    target: Option<Target>,
) -> Result<LoadedTree, TreeError> {
    match spec {
        TreeSpec::Working => {
            let workspace =
                Workspace::load_in(cwd, &[], config, target).map_err(TreeError::Workspace)?;
            Ok(LoadedTree {
                spec: spec.clone(),
                workspace,
                _checkout: None,
            })
        }
        TreeSpec::Dir(dir) => {
            let dir = cwd.join(dir);
            if !dir.is_dir() {
                return Err(TreeError::Git(format!(
                    "`{}` is not a folder",
                    dir.display()
                )));
            }
            // The folder's own `capable.yaml` when it has one; else its policies with the
            // working directory's configuration (and so its inventory).
            let own = dir.join(crate::config::CONFIG_FILE_NAME);
            let workspace = if own.is_file() {
                Workspace::load_in(&dir, &[], Some(&own), target)
            } else {
                Workspace::load_in(cwd, std::slice::from_ref(&dir), config, target)
            }
            .map_err(TreeError::Workspace)?;
            Ok(LoadedTree {
                spec: spec.clone(),
                workspace,
                _checkout: None,
            })
        }
        TreeSpec::Git(rev) => {
            let checkout = Checkout::new(cwd, rev)?;
            let dir = checkout.root.join(&checkout.prefix);
            let dir = if dir.is_dir() {
                dir
            } else {
                checkout.root.clone()
            };
            let config = find_config_within(&dir, &checkout.root);
            let workspace = match &config {
                Some(config) => Workspace::load_in(&dir, &[], Some(config), target),
                // No configuration at that revision: the folder's policies, as the working
                // tree without one (never a `capable.yaml` above the temporary folder).
                None => {
                    let empty = dir.join(crate::config::CONFIG_FILE_NAME);
                    std::fs::write(&empty, "").map_err(|error| {
                        TreeError::Git(format!("cannot write the temporary checkout: {error}"))
                    })?;
                    Workspace::load_in(&dir, &[], Some(&empty), target)
                }
            }
            .map_err(TreeError::Workspace)?;
            Ok(LoadedTree {
                spec: spec.clone(),
                workspace,
                _checkout: Some(checkout),
            })
        }
    }
}

/// `capable.yaml` in `dir` or a folder above it, up to `top`.
fn find_config_within(dir: &Path, top: &Path) -> Option<PathBuf> {
    let mut current = Some(dir);
    while let Some(folder) = current {
        let candidate = folder.join(crate::config::CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if folder == top {
            return None;
        }
        current = folder.parent();
    }
    None
}

/// A revision's files in a temporary folder, removed on drop.
pub struct Checkout {
    /// The temporary folder (removed on drop).
    base: PathBuf,
    /// The repository's files at the revision.
    pub root: PathBuf,
    /// The working directory relative to the repository top (`git rev-parse --show-prefix`).
    pub prefix: PathBuf,
}

impl Checkout {
    /// Checks out `rev` of the repository holding `cwd`. Cost: one `git` read of the tree.
    pub fn new(cwd: &Path, rev: &str) -> Result<Checkout, TreeError> {
        if rev.starts_with('-') {
            return Err(TreeError::Git(format!("`{rev}` is not a revision")));
        }
        let prefix = git(cwd, &["rev-parse", "--show-prefix"], None)?;
        let commit = git(
            cwd,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{tree}}"),
            ],
            None,
        )
        .map_err(|_| TreeError::Git(format!("`{rev}` is not a revision of this repository")))?;
        let base = private_temp_dir()?;
        let checkout = Checkout {
            root: base.join("tree"),
            prefix: PathBuf::from(prefix.trim()),
            base,
        };
        let index = checkout.base.join("index");
        git(cwd, &["read-tree", commit.trim()], Some(&index))?;
        let target = format!("{}/", checkout.root.display());
        git(
            cwd,
            &[
                "checkout-index",
                "--all",
                "--force",
                &format!("--prefix={target}"),
            ],
            Some(&index),
        )?;
        Ok(checkout)
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Runs `git ARGS` in `cwd` (with a private index when given); stdout on success.
fn git(cwd: &Path, args: &[&str], index: Option<&Path>) -> Result<String, TreeError> {
    let mut command = Command::new("git");
    command.args(args).current_dir(cwd);
    if let Some(index) = index {
        command.env("GIT_INDEX_FILE", index);
    }
    let output = command
        .output()
        .map_err(|error| TreeError::Git(format!("cannot run `git`: {error}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("").trim().to_string();
        return Err(TreeError::Git(format!("`git {}` failed: {first}", args[0])));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A new folder only this process uses (created, not reused: `create_dir` fails on a clash).
fn private_temp_dir() -> Result<PathBuf, TreeError> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "capable-tree-{}-{nanos:08x}-{attempt}",
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => {
                return Err(TreeError::Git(format!(
                    "cannot create a temporary folder: {error}"
                )))
            }
        }
    }
    Err(TreeError::Git("cannot create a temporary folder".into()))
}
