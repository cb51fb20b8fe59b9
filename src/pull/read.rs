//! What `pull` reads, namespace by namespace: ACL policies, auth mounts and the roles of the
//! methods in [`ROLE_COLLECTIONS`], token roles, identity entities and groups, and the secrets
//! mounts. Requests the token may not make are collected (all of them, so one run names every
//! missing permission) instead of stopping at the first.
//!
//! Cost: 1 request per collection plus 1 per item (policy, role, user, entity, group); the
//! items of a collection are fetched by [`WORKERS`] threads at once, in order of the listing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use super::access::ROLE_COLLECTIONS;
use super::client::{Client, Denial, Method, PullError, Reply};
use super::progress::Progress;

/// One ACL policy as the server stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct PulledPolicy {
    pub name: String,
    /// The text exactly as the server returns it.
    pub text: String,
    pub allow_slashes_in_identity_templates: bool,
    pub allow_wildcards_in_identity_templates: bool,
}

/// An auth mount (`sys/auth`).
#[derive(Clone, Debug, PartialEq)]
pub struct AuthMount {
    /// `userpass/` (relative to its namespace, with the trailing `/`).
    pub path: String,
    pub auth_type: String,
    /// Kept in memory only: written only when a pulled policy's text names it.
    pub accessor: String,
}

/// One role, user, group or cert role of an auth mount, as the server returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct PulledRole {
    /// The auth mount path (`userpass/`).
    pub mount: String,
    pub auth_type: String,
    /// `role`, `users`, `groups` or `certs`.
    pub collection: String,
    pub name: String,
    pub data: Value,
    /// AppRole only.
    pub role_id: Option<String>,
}

/// A secrets mount (`sys/mounts`).
#[derive(Clone, Debug, PartialEq)]
pub struct SecretsMount {
    pub path: String,
    pub engine: String,
    /// `options.version` of a `kv` mount.
    pub kv_version: Option<u8>,
}

/// Everything read in one namespace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamespaceState {
    /// `""` (root) or `admin/team-a/`.
    pub path: String,
    pub policies: Vec<PulledPolicy>,
    pub auth_mounts: Vec<AuthMount>,
    pub roles: Vec<PulledRole>,
    /// Token roles by name, as returned.
    pub token_roles: Vec<(String, Value)>,
    /// `identity/entity/id/<id>` answers.
    pub entities: Vec<Value>,
    /// `identity/group/id/<id>` answers.
    pub groups: Vec<Value>,
    pub mounts: Vec<SecretsMount>,
}

/// The pulled server.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerState {
    /// Parents before children; the first is the namespace pulled.
    pub namespaces: Vec<NamespaceState>,
    /// The version `sys/health` reports (`2.7.2`), if it answered.
    pub version: Option<String>,
    /// Auth mounts whose roles pull does not read, and the like.
    pub warnings: Vec<String>,
}

/// Types of the mounts every namespace has, which `mounts:` leaves out.
const BUILTIN_ENGINES: &[&str] = &[
    "system",
    "identity",
    "cubbyhole",
    "ns_system",
    "ns_identity",
    "ns_cubbyhole",
    "token",
    "ns_token",
];

/// How many requests are in flight at once when fetching the items of a collection.
pub const WORKERS: usize = 8;

/// Reads the server: `namespace` and, with `children`, every namespace below it.
pub fn read_server(
    client: &Client,
    namespace: &str,
    children: bool,
    progress: &mut Progress,
) -> Result<ServerState, PullError> {
    let mut reader = Reader {
        client,
        denials: Vec::new(),
        warnings: Vec::new(),
        progress,
    };
    let version = reader
        .client
        .get_unauthenticated(
            "sys/health?standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200",
        )?
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut state = ServerState {
        version,
        ..ServerState::default()
    };
    let mut queue = vec![namespace.to_string()];
    while let Some(current) = queue.pop() {
        if children {
            let mut found = reader.child_namespaces(&current)?;
            found.reverse();
            queue.extend(found);
        }
        let read = reader.namespace(&current)?;
        state.namespaces.push(read);
    }
    state.namespaces.sort_by(|a, b| a.path.cmp(&b.path));
    if !reader.denials.is_empty() {
        return Err(PullError::Denied(reader.denials));
    }
    state.warnings = reader.warnings;
    Ok(state)
}

struct Reader<'a> {
    client: &'a Client,
    denials: Vec<Denial>,
    warnings: Vec<String>,
    progress: &'a mut Progress,
}

impl Reader<'_> {
    /// One request; a denial is noted and answered as `None` so the pull goes on.
    fn call(
        &mut self,
        namespace: &str,
        method: Method,
        path: &str,
    ) -> Result<Option<Value>, PullError> {
        let result = self.client.call(namespace, method, path);
        self.progress.tick(namespace, self.client.requests());
        self.settle(result)
    }

    /// A reply as the reader takes it: a denial noted (and `None`), 404 as `None`.
    fn settle(&mut self, result: Result<Reply, PullError>) -> Result<Option<Value>, PullError> {
        match result {
            Ok(Reply::Found(body)) => Ok(Some(body)),
            Ok(Reply::NotFound) => Ok(None),
            Err(PullError::Denied(denials)) => {
                self.denials.extend(denials);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    fn get(&mut self, namespace: &str, path: &str) -> Result<Option<Value>, PullError> {
        let body = self.call(namespace, Method::Get, path)?;
        Ok(body.map(data_of))
    }

    /// `GET`s of many paths, [`WORKERS`] at a time; the answers in the order of `paths`.
    fn get_many(
        &mut self,
        namespace: &str,
        paths: &[String],
    ) -> Result<Vec<Option<Value>>, PullError> {
        let client = self.client;
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Result<Reply, PullError>>>> =
            paths.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..WORKERS.min(paths.len()))
                .map(|_| {
                    scope.spawn(|| loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(index) else {
                            break;
                        };
                        let reply = client.call(namespace, Method::Get, path);
                        if let Ok(mut slot) = slots[index].lock() {
                            *slot = Some(reply);
                        }
                    })
                })
                .collect();
            while !workers.iter().all(|worker| worker.is_finished()) {
                self.progress.tick(namespace, client.requests());
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        let mut answers = Vec::with_capacity(paths.len());
        for slot in slots {
            let reply = slot
                .into_inner()
                .ok()
                .flatten()
                .ok_or_else(|| PullError::Internal("a fetch thread stopped early".into()))?;
            answers.push(self.settle(reply)?.map(data_of));
        }
        Ok(answers)
    }

    /// The `keys` of a `LIST` (empty when there is nothing, or the token may not list).
    fn list(&mut self, namespace: &str, path: &str) -> Result<Vec<String>, PullError> {
        let listed = format!("{}/", path.trim_end_matches('/'));
        let Some(body) = self.call(namespace, Method::List, &listed)? else {
            return Ok(Vec::new());
        };
        Ok(strings(&body["data"]["keys"]))
    }

    fn child_namespaces(&mut self, namespace: &str) -> Result<Vec<String>, PullError> {
        let keys = self.list(namespace, "sys/namespaces")?;
        let mut children = Vec::new();
        for key in keys {
            let child = format!("{namespace}{}", key.trim_end_matches('/'));
            match crate::namespace::normalize(&child) {
                Ok(path) if !path.is_empty() => children.push(path),
                _ => self.warnings.push(format!(
                    "namespace `{child}` has a name capable cannot model; not pulled"
                )),
            }
        }
        children.sort();
        Ok(children)
    }

    fn namespace(&mut self, namespace: &str) -> Result<NamespaceState, PullError> {
        let mut state = NamespaceState {
            path: namespace.to_string(),
            ..NamespaceState::default()
        };
        state.policies = self.policies(namespace)?;
        state.auth_mounts = self.auth_mounts(namespace)?;
        let mounts = state.auth_mounts.clone();
        for mount in &mounts {
            let roles = self.roles_of(namespace, mount)?;
            state.roles.extend(roles);
        }
        let names = self.list(namespace, "auth/token/roles")?;
        let paths: Vec<String> = names
            .iter()
            .map(|name| format!("auth/token/roles/{name}"))
            .collect();
        let answers = self.get_many(namespace, &paths)?;
        for (name, data) in names.into_iter().zip(answers) {
            if let Some(data) = data {
                state.token_roles.push((name, data));
            }
        }
        state.entities = self.identities(namespace, "identity/entity/id")?;
        state.groups = self.identities(namespace, "identity/group/id")?;
        state.mounts = self.secrets_mounts(namespace)?;
        Ok(state)
    }

    fn policies(&mut self, namespace: &str) -> Result<Vec<PulledPolicy>, PullError> {
        let mut policies = Vec::new();
        // `root` is built in: the server stores no text for it.
        let names: Vec<String> = self
            .list(namespace, "sys/policies/acl")?
            .into_iter()
            .filter(|name| !(name == "root" && namespace.is_empty()))
            .collect();
        let paths: Vec<String> = names
            .iter()
            .map(|name| format!("sys/policies/acl/{name}"))
            .collect();
        let answers = self.get_many(namespace, &paths)?;
        for (name, data) in names.into_iter().zip(answers) {
            let Some(data) = data else {
                continue;
            };
            policies.push(PulledPolicy {
                text: data["policy"].as_str().unwrap_or_default().to_string(),
                allow_slashes_in_identity_templates: data["allow_slashes_in_identity_templates"]
                    .as_bool()
                    .unwrap_or(false),
                allow_wildcards_in_identity_templates: data
                    ["allow_wildcards_in_identity_templates"]
                    .as_bool()
                    .unwrap_or(false),
                name,
            });
        }
        Ok(policies)
    }

    fn auth_mounts(&mut self, namespace: &str) -> Result<Vec<AuthMount>, PullError> {
        let Some(data) = self.get(namespace, "sys/auth")? else {
            return Ok(Vec::new());
        };
        let mut mounts: Vec<AuthMount> = mount_table(&data)
            .map(|(path, engine, mount)| AuthMount {
                path,
                auth_type: engine,
                accessor: mount["accessor"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        mounts.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(mounts)
    }

    fn roles_of(
        &mut self,
        namespace: &str,
        mount: &AuthMount,
    ) -> Result<Vec<PulledRole>, PullError> {
        let collections: Vec<&str> = ROLE_COLLECTIONS
            .iter()
            .filter(|(auth_type, _)| *auth_type == mount.auth_type)
            .map(|(_, collection)| *collection)
            .collect();
        if collections.is_empty() {
            if mount.auth_type != "token" && mount.auth_type != "ns_token" {
                self.warnings.push(format!(
                    "auth mount `{}{}` is of type `{}`, whose roles pull does not read",
                    namespace, mount.path, mount.auth_type
                ));
            }
            return Ok(Vec::new());
        }
        let mut roles = Vec::new();
        for collection in collections {
            let base = format!("auth/{}{collection}", mount.path);
            let names = self.list(namespace, &base)?;
            let paths: Vec<String> = names.iter().map(|name| format!("{base}/{name}")).collect();
            let answers = self.get_many(namespace, &paths)?;
            let role_ids = if mount.auth_type == "approle" {
                let paths: Vec<String> = paths.iter().map(|p| format!("{p}/role-id")).collect();
                self.get_many(namespace, &paths)?
            } else {
                vec![None; names.len()]
            };
            for ((name, data), role_id) in names.into_iter().zip(answers).zip(role_ids) {
                let Some(data) = data else {
                    continue;
                };
                let role_id = role_id.and_then(|data| data["role_id"].as_str().map(str::to_string));
                roles.push(PulledRole {
                    mount: mount.path.clone(),
                    auth_type: mount.auth_type.clone(),
                    collection: collection.to_string(),
                    name,
                    data,
                    role_id,
                });
            }
        }
        Ok(roles)
    }

    fn identities(&mut self, namespace: &str, base: &str) -> Result<Vec<Value>, PullError> {
        let paths: Vec<String> = self
            .list(namespace, base)?
            .into_iter()
            .map(|id| format!("{base}/{id}"))
            .collect();
        Ok(self
            .get_many(namespace, &paths)?
            .into_iter()
            .flatten()
            .collect())
    }

    fn secrets_mounts(&mut self, namespace: &str) -> Result<Vec<SecretsMount>, PullError> {
        let Some(data) = self.get(namespace, "sys/mounts")? else {
            return Ok(Vec::new());
        };
        let mut mounts: Vec<SecretsMount> = mount_table(&data)
            .filter_map(|(path, engine, mount)| {
                if BUILTIN_ENGINES.contains(&engine.as_str()) {
                    return None;
                }
                let (engine, kv_version) = kv_engine(&engine, &mount["options"]);
                Some(SecretsMount {
                    path,
                    engine,
                    kv_version,
                })
            })
            .collect();
        mounts.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(mounts)
    }
}

/// The entries of a `sys/auth` or `sys/mounts` answer: (path with one trailing `/`, type, the
/// entry).
fn mount_table(data: &Value) -> impl Iterator<Item = (String, String, &Value)> {
    data.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(path, mount)| {
            let engine = mount.get("type")?.as_str()?.to_string();
            Some((format!("{}/", path.trim_matches('/')), engine, mount))
        })
}

/// The `data` of a Vault answer (the answer itself when it has none).
fn data_of(mut body: Value) -> Value {
    body.get_mut("data").map(Value::take).unwrap_or(body)
}

/// `kv` with its version (`options.version`, default 1); `kv-v2` and `generic` as `kv` 2 and
/// 1; other engines as they are.
fn kv_engine(engine: &str, options: &Value) -> (String, Option<u8>) {
    let version = options["version"]
        .as_str()
        .and_then(|v| v.parse::<u8>().ok())
        .or_else(|| options["version"].as_u64().map(|v| v as u8));
    match engine {
        "kv" => ("kv".into(), Some(if version == Some(2) { 2 } else { 1 })),
        "kv-v2" => ("kv".into(), Some(2)),
        "kv-v1" | "generic" => ("kv".into(), Some(1)),
        other => (other.to_string(), None),
    }
}

/// A JSON array of strings (anything else: empty).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_versions_come_from_the_options() {
        let v2 = serde_json::json!({"version": "2"});
        assert_eq!(kv_engine("kv", &v2), ("kv".into(), Some(2)));
        assert_eq!(kv_engine("kv", &Value::Null), ("kv".into(), Some(1)));
        assert_eq!(kv_engine("kv-v2", &Value::Null), ("kv".into(), Some(2)));
        assert_eq!(kv_engine("pki", &Value::Null), ("pki".into(), None));
    }
}
