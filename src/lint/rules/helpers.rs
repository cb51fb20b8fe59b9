//! Shared machinery of the rules (not a rule itself): pattern matching without an ACL, witness
//! paths, asking the policy's own ACL whether a holder can do something, and diagnostic
//! building.
//!
//! Rules that judge access use [`probe`]: fixed witness paths of a sensitive area plus
//! witnesses derived from the policy's own patterns, each asked of `ctx.acl`, so that a
//! carve-out (a more specific deny) is respected and the finding points at the block that
//! actually wins.

use std::collections::BTreeMap;

use crate::acl::{Decision, DenyReason, Operation, Request};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{PolicyContext, RuleMeta};
use crate::policy::{CapSet, Capability, PathPattern, PatternKind, Rule};
use crate::span::Span;

/// The segment used to fill a `+` or a trailing `*` when a concrete path is needed.
pub const FILLER: &str = "anything";

/// Whether a normalised pattern matches a request path, as Vault matches one rule (spec 3.4).
/// Cost: O(pattern length + path length).
pub fn pattern_matches(pattern: &PathPattern, path: &str) -> bool {
    match pattern.kind {
        PatternKind::Exact => pattern.key == path,
        PatternKind::Prefix => path.starts_with(pattern.key.as_str()),
        PatternKind::SegmentWildcard => segments_match(&pattern.normalized, path),
    }
}

/// Parses a pattern written in a table (always valid) and matches it.
pub fn text_matches(pattern: &str, path: &str) -> bool {
    PathPattern::parse(pattern).is_ok_and(|parsed| pattern_matches(&parsed, path))
}

fn segments_match(pattern: &str, path: &str) -> bool {
    let (pattern, is_prefix) = match pattern.strip_suffix('*') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    if path_parts.len() < pattern_parts.len() {
        return false;
    }
    if !is_prefix && path_parts.len() != pattern_parts.len() {
        return false;
    }
    let last = pattern_parts.len() - 1;
    for (index, part) in pattern_parts.iter().enumerate() {
        if *part == "+" || *part == path_parts[index] {
            continue;
        }
        if is_prefix && index == last && path_parts[index].starts_with(part) {
            return true;
        }
        return false;
    }
    true
}

/// Whether some path starting with `prefix` can match the pattern. Cost: O(length).
pub fn can_match_under(pattern: &PathPattern, prefix: &str) -> bool {
    match pattern.kind {
        PatternKind::Exact => pattern.key.starts_with(prefix),
        PatternKind::Prefix => {
            pattern.key.starts_with(prefix) || prefix.starts_with(pattern.key.as_str())
        }
        PatternKind::SegmentWildcard => segments_can_match_under(&pattern.normalized, prefix),
    }
}

fn segments_can_match_under(pattern: &str, prefix: &str) -> bool {
    let (pattern, is_prefix) = match pattern.strip_suffix('*') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let prefix_parts: Vec<&str> = prefix.split('/').collect();
    let last = pattern_parts.len() - 1;
    // Every prefix part but the last is a whole path segment; the last is the start of one.
    let (partial, whole) = prefix_parts.split_last().unwrap_or((&"", &[]));
    for (index, segment) in whole.iter().enumerate() {
        let Some(part) = pattern_parts.get(index) else {
            return false;
        };
        if is_prefix && index == last {
            return segment.starts_with(part);
        }
        if *part != "+" && part != segment {
            return false;
        }
    }
    let index = whole.len();
    let Some(part) = pattern_parts.get(index) else {
        return false;
    };
    if *part == "+" {
        return true;
    }
    if is_prefix && index == last {
        return part.starts_with(partial) || partial.starts_with(part);
    }
    part.starts_with(partial)
}

/// The literal start of a pattern: everything before its first `+` segment or trailing glob.
pub fn literal_prefix(pattern: &PathPattern) -> &str {
    match pattern.kind {
        PatternKind::Exact => &pattern.key,
        PatternKind::Prefix => &pattern.key,
        PatternKind::SegmentWildcard => {
            let text = pattern.normalized.as_str();
            if text == "+" || text.starts_with("+/") {
                return "";
            }
            let end = text.find("/+").map_or(text.len(), |index| index + 1);
            text[..end].trim_end_matches('*')
        }
    }
}

/// Whether the pattern has no literal character at all: `*`, `+`, `+/*`, `+/+`, ...
pub fn is_all_wildcard(pattern: &PathPattern) -> bool {
    let text = pattern.normalized.as_str();
    let body = text.strip_suffix('*').unwrap_or(text);
    (text.contains('+') || text.contains('*')) && body.split('/').all(|p| p == "+" || p.is_empty())
}

/// Whether the pattern matches more than one path (a `+` segment or a trailing glob).
pub fn is_wildcard(pattern: &PathPattern) -> bool {
    match pattern.kind {
        PatternKind::Exact => false,
        PatternKind::Prefix => true,
        PatternKind::SegmentWildcard => {
            pattern.normalized.ends_with('*') || pattern.normalized.split('/').any(|p| p == "+")
        }
    }
}

/// Concrete paths a pattern matches: `+` filled from `template` (a witness path of the area
/// being probed, aligned segment by segment) or with [`FILLER`]; a trailing glob both closed
/// and extended. Cost: O(pattern length).
pub fn instances(pattern: &PathPattern, template: &str) -> Vec<String> {
    let (body, glob) = match pattern.kind {
        PatternKind::Exact => (pattern.normalized.as_str(), false),
        PatternKind::Prefix => (pattern.key.as_str(), true),
        PatternKind::SegmentWildcard => match pattern.normalized.strip_suffix('*') {
            Some(body) => (body, true),
            None => (pattern.normalized.as_str(), false),
        },
    };
    let template_parts: Vec<&str> = template.split('/').collect();
    let filled: Vec<&str> = body
        .split('/')
        .enumerate()
        .map(|(index, part)| match part {
            "+" => template_parts
                .get(index)
                .copied()
                .filter(|t| !t.is_empty() && !t.contains(['+', '*']))
                .unwrap_or(FILLER),
            other => other,
        })
        .collect();
    let base = filled.join("/");
    if !glob {
        return vec![base];
    }
    let mut out = vec![format!("{base}{FILLER}"), base.clone()];
    if template.starts_with(base.as_str()) && template != base {
        out.push(template.to_string());
    }
    out
}

/// `read`, `list` → "`read`, `list`".
pub fn ticked(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The capabilities of a set, ticked, in declaration order.
pub fn ticked_caps(set: CapSet) -> String {
    ticked(set.iter().map(Capability::name))
}

/// A diagnostic with the rule's id and default severity.
pub fn diagnostic(meta: &RuleMeta, span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(meta.id, meta.severity, span, message)
}

/// A diagnostic with an explicit severity (for a rule whose findings differ in weight).
pub fn diagnostic_at(
    meta: &RuleMeta,
    severity: Severity,
    span: Span,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(meta.id, severity, span, message)
}

/// The span of a capability as written in the block, else the `policy =` value, else the
/// `capabilities` list, else the label.
pub fn capability_span(rule: &Rule, capability: Capability) -> Span {
    if let Some(token) = rule.capability_list.iter().find(|c| c.value == capability) {
        return token.span;
    }
    if let Some(old) = &rule.old_policy {
        return old.span;
    }
    rule.capabilities_span.unwrap_or(rule.pattern_span)
}

/// The span of `raw[index..index + len]` inside a label token when the token is the label
/// quoted verbatim; otherwise the whole token (escapes or JSON make offsets unreliable).
pub fn label_sub_span(ctx: &PolicyContext<'_>, rule: &Rule, index: usize, len: usize) -> Span {
    let token = ctx.policy.source.slice(rule.pattern_span);
    if token.len() == rule.raw_pattern.len() + 2 && token[1..token.len() - 1] == rule.raw_pattern {
        let start = rule.pattern_span.start + 1 + index;
        return Span::new(start, start + len);
    }
    rule.pattern_span
}

/// The rules of the policy the ACL would use (not expired, label resolvable), with patterns.
pub fn live_rules<'a>(
    ctx: &'a PolicyContext<'a>,
) -> impl Iterator<Item = (&'a Rule, &'a PathPattern)> + 'a {
    ctx.policy
        .rules
        .iter()
        .filter(|rule| !rule.expired)
        .filter_map(|rule| rule.pattern.as_ref().map(|pattern| (rule, pattern)))
}

/// The live rules that grant something: neither empty nor `deny`.
pub fn granting_rules<'a>(
    ctx: &'a PolicyContext<'a>,
) -> impl Iterator<Item = (&'a Rule, &'a PathPattern)> + 'a {
    live_rules(ctx)
        .filter(|(rule, _)| !rule.capabilities.is_empty() && !rule.capabilities.is_deny())
}

/// The union of the capabilities of every block of this policy with the same normalised
/// pattern (they merge into one ACL entry, spec 2).
pub fn merged_capabilities(ctx: &PolicyContext<'_>, pattern: &PathPattern) -> CapSet {
    live_rules(ctx)
        .filter(|(_, other)| other.normalized == pattern.normalized)
        .fold(CapSet::EMPTY, |set, (rule, _)| {
            if set.is_deny() || rule.capabilities.is_deny() {
                return CapSet::only(Capability::Deny);
            }
            set.union(rule.capabilities)
        })
}

/// Decides a request as a determined holder would send it: when the first answer is a denial
/// a holder can get around (a missing required parameter, a missing response-wrapping TTL),
/// asks again with that fixed.
pub fn authorize_as_holder(ctx: &PolicyContext<'_>, operation: Operation, path: &str) -> Decision {
    let mut request = Request::new(operation, path);
    let decision = ctx.acl.authorize(&request);
    match &decision.explanation.deny_reason {
        Some(DenyReason::MissingRequiredParameter(_)) => {
            let Some(winner) = &decision.explanation.winner else {
                return decision;
            };
            for name in &winner.required_parameters {
                request.data.insert(
                    name.to_lowercase(),
                    serde_json::Value::String(FILLER.into()),
                );
            }
            ctx.acl.authorize(&request)
        }
        Some(DenyReason::WrappingRequired { min, max, .. }) => {
            request.wrap_ttl = Some(if *max > 0 { *max } else { (*min).max(1) });
            ctx.acl.authorize(&request)
        }
        _ => decision,
    }
}

/// The block of this policy that won a decision: its label span (preferring a block that
/// contributed `wanted`), or `None` when the winner came from elsewhere.
pub fn winning_block(
    ctx: &PolicyContext<'_>,
    decision: &Decision,
    wanted: Option<Capability>,
) -> Option<Span> {
    let winner = decision.explanation.winner.as_ref()?;
    let own: Vec<_> = winner
        .sources
        .iter()
        .filter(|source| source.file.name == ctx.policy.source.name)
        .collect();
    let preferred = own
        .iter()
        .find(|source| wanted.is_some_and(|cap| source.capabilities.contains(cap)));
    preferred.or(own.first()).map(|source| source.pattern_span)
}

/// Whether the block whose label is at `span` has a pattern without literal characters.
pub fn is_catch_all_block(ctx: &PolicyContext<'_>, span: Span) -> bool {
    ctx.policy
        .rules
        .iter()
        .find(|rule| rule.pattern_span == span)
        .and_then(|rule| rule.pattern.as_ref())
        .is_some_and(is_all_wildcard)
}

/// The block of this policy through which a holder can do `operation` on `path`: `None` when
/// the ACL denies it or the winning block came from elsewhere.
pub fn allowing_block(ctx: &PolicyContext<'_>, operation: Operation, path: &str) -> Option<Span> {
    let decision = authorize_as_holder(ctx, operation, path);
    if !decision.allowed {
        return None;
    }
    winning_block(ctx, &decision, operation.capability())
}

/// [`allowing_block`], except a block without literal characters: that is
/// `grants-everything`'s finding, and repeating it in every other rule would bury the rest.
pub fn allowing_specific_block(
    ctx: &PolicyContext<'_>,
    operation: Operation,
    path: &str,
) -> Option<Span> {
    allowing_block(ctx, operation, path).filter(|span| !is_catch_all_block(ctx, *span))
}

/// Operations tried on a witness to show what a grant allows, most alarming first.
pub const MOST_ALARMING_FIRST: &[Operation] = &[
    Operation::Update,
    Operation::Create,
    Operation::Patch,
    Operation::Delete,
    Operation::Read,
    Operation::List,
];

/// The path of a listing request on `path`: `path` ending with `/`.
pub fn with_trailing_slash(path: &str) -> String {
    if path.ends_with('/') {
        return path.to_string();
    }
    format!("{path}/")
}

/// The path of a listing request on `path`: `path` ending with exactly one `/`.
pub fn with_single_trailing_slash(path: &str) -> String {
    format!("{}/", path.trim_end_matches('/'))
}

/// The first operation of [`MOST_ALARMING_FIRST`] that `rule` grants and that the policy's ACL
/// allows through this very block on one of `paths` (tried in order), with its request path
/// (`listing_path` makes the path of a listing request).
/// Cost: O(paths × operations) ACL decisions.
pub fn first_grant_through(
    ctx: &PolicyContext<'_>,
    rule: &Rule,
    paths: impl IntoIterator<Item = String>,
    listing_path: fn(&str) -> String,
) -> Option<(Operation, String)> {
    for path in paths {
        for operation in MOST_ALARMING_FIRST {
            let Some(capability) = operation.capability() else {
                continue;
            };
            if !rule.capabilities.contains(capability) {
                continue;
            }
            let request_path = if operation.is_listing() {
                listing_path(&path)
            } else {
                path.clone()
            };
            if allowing_block(ctx, *operation, &request_path) == Some(rule.pattern_span) {
                return Some((*operation, request_path));
            }
        }
    }
    None
}

/// The label as written of the block at `span`.
pub fn label_at<'a>(ctx: &'a PolicyContext<'_>, span: Span) -> &'a str {
    ctx.policy
        .rules
        .iter()
        .find(|rule| rule.pattern_span == span)
        .map_or("", |rule| rule.raw_pattern.as_str())
}

/// The KV v2 mount (per `ctx.mounts`) a pattern is written under: its literal start lies
/// inside the mount. `None` for patterns whose literal start is the mount path or shorter.
pub fn kv2_mount<'a>(ctx: &'a PolicyContext<'_>, pattern: &PathPattern) -> Option<&'a str> {
    let literal = literal_prefix(pattern);
    let mount = ctx.mounts.find(literal)?;
    let inside = literal.starts_with(mount.path.as_str());
    (inside && mount.engine == "kv" && mount.kv_version == Some(2)).then_some(mount.path.as_str())
}

/// The KV mount (any version, per `ctx.mounts`) a pattern is written under.
pub fn kv_mount<'a>(ctx: &'a PolicyContext<'_>, pattern: &PathPattern) -> Option<(&'a str, u8)> {
    let literal = literal_prefix(pattern);
    let mount = ctx.mounts.find(literal)?;
    let inside = literal.starts_with(mount.path.as_str());
    (inside && mount.engine == "kv").then(|| (mount.path.as_str(), mount.kv_version.unwrap_or(1)))
}

/// Whether the pattern can match KV v2 secret data (`M/data/...`) and nothing under
/// `M/metadata/`.
pub fn only_kv2_data(pattern: &PathPattern, mount: &str) -> bool {
    can_match_under(pattern, &format!("{mount}data/"))
        && !can_match_under(pattern, &format!("{mount}metadata/"))
}

/// One sensitive area: paths matching `pattern`, and the operations that make access to them
/// dangerous. `witness` is a concrete path of the area that no narrowly written rule is
/// expected to hit (used as the fixed probe and to fill `+` segments of derived ones).
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub pattern: &'static str,
    pub witness: &'static str,
    pub operations: &'static [Operation],
}

impl Area {
    pub const fn new(
        pattern: &'static str,
        witness: &'static str,
        operations: &'static [Operation],
    ) -> Area {
        Area {
            pattern,
            witness,
            operations,
        }
    }
}

/// What a holder of the policy can do in an area, per winning block.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The winning block's label span.
    pub span: Span,
    /// The area that was reached.
    pub area: Area,
    /// Operations allowed on `witness`, in the area's order.
    pub operations: Vec<Operation>,
    /// A concrete path the holder can act on.
    pub witness: String,
    /// Whether the area's own fixed witness was reached (the grant covers the whole area,
    /// not only paths named in the policy).
    pub broad: bool,
    /// Whether the winning block is templated (its paths depend on the holder's identity,
    /// shown as [`SELF`]).
    pub templated: bool,
}

impl Finding {
    /// "grants `update`, `create` on `sys/policies/acl/anything`".
    pub fn what(&self) -> String {
        format!(
            "grants {} on `{}`",
            ticked(self.operations.iter().map(|op| op.name())),
            self.witness
        )
    }

    /// "grants `update` on `sys/seal`: EFFECT".
    pub fn message(&self, effect: &str) -> String {
        format!("{}: {effect}", self.what())
    }

    /// `severity` when the grant covers names the policy never wrote, one step lower when it
    /// is limited to names the policy spells out.
    pub fn scaled(&self, severity: Severity) -> Severity {
        if self.broad {
            return severity;
        }
        lower(severity)
    }
}

/// Probes every area: the fixed witness, plus instances of each of the policy's patterns that
/// fall in the area; each asked of the policy's ACL for each dangerous operation. Returns one
/// finding per winning block of this policy, in source order.
/// Cost: O(areas × (rules + 1) × operations) ACL decisions.
pub fn probe(ctx: &PolicyContext<'_>, areas: &[Area]) -> Vec<Finding> {
    // With templated rules, probe as a holder whose entity makes every template resolve.
    let resolved = resolved_acl(ctx);
    let holder = PolicyContext {
        policy: ctx.policy,
        acl: resolved.as_ref().unwrap_or(ctx.acl),
        target: ctx.target,
        mounts: ctx.mounts,
    };
    let ctx = &holder;
    let mut findings: BTreeMap<usize, Finding> = BTreeMap::new();
    for area in areas {
        for (path, broad) in witnesses(ctx, area) {
            probe_path(ctx, area, &path, broad, &mut findings);
        }
    }
    findings.into_values().collect()
}

/// The fixed witness first, then derived ones (deduplicated).
fn witnesses(ctx: &PolicyContext<'_>, area: &Area) -> Vec<(String, bool)> {
    let mut out = vec![(area.witness.to_string(), true)];
    let plain = granting_rules(ctx).map(|(_, pattern)| pattern.clone());
    // Templated rules, as substituted for the synthetic holder of [`resolved_acl`].
    let substituted = ctx
        .acl
        .rules()
        .into_iter()
        .filter(|merged| {
            merged.sources.iter().any(|source| {
                source.file.name == ctx.policy.source.name && source.raw_pattern.contains("{{")
            })
        })
        .map(|merged| merged.pattern.clone())
        .collect::<Vec<_>>();
    for pattern in plain.chain(substituted) {
        for path in instances(&pattern, area.witness) {
            if text_matches(area.pattern, &path) && !out.iter().any(|(p, _)| *p == path) {
                // A filler segment means the grant covers names the policy never wrote.
                let broad = path.split('/').any(|segment| segment == FILLER);
                out.push((path, broad));
            }
        }
    }
    out
}

/// The value every template of a policy resolves to for the synthetic holder.
pub const SELF: &str = "self";

/// The ACL of this policy for a holder whose entity, aliases and groups make every template
/// variable of the policy resolve (to [`SELF`], or to the group named in the variable).
/// `None` when the policy has no templated rule (then `ctx.acl` is already complete).
pub fn resolved_acl(ctx: &PolicyContext<'_>) -> Option<crate::acl::Acl> {
    let variables: Vec<&str> = ctx
        .templated_rules()
        .flat_map(|rule| rule.template_vars.iter())
        .map(|var| var.value.trim())
        .collect();
    if variables.is_empty() {
        return None;
    }
    let mut identity = crate::acl::Identity {
        entity_id: SELF.into(),
        entity_name: SELF.into(),
        ..Default::default()
    };
    for variable in variables {
        add_to_identity(&mut identity, variable);
    }
    ctx.acl_with_identity(&identity)
}

/// Extends the synthetic identity so that one template variable resolves.
fn add_to_identity(identity: &mut crate::acl::Identity, variable: &str) {
    if let Some(key) = variable.strip_prefix("identity.entity.metadata.") {
        identity.metadata.insert(key.into(), SELF.into());
    } else if let Some(rest) = variable.strip_prefix("identity.entity.aliases.") {
        let Some((accessor, field)) = rest.split_once('.') else {
            return;
        };
        let position = identity
            .aliases
            .iter()
            .position(|a| a.mount_accessor == accessor);
        let index = position.unwrap_or_else(|| {
            identity.aliases.push(crate::acl::Alias {
                mount_accessor: accessor.into(),
                id: SELF.into(),
                name: SELF.into(),
                ..Default::default()
            });
            identity.aliases.len() - 1
        });
        let alias = &mut identity.aliases[index];
        if let Some(key) = field.strip_prefix("metadata.") {
            alias.metadata.insert(key.into(), SELF.into());
        } else if let Some(key) = field.strip_prefix("custom_metadata.") {
            alias.custom_metadata.insert(key.into(), SELF.into());
        }
    } else if let Some(rest) = variable.strip_prefix("identity.groups.names.") {
        add_group(identity, rest, true);
    } else if let Some(rest) = variable.strip_prefix("identity.groups.ids.") {
        add_group(identity, rest, false);
    }
}

/// `<group>.id|name|metadata.<key>`: a group known by `<group>` (its name when `by_name`,
/// else its id), merged with an earlier one of the same key.
fn add_group(identity: &mut crate::acl::Identity, rest: &str, by_name: bool) {
    let (group_key, key) = match rest.split_once(".metadata.") {
        Some((group_key, key)) => (group_key, Some(key)),
        None => match rest.rsplit_once('.') {
            Some((group_key, _)) => (group_key, None),
            None => return,
        },
    };
    let known = |group: &crate::acl::Group| {
        if by_name {
            group.name == group_key
        } else {
            group.id == group_key
        }
    };
    let index = match identity.groups.iter().position(known) {
        Some(index) => index,
        None => {
            let mut group = crate::acl::Group {
                id: SELF.into(),
                name: SELF.into(),
                ..Default::default()
            };
            if by_name {
                group.name = group_key.into();
            } else {
                group.id = group_key.into();
            }
            identity.groups.push(group);
            identity.groups.len() - 1
        }
    };
    if let Some(key) = key {
        identity.groups[index]
            .metadata
            .insert(key.into(), SELF.into());
    }
}

fn probe_path(
    ctx: &PolicyContext<'_>,
    area: &Area,
    path: &str,
    broad: bool,
    findings: &mut BTreeMap<usize, Finding>,
) {
    for operation in area.operations {
        let request_path = if operation.is_listing() {
            with_trailing_slash(path)
        } else {
            path.to_string()
        };
        let Some(span) = allowing_specific_block(ctx, *operation, &request_path) else {
            continue;
        };
        let templated = ctx
            .policy
            .rules
            .iter()
            .any(|rule| rule.pattern_span == span && rule.is_templated());
        let finding = findings.entry(span.start).or_insert_with(|| Finding {
            span,
            area: *area,
            operations: Vec::new(),
            witness: request_path.clone(),
            broad,
            templated,
        });
        // Keep the witness of the first (broadest) probe; collect its operations.
        if finding.witness == request_path && !finding.operations.contains(operation) {
            finding.operations.push(*operation);
        }
        if broad && !finding.broad {
            *finding = Finding {
                span,
                area: *area,
                operations: vec![*operation],
                witness: request_path.clone(),
                broad,
                templated,
            };
        }
    }
}

/// What a security rule reports about its sensitive areas: the areas it probes, and the
/// label and help of its diagnostics (the rule file keeps only its wording).
#[derive(Clone, Copy, Debug)]
pub struct AreaProbe {
    pub areas: &'static [Area],
    pub label: &'static str,
    pub help: &'static str,
}

impl AreaProbe {
    /// Probes the areas and reports each finding as "grants OPS on `WITNESS`: EFFECT", at the
    /// rule's severity when the grant covers names the policy never wrote, one step lower
    /// otherwise.
    pub fn report_effects<'e>(
        &self,
        meta: &RuleMeta,
        ctx: &PolicyContext<'_>,
        effect: impl Fn(&Finding) -> &'e str,
        out: &mut Vec<Diagnostic>,
    ) {
        self.report(
            meta,
            ctx,
            |finding| {
                (
                    finding.message(effect(finding)),
                    finding.scaled(meta.severity),
                )
            },
            out,
        );
    }

    /// Probes the areas and reports each finding with the message and severity `describe`
    /// gives.
    pub fn report(
        &self,
        meta: &RuleMeta,
        ctx: &PolicyContext<'_>,
        describe: impl Fn(&Finding) -> (String, Severity),
        out: &mut Vec<Diagnostic>,
    ) {
        for finding in probe(ctx, self.areas) {
            let (message, severity) = describe(&finding);
            out.push(
                diagnostic_at(meta, severity, finding.span, message)
                    .with_label(self.label)
                    .with_help(self.help),
            );
        }
    }
}

/// One step down from a rule's default severity, for findings limited to names the policy
/// spells out.
pub fn lower(severity: Severity) -> Severity {
    match severity {
        Severity::Error => Severity::Warning,
        _ => Severity::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).unwrap()
    }

    #[test]
    fn matching_follows_spec_3_4() {
        assert!(pattern_matches(&p("secret/zip-*"), "secret/zip-zap/zong"));
        assert!(!pattern_matches(&p("secret/bar/*"), "secret/bar"));
        assert!(pattern_matches(&p("foo/+"), "foo/"));
        assert!(!pattern_matches(&p("foo/+"), "foo/bar/"));
        // Same part-count rule as the ACL's segment trie (src/acl/store.rs): the glob part
        // needs a path part of its own.
        assert!(pattern_matches(
            &p("test/+/wildcard/+/*"),
            "test/a/wildcard/b/c"
        ));
        assert!(pattern_matches(&p("foo/bar/+/b*"), "foo/bar/x/baz"));
        assert!(pattern_matches(&p("a/+b"), "a/+b"));
        assert!(!pattern_matches(&p("a/+b"), "a/xb"));
    }

    #[test]
    fn overlap_with_a_prefix() {
        assert!(can_match_under(&p("secret/*"), "secret/data/"));
        assert!(can_match_under(&p("secret/+/app"), "secret/data/"));
        assert!(!can_match_under(&p("secret/ai/openai"), "secret/data/"));
        assert!(can_match_under(&p("+/*"), "secret/data/"));
        assert!(can_match_under(&p("secret/da*"), "secret/data/"));
        assert!(can_match_under(&p("secret/+/x/*"), "secret/"));
        assert!(!can_match_under(&p("secret/+/x/*"), "secret/a/y/"));
        assert!(can_match_under(&p("secret/+/x/*"), "secret/data/x"));
        assert!(!can_match_under(&p("secret/meta*"), "secret/data/"));
    }

    #[test]
    fn literal_prefix_and_wildcards() {
        assert_eq!(literal_prefix(&p("secret/+/x")), "secret/");
        assert_eq!(literal_prefix(&p("+/x")), "");
        assert_eq!(literal_prefix(&p("secret/data/*")), "secret/data/");
        assert!(is_all_wildcard(&p("*")));
        assert!(is_all_wildcard(&p("+/*")));
        assert!(is_all_wildcard(&p("+/+")));
        assert!(!is_all_wildcard(&p("secret/*")));
        assert!(is_wildcard(&p("a/+/b")));
        assert!(!is_wildcard(&p("a/+b")));
    }

    #[test]
    fn instances_fill_from_the_template() {
        assert_eq!(
            instances(&p("sys/policies/acl/app-*"), "sys/policies/acl/anything"),
            vec!["sys/policies/acl/app-anything", "sys/policies/acl/app-"]
        );
        assert_eq!(
            instances(&p("auth/+/role/x"), "auth/approle/role/anything"),
            vec!["auth/approle/role/x"]
        );
        assert!(instances(&p("sys/*"), "sys/policy/anything")
            .contains(&"sys/policy/anything".to_string()));
    }
}
