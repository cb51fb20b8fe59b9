//! Requests and operations (spec 3.1, 3.2).

use std::fmt;
use std::str::FromStr;

use crate::policy::Capability;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Read,
    List,
    /// OpenBao only.
    Scan,
    Update,
    Create,
    Patch,
    Delete,
    /// Vault only.
    Recover,
    Revoke,
    Renew,
    Rollback,
    Help,
    Subscribe,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::List => "list",
            Operation::Scan => "scan",
            Operation::Update => "update",
            Operation::Create => "create",
            Operation::Patch => "patch",
            Operation::Delete => "delete",
            Operation::Recover => "recover",
            Operation::Revoke => "revoke",
            Operation::Renew => "renew",
            Operation::Rollback => "rollback",
            Operation::Help => "help",
            Operation::Subscribe => "subscribe",
        }
    }

    /// The capability the operation needs (`None` for help, which is always allowed).
    pub fn capability(self) -> Option<Capability> {
        Some(match self {
            Operation::Read => Capability::Read,
            Operation::List => Capability::List,
            Operation::Scan => Capability::Scan,
            Operation::Update | Operation::Revoke | Operation::Renew | Operation::Rollback => {
                Capability::Update
            }
            Operation::Create => Capability::Create,
            Operation::Patch => Capability::Patch,
            Operation::Delete => Capability::Delete,
            Operation::Recover => Capability::Recover,
            Operation::Subscribe => Capability::Subscribe,
            Operation::Help => return None,
        })
    }

    /// List and scan use the trailing-slash fallbacks of spec 3.3.
    pub fn is_listing(self) -> bool {
        matches!(self, Operation::List | Operation::Scan)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Operation {
    type Err = String;

    fn from_str(text: &str) -> Result<Operation, String> {
        let all = [
            Operation::Read,
            Operation::List,
            Operation::Scan,
            Operation::Update,
            Operation::Create,
            Operation::Patch,
            Operation::Delete,
            Operation::Recover,
            Operation::Revoke,
            Operation::Renew,
            Operation::Rollback,
            Operation::Help,
            Operation::Subscribe,
        ];
        all.into_iter()
            .find(|op| op.name() == text.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown operation `{text}`"))
    }
}

/// One API request as the ACL sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub operation: Operation,
    /// The API path without `/v1/`; leading slashes are stripped by the ACL. List and scan
    /// requests should carry the trailing `/` the HTTP layer adds (spec 3.1).
    pub path: String,
    /// Request data (JSON body, or query parameters for GET/LIST/DELETE).
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Requested response-wrapping TTL in seconds (`X-Vault-Wrap-TTL`).
    pub wrap_ttl: Option<i64>,
}

impl Request {
    pub fn new(operation: Operation, path: impl Into<String>) -> Request {
        Request {
            operation,
            path: path.into(),
            data: serde_json::Map::new(),
            wrap_ttl: None,
        }
    }
}
