//! A policy tree named on the command line: a folder, or `git:REV` (the working directory's
//! repository at a revision). [`Checkout`] is the one reader of `git:REV` trees: `diff`
//! (through `diff::side`), `check --new-since` / `baseline:` and `audit replay --against`
//! (through [`load_tree`]) all use it.
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
    Git(RevisionError),
    Workspace(WorkspaceError),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::Git(error) => write!(f, "{error}"),
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
                return Err(TreeError::Git(RevisionError::new(
                    format!("`{}` is not a folder", dir.display()),
                    "a tree is a folder or `git:REV`",
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
            let checkout = Checkout::new(cwd, rev).map_err(TreeError::Git)?;
            let root = checkout.root();
            let inside = root.join(&checkout.prefix);
            let dir = if inside.is_dir() {
                inside
            } else {
                root.clone()
            };
            let config = find_config_within(&dir, &root);
            let workspace = match &config {
                Some(config) => Workspace::load_in(&dir, &[], Some(config), target),
                // No configuration at that revision: the folder's policies, as the working
                // tree without one (never a `capable.yaml` above the temporary folder).
                None => {
                    let empty = dir.join(crate::config::CONFIG_FILE_NAME);
                    std::fs::write(&empty, "").map_err(|error| {
                        TreeError::Git(RevisionError::new(
                            format!("cannot write the temporary checkout: {error}"),
                            "check that the temporary folder (`TMPDIR`) is writable",
                        ))
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

/// `capable.yaml` in `dir` or a folder above it, up to `top` (never above it).
pub fn find_config_within(dir: &Path, top: &Path) -> Option<PathBuf> {
    for folder in dir.ancestors() {
        let candidate = folder.join(crate::config::CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if folder == top {
            return None;
        }
    }
    None
}

/// Why a revision could not be read (a usage or input error, exit 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionError {
    pub message: String,
    pub help: String,
}

impl RevisionError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> RevisionError {
        RevisionError {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl std::fmt::Display for RevisionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The top folder of the git repository holding `dir`, if any.
pub fn git_top(dir: &Path) -> Option<PathBuf> {
    let top = git(dir, &["rev-parse", "--show-toplevel"], None).ok()?;
    Some(PathBuf::from(top.trim()))
}

/// A revision's files in a temporary folder, removed on drop. The one way capable reads a
/// `git:REV` tree (`diff`, `audit replay --against`, `check --new-since` and `baseline:`).
pub struct Checkout {
    /// The temporary folder holding the files (removed on drop).
    dir: tempfile::TempDir,
    /// The working directory relative to the repository top (`git rev-parse --show-prefix`).
    pub prefix: PathBuf,
}

impl Checkout {
    /// Checks out `rev` of the repository holding `cwd`: `git read-tree` into a private index
    /// file, then `git checkout-index --prefix` (so `.gitattributes` filters apply as in a
    /// working tree). The repository's index, worktrees and refs are not touched. Cost: one
    /// read of the revision's tree and one write of each of its files.
    pub fn new(cwd: &Path, rev: &str) -> Result<Checkout, RevisionError> {
        let unknown = || {
            RevisionError::new(
                format!("unknown revision `{rev}`"),
                "name a commit, branch or tag of this repository, e.g. `git:origin/main` or `git:HEAD~1`",
            )
        };
        if rev.is_empty() || rev.starts_with('-') {
            return Err(unknown());
        }
        if git_top(cwd).is_none() {
            return Err(RevisionError::new(
                format!(
                    "`{rev}` names a git revision, and `{}` is not in a git repository",
                    cwd.display()
                ),
                "run the command inside the repository, or name a folder instead",
            ));
        }
        let prefix = git(cwd, &["rev-parse", "--show-prefix"], None)?;
        let tree = git(
            cwd,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{tree}}"),
            ],
            None,
        )
        .map_err(|_| unknown())?;
        let dir = tempfile::Builder::new()
            .prefix("capable-tree-")
            .tempdir()
            .map_err(|error| {
                RevisionError::new(
                    format!("cannot create a temporary folder: {error}"),
                    "check that the temporary folder (`TMPDIR`) is writable",
                )
            })?;
        let index = dir.path().join("index");
        let root = dir.path().join("tree");
        git(cwd, &["read-tree", tree.trim()], Some(&index))?;
        git(
            cwd,
            &[
                "checkout-index",
                "--all",
                "--force",
                &format!("--prefix={}/", root.display()),
            ],
            Some(&index),
        )?;
        std::fs::create_dir_all(&root).map_err(|error| {
            RevisionError::new(
                format!("cannot write the tree of `{rev}`: {error}"),
                "check that the temporary folder (`TMPDIR`) is writable",
            )
        })?;
        Ok(Checkout {
            dir,
            prefix: PathBuf::from(prefix.trim()),
        })
    }

    /// The repository's top folder at the revision.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("tree")
    }

    /// The working directory's place in the checkout, created when the revision lacks it.
    pub fn inside(&self) -> Result<PathBuf, RevisionError> {
        let inside = self.root().join(&self.prefix);
        std::fs::create_dir_all(&inside).map_err(|error| {
            RevisionError::new(
                format!("cannot write the temporary checkout: {error}"),
                "check that the temporary folder (`TMPDIR`) is writable",
            )
        })?;
        Ok(inside)
    }
}

/// Runs `git ARGS` in `cwd` (with a private index when given); stdout on success.
fn git(cwd: &Path, args: &[&str], index: Option<&Path>) -> Result<String, RevisionError> {
    let mut command = Command::new("git");
    command.args(args).current_dir(cwd);
    if let Some(index) = index {
        command.env("GIT_INDEX_FILE", index);
    }
    let output = command.output().map_err(|error| {
        RevisionError::new(
            format!("cannot run `git`: {error}"),
            "install git, or compare folders instead of revisions",
        )
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("").trim().to_string();
        return Err(RevisionError::new(
            format!("`git {}` failed: {first}", args[0]),
            "check that the repository is readable",
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
