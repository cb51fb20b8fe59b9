//! Re-deciding one logged request under a policy tree with capable's ACL.
//!
//! The subject's policies are the ones the log shows for its token, unless the tree's
//! inventory (`capable.yaml` `roles`) knows the role the token logged in with: then the
//! inventory's effective policies and identity are used, so a change to a role's policies is
//! replayed too. Policies the log names but the tree lacks are left out (as the server does
//! with a policy that does not exist) and reported.
//!
//! Namespaces (docs/namespaces.md): a request logged in namespace `N` with path `p` asks about
//! `N` + `p`; the token's policy names are names in the token's namespace (see
//! [`token_namespace`]), so `reader` of a token of `admin/team-a/` is the tree's
//! `admin/team-a/reader`, and `default` is that namespace's own `default`.
//!
//! Cost: ACLs are built once per (policy set, token namespace, request namespace). Verdicts are
//! cached per (ACL, operation, wrapping TTL, path) in a bounded cache; the request data is
//! parsed only when the winning rule checks parameters (then the cache key also holds the
//! parameter names and clear values). A long log costs one hash lookup per request without
//! allocating, and one ACL decision per distinct request.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use serde_json::value::RawValue;

use super::entry::{is_hmac, Entry, MOUNT_PREFLIGHT};
use super::subject::{token_namespace, RoleIndex, RoleKey, TokenRoles};
use crate::acl::{builtin, Acl, AclOptions, DenyReason, MergedRule, Operation, Request};
use crate::config::Mounts;
use crate::inventory::{Inventory, Subject};
use crate::namespace::Namespaces;
use crate::policy::Policy;
use crate::target::Target;
use crate::workspace::Workspace;

/// The rule that decided, as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RuleRef {
    /// The policies whose blocks merged into the rule.
    pub policies: Vec<String>,
    /// The pattern as written in the first block.
    pub pattern: String,
    /// `file:line` of the first block.
    pub location: String,
}

impl RuleRef {
    pub fn describe(&self) -> String {
        format!(
            "`{}` of {} ({})",
            self.pattern,
            self.policies
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            self.location
        )
    }
}

/// capable's verdict on one logged request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Verdict {
    pub allowed: bool,
    /// The winning rule (none when no rule matched, for root, or for mount visibility).
    pub rule: Option<RuleRef>,
    /// Why it was denied, in words (empty when allowed).
    pub reason: String,
}

/// What re-deciding gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Decided(Verdict),
    /// Not decidable from the log: a parameter check on a value the server HMAC'd.
    Undecidable(String),
    /// Not an ACL decision (unknown operation such as `alias-lookahead`).
    Skipped,
}

/// An outcome kept by a [`TreeDecider`]; valid until its next [`TreeDecider::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeId(u32);

/// The parts of an entry a decision depends on, borrowed from the entry.
#[derive(Clone, Debug)]
pub struct LoggedRequest<'e> {
    pub operation: Operation,
    /// The request's namespace (`""` for root).
    pub namespace: Cow<'e, str>,
    /// The path relative to the namespace, as logged.
    pub path: &'e str,
    pub data: Option<&'e RawValue>,
    pub wrap_ttl: Option<i64>,
}

impl LoggedRequest<'_> {
    /// The full path the ACL judges (the namespace, then the path).
    pub fn full_path(&self) -> String {
        if self.namespace.is_empty() {
            return self.path.trim_start_matches('/').to_string();
        }
        crate::namespace::join(&self.namespace, self.path)
    }

    /// The `kv` preflight (`sys/internal/ui/mounts/...`): decided by mount visibility.
    pub fn is_preflight(&self) -> bool {
        self.path
            .trim_start_matches('/')
            .starts_with(MOUNT_PREFLIGHT)
    }

    /// The request data, parsed (string values are HMAC'd by the server).
    pub fn parsed_data(&self) -> serde_json::Map<String, serde_json::Value> {
        self.data
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or_default()
    }
}

/// The request of an entry, or `None` when the operation is not one the ACL decides or the
/// namespace is known only by id.
pub fn logged_request<'e>(entry: &'e Entry<'_>) -> Option<LoggedRequest<'e>> {
    let operation: Operation = entry.operation()?.parse().ok()?;
    let namespace = entry.namespace()?;
    let path = entry.request.as_ref()?.path.as_deref()?;
    Some(LoggedRequest {
        operation,
        namespace,
        path,
        data: entry.raw_data(),
        wrap_ttl: entry.wrap_ttl(),
    })
}

/// The mount holding `path` (a full path): the configured mount table's, else the first
/// segment below the deepest namespace the path falls into.
fn mount_of(path: &str, mounts: &Mounts, namespaces: &Namespaces) -> String {
    if let Some(mount) = mounts.find(path) {
        return mount.path.clone();
    }
    let (namespace, rest) = namespaces.split(path);
    match rest.split_once('/') {
        Some((first, _)) => format!("{namespace}{first}/"),
        None => format!("{namespace}{}/", rest.trim_end_matches('/')),
    }
}

/// The cache key of a verdict that depends on the request data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DataKey {
    acl: usize,
    operation: Operation,
    path: String,
    /// Parameter names, and the values the server did not HMAC (JSON text), sorted.
    data: Vec<(String, String)>,
    wrap_ttl: Option<i64>,
}

/// A cached verdict on a path: final, or dependent on the request data.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Done(OutcomeId),
    DataDependent,
}

/// (ACL id, operation, wrapping TTL): the part of a verdict's key besides the path.
type PathKey = (usize, Operation, Option<i64>);

/// Verdicts kept before the caches are cleared (bounds memory on logs of unique paths).
const CACHE_LIMIT: usize = 200_000;

/// Decides logged requests under one tree.
pub struct TreeDecider<'t> {
    workspace: &'t Workspace,
    target: Target,
    inventory: Option<Inventory>,
    roles: RoleIndex,
    /// ACL ids by a key text built in `key_buffer` (see [`TreeDecider::acl_id`]).
    acls: HashMap<String, usize>,
    key_buffer: String,
    built: Vec<Option<Rc<Acl>>>,
    /// (ACL, operation, wrapping TTL) → path → verdict.
    by_path: HashMap<PathKey, HashMap<Box<str>, Slot>>,
    by_data: HashMap<DataKey, OutcomeId>,
    outcomes: Vec<Outcome>,
    /// Policies the log names that the tree does not define.
    pub missing_policies: BTreeSet<String>,
    /// ACLs the tree cannot build (a role naming an unknown policy, root with others), in words.
    pub acl_errors: BTreeSet<String>,
}

impl<'t> TreeDecider<'t> {
    /// A decider for `workspace`; its inventory is used when it has one and it resolves.
    pub fn new(workspace: &'t Workspace) -> Result<TreeDecider<'t>, String> {
        let inventory = if workspace.config.has_inventory() {
            let inventory =
                Inventory::new(&workspace.config, &workspace.policies).map_err(|errors| {
                    let count: usize = errors.iter().map(|file| file.diagnostics.len()).sum();
                    format!("the inventory has {count} error(s)")
                })?;
            Some(inventory)
        } else {
            None
        };
        let roles = inventory
            .as_ref()
            .map(|inventory| {
                let keys = inventory
                    .role_names()
                    .filter_map(|name| RoleKey::parse(name, inventory.role_auth_type(name)))
                    .collect();
                RoleIndex::new(keys)
            })
            .unwrap_or_default();
        Ok(TreeDecider {
            workspace,
            target: workspace.target,
            inventory,
            roles,
            acls: HashMap::new(),
            key_buffer: String::new(),
            built: Vec::new(),
            by_path: HashMap::new(),
            by_data: HashMap::new(),
            outcomes: Vec::new(),
            missing_policies: BTreeSet::new(),
            acl_errors: BTreeSet::new(),
        })
    }

    pub fn mounts(&self) -> &Mounts {
        &self.workspace.config.mounts
    }

    /// The namespaces `capable.yaml` declares.
    pub fn namespaces(&self) -> &Namespaces {
        &self.workspace.config.namespaces
    }

    /// The inventory role the entry's token logged in with, if the tree knows it.
    pub fn role_of(&self, entry: &Entry<'_>, tokens: &TokenRoles) -> Option<&RoleKey> {
        self.roles.find(entry, tokens)
    }

    /// The outcome of a [`TreeDecider::decide`].
    pub fn outcome(&self, id: OutcomeId) -> &Outcome {
        &self.outcomes[id.0 as usize]
    }

    /// Re-decides the entry's request. Cost: a hash lookup, else one ACL decision (and one
    /// ACL build per new policy set and namespace pair).
    pub fn decide(
        &mut self,
        entry: &Entry<'_>,
        request: &LoggedRequest<'_>,
        tokens: &TokenRoles,
    ) -> OutcomeId {
        let acl_id = self.acl_id(entry, &request.namespace, tokens);
        let by_path_key = (acl_id, request.operation, request.wrap_ttl);
        let cached = self
            .by_path
            .get(&by_path_key)
            .and_then(|paths| paths.get(request.path));
        match cached {
            Some(Slot::Done(id)) => return *id,
            Some(Slot::DataDependent) => return self.decide_with_data(acl_id, request),
            None => {}
        }
        if self.outcomes.len() >= CACHE_LIMIT {
            self.by_path.clear();
            self.by_data.clear();
            self.outcomes.clear();
        }
        let (outcome, data_dependent) = match &self.built[acl_id] {
            None => (
                Outcome::Decided(Verdict {
                    allowed: false,
                    rule: None,
                    reason: "the tree cannot build this token's ACL".into(),
                }),
                false,
            ),
            Some(acl) => {
                let acl = acl.clone();
                self.decide_plain(&acl, request)
            }
        };
        let slot = if data_dependent {
            Slot::DataDependent
        } else {
            Slot::Done(self.keep(outcome))
        };
        self.by_path
            .entry(by_path_key)
            .or_default()
            .insert(request.path.into(), slot);
        match slot {
            Slot::Done(id) => id,
            Slot::DataDependent => self.decide_with_data(acl_id, request),
        }
    }

    fn keep(&mut self, outcome: Outcome) -> OutcomeId {
        self.outcomes.push(outcome);
        OutcomeId((self.outcomes.len() - 1) as u32)
    }

    /// The decision without the request data, and whether the winning rule checks
    /// parameters (then the data decides and this outcome is not used).
    fn decide_plain(&self, acl: &Acl, request: &LoggedRequest<'_>) -> (Outcome, bool) {
        let full_path = request.full_path();
        if request.is_preflight() {
            return (self.decide_preflight(acl, request, &full_path), false);
        }
        let mut query = Request::new(request.operation, full_path);
        query.wrap_ttl = request.wrap_ttl;
        let decision = acl.authorize(&query);
        let data_dependent = decision
            .explanation
            .winner
            .as_ref()
            .is_some_and(checks_parameters);
        (verdict_of(&decision), data_dependent)
    }

    /// The `kv` preflight: visibility of the mount, which must lie in the request's own
    /// namespace (observed on OpenBao 2.7.2: asked in `admin/` about a mount of
    /// `admin/team-a/`, it answers `permission denied` whatever the policies grant).
    fn decide_preflight(&self, acl: &Acl, request: &LoggedRequest<'_>, full_path: &str) -> Outcome {
        let inside = full_path
            .strip_prefix(request.namespace.as_ref())
            .and_then(|rest| rest.strip_prefix(MOUNT_PREFLIGHT))
            .unwrap_or_default();
        let target_path = crate::namespace::join(&request.namespace, inside);
        let namespaces =
            Namespaces::new(self.namespaces().iter().chain([request.namespace.as_ref()]));
        let mount = mount_of(&target_path, self.mounts(), &namespaces);
        let (mount_namespace, _) = namespaces.split(&mount);
        if mount_namespace.len() > request.namespace.len() {
            return Outcome::Decided(Verdict {
                allowed: false,
                rule: None,
                reason: format!(
                    "the mount `{mount}` lies in the child namespace `{mount_namespace}`, which \
                     the preflight of `{}` does not see",
                    crate::namespace::display(&request.namespace)
                ),
            });
        }
        let allowed = acl.has_mount_access(&mount);
        Outcome::Decided(Verdict {
            allowed,
            rule: None,
            reason: if allowed {
                String::new()
            } else {
                format!("no rule gives access under the mount `{mount}`")
            },
        })
    }

    /// The decision when the winning rule checks parameters: the data is parsed and is part
    /// of the cache key.
    fn decide_with_data(&mut self, acl_id: usize, request: &LoggedRequest<'_>) -> OutcomeId {
        let data = request.parsed_data();
        let key = DataKey {
            acl: acl_id,
            operation: request.operation,
            path: request.path.to_string(),
            data: data_key(&data),
            wrap_ttl: request.wrap_ttl,
        };
        if let Some(id) = self.by_data.get(&key) {
            return *id;
        }
        let outcome = match &self.built[acl_id] {
            None => Outcome::Skipped,
            Some(acl) => decide_with(acl, request, data),
        };
        let id = self.keep(outcome);
        self.by_data.insert(key, id);
        id
    }

    /// The ACL of the entry's token in the request's namespace.
    fn acl_id(&mut self, entry: &Entry<'_>, request_namespace: &str, tokens: &TokenRoles) -> usize {
        if let Some(role) = self.roles.find(entry, tokens) {
            let role = role.key.clone();
            return self.acl_id_of(AclKey::Role(&role));
        }
        let token_namespace = token_namespace(entry, tokens).unwrap_or_default();
        let names = entry.policy_names();
        self.acl_id_of(AclKey::Logged {
            token_namespace: &token_namespace,
            request_namespace,
            policies: &names,
        })
    }

    /// The id of an ACL, built on first use. The key is written into a reused buffer, so a
    /// known ACL costs no allocation.
    fn acl_id_of(&mut self, key: AclKey<'_>) -> usize {
        let mut buffer = std::mem::take(&mut self.key_buffer);
        buffer.clear();
        key.write(&mut buffer);
        if let Some(&id) = self.acls.get(buffer.as_str()) {
            self.key_buffer = buffer;
            return id;
        }
        let acl = self.build(&key).map(Rc::new);
        let id = self.built.len();
        self.built.push(acl);
        self.acls.insert(buffer.clone(), id);
        self.key_buffer = buffer;
        id
    }

    fn build(&mut self, key: &AclKey<'_>) -> Option<Acl> {
        let (token_namespace, request_namespace, names) = match key {
            AclKey::Role(role) => return self.build_role(role),
            AclKey::Logged {
                token_namespace,
                request_namespace,
                policies,
            } => (*token_namespace, *request_namespace, *policies),
        };
        let mut held: Vec<Policy> = Vec::new();
        for name in names {
            match self.policy_named(name, token_namespace) {
                Some(policy) => held.push(policy),
                None => {
                    self.missing_policies
                        .insert(format!("{token_namespace}{name}"));
                }
            }
        }
        let refs: Vec<&Policy> = held.iter().collect();
        let options = AclOptions {
            namespaces: Namespaces::new(
                self.namespaces()
                    .iter()
                    .chain([token_namespace, request_namespace]),
            ),
            ..AclOptions::default()
        };
        match Acl::with_options(&refs, self.target, None, &options) {
            Ok(acl) => Some(acl),
            Err(error) => {
                let names: Vec<String> = names
                    .iter()
                    .map(|name| format!("{token_namespace}{name}"))
                    .collect();
                self.acl_errors
                    .insert(format!("policies {}: {error}", names.join(", ")));
                None
            }
        }
    }

    fn build_role(&mut self, role: &str) -> Option<Acl> {
        let inventory = self.inventory.as_ref()?;
        let subject = Subject::Role(role.to_string());
        match inventory.acl_for(&subject, self.target) {
            Ok(acl) => Some(acl),
            Err(error) => {
                self.acl_errors.insert(format!("role `{role}`: {error}"));
                None
            }
        }
    }

    /// A policy of the tree by its name in `namespace`; the built-in `default` (every
    /// namespace has its own) and `root` (the root namespace only) when the tree lacks them.
    fn policy_named(&self, name: &str, namespace: &str) -> Option<Policy> {
        let qualified = format!("{namespace}{name}");
        if let Some(policy) = self.workspace.policies.get(&qualified) {
            return Some(policy.clone());
        }
        if !namespace.is_empty() && name == "root" {
            return None;
        }
        let mut policy = builtin::builtin_named(name, self.target)?;
        policy.namespace = namespace.to_string();
        Some(policy)
    }
}

/// Whose policies decide, as the key of an ACL.
enum AclKey<'k> {
    /// An inventory role (its namespace and policies come from the inventory).
    Role(&'k str),
    /// Policy names in the token's namespace, asked in the request's namespace.
    Logged {
        token_namespace: &'k str,
        request_namespace: &'k str,
        policies: &'k [&'k str],
    },
}

impl AclKey<'_> {
    /// The key as text: fields separated by NUL, which no name or path holds.
    fn write(&self, out: &mut String) {
        let mut field = |text: &str| {
            out.push_str(text);
            out.push('\0');
        };
        match self {
            AclKey::Role(role) => {
                field("role");
                field(role);
            }
            AclKey::Logged {
                token_namespace,
                request_namespace,
                policies,
            } => {
                field("logged");
                field(token_namespace);
                field(request_namespace);
                for name in policies.iter() {
                    field(name);
                }
            }
        }
    }
}

/// Whether a rule's decision depends on the request data (parameter lists, OpenBao's
/// pagination limit).
fn checks_parameters(rule: &MergedRule) -> bool {
    rule.extra().allowed_parameters.is_some()
        || rule.extra().denied_parameters.is_some()
        || !rule.extra().required_parameters.is_empty()
        || rule.extra().pagination_limit > 0
}

fn verdict_of(decision: &crate::acl::Decision) -> Outcome {
    let rule = decision.explanation.winner.as_ref().map(rule_ref);
    let reason = decision
        .explanation
        .deny_reason
        .as_ref()
        .map(describe_denial)
        .unwrap_or_default();
    Outcome::Decided(Verdict {
        allowed: decision.allowed,
        rule,
        reason,
    })
}

/// Parameter names with the values that were logged in clear; HMAC'd strings become `?`.
fn data_key(data: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    let mut key: Vec<(String, String)> = data
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                serde_json::Value::String(text) if is_hmac(text) => "?".to_string(),
                other => other.to_string(),
            };
            (name.clone(), shown)
        })
        .collect();
    key.sort();
    key
}

/// One decision with an ACL and the request's data.
fn decide_with(
    acl: &Acl,
    request: &LoggedRequest<'_>,
    data: serde_json::Map<String, serde_json::Value>,
) -> Outcome {
    let mut query = Request::new(request.operation, request.full_path());
    query.data = data;
    query.wrap_ttl = request.wrap_ttl;
    let decision = acl.authorize(&query);
    if let Some(name) = hinges_on_hmac(&decision, &query.data) {
        return Outcome::Undecidable(format!(
            "the parameter `{name}` is checked by value, and the log holds only its HMAC"
        ));
    }
    verdict_of(&decision)
}

/// The parameter whose HMAC'd value decided the outcome: a denial by a value list, or an
/// allowance that a `denied_parameters` value list might have refused for the real value.
fn hinges_on_hmac<'d>(
    decision: &crate::acl::Decision,
    data: &'d serde_json::Map<String, serde_json::Value>,
) -> Option<&'d str> {
    let winner = decision.explanation.winner.as_ref()?;
    let by_value = |map: &Option<crate::policy::ParamMap>, name: &str| {
        map.as_ref()
            .and_then(|map| map.get(&name.to_lowercase()))
            .is_some_and(|entry| !entry.values.is_empty())
    };
    if let Some(reason) = &decision.explanation.deny_reason {
        let name = parameter_of(reason)?;
        let (key, value) = data.get_key_value(name)?;
        let listed = match reason {
            DenyReason::DeniedParameter(_) => by_value(&winner.extra().denied_parameters, name),
            _ => by_value(&winner.extra().allowed_parameters, name),
        };
        return (listed && value_is_hmac(Some(value))).then_some(key.as_str());
    }
    data.iter()
        .find(|(name, value)| {
            by_value(&winner.extra().denied_parameters, name) && value_is_hmac(Some(value))
        })
        .map(|(name, _)| name.as_str())
}

fn parameter_of(reason: &DenyReason) -> Option<&str> {
    match reason {
        DenyReason::DeniedParameter(name) | DenyReason::ParameterNotAllowed(name) => Some(name),
        _ => None,
    }
}

fn value_is_hmac(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::String(text)) => is_hmac(text),
        Some(serde_json::Value::Array(items)) => items.iter().any(|item| value_is_hmac(Some(item))),
        _ => false,
    }
}

/// A merged rule as reports name it.
pub fn rule_ref(rule: &crate::acl::MergedRule) -> RuleRef {
    let mut policies: Vec<String> = Vec::new();
    for source in &rule.sources {
        if !policies.iter().any(|name| **name == *source.policy) {
            policies.push(source.policy.to_string());
        }
    }
    let (pattern, location) = match rule.sources.first() {
        Some(source) => {
            let (line, _) = source.line_col();
            (
                source.raw_pattern.clone(),
                format!("{}:{line}", source.file.name),
            )
        }
        None => (rule.pattern.normalized.clone(), String::new()),
    };
    RuleRef {
        policies,
        pattern,
        location,
    }
}

/// A denial in words (lowercase, values in backticks).
pub fn describe_denial(reason: &DenyReason) -> String {
    match reason {
        DenyReason::NoPolicies => "the token holds no policy".into(),
        DenyReason::NoMatchingRule => "no rule matches".into(),
        DenyReason::ExplicitDeny => "an explicit `deny`".into(),
        DenyReason::MissingCapability(capability) => {
            format!("the rule lacks `{}`", capability.name())
        }
        DenyReason::SudoRequired => "the path needs `sudo`".into(),
        DenyReason::WrappingRequired { .. } => "the rule requires response wrapping".into(),
        DenyReason::WrappingTtlConflict { .. } => "the rule's wrapping TTLs conflict".into(),
        DenyReason::MissingRequiredParameter(name) => format!("parameter `{name}` is required"),
        DenyReason::DeniedParameter(name) => format!("parameter `{name}` is denied"),
        DenyReason::ParameterNotAllowed(name) => format!("parameter `{name}` is not allowed"),
        DenyReason::Other(text) => text.clone(),
    }
}
