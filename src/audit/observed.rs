//! The requests one subject made, gathered from the logs for `suggest` and `usage`: distinct
//! (operation, full path) pairs with their counts; a request in a child namespace is kept by
//! its full path (the namespace, then the logged path, docs/namespaces.md rule 2). Memory grows
//! with the subject's distinct requests, not with the log. Cost: one pass over the log.

use std::collections::{BTreeMap, BTreeSet};

use super::entry::{Entry, ServerDecision};
use super::reader::{read_logs, LogSource, ReadStats};
use super::subject::{token_namespace, RoleKey, TokenRoles};
use crate::acl::Operation;

/// Whose requests to gather.
#[derive(Clone, Debug)]
pub enum Selector {
    /// Tokens from logins with this role.
    Role(RoleKey),
    /// Requests this policy granted (by the server's `granting_policies`; on servers that do
    /// not log them, requests of tokens holding the policy).
    Policy(String),
}

impl Selector {
    pub fn label(&self) -> String {
        match self {
            Selector::Role(role) => format!("role `{}`", role.key),
            Selector::Policy(name) => format!("policy `{name}`"),
        }
    }

    fn matches(&self, entry: &Entry<'_>, tokens: &TokenRoles) -> bool {
        match self {
            Selector::Role(role) => role.matches(entry, tokens),
            Selector::Policy(name) => {
                // Names are qualified with their namespace (`admin/team-a/reader`).
                let granting = entry.granting_policies_in();
                if !granting.is_empty() {
                    return granting
                        .iter()
                        .any(|(namespace, policy)| is_named(name, namespace, policy));
                }
                let Some(namespace) = token_namespace(entry, tokens) else {
                    return false;
                };
                entry
                    .policies()
                    .iter()
                    .any(|policy| is_named(name, &namespace, policy))
            }
        }
    }
}

/// Whether `qualified` names the policy `policy` of `namespace`.
fn is_named(qualified: &str, namespace: &str, policy: &str) -> bool {
    qualified.len() == namespace.len() + policy.len()
        && qualified.starts_with(namespace)
        && qualified.ends_with(policy)
}

/// One distinct request.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub count: u64,
    pub first: String,
    pub last: String,
    /// The mount the server routed it to (its full path: `secret/`, `admin/team-a/secret/`),
    /// and its type (`kv`).
    pub mount_point: Option<String>,
    pub mount_type: Option<String>,
}

/// What the subject did.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub read: ReadStats,
    /// Requests the server allowed, by (operation, full path).
    pub allowed: BTreeMap<(OperationKey, String), Seen>,
    /// Requests of the subject the server denied.
    pub denied: u64,
    /// Requests of the subject without an ACL decision (logins, the `kv` preflight).
    pub not_checked: u64,
    /// Requests of the subject whose namespace the log names only by id (left out).
    pub unknown_namespace: u64,
    /// The policy sets the subject's tokens held, each name qualified with the token's
    /// namespace (`admin/team-a/reader`).
    pub policy_sets: BTreeSet<Vec<String>>,
    /// Requests per namespace the subject's tokens live in (`""` for root).
    pub token_namespaces: BTreeMap<String, u64>,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// An operation that sorts (for stable output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OperationKey(pub Operation);

impl PartialOrd for OperationKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OperationKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.name().cmp(other.0.name())
    }
}

impl Observed {
    /// Requests counted in [`Observed::allowed`].
    pub fn allowed_requests(&self) -> u64 {
        self.allowed.values().map(|seen| seen.count).sum()
    }
}

/// Reads the logs and gathers the subject's requests.
pub fn observe(sources: &[LogSource], selector: &Selector) -> Result<Observed, String> {
    let mut observed = Observed::default();
    let mut tokens = TokenRoles::default();
    let mut stats = ReadStats::default();
    read_logs(sources, &mut stats, |entry, _| {
        tokens.observe(entry);
        if !entry.is_response() || !selector.matches(entry, &tokens) {
            return;
        }
        record(&mut observed, entry, &tokens);
    })
    .map_err(|error| error.to_string())?;
    observed.read = stats;
    Ok(observed)
}

fn record(observed: &mut Observed, entry: &Entry<'_>, tokens: &TokenRoles) {
    let time = entry.time.as_deref().unwrap_or_default();
    if observed.first.as_deref().is_none_or(|first| time < first) {
        observed.first = Some(time.to_string());
    }
    if observed.last.as_deref().is_none_or(|last| time > last) {
        observed.last = Some(time.to_string());
    }
    let Some(namespace) = token_namespace(entry, tokens) else {
        observed.unknown_namespace += 1;
        return;
    };
    note_policies(observed, entry, &namespace);
    match observed.token_namespaces.get_mut(namespace.as_ref()) {
        Some(count) => *count += 1,
        None => {
            observed.token_namespaces.insert(namespace.into_owned(), 1);
        }
    }
    match entry.server_decision() {
        ServerDecision::NotChecked => {
            observed.not_checked += 1;
            return;
        }
        ServerDecision::Denied => {
            observed.denied += 1;
            return;
        }
        ServerDecision::Allowed => {}
    }
    let preflight = entry
        .path()
        .is_some_and(|p| p.starts_with(super::entry::MOUNT_PREFLIGHT));
    let operation = entry
        .operation()
        .and_then(|op| op.parse::<Operation>().ok())
        .filter(|operation| operation.capability().is_some());
    let Some(operation) = operation.filter(|_| !preflight) else {
        observed.not_checked += 1;
        return;
    };
    let Some(path) = entry.full_path() else {
        observed.unknown_namespace += 1;
        return;
    };
    let request = entry.request.as_ref();
    let seen = observed
        .allowed
        .entry((OperationKey(operation), path))
        .or_insert_with(|| Seen {
            first: time.to_string(),
            last: time.to_string(),
            mount_point: request.and_then(|r| r.mount_point.as_deref().map(str::to_string)),
            mount_type: request.and_then(|r| r.mount_type.as_deref().map(str::to_string)),
            ..Seen::default()
        });
    seen.count += 1;
    if time < seen.first.as_str() {
        seen.first = time.to_string();
    }
    if time > seen.last.as_str() {
        seen.last = time.to_string();
    }
}

/// Remembers the token's policy set, each name qualified with the token's namespace.
fn note_policies(observed: &mut Observed, entry: &Entry<'_>, namespace: &str) {
    let policies: Vec<String> = entry
        .policies()
        .into_iter()
        .map(|name| format!("{namespace}{name}"))
        .collect();
    if !policies.is_empty() && !observed.policy_sets.contains(&policies) {
        observed.policy_sets.insert(policies);
    }
}
