//! `who-can`: every role, group and entity of the inventory, and whether it may make one
//! request, with the deciding rule.
//!
//! Each subject's ACL is built from its effective policies (a role's token policies,
//! `default` unless disabled, and its entity's and groups' policies; templated paths resolved
//! against its identity) and asked once. Cost: one ACL merge and one lookup per subject; a
//! group's ACL holds only the policies that keep a rule that may match, found from its
//! parent's along single-parent chains ([`Inventory::group_acls`]), so a chain of `d`
//! groups costs O(d) plus the answer, not d²/2.

use serde_json::{json, Value};

use super::request::Call;
use crate::acl::{Acl, Decision, MergedRule};
use crate::endpoints::{MountMap, Named};
use crate::inventory::{Inventory, Subject};
use crate::target::Target;

/// JSON output version.
pub const JSON_VERSION: u32 = 1;

/// One subject's answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub subject: Subject,
    pub policies: Vec<String>,
    /// Per call, the deciding decision (the first allowed alternative, else the first), or
    /// why the subject's ACL cannot be built.
    pub decisions: Result<Vec<Decision>, String>,
}

impl Answer {
    /// Every call is allowed.
    pub fn allowed(&self) -> bool {
        self.decisions
            .as_ref()
            .is_ok_and(|decisions| decisions.iter().all(|decision| decision.allowed))
    }

    /// The decision to show: the first denied call's, else the first call's.
    pub fn decision(&self) -> Option<&Decision> {
        let decisions = self.decisions.as_ref().ok()?;
        decisions
            .iter()
            .find(|decision| !decision.allowed)
            .or_else(|| decisions.first())
    }
}

/// Asks every subject of the inventory (roles, then groups, then entities, each sorted), on
/// all cores (rayon; the order does not depend on the schedule).
pub fn who_can(inventory: &Inventory, target: Target, calls: &[Call]) -> Vec<Answer> {
    who_can_with(inventory, target, calls, true)
}

/// [`who_can`]; with `policies` false each answer's `policies` is left empty (the human
/// rendering does not show them). Cost: per role and per entity, one merge of the policies
/// with rules its group closure and own policies give it, found once per closure (see
/// [`Inventory::entity_acls`]); per group, one merge of the policies that keep a rule for
/// it, its summary built from its parent's along single-parent chains (see
/// [`Inventory::group_acls`]), so a chain of `d` groups costs O(d) when its policies keep no
/// rule; then one lookup per call. With `policies`, a copy of each subject's effective
/// names: the size of the answer, d²/2 for that chain.
pub fn who_can_with(
    inventory: &Inventory,
    target: Target,
    calls: &[Call],
    policies: bool,
) -> Vec<Answer> {
    use rayon::prelude::*;
    let paths = request_paths(calls);
    let groups = inventory.group_acls(target, |pattern| pattern_may_match(pattern, &paths));
    let entities = inventory.entity_acls(target);
    inventory
        .subjects()
        .into_par_iter()
        .map(|subject| {
            let acl = match &subject {
                Subject::Group(name) => groups.acl(name),
                Subject::Entity(name) => entities.acl(name),
                Subject::Role(key) => entities.role_acl(key),
                _ => None,
            };
            let decisions = acl
                .unwrap_or_else(|| inventory.acl_for(&subject, target))
                .map(|acl| calls.iter().filter_map(|call| decide(&acl, call)).collect())
                .map_err(|error| error.to_string());
            let policies = match (policies, &subject) {
                (false, _) => Vec::new(),
                (true, Subject::Entity(name)) => entities.policies(name).unwrap_or_default(),
                (true, Subject::Role(key)) => entities.role_policies(key).unwrap_or_default(),
                (true, _) => inventory.policies_of(&subject),
            };
            Answer {
                policies,
                subject,
                decisions,
            }
        })
        .collect()
}

/// Cuts the inventory's policies down to the rules that may match one of the calls' paths
/// (`may_match`), so that each subject's ACL is built from those only: a decision looks
/// at the rules matching its path and nothing else (the winner, the losers, the winner's
/// parameters and wrapping), so it is the same, and 10,000 subjects' ACLs cost a fraction.
/// Cost: O(rules × calls).
pub fn narrow_for(inventory: &mut Inventory, target: Target, calls: &[Call]) {
    let paths = request_paths(calls);
    inventory.narrow_rules(target, |policy, rule| {
        may_match(policy, rule, target, &paths)
    });
}

/// The paths of every alternative of the calls, leading `/` trimmed.
fn request_paths(calls: &[Call]) -> Vec<&str> {
    calls
        .iter()
        .flat_map(|call| &call.alternatives)
        .map(|alternative| alternative.request.path.trim_start_matches('/'))
        .collect()
}

/// Whether `rule` of `policy` may match one of `paths` (leading `/` trimmed): its pattern's
/// literal start (before the first `*` or `+`) begins one of them, and a pattern with `+`
/// segments matches one of them or one without its trailing `/` part by part (spec 3.4). A
/// lookup tries the path and, for a listing, the path without its trailing `/`, both of
/// which begin with any pattern start that matches. Expired rules (they are reported as
/// skipped) and every rule of a policy outside the root namespace (its patterns are joined to
/// the namespace) are kept, and so are templated rules (their pattern depends on the subject)
/// unless [`template_cannot_match`] proves otherwise. Cost: O(paths × pattern).
fn may_match(
    policy: &crate::policy::Policy,
    rule: &crate::policy::Rule,
    target: Target,
    paths: &[&str],
) -> bool {
    if rule.expired || !policy.namespace.is_empty() {
        return true;
    }
    match rule.pattern.as_ref() {
        Some(pattern) => pattern_may_match(pattern, paths),
        None => !template_cannot_match(&rule.raw_pattern, target, paths),
    }
}

/// Whether a templated pattern, whatever its values, neither matches a prefix of any of
/// `paths` nor can fail its policy as a whole: then leaving it out changes no subject's
/// answer. Each `{{...}}` stands for any text (`/` included), `*` for any text and `+` for
/// any text without `/`, so the test over-approximates every substitution. Only on Vault:
/// OpenBao fails the whole policy for a value with `/`, `*` or `+` (spec 1.8), which no
/// path test can rule out. On Vault a value with `*` or `+` skips the rule, so the policy
/// fails only for a substituted `+*`, which needs a `+` and a `*` with nothing but templates
/// between them (empty values). Cost: O(paths × pattern × path).
fn template_cannot_match(raw: &str, target: Target, paths: &[&str]) -> bool {
    if target.is_openbao() {
        return false;
    }
    let Some(tokens) = glob_tokens(raw.strip_prefix('/').unwrap_or(raw)) else {
        return false;
    };
    let literal: String = tokens
        .iter()
        .filter_map(|token| match token {
            Glob::Char(c) => Some(*c),
            Glob::AnyNoSlash => Some('+'),
            Glob::Any(true) => Some('*'),
            Glob::Any(false) => None,
        })
        .collect();
    if literal.contains("+*") {
        return false;
    }
    !paths.iter().any(|path| prefix_matches(&tokens, path))
}

/// One piece of a templated pattern as [`template_cannot_match`] reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Glob {
    Char(char),
    /// `+`: any text without `/`.
    AnyNoSlash,
    /// Any text: a `*` (`true`) or a `{{...}}` (`false`).
    Any(bool),
}

/// The pieces of `raw`; `None` for an unbalanced `{{` (the rule is skipped, kept anyway).
fn glob_tokens(raw: &str) -> Option<Vec<Glob>> {
    let mut tokens = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if let Some(inside) = rest.strip_prefix("{{") {
            let end = inside.find("}}")?;
            tokens.push(Glob::Any(false));
            rest = &inside[end + 2..];
            continue;
        }
        tokens.push(match c {
            '*' => Glob::Any(true),
            '+' => Glob::AnyNoSlash,
            c => Glob::Char(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(tokens)
}

/// Whether `tokens` match some prefix of `path` (a listing's lookup without the trailing `/`
/// is a prefix too). Cost: O(tokens × path), one set of reachable positions per token.
fn prefix_matches(tokens: &[Glob], path: &str) -> bool {
    let chars: Vec<char> = path.chars().collect();
    let mut reachable = vec![false; chars.len() + 1];
    reachable[0] = true;
    for token in tokens {
        let mut next = vec![false; chars.len() + 1];
        match token {
            Glob::Char(c) => {
                for at in 0..chars.len() {
                    next[at + 1] = reachable[at] && chars[at] == *c;
                }
            }
            Glob::Any(_) => {
                if let Some(first) = reachable.iter().position(|&r| r) {
                    next[first..].iter_mut().for_each(|r| *r = true);
                }
            }
            Glob::AnyNoSlash => {
                for at in 0..=chars.len() {
                    next[at] = reachable[at] || (at > 0 && next[at - 1] && chars[at - 1] != '/');
                }
            }
        }
        if !next.contains(&true) {
            return false;
        }
        reachable = next;
    }
    true
}

/// [`may_match`] for a pattern in the root namespace (also a substituted one). Cost:
/// O(paths × pattern).
fn pattern_may_match(pattern: &crate::policy::PathPattern, paths: &[&str]) -> bool {
    let normalized = pattern.normalized.as_str();
    let literal = &normalized[..normalized.find(['*', '+']).unwrap_or(normalized.len())];
    let segments = pattern.kind == crate::policy::PatternKind::SegmentWildcard;
    paths.iter().any(|path| {
        let tried = [Some(*path), path.strip_suffix('/')];
        path.starts_with(literal)
            && (!segments
                || tried
                    .into_iter()
                    .flatten()
                    .any(|p| parts_match(pattern.key(), p)))
    })
}

/// Whether a segment-wildcard pattern (`*` kept at its end) matches `path` part by part
/// (spec 3.4 steps 1-5): `+` takes any one part, a final part ending in `*` any part it
/// begins, and only such a pattern may leave parts over. Cost: O(pattern + path).
fn parts_match(pattern: &str, path: &str) -> bool {
    let (body, prefix) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let wanted: Vec<&str> = body.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < wanted.len() || (!prefix && parts.len() != wanted.len()) {
        return false;
    }
    let last = wanted.len() - 1;
    wanted
        .iter()
        .zip(&parts)
        .enumerate()
        .all(|(at, (want, part))| {
            *want == "+" || want == part || (prefix && at == last && part.starts_with(want))
        })
}

/// The first allowed alternative's decision, else the first alternative's (`None` for a call
/// without alternatives, which `request::build` never makes).
fn decide(acl: &Acl, call: &Call) -> Option<Decision> {
    let mut decisions: Vec<Decision> = call
        .alternatives
        .iter()
        .map(|alternative| acl.authorize(&alternative.request))
        .collect();
    let chosen = decisions
        .iter()
        .position(|decision| decision.allowed)
        .unwrap_or(0);
    (chosen < decisions.len()).then(|| decisions.swap_remove(chosen))
}

fn rule_words(rule: &MergedRule) -> String {
    let sources: Vec<String> = rule
        .sources
        .iter()
        .map(|source| {
            let (line, column) = source.line_col();
            format!(
                "`{}` at {}:{line}:{column}",
                source.policy, source.file.name
            )
        })
        .collect();
    format!("`{}` in {}", rule.pattern.normalized, sources.join(", "))
}

/// What is asked, in words: `read `p`` or the CLI command.
pub fn question(calls: &[Call]) -> String {
    match calls.first() {
        Some(Call {
            command: Some(command),
            ..
        }) => format!("run `{command}`"),
        Some(call) => match call.alternatives.first() {
            Some(alternative) => format!(
                "{} `{}`",
                alternative.request.operation, alternative.request.path
            ),
            None => String::new(),
        },
        None => String::new(),
    }
}

fn decision_words(decision: &Decision) -> String {
    match &decision.explanation.winner {
        Some(rule) => rule_words(rule),
        None if decision.explanation.root => "the `root` policy".to_string(),
        None => "no rule".to_string(),
    }
}

/// Human text: who may, with the deciding rule (per API call for a CLI command); with
/// `all`, also who may not, and why.
pub fn render_human(
    calls: &[Call],
    target: Target,
    answers: &[Answer],
    all: bool,
    endpoints: &[Option<Named>],
) -> String {
    let mut out = format!("who can {} (target {target})\n", question(calls));
    out.push_str(&endpoint_line(endpoints));
    let allowed: Vec<&Answer> = answers.iter().filter(|a| a.allowed()).collect();
    if allowed.is_empty() {
        out.push_str("\nnobody in the inventory\n");
    }
    for answer in &allowed {
        out.push_str(&format!("\n  {}\n", answer.subject));
        let Ok(decisions) = &answer.decisions else {
            continue;
        };
        for (call, decision) in calls.iter().zip(decisions) {
            match &call.label {
                Some(label) if calls.len() > 1 => {
                    out.push_str(&format!("    {label} by {}\n", decision_words(decision)))
                }
                _ => out.push_str(&format!("    by {}\n", decision_words(decision))),
            }
        }
    }
    if all {
        let denied: Vec<&Answer> = answers.iter().filter(|a| !a.allowed()).collect();
        if !denied.is_empty() {
            out.push_str("\nmay not:\n");
        }
        for answer in denied {
            let why = match (&answer.decisions, answer.decision()) {
                (Err(error), _) => format!("cannot be evaluated: {error}"),
                (Ok(_), Some(decision)) => match &decision.explanation.deny_reason {
                    Some(reason) => format!(
                        "`{}`: {}",
                        decision.explanation.path,
                        super::explain::deny_reason_words(reason)
                    ),
                    None => "denied".into(),
                },
                (Ok(_), None) => "denied".into(),
            };
            out.push_str(&format!("  {}: {why}\n", answer.subject));
        }
    }
    out
}

/// The JSON rendering (`version` 1): every subject with `allowed`, the deciding rule (of
/// the first denied call, else the first call) and, per call, its decision.
pub fn render_json(
    calls: &[Call],
    target: Target,
    answers: &[Answer],
    endpoints: &[Option<Named>],
) -> Value {
    let subjects: Vec<Value> = answers
        .iter()
        .map(|answer| {
            let decision = answer.decision();
            let per_call: Vec<Value> = match &answer.decisions {
                Ok(decisions) => calls
                    .iter()
                    .zip(decisions)
                    .map(|(call, decision)| {
                        json!({
                            "call": call.label,
                            "path": decision.explanation.path,
                            "allowed": decision.allowed,
                            "rule": decision.explanation.winner.as_ref().map(rule_json),
                        })
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            json!({
                "kind": answer.subject.kind(),
                "name": answer.subject.name(),
                "policies": answer.policies,
                "allowed": answer.allowed(),
                "rule": decision.and_then(|d| d.explanation.winner.as_ref()).map(rule_json),
                "deny_reason": decision
                    .filter(|d| !d.allowed)
                    .and_then(|d| d.explanation.deny_reason.as_ref())
                    .map(super::explain::deny_reason_words),
                "error": answer.decisions.as_ref().err(),
                "calls": per_call,
            })
        })
        .collect();
    let first = calls.first().and_then(|call| call.alternatives.first());
    json!({
        "version": JSON_VERSION,
        "target": target.name(),
        "command": calls.first().and_then(|call| call.command.clone()),
        "request": first.map(|a| json!({"operation": a.request.operation.name(), "path": a.request.path})),
        "endpoints": endpoints,
        "subjects": subjects,
    })
}

/// The endpoints of the calls (the catalog's names, each once), as a line under the question;
/// empty when the catalog knows none.
fn endpoint_line(endpoints: &[Option<Named>]) -> String {
    let mut words: Vec<String> = Vec::new();
    for endpoint in endpoints.iter().flatten() {
        let text = endpoint.words();
        if !words.contains(&text) {
            words.push(text);
        }
    }
    match words.len() {
        0 => String::new(),
        1 => format!("  endpoint: {}\n", words[0]),
        _ => format!("  endpoints: {}\n", words.join("; ")),
    }
}

/// The endpoint of each call (of its first alternative), for [`render_human`] and
/// [`render_json`]; `namespace` is stripped from the paths first, since mounts are named
/// relative to their namespace.
pub fn endpoints_of(calls: &[Call], map: &MountMap<'_>, namespace: &str) -> Vec<Option<Named>> {
    calls
        .iter()
        .map(|call| {
            let request = &call.alternatives.first()?.request;
            let path = request
                .path
                .strip_prefix(namespace)
                .unwrap_or(&request.path);
            crate::endpoints::name_of(map, path)
        })
        .collect()
}

fn rule_json(rule: &MergedRule) -> Value {
    let sources: Vec<Value> = rule
        .sources
        .iter()
        .map(|source| {
            let (line, column) = source.line_col();
            json!({"policy": &*source.policy, "file": source.file.name, "line": line, "column": column})
        })
        .collect();
    json!({"pattern": rule.pattern.normalized, "sources": sources})
}

#[cfg(test)]
mod tests {
    use super::{parts_match, template_cannot_match};
    use crate::target::Target;

    /// A templated rule is left out only on Vault, when no substitution can match a prefix of
    /// the path and none can make the policy fail as a whole (spec 1.8).
    #[test]
    fn templated_rules_are_left_out_only_when_no_value_can_matter() {
        let paths = ["secret/data/e5/g5/x"];
        for raw in [
            "secret/data/{{identity.entity.name}}/g5/*",
            "/secret/data/{{identity.entity.name}}/g5/*",
            "secret/data/{{identity.entity.name}}",
            "secret/+/{{identity.entity.name}}/g5/x",
            "secret/{{identity.entity.name}}/x",
            "{{identity.entity.name}}",
            "secret/data/e{{identity.entity.id}}/+/x",
            // Unbalanced: skipped by every subject, kept as the ACL sees it.
            "secret/{{identity.entity.name/g6/*",
            // `+` and `*` with only templates between: an empty value gives `+*`.
            "other/+{{identity.entity.name}}*",
            "other/+{{identity.entity.name}}{{identity.entity.id}}*",
        ] {
            assert!(!template_cannot_match(raw, Target::Vault, &paths), "{raw}");
        }
        for raw in [
            "secret/data/{{identity.entity.name}}/g6/*",
            "secret/metadata/{{identity.entity.name}}/*",
            "secret/data/{{identity.entity.name}}/g5/y",
            "secret/+/{{identity.entity.name}}/g6",
            "secret/data/e5/+/{{identity.entity.name}}/z",
            "other/+{{identity.entity.name}}/*",
        ] {
            assert!(template_cannot_match(raw, Target::Vault, &paths), "{raw}");
            assert!(
                !template_cannot_match(raw, Target::OpenBao, &paths),
                "{raw}"
            );
        }
    }

    /// Spec 3.4's part-wise matching examples, and misses on each of its conditions; as the
    /// ACL's trie (and OpenBao 2.7.2), `test/+/wildcard/+/*` needs a part after `b`.
    #[test]
    fn parts_match_follows_spec_3_4() {
        for (pattern, path) in [
            ("foo/+", "foo/bar"),
            ("foo/+", "foo/"),
            ("foo/+/", "foo/x/"),
            ("test/+/wildcard/+/*", "test/a/wildcard/b/"),
            ("test/+/wildcard/+/*", "test/a/wildcard/b/c/d"),
            ("foo/bar/+/b*", "foo/bar/x/baz"),
            ("+/a+b", "x/a+b"),
        ] {
            assert!(parts_match(pattern, path), "{pattern} {path}");
        }
        for (pattern, path) in [
            ("foo/+", "foo/bar/"),
            ("test/+/wildcard/+/*", "test/a/wildcard/b"),
            ("foo/+/", "foo/x"),
            ("foo/+/x", "foo/y/z"),
            ("foo/bar/+/b*", "foo/bar/x/az"),
            ("foo/+/+/*", "foo/x"),
            ("+/a+b", "x/ab"),
        ] {
            assert!(!parts_match(pattern, path), "{pattern} {path}");
        }
    }
}
