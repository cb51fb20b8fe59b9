//! What a policy's patterns reach in the endpoint catalog ([`crate::endpoints`]); not a rule.
//! The endpoint rules (`sudo-missing`, `unauthenticated-path`, `capability-unsupported`,
//! `unknown-endpoint`) and the engine rules (`kv2-destroy`, `pki-ca-admin`,
//! `secrets-role-admin`, `transit-key-export`) share it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::acl::FastSet;
use crate::acl::Operation;
use crate::endpoints::{describe, Endpoint, MountMap, MountOf};
use crate::lint::holder::{allowing_specific_block, is_catch_all_block, winning_block};
use crate::lint::matching::{pattern_matches, FILLER};
use crate::lint::reach::inside_mount;
pub use crate::lint::reach::{reach, BlockReaches, PatternReach};
use crate::lint::PolicyContext;
use crate::policy::{CapSet, PathPattern};
use crate::span::Span;

/// The mounts as this policy shows them ([`PolicyContext::mount_map`]). Cost: O(1) after the
/// policy's first.
pub fn mount_map<'a>(ctx: &PolicyContext<'a>) -> MountMap<'a> {
    ctx.mount_map()
}

/// [`reach`] of a block's own pattern (as [`PolicyContext::live_rules`] hands it out) from the
/// policy's [`BlockReaches`], computed once per policy; any other pattern afresh.
/// Cost: O(1) for a block's pattern after the policy's first; else [`reach`]'s.
pub fn block_reach<'a>(
    ctx: &PolicyContext<'a>,
    map: &MountMap<'_>,
    pattern: &'a PathPattern,
) -> Option<PatternReach<'a>> {
    match cached(ctx, pattern) {
        Some((reaches, block)) => reaches.reach(block, pattern),
        None => reach(map, pattern),
    }
}

/// The policy's [`BlockReaches`] and the block of `pattern`, when it is a block's own.
fn cached<'a>(ctx: &PolicyContext<'a>, pattern: &PathPattern) -> Option<(&'a BlockReaches, usize)> {
    let index = ctx.index;
    if !std::ptr::eq(index.policy(), ctx.policy) {
        return None;
    }
    let block = index.block_of_pattern(pattern)?;
    Some((index.block_reaches(ctx.mounts)?, block))
}

/// A concrete request path of `endpoint` that `pattern` matches: parameters filled from the
/// pattern's own segments where it spells them out, else with [`FILLER`]; `listing` gives the
/// path of a LIST (with its `/`, or the endpoint's parent for a LIST of its last parameter).
/// `None` when no such path is found.
pub fn instance_path(
    reach: &PatternReach,
    endpoint: &Endpoint,
    pattern: &PathPattern,
    listing: bool,
) -> Option<String> {
    let written: Vec<&str> = reach.relative.split('/').collect();
    let (filled, _) = fill_from_pattern(endpoint.template, &written);
    let base = format!("{}{filled}", reach.mount.path);
    let matches = |path: &str| {
        pattern_matches(pattern, path)
            || (listing && pattern.is_exact() && pattern.key() == path.trim_end_matches('/'))
    };
    if !listing {
        return matches(&base).then_some(base);
    }
    let parent = match filled.rsplit_once('/') {
        _ if !endpoint.template.ends_with('}') => None,
        None => Some(reach.mount.path.to_string()),
        Some((parent, _)) => Some(format!("{}{parent}/", reach.mount.path)),
    };
    [Some(format!("{base}/")), parent]
        .into_iter()
        .flatten()
        .find(|path| matches(path))
}

/// The capability operations of a set, listing ones last.
pub fn operations_of(capabilities: CapSet) -> Vec<Operation> {
    use crate::policy::Capability;
    let order = [
        (Capability::Update, Operation::Update),
        (Capability::Create, Operation::Create),
        (Capability::Patch, Operation::Patch),
        (Capability::Delete, Operation::Delete),
        (Capability::Read, Operation::Read),
        (Capability::List, Operation::List),
        (Capability::Scan, Operation::Scan),
    ];
    order
        .into_iter()
        .filter(|(capability, _)| capabilities.contains(*capability))
        .map(|(_, operation)| operation)
        .collect()
}

/// A dangerous endpoint of an engine: a template under mounts of `kind` and the operations on
/// it that matter.
#[derive(Clone, Copy, Debug)]
pub struct EngineEndpoint {
    pub kind: &'static str,
    /// Relative to the mount, e.g. `destroy/{path}`.
    pub template: &'static str,
    pub operations: &'static [Operation],
    /// What a holder can do there, e.g. "destroys every version of a secret".
    pub effect: &'static str,
    /// Request body fields that make the request dangerous (any one of them), when the
    /// endpoint is harmless without them; empty when the request itself is the danger.
    pub fields: &'static [&'static str],
}

/// A block of the policy through which a holder reaches a dangerous engine endpoint.
#[derive(Clone, Debug)]
pub struct EngineFinding {
    pub span: Span,
    pub operations: Vec<Operation>,
    /// The request path the holder can send.
    pub witness: String,
    /// "kv v2 `secret/destroy/{path}`".
    pub endpoint: String,
    pub effect: &'static str,
    /// Whether the witness is a name the policy never wrote (the grant covers a whole area).
    pub broad: bool,
}

impl EngineFinding {
    /// "grants `update` on `secret/destroy/anything` (kv v2 `secret/destroy/{path}`): EFFECT".
    pub fn message(&self) -> String {
        let operations: Vec<&str> = self.operations.iter().map(|op| op.name()).collect();
        format!(
            "grants {} on `{}` ({}): {}",
            crate::lint::wording::ticked(operations),
            self.witness,
            self.endpoint,
            self.effect
        )
    }
}

/// The mounts of `kind` to probe: those the policy's patterns are under, those declared, and
/// the engine's default path. Cost: O(distinct mounts of the policy + declared mounts), the
/// patterns' mounts being resolved once per policy ([`crate::lint::PolicyIndex::pattern_mounts`]).
fn mounts_of_kind(ctx: &PolicyContext<'_>, map: &MountMap<'_>, kind: &str) -> Vec<MountOf> {
    let mut found: Vec<MountOf> = Vec::new();
    let mut seen: FastSet<String> = FastSet::default();
    let mut add = |mount: Option<MountOf>| {
        if let Some(mount) = mount.filter(|m| m.kind == kind) {
            if seen.insert(mount.path.clone()) {
                found.push(mount);
            }
        }
    };
    for mount in ctx.index.pattern_mounts(ctx.mounts) {
        add(Some(mount));
    }
    for declared in ctx.mounts.iter() {
        add(map.resolve(&declared.path));
    }
    let default_path = if kind == "kv-v2" { "secret/" } else { "" };
    let default_path = match default_path {
        "" => format!("{kind}/"),
        path => path.to_string(),
    };
    add(map.resolve(&default_path));
    found
}

/// Probes dangerous engine endpoints: for each mount of their kind, the endpoint filled with
/// [`FILLER`] and filled from each of the policy's patterns, each operation asked of the
/// policy's ACL. One finding per winning block, in source order.
/// Cost: O(endpoints × mounts × (rules + 1) × operations) ACL decisions; the witnesses are
/// probed as they are made, never all held at once.
pub fn probe_engine(ctx: &PolicyContext<'_>, endpoints: &[EngineEndpoint]) -> Vec<EngineFinding> {
    let map = mount_map(ctx);
    let mut findings: BTreeMap<usize, EngineFinding> = BTreeMap::new();
    for area in endpoints {
        for mount in mounts_of_kind(ctx, &map, area.kind) {
            let filled = fill(area.template, |_| FILLER);
            let Some(endpoint) = map
                .catalog()
                .lookup(&mount.kind, &filled)
                .filter(|endpoint| endpoint.template == area.template)
            else {
                continue;
            };
            let name = describe(&mount, endpoint);
            for_each_witness(ctx, &mount, area.template, |path, broad| {
                for operation in area.operations {
                    let Some(span) = allowing_with_fields(ctx, *operation, path, area.fields)
                    else {
                        continue;
                    };
                    let finding = findings.entry(span.start).or_insert_with(|| EngineFinding {
                        span,
                        operations: Vec::new(),
                        witness: path.to_string(),
                        endpoint: name.clone(),
                        effect: area.effect,
                        broad,
                    });
                    if finding.witness == path && !finding.operations.contains(operation) {
                        finding.operations.push(*operation);
                    }
                }
            });
        }
    }
    findings.into_values().collect()
}

/// The block through which a holder can send the request, with one of `fields` set when
/// there are any (so that `allowed_parameters` that keep them out are respected).
fn allowing_with_fields(
    ctx: &PolicyContext<'_>,
    operation: Operation,
    path: &str,
    fields: &[&str],
) -> Option<Span> {
    if fields.is_empty() {
        return allowing_specific_block(ctx, operation, path);
    }
    fields.iter().find_map(|field| {
        let mut request = crate::acl::Request::new(operation, path);
        request
            .data
            .insert((*field).to_string(), serde_json::Value::Bool(true));
        let verdict = ctx.acl.verdict(&request);
        if !verdict.allowed {
            return None;
        }
        winning_block(ctx, verdict.winner, operation.capability())
            .filter(|span| !is_catch_all_block(ctx, *span))
    })
}

fn fill<'t>(template: &'t str, value: impl Fn(&str) -> &'t str) -> String {
    template
        .split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(name) => value(name.trim_end_matches('}')),
            None => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Calls `probe` with the endpoint at `mount` filled with [`FILLER`] (broad), then filled
/// from the segments of each of the policy's patterns under the mount (the names the policy
/// spells out), each distinct path once, in that order. The paths are probed as they are
/// made and none is kept. A path equal to the broad one or to the one just before is skipped;
/// another repeat is probed again, which is harmless: a probe of a path already probed finds
/// the same blocks and adds nothing ([`probe_engine`] keeps the first witness of each block),
/// and costs no more than a new path (keeping every path seen would cost an allocation and a
/// hash of each, more than the rare repeat).
/// Cost: O(blocks under the mount × pattern length) plus the probes; the blocks are grouped by
/// mount once per policy ([`crate::lint::PolicyIndex::rules_under`]).
fn for_each_witness(
    ctx: &PolicyContext<'_>,
    mount: &MountOf,
    template: &str,
    mut probe: impl FnMut(&str, bool),
) {
    let broad_path = format!("{}{}", mount.path, fill(template, |_| FILLER));
    probe(&broad_path, true);
    let mut path = broad_path.clone();
    let mut previous = String::new();
    let mut written: Vec<&str> = Vec::new();
    for index in ctx.index.rules_under(&mount.path) {
        let Some(pattern) = &ctx.policy.rules[index].pattern else {
            continue;
        };
        let Some(relative) = pattern.normalized.strip_prefix(mount.path.as_str()) else {
            continue;
        };
        written.clear();
        written.extend(relative.split('/'));
        let (filled, broad) = fill_from_pattern(template, &written);
        path.truncate(mount.path.len());
        path.push_str(&filled);
        if path != broad_path && path != previous {
            probe(&path, broad);
            previous.clone_from(&path);
        }
    }
}

/// Probes dangerous engine endpoints and reports each finding as "grants OPS on `WITNESS`
/// (ENDPOINT): EFFECT", at the rule's severity when the grant covers names the policy never
/// wrote, one step lower otherwise.
pub fn report_engine(
    meta: &crate::lint::RuleMeta,
    ctx: &PolicyContext<'_>,
    endpoints: &[EngineEndpoint],
    label: &'static str,
    help: &str,
    out: &mut Vec<crate::diag::Diagnostic>,
) {
    for finding in probe_engine(ctx, endpoints) {
        let severity = if finding.broad {
            meta.severity
        } else {
            crate::lint::wording::lower(meta.severity)
        };
        out.push(
            crate::lint::wording::diagnostic_at(meta, severity, finding.span, finding.message())
                .with_label(label)
                .with_help(help),
        );
    }
}

/// A template's parameters filled from the segments a pattern writes at the same positions
/// (a `+` or a glob becomes [`FILLER`]; a rest parameter at the end takes every remaining
/// segment), and whether a filler was needed. `written` is the pattern relative to the mount.
/// Cost: O(template length + pattern length), written into one string.
pub fn fill_from_pattern(template: &str, written: &[&str]) -> (String, bool) {
    let last = template.split('/').count() - 1;
    let mut broad = false;
    let mut out = String::with_capacity(template.len() + 16);
    let mut concrete = |out: &mut String, text: &str| {
        if text.is_empty() || text == "+" || text == "*" {
            broad = true;
            out.push_str(FILLER);
            return;
        }
        match text.strip_suffix('*') {
            Some(start) => {
                broad = true;
                out.push_str(start);
                out.push_str(FILLER);
            }
            None => out.push_str(text),
        }
    };
    for (index, part) in template.split('/').enumerate() {
        if index > 0 {
            out.push('/');
        }
        if !part.starts_with('{') {
            out.push_str(part);
            continue;
        }
        let rest_at_end = index == last && matches!(part, "{path}" | "{prefix}");
        match written.get(index..) {
            Some(remaining) if rest_at_end && !remaining.is_empty() => {
                for (taken, text) in remaining.iter().enumerate() {
                    if taken > 0 {
                        out.push('/');
                    }
                    concrete(&mut out, text);
                }
            }
            _ => concrete(&mut out, written.get(index).copied().unwrap_or("")),
        }
    }
    (out, broad)
}

/// The KV mount (`kv-v1` or `kv-v2`) a pattern is written under: its literal start lies inside
/// the mount, as the policy's mounts say (declared, shown by the policy, or the default
/// `secret/`).
pub fn kv_mount_of(map: &MountMap<'_>, pattern: &PathPattern) -> Option<MountOf> {
    inside_mount(map, pattern).filter(is_kv)
}

/// [`kv_mount_of`], KV v2 only.
pub fn kv2_mount_of(map: &MountMap<'_>, pattern: &PathPattern) -> Option<MountOf> {
    kv_mount_of(map, pattern).filter(|mount| mount.kind == "kv-v2")
}

/// [`kv_mount_of`] of a block's own pattern from the policy's [`BlockReaches`] (O(1) after the
/// policy's first), any other pattern afresh.
pub fn block_kv_mount_of<'a>(
    ctx: &PolicyContext<'a>,
    map: &MountMap<'_>,
    pattern: &PathPattern,
) -> Option<Cow<'a, MountOf>> {
    match cached(ctx, pattern) {
        Some((reaches, block)) => reaches.mount(block).filter(|m| is_kv(m)).map(Cow::Borrowed),
        None => kv_mount_of(map, pattern).map(Cow::Owned),
    }
}

/// [`block_kv_mount_of`], KV v2 only.
pub fn block_kv2_mount_of<'a>(
    ctx: &PolicyContext<'a>,
    map: &MountMap<'_>,
    pattern: &PathPattern,
) -> Option<Cow<'a, MountOf>> {
    block_kv_mount_of(ctx, map, pattern).filter(|mount| mount.kind == "kv-v2")
}

fn is_kv(mount: &MountOf) -> bool {
    matches!(mount.kind.as_str(), "kv-v1" | "kv-v2")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::context::tests::policy;
    use crate::lint::PolicyIndex;
    use crate::mounts::Mounts;
    use crate::target::Target;

    /// The per-policy cache answers what [`reach`] and [`kv_mount_of`] answer, block by block,
    /// over mounts of several kinds, a KV v2 mount the policy shows, unknown mounts, `+` and
    /// globs; a pattern that is not a block's own is computed afresh.
    #[test]
    fn block_reaches_agree_with_reach() {
        let labels = [
            "secret/data/app/*",
            "secret/metadata/app",
            "kv/data/x",
            "kv/metadata/+/y",
            "pki/issue/web",
            "auth/approle/login",
            "sys/policies/acl/*",
            "transit/keys/k*",
            "nothing/here",
            "+/x",
            "*",
            "/secret/data/lead",
            "secret/data/app/*",
        ];
        let text: String = labels
            .iter()
            .map(|label| format!("path \"{label}\" {{ capabilities = [\"read\"] }}\n"))
            .collect();
        let policy = policy(&text);
        let index = PolicyIndex::new(&policy, Target::Vault).unwrap();
        let mounts = Mounts::default();
        let ctx = index.context(&mounts);
        let map = ctx.mount_map();
        let view = |reach: Option<PatternReach<'_>>| {
            reach.map(|r| {
                (
                    r.mount.into_owned(),
                    r.relative.to_string(),
                    r.endpoints.to_vec(),
                )
            })
        };
        let mut reached = 0;
        for rule in &policy.rules {
            let pattern = rule.pattern.as_ref().unwrap();
            assert!(index.block_of_pattern(pattern).is_some());
            let fresh = view(reach(&map, pattern));
            reached += usize::from(fresh.as_ref().is_some_and(|(_, _, e)| !e.is_empty()));
            assert_eq!(
                view(block_reach(&ctx, &map, pattern)),
                fresh,
                "{}",
                pattern.normalized
            );
            assert_eq!(
                block_kv_mount_of(&ctx, &map, pattern).map(Cow::into_owned),
                kv_mount_of(&map, pattern),
                "{}",
                pattern.normalized
            );
        }
        assert!(reached >= 5, "the labels reach endpoints: {reached}");
        let copy = policy.rules[0].pattern.clone().unwrap();
        assert_eq!(index.block_of_pattern(&copy), None);
        assert_eq!(
            view(block_reach(&ctx, &map, &copy)),
            view(reach(&map, &copy))
        );
    }

    #[test]
    fn templates_fill_from_the_written_segments() {
        let written = ["data", "team0", "app"];
        assert_eq!(
            fill_from_pattern("destroy/{path}", &written),
            ("destroy/team0/app".to_string(), false)
        );
        assert_eq!(
            fill_from_pattern("export/{type}/{name}", &["keys", "k*"]),
            ("export/kanything/anything".to_string(), true)
        );
        assert_eq!(
            fill_from_pattern("metadata/{path}", &["data", "+", "*"]),
            ("metadata/anything/anything".to_string(), true)
        );
        assert_eq!(
            fill_from_pattern("{path}", &[]),
            ("anything".to_string(), true)
        );
        assert_eq!(
            fill_from_pattern("roles/{name}/config", &["roles", "app"]),
            ("roles/app/config".to_string(), false)
        );
    }
}
