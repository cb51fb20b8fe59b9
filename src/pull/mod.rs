//! `capable pull`: read a live Vault or OpenBao server (read-only) and write its policies and
//! inventory as a capable workspace, so `check`, `test`, `reach` and `diff DIR .` work on the
//! live state and drift between git and the server is a `diff`.
//!
//! - [`client`]: HTTP with rustls, the token kept secret, `GET`/`LIST` only;
//! - [`access`]: every path read and the capability it needs (`pull --print-policy`);
//! - [`read`]: what is read, namespace by namespace;
//! - [`render`]: the server's objects as `policies/*.hcl` and `capable.yaml`;
//! - [`mod@write`]: atomic writes that refuse to overwrite uncommitted files.
//!
//! Before anything is written the rendered workspace is loaded as `check` would load it (the
//! configuration parsed, every policy parsed, the inventory resolved): a pull never leaves a
//! folder capable cannot read.

pub mod access;
pub mod client;
pub mod progress;
pub mod read;
pub mod render;
pub mod write;
mod yaml;

use std::path::PathBuf;
use std::sync::Arc;

pub use client::{Endpoint, PullError, Secret};
use progress::Progress;
use render::{Counts, Rendered};
use write::Written;

use crate::target::Target;

/// What to pull and where.
#[derive(Clone, Debug)]
pub struct PullOptions {
    pub endpoint: Endpoint,
    /// The namespace pulled (`""`: root).
    pub namespace: String,
    /// Pull the namespaces below it too.
    pub children: bool,
    pub out: PathBuf,
    pub force: bool,
    /// The target written into `capable.yaml`; default: from the server's version.
    pub target: Option<Target>,
}

/// What a pull did.
#[derive(Clone, Debug)]
pub struct PullReport {
    pub target: Target,
    pub counts: Counts,
    pub written: Written,
    pub warnings: Vec<String>,
    pub requests: usize,
}

/// Reads the server and writes the workspace. `progress` draws while reading.
pub fn pull(options: &PullOptions, progress: &mut Progress) -> Result<PullReport, PullError> {
    let client = client::Client::new(&options.endpoint)?;
    let state = read::read_server(&client, &options.namespace, options.children, progress)?;
    progress.finish();
    let target = options
        .target
        .unwrap_or_else(|| render::target_of_version(state.version.as_deref()));
    let rendered = render::render(&state, target, client.addr());
    let mut warnings = rendered.warnings.clone();
    warnings.extend(validate(&rendered, target)?);
    let written = write::write_files(
        &options.out,
        &rendered.files,
        &rendered.policy_folder,
        options.force,
    )?;
    Ok(PullReport {
        target,
        counts: rendered.counts,
        written,
        warnings,
        requests: client.requests(),
    })
}

/// Loads the rendered files as a workspace and resolves the inventory. A configuration that
/// does not load is a bug in the rendering (exit 3); an inventory that does not resolve (a role
/// holding a policy the target refuses to parse) is returned as warnings, as `check` will
/// report it.
fn validate(rendered: &Rendered, target: Target) -> Result<Vec<String>, PullError> {
    let Some((config_file, policy_files)) = rendered.files.split_last() else {
        return Err(PullError::Internal("nothing rendered".into()));
    };
    let source = Arc::new(crate::source::SourceFile::new(
        config_file.path.clone(),
        config_file.text.clone(),
    ));
    let config = crate::config::Config::from_text(source, PathBuf::from(".")).map_err(|error| {
        PullError::Internal(format!("the pulled capable.yaml does not load: {error}"))
    })?;
    let sources = policy_files
        .iter()
        .map(|file| {
            Arc::new(crate::source::SourceFile::new(
                file.path.clone(),
                file.text.clone(),
            ))
        })
        .collect();
    let workspace =
        crate::workspace::Workspace::from_sources(config, target, sources).map_err(|error| {
            PullError::Internal(format!("the pulled policies do not load: {error}"))
        })?;
    match crate::inventory::Inventory::new(&workspace.config, &workspace.policies) {
        Ok(_) => Ok(Vec::new()),
        Err(errors) => Ok(errors
            .iter()
            .flat_map(|file| &file.diagnostics)
            .map(|d| format!("the pulled inventory does not resolve: {}", d.message))
            .collect()),
    }
}
