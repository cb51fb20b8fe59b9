//! The requests one subject made, gathered from the logs for `suggest` and `usage`: distinct
//! (operation, path) pairs with their counts. Memory grows with the subject's distinct
//! requests, not with the log. Cost: one pass over the log.

use std::collections::{BTreeMap, BTreeSet};

use super::entry::{Entry, ServerDecision};
use super::reader::{read_logs, LogSource, ReadStats};
use super::subject::{RoleKey, TokenRoles};
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
                let granting = entry.granting_policies();
                if granting.is_empty() {
                    return entry.policies().iter().any(|p| p == name);
                }
                granting.contains(&name.as_str())
            }
        }
    }
}

/// One distinct request.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub count: u64,
    pub first: String,
    pub last: String,
    /// The mount the server routed it to (`secret/`), and its type (`kv`).
    pub mount_point: Option<String>,
    pub mount_type: Option<String>,
}

/// What the subject did.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub read: ReadStats,
    /// Requests the server allowed, by (operation, path).
    pub allowed: BTreeMap<(OperationKey, String), Seen>,
    /// Requests of the subject the server denied.
    pub denied: u64,
    /// Requests of the subject without an ACL decision (logins, the `kv` preflight).
    pub not_checked: u64,
    /// Requests of the subject in other namespaces (left out).
    pub in_namespaces: u64,
    /// The policy sets the subject's tokens held, as logged.
    pub policy_sets: BTreeSet<Vec<String>>,
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
        record(&mut observed, entry);
    })
    .map_err(|error| error.to_string())?;
    observed.read = stats;
    Ok(observed)
}

fn record(observed: &mut Observed, entry: &Entry<'_>) {
    let time = entry.time.as_deref().unwrap_or_default().to_string();
    if observed.first.as_ref().is_none_or(|first| &time < first) {
        observed.first = Some(time.clone());
    }
    if observed.last.as_ref().is_none_or(|last| &time > last) {
        observed.last = Some(time.clone());
    }
    let policies = entry.policies();
    if !policies.is_empty() && !observed.policy_sets.contains(&policies) {
        observed.policy_sets.insert(policies);
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
    if !entry.namespace().is_empty() {
        observed.in_namespaces += 1;
        return;
    }
    let path = entry.path().unwrap_or_default();
    if path.starts_with(super::entry::MOUNT_PREFLIGHT) {
        observed.not_checked += 1;
        return;
    }
    let Some(operation) = entry
        .operation()
        .and_then(|op| op.parse::<Operation>().ok())
    else {
        observed.not_checked += 1;
        return;
    };
    if operation.capability().is_none() {
        observed.not_checked += 1;
        return;
    }
    let request = entry.request.as_ref();
    let seen = observed
        .allowed
        .entry((OperationKey(operation), path.to_string()))
        .or_insert_with(|| Seen {
            first: time.clone(),
            last: time.clone(),
            mount_point: request.and_then(|r| r.mount_point.as_deref().map(str::to_string)),
            mount_type: request.and_then(|r| r.mount_type.as_deref().map(str::to_string)),
            ..Seen::default()
        });
    seen.count += 1;
    if time < seen.first {
        seen.first = time.clone();
    }
    if time > seen.last {
        seen.last = time;
    }
}
