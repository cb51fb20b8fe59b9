//! One line of a file audit device: the JSON shape Vault and OpenBao write (one object per
//! line, `type` `request` or `response`), borrowed from the line so reading allocates almost
//! nothing.
//!
//! Only the fields capable reasons about are deserialised; everything else (response bodies,
//! headers, remote addresses) is skipped by the parser without being built. The HMAC'd fields
//! that must never be shown (`client_token`, `accessor`, `client_token_accessor`) are read only
//! to know whether they are present, or, for the accessor, kept private to this module's
//! callers inside `audit` for correlating a token with the token role that created it.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

/// One audit entry as written.
#[derive(Debug, Deserialize)]
pub struct Entry<'a> {
    #[serde(borrow, default)]
    pub time: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub auth: Option<Auth<'a>>,
    #[serde(borrow, default)]
    pub request: Option<Request<'a>>,
    #[serde(borrow, default)]
    pub response: Option<Response<'a>>,
    #[serde(borrow, default)]
    pub error: Option<Cow<'a, str>>,
}

/// The `auth` object: who made the request.
#[derive(Debug, Default, Deserialize)]
pub struct Auth<'a> {
    /// Present (HMAC'd) when the request carried a token; never read.
    #[serde(default)]
    pub client_token: Option<IgnoredAny>,
    /// The token accessor's HMAC: used only to tie a token to the token role that created it.
    #[serde(borrow, default)]
    pub(crate) accessor: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub policies: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub token_policies: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub identity_policies: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub policy_results: Option<PolicyResults<'a>>,
    #[serde(borrow, default)]
    pub metadata: Option<Metadata<'a>>,
    #[serde(borrow, default)]
    pub entity_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub token_type: Option<Cow<'a, str>>,
}

/// `auth.policy_results`: the server's own ACL verdict (Vault 1.x and OpenBao).
#[derive(Debug, Default, Deserialize)]
pub struct PolicyResults<'a> {
    #[serde(default)]
    pub allowed: Option<bool>,
    #[serde(borrow, default)]
    pub granting_policies: Option<Vec<GrantingPolicy<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GrantingPolicy<'a> {
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// The policy's namespace (`admin/team-a/`; OpenBao and Vault Enterprise).
    #[serde(borrow, default)]
    pub namespace_path: Option<Cow<'a, str>>,
}

/// The token metadata keys auth methods set that name the login (others are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct Metadata<'a> {
    /// Kubernetes, JWT/OIDC, AWS, GCP, Azure: the role logged in with.
    #[serde(borrow, default)]
    pub role: Option<Cow<'a, str>>,
    /// AppRole.
    #[serde(borrow, default)]
    pub role_name: Option<Cow<'a, str>>,
    /// userpass, LDAP, RADIUS, Okta, GitHub.
    #[serde(borrow, default)]
    pub username: Option<Cow<'a, str>>,
    /// TLS certificates.
    #[serde(borrow, default)]
    pub cert_name: Option<Cow<'a, str>>,
    /// Kubernetes.
    #[serde(borrow, default)]
    pub service_account_name: Option<Cow<'a, str>>,
    /// Kubernetes.
    #[serde(borrow, default)]
    pub service_account_namespace: Option<Cow<'a, str>>,
}

/// The `request` object.
#[derive(Debug, Default, Deserialize)]
pub struct Request<'a> {
    #[serde(borrow, default)]
    pub operation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub namespace: Option<Namespace<'a>>,
    #[serde(borrow, default)]
    pub mount_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub mount_point: Option<Cow<'a, str>>,
    /// Present (HMAC'd) when the request carried a token; never read.
    #[serde(default)]
    pub client_token: Option<IgnoredAny>,
    /// The request data as written (string values HMAC'd); parsed only when a decision needs it.
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    /// Requested response-wrapping TTL in seconds.
    #[serde(default)]
    pub wrap_ttl: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Namespace<'a> {
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub path: Option<Cow<'a, str>>,
}

/// The `response` object: only the auth of a login or token creation is read.
#[derive(Debug, Default, Deserialize)]
pub struct Response<'a> {
    #[serde(borrow, default)]
    pub auth: Option<ResponseAuth<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseAuth<'a> {
    #[serde(borrow, default)]
    pub(crate) accessor: Option<Cow<'a, str>>,
}

/// What the server decided, as far as the entry shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerDecision {
    /// The ACL allowed the request.
    Allowed,
    /// The ACL denied it (`permission denied`).
    Denied,
    /// The ACL was not consulted: a login or another unauthenticated path, or an internal path
    /// the server answers without a rule (`policy_results` allowed with no granting policy).
    NotChecked,
}

/// The prefix of the `kv` CLI's preflight, decided by mount visibility (spec 3.5).
pub const MOUNT_PREFLIGHT: &str = "sys/internal/ui/mounts/";

impl<'a> Entry<'a> {
    /// Parses one line. Cost: one pass over the line; unread fields are skipped, not built.
    pub fn parse(line: &'a [u8]) -> Result<Entry<'a>, serde_json::Error> {
        serde_json::from_slice(line)
    }

    pub fn is_response(&self) -> bool {
        self.kind.as_deref() == Some("response")
    }

    pub fn operation(&self) -> Option<&str> {
        self.request.as_ref()?.operation.as_deref()
    }

    /// The request path without leading slashes.
    pub fn path(&self) -> Option<&str> {
        let path = self.request.as_ref()?.path.as_deref()?;
        Some(path.trim_start_matches('/'))
    }

    /// The request's namespace path as capable writes it (`""` for the root namespace, else
    /// `admin/team-a/`), or `None` when the entry names a namespace only by its id (the path
    /// cannot be known from the log). The request path is relative to it.
    pub fn namespace(&self) -> Option<Cow<'_, str>> {
        let Some(namespace) = self.request.as_ref().and_then(|r| r.namespace.as_ref()) else {
            return Some(Cow::Borrowed(""));
        };
        match (&namespace.path, &namespace.id) {
            (Some(path), _) => Some(namespace_path(path)),
            (None, Some(id)) if id == "root" => Some(Cow::Borrowed("")),
            (None, Some(_)) => None,
            (None, None) => Some(Cow::Borrowed("")),
        }
    }

    /// The full path the request asks about: its namespace, then its path (leading slashes
    /// are stripped only in the root namespace, docs/namespaces.md rule 3).
    pub fn full_path(&self) -> Option<String> {
        let namespace = self.namespace()?;
        if namespace.is_empty() {
            return self.path().map(str::to_string);
        }
        let path = self.request.as_ref()?.path.as_deref()?;
        Some(crate::namespace::join(&namespace, path))
    }

    /// The namespace of the policies that granted the request, when the server names it
    /// (OpenBao and Vault Enterprise log `namespace_path` per granting policy).
    pub fn granting_namespace(&self) -> Option<Cow<'_, str>> {
        let granting = self.auth.as_ref()?.policy_results.as_ref()?;
        let first = granting.granting_policies.as_ref()?.first()?;
        first.namespace_path.as_deref().map(namespace_path)
    }

    /// Whether the request carried a token. Only the request's own field counts: the `auth` of
    /// a login's response describes the token the login issued, not one the request used.
    pub fn has_token(&self) -> bool {
        self.request
            .as_ref()
            .is_some_and(|r| r.client_token.is_some())
    }

    /// The token's policies: `token_policies` (or `policies` where the server writes only that)
    /// followed by `identity_policies`, each name once, borrowed from the line.
    pub fn policy_names(&self) -> Vec<&str> {
        let Some(auth) = &self.auth else {
            return Vec::new();
        };
        let token = auth.token_policies.as_ref().or(auth.policies.as_ref());
        let mut names: Vec<&str> = Vec::new();
        let all = token
            .into_iter()
            .flatten()
            .chain(auth.identity_policies.iter().flatten());
        for name in all {
            if !names.contains(&name.as_ref()) {
                names.push(name);
            }
        }
        names
    }

    /// [`Entry::policy_names`], owned.
    pub fn policies(&self) -> Vec<String> {
        self.policy_names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The server's decision (see [`ServerDecision`]). The preflight `sys/internal/ui/mounts/...`
    /// is decided by mount visibility: denied when it answered `permission denied`.
    pub fn server_decision(&self) -> ServerDecision {
        if !self.has_token() {
            return ServerDecision::NotChecked;
        }
        let permission_denied = self
            .error
            .as_deref()
            .is_some_and(|error| error.contains("permission denied"));
        if self.path().is_some_and(|p| p.starts_with(MOUNT_PREFLIGHT)) {
            return if permission_denied {
                ServerDecision::Denied
            } else {
                ServerDecision::Allowed
            };
        }
        let results = self.auth.as_ref().and_then(|a| a.policy_results.as_ref());
        match results.and_then(|r| r.allowed) {
            Some(false) => ServerDecision::Denied,
            Some(true) => {
                let granted = results
                    .and_then(|r| r.granting_policies.as_ref())
                    .is_some_and(|g| !g.is_empty());
                if granted {
                    ServerDecision::Allowed
                } else {
                    ServerDecision::NotChecked
                }
            }
            // Servers that write no `policy_results`: the error text is all there is.
            None if permission_denied => ServerDecision::Denied,
            None => ServerDecision::Allowed,
        }
    }

    /// The policies that granted the request with their namespaces (`""` for root, and where
    /// the server does not log it).
    pub fn granting_policies_in(&self) -> Vec<(Cow<'_, str>, &str)> {
        let granting = self
            .auth
            .as_ref()
            .and_then(|a| a.policy_results.as_ref())
            .and_then(|r| r.granting_policies.as_ref());
        granting
            .into_iter()
            .flatten()
            .filter_map(|policy| {
                let namespace = policy
                    .namespace_path
                    .as_deref()
                    .map(namespace_path)
                    .unwrap_or_default();
                Some((namespace, policy.name.as_deref()?))
            })
            .collect()
    }

    pub fn display_name(&self) -> Option<&str> {
        self.auth.as_ref()?.display_name.as_deref()
    }

    pub fn metadata(&self) -> Option<&Metadata<'a>> {
        self.auth.as_ref()?.metadata.as_ref()
    }

    /// The request data, parsed (string values are HMAC'd by the server).
    pub fn data(&self) -> serde_json::Map<String, serde_json::Value> {
        let Some(raw) = self.request.as_ref().and_then(|r| r.data) else {
            return serde_json::Map::new();
        };
        serde_json::from_str(raw.get()).unwrap_or_default()
    }

    /// The request data as written, unparsed.
    pub fn raw_data(&self) -> Option<&RawValue> {
        self.request.as_ref()?.data
    }

    pub fn wrap_ttl(&self) -> Option<i64> {
        self.request.as_ref()?.wrap_ttl
    }
}

/// A logged namespace path in capable's form: no leading `/`, one trailing `/`, `""` for root.
fn namespace_path(logged: &str) -> Cow<'_, str> {
    let trimmed = logged.trim_start_matches('/');
    if trimmed.is_empty() || trimmed == "root/" || trimmed == "root" {
        return Cow::Borrowed("");
    }
    if trimmed.ends_with('/') {
        return Cow::Borrowed(trimmed);
    }
    Cow::Owned(format!("{trimmed}/"))
}

/// Whether a logged string is one of the server's HMACs (`hmac-sha256:...`).
pub fn is_hmac(value: &str) -> bool {
    value.starts_with("hmac-sha256:")
}
