//! Guards: access no subject may have, declared in `capable.yaml` and checked by `check` on
//! every run (like IAM Access Analyzer's `CheckAccessNotGranted`).
//!
//! ```yaml
//! guards:
//!   - id: nobody-writes-policies
//!     never: { capabilities: [create, update, delete], paths: ["sys/policies/acl/*"] }
//!     except: [userpass/admin]      # subjects allowed to
//! ```
//!
//! The subjects are the inventory's roles, groups and entities, and every policy no subject
//! holds, on its own (every policy when there is no inventory). A subject violates a guard
//! when some path matching one of the guard's patterns holds one of its capabilities: the
//! path's deciding region (see [`crate::query::reach`]) grants the capability, and on a
//! root-protected path also `sudo`. For `list` and `scan` the guarded paths are the LIST
//! requests of the patterns' paths (`secret/metadata/x` guards LIST `secret/metadata/x/`).
//! Each granting region is tested exactly with [`crate::diff::witness::Query`], so a
//! violation comes with a witness path and none is missed.
//!
//! Cost: per subject, one ACL merge and, per guard capability, one overlap test per region
//! granting it plus one witness search per overlapping region: O(S × G × R × k) searches at
//! worst, for S subjects, G guard capabilities, R regions and k regions above each.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::acl::{Acl, RuleSource};
use crate::config::{Config, Guard, RuleLevel};
use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::diff::sudo;
use crate::diff::witness::Query;
use crate::inventory::{Inventory, Subject};
use crate::policy::{Capability, Policy};
use crate::query::lang::{intersects, Domain, Seq};
use crate::query::reach::{grants, Piece, Reach, View};
use crate::source::SourceFile;
use crate::workspace::Workspace;

/// The rule id of a violation.
pub const RULE: &str = "guard-violated";

/// One violation before it becomes a diagnostic.
struct Violation {
    guard: usize,
    subject: Subject,
    capability: Capability,
    witness: String,
    /// The granting block (`None`: the subject is root).
    source: Option<RuleSource>,
}

/// The guarded paths of one view as pieces.
fn guarded(guard: &Guard, view: View) -> Vec<Piece> {
    guard
        .paths
        .iter()
        .flat_map(|pattern| {
            let seq = Seq::of_pattern(pattern);
            match view {
                View::Request => vec![seq],
                View::Listing => vec![seq.clone(), seq.slash()],
            }
        })
        .map(|include| Piece {
            include,
            exclude: Vec::new(),
        })
        .collect()
}

fn hints(guard: &Guard) -> Vec<String> {
    guard
        .paths
        .iter()
        .filter(|pattern| pattern.is_exact())
        .flat_map(|pattern| {
            let path = pattern.normalized.clone();
            [format!("{}/", path.trim_end_matches('/')), path]
        })
        .collect()
}

fn excepted(guard: &Guard, subject: &Subject) -> bool {
    let name = subject.name();
    let bare = match subject {
        Subject::Role(key) => key.rsplit_once('/').map(|(_, bare)| bare.to_string()),
        _ => None,
    };
    guard
        .except
        .iter()
        .any(|(allowed, _)| *allowed == name || bare.as_deref() == Some(allowed.as_str()))
}

/// The first path of the guard where the subject holds `capability`, with the deciding rule.
fn violation(
    reach: &Reach,
    guard: &Guard,
    capability: Capability,
    protected: &[Piece],
) -> Option<(String, usize)> {
    let view = View::for_capability(capability);
    let domain = Domain {
        trailing_slash: view == View::Listing,
    };
    let paths = guarded(guard, view);
    let hints = hints(guard);
    let hint_refs: Vec<&str> = hints.iter().map(String::as_str).collect();
    let regions = &reach.view(view).regions;
    let meets = |a: &[Piece], b: &[Piece]| {
        a.iter()
            .any(|x| b.iter().any(|y| intersects(&x.include, &y.include, domain)))
    };
    for (index, region) in regions.iter().enumerate() {
        let rule = &reach.rules[region.rule];
        if !grants(rule, capability) || !meets(&region.pieces, &paths) {
            continue;
        }
        let mut query = Query::new(domain);
        query.inside.push(&region.pieces);
        query.inside.push(&paths);
        for higher in &regions[..index] {
            if meets(&higher.pieces, &region.pieces) {
                query.outside.push(&higher.pieces);
            }
        }
        if !rule.capabilities.contains(Capability::Sudo) {
            query.outside.push(protected);
        }
        // A search too large to finish is reported as a violation of its own region: a
        // guard must never pass by giving up.
        match query.witness(&hint_refs) {
            Ok(Some(witness)) => return Some((witness, region.rule)),
            Ok(None) => {}
            Err(_) => return Some((region.pattern.clone(), region.rule)),
        }
    }
    None
}

fn subjects(workspace: &Workspace, inventory: Option<&Inventory>) -> Vec<Subject> {
    let Some(inventory) = inventory else {
        return workspace
            .policies
            .keys()
            .map(|name| Subject::Policies(vec![name.clone()]))
            .collect();
    };
    let subjects = inventory.subjects();
    let held: std::collections::BTreeSet<String> = subjects
        .iter()
        .flat_map(|subject| inventory.policies_of(subject))
        .collect();
    let alone = workspace
        .policies
        .keys()
        .filter(|name| !held.contains(*name))
        .map(|name| Subject::Policies(vec![name.clone()]));
    subjects.iter().cloned().chain(alone).collect()
}

fn acl_of(workspace: &Workspace, inventory: Option<&Inventory>, subject: &Subject) -> Option<Acl> {
    match subject {
        Subject::Policies(names) => {
            let held: Vec<&Policy> = names
                .iter()
                .filter_map(|name| workspace.policies.get(name))
                .collect();
            Acl::new(&held, workspace.target, None).ok()
        }
        other => inventory?.acl_for(other, workspace.target).ok(),
    }
}

/// Names in `except` that are no role, group, entity or policy of the workspace.
fn unknown_exceptions(
    config: &Config,
    workspace: &Workspace,
    inventory: Option<&Inventory>,
) -> Vec<Diagnostic> {
    let known = |name: &str| {
        workspace.policies.contains_key(name)
            || inventory.is_some_and(|inventory| {
                inventory.find_role(name).is_ok()
                    || inventory
                        .subjects()
                        .iter()
                        .any(|subject| subject.name() == name)
            })
    };
    config
        .guards
        .iter()
        .flat_map(|guard| {
            guard
                .except
                .iter()
                .filter(|(name, _)| !known(name))
                .map(move |(name, span)| {
                    Diagnostic::error(
                        "unknown-subject",
                        *span,
                        format!("guard `{}` excepts `{name}`, which is no role, group, entity or policy", guard.id),
                        )
                        .with_label("no such subject")
                        .with_help("name a role (`kubernetes/inference-role`), group, entity or policy of this workspace")
                })
        })
        .collect()
}

fn subject_words(subject: &Subject) -> String {
    match subject {
        Subject::Policies(names) if names.len() == 1 => format!("policy `{}` alone", names[0]),
        other => other.to_string(),
    }
}

/// Every guard of the workspace's configuration against every subject.
pub fn check(workspace: &Workspace) -> Vec<FileDiagnostics> {
    let config = &workspace.config;
    if config.guards.is_empty() {
        return Vec::new();
    }
    let severity = match config.rule_level(RULE) {
        Some(RuleLevel::Off) => return Vec::new(),
        Some(RuleLevel::Severity(severity)) => severity,
        None => Severity::Error,
    };
    let inventory = config
        .has_inventory()
        .then(|| Inventory::new(config, &workspace.policies).ok())
        .flatten();
    let protected = sudo::protected_pieces(
        workspace.target,
        &sudo::pki_mounts(&workspace.config.mounts),
    );
    let mut violations = Vec::new();
    for subject in subjects(workspace, inventory.as_ref()) {
        let applicable: Vec<usize> = (0..config.guards.len())
            .filter(|index| !excepted(&config.guards[*index], &subject))
            .collect();
        if applicable.is_empty() {
            continue;
        }
        let Some(acl) = acl_of(workspace, inventory.as_ref(), &subject) else {
            continue;
        };
        let reach = Reach::new(&acl);
        for index in applicable {
            let guard = &config.guards[index];
            for capability in &guard.capabilities {
                let found = if acl.is_root() {
                    let path = guard.paths[0].normalized.clone();
                    Some((path, None))
                } else {
                    violation(&reach, guard, *capability, &protected).map(|(witness, rule)| {
                        let rule = &reach.rules[rule];
                        let source = rule
                            .sources
                            .iter()
                            .find(|source| source.capabilities.contains(*capability))
                            .or(rule.sources.first())
                            .cloned();
                        (witness, source)
                    })
                };
                if let Some((witness, source)) = found {
                    violations.push(Violation {
                        guard: index,
                        subject: subject.clone(),
                        capability: *capability,
                        witness,
                        source,
                    });
                }
            }
        }
    }
    let mut by_file: BTreeMap<String, (Arc<SourceFile>, Vec<Diagnostic>)> = BTreeMap::new();
    for diagnostic in unknown_exceptions(config, workspace, inventory.as_ref()) {
        if let Some(source) = &config.source {
            by_file
                .entry(source.name.clone())
                .or_insert_with(|| (source.clone(), Vec::new()))
                .1
                .push(diagnostic);
        }
    }
    for group in merge(violations) {
        let first = &group[0];
        let guard = &config.guards[first.guard];
        let capabilities: Vec<&str> = group.iter().map(|v| v.capability.name()).collect();
        let guard_at = match &config.source {
            Some(source) => {
                let (line, column) = source.line_col(guard.span.start);
                format!("{}:{line}:{column}", source.name)
            }
            None => "capable.yaml".into(),
        };
        let message = format!(
            "guard `{}`: {} can {} `{}`",
            guard.id,
            subject_words(&first.subject),
            capabilities
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            first.witness
        );
        let help = format!(
            "guard `{}` at {guard_at} forbids this; narrow or deny the guarded paths here, or add the subject to the guard's `except`",
            guard.id
        );
        let (file, span, label) = match &first.source {
            Some(source) => (
                source.file.clone(),
                source.pattern_span,
                format!("grants {}", capabilities.join(", ")),
            ),
            None => match &config.source {
                Some(source) => (
                    source.clone(),
                    guard.span,
                    "the subject holds `root`".into(),
                ),
                None => continue,
            },
        };
        let diagnostic = Diagnostic::new(RULE, severity, span, message)
            .with_label(label)
            .with_help(help);
        by_file
            .entry(file.name.clone())
            .or_insert_with(|| (file.clone(), Vec::new()))
            .1
            .push(diagnostic);
    }
    by_file
        .into_values()
        .map(|(file, mut diagnostics)| {
            diagnostics.sort_by_key(|d| d.span.start);
            FileDiagnostics { file, diagnostics }
        })
        .collect()
}

/// Violations of one guard by one subject through one block, together.
/// Cost: O(v log v).
fn merge(violations: Vec<Violation>) -> Vec<Vec<Violation>> {
    type Key = (usize, Subject, String, usize, usize);
    let mut groups: BTreeMap<Key, Vec<Violation>> = BTreeMap::new();
    for violation in violations {
        let (file, start, end) = violation
            .source
            .as_ref()
            .map(|s| {
                (
                    s.file.name.clone(),
                    s.pattern_span.start,
                    s.pattern_span.end,
                )
            })
            .unwrap_or_default();
        let key = (violation.guard, violation.subject.clone(), file, start, end);
        groups.entry(key).or_default().push(violation);
    }
    groups.into_values().collect()
}
