//! The two sides of a diff: a folder, `git:REV` (a commit's tree of the repository the command
//! runs in) or `-` (the working tree), each loaded as a full workspace with its own
//! `capable.yaml`, inventory and target.
//!
//! A `git:REV` side is the tree of REV written into a temporary folder by
//! [`crate::revision::Checkout`] (the git CLI; no libgit2), at the same place relative to the
//! repository's top as the working directory, so file names read as they do in the working
//! tree. Within a side, `capable.yaml` is looked for in the folder compared and above it, but
//! never above the side (the folder given, or the repository's top).
//!
//! Cost: one checkout per `git:` side (every file of the tree written once), then a workspace
//! load.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::inventory::Inventory;
use crate::report::human;
use crate::revision::{find_config_within, git_top, Checkout, RevisionError};
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

impl From<RevisionError> for SideError {
    fn from(error: RevisionError) -> SideError {
        SideError::new(error.message, error.help)
    }
}

/// A loaded side. A `git:` side keeps its temporary folder alive while loaded.
pub struct LoadedSide {
    pub spec: SideSpec,
    pub workspace: Workspace,
    pub inventory: Option<Inventory>,
    _checkout: Option<Checkout>,
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
            let checkout = Checkout::new(cwd, rev)?;
            let inside = checkout.inside()?;
            (inside, checkout.root(), Some(checkout))
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

fn load_workspace(
    names_from: &Path,
    dir: &Path,
    boundary: &Path,
    target: Option<Target>,
    color: bool,
) -> Result<Workspace, SideError> {
    let config_path = find_config_within(dir, boundary);
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
