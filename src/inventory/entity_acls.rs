//! The ACLs of every entity subject, built from what the entities of one group closure
//! share, for questions that ask every subject (`who-can`).
//!
//! An entity's effective policies and the groups of its identity are decided by its
//! namespace, its own policies and its direct groups ([`Inventory::entity_closure_key`]):
//! entities with one key (a class) differ only in their own identity fields. So per class,
//! once: the effective names, the first that names no policy, whether `root` is among them,
//! and the policies that hold a rule (in a narrowed inventory, [`Inventory::narrow_rules`],
//! the few that may match the request). A policy without rules changes an ACL only by being
//! counted (an ACL of no policy denies with "no policies"), so each entity's ACL merges the
//! class's policies with rules, or an empty stand-in when there are none. Its identity
//! carries the closure's groups only when one of those policies reads `identity.groups`:
//! nothing else reads them. 1,000 entities at the bottom of one 10,000-group chain then
//! cost one walk of the chain and 1,000 merges of the policies that may match, not 1,000
//! walks, lookups of 10,000 names and identities of 10,000 groups.
//!
//! Roles the same way: a role's effective policies and its identity's groups are decided by
//! its namespace, token policies, `token_no_default_policy` and its login entity's class
//! ([`Inventory::role_closure_key`]), so 1,000 roles logging in as those entities cost one
//! walk too.

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;

use super::resolve::{Inventory, InventoryError, Subject};
use crate::acl::{Acl, AclError, AclOptions};
use crate::policy::Policy;
use crate::target::Target;

/// What the entities of one class share.
struct Class<'a> {
    /// The effective policy names, in merge order.
    names: Vec<String>,
    /// What their ACLs are built from, or why none can be.
    sources: Result<Sources<'a>, InventoryError>,
}

enum Sources<'a> {
    /// The `root` policy alone: an ACL that allows everything, whatever the identity.
    Root(Cow<'a, Policy>),
    /// The policies that hold a rule, in merge order (none: the stand-in).
    Held {
        policies: Vec<Cow<'a, Policy>>,
        /// Whether a rule of theirs reads `identity.groups` (then the identity carries the
        /// closure's groups).
        reads_groups: bool,
    },
}

/// The entity answers of one inventory for one target, see the module doc.
pub struct EntityAcls<'a> {
    inventory: &'a Inventory,
    target: Target,
    options: AclOptions,
    /// Entity name → its class.
    class_of: HashMap<&'a str, usize>,
    /// Role key → its class (among `classes`, apart from the entities').
    role_class_of: HashMap<&'a str, usize>,
    classes: Vec<Class<'a>>,
    /// A policy without rules: an ACL of only rule-less policies still holds some.
    placeholder: Policy,
}

impl Inventory {
    /// The ACL sources of every entity and role, per class (see the module doc). Cost:
    /// O(entities × (direct groups + own policies) + roles × token policies) to find the
    /// classes, then per class O(effective policies + closure), spread over the cores.
    pub fn entity_acls(&self, target: Target) -> EntityAcls<'_> {
        let mut firsts: Vec<Subject> = Vec::new();
        let class_of = classes_by_key(self.entities.keys(), &mut firsts, |name| {
            let key = self.entity_closure_key(name)?;
            Some((key, Subject::Entity(name.to_string())))
        });
        let role_class_of = classes_by_key(self.roles.keys(), &mut firsts, |name| {
            let key = self.role_closure_key(name)?;
            Some((key, Subject::Role(name.to_string())))
        });
        let classes = firsts
            .par_iter()
            .map(|subject| Class::of(self, subject, target))
            .collect();
        EntityAcls {
            inventory: self,
            target,
            options: AclOptions {
                namespaces: self.namespaces.clone(),
                ..AclOptions::default()
            },
            class_of,
            role_class_of,
            classes,
            placeholder: Policy::without_rules(),
        }
    }
}

/// Each name's class, numbered from `firsts.len()` on: names with one key (`key_of`) share
/// one, whose first subject is pushed to `firsts`. A name `key_of` gives `None` has no class.
fn classes_by_key<'a, K: std::hash::Hash + Eq>(
    names: impl IntoIterator<Item = &'a String>,
    firsts: &mut Vec<Subject>,
    key_of: impl Fn(&str) -> Option<(K, Subject)>,
) -> HashMap<&'a str, usize> {
    let mut first_of: HashMap<K, usize> = HashMap::new();
    let mut class_of = HashMap::new();
    for name in names {
        let Some((key, subject)) = key_of(name) else {
            continue;
        };
        let class = *first_of.entry(key).or_insert_with(|| {
            firsts.push(subject);
            firsts.len() - 1
        });
        class_of.insert(name.as_str(), class);
    }
    class_of
}

impl<'a> Class<'a> {
    /// The class of `subject` (an entity or a role). Cost: O(effective policies + closure).
    fn of(inventory: &'a Inventory, subject: &Subject, target: Target) -> Class<'a> {
        let names = match inventory.effective_names(subject) {
            Ok(names) => names,
            Err(error) => {
                return Class {
                    names: Vec::new(),
                    sources: Err(error),
                }
            }
        };
        let sources = Sources::of(inventory, &names, target);
        Class {
            names: names.into_iter().map(Cow::into_owned).collect(),
            sources,
        }
    }
}

impl<'a> Sources<'a> {
    /// As [`Inventory::acl_for`] reads `names`: the first name of no policy fails it, then
    /// `root` with others. Cost: O(names × log policies).
    fn of(
        inventory: &'a Inventory,
        names: &[Cow<'_, str>],
        target: Target,
    ) -> Result<Sources<'a>, InventoryError> {
        let policies = names
            .iter()
            .map(|name| inventory.policy_named(name, target))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(root) = policies.iter().find(|policy| policy.name == "root") {
            return match policies.len() {
                1 => Ok(Sources::Root(root.clone())),
                _ => Err(InventoryError::Acl(AclError::RootWithOthers)),
            };
        }
        let policies: Vec<Cow<'a, Policy>> = policies
            .into_iter()
            .filter(|policy| !policy.rules.is_empty())
            .collect();
        let reads_groups = policies.iter().any(|policy| {
            let labels = policy.rules.iter().map(|rule| rule.raw_pattern.as_str());
            labels
                .flat_map(crate::acl::label_directives)
                .any(|directive| directive.starts_with("identity.groups."))
        });
        Ok(Sources::Held {
            policies,
            reads_groups,
        })
    }
}

impl EntityAcls<'_> {
    /// The ACL of entity `name`, as [`Inventory::acl_for`] builds it; `None` for no entity.
    /// Cost: one merge of the class's policies with rules, plus the identity (its own fields,
    /// and the closure's groups when a policy reads them).
    pub fn acl(&self, name: &str) -> Option<Result<Acl, InventoryError>> {
        let class = &self.classes[*self.class_of.get(name)?];
        let identity = |with_groups: bool| match with_groups {
            true => self
                .inventory
                .identity_for(&Subject::Entity(name.to_string())),
            false => Ok(Some(self.inventory.entity_own_identity(name))),
        };
        self.acl_of(class, identity)
    }

    /// The ACL of role `key`, as [`Inventory::acl_for`] builds it; `None` for no role key.
    /// Cost: as [`EntityAcls::acl`].
    pub fn role_acl(&self, key: &str) -> Option<Result<Acl, InventoryError>> {
        let class = &self.classes[*self.role_class_of.get(key)?];
        let identity = |with_groups: bool| match with_groups {
            true => self.inventory.identity_for(&Subject::Role(key.to_string())),
            false => Ok(Some(self.inventory.role_own_identity(key))),
        };
        self.acl_of(class, identity)
    }

    /// The ACL of a subject of `class` whose identity `identity` gives, with the closure's
    /// groups or without (when no policy of the class reads them).
    fn acl_of(
        &self,
        class: &Class<'_>,
        identity: impl FnOnce(bool) -> Result<Option<crate::acl::Identity>, InventoryError>,
    ) -> Option<Result<Acl, InventoryError>> {
        let (policies, reads_groups) = match &class.sources {
            Err(error) => return Some(Err(error.clone())),
            Ok(Sources::Root(root)) => {
                let built = Acl::with_options(&[root], self.target, None, &self.options);
                return Some(built.map_err(InventoryError::Acl));
            }
            Ok(Sources::Held {
                policies,
                reads_groups,
            }) => (policies, *reads_groups),
        };
        let identity = match identity(reads_groups) {
            Ok(identity) => identity,
            Err(error) => return Some(Err(error)),
        };
        let mut refs: Vec<&Policy> = policies.iter().map(|policy| policy.as_ref()).collect();
        if refs.is_empty() && !class.names.is_empty() {
            refs.push(&self.placeholder);
        }
        let built = Acl::with_options(&refs, self.target, identity.as_ref(), &self.options);
        Some(built.map_err(InventoryError::Acl))
    }

    /// The effective policy names of entity `name`, as [`Inventory::policies_of`] gives
    /// them; `None` for no entity. Cost: a copy of them.
    pub fn policies(&self, name: &str) -> Option<Vec<String>> {
        let class = &self.classes[*self.class_of.get(name)?];
        Some(class.names.clone())
    }

    /// The effective policy names of role `key`, as [`Inventory::policies_of`] gives them;
    /// `None` for no role key. Cost: a copy of them.
    pub fn role_policies(&self, key: &str) -> Option<Vec<String>> {
        let class = &self.classes[*self.role_class_of.get(key)?];
        Some(class.names.clone())
    }
}
