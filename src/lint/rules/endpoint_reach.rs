//! What a policy's patterns reach in the endpoint catalog ([`crate::endpoints`]); not a rule.
//! The endpoint rules (`sudo-missing`, `unauthenticated-path`, `capability-unsupported`,
//! `unknown-endpoint`) and the engine rules (`kv2-destroy`, `pki-ca-admin`,
//! `secrets-role-admin`, `transit-key-export`) share it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::acl::Operation;
use crate::acl::{FastMap, FastSet};
use crate::endpoints::{describe, Endpoint, MountMap, MountOf};
use crate::lint::holder::{allowing_specific_block, is_catch_all_block, winning_block};
use crate::lint::matching::{literal_prefix, pattern_matches, FILLER};
use crate::lint::PolicyContext;
use crate::policy::{CapSet, PathPattern};
use crate::span::Span;

/// The mounts as this policy shows them ([`PolicyContext::mount_map`]). Cost: O(1) after the
/// policy's first.
pub fn mount_map<'a>(ctx: &PolicyContext<'a>) -> MountMap<'a> {
    ctx.mount_map()
}

/// The endpoints a pattern reaches under its mount, with the capabilities of each that a
/// request it matches can need. Borrowed from the policy's [`BlockReaches`] for a block's own
/// pattern, owned for another.
#[derive(Clone, Debug)]
pub struct PatternReach<'r> {
    pub mount: Cow<'r, MountOf>,
    /// The pattern relative to the mount (normalised: no leading `/`).
    pub relative: &'r str,
    pub endpoints: Cow<'r, [(&'static Endpoint, CapSet)]>,
}

impl PatternReach<'_> {
    /// The union of the capabilities the reached endpoints can need.
    pub fn capabilities(&self) -> CapSet {
        self.endpoints
            .iter()
            .fold(CapSet::EMPTY, |set, (_, caps)| set.union(*caps))
    }

    /// "kv v2 `secret/data/{path}`" of the first reached endpoint, and how many more.
    pub fn named(&self, endpoints: &[&Endpoint]) -> String {
        let Some(first) = endpoints.first() else {
            return String::new();
        };
        let name = describe(&self.mount, first);
        match endpoints.len() {
            1 => name,
            2 => format!("{name} and 1 other"),
            n => format!("{name} and {} others", n - 1),
        }
    }
}

/// What a pattern reaches, when its literal start lies inside a mount of a kind the catalog
/// knows. Cost: the catalog nodes the pattern reaches.
pub fn reach<'p>(map: &MountMap<'_>, pattern: &'p PathPattern) -> Option<PatternReach<'p>> {
    let mount = inside_mount(map, pattern)?;
    let (relative, endpoints) = reached(map, pattern, &mount)?;
    Some(PatternReach {
        mount: Cow::Owned(mount),
        relative,
        endpoints: Cow::Owned(endpoints),
    })
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

/// The mount the pattern's literal start resolves to, when the literal start lies inside it.
fn inside_mount(map: &MountMap<'_>, pattern: &PathPattern) -> Option<MountOf> {
    let literal = literal_prefix(pattern);
    let mount = map.resolve(literal)?;
    literal.starts_with(mount.path.as_str()).then_some(mount)
}

/// The pattern relative to `mount` and the endpoints it reaches there, when the catalog knows
/// the mount's kind. Cost: the catalog nodes the pattern reaches.
#[allow(clippy::type_complexity)]
fn reached<'p>(
    map: &MountMap<'_>,
    pattern: &'p PathPattern,
    mount: &MountOf,
) -> Option<(&'p str, Vec<(&'static Endpoint, CapSet)>)> {
    let catalog = map.catalog();
    if !catalog.knows_kind(&mount.kind) {
        return None;
    }
    let relative = PathPattern::parse(&pattern.normalized[mount.path.len()..]).ok()?;
    let endpoints = catalog
        .reached_by(&mount.kind, &relative)
        .into_iter()
        .map(|reached| (catalog.endpoint(reached.endpoint), reached.capabilities))
        .collect();
    Some((relative_text(pattern, mount), endpoints))
}

/// The pattern's text after the mount path, as [`PathPattern::parse`] normalises it.
fn relative_text<'p>(pattern: &'p PathPattern, mount: &MountOf) -> &'p str {
    let rest = &pattern.normalized[mount.path.len()..];
    rest.strip_prefix('/').unwrap_or(rest)
}

/// No mount, or no reach, of a block.
const NONE: u32 = u32::MAX;

/// What every block of one policy reaches, kept compactly for the rules that each ask it of
/// every block (`sudo-missing`, `create-without-update`, `capability-unsupported`,
/// `unknown-endpoint`, `unauthenticated-path`, and the KV rules through
/// [`block_kv_mount_of`]): per block two numbers, the mount its literal start lies inside and
/// the list of endpoints it reaches, each distinct mount and list stored once (a big policy
/// over a few mounts and shapes of path holds a handful of each).
/// Cost: built in O(blocks × pattern length) resolutions and catalog walks, once per policy;
/// 8 bytes per block plus the distinct mounts and lists.
pub struct BlockReaches {
    mounts: Vec<MountOf>,
    lists: Vec<Vec<(&'static Endpoint, CapSet)>>,
    /// Per block: (mount, list), [`NONE`] where there is none.
    blocks: Vec<(u32, u32)>,
}

impl BlockReaches {
    /// What each block of `policy` reaches under `map`. Cost: see [`BlockReaches`].
    pub fn of_policy(map: &MountMap<'_>, policy: &crate::policy::Policy) -> BlockReaches {
        let mut reaches = BlockReaches {
            mounts: Vec::new(),
            lists: Vec::new(),
            blocks: Vec::with_capacity(policy.rules.len()),
        };
        let mut mount_ids: FastMap<(String, String), Vec<u32>> = FastMap::default();
        let mut list_ids: FastMap<Vec<(usize, CapSet)>, u32> = FastMap::default();
        for rule in &policy.rules {
            let Some(pattern) = &rule.pattern else {
                reaches.blocks.push((NONE, NONE));
                continue;
            };
            let Some(mount) = inside_mount(map, pattern) else {
                reaches.blocks.push((NONE, NONE));
                continue;
            };
            let list = match reached(map, pattern, &mount) {
                Some((_, endpoints)) => reaches.intern_list(&mut list_ids, endpoints),
                None => NONE,
            };
            let mount = reaches.intern_mount(&mut mount_ids, mount);
            reaches.blocks.push((mount, list));
        }
        reaches
    }

    fn intern_mount(
        &mut self,
        ids: &mut FastMap<(String, String), Vec<u32>>,
        mount: MountOf,
    ) -> u32 {
        let same = ids
            .entry((mount.path.clone(), mount.kind.clone()))
            .or_default();
        if let Some(&id) = same
            .iter()
            .find(|&&id| self.mounts[id as usize].evidence == mount.evidence)
        {
            return id;
        }
        let id = self.mounts.len() as u32;
        same.push(id);
        self.mounts.push(mount);
        id
    }

    fn intern_list(
        &mut self,
        ids: &mut FastMap<Vec<(usize, CapSet)>, u32>,
        endpoints: Vec<(&'static Endpoint, CapSet)>,
    ) -> u32 {
        let key: Vec<(usize, CapSet)> = endpoints
            .iter()
            .map(|(endpoint, caps)| (*endpoint as *const Endpoint as usize, *caps))
            .collect();
        let next = self.lists.len() as u32;
        let id = *ids.entry(key).or_insert(next);
        if id == next {
            self.lists.push(endpoints);
        }
        id
    }

    /// [`reach`] of block `block`, whose pattern is `pattern`.
    fn reach<'r>(&'r self, block: usize, pattern: &'r PathPattern) -> Option<PatternReach<'r>> {
        let (mount, list) = *self.blocks.get(block)?;
        if list == NONE {
            return None;
        }
        let mount = &self.mounts[mount as usize];
        Some(PatternReach {
            mount: Cow::Borrowed(mount),
            relative: relative_text(pattern, mount),
            endpoints: Cow::Borrowed(&self.lists[list as usize]),
        })
    }

    /// The mount block `block`'s literal start lies inside.
    fn mount(&self, block: usize) -> Option<&MountOf> {
        let (mount, _) = *self.blocks.get(block)?;
        (mount != NONE).then(|| &self.mounts[mount as usize])
    }
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
    label: &str,
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
