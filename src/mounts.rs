//! The mount table: which secrets engine is mounted where (`mounts:` in `capable.yaml`, and
//! the built-in default of a dev server). A bottom-layer type: lints, the inventory and the
//! queries read it; `crate::config` fills it in.

/// The engine behind a mount (only what capable reasons about).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The mount path with a trailing `/`, e.g. `secret/`.
    pub path: String,
    /// Engine type as Vault names it: `kv`, `database`, `pki`, `transit`, `aws`, ...
    pub engine: String,
    /// For `kv`: 1 or 2.
    pub kv_version: Option<u8>,
}

/// The mount table: by default `secret/` is KV v2 (as on a dev server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mounts {
    /// Sorted by path; lookups pick the longest mount path that prefixes the request path.
    mounts: Vec<Mount>,
    /// Whether the table was written (`mounts:` in `capable.yaml`, or built by a caller)
    /// rather than assumed (the default `secret/`): a written mount is evidence of its engine.
    declared: bool,
}

impl Default for Mounts {
    fn default() -> Mounts {
        let mut mounts = Mounts::new(vec![Mount {
            path: "secret/".into(),
            engine: "kv".into(),
            kv_version: Some(2),
        }]);
        mounts.declared = false;
        mounts
    }
}

impl Mounts {
    pub fn new(mut mounts: Vec<Mount>) -> Mounts {
        for mount in &mut mounts {
            if !mount.path.ends_with('/') {
                mount.path.push('/');
            }
        }
        mounts.sort_by(|a, b| a.path.cmp(&b.path));
        Mounts {
            mounts,
            declared: true,
        }
    }

    /// Whether the table was written rather than assumed (see [`Mounts::default`]).
    pub fn is_declared(&self) -> bool {
        self.declared
    }

    /// The mount a path lives under (longest matching mount path). Cost: O(mounts).
    pub fn find(&self, path: &str) -> Option<&Mount> {
        let path = path.trim_start_matches('/');
        self.mounts
            .iter()
            .filter(|m| path.starts_with(m.path.as_str()) || path == m.path.trim_end_matches('/'))
            .max_by_key(|m| m.path.len())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Mount> {
        self.mounts.iter()
    }

    /// The KV version of the mount holding `path`, if it is a KV mount.
    pub fn kv_version(&self, path: &str) -> Option<u8> {
        self.find(path)
            .filter(|m| m.engine == "kv")
            .map(|m| m.kv_version.unwrap_or(1))
    }
}
