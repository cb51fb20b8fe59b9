//! `check` over a workspace: every policy file's parse, validation and lint diagnostics, and
//! the role-level lints of the inventory. This sits above the layers it runs (workspace,
//! lint, inventory), so that none of them imports another's driver.

use std::sync::Arc;

use crate::diag::FileDiagnostics;
use crate::inventory::lints::lint_inventory_with;
use crate::inventory::Inventory;
use crate::lint::engine::{apply_levels, check_file};
use crate::lint::RoleFinding;
use crate::workspace::Workspace;

/// Checks every policy file of a workspace; one entry per file, in file-name order. Files are
/// checked in parallel on all cores (rayon), and so are the parts of one big policy (its
/// lowering, its index and its rules, see `crate::lint::engine`); the result does not depend
/// on the schedule.
///
/// With the findings cache on ([`crate::cache`]), each file's findings come from it when
/// the file, its policy's namespace and template switches, the target and the lint settings
/// are unchanged.
pub fn check_workspace(workspace: &Workspace) -> Vec<FileDiagnostics> {
    use rayon::prelude::*;
    let settings = workspace.config.lint_settings();
    let cache = crate::cache::Cache::for_config(&workspace.config);
    let fingerprint = cache
        .as_ref()
        .map(|_| crate::cache::settings_fingerprint(&settings));
    let mut results: Vec<FileDiagnostics> = workspace
        .parse_diagnostics
        .par_iter()
        .map(|parsed| {
            let policy = workspace.policy_of(&parsed.file);
            let check = || {
                check_file(
                    &parsed.file,
                    &parsed.diagnostics,
                    policy,
                    workspace.target,
                    &settings,
                )
            };
            let diagnostics = match (&cache, &fingerprint) {
                (Some(cache), Some(fingerprint)) => {
                    let context = format!(
                        "{}\0{}\0{:?}\0{}\0{fingerprint}",
                        parsed.file.name,
                        policy.map_or("-", |policy| policy.namespace.as_str()),
                        policy.map(|policy| policy.template_flags),
                        policy.is_some(),
                    );
                    cache.findings_or(&parsed.file, workspace.target, &context, check)
                }
                _ => check(),
            };
            FileDiagnostics {
                file: Arc::clone(&parsed.file),
                diagnostics,
            }
        })
        .collect();
    results.sort_by(|a, b| a.file.name.cmp(&b.file.name));
    results
}

/// Runs every role-level rule over every role (and, for `unresolved-template`, every entity)
/// of the workspace's inventory. Inventory errors (unknown policies, groups, entities) come
/// back as diagnostics in `capable.yaml`. Findings shared by several subjects are reported
/// once, naming them all. With the findings cache on, each distinct subject's findings come
/// from it while its policies, the target, mounts and namespaces are unchanged. Cost: see
/// [`lint_inventory_with`].
pub fn check_inventory(workspace: &Workspace) -> Vec<FileDiagnostics> {
    if !workspace.config.has_inventory() {
        return Vec::new();
    }
    let inventory = match Inventory::new(&workspace.config, &workspace.policies) {
        Ok(inventory) => inventory,
        Err(errors) => return errors,
    };
    let cache = crate::cache::Cache::for_config(&workspace.config);
    let store = cache
        .as_ref()
        .map(|cache| cache as &dyn crate::inventory::lints::RoleFindingsStore);
    let findings = lint_inventory_with(
        &inventory,
        workspace.target,
        &workspace.config.mounts,
        store,
    );
    let settings = workspace.config.lint_settings();
    group_by_file(findings, &settings)
}

/// Role-level findings with the settings applied, grouped per file (in order of first
/// finding), each file's diagnostics by position.
fn group_by_file(
    findings: Vec<RoleFinding>,
    settings: &crate::lint::settings::LintSettings<'_>,
) -> Vec<FileDiagnostics> {
    let mut files: Vec<FileDiagnostics> = Vec::new();
    let mut position: std::collections::HashMap<String, usize> = Default::default();
    for (file, diagnostic) in findings {
        let Some(diagnostic) = apply_levels(vec![diagnostic], settings).pop() else {
            continue;
        };
        match position.get(&file.name) {
            Some(&index) => files[index].diagnostics.push(diagnostic),
            None => {
                position.insert(file.name.clone(), files.len());
                files.push(FileDiagnostics {
                    file,
                    diagnostics: vec![diagnostic],
                });
            }
        }
    }
    for file in &mut files {
        file.diagnostics.sort_by_key(|d| d.span.start);
    }
    files
}

/// Applies the configuration's `per-file-ignores` to the results of a check and adds the
/// `unused-ignore` findings about its entries to `capable.yaml`'s results (only when
/// `whole_tree`: every file of the configuration was checked). See
/// [`crate::lint::suppress::apply_per_file`].
pub fn apply_per_file_ignores(
    mut results: Vec<FileDiagnostics>,
    workspace: &Workspace,
    whole_tree: bool,
) -> Vec<FileDiagnostics> {
    let config = &workspace.config;
    let config_name = config.source.as_ref().map(|file| file.name.clone());
    let unused = crate::lint::suppress::apply_per_file(
        &mut results,
        &config.per_file_ignores,
        config_name.as_deref(),
        &config.lint_settings(),
        whole_tree,
    );
    if unused.is_empty() {
        return results;
    }
    let Some(file) = config.source.clone() else {
        return results;
    };
    results.push(FileDiagnostics {
        file,
        diagnostics: unused,
    });
    crate::lint::engine::merge_by_file(results)
}
