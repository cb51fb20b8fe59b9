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
pub use mounts::{kind_title, Evidence, MountMap, MountOf};

/// "kv v2 `secret/data/{path}`": the endpoint under a mount, for messages.
pub fn describe(mount: &MountOf, endpoint: &Endpoint) -> String {
    format!(
        "{} `{}{}`",
        kind_title(&mount.kind),
        mount.path,
        endpoint.template
    )
}

#[cfg(test)]
mod tests;
