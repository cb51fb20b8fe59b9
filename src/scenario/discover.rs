//! Finding scenario files and running them for a workspace.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::model::load;
use super::run::{run_file, FileOutcome};
use crate::diag::FileDiagnostics;
use crate::inventory::Inventory;
use crate::source::SourceFile;
use crate::workspace::Workspace;

/// Why scenarios could not run (exit 2).
#[derive(Debug)]
pub enum TestError {
    /// Bad YAML, unknown fields, invalid scenarios, bad inventory: with their spans.
    Input(Vec<FileDiagnostics>),
    /// A path could not be read, or nothing was found.
    Other { message: String, help: String },
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

fn is_config(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name == crate::config::CONFIG_FILE_NAME)
}

fn in_tests_folder(path: &Path, root: &Path) -> bool {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .parent()
        .is_some_and(|parent| parent.components().any(|c| c.as_os_str() == "tests"))
}

/// YAML files under `dir` (all of them, or only those inside a `tests` folder), sorted.
/// Respects `.gitignore`. Cost: one directory walk.
/// Symlinks are followed (a loop is an error); a YAML entry that is not a regular file (a
/// FIFO, a folder named `x.yaml`, a dangling link) is kept so that reading it fails with an
/// error naming it: a scenario is never dropped silently.
fn walk_yaml(dir: &Path, only_tests: bool) -> Result<Vec<PathBuf>, TestError> {
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .follow_links(true)
        .build();
    for entry in walker {
        let path = match entry {
            Ok(entry) if entry.depth() > 0 => entry.into_path(),
            Ok(_) => continue,
            Err(error) => match crate::workspace::dangling_link(&error) {
                Some(path) => path,
                None => return Err(TestError::Other {
                    message: format!("cannot read `{}`: {error}", dir.display()),
                    help: "check that the folder exists and is readable, and that no symlink loops"
                        .into(),
                }),
            },
        };
        if is_yaml(&path) && (!only_tests || in_tests_folder(&path, dir)) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The scenario files: the given files, the YAML files in `tests` folders of the given
/// folders (or all their YAML but `capable.yaml` when they have none), or (with no
/// paths) every `*.yaml`/`*.yml` inside a `tests` folder under the workspace root.
pub fn scenario_paths(
    workspace: &Workspace,
    cwd: &Path,
    paths: &[PathBuf],
) -> Result<Vec<PathBuf>, TestError> {
    if paths.is_empty() {
        let root = if workspace.root.is_absolute() {
            workspace.root.clone()
        } else {
            cwd.join(&workspace.root)
        };
        return walk_yaml(&root, true);
    }
    let mut found = Vec::new();
    for path in paths {
        let path = cwd.join(path);
        if path.is_dir() {
            // A policy tree given as a folder holds `capable.yaml` and maybe other YAML: when
            // it has `tests` folders, only they hold scenarios; otherwise the folder is a
            // folder of scenarios (`capable.yaml` never is one).
            let in_tests = walk_yaml(&path, true)?;
            if in_tests.is_empty() {
                found.extend(
                    walk_yaml(&path, false)?
                        .into_iter()
                        .filter(|p| !is_config(p)),
                );
            } else {
                found.extend(in_tests);
            }
        } else {
            found.push(path);
        }
    }
    Ok(found)
}

/// How a path is shown: relative to `cwd` when under it.
fn display(cwd: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

/// Loads the inventory and every scenario file, then runs them all. A scenario (or file) that
/// cannot run is in its file's [`FileOutcome::invalid`]; only an inventory error or an
/// unreadable path stops the run.
pub fn run_scenarios(
    workspace: &Workspace,
    cwd: &Path,
    paths: &[PathBuf],
) -> Result<Vec<FileOutcome>, TestError> {
    let inventory =
        Inventory::new(&workspace.config, &workspace.policies).map_err(TestError::Input)?;
    run_scenarios_with(workspace, &inventory, cwd, paths)
}

/// [`run_scenarios`] with the workspace's inventory already built (the CLI's report reads it
/// too, so it is built once).
pub fn run_scenarios_with(
    workspace: &Workspace,
    inventory: &Inventory,
    cwd: &Path,
    paths: &[PathBuf],
) -> Result<Vec<FileOutcome>, TestError> {
    let files = scenario_paths(workspace, cwd, paths)?;
    if files.is_empty() {
        return Err(TestError::Other {
            message: "no scenario files found".into(),
            help: "put `*.yaml` scenario files in a `tests` folder of the policy tree, or name them on the command line".into(),
        });
    }
    let mut outcomes = Vec::new();
    for path in files {
        let name = display(cwd, &path);
        let limit = workspace.config.max_file_size;
        let text = crate::input::read_text(&path, limit).map_err(|error| TestError::Other {
            message: format!("cannot read `{name}`: {error}"),
            help: error
                .help()
                .unwrap_or("check that the path exists and is a readable UTF-8 file")
                .into(),
        })?;
        let source = Arc::new(SourceFile::new(name, text));
        let loaded = load(source, &workspace.config.mounts);
        outcomes.push(run_file(&loaded, inventory, workspace.target));
    }
    Ok(outcomes)
}
