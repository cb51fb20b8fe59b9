//! From the pulled server to files: `policies/<namespace>/<name>.hcl` (the text exactly as the
//! server returns it; `.json` for a JSON policy) and `capable.yaml` with `target`, `include`,
//! `mounts`, `namespaces`, `policies` (OpenBao's template switches), `roles`, `groups` and
//! `entities`, in the schema `crate::config` and `crate::inventory` read.
//!
//! How the server's objects become inventory entries:
//! - roles of `approle`, `kubernetes`, `jwt`/`oidc`, `cert` mounts, `userpass` and `ldap`
//!   users: `<mount>/<name>` (with the namespace path in front outside the root namespace),
//!   `type:` the mount's type, `policies:` its `token_policies`. An LDAP user also gets the
//!   policies of the LDAP groups it is assigned on the server (groups the LDAP directory adds
//!   at login cannot be known);
//! - token roles: `token/<name>`, `policies:` the `allowed_policies` (a role with none, or with
//!   globs, hands out its creator's policies and is left out, said so);
//! - entities and groups by name (the namespace path in front when two namespaces share a
//!   name), with their ids, metadata and aliases; internal group members from the group,
//!   external group membership from the entity's `direct_group_ids`;
//! - an AppRole's `role_id` is written only when an entity alias on that mount already holds
//!   it (then the login finds that entity), and a mount accessor only when a pulled policy's
//!   text names it (templates need it): neither is written otherwise;
//! - policy names a role, group or entity holds but the server does not have are left out (the
//!   server ignores them too), said so.
//!
//! Cost: O(objects × log objects) (maps by id and name), plus one scan of every policy text
//! per auth mount for its accessor.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::read::{strings, NamespaceState, PulledRole, ServerState};
use super::yaml::{flow, list, scalar, string_map};
use crate::target::Target;

/// A file to write, relative to the output folder (`/`-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub text: String,
}

/// What [`render`] made.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// The policy files, then `capable.yaml`.
    pub files: Vec<OutFile>,
    /// The folder the policy files are in (`policies`).
    pub policy_folder: String,
    pub warnings: Vec<String>,
    pub counts: Counts,
}

/// How many of each were written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub namespaces: usize,
    pub policies: usize,
    pub roles: usize,
    pub groups: usize,
    pub entities: usize,
    pub mounts: usize,
}

/// The target a server version names: OpenBao is 2.x and later, Vault 1.x.
pub fn target_of_version(version: Option<&str>) -> Target {
    let major = version
        .and_then(|v| v.trim_start_matches('v').split('.').next())
        .and_then(|major| major.parse::<u32>().ok());
    match major {
        Some(major) if major >= 2 => Target::OpenBao,
        _ => Target::Vault,
    }
}

/// Renders the pulled state. `addr` is named in the header comment (no time stamp, so pulling
/// an unchanged server twice writes the same bytes).
pub fn render(state: &ServerState, target: Target, addr: &str) -> Rendered {
    let mut out = Renderer {
        state,
        warnings: state.warnings.clone(),
        policies: BTreeSet::new(),
        entity_keys: BTreeMap::new(),
        group_keys: BTreeMap::new(),
        referenced_accessors: BTreeSet::new(),
        external_groups: BTreeSet::new(),
        missing_policies: BTreeMap::new(),
    };
    let policy_folder = policy_folder(state);
    let mut files = out.policy_files(&policy_folder);
    out.name_identities();
    out.find_referenced_accessors(&files);
    let mut counts = Counts {
        namespaces: state.namespaces.len(),
        policies: files.len(),
        ..Counts::default()
    };
    let yaml = out.config(target, addr, &policy_folder, &mut counts);
    out.warn_missing_policies();
    files.push(OutFile {
        path: crate::config::CONFIG_FILE_NAME.into(),
        text: yaml,
    });
    Rendered {
        files,
        policy_folder,
        warnings: out.warnings,
        counts,
    }
}

/// `policies`, unless a top-level namespace has that name (the workspace would read the folder
/// as that namespace); then `_policies`, `__policies`, ...
fn policy_folder(state: &ServerState) -> String {
    let top_level: BTreeSet<&str> = state
        .namespaces
        .iter()
        .filter_map(|ns| ns.path.split('/').next())
        .collect();
    let mut folder = String::from("policies");
    while top_level.contains(folder.as_str()) {
        folder.insert(0, '_');
    }
    folder
}

/// Whether a policy name can be a file whose stem is the name.
fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.contains(['/', '\\']) {
        Some("a `/` in a name cannot be part of a file name (a policy is named by its file stem)")
    } else if name.starts_with('.') {
        Some("a file whose name starts with `.` is hidden, and policy folders skip hidden files")
    } else if name.chars().any(char::is_control) {
        Some("it holds a control character")
    } else {
        None
    }
}

struct Renderer<'a> {
    state: &'a ServerState,
    warnings: Vec<String>,
    /// Qualified names (`admin/reader`) of the policies written.
    policies: BTreeSet<String>,
    /// Entity id → key in `entities:`.
    entity_keys: BTreeMap<String, String>,
    /// Group id → key in `groups:`.
    group_keys: BTreeMap<String, String>,
    /// Accessors of auth mounts some policy text names.
    referenced_accessors: BTreeSet<String>,
    /// Ids of external groups.
    external_groups: BTreeSet<String>,
    /// Missing policy (qualified) → who names it, for one warning per policy.
    missing_policies: BTreeMap<String, Vec<String>>,
}

impl Renderer<'_> {
    fn policy_files(&mut self, folder: &str) -> Vec<OutFile> {
        let mut files = Vec::new();
        for namespace in &self.state.namespaces {
            for policy in &namespace.policies {
                if let Some(problem) = file_name_problem(&policy.name) {
                    self.warnings.push(format!(
                        "policy `{}{}` is not written: {problem}",
                        namespace.path, policy.name
                    ));
                    continue;
                }
                let extension = if is_json_policy(&policy.text) {
                    "json"
                } else {
                    "hcl"
                };
                files.push(OutFile {
                    path: format!("{folder}/{}{}.{extension}", namespace.path, policy.name),
                    text: policy.text.clone(),
                });
                self.policies
                    .insert(format!("{}{}", namespace.path, policy.name));
            }
        }
        files
    }

    /// Keys for entities and groups: the bare name, or `<namespace>/<name>` when two pulled
    /// namespaces share it.
    fn name_identities(&mut self) {
        let mut entity_names: BTreeMap<String, usize> = BTreeMap::new();
        let mut group_names: BTreeMap<String, usize> = BTreeMap::new();
        for namespace in &self.state.namespaces {
            for entity in &namespace.entities {
                *entity_names.entry(text(&entity["name"])).or_default() += 1;
            }
            for group in &namespace.groups {
                *group_names.entry(text(&group["name"])).or_default() += 1;
            }
        }
        for namespace in &self.state.namespaces {
            for entity in &namespace.entities {
                let name = text(&entity["name"]);
                let key = match entity_names[&name] {
                    1 => name,
                    _ => format!("{}{name}", namespace.path),
                };
                self.entity_keys.insert(text(&entity["id"]), key);
            }
            for group in &namespace.groups {
                let name = text(&group["name"]);
                let key = match group_names[&name] {
                    1 => name,
                    _ => format!("{}{name}", namespace.path),
                };
                if text(&group["type"]) == "external" {
                    self.external_groups.insert(text(&group["id"]));
                }
                self.group_keys.insert(text(&group["id"]), key);
            }
        }
    }

    fn find_referenced_accessors(&mut self, files: &[OutFile]) {
        for namespace in &self.state.namespaces {
            for mount in &namespace.auth_mounts {
                if mount.accessor.is_empty() {
                    continue;
                }
                if files.iter().any(|file| file.text.contains(&mount.accessor)) {
                    self.referenced_accessors.insert(mount.accessor.clone());
                }
            }
        }
    }

    /// The accessor to write for an auth mount of a namespace, if a policy names it.
    fn accessor_to_write(&self, namespace: &NamespaceState, mount: &str) -> Option<String> {
        namespace
            .auth_mounts
            .iter()
            .find(|m| m.path == mount)
            .map(|m| m.accessor.clone())
            .filter(|accessor| self.referenced_accessors.contains(accessor))
    }

    /// The policy names that exist (in `namespace`, or built in); the others are dropped with
    /// a warning naming `owner`.
    fn known_policies(&mut self, names: &[String], namespace: &str, owner: &str) -> Vec<String> {
        let mut kept = Vec::new();
        for name in names {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let builtin = name == "default" || (name == "root" && namespace.is_empty());
            let qualified = format!("{namespace}{name}");
            let exists = self.policies.contains(&qualified)
                || self
                    .policies
                    .contains(&format!("{namespace}{}", name.to_lowercase()));
            if builtin || exists {
                if !kept.iter().any(|k| k == name) {
                    kept.push(name.to_string());
                }
                continue;
            }
            self.missing_policies
                .entry(qualified)
                .or_default()
                .push(owner.to_string());
        }
        kept
    }

    /// One warning per policy that is named but missing, with (up to 3 of) who names it.
    fn warn_missing_policies(&mut self) {
        for (policy, owners) in std::mem::take(&mut self.missing_policies) {
            let shown = owners
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = match owners.len() {
                0..=3 => String::new(),
                n => format!(" and {} more", n - 3),
            };
            self.warnings.push(format!(
                "policy `{policy}` is named by {shown}{more} but the server has no such policy \
                 (or pull did not write it): left out of their policies, as the server ignores it"
            ));
        }
    }

    fn config(
        &mut self,
        target: Target,
        addr: &str,
        policy_folder: &str,
        counts: &mut Counts,
    ) -> String {
        let mut yaml = String::new();
        yaml.push_str(&format!(
            "# Pulled from `{addr}` by `capable pull`{}: the server's policies, auth roles,\n\
             # token roles, identity groups and entities, and secrets mounts. The next pull\n\
             # rewrites this file; compare it with your repository with `capable diff`.\n",
            match &self.state.version {
                Some(version) => format!(" ({} {version})", target_name(target)),
                None => String::new(),
            }
        ));
        yaml.push_str(&format!("target: {}\n", target.name()));
        yaml.push_str(&format!("include: [{}]\n", scalar(policy_folder)));
        counts.mounts = self.mounts(&mut yaml);
        self.namespaces(&mut yaml);
        self.policy_settings(&mut yaml);
        self.auth_mount_comment(&mut yaml);
        counts.roles = self.roles(&mut yaml);
        counts.groups = self.groups(&mut yaml);
        counts.entities = self.entities(&mut yaml);
        yaml
    }

    fn mounts(&self, yaml: &mut String) -> usize {
        let mut lines = Vec::new();
        for namespace in &self.state.namespaces {
            for mount in &namespace.mounts {
                let path = format!("{}{}", namespace.path, mount.path);
                let value = match mount.kv_version {
                    Some(version) => format!("{{type: kv, version: {version}}}"),
                    None => format!("{{type: {}}}", scalar(&mount.engine)),
                };
                lines.push(format!("  {}: {value}\n", scalar(&path)));
            }
        }
        yaml.push_str(
            "\n# Secrets mounts (the built-in sys/, identity/ and cubbyhole/ left out).\n",
        );
        if lines.is_empty() {
            yaml.push_str("mounts: {}\n");
            return 0;
        }
        yaml.push_str("mounts:\n");
        for line in &lines {
            yaml.push_str(line);
        }
        lines.len()
    }

    fn namespaces(&self, yaml: &mut String) {
        let children: Vec<&str> = self
            .state
            .namespaces
            .iter()
            .map(|ns| ns.path.as_str())
            .filter(|path| !path.is_empty())
            .collect();
        if children.is_empty() {
            return;
        }
        yaml.push_str("\nnamespaces:\n");
        for path in children {
            yaml.push_str(&format!("  {}: {{}}\n", scalar(path)));
        }
    }

    fn policy_settings(&self, yaml: &mut String) {
        let mut lines = Vec::new();
        for namespace in &self.state.namespaces {
            for policy in &namespace.policies {
                let qualified = format!("{}{}", namespace.path, policy.name);
                if !self.policies.contains(&qualified) {
                    continue;
                }
                let mut settings = Vec::new();
                if policy.allow_slashes_in_identity_templates {
                    settings.push("allow_slashes_in_identity_templates: true");
                }
                if policy.allow_wildcards_in_identity_templates {
                    settings.push("allow_wildcards_in_identity_templates: true");
                }
                if !settings.is_empty() {
                    lines.push(format!(
                        "  {}: {{{}}}\n",
                        scalar(&qualified),
                        settings.join(", ")
                    ));
                }
            }
        }
        if lines.is_empty() {
            return;
        }
        yaml.push_str("\npolicies:\n");
        for line in lines {
            yaml.push_str(&line);
        }
    }

    /// The auth mounts as a comment (the inventory has no section for a mount itself; a mount
    /// appears through its roles, which carry its `type`).
    fn auth_mount_comment(&self, yaml: &mut String) {
        yaml.push_str("\n# Auth mounts:");
        let mut any = false;
        for namespace in &self.state.namespaces {
            for mount in &namespace.auth_mounts {
                any = true;
                yaml.push_str(&format!(
                    "\n#   {}{} ({})",
                    namespace.path, mount.path, mount.auth_type
                ));
            }
        }
        if !any {
            yaml.push_str(" none");
        }
        yaml.push('\n');
    }

    fn roles(&mut self, yaml: &mut String) -> usize {
        let mut entries: Vec<(String, String)> = Vec::new();
        let state = self.state;
        for namespace in &state.namespaces {
            let ldap_groups = ldap_group_policies(namespace);
            let aliases = alias_names_by_mount(namespace);
            for role in &namespace.roles {
                if role.collection == "groups" {
                    continue;
                }
                let key = format!("{}{}{}", namespace.path, role.mount, role.name);
                let body = self.role_body(namespace, role, &ldap_groups, &aliases, &key);
                entries.push((key, body));
            }
            for (name, data) in &namespace.token_roles {
                let key = format!("{}token/{name}", namespace.path);
                if let Some(body) = self.token_role_body(namespace, &key, data) {
                    entries.push((key, body));
                }
            }
        }
        yaml.push('\n');
        write_section(yaml, "roles", entries)
    }

    fn role_body(
        &mut self,
        namespace: &NamespaceState,
        role: &PulledRole,
        ldap_groups: &BTreeMap<String, Vec<String>>,
        aliases: &BTreeSet<(String, String)>,
        key: &str,
    ) -> String {
        let data = &role.data;
        let owner = format!("role `{key}`");
        let mut policies = token_policies(data);
        if role.auth_type == "ldap" {
            for group in ldap_user_groups(data) {
                let key = format!("{}{group}", role.mount);
                policies.extend(ldap_groups.get(&key).cloned().unwrap_or_default());
            }
        }
        let policies = self.known_policies(&policies, &namespace.path, &owner);
        let mut body = String::new();
        if !namespace.path.is_empty() {
            body.push_str(&format!("    namespace: {}\n", scalar(&namespace.path)));
        }
        body.push_str(&format!("    type: {}\n", scalar(&role.auth_type)));
        if let Some(accessor) = self.accessor_to_write(namespace, &role.mount) {
            body.push_str(&format!("    accessor: {}\n", scalar(&accessor)));
        }
        body.push_str(&format!("    policies: {}\n", list(&policies)));
        if data["token_no_default_policy"].as_bool() == Some(true) {
            body.push_str("    token_no_default_policy: true\n");
        }
        match role.auth_type.as_str() {
            "kubernetes" => {
                for field in [
                    "bound_service_account_names",
                    "bound_service_account_namespaces",
                ] {
                    let values = strings(&data[field]);
                    if !values.is_empty() {
                        body.push_str(&format!("    {field}: {}\n", list(&values)));
                    }
                }
            }
            "jwt" | "oidc" => {
                let audiences = strings(&data["bound_audiences"]);
                if !audiences.is_empty() {
                    body.push_str(&format!("    bound_audiences: {}\n", list(&audiences)));
                }
                if data["bound_claims"]
                    .as_object()
                    .is_some_and(|m| !m.is_empty())
                {
                    body.push_str(&format!(
                        "    bound_claims: {}\n",
                        flow(&data["bound_claims"])
                    ));
                }
                for field in ["user_claim", "groups_claim"] {
                    let value = text(&data[field]);
                    if !value.is_empty() {
                        body.push_str(&format!("    {field}: {}\n", scalar(&value)));
                    }
                }
            }
            "approle" => {
                let role_id = role.role_id.as_deref().unwrap_or_default();
                if aliases.contains(&(role.mount.clone(), role_id.to_string())) {
                    body.push_str(&format!("    role_id: {}\n", scalar(role_id)));
                }
            }
            _ => {}
        }
        body
    }

    fn token_role_body(
        &mut self,
        namespace: &NamespaceState,
        key: &str,
        data: &Value,
    ) -> Option<String> {
        let allowed = strings(&data["allowed_policies"]);
        let globs = strings(&data["allowed_policies_glob"]);
        if allowed.is_empty() || !globs.is_empty() {
            self.warnings.push(format!(
                "token role `{key}` is not written: {}",
                if globs.is_empty() {
                    "it has no `allowed_policies`, so its tokens take the policies of the token that creates them"
                } else {
                    "its `allowed_policies_glob` lets the creator choose the policies"
                }
            ));
            return None;
        }
        let disallowed = strings(&data["disallowed_policies"]);
        let allowed: Vec<String> = allowed
            .into_iter()
            .filter(|policy| !disallowed.contains(policy))
            .collect();
        let policies =
            self.known_policies(&allowed, &namespace.path, &format!("token role `{key}`"));
        let no_default = data["token_no_default_policy"].as_bool() == Some(true)
            || disallowed.iter().any(|p| p == "default");
        let mut body = String::new();
        if !namespace.path.is_empty() {
            body.push_str(&format!("    namespace: {}\n", scalar(&namespace.path)));
        }
        body.push_str("    type: token\n");
        body.push_str(&format!("    policies: {}\n", list(&policies)));
        if no_default {
            body.push_str("    token_no_default_policy: true\n");
        }
        Some(body)
    }

    fn groups(&mut self, yaml: &mut String) -> usize {
        let mut entries = Vec::new();
        let state = self.state;
        for namespace in &state.namespaces {
            for group in &namespace.groups {
                let id = text(&group["id"]);
                let key = self.group_keys[&id].clone();
                let owner = format!("group `{key}`");
                let policies =
                    self.known_policies(&strings(&group["policies"]), &namespace.path, &owner);
                let mut body = format!("    id: {}\n", scalar(&id));
                if !namespace.path.is_empty() {
                    body.push_str(&format!("    namespace: {}\n", scalar(&namespace.path)));
                }
                if text(&group["type"]) == "external" {
                    body.push_str("    type: external\n");
                }
                body.push_str(&format!("    policies: {}\n", list(&policies)));
                if text(&group["type"]) != "external" {
                    let members = self.names_of(&group["member_entity_ids"], true, &owner);
                    if !members.is_empty() {
                        body.push_str(&format!("    member_entities: {}\n", list(&members)));
                    }
                }
                let member_groups = self.names_of(&group["member_group_ids"], false, &owner);
                if !member_groups.is_empty() {
                    body.push_str(&format!("    member_groups: {}\n", list(&member_groups)));
                }
                let metadata = string_pairs(&group["metadata"]);
                if !metadata.is_empty() {
                    body.push_str(&format!("    metadata: {}\n", string_map(&metadata)));
                }
                entries.push((key, body));
            }
        }
        yaml.push('\n');
        write_section(yaml, "groups", entries)
    }

    /// The keys of the entities (or groups) whose ids are listed; unknown ids are dropped with
    /// a warning.
    fn names_of(&mut self, ids: &Value, entities: bool, owner: &str) -> Vec<String> {
        let keys = if entities {
            &self.entity_keys
        } else {
            &self.group_keys
        };
        let mut names = Vec::new();
        let mut missing = Vec::new();
        for id in strings(ids) {
            match keys.get(&id) {
                Some(name) => names.push(name.clone()),
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            self.warnings.push(format!(
                "{owner} lists {} {} outside the namespaces pulled: left out",
                missing.len(),
                if entities {
                    "member entities"
                } else {
                    "member groups"
                }
            ));
        }
        names.sort();
        names
    }

    fn entities(&mut self, yaml: &mut String) -> usize {
        let mut entries = Vec::new();
        let state = self.state;
        for namespace in &state.namespaces {
            for entity in &namespace.entities {
                let id = text(&entity["id"]);
                let key = self.entity_keys[&id].clone();
                let owner = format!("entity `{key}`");
                if entity["disabled"].as_bool() == Some(true) {
                    self.warnings.push(format!(
                        "{owner} is disabled on the server (its tokens are refused); capable \
                         models it as enabled"
                    ));
                }
                let policies =
                    self.known_policies(&strings(&entity["policies"]), &namespace.path, &owner);
                let mut body = format!("    id: {}\n", scalar(&id));
                if !namespace.path.is_empty() {
                    body.push_str(&format!("    namespace: {}\n", scalar(&namespace.path)));
                }
                body.push_str(&format!("    policies: {}\n", list(&policies)));
                let metadata = string_pairs(&entity["metadata"]);
                if !metadata.is_empty() {
                    body.push_str(&format!("    metadata: {}\n", string_map(&metadata)));
                }
                let aliases = self.aliases(namespace, entity, &owner);
                if !aliases.is_empty() {
                    body.push_str("    aliases:\n");
                    for alias in aliases {
                        body.push_str(&format!("      - {alias}\n"));
                    }
                }
                let external: Vec<String> = strings(&entity["direct_group_ids"])
                    .into_iter()
                    .filter(|id| self.external_groups.contains(id))
                    .filter_map(|id| self.group_keys.get(&id).cloned())
                    .collect();
                if !external.is_empty() {
                    body.push_str(&format!("    groups: {}\n", list(&external)));
                }
                entries.push((key, body));
            }
        }
        yaml.push('\n');
        write_section(yaml, "entities", entries)
    }

    fn aliases(&mut self, namespace: &NamespaceState, entity: &Value, owner: &str) -> Vec<String> {
        let mut out = Vec::new();
        for alias in entity["aliases"].as_array().into_iter().flatten() {
            let accessor = text(&alias["mount_accessor"]);
            let Some(mount) = namespace
                .auth_mounts
                .iter()
                .find(|m| m.accessor == accessor)
            else {
                self.warnings.push(format!(
                    "{owner} has an alias `{}` on an auth mount that no longer exists: left out",
                    text(&alias["name"])
                ));
                continue;
            };
            let mount_key = format!("{}{}", namespace.path, mount.path.trim_end_matches('/'));
            let mut fields = vec![
                format!("mount: {}", scalar(&mount_key)),
                format!("name: {}", scalar(&text(&alias["name"]))),
            ];
            let id = text(&alias["id"]);
            if !id.is_empty() {
                fields.push(format!("id: {}", scalar(&id)));
            }
            if self.referenced_accessors.contains(&accessor) {
                fields.push(format!("accessor: {}", scalar(&accessor)));
            }
            for field in ["metadata", "custom_metadata"] {
                let pairs = string_pairs(&alias[field]);
                if !pairs.is_empty() {
                    fields.push(format!("{field}: {}", string_map(&pairs)));
                }
            }
            out.push(format!("{{{}}}", fields.join(", ")));
        }
        out
    }
}

/// `key:` then each entry (`  name:` and its indented body), or `key: {}`.
fn write_section(yaml: &mut String, key: &str, mut entries: Vec<(String, String)>) -> usize {
    if entries.is_empty() {
        yaml.push_str(&format!("{key}: {{}}\n"));
        return 0;
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    yaml.push_str(&format!("{key}:\n"));
    for (name, body) in &entries {
        yaml.push_str(&format!("  {}:\n{body}", scalar(name)));
    }
    entries.len()
}

fn target_name(target: Target) -> &'static str {
    match target {
        Target::OpenBao => "OpenBao",
        _ => "Vault",
    }
}

/// A JSON policy (the server keeps the text as written; Vault and OpenBao accept JSON).
fn is_json_policy(text: &str) -> bool {
    text.trim_start().starts_with('{') && serde_json::from_str::<Value>(text).is_ok()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// A JSON object of strings as sorted pairs (other values as their JSON text).
fn string_pairs(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), value)
        })
        .collect()
}

/// `token_policies`, else Vault's older `policies` (a list, or a comma-separated string).
fn token_policies(data: &Value) -> Vec<String> {
    let listed = strings(&data["token_policies"]);
    if !listed.is_empty() {
        return listed;
    }
    match &data["policies"] {
        Value::String(joined) => split_list(joined),
        other => strings(other),
    }
}

fn split_list(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// An LDAP user's `groups` (a comma-separated string or a list).
fn ldap_user_groups(data: &Value) -> Vec<String> {
    match &data["groups"] {
        Value::String(joined) => split_list(joined),
        other => strings(other),
    }
}

/// `<mount path><LDAP group name>` → the group's policies.
fn ldap_group_policies(namespace: &NamespaceState) -> BTreeMap<String, Vec<String>> {
    namespace
        .roles
        .iter()
        .filter(|role| role.auth_type == "ldap" && role.collection == "groups")
        .map(|role| {
            let key = format!("{}{}", role.mount, role.name);
            (key, token_policies(&role.data))
        })
        .collect()
}

/// `(mount path, alias name)` of every entity alias in a namespace.
fn alias_names_by_mount(namespace: &NamespaceState) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for entity in &namespace.entities {
        for alias in entity["aliases"].as_array().into_iter().flatten() {
            let accessor = text(&alias["mount_accessor"]);
            if let Some(mount) = namespace
                .auth_mounts
                .iter()
                .find(|m| m.accessor == accessor)
            {
                found.insert((mount.path.clone(), text(&alias["name"])));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::read::{AuthMount, PulledPolicy};
    use serde_json::json;

    #[test]
    fn versions_name_the_target() {
        assert_eq!(target_of_version(Some("2.7.2")), Target::OpenBao);
        assert_eq!(target_of_version(Some("1.15.0+ent")), Target::Vault);
        assert_eq!(target_of_version(None), Target::Vault);
    }

    #[test]
    fn a_small_server_renders_a_config_the_loader_reads() {
        let namespace = NamespaceState {
            path: String::new(),
            policies: vec![PulledPolicy {
                name: "reader".into(),
                text: "path \"x\" { capabilities = [\"read\"] }\n".into(),
                allow_slashes_in_identity_templates: false,
                allow_wildcards_in_identity_templates: false,
            }],
            auth_mounts: vec![AuthMount {
                path: "userpass/".into(),
                auth_type: "userpass".into(),
                accessor: "auth_userpass_1234".into(),
            }],
            roles: vec![PulledRole {
                mount: "userpass/".into(),
                auth_type: "userpass".into(),
                collection: "users".into(),
                name: "alice".into(),
                data: json!({"token_policies": ["reader", "gone"]}),
                role_id: None,
            }],
            entities: vec![json!({"id": "e1", "name": "alice", "policies": [],
                "aliases": [{"mount_accessor": "auth_userpass_1234", "name": "alice", "id": "a1"}]})],
            ..NamespaceState::default()
        };
        let state = ServerState {
            namespaces: vec![namespace],
            version: Some("2.7.2".into()),
            warnings: Vec::new(),
        };
        let rendered = render(&state, Target::OpenBao, "http://127.0.0.1:8200");
        assert_eq!(rendered.files[0].path, "policies/reader.hcl");
        let yaml = &rendered.files.last().unwrap().text;
        assert!(!yaml.contains("auth_userpass_1234"), "{yaml}");
        assert!(
            rendered.warnings.iter().any(|w| w.contains("`gone`")),
            "{:?}",
            rendered.warnings
        );
        let config = crate::config::Config::from_text(
            std::sync::Arc::new(crate::source::SourceFile::new("capable.yaml", yaml.clone())),
            ".".into(),
        )
        .unwrap_or_else(|error| panic!("{error}\n{yaml}"));
        assert_eq!(config.roles["userpass/alice"].policies[0].value, "reader");
        assert_eq!(config.entities["alice"].aliases[0].name.value, "alice");
        assert_eq!(config.target, Target::OpenBao);
    }

    #[test]
    fn ldap_users_get_their_groups_policies_and_odd_token_roles_are_left_out() {
        let policy = |name: &str| PulledPolicy {
            name: name.into(),
            text: "path \"x\" { capabilities = [\"read\"] }\n".into(),
            allow_slashes_in_identity_templates: false,
            allow_wildcards_in_identity_templates: false,
        };
        let ldap = |collection: &str, name: &str, data: Value| PulledRole {
            mount: "ldap/".into(),
            auth_type: "ldap".into(),
            collection: collection.into(),
            name: name.into(),
            data,
            role_id: None,
        };
        let namespace = NamespaceState {
            path: "ops/".into(),
            policies: vec![policy("dev"), policy("oncall"), policy(".hidden")],
            auth_mounts: vec![AuthMount {
                path: "ldap/".into(),
                auth_type: "ldap".into(),
                accessor: "auth_ldap_1".into(),
            }],
            roles: vec![
                ldap("groups", "devs", json!({"policies": ["dev"]})),
                ldap(
                    "users",
                    "carol",
                    json!({"policies": "oncall", "groups": "devs,unknown"}),
                ),
            ],
            token_roles: vec![
                ("open".into(), json!({"allowed_policies": []})),
                (
                    "globbed".into(),
                    json!({"allowed_policies": ["dev"], "allowed_policies_glob": ["d*"]}),
                ),
                (
                    "ci".into(),
                    json!({"allowed_policies": ["dev", "oncall"], "disallowed_policies": ["default", "oncall"]}),
                ),
            ],
            ..NamespaceState::default()
        };
        let state = ServerState {
            namespaces: vec![namespace],
            version: Some("1.15.2".into()),
            warnings: Vec::new(),
        };
        let rendered = render(
            &state,
            target_of_version(Some("1.15.2")),
            "https://vault:8200",
        );
        let yaml = &rendered.files.last().unwrap().text;
        let config = crate::config::Config::from_text(
            std::sync::Arc::new(crate::source::SourceFile::new("capable.yaml", yaml.clone())),
            ".".into(),
        )
        .unwrap_or_else(|error| panic!("{error}\n{yaml}"));
        assert_eq!(config.target, Target::Vault);
        let carol = &config.roles["ops/ldap/carol"];
        let names: Vec<&str> = carol.policies.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(names, ["oncall", "dev"]);
        assert_eq!(carol.namespace.as_ref().unwrap().value, "ops/");
        assert!(
            !config.roles.contains_key("ops/ldap/devs"),
            "an ldap group is not a login"
        );
        let ci = &config.roles["ops/token/ci"];
        assert_eq!(ci.policies.len(), 1);
        assert!(ci.token_no_default_policy);
        assert!(!config.roles.contains_key("ops/token/open"));
        assert!(!config.roles.contains_key("ops/token/globbed"));
        let warnings = rendered.warnings.join("\n");
        assert!(
            warnings.contains("`ops/token/open` is not written"),
            "{warnings}"
        );
        assert!(
            warnings.contains("`ops/token/globbed` is not written"),
            "{warnings}"
        );
        assert!(
            warnings.contains("policy `ops/.hidden` is not written"),
            "{warnings}"
        );
        assert!(rendered
            .files
            .iter()
            .any(|f| f.path == "policies/ops/dev.hcl"));
    }
}
