//! The configuration and the resolved inventory in the cache, so that a one-subject query
//! (`explain`, `caps`, `reach` with `--role`, `--entity` or `--group`) and `who-can` on an
//! unchanged tree neither read the inventory sections of `capable.yaml` (serde-saphyr takes
//! about 90 ms for 10,000 roles) nor resolve them again.
//!
//! Two entries, in the same folder and with the same key, checksum and atomic writes as the
//! findings ([`super`]):
//! - **The configuration's sections** (key: the `capable.yaml` text): the byte ranges of
//!   `roles`, `groups` and `entities` ([`crate::config::inventory_sections`]), once
//!   [`Config::reads_the_same_without`] has checked that the text without them reads the
//!   same, and the accessors they declare. A later run with the same text reads the rest
//!   only ([`Config::from_text_without_inventory`]); a text the check refuses is recorded
//!   as such and read whole every time.
//! - **The resolved inventory** (key: the `capable.yaml` text and the names of every policy
//!   of the tree, since a reference to a policy is checked against them): every error the
//!   resolution reports, and the roles, groups, entities and accessors as records
//!   ([`crate::inventory::records`]). A query about one subject reads only that subject's
//!   records; the errors are those of the whole inventory, so a cached run reports exactly
//!   what an uncached one does.
//!
//! Not cached: inventory imported from Terraform files (it depends on their text too) and
//! every workspace with a Terraform file (loaded whole, as before).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Cache, Entry};
use crate::config::{Config, ConfigError};
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::inventory::records::Beside;
use crate::inventory::{Inventory, Subject};
use crate::policy::Policy;

/// The configuration file at `path`: with the cache, without its inventory sections when
/// an entry says they can be left out (see the module documentation); otherwise read whole
/// (and the entry written). Cost: one read and one SHA-256 of the text, plus the parse of
/// what is read.
pub fn load_config(path: &Path, display_name: &str) -> Result<Config, ConfigError> {
    let Some(cache) = Cache::for_config_file(path) else {
        return Config::load(path, display_name);
    };
    let (source, root) = Config::read(path, display_name)?;
    let entry = cache.key_path(&["config-sections"], &source.text);
    if let Some(Entry::Sections {
        sections: Some(sections),
        accessors,
    }) = cache.load(&entry)
    {
        let reduced =
            Config::from_text_without_inventory(source.clone(), root.clone(), &sections, accessors);
        if let Some(config) = reduced.ok().filter(|config| config.cache) {
            return Ok(config);
        }
    }
    let config = Config::from_text(source.clone(), root)?;
    if config.cache {
        let sections = Some(crate::config::inventory_sections(&source.text))
            .filter(|sections| !sections.is_empty())
            .filter(|sections| config.reads_the_same_without(sections));
        let stored = Entry::Sections {
            sections,
            accessors: config.declared_accessors.clone(),
        };
        cache.store(&entry, &stored);
    }
    Ok(config)
}

/// The inventory of `config` over the tree's `policies` (valid, read) and `unloaded` (not
/// read, or refused) policy names, as [`Inventory::with_unloaded`] builds it: with the cache,
/// from its records, only `wanted`'s when given (a one-subject query), all of them
/// otherwise; else resolved (and the entry written). The sections of a config read without
/// them are read when needed ([`Config::load_deferred_inventory`]). Cost with an entry: one
/// read and one SHA-256 of it, plus the records read; without: the resolution.
pub fn resolved_inventory(
    config: &mut Config,
    policies: std::sync::Arc<BTreeMap<String, Policy>>,
    unloaded: &BTreeSet<String>,
    wanted: Option<&Subject>,
) -> Result<Inventory, Vec<FileDiagnostics>> {
    let imported = !config.inventory_sources.is_empty() || !config.inventory_conflicts.is_empty();
    let cache = Cache::for_config_inventory(config).filter(|_| !imported);
    let (Some(cache), Some(source)) = (cache, config.source.clone()) else {
        config.load_deferred_inventory().map_err(config_error)?;
        return Inventory::with_unloaded_owned(config, policies, unloaded);
    };
    let mut joined = String::new();
    let names: BTreeSet<&String> = policies.keys().chain(unloaded).collect();
    for name in names {
        joined.push_str(name);
        joined.push('\0');
    }
    let entry = cache.key_path(&["inventory", &joined], &source.text);
    if let Some(payload) = cache.load_payload(&entry) {
        let split = memchr::memchr(b'\n', &payload).unwrap_or(payload.len());
        let (header, records) = payload.split_at(split);
        if let Ok(errors) = serde_json::from_slice::<Vec<Diagnostic>>(header) {
            if !errors.is_empty() {
                return Err(vec![FileDiagnostics {
                    file: source,
                    diagnostics: errors,
                }]);
            }
            let beside = Beside {
                policies,
                unloaded: unloaded.clone(),
                namespaces: config.namespaces.clone(),
            };
            let inventory = match wanted {
                Some(subject) => Inventory::from_records_for(records, subject, beside),
                None => Inventory::from_records(records, beside),
            };
            match inventory {
                Ok(inventory) => return Ok(inventory),
                Err(given) => {
                    return resolve_and_store(config, given.policies, unloaded, &cache, &entry)
                }
            }
        }
    }
    resolve_and_store(config, policies, unloaded, &cache, &entry)
}

/// [`resolved_inventory`] without an entry: resolved, and the entry written.
fn resolve_and_store(
    config: &mut Config,
    policies: std::sync::Arc<BTreeMap<String, Policy>>,
    unloaded: &BTreeSet<String>,
    cache: &Cache,
    entry: &Path,
) -> Result<Inventory, Vec<FileDiagnostics>> {
    config.load_deferred_inventory().map_err(config_error)?;
    let Some(source) = config.source.clone() else {
        return Inventory::with_unloaded_owned(config, policies, unloaded);
    };
    let resolved = Inventory::with_unloaded_owned(config, policies, unloaded);
    let (errors, records) = match &resolved {
        Ok(inventory) => (Vec::new(), inventory.records()),
        // Every error points into `capable.yaml` (nothing is imported).
        Err(files)
            if files
                .iter()
                .all(|file| std::sync::Arc::ptr_eq(&file.file, &source)) =>
        {
            let errors = files.iter().flat_map(|file| file.diagnostics.clone());
            (errors.collect(), Vec::new())
        }
        Err(_) => return resolved,
    };
    let Ok(mut payload) = serde_json::to_vec(&errors) else {
        return resolved;
    };
    payload.extend_from_slice(&records);
    cache.store_payload(entry, payload);
    resolved
}

/// A config error met while reading the deferred sections, as the inventory's errors.
fn config_error(error: ConfigError) -> Vec<FileDiagnostics> {
    match error {
        ConfigError::Invalid { file, diagnostic } => vec![FileDiagnostics {
            file,
            diagnostics: vec![*diagnostic],
        }],
        ConfigError::Io { path, message } => vec![FileDiagnostics {
            file: std::sync::Arc::new(crate::source::SourceFile::new(path, "")),
            diagnostics: vec![Diagnostic::error("config", Default::default(), message)],
        }],
    }
}
