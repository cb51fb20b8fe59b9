//! The endpoint catalog: which API paths Vault and OpenBao have, per mount kind, with the
//! capabilities each can need, whether it is root-protected (`sudo`), whether it needs no
//! token at all, and its request body fields.
//!
//! OpenBao's data is generated from the real binary (`scripts/gen-endpoints`: a dev server
//! with every built-in engine and auth method mounted at its default path, then
//! `GET sys/internal/specs/openapi`); Vault's is reduced from the facts of its published
//! OpenAPI document (`../shared/endpoints/vault-1.15.json`). Both are embedded and parsed
//! once, on first use ([`catalog`]). [`MountMap`] says which mount kind a path is under.

mod catalog;
mod mounts;

pub use catalog::{catalog, Catalog, Endpoint, Reached};
pub use mounts::{kind_title, Evidence, Kv2Evidence, MountMap, MountOf};

/// "kv v2 `secret/data/{path}`": the endpoint under a mount, for messages.
pub fn describe(mount: &MountOf, endpoint: &Endpoint) -> String {
    format!(
        "{} `{}{}`",
        kind_title(&mount.kind),
        mount.path,
        endpoint.template
    )
}

/// The endpoint a request path is, as `explain`, `reach` and `who-can` name it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Named {
    /// The mount kind (`kv-v2`, `pki`, `auth-approle`, `sys`, ...).
    pub kind: String,
    /// The kind for people (`kv v2`, `approle auth`, `system`).
    pub title: String,
    /// The mount path (`secret/`).
    pub mount: String,
    /// The endpoint's path template under the mount (`data/{path}`).
    pub template: String,
    /// Root-protected: a request needs `sudo` too.
    pub sudo: bool,
    /// Answered without a token: no policy applies to it.
    pub unauthenticated: bool,
    /// The mount's kind is only guessed from the engine's default path.
    pub guessed: bool,
}

impl Named {
    /// ``kv v2 `secret/data/{path}` `` (saying when it is root-protected or needs no token,
    /// and when the mount's kind is only guessed from its default path).
    pub fn words(&self) -> String {
        let mut text = format!("{} `{}{}`", self.title, self.mount, self.template);
        if self.sudo {
            text.push_str(", root-protected (needs `sudo`)");
        }
        if self.unauthenticated {
            text.push_str(", answered without a token");
        }
        if self.guessed {
            text.push_str(&format!(
                " (if `{}` is {}, as its default path suggests)",
                self.mount, self.title
            ));
        }
        text
    }
}

/// The endpoint a request path reaches (a listing request with its trailing `/`), if the
/// catalog knows its mount and template. Cost: one [`MountMap::endpoint`] lookup.
pub fn name_of(map: &MountMap<'_>, path: &str) -> Option<Named> {
    let (mount, endpoint) = map.endpoint(path)?;
    Some(Named {
        title: kind_title(&mount.kind),
        kind: mount.kind,
        mount: mount.path,
        template: endpoint.template.to_string(),
        sudo: endpoint.sudo,
        unauthenticated: endpoint.unauthenticated,
        guessed: !mount.evidence.is_known(),
    })
}

/// The endpoints a region of paths (a policy pattern, full or relative to a namespace)
/// reaches where a request needs `capability` (any capability when `None`), in catalog
/// order. Cost: one [`Catalog::reached_by`] walk.
pub fn named_by_pattern(
    map: &MountMap<'_>,
    pattern: &str,
    capability: Option<crate::policy::Capability>,
) -> Vec<Named> {
    let Some(mount) = map.resolve(pattern) else {
        return Vec::new();
    };
    let Some(relative) = pattern.trim_start_matches('/').get(mount.path.len()..) else {
        return Vec::new();
    };
    let Ok(relative) = crate::policy::PathPattern::parse(relative) else {
        return Vec::new();
    };
    let catalog = map.catalog();
    catalog
        .reached_by(&mount.kind, &relative)
        .into_iter()
        .filter(|reached| capability.is_none_or(|c| reached.capabilities.contains(c)))
        .map(|reached| {
            let endpoint = catalog.endpoint(reached.endpoint);
            Named {
                kind: mount.kind.clone(),
                title: kind_title(&mount.kind),
                mount: mount.path.clone(),
                template: endpoint.template.to_string(),
                sudo: endpoint.sudo,
                unauthenticated: endpoint.unauthenticated,
                guessed: !mount.evidence.is_known(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
