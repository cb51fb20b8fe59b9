//! Resolution of the inventory sections into effective policy sets and identities.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;

use serde_saphyr::Spanned;

use super::{source_id_of, span_of_spanned, EntitySpec, GroupSpec, InventorySpecs, RoleSpec};
use crate::acl::{Acl, AclError, AclOptions, Alias, Group, Identity};
use crate::config::{Config, Mounts};
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;

/// Whose access a question is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// An auth role (`kubernetes/inference-role`; a unique bare name `inference-role` works too).
    Role(String),
    /// An identity entity by name.
    Entity(String),
    /// An identity group by name.
    Group(String),
    /// A token holding exactly these policies (no `default` added, no identity).
    Policies(Vec<String>),
}

impl Subject {
    /// `role`, `entity`, `group` or `policies`.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Role(_) => "role",
            Subject::Entity(_) => "entity",
            Subject::Group(_) => "group",
            Subject::Policies(_) => "policies",
        }
    }

    /// The name shown to users (the policy list joined by `,` for [`Subject::Policies`]).
    pub fn name(&self) -> String {
        match self {
            Subject::Role(name) | Subject::Entity(name) | Subject::Group(name) => name.clone(),
            Subject::Policies(names) => names.join(","),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind(), self.name())
    }
}

/// Why a question about a subject cannot be answered.
#[derive(Clone, Debug, PartialEq)]
pub enum InventoryError {
    UnknownRole(String),
    /// A bare role name that several mounts define.
    AmbiguousRole(String, Vec<String>),
    UnknownEntity(String),
    UnknownGroup(String),
    UnknownPolicy(String),
    /// A policy whose file exists but that the target refuses, so no ACL can hold it.
    RefusedPolicy(String),
    Acl(AclError),
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InventoryError::UnknownRole(name) => write!(f, "unknown role `{name}`"),
            InventoryError::AmbiguousRole(name, keys) => write!(
                f,
                "role name `{name}` is ambiguous: {}",
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            InventoryError::UnknownEntity(name) => write!(f, "unknown entity `{name}`"),
            InventoryError::UnknownGroup(name) => write!(f, "unknown group `{name}`"),
            InventoryError::UnknownPolicy(name) => write!(f, "unknown policy `{name}`"),
            InventoryError::RefusedPolicy(name) => write!(
                f,
                "policy `{name}` would be refused by the server (`capable check` shows why)"
            ),
            InventoryError::Acl(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for InventoryError {}

/// How a role's login found its entity.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LoginEntity {
    /// The role names it with `entity:`.
    Declared(String),
    /// An entity has an alias on the role's mount whose name is the login's alias name.
    Alias(String),
    /// No entity in the inventory: the server creates one at first login (no metadata, no
    /// groups, a generated name), which capable synthesizes deterministically.
    Implicit,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct RoleInfo {
    pub(super) namespace: String,
    pub(super) mount: String,
    pub(super) auth_type: String,
    pub(super) policies: Vec<String>,
    pub(super) no_default: bool,
    pub(super) login: LoginEntity,
    /// The login alias name, when known.
    pub(super) alias_name: Option<String>,
    pub(super) alias_metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct GroupInfo {
    pub(super) namespace: String,
    pub(super) id: String,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) policies: Vec<String>,
    /// Groups that list this one in `member_groups`.
    pub(super) parents: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct EntityInfo {
    pub(super) namespace: String,
    pub(super) id: String,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) policies: Vec<String>,
    pub(super) aliases: Vec<Alias>,
    /// Direct groups (from both sides of the membership).
    pub(super) groups: BTreeSet<String>,
}

/// The resolved inventory: every role, group and entity with its policies and identity.
///
/// **Entity of a login.** A role's login maps to an entity, in this order:
/// 1. the role's `entity:` (an entity name);
/// 2. an entity with an alias on the role's auth mount whose `name` equals the login's alias
///    name (the role's `alias_name`, or derived: the user name for `userpass`, `ldap`,
///    `radius` and `cert`; `<namespace>/<service account>` for `kubernetes` when exactly one of
///    each is bound, as with `alias_name_source=serviceaccount_name`);
/// 3. otherwise an implicit entity, as the server creates at first login: named
///    `entity_<hash>`, with the login alias only.
///
/// So `kubernetes/inference-role` resolves to entity `inference` when that entity declares
/// `aliases: [{mount: kubernetes, name: inference/inference-sa}]`, or when the role says
/// `entity: inference`.
///
/// **Accessors.** Templates name auth mounts by accessor (`identity.entity.aliases.<accessor>.name`).
/// A mount's accessor is the one declared by a role (`accessor:`) or alias (`accessor:`) on
/// that mount; otherwise [`accessor_for_mount`] synthesizes `auth_<type>_<8 hex digits>`
/// deterministically from the mount path. Declare the real one to test templates that name it.
///
/// **Effective policies** (Vault's token + identity policies): for a role, its policies plus
/// `default` (unless `token_no_default_policy`), sorted and de-duplicated as the token store
/// does, then the entity's own policies, then its groups' policies (direct groups and their
/// parents, transitively). For an entity: `default`, its policies and its groups'. For a group:
/// its policies and its parents' (no `default`: a group is not a token).
#[derive(Clone, Debug)]
pub struct Inventory {
    /// Shared with the workspace that built the inventory (copied only when narrowed or
    /// added to while shared).
    pub(super) policies: Arc<BTreeMap<String, Policy>>,
    /// Policies that exist but are not in `policies` (see [`Inventory::with_unloaded`]).
    pub(super) unloaded: BTreeSet<String>,
    pub(super) roles: BTreeMap<String, RoleInfo>,
    pub(super) groups: BTreeMap<String, GroupInfo>,
    pub(super) entities: BTreeMap<String, EntityInfo>,
    /// Auth mount path (with `/`) → accessor.
    pub(super) accessors: BTreeMap<String, String>,
    pub(super) namespaces: crate::namespace::Namespaces,
    /// The target's `default` policy cut down by [`Inventory::narrow_rules`], if it was.
    pub(super) narrowed_default: Option<(Target, Policy)>,
    /// The rules [`Inventory::narrow_rules`] left out.
    pub(super) set_aside: Vec<Vec<crate::policy::Rule>>,
    /// `groups` with interned ids, built at the first question about a group closure (so
    /// after `groups` is complete: nothing adds a group once an inventory answers).
    pub(super) graph: OnceLock<GroupGraph>,
}

/// See [`Inventory::entity_closure_key`].
pub(super) type EntityClosureKey<'i> = (&'i str, &'i [String], &'i BTreeSet<String>);

/// See [`Inventory::role_closure_key`].
pub(super) type RoleClosureKey<'i> = (&'i str, &'i [String], bool, Option<EntityClosureKey<'i>>);

/// The groups of an inventory with dense ids (their rank in name order), built once so that
/// a closure walk compares and stores `u32`s instead of cloning and comparing names.
/// Cost: O(groups + memberships) time and memory to build.
#[derive(Clone, Debug, Default)]
pub(super) struct GroupGraph {
    /// Group name → id.
    ids: HashMap<String, u32>,
    /// Per id: the group's name and what it resolved to.
    groups: Vec<(String, GroupInfo)>,
    /// Per id: the ids of the groups listing it in `member_groups`, in `parents` order.
    parents: Vec<Vec<u32>>,
}

impl GroupGraph {
    fn new(groups: &BTreeMap<String, GroupInfo>) -> GroupGraph {
        let ids: HashMap<String, u32> = groups
            .keys()
            .enumerate()
            .map(|(id, name)| (name.clone(), id as u32))
            .collect();
        let parents = groups
            .values()
            .map(|info| {
                let known = info.parents.iter().filter_map(|p| ids.get(p.as_str()));
                known.copied().collect()
            })
            .collect();
        let groups = groups
            .iter()
            .map(|(name, info)| (name.clone(), info.clone()))
            .collect();
        GroupGraph {
            ids,
            groups,
            parents,
        }
    }

    /// The groups named in `start` plus their parents, transitively, in breadth-first order
    /// (each once; a cycle ends where it meets a group already seen); names that are no
    /// group are left out. Cost: O(start + closure + parent links of the closure), `u32`s
    /// only: the closure is the answer, and a chain of depth `d` has closures of every size
    /// up to `d` (d²/2 in all, which callers that walk every subject pay).
    pub(super) fn closure<'n>(&self, start: impl IntoIterator<Item = &'n str>) -> Vec<u32> {
        let mut seen: HashSet<u32> = HashSet::new();
        let mut order = Vec::new();
        let mut queue: VecDeque<u32> = start
            .into_iter()
            .filter_map(|name| self.ids.get(name).copied())
            .collect();
        while let Some(group) = queue.pop_front() {
            if !seen.insert(group) {
                continue;
            }
            queue.extend(self.parents[group as usize].iter().copied());
            order.push(group);
        }
        order
    }

    pub(super) fn info(&self, id: u32) -> &(String, GroupInfo) {
        &self.groups[id as usize]
    }

    /// The id of group `name`. Cost: one hash lookup.
    pub(super) fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The number of groups.
    pub(super) fn len(&self) -> usize {
        self.groups.len()
    }

    /// The ids of the groups listing `id` in `member_groups`.
    pub(super) fn parents_of(&self, id: u32) -> &[u32] {
        &self.parents[id as usize]
    }
}

/// The deterministic accessor capable uses for an auth mount that declares none:
/// `auth_<type>_<first 8 hex digits of the FNV-1a hash of the mount path>`.
pub fn accessor_for_mount(auth_type: &str, mount: &str) -> String {
    format!("auth_{auth_type}_{:08x}", fnv1a(mount) as u32)
}

fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

/// A UUID-shaped id derived from a kind and a name (stable across runs).
fn synthetic_id(kind: &str, name: &str) -> String {
    let high = fnv1a(&format!("{kind}:{name}"));
    let low = fnv1a(&format!("{name}:{kind}"));
    let hex = format!("{high:016x}{low:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `auth/userpass/`, `userpass`, `/userpass/` → `userpass/`.
fn normalize_mount(mount: &str) -> String {
    let trimmed = mount.trim_matches('/');
    let trimmed = trimmed.strip_prefix("auth/").unwrap_or(trimmed);
    format!("{}/", trimmed.trim_matches('/'))
}

const BUILTIN_POLICIES: &[&str] = &["default", "root"];

/// Collects the errors of a resolution pass.
struct Resolver<'a> {
    specs: &'a InventorySpecs,
    mounts: &'a Mounts,
    policies: &'a BTreeMap<String, Policy>,
    /// Policies that exist beside `policies` (see [`Inventory::with_unloaded`]).
    unloaded: &'a BTreeSet<String>,
    source: Option<&'a SourceFile>,
    /// Each error with the source id of the file it points into (see
    /// [`super::spanned_in`]).
    errors: Vec<(u32, Diagnostic)>,
    /// Auth mount → the `type` of the first role (in key order) on it that declares one,
    /// built once so each lookup is O(log roles) instead of a scan of every role.
    declared_auth_types: BTreeMap<String, String>,
}

impl Inventory {
    /// Builds the inventory from the configuration's `roles`, `groups` and `entities`.
    /// Every reference to a policy, group or entity that does not exist is an error pointing
    /// at the reference in `capable.yaml`.
    pub fn new(
        config: &Config,
        policies: &Arc<BTreeMap<String, Policy>>,
    ) -> Result<Inventory, Vec<FileDiagnostics>> {
        Inventory::with_unloaded(config, policies, &BTreeSet::new())
    }

    /// [`Inventory::new`] where `unloaded` names policies that exist beside `policies`: files
    /// a one-subject query has not read (it reads only the subject's, then hands them over
    /// with [`Inventory::insert_policy`]) or that the target refuses. A reference to one is
    /// not an error; an ACL that needs one never inserted fails with
    /// [`InventoryError::RefusedPolicy`].
    pub fn with_unloaded(
        config: &Config,
        policies: &Arc<BTreeMap<String, Policy>>,
        unloaded: &BTreeSet<String>,
    ) -> Result<Inventory, Vec<FileDiagnostics>> {
        let mut inventory = Inventory::resolve_specs(
            &config.inventory_specs(),
            &config.mounts,
            policies,
            unloaded,
            config.source.as_ref(),
        )?;
        inventory.policies = Arc::clone(policies);
        Ok(inventory)
    }

    /// [`Inventory::with_unloaded`] keeping `policies` (shared, not copied: 10,000 policies
    /// are some 500,000 allocations to copy).
    pub fn with_unloaded_owned(
        config: &Config,
        policies: Arc<BTreeMap<String, Policy>>,
        unloaded: &BTreeSet<String>,
    ) -> Result<Inventory, Vec<FileDiagnostics>> {
        let mut inventory = Inventory::resolve_specs(
            &config.inventory_specs(),
            &config.mounts,
            &policies,
            unloaded,
            config.source.as_ref(),
        )?;
        inventory.policies = policies;
        Ok(inventory)
    }

    /// Keeps of every policy, and of the target's built-in `default`, only the rules `keep`
    /// says may match: for asking every subject about a few request paths (`who-can`),
    /// where an ACL of the rules that may match decides as the whole one does, at a
    /// fraction of the cost of building it. Afterwards this inventory answers only those
    /// questions. Cost: O(rules).
    pub fn narrow_rules(
        &mut self,
        target: Target,
        keep: impl Fn(&Policy, &crate::policy::Rule) -> bool,
    ) {
        // The rules left out are kept aside, freed with the inventory (which the CLI leaves
        // to the end of the process, see `crate::cli::leak_at_exit`).
        let mut aside = Vec::new();
        let mut narrow = |policy: &mut Policy| {
            let rules = std::mem::take(&mut policy.rules);
            let (kept, dropped): (Vec<_>, Vec<_>) =
                rules.into_iter().partition(|rule| keep(policy, rule));
            policy.rules = kept;
            aside.push(dropped);
        };
        Arc::make_mut(&mut self.policies)
            .values_mut()
            .for_each(&mut narrow);
        let mut default = crate::acl::builtin::default_policy(target);
        narrow(&mut default);
        self.narrowed_default = Some((target, default));
        self.set_aside = aside;
    }

    /// Makes a policy named by [`Inventory::with_unloaded`] available to ACLs. Cost:
    /// O(log policies).
    pub fn insert_policy(&mut self, name: &str, policy: Policy) {
        self.unloaded.remove(name);
        Arc::make_mut(&mut self.policies).insert(name.to_string(), policy);
    }

    /// Builds the inventory from the three sections. `source` is the `capable.yaml` text the
    /// specs were read from; it is used to point errors about map keys at their line.
    /// Cost: O((roles + entities × aliases + groups × members) × log n): every lookup of a
    /// role's mount type, a group's members and an alias's entity goes through a map.
    pub fn from_specs(
        specs: &InventorySpecs,
        mounts: &Mounts,
        policies: &BTreeMap<String, Policy>,
        source: Option<&std::sync::Arc<SourceFile>>,
    ) -> Result<Inventory, Vec<FileDiagnostics>> {
        let mut inventory =
            Inventory::resolve_specs(specs, mounts, policies, &BTreeSet::new(), source)?;
        inventory.policies = Arc::new(policies.clone());
        Ok(inventory)
    }

    fn resolve_specs(
        specs: &InventorySpecs,
        mounts: &Mounts,
        policies: &BTreeMap<String, Policy>,
        unloaded: &BTreeSet<String>,
        source: Option<&std::sync::Arc<SourceFile>>,
    ) -> Result<Inventory, Vec<FileDiagnostics>> {
        let mut resolver = Resolver {
            specs,
            mounts,
            policies,
            unloaded,
            source: source.map(|source| &**source),
            errors: Vec::new(),
            declared_auth_types: declared_auth_types(specs),
        };
        resolver.errors.extend(specs.conflicts.iter().cloned());
        let inventory = resolver.resolve();
        if resolver.errors.is_empty() {
            return Ok(inventory);
        }
        Err(errors_by_file(resolver.errors, specs, source))
    }

    /// Every role, group and entity (roles first, each kind sorted by name).
    pub fn subjects(&self) -> Vec<Subject> {
        let roles = self.roles.keys().cloned().map(Subject::Role);
        let groups = self.groups.keys().cloned().map(Subject::Group);
        let entities = self.entities.keys().cloned().map(Subject::Entity);
        roles.chain(groups).chain(entities).collect()
    }

    /// The role keys (`<mount>/<name>`).
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Whether the inventory has no role, group or entity.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.groups.is_empty() && self.entities.is_empty()
    }

    /// The auth method type of a role (`kubernetes`, `userpass`, ...).
    pub fn role_auth_type(&self, role: &str) -> Option<&str> {
        let key = self.find_role(role).ok()?;
        self.roles.get(&key).map(|r| r.auth_type.as_str())
    }

    /// The workspace policies the inventory was built with.
    pub fn policies(&self) -> &BTreeMap<String, Policy> {
        &self.policies
    }

    /// The full role key for a key or a unique bare role name.
    pub fn find_role(&self, name: &str) -> Result<String, InventoryError> {
        if self.roles.contains_key(name) {
            return Ok(name.to_string());
        }
        let matches: Vec<String> = self
            .roles
            .keys()
            .filter(|key| key.rsplit_once('/').is_some_and(|(_, bare)| bare == name))
            .cloned()
            .collect();
        match matches.len() {
            0 => Err(InventoryError::UnknownRole(name.to_string())),
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            _ => Err(InventoryError::AmbiguousRole(name.to_string(), matches)),
        }
    }

    /// How the role's login finds its entity, and the entity's name.
    pub fn login_entity(&self, role: &str) -> Result<(LoginEntity, String), InventoryError> {
        let key = self.find_role(role)?;
        let info = &self.roles[&key];
        let name = match &info.login {
            LoginEntity::Declared(name) | LoginEntity::Alias(name) => name.clone(),
            LoginEntity::Implicit => implicit_entity_name(&key),
        };
        Ok((info.login.clone(), name))
    }

    /// The accessor of an auth mount (`kubernetes`, `kubernetes/` or `auth/kubernetes/`).
    pub fn accessor(&self, mount: &str) -> Option<&str> {
        self.accessors
            .get(&normalize_mount(mount))
            .map(String::as_str)
    }

    /// The effective policy names, in merge order (empty for an unknown subject).
    pub fn policies_of(&self, subject: &Subject) -> Vec<String> {
        self.effective_policies(subject).unwrap_or_default()
    }

    /// The effective policy names, in merge order.
    pub fn effective_policies(&self, subject: &Subject) -> Result<Vec<String>, InventoryError> {
        let names = self.effective_names(subject)?;
        Ok(names.into_iter().map(Cow::into_owned).collect())
    }

    /// [`Inventory::effective_policies`], borrowing the names (only a namespace's `default`
    /// is made). Cost: O(policies of the subject and of its group closure), the size of the
    /// answer; the closure is walked once, by id (see [`GroupGraph::closure`]).
    pub(crate) fn effective_names(
        &self,
        subject: &Subject,
    ) -> Result<Vec<Cow<'_, str>>, InventoryError> {
        match subject {
            Subject::Role(name) => {
                let key = self.find_role(name)?;
                let role = &self.roles[&key];
                let mut token: Vec<Cow<'_, str>> = role
                    .policies
                    .iter()
                    .map(|p| Cow::Borrowed(p.as_str()))
                    .collect();
                if !role.no_default && !token.iter().any(|p| p == "root") {
                    token.push(Cow::Owned(format!("{}default", role.namespace)));
                }
                token.sort();
                token.dedup();
                let mut names = UniqueNames::from(token);
                if let LoginEntity::Declared(entity) | LoginEntity::Alias(entity) = &role.login {
                    self.push_entity_policies(&mut names, entity, &role.namespace);
                }
                Ok(names.out)
            }
            Subject::Entity(name) => {
                let Some(entity) = self.entities.get(name) else {
                    return Err(InventoryError::UnknownEntity(name.clone()));
                };
                let default = Cow::Owned(format!("{}default", entity.namespace));
                let mut names = UniqueNames::from(vec![default]);
                self.push_entity_policies(&mut names, name, &entity.namespace);
                Ok(names.out)
            }
            Subject::Group(name) => {
                let Some(info) = self.groups.get(name) else {
                    return Err(InventoryError::UnknownGroup(name.clone()));
                };
                let groups = self.group_closure([name.as_str()]);
                let mut names = UniqueNames::default();
                self.push_groups_policies(&mut names, &groups, &info.namespace);
                Ok(names.out)
            }
            Subject::Policies(names) => {
                let mut unique = UniqueNames::default();
                names
                    .iter()
                    .for_each(|name| unique.push(Cow::Owned(name.clone())));
                Ok(unique.out)
            }
        }
    }

    /// What decides an entity's effective policies and the groups of its identity: its
    /// namespace, its own policies and its direct groups (see [`Inventory::effective_names`]
    /// and [`Inventory::identity_for`]); `None` for no entity. Entities with one key differ
    /// only in their own identity fields. Cost: O(1), borrowed.
    pub(super) fn entity_closure_key(&self, name: &str) -> Option<EntityClosureKey<'_>> {
        let info = self.entities.get(name)?;
        Some((info.namespace.as_str(), &info.policies, &info.groups))
    }

    /// What decides a role's effective policies and the groups of its identity: its
    /// namespace (the token's, which picks the groups that apply), its token policies and
    /// `token_no_default_policy`, and its login entity's [`Inventory::entity_closure_key`]
    /// (`None` for an implicit or unknown entity, which brings no policy and no group).
    /// Roles with one key differ only in their own identity fields. `None` for no role key.
    /// Cost: O(1), borrowed.
    pub(super) fn role_closure_key(&self, key: &str) -> Option<RoleClosureKey<'_>> {
        let role = self.roles.get(key)?;
        let entity = match &role.login {
            LoginEntity::Declared(name) | LoginEntity::Alias(name) => self.entity_closure_key(name),
            LoginEntity::Implicit => None,
        };
        Some((
            role.namespace.as_str(),
            &role.policies,
            role.no_default,
            entity,
        ))
    }

    /// The identity templates see for the subject (`None` for a bare policy list).
    pub fn identity_for(&self, subject: &Subject) -> Result<Option<Identity>, InventoryError> {
        match subject {
            Subject::Role(name) => {
                let key = self.find_role(name)?;
                Ok(Some(self.role_identity(&key)))
            }
            Subject::Entity(name) => {
                if !self.entities.contains_key(name) {
                    return Err(InventoryError::UnknownEntity(name.clone()));
                }
                Ok(Some(self.entity_identity(name)))
            }
            Subject::Group(name) => {
                if !self.groups.contains_key(name) {
                    return Err(InventoryError::UnknownGroup(name.clone()));
                }
                // A group alone has no entity: entity templates stay unresolved.
                let groups = self.group_closure([name.as_str()]);
                Ok(Some(Identity {
                    groups: self.identity_groups(&groups),
                    ..Identity::default()
                }))
            }
            Subject::Policies(_) => Ok(None),
        }
    }

    /// The subject's policies, in merge order, as the ACL needs them. `default` and `root` come
    /// from the target's built-ins unless the workspace defines them.
    pub fn policy_set(
        &self,
        subject: &Subject,
        target: Target,
    ) -> Result<Vec<Policy>, InventoryError> {
        let policies = self.policy_refs(subject, target)?;
        Ok(policies.into_iter().map(Cow::into_owned).collect())
    }

    /// [`Inventory::policy_set`], borrowing the workspace's policies (only built-ins are
    /// made). Cost: O(policies × log policies).
    fn policy_refs(
        &self,
        subject: &Subject,
        target: Target,
    ) -> Result<Vec<Cow<'_, Policy>>, InventoryError> {
        let names = self.effective_names(subject)?;
        names
            .iter()
            .map(|name| self.policy_named(name, target))
            .collect()
    }

    pub(super) fn policy_named(
        &self,
        name: &str,
        target: Target,
    ) -> Result<Cow<'_, Policy>, InventoryError> {
        if let Some(policy) = self.policies.get(name) {
            return Ok(Cow::Borrowed(policy));
        }
        // Every namespace has its own `default`, with the root namespace's text.
        if let Some(namespace) = name.strip_suffix("default") {
            if !namespace.is_empty() && self.namespaces.contains(namespace) {
                let mut default = crate::acl::builtin::default_policy(target);
                default.namespace = namespace.to_string();
                return Ok(Cow::Owned(default));
            }
        }
        if name == "default" {
            return Ok(match &self.narrowed_default {
                Some((narrowed, policy)) if *narrowed == target => Cow::Borrowed(policy),
                _ => Cow::Borrowed(crate::acl::builtin::default_policy_ref(target)),
            });
        }
        if let Some(builtin) = crate::acl::builtin::builtin_named(name, target) {
            return Ok(Cow::Owned(builtin));
        }
        match self.unloaded.contains(name) {
            true => Err(InventoryError::RefusedPolicy(name.to_string())),
            false => Err(InventoryError::UnknownPolicy(name.to_string())),
        }
    }

    /// The merged ACL of a subject for a target (spec section 2), templates resolved against
    /// its identity.
    pub fn acl_for(&self, subject: &Subject, target: Target) -> Result<Acl, InventoryError> {
        let policies = self.policy_refs(subject, target)?;
        let identity = self.identity_for(subject)?;
        let refs: Vec<&Policy> = policies.iter().map(|policy| &**policy).collect();
        let options = AclOptions {
            namespaces: self.namespaces.clone(),
            ..AclOptions::default()
        };
        Acl::with_options(&refs, target, identity.as_ref(), &options).map_err(InventoryError::Acl)
    }

    /// The namespace tree of `namespaces:`.
    pub fn namespaces(&self) -> &crate::namespace::Namespaces {
        &self.namespaces
    }

    /// The namespace a subject lives in (a role: its auth mount's; a bare policy list: root).
    pub fn namespace_of(&self, subject: &Subject) -> String {
        let found = match subject {
            Subject::Role(name) => self
                .find_role(name)
                .ok()
                .and_then(|key| self.roles.get(&key))
                .map(|role| &role.namespace),
            Subject::Entity(name) => self.entities.get(name).map(|e| &e.namespace),
            Subject::Group(name) => self.groups.get(name).map(|g| &g.namespace),
            Subject::Policies(_) => None,
        };
        found.cloned().unwrap_or_default()
    }

    /// Pushes the entity's own policies, then those of its groups that apply to a token of
    /// `token_namespace`. Cost: O(policies of the entity and its group closure).
    fn push_entity_policies<'a>(
        &'a self,
        names: &mut UniqueNames<'a>,
        entity: &str,
        token_namespace: &str,
    ) {
        let Some(info) = self.entities.get(entity) else {
            return;
        };
        info.policies
            .iter()
            .for_each(|name| names.push(Cow::Borrowed(name)));
        let groups = self.group_closure(info.groups.iter().map(String::as_str));
        self.push_groups_policies(names, &groups, token_namespace);
    }

    /// Pushes the policies of the groups whose namespace is the token's or one of its
    /// ancestors (Vault's default `within_namespace_hierarchy`; OpenBao keeps every member in
    /// the group's own namespace, where the rule changes nothing). Cost: O(their policies).
    fn push_groups_policies<'a>(
        &'a self,
        names: &mut UniqueNames<'a>,
        groups: &[u32],
        token_namespace: &str,
    ) {
        let graph = self.graph();
        for &id in groups {
            let (_, info) = graph.info(id);
            if !crate::namespace::is_within(token_namespace, &info.namespace) {
                continue;
            }
            info.policies
                .iter()
                .for_each(|name| names.push(Cow::Borrowed(name)));
        }
    }

    /// The group graph, built at the first call. Cost: O(groups + memberships) once.
    pub(super) fn graph(&self) -> &GroupGraph {
        self.graph.get_or_init(|| GroupGraph::new(&self.groups))
    }

    /// The ids of the groups plus their parents, transitively, in breadth-first order. Cost:
    /// O(start + closure), see [`GroupGraph::closure`].
    fn group_closure<'n>(&self, start: impl IntoIterator<Item = &'n str>) -> Vec<u32> {
        self.graph().closure(start)
    }

    /// The groups as templates see them. Cost: O(groups × their metadata), copied.
    pub(super) fn identity_groups(&self, groups: &[u32]) -> Vec<Group> {
        let graph = self.graph();
        groups
            .iter()
            .map(|&id| {
                let (name, info) = graph.info(id);
                Group {
                    id: info.id.clone(),
                    name: name.clone(),
                    metadata: info.metadata.clone(),
                }
            })
            .collect()
    }

    fn entity_identity(&self, name: &str) -> Identity {
        let Some(info) = self.entities.get(name) else {
            return Identity::default();
        };
        let groups = self.group_closure(info.groups.iter().map(String::as_str));
        Identity {
            groups: self.identity_groups(&groups),
            ..self.entity_own_identity(name)
        }
    }

    /// [`Inventory::identity_for`] an entity without its groups (empty): what only the
    /// entity itself decides. Cost: O(its metadata and aliases), copied.
    pub(super) fn entity_own_identity(&self, name: &str) -> Identity {
        let Some(info) = self.entities.get(name) else {
            return Identity::default();
        };
        Identity {
            entity_id: info.id.clone(),
            entity_name: name.to_string(),
            metadata: info.metadata.clone(),
            aliases: info.aliases.clone(),
            groups: Vec::new(),
        }
    }

    fn role_identity(&self, key: &str) -> Identity {
        self.role_identity_with(key, true)
    }

    /// [`Inventory::identity_for`] role `key` (a role key, as [`Inventory::subjects`] gives
    /// them) without its entity's groups (empty): what the role and its entity's own fields
    /// decide. Cost: O(the entity's metadata and aliases), copied; no walk of the closure.
    pub(super) fn role_own_identity(&self, key: &str) -> Identity {
        self.role_identity_with(key, false)
    }

    /// A role's identity, with its entity's group closure or not (`with_groups`).
    fn role_identity_with(&self, key: &str, with_groups: bool) -> Identity {
        let role = &self.roles[key];
        let accessor = self.accessors.get(&role.mount).cloned().unwrap_or_default();
        let mut identity = match &role.login {
            LoginEntity::Declared(name) | LoginEntity::Alias(name) if with_groups => {
                self.entity_identity(name)
            }
            LoginEntity::Declared(name) | LoginEntity::Alias(name) => {
                self.entity_own_identity(name)
            }
            LoginEntity::Implicit => Identity {
                entity_id: synthetic_id("entity", key),
                entity_name: implicit_entity_name(key),
                ..Identity::default()
            },
        };
        let Some(alias_name) = &role.alias_name else {
            return identity;
        };
        // The login sets the alias's metadata; an alias declared on the entity keeps its id.
        match identity
            .aliases
            .iter_mut()
            .find(|a| a.mount_accessor == accessor)
        {
            Some(alias) => {
                alias.name = alias_name.clone();
                alias.metadata.extend(role.alias_metadata.clone());
            }
            None => identity.aliases.push(Alias {
                mount_accessor: accessor,
                id: synthetic_id("alias", key),
                name: alias_name.clone(),
                metadata: role.alias_metadata.clone(),
                custom_metadata: BTreeMap::new(),
            }),
        }
        identity
    }
}

/// A namespace as declared, normalised; root when absent or invalid.
fn declared_namespace(declared: Option<&Spanned<String>>) -> String {
    declared
        .and_then(|declared| crate::namespace::normalize(&declared.value).ok())
        .unwrap_or_default()
}

fn implicit_entity_name(role_key: &str) -> String {
    format!("entity_{:08x}", fnv1a(role_key) as u32)
}

/// Names in the order first pushed, each once: merge order, as the token store and the
/// identity store list them. Cost: O(1) expected per push (a hash of the name).
#[derive(Default)]
struct UniqueNames<'a> {
    seen: HashSet<Cow<'a, str>>,
    out: Vec<Cow<'a, str>>,
}

impl<'a> UniqueNames<'a> {
    fn from(first: Vec<Cow<'a, str>>) -> UniqueNames<'a> {
        let mut names = UniqueNames::default();
        first.into_iter().for_each(|name| names.push(name));
        names
    }

    fn push(&mut self, name: Cow<'a, str>) {
        if self.seen.contains(name.as_ref()) {
            return;
        }
        self.seen.insert(name.clone());
        self.out.push(name);
    }
}

impl Resolver<'_> {
    fn resolve(&mut self) -> Inventory {
        let accessors = self.accessors();
        let groups = self.groups();
        let entities = self.entities(&groups, &accessors);
        let roles = self.roles(&entities, &accessors);
        self.check_policy_settings();
        // The caller hands the policies over (copied or moved).
        Inventory {
            policies: Arc::default(),
            unloaded: self.unloaded.clone(),
            roles,
            groups,
            entities,
            accessors,
            namespaces: self.specs.namespaces.clone(),
            narrowed_default: None,
            set_aside: Vec::new(),
            graph: OnceLock::new(),
        }
    }

    /// Span of a map key (`<key>:`) in the source, for errors about names that have no
    /// spanned value. Best effort: the first line whose trimmed text starts with the key.
    fn key_span(&self, key: &str) -> Span {
        self.source
            .map_or(Span::default(), |source| key_span_in(source, key))
    }

    /// The namespace a role, group or entity declares (root by default); one that
    /// `namespaces:` does not declare is an error, and root is used.
    fn namespace_of(&mut self, declared: &Option<Spanned<String>>, owner: &str) -> String {
        let Some(declared) = declared else {
            return String::new();
        };
        let normalized = crate::namespace::normalize(&declared.value);
        match normalized {
            Ok(path) if self.specs.namespaces.contains(&path) => path,
            Ok(path) => {
                self.errors.push((
                    source_id_of(declared),
                    Diagnostic::error(
                        "unknown-namespace",
                        span_of_spanned(declared),
                        format!("{owner} is in namespace `{path}`, which `namespaces:` does not declare"),
                    )
                    .with_label("no such namespace")
                    .with_help("declare it under `namespaces:` in capable.yaml"),
                ));
                String::new()
            }
            Err(message) => {
                self.errors.push((
                    source_id_of(declared),
                    Diagnostic::error("unknown-namespace", span_of_spanned(declared), message)
                        .with_help("write the namespace path, e.g. `admin/team-a/`"),
                ));
                String::new()
            }
        }
    }

    /// The policies named, as qualified names in `namespace` (`admin/reader`; bare in root).
    fn check_policies(
        &mut self,
        names: &[Spanned<String>],
        owner: &str,
        namespace: &str,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for name in names {
            let bare = name.value.trim();
            let policy = format!("{namespace}{bare}");
            let builtin = match namespace {
                "" => BUILTIN_POLICIES.contains(&bare),
                _ => bare == "default",
            };
            let known = self.exists(&policy) || builtin;
            if !known {
                let lower = format!("{namespace}{}", bare.to_lowercase());
                if lower != policy && self.exists(&lower) {
                    out.push(lower);
                    continue;
                }
                self.errors.push((
                    source_id_of(name),
                    Diagnostic::error(
                        "unknown-policy",
                        span_of_spanned(name),
                        format!("{owner} refers to policy `{policy}`, which does not exist"),
                    )
                    .with_label("no such policy")
                    .with_help(self.policy_help(&policy)),
                ));
                continue;
            }
            out.push(policy);
        }
        out
    }

    /// Every name under `policies:` must be a policy of the workspace.
    fn check_policy_settings(&mut self) {
        for name in &self.specs.policy_settings {
            if self.exists(name) {
                continue;
            }
            let span = self.key_span(name);
            self.errors.push((
                0,
                Diagnostic::error(
                    "unknown-policy",
                    span,
                    format!("`policies` has settings for `{name}`, which does not exist"),
                )
                .with_label("no such policy")
                .with_help(self.policy_help(name)),
            ));
        }
    }

    /// Whether a policy of this qualified name exists. Cost: O(log policies).
    fn exists(&self, name: &str) -> bool {
        self.policies.contains_key(name) || self.unloaded.contains(name)
    }

    fn policy_help(&self, missing: &str) -> String {
        // Both sets in name order, as one.
        let names: BTreeSet<&String> = self.policies.keys().chain(self.unloaded).collect();
        // Banded: a long missing name costs O(length) per candidate, not O(length²).
        let within = |name: &str| crate::suggest::edit_distance_within(name, missing, 3);
        let closest = crate::suggest::closest(names, |name| within(name).unwrap_or(4), |_| 3);
        match closest {
            Some(name) => format!("did you mean `{name}`? policies are named after their file stem"),
            None => "add a policy file with this name to the policy tree (the policy name is the file stem)".into(),
        }
    }

    /// The namespace a group declares (root when absent or invalid: that error is reported
    /// where the group is resolved).
    fn group_namespace(&self, group: &str) -> String {
        declared_namespace(
            self.specs
                .groups
                .get(group)
                .and_then(|g| g.namespace.as_ref()),
        )
    }

    fn entity_namespace(&self, entity: &str) -> String {
        declared_namespace(
            self.specs
                .entities
                .get(entity)
                .and_then(|e| e.namespace.as_ref()),
        )
    }

    /// OpenBao keeps every identity membership inside one namespace: a group's members, an
    /// entity's groups and a role's entity must share its namespace (observed on OpenBao
    /// 2.7.2: `invalid entity ID`, `invalid member group ID`, and for an alias on another
    /// namespace's mount `matching mount is in a different namespace than request`). Vault
    /// Enterprise accepts members of any namespace (`sys/config/group-policy-application`).
    fn check_same_namespace(
        &mut self,
        reference: &Spanned<String>,
        owner: &str,
        ours: &str,
        kind: &str,
        theirs: &str,
    ) {
        if self.specs.target != Target::OpenBao || ours == theirs {
            return;
        }
        let show = crate::namespace::display;
        self.errors.push((
            source_id_of(reference),
            Diagnostic::error(
                "cross-namespace-member",
                span_of_spanned(reference),
                format!(
                    "{owner} (namespace `{}`) refers to {kind} `{}` of namespace `{}`, which OpenBao refuses",
                    show(ours),
                    reference.value,
                    show(theirs)
                ),
            )
            .with_label(format!("{kind} of another namespace"))
            .with_help(
                "OpenBao keeps identity memberships within one namespace: declare a member in the same namespace (Vault Enterprise accepts it: `target: vault`)",
            ),
        ));
    }

    fn check_group_ref(&mut self, name: &Spanned<String>, owner: &str) -> Option<String> {
        if self.specs.groups.contains_key(&name.value) {
            return Some(name.value.clone());
        }
        self.errors.push((
            source_id_of(name),
            Diagnostic::error(
                "unknown-group",
                span_of_spanned(name),
                format!(
                    "{owner} refers to group `{}`, which does not exist",
                    name.value
                ),
            )
            .with_label("no such group")
            .with_help("declare it under `groups:` in capable.yaml"),
        ));
        None
    }

    fn check_entity_ref(&mut self, name: &Spanned<String>, owner: &str) -> Option<String> {
        if self.specs.entities.contains_key(&name.value) {
            return Some(name.value.clone());
        }
        self.errors.push((
            source_id_of(name),
            Diagnostic::error(
                "unknown-entity",
                span_of_spanned(name),
                format!(
                    "{owner} refers to entity `{}`, which does not exist",
                    name.value
                ),
            )
            .with_label("no such entity")
            .with_help("declare it under `entities:` in capable.yaml"),
        ));
        None
    }

    /// Auth type of a mount: a role's `type`, else the engine of an `auth/<mount>` entry in
    /// `mounts`, else the mount's first segment.
    /// Cost: O(log roles + mounts).
    fn auth_type(&self, mount: &str) -> String {
        if let Some(auth_type) = self.declared_auth_types.get(mount) {
            return auth_type.clone();
        }
        let auth_path = format!("auth/{mount}");
        if let Some(entry) = self.mounts.iter().find(|m| m.path == auth_path) {
            return entry.engine.clone();
        }
        mount.split('/').next().unwrap_or(mount).to_string()
    }

    /// Every auth mount named by a role or alias, with its declared or synthesized accessor.
    fn accessors(&mut self) -> BTreeMap<String, String> {
        let mut declared: BTreeMap<String, Spanned<String>> = BTreeMap::new();
        let mut mounts: BTreeSet<String> = BTreeSet::new();
        let mut claims: Vec<(String, Spanned<String>)> = Vec::new();
        for (key, role) in &self.specs.roles {
            let Some(mount) = role_mount(key) else {
                continue;
            };
            mounts.insert(mount.clone());
            if let Some(accessor) = &role.accessor {
                claims.push((mount, accessor.clone()));
            }
        }
        for entity in self.specs.entities.values() {
            for alias in &entity.aliases {
                let mount = normalize_mount(&alias.mount.value);
                mounts.insert(mount.clone());
                if let Some(accessor) = &alias.accessor {
                    claims.push((mount, accessor.clone()));
                }
            }
        }
        for (mount, accessor) in claims {
            match declared.get(&mount) {
                Some(existing) if existing.value != accessor.value => {
                    self.errors.push((
                        source_id_of(&accessor),
                        Diagnostic::error(
                            "conflicting-accessor",
                            span_of_spanned(&accessor),
                            format!(
                                "auth mount `{mount}` has accessor `{}` here but `{}` elsewhere",
                                accessor.value, existing.value
                            ),
                        )
                        .with_label("conflicting accessor")
                        .with_help("an auth mount has one accessor; use the same value everywhere"),
                    ));
                }
                Some(_) => {}
                None => {
                    declared.insert(mount, accessor);
                }
            }
        }
        mounts
            .into_iter()
            .map(|mount| {
                let accessor = match declared.get(&mount) {
                    Some(accessor) => accessor.value.clone(),
                    None => accessor_for_mount(&self.auth_type(&mount), &mount),
                };
                (mount, accessor)
            })
            .collect()
    }

    fn groups(&mut self) -> BTreeMap<String, GroupInfo> {
        let specs: Vec<(String, GroupSpec)> = self
            .specs
            .groups
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut groups = BTreeMap::new();
        for (name, spec) in &specs {
            let owner = format!("group `{name}`");
            let namespace = self.namespace_of(&spec.namespace, &owner);
            let policies = self.check_policies(&spec.policies, &owner, &namespace);
            if let Some(kind) = &spec.group_type {
                if kind.value != "internal" && kind.value != "external" {
                    self.errors.push((
                        source_id_of(kind),
                        Diagnostic::error(
                            "invalid-group-type",
                            span_of_spanned(kind),
                            format!(
                                "group type `{}` is not `internal` or `external`",
                                kind.value
                            ),
                        )
                        .with_help("use `internal` (the default) or `external`"),
                    ));
                }
            }
            for member in &spec.member_entities {
                if let Some(entity) = self.check_entity_ref(member, &owner) {
                    let theirs = self.entity_namespace(&entity);
                    self.check_same_namespace(member, &owner, &namespace, "entity", &theirs);
                }
            }
            groups.insert(
                name.clone(),
                GroupInfo {
                    namespace,
                    id: spec
                        .id
                        .clone()
                        .unwrap_or_else(|| synthetic_id("group", name)),
                    metadata: spec.metadata.clone(),
                    policies,
                    parents: Vec::new(),
                },
            );
        }
        for (name, spec) in &specs {
            for member in &spec.member_groups {
                let owner = format!("group `{name}`");
                if let Some(child) = self.check_group_ref(member, &owner) {
                    let (ours, theirs) = (self.group_namespace(name), self.group_namespace(&child));
                    self.check_same_namespace(member, &owner, &ours, "group", &theirs);
                    if let Some(info) = groups.get_mut(&child) {
                        info.parents.push(name.clone());
                    }
                }
            }
        }
        groups
    }

    fn entities(
        &mut self,
        groups: &BTreeMap<String, GroupInfo>,
        accessors: &BTreeMap<String, String>,
    ) -> BTreeMap<String, EntityInfo> {
        let specs: Vec<(String, EntitySpec)> = self
            .specs
            .entities
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // Entity → the groups listing it in `member_entities`, built once.
        let mut listed_in: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (group, group_spec) in &self.specs.groups {
            for entity in &group_spec.member_entities {
                listed_in
                    .entry(entity.value.as_str())
                    .or_default()
                    .push(group.as_str());
            }
        }
        let mut entities = BTreeMap::new();
        for (name, spec) in &specs {
            let owner = format!("entity `{name}`");
            let namespace = self.namespace_of(&spec.namespace, &owner);
            let policies = self.check_policies(&spec.policies, &owner, &namespace);
            let mut member_of = BTreeSet::new();
            for group_ref in &spec.groups {
                if let Some(group) = self.check_group_ref(group_ref, &owner) {
                    let theirs = self.group_namespace(&group);
                    self.check_same_namespace(group_ref, &owner, &namespace, "group", &theirs);
                    member_of.insert(group);
                }
            }
            for group in listed_in.get(name.as_str()).into_iter().flatten() {
                member_of.insert(group.to_string());
            }
            let aliases = spec
                .aliases
                .iter()
                .map(|alias| {
                    let mount = normalize_mount(&alias.mount.value);
                    Alias {
                        mount_accessor: accessors.get(&mount).cloned().unwrap_or_default(),
                        id: alias.id.clone().unwrap_or_else(|| {
                            synthetic_id("alias", &format!("{mount}{}", alias.name.value))
                        }),
                        name: alias.name.value.clone(),
                        metadata: alias.metadata.clone(),
                        custom_metadata: alias.custom_metadata.clone(),
                    }
                })
                .collect();
            debug_assert!(member_of.iter().all(|g| groups.contains_key(g)));
            entities.insert(
                name.clone(),
                EntityInfo {
                    namespace,
                    id: spec
                        .id
                        .clone()
                        .unwrap_or_else(|| synthetic_id("entity", name)),
                    metadata: spec.metadata.clone(),
                    policies,
                    aliases,
                    groups: member_of,
                },
            );
        }
        entities
    }

    fn roles(
        &mut self,
        entities: &BTreeMap<String, EntityInfo>,
        accessors: &BTreeMap<String, String>,
    ) -> BTreeMap<String, RoleInfo> {
        let specs: Vec<(String, RoleSpec)> = self
            .specs
            .roles
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let by_alias = entities_by_alias(entities);
        let mut roles = BTreeMap::new();
        for (key, spec) in &specs {
            let Some(mount) = role_mount(key) else {
                self.errors.push((
                    0,
                    Diagnostic::error(
                        "invalid-role-name",
                        self.key_span(key),
                        format!("role `{key}` does not name its auth mount"),
                    )
                    .with_label("expected `<auth mount>/<role>`")
                    .with_help(format!(
                        "write the key as `<auth mount>/<role>`, e.g. `kubernetes/{key}`"
                    )),
                ));
                continue;
            };
            let owner = format!("role `{key}`");
            let namespace = self.namespace_of(&spec.namespace, &owner);
            let policies = self.check_policies(&spec.policies, &owner, &namespace);
            let auth_type = self.auth_type(&mount);
            let alias_name = login_alias_name(key, &auth_type, spec);
            let login = match &spec.entity {
                Some(entity_ref) => match self.check_entity_ref(entity_ref, &owner) {
                    Some(entity) => {
                        let theirs = self.entity_namespace(&entity);
                        self.check_same_namespace(
                            entity_ref, &owner, &namespace, "entity", &theirs,
                        );
                        LoginEntity::Declared(entity)
                    }
                    None => LoginEntity::Implicit,
                },
                None => {
                    let accessor = accessors.get(&mount).cloned().unwrap_or_default();
                    alias_name
                        .as_deref()
                        .and_then(|alias| by_alias.get(&(accessor.as_str(), alias)))
                        .map(|entity| LoginEntity::Alias(entity.to_string()))
                        .unwrap_or(LoginEntity::Implicit)
                }
            };
            roles.insert(
                key.clone(),
                RoleInfo {
                    namespace,
                    mount,
                    alias_metadata: login_alias_metadata(&auth_type, key, spec),
                    auth_type,
                    policies,
                    no_default: spec.token_no_default_policy,
                    login,
                    alias_name,
                },
            );
        }
        roles
    }
}

/// The auth mount of a role key: everything before the last `/`, normalised.
fn role_mount(key: &str) -> Option<String> {
    let (mount, name) = key.rsplit_once('/')?;
    if mount.trim_matches('/').is_empty() || name.is_empty() {
        return None;
    }
    Some(normalize_mount(mount))
}

/// The alias name a login through this role presents, when it can be known offline.
fn login_alias_name(key: &str, auth_type: &str, spec: &RoleSpec) -> Option<String> {
    if let Some(name) = &spec.alias_name {
        return Some(name.value.clone());
    }
    let bare = key.rsplit_once('/').map(|(_, name)| name)?;
    match auth_type {
        "userpass" | "ldap" | "radius" | "cert" => Some(bare.to_string()),
        // AppRole names the alias after the role's `role_id`.
        "approle" => spec.role_id.clone(),
        "kubernetes" => match (
            spec.bound_service_account_namespaces.as_slice(),
            spec.bound_service_account_names.as_slice(),
        ) {
            ([namespace], [name]) if namespace != "*" && name != "*" => {
                Some(format!("{namespace}/{name}"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The metadata the auth method attaches to the alias at login.
fn login_alias_metadata(auth_type: &str, key: &str, spec: &RoleSpec) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::new();
    match auth_type {
        "kubernetes" => {
            if let [name] = spec.bound_service_account_names.as_slice() {
                if name != "*" {
                    metadata.insert("service_account_name".into(), name.clone());
                }
            }
            if let [namespace] = spec.bound_service_account_namespaces.as_slice() {
                if namespace != "*" {
                    metadata.insert("service_account_namespace".into(), namespace.clone());
                }
            }
        }
        "approle" => {
            if let Some((_, name)) = key.rsplit_once('/') {
                metadata.insert("role_name".into(), name.to_string());
            }
        }
        "jwt" | "oidc" => {
            if let Some((_, name)) = key.rsplit_once('/') {
                metadata.insert("role".into(), name.to_string());
            }
        }
        _ => {}
    }
    metadata.extend(spec.alias_metadata.clone());
    metadata
}

/// `(mount accessor, alias name)` → the first entity (by name) holding that alias: what a
/// login through a role finds. Cost: O(aliases × log aliases).
fn entities_by_alias(entities: &BTreeMap<String, EntityInfo>) -> BTreeMap<(&str, &str), &str> {
    let mut found = BTreeMap::new();
    for (name, info) in entities {
        for alias in &info.aliases {
            found
                .entry((alias.mount_accessor.as_str(), alias.name.as_str()))
                .or_insert(name.as_str());
        }
    }
    found
}

/// Auth mount → the `type` of the first role (in key order) on that mount declaring one.
/// Cost: O(roles × log roles).
fn declared_auth_types(specs: &InventorySpecs) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for (key, role) in &specs.roles {
        let (Some(mount), Some(auth_type)) = (role_mount(key), &role.auth_type) else {
            continue;
        };
        found
            .entry(mount)
            .or_insert_with(|| auth_type.value.clone());
    }
    found
}

/// Span of a map key (`<key>:`) in a YAML text: the first line whose trimmed text starts with
/// the key (quoted or not). Best effort, for names that have no spanned value. Cost: O(text).
pub fn key_span_in(source: &SourceFile, key: &str) -> Span {
    let mut offset = 0;
    for line in source.text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let unquoted = trimmed.trim_start_matches(['"', '\'']);
        let quote = trimmed.len() - unquoted.len();
        if let Some(rest) = unquoted.strip_prefix(key) {
            let rest = rest.trim_start_matches(['"', '\'']);
            if rest.starts_with(':') {
                let start = offset + indent + quote;
                return Span::new(start, start + key.len());
            }
        }
        offset += line.len();
    }
    Span::default()
}

/// The errors grouped per file, in order of source id (`capable.yaml` first), each file's by
/// position. Source id 0 is `source` (a stand-in `capable.yaml` without one). Cost:
/// O(errors × log errors).
fn errors_by_file(
    errors: Vec<(u32, Diagnostic)>,
    specs: &InventorySpecs,
    source: Option<&std::sync::Arc<SourceFile>>,
) -> Vec<FileDiagnostics> {
    let mut by_source: BTreeMap<u32, Vec<Diagnostic>> = BTreeMap::new();
    for (id, diagnostic) in errors {
        by_source.entry(id).or_default().push(diagnostic);
    }
    by_source
        .into_iter()
        .map(|(id, mut diagnostics)| {
            diagnostics.sort_by_key(|d| d.span.start);
            diagnostics.dedup();
            let file = match id {
                0 => source
                    .cloned()
                    .unwrap_or_else(|| std::sync::Arc::new(SourceFile::new("capable.yaml", ""))),
                n => specs
                    .sources
                    .get(n as usize - 1)
                    .cloned()
                    .unwrap_or_else(|| std::sync::Arc::new(SourceFile::new("capable.yaml", ""))),
            };
            FileDiagnostics { file, diagnostics }
        })
        .collect()
}
