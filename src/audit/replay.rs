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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::decide::{logged_request, Outcome, TreeDecider, Verdict};
use super::entry::{Entry, ServerDecision};
use super::reader::{read_logs, LogSource, ReadError, ReadStats};
use super::subject::{write_token_label, TokenRoles};
use crate::workspace::Workspace;

/// One group of requests with the same subject, operation, namespace, path and pair of
/// verdicts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Group {
    pub subject: String,
    pub operation: String,
    /// The request's namespace (`""` for the root namespace); `path` is relative to it.
    pub namespace: String,
    pub path: String,
    /// The API endpoint the path is, from the endpoint catalog (mount kinds from the base
    /// tree's `mounts:`).
    pub endpoint: Option<crate::endpoints::Named>,
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
    /// Replayed requests per namespace other than the root one.
    pub by_namespace: BTreeMap<String, u64>,
    /// Namespaces of the log that `capable.yaml` does not declare (their policies cannot be
    /// in the tree).
    pub undeclared_namespaces: Vec<String>,
    /// Logins and other requests the server answers without an ACL decision.
    pub not_checked: u64,
    /// Requests whose namespace the log names only by id (not replayed).
    pub unknown_namespace: u64,
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

/// The groups found so far. Adding to an existing group costs hash lookups and no
/// allocation: subjects are interned, groups are found by borrowed path.
struct Groups<'m> {
    mounts: crate::endpoints::MountMap<'m>,
    subjects: HashMap<String, u32>,
    labels: Vec<String>,
    /// (kind, subject) → path → the groups at that path (one per operation and namespace).
    by_key: HashMap<(Kind, u32), HashMap<Box<str>, Vec<Group>>>,
}

impl<'m> Groups<'m> {
    fn new(mounts: crate::endpoints::MountMap<'m>) -> Groups<'m> {
        Groups {
            mounts,
            subjects: HashMap::new(),
            labels: Vec::new(),
            by_key: HashMap::new(),
        }
    }

    fn subject_id(&mut self, label: &str) -> u32 {
        if let Some(&id) = self.subjects.get(label) {
            return id;
        }
        let id = self.labels.len() as u32;
        self.labels.push(label.to_string());
        self.subjects.insert(label.to_string(), id);
        id
    }

    fn add(
        &mut self,
        kind: Kind,
        subject: &str,
        entry: &Entry<'_>,
        namespace: &str,
        before: &Verdict,
        after: &Verdict,
    ) {
        let subject = self.subject_id(subject);
        let operation = entry.operation().unwrap_or_default();
        let path = entry.path().unwrap_or_default();
        let time = entry.time.as_deref().unwrap_or_default();
        let at_path = self.by_key.entry((kind, subject)).or_default();
        if !at_path.contains_key(path) {
            at_path.insert(path.into(), Vec::new());
        }
        let groups = at_path.get_mut(path).expect("inserted above");
        let found = groups
            .iter_mut()
            .find(|g| g.operation == operation && g.namespace == namespace);
        let group = match found {
            Some(group) => group,
            None => {
                groups.push(Group {
                    subject: self.labels[subject as usize].clone(),
                    operation: operation.to_string(),
                    namespace: namespace.to_string(),
                    path: path.to_string(),
                    endpoint: crate::endpoints::name_of(&self.mounts, path),
                    count: 0,
                    first_seen: time.to_string(),
                    last_seen: time.to_string(),
                    before: before.clone(),
                    after: after.clone(),
                });
                groups.last_mut().expect("pushed above")
            }
        };
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
            .flat_map(|(_, at_path)| at_path.values().flatten().cloned())
            .collect();
        found.sort_by(|a, b| {
            (&a.subject, &a.namespace, &a.path, &a.operation).cmp(&(
                &b.subject,
                &b.namespace,
                &b.path,
                &b.operation,
            ))
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
    let no_patterns: [&crate::policy::PathPattern; 0] = [];
    let mounts = crate::endpoints::MountMap::from_patterns(
        base.1.target,
        &base.1.config.mounts,
        no_patterns,
    );
    let mut groups = Groups::new(mounts);
    let mut tokens = TokenRoles::default();
    let mut stats = ReadStats::default();
    let mut label = String::new();
    let mut undeclared: BTreeSet<String> = BTreeSet::new();
    let server_allowed = Verdict {
        allowed: true,
        rule: None,
        reason: String::new(),
    };
    let server_denied = Verdict {
        allowed: false,
        rule: None,
        reason: "permission denied".into(),
    };
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
        let Some(request) = logged_request(entry) else {
            if entry.namespace().is_none() {
                report.unknown_namespace += 1;
            } else {
                report.not_checked += 1;
            }
            return;
        };
        let before_id = base_decider.decide(entry, &request, &tokens);
        let before = match base_decider.outcome(before_id) {
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
        let namespace = request.namespace.as_ref();
        if !namespace.is_empty() {
            count_namespace(&mut report.by_namespace, namespace);
            if !base_decider.namespaces().contains(namespace) && !undeclared.contains(namespace) {
                undeclared.insert(namespace.to_string());
            }
        }
        let server_verdict = if server == ServerDecision::Allowed {
            &server_allowed
        } else {
            &server_denied
        };
        let fidelity = server_verdict.allowed != before.allowed;
        let after_id = proposed_decider
            .as_mut()
            .map(|decider| decider.decide(entry, &request, &tokens));
        let after = match (&proposed_decider, after_id) {
            (Some(decider), Some(id)) => match decider.outcome(id) {
                Outcome::Decided(verdict) => Some(verdict),
                Outcome::Undecidable(_) | Outcome::Skipped => None,
            },
            _ => None,
        };
        let change = match after.map(|after| (before.allowed, after.allowed, after)) {
            Some((true, false, after)) => Some((Kind::NewlyDenied, after)),
            Some((false, true, after)) => Some((Kind::NewlyAllowed, after)),
            _ => None,
        };
        if !fidelity && change.is_none() {
            return;
        }
        label.clear();
        write_subject_label(
            &mut label,
            entry,
            &base_decider,
            proposed_decider.as_ref(),
            &tokens,
        );
        if fidelity {
            groups.add(
                Kind::Fidelity,
                &label,
                entry,
                namespace,
                server_verdict,
                before,
            );
        }
        if let Some((kind, after)) = change {
            groups.add(kind, &label, entry, namespace, before, after);
        }
    });
    result.map_err(|error| error.to_string())?;
    report.read = stats;
    report.undeclared_namespaces = undeclared.into_iter().collect();
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

fn count_namespace(counts: &mut BTreeMap<String, u64>, namespace: &str) {
    match counts.get_mut(namespace) {
        Some(count) => *count += 1,
        None => {
            counts.insert(namespace.to_string(), 1);
        }
    }
}

/// The role the token logged in with (if a tree's inventory knows it), else its display name
/// and policies, written into `out`.
fn write_subject_label(
    out: &mut String,
    entry: &Entry<'_>,
    base: &TreeDecider<'_>,
    proposed: Option<&TreeDecider<'_>>,
    tokens: &TokenRoles,
) {
    let role = base
        .role_of(entry, tokens)
        .or_else(|| proposed.and_then(|decider| decider.role_of(entry, tokens)));
    match role {
        Some(role) => {
            out.push_str("role `");
            out.push_str(&role.key);
            out.push('`');
        }
        None => write_token_label(out, entry),
    }
}
