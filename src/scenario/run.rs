//! Running scenarios against a subject's ACL.

use std::sync::Arc;

use super::model::{
    ApiOperation, Because, Expectation, Invalid, Scenario, ScenarioFile, ScenarioRequest,
};
use super::vault_cli::{ApiCall, Translation};
use crate::acl::{Acl, Decision, DenyReason, MergedRule, Operation, Request};
use crate::diag::Diagnostic;
use crate::inventory::{Inventory, InventoryError};
use crate::policy::{CapSet, Capability};
use crate::source::SourceFile;
use crate::target::Target;

/// What one request of a scenario got.
#[derive(Clone, Debug)]
pub struct CallResult {
    /// `preflight`, `request` or `fallback`.
    pub stage: &'static str,
    /// `GET secret/data/x (read)`.
    pub label: String,
    pub allowed: bool,
    /// `None` for the preflight (decided by mount visibility, not by one rule).
    pub decision: Option<Decision>,
}

/// The result of one scenario.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub scenario: Scenario,
    pub passed: bool,
    /// `allow`, `deny` or the capability list.
    pub actual: String,
    /// Why it failed, in one line.
    pub failure: Option<String>,
    pub calls: Vec<CallResult>,
    /// The rule that decided (for `because`): its policies and pattern.
    pub decided_by: Option<(Vec<String>, String)>,
    /// Where the request was made (`""`: root).
    pub namespace: String,
    /// How long deciding it took (JUnit's `time`).
    pub time: std::time::Duration,
}

/// The results of one file.
#[derive(Clone, Debug)]
pub struct FileOutcome {
    pub file: Arc<SourceFile>,
    pub outcomes: Vec<Outcome>,
    /// The scenarios that could not run (bad keys or values, an unknown subject), or the
    /// whole file: each counts as a failed scenario.
    pub invalid: Vec<Invalid>,
}

impl FileOutcome {
    /// Failed scenarios, the invalid ones included.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed).count() + self.invalid.len()
    }

    /// The scenarios that ran and the invalid ones, in file order.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut entries: Vec<Entry<'_>> = self
            .outcomes
            .iter()
            .map(Entry::Ran)
            .chain(self.invalid.iter().map(Entry::Invalid))
            .collect();
        entries.sort_by_key(|entry| match entry {
            Entry::Ran(outcome) => outcome.scenario.span.start,
            Entry::Invalid(invalid) => invalid.span.start,
        });
        entries
    }
}

/// One scenario of a file's results.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    Ran(&'a Outcome),
    Invalid(&'a Invalid),
}

/// Runs every scenario of a file. A scenario naming an unknown role, entity, group or policy
/// cannot run: it is reported as invalid (a failed scenario with its span), and the others
/// still run.
pub fn run_file(file: &ScenarioFile, inventory: &Inventory, target: Target) -> FileOutcome {
    let mut outcomes = Vec::new();
    let mut invalid = file.invalid.clone();
    for scenario in &file.scenarios {
        let started = std::time::Instant::now();
        match run_scenario(scenario, inventory, target) {
            Ok(mut outcome) => {
                outcome.time = started.elapsed();
                outcomes.push(outcome);
            }
            Err(error) => invalid.push(Invalid {
                name: Some(scenario.name.clone()),
                span: scenario.span,
                diagnostics: vec![error],
            }),
        }
    }
    invalid.sort_by_key(|entry| entry.span.start);
    FileOutcome {
        file: file.file.clone(),
        outcomes,
        invalid,
    }
}

fn subject_error(scenario: &Scenario, error: InventoryError) -> Diagnostic {
    let help = match &error {
        InventoryError::UnknownRole(_) | InventoryError::AmbiguousRole(..) => {
            "roles are declared under `roles:` in capable.yaml as `<auth mount>/<role>`"
        }
        InventoryError::UnknownEntity(_) => {
            "entities are declared under `entities:` in capable.yaml"
        }
        InventoryError::UnknownGroup(_) => "groups are declared under `groups:` in capable.yaml",
        InventoryError::UnknownPolicy(_) => {
            "policies are named after their file stem in the policy tree"
        }
        InventoryError::RefusedPolicy(_) => "fix the policy file's errors first",
        InventoryError::Acl(_) => "`root` must be the only policy of a token",
    };
    Diagnostic::error("invalid-scenario", scenario.subject_span, error.to_string()).with_help(help)
}

/// Runs one scenario.
pub fn run_scenario(
    scenario: &Scenario,
    inventory: &Inventory,
    target: Target,
) -> Result<Outcome, Diagnostic> {
    let acl = inventory
        .acl_for(&scenario.subject, target)
        .map_err(|e| subject_error(scenario, e))?;
    let namespace = scenario
        .namespace
        .clone()
        .unwrap_or_else(|| inventory.namespace_of(&scenario.subject));
    let full = |path: &str| crate::namespace::join(&namespace, path);
    let mut outcome = Outcome {
        scenario: scenario.clone(),
        passed: false,
        actual: String::new(),
        failure: None,
        calls: Vec::new(),
        decided_by: None,
        namespace: namespace.clone(),
        time: std::time::Duration::ZERO,
    };
    match &scenario.request {
        ScenarioRequest::Capabilities { path } => {
            let (names, _) = acl.capabilities(&full(path));
            let mut actual: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            actual.sort();
            outcome.actual = format!("[{}]", actual.join(", "));
            let Expectation::Capabilities(expected) = &scenario.expect else {
                return Ok(outcome);
            };
            outcome.passed = &actual == expected;
            if !outcome.passed {
                outcome.failure = Some(format!(
                    "expected capabilities {} at `{path}`, got {}",
                    scenario.expect.describe(),
                    outcome.actual
                ));
            }
            let (_, mut explanation) = acl.capabilities(&full(path));
            // A capability query has no operation, so no deny reason applies.
            explanation.deny_reason = None;
            let capabilities = explanation
                .winner
                .as_ref()
                .map_or(CapSet::EMPTY, |rule| rule.capabilities);
            outcome.calls.push(CallResult {
                stage: "caps",
                label: format!("sys/capabilities {path}"),
                allowed: actual != ["deny"],
                decision: Some(Decision {
                    allowed: actual != ["deny"],
                    capabilities,
                    root_privs: capabilities.contains(Capability::Sudo),
                    explanation,
                }),
            });
            return Ok(outcome);
        }
        ScenarioRequest::Api {
            operation,
            path,
            data,
            wrap_ttl,
            existing,
        } => {
            let mut call = match operation {
                ApiOperation::Write => ApiCall {
                    method: "POST",
                    request: Request::new(Operation::Update, full(path)),
                    create_or_update: true,
                    needs_sudo: false,
                },
                ApiOperation::Op(op) => ApiCall {
                    method: method_of(*op),
                    request: Request::new(*op, full(&listing_path(*op, path))),
                    create_or_update: false,
                    needs_sudo: false,
                },
            };
            call.request.data = data.clone();
            call.request.wrap_ttl = *wrap_ttl;
            let translation = Translation {
                preflight: None,
                calls: vec![call],
                fallback: Vec::new(),
            };
            evaluate(&acl, &translation, *existing, &mut outcome);
        }
        ScenarioRequest::Command {
            translation,
            existing,
            ..
        } if namespace.is_empty() => evaluate(&acl, translation, *existing, &mut outcome),
        ScenarioRequest::Command {
            translation,
            existing,
            ..
        } => {
            let translation = in_namespace(translation, &namespace);
            evaluate(&acl, &translation, *existing, &mut outcome)
        }
    }
    judge(&mut outcome);
    Ok(outcome)
}

/// A command's requests as made in `namespace` (`-namespace` / `VAULT_NAMESPACE`): every path,
/// and the preflight's mount, behind the namespace path.
fn in_namespace(translation: &Translation, namespace: &str) -> Translation {
    let prefix = |calls: &[ApiCall]| -> Vec<ApiCall> {
        calls
            .iter()
            .map(|call| {
                let mut call = call.clone();
                call.request.path = crate::namespace::join(namespace, &call.request.path);
                call
            })
            .collect()
    };
    Translation {
        preflight: translation.preflight.as_ref().map(|preflight| {
            let mut preflight = preflight.clone();
            preflight.path = crate::namespace::join(namespace, &preflight.path);
            preflight.mount = crate::namespace::join(namespace, &preflight.mount);
            preflight
        }),
        calls: prefix(&translation.calls),
        fallback: prefix(&translation.fallback),
    }
}

/// List and scan requests carry the trailing `/` the HTTP layer adds (spec 3.1).
fn listing_path(operation: Operation, path: &str) -> String {
    if operation.is_listing() && !path.ends_with('/') {
        return format!("{path}/");
    }
    path.to_string()
}

fn method_of(operation: Operation) -> &'static str {
    match operation {
        Operation::Read => "GET",
        Operation::List => "LIST",
        Operation::Scan => "SCAN",
        Operation::Patch => "PATCH",
        Operation::Delete => "DELETE",
        _ => "POST",
    }
}

/// The concrete requests of one call: a create-or-update write becomes `create` (new
/// resource), `update` (existing) or both when `existing` is not given.
fn concrete(call: &ApiCall, existing: Option<bool>) -> Vec<(String, Request)> {
    if !call.create_or_update {
        return vec![(call.to_string(), call.request.clone())];
    }
    let operations = match existing {
        Some(true) => vec![Operation::Update],
        Some(false) => vec![Operation::Create],
        None => vec![Operation::Create, Operation::Update],
    };
    operations
        .into_iter()
        .map(|operation| {
            let request = Request {
                operation,
                ..call.request.clone()
            };
            let label = format!("{} {} ({})", call.method, request.path, operation.name());
            (label, request)
        })
        .collect()
}

/// Decides every request of a translation: preflight, then the calls, then (when some call
/// is denied) the fallback. Sets `actual` and the calls.
fn evaluate(acl: &Acl, translation: &Translation, existing: Option<bool>, outcome: &mut Outcome) {
    let (allowed, calls) = decide_translation(acl, translation, existing);
    outcome.actual = if allowed { "allow" } else { "deny" }.into();
    outcome.calls.extend(calls);
}

/// Whether a command's requests are allowed, with each request's result: the preflight must
/// pass, then all `calls`, or (when some is denied and there is one) all of the fallback.
/// `existing` decides create vs update for writes with an existence check (`None`: both
/// must be allowed).
pub fn decide_translation(
    acl: &Acl,
    translation: &Translation,
    existing: Option<bool>,
) -> (bool, Vec<CallResult>) {
    let mut results = Vec::new();
    if let Some(preflight) = &translation.preflight {
        let visible = mount_visible(acl, &preflight.mount);
        results.push(CallResult {
            stage: "preflight",
            label: format!(
                "GET {} (mount `{}` visible)",
                preflight.path, preflight.mount
            ),
            allowed: visible,
            decision: None,
        });
        if !visible {
            return (false, results);
        }
    }
    let main = run_calls(acl, &translation.calls, existing, "request");
    let main_allowed = main.iter().all(|c| c.allowed);
    results.extend(main);
    if main_allowed || translation.fallback.is_empty() {
        return (main_allowed, results);
    }
    let fallback = run_calls(acl, &translation.fallback, existing, "fallback");
    let fallback_allowed = fallback.iter().all(|c| c.allowed);
    results.extend(fallback);
    (fallback_allowed, results)
}

fn run_calls(
    acl: &Acl,
    calls: &[ApiCall],
    existing: Option<bool>,
    stage: &'static str,
) -> Vec<CallResult> {
    calls
        .iter()
        .flat_map(|call| {
            concrete(call, existing)
                .into_iter()
                .map(move |(label, request)| (call.needs_sudo, label, request))
        })
        .map(|(needs_sudo, label, request)| {
            let decision = acl.authorize(&request);
            // The backend's own root-or-sudo demand: the winning rule must hold `sudo`.
            let allowed = decision.allowed && (!needs_sudo || decision.root_privs);
            CallResult {
                stage,
                label,
                allowed,
                decision: Some(decision),
            }
        })
        .collect()
}

/// The call whose rule decided: the first denied call of the path taken, else the last call.
fn decisive(outcome: &Outcome) -> Option<&CallResult> {
    let taken: Vec<&CallResult> = match outcome.calls.iter().any(|c| c.stage == "fallback") {
        true if outcome.actual == "allow" => outcome
            .calls
            .iter()
            .filter(|c| c.stage != "request")
            .collect(),
        _ => outcome.calls.iter().collect(),
    };
    taken
        .iter()
        .find(|c| !c.allowed)
        .or_else(|| taken.last())
        .copied()
}

fn judge(outcome: &mut Outcome) {
    let expected = outcome.scenario.expect.describe();
    let decided_by = decisive(outcome).and_then(|call| {
        let decision = call.decision.as_ref()?;
        let winner = decision.explanation.winner.as_ref()?;
        Some((
            deciding_policies(winner, decision),
            winner.pattern.normalized.clone(),
        ))
    });
    outcome.decided_by = decided_by;
    if outcome.actual != expected {
        let first_denied = outcome.calls.iter().find(|c| !c.allowed);
        let detail = match (outcome.actual.as_str(), first_denied) {
            ("deny", Some(call)) => format!(": `{}` was denied", call.label),
            _ => String::new(),
        };
        outcome.failure = Some(format!(
            "expected {expected}, got {}{detail}",
            outcome.actual
        ));
        return;
    }
    if let Some(because) = outcome.scenario.because.clone() {
        if let Some(message) = because_mismatch(&because, outcome) {
            outcome.failure = Some(message);
            return;
        }
    }
    outcome.passed = true;
}

/// The policies that decided with the winning rule: those granting the needed capability
/// when allowed, those with `deny` on an explicit deny, else every contributing policy.
fn deciding_policies(rule: &MergedRule, decision: &Decision) -> Vec<String> {
    let needed = decision
        .explanation
        .deny_reason
        .is_none()
        .then(|| needed_capability(decision))
        .flatten();
    if let Some(capability) = needed {
        if let Some((_, policies)) = rule
            .granting_policies()
            .iter()
            .find(|(c, _)| *c == capability)
        {
            return policies.clone();
        }
    }
    if decision.explanation.deny_reason == Some(DenyReason::ExplicitDeny) {
        let deniers: Vec<String> = rule
            .sources
            .iter()
            .filter(|s| s.capabilities.is_deny())
            .map(|s| s.policy.to_string())
            .collect();
        if !deniers.is_empty() {
            return deniers;
        }
    }
    let mut all: Vec<String> = rule.sources.iter().map(|s| s.policy.to_string()).collect();
    all.dedup();
    all
}

/// The capability the decided request needed (from the rule's granting map when allowed).
fn needed_capability(decision: &Decision) -> Option<Capability> {
    let winner = decision.explanation.winner.as_ref()?;
    // An allowed decision means the operation's capability is among the winner's; the ACL
    // does not return the operation, so pick the granted capability that the rule holds.
    winner
        .granting_policies()
        .iter()
        .map(|(c, _)| *c)
        .find(|c| decision.capabilities.contains(*c) && *c != Capability::Deny)
}

fn because_mismatch(because: &Because, outcome: &Outcome) -> Option<String> {
    let Some((policies, pattern)) = &outcome.decided_by else {
        if decisive(outcome).is_some_and(|call| call.stage == "preflight") {
            return Some(format!(
                "expected the decision because of `{}` in policy `{}`, but the kv preflight denied: the token cannot see the mount",
                because.path, because.policy
            ));
        }
        return Some(format!(
            "expected the decision because of `{}` in policy `{}`, but no rule decided (no rule matches)",
            because.path, because.policy
        ));
    };
    let decisive = decisive(outcome)?;
    let winner = decisive.decision.as_ref()?.explanation.winner.as_ref()?;
    let pattern_matches = because.path.trim_start_matches('/') == pattern
        || winner
            .sources
            .iter()
            .any(|s| s.raw_pattern == because.path && *s.policy == because.policy);
    if pattern_matches && policies.contains(&because.policy) {
        return None;
    }
    Some(format!(
        "right decision, wrong reason: expected `{}` in policy `{}`, decided by `{}` in {}",
        because.path,
        because.policy,
        pattern,
        policies
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Whether `GET sys/internal/ui/mounts/<mount>` succeeds: `hasMountAccess` (spec 3.5), as the
/// ACL answers it (target-aware, walks only the rules under the mount).
pub fn mount_visible(acl: &Acl, mount: &str) -> bool {
    acl.has_mount_access(mount)
}
