//! Re-deciding one logged request under a policy tree with capable's ACL.
//!
//! The subject's policies are the ones the log shows for its token, unless the tree's
//! inventory (`capable.yaml` `roles`) knows the role the token logged in with: then the
//! inventory's effective policies and identity are used, so a change to a role's policies is
//! replayed too. Policies the log names but the tree lacks are left out (as the server does
//! with a policy that does not exist) and reported. ACLs are built once per policy set;
//! verdicts are cached per (policy set, operation, path, parameter names, wrapping TTL) in a
//! bounded cache, so a long log costs one lookup per distinct request, not one ACL build.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use super::entry::{is_hmac, Entry, MOUNT_PREFLIGHT};
use super::subject::{RoleIndex, RoleKey, TokenRoles};
use crate::acl::{builtin, Acl, DenyReason, Operation, Request};
use crate::config::Mounts;
use crate::inventory::{Inventory, Subject};
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

/// The parts of an entry a decision depends on.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub operation: Operation,
    pub path: String,
    pub data: serde_json::Map<String, serde_json::Value>,
    pub wrap_ttl: Option<i64>,
    /// The `kv` preflight: decided by visibility of this mount.
    pub preflight_mount: Option<String>,
}

/// The request of an entry, or `None` when the operation is not one the ACL decides.
pub fn logged_request(entry: &Entry<'_>, mounts: &Mounts) -> Option<LoggedRequest> {
    let operation: Operation = entry.operation()?.parse().ok()?;
    let path = entry.path()?.to_string();
    let preflight_mount = path
        .strip_prefix(MOUNT_PREFLIGHT)
        .map(|rest| mount_of(rest, mounts));
    Some(LoggedRequest {
        operation,
        data: entry.data(),
        wrap_ttl: entry.wrap_ttl(),
        path,
        preflight_mount,
    })
}

/// The mount holding `path`: the configured mount table's, else the first segment.
fn mount_of(path: &str, mounts: &Mounts) -> String {
    if let Some(mount) = mounts.find(path) {
        return mount.path.clone();
    }
    match path.split_once('/') {
        Some((first, _)) => format!("{first}/"),
        None => format!("{}/", path.trim_end_matches('/')),
    }
}

/// The cache key of a verdict.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct VerdictKey {
    acl: usize,
    operation: Operation,
    path: String,
    /// Parameter names, and the values the server did not HMAC (JSON text), sorted.
    data: Vec<(String, String)>,
    wrap_ttl: Option<i64>,
}

/// Verdicts kept before the cache is cleared (bounds memory on logs of unique paths).
const CACHE_LIMIT: usize = 200_000;

/// Whose policies decide: the inventory's role, or the token's logged policies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum AclKey {
    Role(String),
    Logged(Vec<String>),
}

/// Decides logged requests under one tree.
pub struct TreeDecider<'t> {
    workspace: &'t Workspace,
    target: Target,
    inventory: Option<Inventory>,
    roles: RoleIndex,
    acls: HashMap<AclKey, usize>,
    built: Vec<Option<Rc<Acl>>>,
    cache: HashMap<VerdictKey, Outcome>,
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
            built: Vec::new(),
            cache: HashMap::new(),
            missing_policies: BTreeSet::new(),
            acl_errors: BTreeSet::new(),
        })
    }

    pub fn mounts(&self) -> &Mounts {
        &self.workspace.config.mounts
    }

    /// The inventory role the entry's token logged in with, if the tree knows it.
    pub fn role_of(&self, entry: &Entry<'_>, tokens: &TokenRoles) -> Option<&RoleKey> {
        self.roles.find(entry, tokens)
    }

    /// Re-decides the entry's request. Cost: a cache lookup, else one ACL decision (and one
    /// ACL build per new policy set).
    pub fn decide(
        &mut self,
        entry: &Entry<'_>,
        request: &LoggedRequest,
        tokens: &TokenRoles,
    ) -> Outcome {
        let key = match self.roles.find(entry, tokens) {
            Some(role) => AclKey::Role(role.key.clone()),
            None => AclKey::Logged(entry.policies()),
        };
        let acl_id = self.acl_id(key);
        let cache_key = VerdictKey {
            acl: acl_id,
            operation: request.operation,
            path: request.path.clone(),
            data: data_key(&request.data),
            wrap_ttl: request.wrap_ttl,
        };
        if let Some(outcome) = self.cache.get(&cache_key) {
            return outcome.clone();
        }
        let outcome = match &self.built[acl_id] {
            None => Outcome::Decided(Verdict {
                allowed: false,
                rule: None,
                reason: "the tree cannot build this token's ACL".into(),
            }),
            Some(acl) => decide_with(acl, request),
        };
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        self.cache.insert(cache_key, outcome.clone());
        outcome
    }

    /// The ACL of a policy set (built on first use).
    pub fn acl_for_logged(&mut self, policies: Vec<String>) -> Option<Rc<Acl>> {
        let id = self.acl_id(AclKey::Logged(policies));
        self.built[id].clone()
    }

    /// The ACL of an inventory role (built on first use).
    pub fn acl_for_role(&mut self, role: &str) -> Option<Rc<Acl>> {
        let id = self.acl_id(AclKey::Role(role.to_string()));
        self.built[id].clone()
    }

    fn acl_id(&mut self, key: AclKey) -> usize {
        if let Some(&id) = self.acls.get(&key) {
            return id;
        }
        let acl = self.build(&key).map(Rc::new);
        let id = self.built.len();
        self.built.push(acl);
        self.acls.insert(key, id);
        id
    }

    fn build(&mut self, key: &AclKey) -> Option<Acl> {
        match key {
            AclKey::Role(role) => {
                let inventory = self.inventory.as_ref()?;
                let subject = Subject::Role(role.clone());
                match inventory.acl_for(&subject, self.target) {
                    Ok(acl) => Some(acl),
                    Err(error) => {
                        self.acl_errors.insert(format!("role `{role}`: {error}"));
                        None
                    }
                }
            }
            AclKey::Logged(names) => {
                let mut held: Vec<Policy> = Vec::new();
                for name in names {
                    match self.policy_named(name) {
                        Some(policy) => held.push(policy),
                        None => {
                            self.missing_policies.insert(name.clone());
                        }
                    }
                }
                let refs: Vec<&Policy> = held.iter().collect();
                match Acl::new(&refs, self.target, None) {
                    Ok(acl) => Some(acl),
                    Err(error) => {
                        self.acl_errors
                            .insert(format!("policies {}: {error}", names.join(", ")));
                        None
                    }
                }
            }
        }
    }

    /// A policy of the tree, or the built-in `default` and `root` when the tree lacks them.
    fn policy_named(&self, name: &str) -> Option<Policy> {
        if let Some(policy) = self.workspace.policies.get(name) {
            return Some(policy.clone());
        }
        builtin::builtin_named(name, self.target)
    }
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

/// One decision with an ACL.
pub fn decide_with(acl: &Acl, request: &LoggedRequest) -> Outcome {
    if let Some(mount) = &request.preflight_mount {
        let allowed = acl.has_mount_access(mount);
        return Outcome::Decided(Verdict {
            allowed,
            rule: None,
            reason: if allowed {
                String::new()
            } else {
                format!("no rule gives access under the mount `{mount}`")
            },
        });
    }
    let mut query = Request::new(request.operation, request.path.clone());
    query.data = request.data.clone();
    query.wrap_ttl = request.wrap_ttl;
    let decision = acl.authorize(&query);
    if let Some(name) = hinges_on_hmac(&decision, &request.data) {
        return Outcome::Undecidable(format!(
            "the parameter `{name}` is checked by value, and the log holds only its HMAC"
        ));
    }
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
            DenyReason::DeniedParameter(_) => by_value(&winner.denied_parameters, name),
            _ => by_value(&winner.allowed_parameters, name),
        };
        return (listed && value_is_hmac(Some(value))).then_some(key.as_str());
    }
    data.iter()
        .find(|(name, value)| {
            by_value(&winner.denied_parameters, name) && value_is_hmac(Some(value))
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
        if !policies.contains(&source.policy) {
            policies.push(source.policy.clone());
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
