//! Which mount, of which kind, a path or pattern is under, and how sure capable is of it.
//!
//! Sources, strongest first: the fixed mounts every server has (`sys/`, `auth/token/`,
//! `identity/`, `cubbyhole/`); the mounts written in `capable.yaml` (`mounts:`); evidence in
//! the policy itself (a pattern under `kv/data/` or `kv/metadata/` shows that `kv/` is KV v2);
//! and last the default path of an engine (`pki/` is PKI, `auth/approle/` is AppRole, the
//! dev server's `secret/` is KV v2), which is a guess.

use std::borrow::Cow;

use super::catalog::{catalog, Catalog, Endpoint};
use crate::mounts::Mounts;
use crate::policy::{PathPattern, Policy};
use crate::target::Target;

/// std's set with a fast (non-SipHash) hasher.
type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// How a mount's kind is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Evidence {
    /// A mount every server has at that path.
    Builtin,
    /// Written in `capable.yaml`.
    Declared,
    /// Shown by the policy's own patterns (`M/data/...` or `M/metadata/...` for KV v2).
    Policy,
    /// Only the engine's default path: a guess.
    DefaultPath,
}

impl Evidence {
    /// Whether the kind is known rather than guessed.
    pub fn is_known(self) -> bool {
        self != Evidence::DefaultPath
    }
}

/// A resolved mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountOf {
    /// The mount path with its trailing `/`.
    pub path: String,
    /// The catalog kind (`kv-v2`, `pki`, `auth-approle`, ...); declared engines the catalog
    /// does not know keep their own name.
    pub kind: String,
    pub evidence: Evidence,
}

/// Mounts every server has, with their kinds.
const BUILTIN: &[(&str, &str)] = &[
    ("sys/", "sys"),
    ("auth/token/", "token"),
    ("identity/", "identity"),
    ("cubbyhole/", "cubbyhole"),
];

/// What the mount resolution of one policy knows. Building it costs O(rules of the policy)
/// (or nothing, around evidence already gathered: [`MountMap::with_evidence`]); a resolution
/// costs O(declared mounts + path length).
#[derive(Clone, Debug)]
pub struct MountMap<'a> {
    catalog: &'static Catalog,
    declared: &'a Mounts,
    /// Mount paths the policy shows to be KV v2.
    kv2_evidence: Cow<'a, Kv2Evidence>,
}

/// The mounts some patterns show to be KV v2 (`kv/` for `kv/data/app/*`): always one
/// segment, so they are kept by that segment. Cost: O(patterns × pattern length) to gather,
/// one hash lookup to ask.
#[derive(Clone, Debug, Default)]
pub struct Kv2Evidence {
    first_segments: FastSet<String>,
}

impl Kv2Evidence {
    /// The evidence of some patterns.
    pub fn gather<'p>(patterns: impl IntoIterator<Item = &'p PathPattern>) -> Kv2Evidence {
        let mut first_segments = FastSet::default();
        for pattern in patterns {
            if let Some(first) = kv2_shown_by(pattern) {
                if !first_segments.contains(first) {
                    first_segments.insert(first.to_string());
                }
            }
        }
        Kv2Evidence { first_segments }
    }

    /// The evidence of a policy's patterns.
    pub fn of_policy(policy: &Policy) -> Kv2Evidence {
        Kv2Evidence::gather(policy.rules.iter().filter_map(|rule| rule.pattern.as_ref()))
    }

    /// The KV v2 mount `path` is under, by this evidence: its first segment with the `/`.
    fn mount_of(&self, path: &str) -> Option<String> {
        let (first, _) = path.split_once('/')?;
        self.first_segments
            .contains(first)
            .then(|| format!("{first}/"))
    }
}

impl<'a> MountMap<'a> {
    /// The mounts as seen from one policy.
    pub fn new(target: Target, declared: &'a Mounts, policy: &Policy) -> MountMap<'a> {
        let patterns = policy.rules.iter().filter_map(|rule| rule.pattern.as_ref());
        MountMap::from_patterns(target, declared, patterns)
    }

    /// The mounts as seen from some patterns.
    pub fn from_patterns<'p>(
        target: Target,
        declared: &'a Mounts,
        patterns: impl IntoIterator<Item = &'p PathPattern>,
    ) -> MountMap<'a> {
        MountMap {
            catalog: catalog(target),
            declared,
            kv2_evidence: Cow::Owned(Kv2Evidence::gather(patterns)),
        }
    }

    /// The mounts as seen through evidence already gathered. Cost: O(1).
    pub fn with_evidence(
        target: Target,
        declared: &'a Mounts,
        evidence: &'a Kv2Evidence,
    ) -> MountMap<'a> {
        MountMap {
            catalog: catalog(target),
            declared,
            kv2_evidence: Cow::Borrowed(evidence),
        }
    }

    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// The mount a path (or a pattern's literal start) is under, if anything is known of it.
    /// The text must reach past the mount path: `secret/` and `secret/x` resolve, `secret`
    /// does not.
    pub fn resolve(&self, path: &str) -> Option<MountOf> {
        let path = path.trim_start_matches('/');
        self.builtin(path)
            .or_else(|| self.declared(path))
            .or_else(|| self.shown_by_policy(path))
            .or_else(|| self.default_path(path))
    }

    /// The mount and endpoint a request path reaches (a listing request with its `/`).
    pub fn endpoint(&self, path: &str) -> Option<(MountOf, &'static Endpoint)> {
        let mount = self.resolve(path)?;
        let relative = path.trim_start_matches('/').get(mount.path.len()..)?;
        let endpoint = self.catalog.lookup(&mount.kind, relative)?;
        Some((mount, endpoint))
    }

    fn builtin(&self, path: &str) -> Option<MountOf> {
        let (mount, kind) = BUILTIN.iter().find(|(mount, _)| path.starts_with(mount))?;
        Some(MountOf {
            path: mount.to_string(),
            kind: kind.to_string(),
            evidence: Evidence::Builtin,
        })
    }

    fn declared(&self, path: &str) -> Option<MountOf> {
        if !self.declared.is_declared() {
            return None;
        }
        let mount = self.declared.find(path)?;
        if !path.starts_with(mount.path.as_str()) {
            return None;
        }
        let kind = match (mount.engine.as_str(), mount.kv_version) {
            ("kv", Some(2)) => "kv-v2".to_string(),
            ("kv", _) => "kv-v1".to_string(),
            (engine, _) if mount.path.starts_with("auth/") => format!("auth-{engine}"),
            (engine, _) => engine.to_string(),
        };
        Some(MountOf {
            path: mount.path.clone(),
            kind,
            evidence: Evidence::Declared,
        })
    }

    fn shown_by_policy(&self, path: &str) -> Option<MountOf> {
        let mount = self.kv2_evidence.mount_of(path)?;
        Some(MountOf {
            path: mount,
            kind: "kv-v2".into(),
            evidence: Evidence::Policy,
        })
    }

    fn default_path(&self, path: &str) -> Option<MountOf> {
        if !self.declared.is_declared() {
            if let Some(mount) = self.declared.find(path) {
                if path.starts_with(mount.path.as_str()) && mount.engine == "kv" {
                    let kind = if mount.kv_version == Some(2) {
                        "kv-v2"
                    } else {
                        "kv-v1"
                    };
                    return Some(MountOf {
                        path: mount.path.clone(),
                        kind: kind.into(),
                        evidence: Evidence::DefaultPath,
                    });
                }
            }
        }
        let (auth, rest) = match path.strip_prefix("auth/") {
            Some(rest) => (true, rest),
            None => (false, path),
        };
        let (name, _) = rest.split_once('/')?;
        let kind = if auth {
            format!("auth-{name}")
        } else {
            name.to_string()
        };
        // KV's default path says nothing of its version; `secret/` comes from the table.
        if kind.starts_with("kv") || !self.catalog.knows_kind(&kind) {
            return None;
        }
        let prefix = if auth { "auth/" } else { "" };
        Some(MountOf {
            path: format!("{prefix}{name}/"),
            kind,
            evidence: Evidence::DefaultPath,
        })
    }
}

/// `kv/data/app/*` → `kv`: a pattern whose second segment is `data` or `metadata`, under a
/// mount that is not one of the built-in ones or an auth method (the mount's only segment).
fn kv2_shown_by(pattern: &PathPattern) -> Option<&str> {
    let mut parts = pattern.normalized.split('/');
    let first = parts.next()?;
    let second = parts.next()?;
    parts.next()?;
    let literal = !first.is_empty() && !first.contains(['+', '*']);
    let builtin = BUILTIN
        .iter()
        .any(|(mount, _)| mount.trim_end_matches('/') == first)
        || first == "auth";
    (literal && !builtin && matches!(second, "data" | "metadata")).then_some(first)
}

/// A short name of a mount kind for messages: `kv v2`, `pki`, `approle auth`, `token store`.
pub fn kind_title(kind: &str) -> String {
    match kind {
        "sys" => "system".into(),
        "token" => "token store".into(),
        "kv-v1" => "kv v1".into(),
        "kv-v2" => "kv v2".into(),
        other => match other.strip_prefix("auth-") {
            Some(method) => format!("{method} auth"),
            None => other.into(),
        },
    }
}
