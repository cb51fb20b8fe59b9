//! `explain`: one decision rendered for a person (human) or a program (JSON).
//!
//! The human form: an ALLOWED/DENIED headline; the deciding rule shown in each source block
//! that merged into it (a miette frame labelled at the pattern); the policies that granted
//! the needed capability after merging; the rules that also matched and lost, each with the
//! priority step that beat it in words; the checks made after the rule was chosen (sudo,
//! parameters, response wrapping) with their outcome; the reason for a deny.

use serde_json::{json, Value};

use crate::acl::{
    Candidate, Decision, DenyReason, LookupStep, MergedRule, PriorityStep, Request, RuleSource,
};
use crate::inventory::Subject;
use crate::policy::{CapSet, Capability, PatternKind};
use crate::target::Target;

/// JSON output version.
pub const JSON_VERSION: u32 = 1;

/// Everything an explanation shows.
pub struct Explained<'a> {
    pub subject: &'a Subject,
    pub policies: &'a [String],
    pub target: Target,
    /// The command the request came from (`vault kv get ...`), if any.
    pub command: Option<String>,
    /// The API call of that command this decision is about (`GET secret/data/ai/openai`).
    pub api_call: Option<String>,
    pub request: &'a Request,
    pub decision: &'a Decision,
    /// Where the request is made (`""`: root); `request.path` is relative to it.
    pub namespace: &'a str,
    /// The API endpoint the path is, when the endpoint catalog knows it.
    pub endpoint: Option<crate::endpoints::Named>,
}

/// The deny reason in words.
pub fn deny_reason_words(reason: &DenyReason) -> String {
    match reason {
        DenyReason::NoPolicies => "the token holds no policies".into(),
        DenyReason::NoMatchingRule => "no rule matches the path".into(),
        DenyReason::ExplicitDeny => "the deciding rule is `deny`".into(),
        DenyReason::MissingCapability(capability) => {
            format!("the deciding rule does not grant `{capability}`")
        }
        DenyReason::SudoRequired => {
            "the path is root-protected and the deciding rule lacks `sudo`".into()
        }
        DenyReason::WrappingRequired { min, max, requested } => {
            let asked = match requested {
                Some(ttl) => format!("the request asked for a wrapping ttl of {ttl}s"),
                None => "the request did not ask for response wrapping".into(),
            };
            format!("response wrapping is required ({}); {asked}", ttl_bounds(*min, *max))
        }
        DenyReason::WrappingTtlConflict { min, max } => format!(
            "the merged rule's min_wrapping_ttl ({min}s) exceeds its max_wrapping_ttl ({max}s), so every request is denied"
        ),
        DenyReason::MissingRequiredParameter(name) => {
            format!("the required parameter `{name}` is missing")
        }
        DenyReason::DeniedParameter(name) => format!("the parameter `{name}` is denied"),
        DenyReason::ParameterNotAllowed(name) => {
            format!("the parameter `{name}` or its value is not allowed by `allowed_parameters`")
        }
        DenyReason::Other(text) => text.clone(),
    }
}

fn ttl_bounds(min: i64, max: i64) -> String {
    match (min > 0, max > 0) {
        (true, true) => format!("ttl between {min}s and {max}s"),
        (true, false) => format!("ttl at least {min}s"),
        (false, true) => format!("ttl at most {max}s"),
        (false, false) => "any ttl".into(),
    }
}

/// Why `winner` beat `loser`, in words.
pub fn priority_words(step: PriorityStep, winner: &MergedRule, loser: &MergedRule) -> String {
    let (w, l) = (&winner.pattern.normalized, &loser.pattern.normalized);
    match step {
        PriorityStep::ExactMatch => "an exact match beats every glob and `+` rule".into(),
        PriorityStep::LaterWildcard => format!(
            "the first wildcard of `{w}` comes later (character {}) than that of `{l}` (character {})",
            first_wildcard(winner),
            first_wildcard(loser)
        ),
        PriorityStep::NotPrefix => format!("`{w}` has no trailing `*`, so it beats the glob `{l}`"),
        PriorityStep::FewerPlus => format!("`{w}` has fewer `+` segments than `{l}`"),
        PriorityStep::Longer => format!("`{w}` is longer than `{l}`"),
        PriorityStep::Lexicographic => {
            format!("`{w}` sorts after `{l}` (the last tie-breaker of the priority order)")
        }
        PriorityStep::ShorterPrefix => format!(
            "`{w}` is a longer prefix than `{l}`; only the longest matching prefix rule is considered"
        ),
        PriorityStep::ListResolver => format!(
            "for LIST, Vault prefers the most specific rule holding `deny` or `list`: `{w}` over `{l}`"
        ),
        PriorityStep::FullPathFirst => format!(
            "OpenBao looks LIST up on the full path (with its `/`) before the trimmed path: `{w}` matched first"
        ),
    }
}

/// Spec 3.4's `firstWCOrGlob`, 1-based for people.
fn first_wildcard(rule: &MergedRule) -> usize {
    let pattern = &rule.pattern;
    let position = match pattern.kind {
        PatternKind::Prefix => pattern.key().len(),
        PatternKind::SegmentWildcard => pattern.normalized.find('+').unwrap_or(0),
        PatternKind::Exact => pattern.normalized.len(),
    };
    position + 1
}

fn kind_words(rule: &MergedRule) -> &'static str {
    match rule.pattern.kind {
        PatternKind::Exact => "exact",
        PatternKind::Prefix => "glob",
        PatternKind::SegmentWildcard => "segment wildcard",
    }
}

fn step_words(step: LookupStep) -> &'static str {
    match step {
        LookupStep::Exact => "exact match on the path",
        LookupStep::ExactTrimmed => {
            "exact match on the path without its trailing `/` (LIST fallback)"
        }
        LookupStep::NonExact => "best glob or `+` rule for the path",
        LookupStep::NonExactTrimmed => {
            "best glob or `+` rule for the path without its trailing `/` (LIST fallback)"
        }
        LookupStep::ListPool => "Vault's LIST resolver over the path with and without its `/`",
    }
}

fn caps_words(capabilities: CapSet) -> String {
    let names: Vec<&str> = capabilities.iter().map(Capability::name).collect();
    if names.is_empty() {
        return "no capabilities".into();
    }
    names.join(", ")
}

fn source_location(source: &RuleSource) -> String {
    let (line, column) = source.line_col();
    format!("{}:{line}:{column}", source.file.name)
}

/// A miette frame of one source block with a label at its pattern; a long line is shown as
/// a window around the label, as every frame is (see [`crate::report::human`]).
fn frame(source: &RuleSource, title: &str, label: &str) -> String {
    crate::report::human::render_advice(&source.file, source.pattern_span, title, label)
}

/// The human rendering.
pub fn render_human(input: &Explained<'_>) -> String {
    let decision = input.decision;
    let explanation = &decision.explanation;
    let mut out = String::new();
    let verdict = if decision.allowed {
        "ALLOWED"
    } else {
        "DENIED"
    };
    match input.namespace {
        "" => out.push_str(&format!(
            "{verdict}: {} `{}`\n",
            input.request.operation, explanation.path
        )),
        namespace => out.push_str(&format!(
            "{verdict}: {} `{}` in namespace `{namespace}` (full path `{}`)\n",
            input.request.operation, input.request.path, explanation.path
        )),
    }
    if let Some(endpoint) = &input.endpoint {
        out.push_str(&format!("  endpoint: {}\n", endpoint.words()));
    }
    if let Some(command) = &input.command {
        let call = input.api_call.as_deref().unwrap_or("");
        out.push_str(&format!("  request made by `{command}`: {call}\n"));
    }
    out.push_str(&format!(
        "  subject: {} (target {})\n",
        subject_words(input.subject, input.policies),
        input.target
    ));
    if explanation.root {
        out.push_str("\nthe token holds the `root` policy: every request is allowed\n");
        return out;
    }
    match &explanation.winner {
        Some(winner) => render_winner(&mut out, input, winner),
        None => out.push_str("\nno rule of these policies matches the path\n"),
    }
    render_losers(&mut out, explanation.winner.as_ref(), &explanation.losers);
    render_checks(&mut out, input);
    if let Some(reason) = &explanation.deny_reason {
        out.push_str(&format!("\ndenied because {}\n", deny_reason_words(reason)));
    }
    out
}

/// `role `r` holding policies `a`, `b``, or `a token holding policies ...` for a policy list.
pub fn subject_words(subject: &Subject, policies: &[String]) -> String {
    match subject {
        Subject::Policies(_) => format!("a token holding {}", list_words(policies)),
        other => format!("{other} holding {}", list_words(policies)),
    }
}

fn list_words(names: &[String]) -> String {
    if names.is_empty() {
        return "no policies".into();
    }
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    format!("policies {}", quoted.join(", "))
}

fn render_winner(out: &mut String, input: &Explained<'_>, winner: &MergedRule) {
    let explanation = &input.decision.explanation;
    let how = explanation.step.map(step_words).unwrap_or("deciding rule");
    out.push_str(&format!(
        "\ndeciding rule: `{}` ({} rule, {how}) grants [{}]\n",
        winner.pattern.normalized,
        kind_words(winner),
        caps_words(winner.capabilities)
    ));
    let needed = input.request.operation.capability();
    if let Some(capability) = needed {
        let granting = granting_policies(winner, capability);
        if !granting.is_empty() {
            out.push_str(&format!(
                "  `{capability}` granted by {}\n",
                list_words(&granting)
            ));
        }
    }
    if winner.capabilities.is_deny() {
        out.push_str(
            "  `deny` on the same pattern in any policy overrides every grant merged into it\n",
        );
    }
    out.push_str(&format!(
        "  merged from {} block(s):\n",
        winner.sources.len()
    ));
    for source in &winner.sources {
        let title = format!(
            "policy `{}` contributes [{}]",
            source.policy,
            caps_words(source.capabilities)
        );
        let label = format!("decides `{}`", explanation.path);
        out.push_str(&frame(source, &title, &label));
    }
}

fn granting_policies(rule: &MergedRule, capability: Capability) -> Vec<String> {
    rule.granting_policies()
        .iter()
        .find(|(granted, _)| *granted == capability)
        .map(|(_, policies)| policies.clone())
        .unwrap_or_default()
}

fn render_losers(out: &mut String, winner: Option<&MergedRule>, losers: &[Candidate]) {
    if losers.is_empty() {
        return;
    }
    out.push_str("\nother matching rules, which lost:\n");
    for loser in losers {
        let policies: Vec<String> = loser
            .rule
            .sources
            .iter()
            .map(|s| s.policy.to_string())
            .collect();
        let location = loser
            .rule
            .sources
            .first()
            .map(source_location)
            .unwrap_or_default();
        let why = match winner {
            Some(winner) => priority_words(loser.beaten_by, winner, &loser.rule),
            None => format!("{:?}", loser.beaten_by),
        };
        out.push_str(&format!(
            "  - `{}` [{}] from {} at {location}\n    lost: {why}\n",
            loser.rule.pattern.normalized,
            caps_words(loser.rule.capabilities),
            list_words(&policies)
        ));
    }
}

fn render_checks(out: &mut String, input: &Explained<'_>) {
    let decision = input.decision;
    let explanation = &decision.explanation;
    let Some(winner) = &explanation.winner else {
        return;
    };
    out.push_str("\nchecks:\n");
    for (name, outcome) in checks(input, winner) {
        out.push_str(&format!("  {name}: {outcome}\n"));
    }
}

/// The checks and their outcome, in words: (check, outcome).
fn checks(input: &Explained<'_>, winner: &MergedRule) -> Vec<(&'static str, String)> {
    let decision = input.decision;
    let reason = decision.explanation.deny_reason.as_ref();
    let mut found = Vec::new();
    let capability = match input.request.operation.capability() {
        Some(capability) => {
            let held = winner.capabilities.contains(capability) && !winner.capabilities.is_deny();
            let outcome = if held { "granted" } else { "not granted" };
            format!("`{capability}` {outcome}")
        }
        None => "help is always allowed".into(),
    };
    found.push(("capability", capability));
    let sudo = match decision.explanation.sudo_required {
        Some(true) if decision.root_privs => "required by the path; granted (`sudo`)".into(),
        Some(true) => "required by the path; missing (no `sudo` on the deciding rule)".into(),
        _ => "not required".into(),
    };
    found.push(("sudo", sudo));
    found.push(("parameters", parameter_outcome(winner, reason)));
    found.push(("response wrapping", wrapping_outcome(input, winner, reason)));
    found
}

fn parameter_outcome(winner: &MergedRule, reason: Option<&DenyReason>) -> String {
    let constrained = winner
        .extra()
        .allowed_parameters
        .as_ref()
        .is_some_and(|m| !m.is_empty())
        || winner
            .extra()
            .denied_parameters
            .as_ref()
            .is_some_and(|m| !m.is_empty())
        || !winner.extra().required_parameters.is_empty();
    match reason {
        Some(
            reason @ (DenyReason::MissingRequiredParameter(_)
            | DenyReason::DeniedParameter(_)
            | DenyReason::ParameterNotAllowed(_)),
        ) => format!("failed: {}", deny_reason_words(reason)),
        _ if !constrained => "no constraints".into(),
        _ => {
            let mut parts = Vec::new();
            if let Some(map) = winner
                .extra()
                .allowed_parameters
                .as_ref()
                .filter(|m| !m.is_empty())
            {
                parts.push(format!("allowed {}", keys(map)));
            }
            if let Some(map) = winner
                .extra()
                .denied_parameters
                .as_ref()
                .filter(|m| !m.is_empty())
            {
                parts.push(format!("denied {}", keys(map)));
            }
            if !winner.extra().required_parameters.is_empty() {
                let required: Vec<String> = winner
                    .extra()
                    .required_parameters
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect();
                parts.push(format!("required {}", required.join(", ")));
            }
            format!("passed ({})", parts.join("; "))
        }
    }
}

fn keys(map: &crate::policy::ParamMap) -> String {
    map.keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn wrapping_outcome(
    input: &Explained<'_>,
    winner: &MergedRule,
    reason: Option<&DenyReason>,
) -> String {
    let (min, max) = (
        winner.extra().min_wrapping_ttl,
        winner.extra().max_wrapping_ttl,
    );
    match reason {
        Some(
            reason @ (DenyReason::WrappingRequired { .. } | DenyReason::WrappingTtlConflict { .. }),
        ) => {
            format!("failed: {}", deny_reason_words(reason))
        }
        _ if min <= 0 && max <= 0 => "not required".into(),
        _ => match input.request.wrap_ttl {
            Some(ttl) => format!("passed ({}; requested {ttl}s)", ttl_bounds(min, max)),
            None => format!("required ({})", ttl_bounds(min, max)),
        },
    }
}

fn rule_json(rule: &MergedRule) -> Value {
    let sources: Vec<Value> = rule
        .sources
        .iter()
        .map(|source| {
            let mut location = source.location_json();
            let capabilities: Vec<_> = source.capabilities.iter().map(Capability::name).collect();
            location["capabilities"] = json!(capabilities);
            location
        })
        .collect();
    let granting: serde_json::Map<String, Value> = rule
        .granting_policies()
        .iter()
        .map(|(capability, policies)| (capability.name().to_string(), json!(policies)))
        .collect();
    json!({
        "pattern": rule.pattern.normalized,
        "kind": kind_words(rule),
        "capabilities": rule.capabilities.iter().map(Capability::name).collect::<Vec<_>>(),
        "granting_policies": granting,
        "required_parameters": rule.extra().required_parameters,
        "min_wrapping_ttl": rule.extra().min_wrapping_ttl,
        "max_wrapping_ttl": rule.extra().max_wrapping_ttl,
        "sources": sources,
    })
}

fn priority_name(step: PriorityStep) -> &'static str {
    match step {
        PriorityStep::ExactMatch => "exact-match",
        PriorityStep::LaterWildcard => "later-wildcard",
        PriorityStep::NotPrefix => "not-prefix",
        PriorityStep::FewerPlus => "fewer-plus",
        PriorityStep::Longer => "longer",
        PriorityStep::Lexicographic => "lexicographic",
        PriorityStep::ShorterPrefix => "shorter-prefix",
        PriorityStep::ListResolver => "list-resolver",
        PriorityStep::FullPathFirst => "full-path-first",
    }
}

fn lookup_name(step: LookupStep) -> &'static str {
    match step {
        LookupStep::Exact => "exact",
        LookupStep::ExactTrimmed => "exact-trimmed",
        LookupStep::NonExact => "non-exact",
        LookupStep::NonExactTrimmed => "non-exact-trimmed",
        LookupStep::ListPool => "list-pool",
    }
}

/// The JSON rendering (`version` 1).
pub fn render_json(input: &Explained<'_>) -> Value {
    let decision = input.decision;
    let explanation = &decision.explanation;
    let losers: Vec<Value> = explanation
        .losers
        .iter()
        .map(|loser| {
            let reason = explanation
                .winner
                .as_ref()
                .map(|winner| priority_words(loser.beaten_by, winner, &loser.rule));
            json!({
                "rule": rule_json(&loser.rule),
                "beaten_by": priority_name(loser.beaten_by),
                "reason": reason,
            })
        })
        .collect();
    let checks: serde_json::Map<String, Value> = match &explanation.winner {
        Some(winner) => checks(input, winner)
            .into_iter()
            .map(|(name, outcome)| (name.replace(' ', "_"), json!(outcome)))
            .collect(),
        None => serde_json::Map::new(),
    };
    let deny_reason = explanation
        .deny_reason
        .as_ref()
        .map(|reason| json!({"kind": deny_kind(reason), "message": deny_reason_words(reason)}));
    let mut value = json!({
        "version": JSON_VERSION,
        "subject": {"kind": input.subject.kind(), "name": input.subject.name()},
        "policies": input.policies,
        "target": input.target.name(),
        "command": input.command,
        "api_call": input.api_call,
        "request": {
            "operation": input.request.operation.name(),
            "path": input.request.path,
            "data": input.request.data,
            "wrap_ttl": input.request.wrap_ttl,
        },
        "endpoint": input.endpoint,
        "allowed": decision.allowed,
        "root": explanation.root,
        "capabilities": decision.capabilities.iter().map(Capability::name).collect::<Vec<_>>(),
        "root_privs": decision.root_privs,
        "sudo_required": explanation.sudo_required,
        "lookup_step": explanation.step.map(lookup_name),
        "winner": explanation.winner.as_ref().map(rule_json),
        "losers": losers,
        "checks": checks,
        "deny_reason": deny_reason,
    });
    // Asked in a child namespace: name it, and the full path the ACL judged.
    if !input.namespace.is_empty() {
        value["namespace"] = json!(input.namespace);
        value["request"]["full_path"] = json!(explanation.path);
    }
    value
}

fn deny_kind(reason: &DenyReason) -> &'static str {
    match reason {
        DenyReason::NoPolicies => "no-policies",
        DenyReason::NoMatchingRule => "no-matching-rule",
        DenyReason::ExplicitDeny => "explicit-deny",
        DenyReason::MissingCapability(_) => "missing-capability",
        DenyReason::SudoRequired => "sudo-required",
        DenyReason::WrappingRequired { .. } => "wrapping-required",
        DenyReason::WrappingTtlConflict { .. } => "wrapping-ttl-conflict",
        DenyReason::MissingRequiredParameter(_) => "missing-required-parameter",
        DenyReason::DeniedParameter(_) => "denied-parameter",
        DenyReason::ParameterNotAllowed(_) => "parameter-not-allowed",
        DenyReason::Other(_) => "other",
    }
}
