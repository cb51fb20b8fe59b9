//! `audit replay`: every logged request re-decided under two trees, and the differences.
//!
//! Three decisions per request: the server's (from the log), capable's on the *base* tree (what
//! is deployed: by default the working tree) and capable's on the *proposed* tree (`--against`;
//! by default the base). A request allowed on the base and denied on the proposal is *newly
//! denied* (the change breaks that traffic), the reverse *newly allowed*. A request where the
//! server and the base disagree is a *fidelity warning*: the base tree is not what the server
//! ran. Results are grouped by subject, operation and path with counts and the first and last
//! time seen; only differing requests are kept, so memory grows with the number of differing
//! groups, not with the log. Cost: one pass over the log plus one cached decision per request
//! and tree.

use std::collections::{BTreeSet, HashMap};

use super::decide::{logged_request, Outcome, TreeDecider, Verdict};
use super::entry::{Entry, ServerDecision};
use super::reader::{read_logs, LogSource, ReadError, ReadStats};
use super::subject::{token_label, TokenRoles};
use crate::workspace::Workspace;

/// One group of requests with the same subject, operation, path and pair of verdicts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Group {
    pub subject: String,
    pub operation: String,
    pub path: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// The earlier decision: the base tree's (changes) or the server's (fidelity).
    pub before: Verdict,
    /// The later decision: the proposed tree's (changes) or the base tree's (fidelity).
    pub after: Verdict,
}

/// What a replay found.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ReplayReport {
    pub read: ReadStats,
    /// Response entries re-decided.
    pub replayed: u64,
    /// Logins and other requests the server answers without an ACL decision.
    pub not_checked: u64,
    /// Requests in a namespace other than the root one (not replayed).
    pub in_namespaces: u64,
    /// Requests whose outcome hinges on a value the log holds only as an HMAC.
    pub undecidable: u64,
    pub newly_denied: Vec<Group>,
    pub newly_allowed: Vec<Group>,
    pub fidelity: Vec<Group>,
    /// Policies the log names that a tree does not define, per tree label.
    pub missing_policies: Vec<(String, Vec<String>)>,
    /// ACLs a tree could not build, per tree label.
    pub acl_errors: Vec<(String, Vec<String>)>,
}

impl ReplayReport {
    pub fn requests_in(groups: &[Group]) -> u64 {
        groups.iter().map(|g| g.count).sum()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    NewlyDenied,
    NewlyAllowed,
    Fidelity,
}

#[derive(Default)]
struct Groups {
    by_key: HashMap<(Kind, String, String, String), Group>,
}

impl Groups {
    fn add(
        &mut self,
        kind: Kind,
        subject: &str,
        entry: &Entry<'_>,
        before: &Verdict,
        after: &Verdict,
    ) {
        let operation = entry.operation().unwrap_or_default().to_string();
        let path = entry.path().unwrap_or_default().to_string();
        let time = entry.time.as_deref().unwrap_or_default();
        let key = (kind, subject.to_string(), operation.clone(), path.clone());
        let group = self.by_key.entry(key).or_insert_with(|| Group {
            subject: subject.to_string(),
            operation,
            path,
            count: 0,
            first_seen: time.to_string(),
            last_seen: time.to_string(),
            before: before.clone(),
            after: after.clone(),
        });
        group.count += 1;
        if time < group.first_seen.as_str() {
            group.first_seen = time.to_string();
        }
        if time > group.last_seen.as_str() {
            group.last_seen = time.to_string();
        }
    }

    fn take(&mut self, kind: Kind) -> Vec<Group> {
        let mut found: Vec<Group> = self
            .by_key
            .iter()
            .filter(|(key, _)| key.0 == kind)
            .map(|(_, group)| group.clone())
            .collect();
        found.sort_by(|a, b| {
            (&a.subject, &a.path, &a.operation).cmp(&(&b.subject, &b.path, &b.operation))
        });
        found
    }
}

/// Replays the logs. `proposed` is `None` when only the base tree is checked (fidelity only).
pub fn replay(
    sources: &[LogSource],
    base: (&str, &Workspace),
    proposed: Option<(&str, &Workspace)>,
) -> Result<ReplayReport, String> {
    let mut base_decider = TreeDecider::new(base.1).map_err(|e| format!("{}: {e}", base.0))?;
    let mut proposed_decider = match proposed {
        Some((label, workspace)) => {
            Some(TreeDecider::new(workspace).map_err(|e| format!("{label}: {e}"))?)
        }
        None => None,
    };
    let mut report = ReplayReport::default();
    let mut groups = Groups::default();
    let mut tokens = TokenRoles::default();
    let mut stats = ReadStats::default();
    let result: Result<(), ReadError> = read_logs(sources, &mut stats, |entry, _| {
        tokens.observe(entry);
        if !entry.is_response() {
            return;
        }
        let server = entry.server_decision();
        if server == ServerDecision::NotChecked {
            report.not_checked += 1;
            return;
        }
        if !entry.namespace().is_empty() {
            report.in_namespaces += 1;
            return;
        }
        let Some(request) = logged_request(entry, base_decider.mounts()) else {
            report.not_checked += 1;
            return;
        };
        let subject = subject_label(entry, &base_decider, proposed_decider.as_ref(), &tokens);
        let before = match base_decider.decide(entry, &request, &tokens) {
            Outcome::Decided(verdict) => verdict,
            Outcome::Undecidable(_) => {
                report.undecidable += 1;
                return;
            }
            Outcome::Skipped => {
                report.not_checked += 1;
                return;
            }
        };
        report.replayed += 1;
        let server_verdict = Verdict {
            allowed: server == ServerDecision::Allowed,
            rule: None,
            reason: if server == ServerDecision::Allowed {
                String::new()
            } else {
                "permission denied".into()
            },
        };
        if server_verdict.allowed != before.allowed {
            groups.add(Kind::Fidelity, &subject, entry, &server_verdict, &before);
        }
        let Some(decider) = proposed_decider.as_mut() else {
            return;
        };
        let after = match decider.decide(entry, &request, &tokens) {
            Outcome::Decided(verdict) => verdict,
            Outcome::Undecidable(_) | Outcome::Skipped => return,
        };
        match (before.allowed, after.allowed) {
            (true, false) => groups.add(Kind::NewlyDenied, &subject, entry, &before, &after),
            (false, true) => groups.add(Kind::NewlyAllowed, &subject, entry, &before, &after),
            _ => {}
        }
    });
    result.map_err(|error| error.to_string())?;
    report.read = stats;
    report.newly_denied = groups.take(Kind::NewlyDenied);
    report.newly_allowed = groups.take(Kind::NewlyAllowed);
    report.fidelity = groups.take(Kind::Fidelity);
    let mut trees = vec![(base.0, &base_decider)];
    if let (Some((label, _)), Some(decider)) = (proposed, proposed_decider.as_ref()) {
        trees.push((label, decider));
    }
    for (label, decider) in trees {
        if !decider.missing_policies.is_empty() {
            report.missing_policies.push((
                label.to_string(),
                decider.missing_policies.iter().cloned().collect(),
            ));
        }
        if !decider.acl_errors.is_empty() {
            let errors: BTreeSet<String> = decider.acl_errors.clone();
            report
                .acl_errors
                .push((label.to_string(), errors.into_iter().collect()));
        }
    }
    Ok(report)
}

/// The role the token logged in with (if a tree's inventory knows it), else its display name
/// and policies.
fn subject_label(
    entry: &Entry<'_>,
    base: &TreeDecider<'_>,
    proposed: Option<&TreeDecider<'_>>,
    tokens: &TokenRoles,
) -> String {
    let role = base
        .role_of(entry, tokens)
        .or_else(|| proposed.and_then(|decider| decider.role_of(entry, tokens)));
    match role {
        Some(role) => format!("role `{}`", role.key),
        None => token_label(entry),
    }
}
