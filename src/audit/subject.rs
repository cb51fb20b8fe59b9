//! Who made a logged request: the auth role behind a token, from what the log shows.
//!
//! A login's token carries the auth method's metadata (`role` for Kubernetes and JWT/OIDC,
//! `role_name` for AppRole, `username` for userpass/LDAP, `cert_name` for certificates) and a
//! display name that starts with the auth mount (`/` written `-`, e.g. `kubernetes-...`,
//! `userpass-alice`, `approle`). A role `<mount>/<name>` matches an entry whose metadata names
//! `<name>` under its method's key and whose display name starts with the mount. Tokens of a
//! token role (`auth/token/create/<role>`) carry no such metadata: they are tied to the role by
//! the accessor HMAC the creation's response shows (kept in memory, never printed).

use std::borrow::Cow;
use std::collections::HashMap;

use super::entry::Entry;

/// The metadata key naming the login, by auth method type.
pub fn login_key(auth_type: &str) -> Option<&'static str> {
    Some(match auth_type {
        "kubernetes" | "jwt" | "oidc" | "aws" | "gcp" | "azure" | "alicloud" | "oci" => "role",
        "approle" => "role_name",
        "userpass" | "ldap" | "radius" | "okta" | "github" => "username",
        "cert" => "cert_name",
        _ => return None,
    })
}

/// The value of a metadata key in an entry.
fn metadata_value<'e>(entry: &'e Entry<'_>, key: &str) -> Option<&'e str> {
    let metadata = entry.metadata()?;
    let value = match key {
        "role" => &metadata.role,
        "role_name" => &metadata.role_name,
        "username" => &metadata.username,
        "cert_name" => &metadata.cert_name,
        _ => return None,
    };
    value.as_deref()
}

/// The auth mount as display names write it: `auth/` dropped, `/` as `-`, no trailing `-`.
pub fn dashed_mount(mount: &str) -> String {
    let mount = mount.trim_matches('/');
    let mount = mount.strip_prefix("auth/").unwrap_or(mount);
    mount.replace('/', "-").trim_end_matches('-').to_string()
}

/// One role to look for: `<mount>/<name>` of auth type `auth_type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleKey {
    /// The role as the user or the inventory names it (`kubernetes/inference-role`).
    pub key: String,
    pub mount: String,
    pub name: String,
    pub auth_type: String,
}

impl RoleKey {
    /// Splits `<mount>/<name>` at the last `/`; the type defaults to the mount's first segment.
    pub fn parse(key: &str, auth_type: Option<&str>) -> Option<RoleKey> {
        let (mount, name) = key.trim_matches('/').rsplit_once('/')?;
        let mount = mount.strip_prefix("auth/").unwrap_or(mount);
        let default_type = mount.split('/').next().unwrap_or(mount);
        Some(RoleKey {
            key: key.to_string(),
            mount: mount.to_string(),
            name: name.to_string(),
            auth_type: auth_type.unwrap_or(default_type).to_string(),
        })
    }

    fn display_matches(&self, entry: &Entry<'_>) -> bool {
        let Some(display) = entry.display_name() else {
            return false;
        };
        let mount = dashed_mount(&self.mount);
        display == mount || display.starts_with(&format!("{mount}-"))
    }

    /// Whether the entry's token comes from a login with this role. Cost: O(name length).
    pub fn matches(&self, entry: &Entry<'_>, token_roles: &TokenRoles) -> bool {
        if self.auth_type == "token" {
            return token_roles.role_of(entry) == Some(self.name.as_str());
        }
        let keys: &[&str] = match login_key(&self.auth_type) {
            Some(key) => &[key][..],
            None => &["role", "role_name", "username", "cert_name"],
        };
        let named = keys
            .iter()
            .any(|key| metadata_value(entry, key) == Some(self.name.as_str()));
        named && self.display_matches(entry)
    }
}

/// Finds, for an entry, the first of many roles that matches, without trying each: roles are
/// indexed by login name. Cost per entry: O(roles sharing that name).
#[derive(Clone, Debug, Default)]
pub struct RoleIndex {
    roles: Vec<RoleKey>,
    by_name: HashMap<String, Vec<usize>>,
}

impl RoleIndex {
    pub fn new(roles: Vec<RoleKey>) -> RoleIndex {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, role) in roles.iter().enumerate() {
            by_name.entry(role.name.clone()).or_default().push(index);
        }
        RoleIndex { roles, by_name }
    }

    /// The role the entry's token logged in with, if it is one of the indexed roles.
    pub fn find(&self, entry: &Entry<'_>, token_roles: &TokenRoles) -> Option<&RoleKey> {
        let metadata = entry.metadata();
        let names = metadata
            .into_iter()
            .flat_map(|m| [&m.role, &m.role_name, &m.username, &m.cert_name])
            .filter_map(|value| value.as_deref())
            .chain(token_roles.role_of(entry));
        for name in names {
            let Some(candidates) = self.by_name.get(name) else {
                continue;
            };
            let found = candidates
                .iter()
                .map(|&index| &self.roles[index])
                .find(|role| role.matches(entry, token_roles));
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

/// At most this many tokens are remembered (about 100 bytes each).
pub const TOKEN_ROLES_KEPT: usize = 1 << 20;

/// What the log showed when a token was issued.
#[derive(Clone, Debug)]
struct Issued {
    /// The token role of `auth/token/create/<role>`.
    role: Option<String>,
    /// Index into [`TokenRoles::namespaces`]: where the login or creation happened.
    namespace: u32,
}

/// Token accessor HMAC → the token role that created it and the namespace the token lives in,
/// from the responses of logins and token creations seen so far (`response.auth.accessor`).
#[derive(Clone, Debug, Default)]
pub struct TokenRoles {
    by_accessor: HashMap<String, Issued>,
    /// Distinct namespace paths, so each token costs an index, not a string.
    namespaces: Vec<String>,
    /// Issued tokens not remembered because [`TOKEN_ROLES_KEPT`] was reached.
    pub dropped: u64,
}

impl TokenRoles {
    /// Remembers the token a login or creation returned. Cost: O(1) (O(namespaces) the first
    /// time a namespace is seen).
    pub fn observe(&mut self, entry: &Entry<'_>) {
        if !entry.is_response() || entry.error.is_some() {
            return;
        }
        let accessor = entry
            .response
            .as_ref()
            .and_then(|r| r.auth.as_ref())
            .and_then(|a| a.accessor.as_deref());
        let Some(accessor) = accessor else {
            return;
        };
        let Some(namespace) = entry.namespace() else {
            return;
        };
        if self.by_accessor.len() >= TOKEN_ROLES_KEPT {
            self.dropped += 1;
            return;
        }
        let role = entry
            .path()
            .and_then(|path| path.strip_prefix("auth/token/create/"))
            .map(|role| role.trim_end_matches('/').to_string())
            .filter(|role| !role.is_empty());
        let index = match self.namespaces.iter().position(|n| *n == namespace) {
            Some(index) => index,
            None => {
                self.namespaces.push(namespace.into_owned());
                self.namespaces.len() - 1
            }
        };
        let issued = Issued {
            role,
            namespace: index as u32,
        };
        self.by_accessor.insert(accessor.to_string(), issued);
    }

    fn issued(&self, entry: &Entry<'_>) -> Option<&Issued> {
        let accessor = entry.auth.as_ref()?.accessor.as_deref()?;
        self.by_accessor.get(accessor)
    }

    /// The token role of the entry's token, if its creation was seen.
    pub fn role_of(&self, entry: &Entry<'_>) -> Option<&str> {
        self.issued(entry)?.role.as_deref()
    }

    /// The namespace the entry's token was issued in, if its login or creation was seen.
    pub fn namespace_of(&self, entry: &Entry<'_>) -> Option<&str> {
        let issued = self.issued(entry)?;
        self.namespaces
            .get(issued.namespace as usize)
            .map(String::as_str)
    }
}

/// The namespace the entry's token lives in, where its policy names are looked up
/// (docs/namespaces.md rule 6): the namespace of its login or creation when the log showed
/// it, else the namespace of the policies that granted the request, else the request's own.
/// `None` when the request's namespace is known only by id. Cost: O(1).
pub fn token_namespace<'e>(entry: &'e Entry<'_>, tokens: &'e TokenRoles) -> Option<Cow<'e, str>> {
    if let Some(namespace) = tokens.namespace_of(entry) {
        return Some(Cow::Borrowed(namespace));
    }
    if let Some(namespace) = entry.granting_namespace() {
        return Some(namespace);
    }
    entry.namespace()
}

/// How a report names a token it cannot tie to a role: its display name (never a token,
/// accessor or HMAC) and its policies.
pub fn token_label(entry: &Entry<'_>) -> String {
    let mut label = String::new();
    write_token_label(&mut label, entry);
    label
}

/// [`token_label`] written into `out` (no allocation when `out` has room).
pub fn write_token_label(out: &mut String, entry: &Entry<'_>) {
    use std::fmt::Write;
    let display = entry.display_name().unwrap_or("token");
    let _ = write!(out, "token `{display}` ");
    let names = entry.policy_names();
    for (index, name) in names.iter().enumerate() {
        out.push_str(if index == 0 { "(policies " } else { ", " });
        out.push_str(name);
    }
    out.push_str(if names.is_empty() {
        "(no policies)"
    } else {
        ")"
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> Entry<'_> {
        Entry::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn kubernetes_role_matches_by_metadata_and_mount() {
        let line = r#"{"type":"response","auth":{"display_name":"kubernetes-inference-inference-sa","metadata":{"role":"inference-role","service_account_name":"inference-sa"}},"request":{"path":"x"}}"#;
        let tokens = TokenRoles::default();
        let role = RoleKey::parse("kubernetes/inference-role", None).unwrap();
        assert!(role.matches(&entry(line), &tokens));
        let other_mount = RoleKey::parse("k8s-prod/inference-role", Some("kubernetes")).unwrap();
        assert!(!other_mount.matches(&entry(line), &tokens));
        let other_name = RoleKey::parse("kubernetes/other", None).unwrap();
        assert!(!other_name.matches(&entry(line), &tokens));
        let index = RoleIndex::new(vec![other_mount, other_name, role.clone()]);
        assert_eq!(index.find(&entry(line), &tokens), Some(&role));
    }

    #[test]
    fn token_roles_follow_the_accessor_of_the_creation() {
        let created = r#"{"type":"response","request":{"path":"auth/token/create/ci"},"response":{"auth":{"accessor":"hmac-sha256:aa"}}}"#;
        let used = r#"{"type":"response","auth":{"accessor":"hmac-sha256:aa","display_name":"token"},"request":{"path":"secret/data/x"}}"#;
        let mut tokens = TokenRoles::default();
        let role = RoleKey::parse("token/ci", None).unwrap();
        assert!(!role.matches(&entry(used), &tokens));
        tokens.observe(&entry(created));
        assert!(role.matches(&entry(used), &tokens));
    }
}
