//! What a policy's patterns reach in the endpoint catalog ([`crate::endpoints`]), per pattern
//! and, kept compactly, per block of one policy ([`BlockReaches`], built once by the rule
//! context). Below the rule context and the rules: it knows patterns, mounts and the
//! catalog only. The rules reach it through `rules::endpoint_reach`.

use std::borrow::Cow;

use crate::acl::FastMap;
use crate::endpoints::{describe, Endpoint, MountMap, MountOf};
use crate::lint::matching::literal_prefix;
use crate::policy::{CapSet, PathPattern};

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

/// The mount the pattern's literal start resolves to, when the literal start lies inside it.
pub(crate) fn inside_mount(map: &MountMap<'_>, pattern: &PathPattern) -> Option<MountOf> {
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
/// `block_kv_mount_of` in the endpoint rules): per block two numbers, the mount its literal start lies inside and
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
    pub fn reach<'r>(&'r self, block: usize, pattern: &'r PathPattern) -> Option<PatternReach<'r>> {
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
    pub fn mount(&self, block: usize) -> Option<&MountOf> {
        let (mount, _) = *self.blocks.get(block)?;
        (mount != NONE).then(|| &self.mounts[mount as usize])
    }
}
