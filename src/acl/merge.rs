//! Building an ACL: rules keyed by store and pattern, merged in order (spec 2).
//!
//! Cost: O(total rule size) to merge (one hash lookup per rule), then O(total key length) to
//! fill the stores.

use std::borrow::Cow;
use std::sync::Arc;

use super::identity::Identity;
use super::priority::Descriptor;
use super::store::{ExactIndex, FastMap, RadixTree, RuleId, SegmentTrie};
use super::template::{substitute, TemplateError, TemplateInput};
use super::types::{
    Acl, AclError, AclOptions, MergedExtra, MergedRule, RuleSource, SkippedRule, Sources,
};
use crate::policy::{
    CapSet, Capability, ParamMap, PathPattern, PatternKind, Policy, Rule, RuleExtra,
};
use crate::span::Spanned;
use crate::target::Target;

pub(super) fn build(
    policies: &[&Policy],
    target: Target,
    identity: Option<&Identity>,
    options: &AclOptions,
) -> Result<Acl, AclError> {
    let mut acl = Acl::empty(target, policies.len());
    if policies.iter().any(|policy| policy.name == "root") {
        if policies.len() != 1 {
            return Err(AclError::RootWithOthers);
        }
        acl.root = true;
        return Ok(acl);
    }
    acl.namespaces = options.namespaces.clone();
    let now = options.now_unix.unwrap_or_else(unix_now);
    // Keys borrow the policy's own pattern when the ACL uses it as written (no template, root
    // namespace): no copy of the key per block.
    let mut by_key: FastMap<(PatternKind, Cow<'_, str>), RuleId> = FastMap::default();
    // Exactly what the merge can need: no doubling while pushing, trimmed after merges.
    acl.rules
        .reserve(policies.iter().map(|policy| policy.rules.len()).sum());
    for &policy in policies {
        // Formatted once per policy, not once per rule and capability.
        let name: Arc<str> = Arc::from(policy.qualified_name());
        let input = template_input(policy, target, identity, options, Some(now));
        for rule in &policy.rules {
            let pattern = match rule_pattern(rule, &policy.namespace, &input) {
                Ok(pattern) => pattern,
                Err(Failure::Skip(reason)) => {
                    acl.skipped.push(SkippedRule::new(policy, rule, reason));
                    continue;
                }
                Err(Failure::Fatal(message)) => {
                    return Err(AclError::TemplatedPolicy {
                        policy: policy.name.clone(),
                        message: format!("path {:?}: {message}", rule.raw_pattern),
                    });
                }
            };
            let key = match &rule.pattern {
                Some(own) if *own == pattern => Cow::Borrowed(own.key()),
                _ => Cow::Owned(pattern.key().to_string()),
            };
            let key = (pattern.kind, key);
            let incoming = MergedRule::from_rule(policy, &name, rule, pattern, target);
            match by_key.get(&key) {
                Some(&id) => merge_into(&mut acl.rules[id as usize], incoming, target),
                None => {
                    by_key.insert(key, acl.rules.len() as RuleId);
                    acl.rules.push(incoming);
                }
            }
        }
    }
    acl.rules.shrink_to_fit();
    index(&mut acl);
    Ok(acl)
}

/// What a policy's templates are substituted from: the identity, the target, the policy's
/// switches (or the options' for its name) and the clock (`now`, else the options' or the
/// system's).
pub(super) fn template_input<'a>(
    policy: &Policy,
    target: Target,
    identity: Option<&'a Identity>,
    options: &AclOptions,
    now: Option<i64>,
) -> TemplateInput<'a> {
    TemplateInput {
        identity,
        target,
        flags: options
            .template_flags
            .get(&policy.name)
            .copied()
            .unwrap_or(policy.template_flags),
        now: now.or(options.now_unix).unwrap_or_else(unix_now),
    }
}

pub(super) enum Failure {
    /// The rule is left out; the rest of the policy applies.
    Skip(String),
    /// The templated policy fails to parse as a whole, and so does the ACL.
    Fatal(String),
}

/// The rule's normalised pattern, substituting templates; the policy's namespace path goes in
/// front (spec 1.5 step 5).
pub(super) fn rule_pattern(
    rule: &Rule,
    namespace: &str,
    input: &TemplateInput<'_>,
) -> Result<PathPattern, Failure> {
    if rule.expired {
        return Err(Failure::Skip("the rule's `expiration` has passed".into()));
    }
    match &rule.pattern {
        Some(pattern) if namespace.is_empty() => return Ok(pattern.clone()),
        Some(_) => {
            return PathPattern::parse_in(namespace, &rule.raw_pattern).map_err(Failure::Fatal)
        }
        None => {}
    }
    let substituted = match substitute(&rule.raw_pattern, input) {
        Ok(substituted) => substituted,
        Err(TemplateError::Skip(reason)) => {
            return Err(Failure::Skip(format!(
                "template substitution failed: {reason}"
            )))
        }
        Err(forbidden) => return Err(Failure::Fatal(forbidden.message().to_string())),
    };
    // A substituted `+*` fails the policy's parse, like any invalid pattern.
    PathPattern::parse_in(namespace, &substituted).map_err(Failure::Fatal)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Puts every merged rule into its store. Cost: O(total key length).
fn index(acl: &mut Acl) {
    let exact_rules = acl
        .rules
        .iter()
        .filter(|rule| rule.pattern.kind == PatternKind::Exact)
        .count();
    acl.exact = ExactIndex::with_capacity(exact_rules);
    acl.exact_tree = std::sync::OnceLock::new();
    acl.prefix = RadixTree::default();
    acl.wildcard = SegmentTrie::default();
    acl.descriptors = Vec::with_capacity(acl.rules.len());
    for (id, rule) in acl.rules.iter().enumerate() {
        let id = id as RuleId;
        let key = rule.pattern.key();
        match rule.pattern.kind {
            PatternKind::Exact => {
                let rules = &acl.rules;
                acl.exact
                    .insert(key, id, |other| rules[other as usize].pattern.key());
            }
            PatternKind::Prefix => acl.prefix.insert(key.as_bytes(), id),
            PatternKind::SegmentWildcard => acl.wildcard.insert(key, id),
        }
        acl.descriptors.push(Descriptor::of(&rule.pattern));
    }
    // The trees live as long as the ACL: no room left from their growth.
    acl.prefix.shrink_to_fit();
    acl.wildcard.shrink_to_fit();
}

/// Vault stores `deny` as a deny-only bitmap.
fn effective_capabilities(capabilities: CapSet) -> CapSet {
    if capabilities.is_deny() {
        return CapSet::only(Capability::Deny);
    }
    capabilities
}

impl MergedRule {
    /// A rule as inserted when no entry exists for its key (spec 2 step 2).
    /// `name` is the policy's qualified name.
    fn from_rule(
        policy: &Policy,
        name: &Arc<str>,
        rule: &Rule,
        pattern: PathPattern,
        target: Target,
    ) -> MergedRule {
        let capabilities = effective_capabilities(rule.capabilities);
        let extra = rule
            .extra
            .as_deref()
            .map(|extra| merged_extra(extra, target))
            .filter(|extra| !extra.is_empty())
            .map(Box::new);
        MergedRule {
            pattern,
            capabilities,
            extra,
            sources: Sources::one(RuleSource {
                policy: Arc::clone(name),
                raw_pattern: rule.raw_pattern.clone(),
                file: policy.source.clone(),
                pattern_span: rule.pattern_span,
                block_span: rule.block_span,
                capabilities,
            }),
        }
    }
}

/// A block's other keys as the ACL entry keeps them (the target's own keys only).
fn merged_extra(extra: &RuleExtra, target: Target) -> MergedExtra {
    let is_bao = target == Target::OpenBao;
    let values = |list: &[Spanned<String>]| list.iter().map(|item| item.value.clone()).collect();
    MergedExtra {
        allowed_parameters: extra.allowed_parameters.clone(),
        denied_parameters: extra.denied_parameters.clone(),
        required_parameters: values(&extra.required_parameters),
        min_wrapping_ttl: extra.min_wrapping_ttl.as_ref().map_or(0, |ttl| ttl.value),
        max_wrapping_ttl: extra.max_wrapping_ttl.as_ref().map_or(0, |ttl| ttl.value),
        mfa_methods: values(&extra.mfa_methods),
        pagination_limit: match &extra.pagination_limit {
            Some(limit) if is_bao => limit.value,
            _ => 0,
        },
        subscribe_event_types: match target {
            Target::Vault => values(&extra.subscribe_event_types),
            Target::OpenBao => Vec::new(),
        },
        list_scan_response_keys_filter_path: match &extra.list_scan_response_keys_filter_path {
            Some(filter) if is_bao && !filter.value.is_empty() => Some(filter.value.clone()),
            _ => None,
        },
        control_group: extra.control_group.clone(),
    }
}

/// Merges an incoming rule into the entry with the same store and key (spec 2 steps 3-5).
fn merge_into(existing: &mut MergedRule, incoming: MergedRule, target: Target) {
    let MergedRule {
        capabilities,
        extra,
        sources,
        ..
    } = incoming;
    existing.sources.extend(sources);
    if existing.capabilities.is_deny() {
        return;
    }
    if capabilities.is_deny() {
        // Vault keeps the old granting map, but none of its bits are set any more; we show the
        // policy that denied instead.
        existing.capabilities = CapSet::only(Capability::Deny);
        if let Some(current) = existing.extra.as_deref_mut() {
            current.allowed_parameters = None;
            current.denied_parameters = None;
        }
        return;
    }
    existing.capabilities = existing.capabilities.union(capabilities);
    if existing.extra.is_none() && extra.is_none() {
        return;
    }
    let incoming = extra.map(|extra| *extra).unwrap_or_default();
    merge_extra(existing.extra_mut(), incoming, target);
}

/// Merges the other keys of an incoming block (spec 2 step 5). An unset incoming key changes
/// nothing but the order of the lists merged like `RemoveDuplicates`.
fn merge_extra(existing: &mut MergedExtra, incoming: MergedExtra, target: Target) {
    let MergedExtra {
        allowed_parameters,
        denied_parameters,
        required_parameters,
        min_wrapping_ttl,
        max_wrapping_ttl,
        mfa_methods,
        pagination_limit,
        subscribe_event_types,
        list_scan_response_keys_filter_path,
        control_group,
    } = incoming;
    if max_wrapping_ttl > 0
        && (existing.max_wrapping_ttl == 0 || max_wrapping_ttl < existing.max_wrapping_ttl)
    {
        existing.max_wrapping_ttl = max_wrapping_ttl;
    }
    if min_wrapping_ttl > 0
        && (existing.min_wrapping_ttl == 0 || min_wrapping_ttl < existing.min_wrapping_ttl)
    {
        existing.min_wrapping_ttl = min_wrapping_ttl;
    }
    merge_params(&mut existing.allowed_parameters, allowed_parameters);
    merge_params(&mut existing.denied_parameters, denied_parameters);
    for name in required_parameters {
        if !existing.required_parameters.contains(&name) {
            existing.required_parameters.push(name);
        }
    }
    existing.mfa_methods.extend(mfa_methods);
    existing.mfa_methods = remove_duplicates(std::mem::take(&mut existing.mfa_methods));
    match target {
        Target::Vault => {
            if existing.subscribe_event_types.is_empty() {
                existing.subscribe_event_types = subscribe_event_types;
            } else {
                existing.subscribe_event_types.extend(subscribe_event_types);
                let events = std::mem::take(&mut existing.subscribe_event_types);
                existing.subscribe_event_types = remove_duplicates(events);
            }
            if let Some(group) = control_group {
                match &mut existing.control_group {
                    Some(current) => current.factors.extend(group.factors),
                    None => existing.control_group = Some(group),
                }
            }
        }
        Target::OpenBao => {
            if pagination_limit > 0
                && (existing.pagination_limit <= 0 || pagination_limit < existing.pagination_limit)
            {
                existing.pagination_limit = pagination_limit;
            }
            if existing.list_scan_response_keys_filter_path.is_none() {
                existing.list_scan_response_keys_filter_path = list_scan_response_keys_filter_path;
            }
        }
    }
}

/// Allowed/denied parameter merge (spec 2 step 5): only a non-empty incoming map counts; an
/// empty value list on either side means "any value"; otherwise the incoming values come first.
pub(super) fn merge_params(existing: &mut Option<ParamMap>, incoming: Option<ParamMap>) {
    let Some(incoming) = incoming.filter(|map| !map.is_empty()) else {
        return;
    };
    let Some(current) = existing else {
        *existing = Some(incoming);
        return;
    };
    for (key, mut entry) in incoming {
        let Some(old) = current.get_mut(&key) else {
            current.insert(key, entry);
            continue;
        };
        if entry.values.is_empty() || old.values.is_empty() {
            old.values.clear();
            continue;
        }
        entry.values.append(&mut old.values);
        old.values = entry.values;
    }
}

/// `strutil.RemoveDuplicates(list, false)`: trimmed, without empty strings, deduplicated and
/// sorted ascending.
fn remove_duplicates(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = list
        .into_iter()
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}
