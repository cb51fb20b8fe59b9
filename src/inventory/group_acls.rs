//! The ACLs of every group subject at once, shared along chains of single parents, for
//! questions that ask every subject (`who-can`).
//!
//! A group's effective policies are its own, then its parents', transitively (see
//! [`Inventory`]). Asked one by one, a chain of `d` groups costs d²/2 policy lookups and
//! template substitutions. But a group's ACL only needs, of that list:
//! - the first policy that cannot be resolved, whether `root` is in it and whether it has
//!   more than one policy, and the first policy whose templates make the ACL fail (spec 1.8,
//!   OpenBao's forbidden values), since the build stops at the first failure in merge order;
//! - the policies that keep a rule for a group's identity (after [`Inventory::narrow_rules`]
//!   and template substitution), in merge order.
//!
//! For a group subject the identity has no entity, so a policy without `identity.groups`
//! directives substitutes the same way for every group: its outcome is computed once. With a
//! single parent in its own namespace, a group's list is its own policies, then its parent's
//! list without them (breadth-first order, cycles included), so its [`Summary`] is built
//! from its parent's in O(own policies + kept policies of the parent). Groups with several
//! parents or a parent in another namespace walk their closure once. A group whose list
//! holds a policy reading `identity.groups` is answered by [`Inventory::acl_for`]: its
//! templates depend on the whole closure.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::resolve::{Inventory, InventoryError};
use crate::acl::{Acl, AclError, AclOptions, Identity};
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::target::Target;

/// What one policy does to a group's ACL (the identity of a group has no entity).
enum Outcome<'a> {
    /// The name resolves to no policy the ACL can hold.
    Unknown(InventoryError),
    /// The `root` policy: alone it allows everything, with others it fails.
    Root(Cow<'a, Policy>),
    /// Its substitution makes the ACL fail.
    Fatal(AclError),
    /// A templated rule reads `identity.groups`: its outcome depends on the closure.
    Dependent,
    /// No rule is left for a group: it changes nothing but the count of policies.
    Inert,
    /// Some rule is left.
    Kept(Cow<'a, Policy>),
}

/// What a group's ACL needs of its effective policy list (see the module doc).
#[derive(Clone, Default)]
struct Summary<'a> {
    first_unknown: Option<InventoryError>,
    root: Option<Cow<'a, Policy>>,
    /// The first two distinct names: the list is exactly one policy when this holds one.
    first_two: Vec<&'a str>,
    first_fatal: Option<AclError>,
    dependent: bool,
    /// The policies that keep a rule, in merge order, each once.
    kept: Vec<&'a str>,
}

/// The group answers of one inventory for one target, see the module doc.
pub struct GroupAcls<'a> {
    inventory: &'a Inventory,
    target: Target,
    options: AclOptions,
    outcomes: HashMap<&'a str, Outcome<'a>>,
    /// Per group id.
    summaries: Vec<Summary<'a>>,
    /// A policy without rules: an ACL of only inert policies still holds some.
    placeholder: Policy,
}

impl Inventory {
    /// The ACL sources of every group (see the module doc). Cost: O(groups + memberships +
    /// policies and rules held by groups + Σ kept policies of each group's parent), plus a
    /// closure walk for each group with several parents or one in another namespace.
    pub fn group_acls(&self, target: Target) -> GroupAcls<'_> {
        let mut acls = GroupAcls {
            inventory: self,
            target,
            options: AclOptions {
                namespaces: self.namespaces.clone(),
                ..AclOptions::default()
            },
            outcomes: HashMap::new(),
            summaries: Vec::new(),
            placeholder: Policy {
                name: String::new(),
                source: Arc::new(SourceFile::new("", "")),
                declared_name: None,
                rules: Vec::new(),
                templated: false,
                namespace: String::new(),
                template_flags: Default::default(),
            },
        };
        acls.summarize();
        acls
    }
}

impl<'a> GroupAcls<'a> {
    /// The ACL of group `name`, as [`Inventory::acl_for`] builds it; `None` when the group's
    /// policies read `identity.groups` (or it is no group): ask `acl_for`. Cost: one ACL
    /// merge of the policies that keep a rule.
    pub fn acl(&self, name: &str) -> Option<Result<Acl, InventoryError>> {
        let id = self.inventory.graph().id(name)?;
        let summary = &self.summaries[id as usize];
        if summary.dependent {
            return None;
        }
        if let Some(error) = &summary.first_unknown {
            return Some(Err(error.clone()));
        }
        let build = |policies: &[&Policy]| {
            Acl::with_options(
                policies,
                self.target,
                Some(&Identity::default()),
                &self.options,
            )
            .map_err(InventoryError::Acl)
        };
        if let Some(root) = &summary.root {
            return Some(match summary.first_two.len() {
                1 => build(&[root]),
                _ => Err(InventoryError::Acl(AclError::RootWithOthers)),
            });
        }
        if let Some(fatal) = &summary.first_fatal {
            return Some(Err(InventoryError::Acl(fatal.clone())));
        }
        let mut policies: Vec<&Policy> = summary
            .kept
            .iter()
            .filter_map(|name| match self.outcomes.get(name) {
                Some(Outcome::Kept(policy)) => Some(&**policy),
                _ => None,
            })
            .collect();
        if policies.is_empty() && !summary.first_two.is_empty() {
            policies.push(&self.placeholder);
        }
        Some(build(&policies))
    }

    /// Fills `summaries`, each group after its single parent (see the module doc). Cost:
    /// O(groups + Σ own policies + Σ kept policies of the parent), plus the closure walks.
    fn summarize(&mut self) {
        let graph = self.inventory.graph();
        let count = graph.len();
        let mut done: Vec<Option<Summary<'a>>> = vec![None; count];
        let mut on_path = vec![false; count];
        for start in 0..count as u32 {
            // Up the single-parent links to a group already summarised or one that walks
            // its closure, then back down.
            let mut path = Vec::new();
            let mut at = start;
            while done[at as usize].is_none() {
                let parent = self.chain_parent(at);
                match parent {
                    Some(parent) if !on_path[at as usize] => {
                        on_path[at as usize] = true;
                        path.push(at);
                        at = parent;
                    }
                    _ => {
                        done[at as usize] = Some(self.walked(at));
                        break;
                    }
                }
            }
            while let Some(group) = path.pop() {
                on_path[group as usize] = false;
                if done[group as usize].is_some() {
                    continue;
                }
                let parent = self.chain_parent(group).unwrap_or(group);
                let inherited = done[parent as usize].clone().unwrap_or_default();
                let own = graph.info(group).1.policies.iter().map(String::as_str);
                done[group as usize] = Some(self.fold(own, inherited));
            }
        }
        self.summaries = done.into_iter().map(Option::unwrap_or_default).collect();
    }

    /// The group's only parent, when it lives in the group's namespace (then the parent's
    /// list is filtered as the group's is).
    fn chain_parent(&self, group: u32) -> Option<u32> {
        let graph = self.inventory.graph();
        let [parent] = graph.parents_of(group) else {
            return None;
        };
        (graph.info(*parent).1.namespace == graph.info(group).1.namespace).then_some(*parent)
    }

    /// The summary of a group from its whole effective list. Cost: O(closure + policies).
    fn walked(&mut self, group: u32) -> Summary<'a> {
        let inventory = self.inventory;
        let name = &inventory.graph().info(group).0;
        let names = inventory
            .effective_names(&super::Subject::Group(name.clone()))
            .unwrap_or_default();
        // The names borrow the inventory (a group's list holds no namespace `default`).
        let names: Vec<&'a str> = names
            .iter()
            .filter_map(|name| match name {
                Cow::Borrowed(name) => Some(*name),
                Cow::Owned(_) => None,
            })
            .collect();
        self.fold(names.into_iter(), Summary::default())
    }

    /// `own` in front of `inherited` (a later name already in `own` is left out). Cost:
    /// O(own × (own + kept of `inherited`)), own policies being few.
    fn fold(&mut self, own: impl Iterator<Item = &'a str>, inherited: Summary<'a>) -> Summary<'a> {
        let mut summary = Summary::default();
        let mut names: Vec<&'a str> = Vec::new();
        for name in own {
            if names.contains(&name) {
                continue;
            }
            names.push(name);
            self.add(&mut summary, name);
        }
        summary.first_unknown = summary.first_unknown.or(inherited.first_unknown);
        summary.root = summary.root.or(inherited.root);
        summary.first_fatal = summary.first_fatal.or(inherited.first_fatal);
        summary.dependent |= inherited.dependent;
        for name in inherited.first_two {
            if summary.first_two.len() < 2 && !summary.first_two.contains(&name) {
                summary.first_two.push(name);
            }
        }
        let own_kept = summary.kept.len();
        for name in inherited.kept {
            if !summary.kept[..own_kept].contains(&name) {
                summary.kept.push(name);
            }
        }
        summary
    }

    /// Adds one policy of the list (not seen before in it) to the summary.
    fn add(&mut self, summary: &mut Summary<'a>, name: &'a str) {
        if summary.first_two.len() < 2 {
            summary.first_two.push(name);
        }
        if !self.outcomes.contains_key(name) {
            let outcome = self.outcome(name);
            self.outcomes.insert(name, outcome);
        }
        match &self.outcomes[name] {
            Outcome::Unknown(error) => {
                summary.first_unknown.get_or_insert_with(|| error.clone());
            }
            Outcome::Root(policy) => {
                summary.root.get_or_insert_with(|| policy.clone());
            }
            Outcome::Fatal(error) => {
                summary.first_fatal.get_or_insert_with(|| error.clone());
            }
            Outcome::Dependent => summary.dependent = true,
            Outcome::Inert => {}
            Outcome::Kept(_) => summary.kept.push(name),
        }
    }

    /// What policy `name` does to any group's ACL. Cost: one ACL merge of its rules.
    fn outcome(&self, name: &str) -> Outcome<'a> {
        let policy = match self.inventory.policy_named(name, self.target) {
            Ok(policy) => policy,
            Err(error) => return Outcome::Unknown(error),
        };
        if policy.name == "root" {
            return Outcome::Root(policy);
        }
        let reads_groups = policy
            .rules
            .iter()
            .any(|rule| rule.pattern.is_none() && rule.raw_pattern.contains("identity.groups"));
        if reads_groups {
            return Outcome::Dependent;
        }
        let alone = Acl::with_options(
            &[&policy],
            self.target,
            Some(&Identity::default()),
            &self.options,
        );
        match alone {
            Err(error) => Outcome::Fatal(error),
            Ok(acl) if acl.rules().is_empty() => Outcome::Inert,
            Ok(_) => Outcome::Kept(policy),
        }
    }
}
