//! KV mounts as the mount table declares them, and where a pattern lies in one.

use crate::lint::matching::{can_match_under, literal_prefix};
use crate::lint::PolicyContext;
use crate::policy::PathPattern;

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
