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
//! parents or a parent in another namespace walk their closure once (the roots of the
//! forest of single-parent links; a cycle is cut at the group where it is found).
//!
//! A policy reading `identity.groups` depends on which of the groups it names are in the
//! closure: it is substituted again for each group listing it, with those groups (an
//! ancestor test on the forest, or the walked root's closure). Inherited from the parent it
//! keeps the parent's outcome, since a closure grows by the group itself only; where a group
//! is named by such a policy that another group lists, that group and the groups below it
//! are answered by [`Inventory::acl_for`]. A policy keeps a rule only when a substituted
//! pattern may match the request (`keep`), so the kept lists stay as short as the answer.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::resolve::{Inventory, InventoryError};
use crate::acl::{Acl, AclError, AclOptions, Identity};
use crate::policy::{PathPattern, Policy};
use crate::target::Target;

/// What one policy does to a group's ACL (the identity of a group has no entity).
enum Outcome<'a> {
    /// The name resolves to no policy the ACL can hold.
    Unknown(InventoryError),
    /// The `root` policy: alone it allows everything, with others it fails.
    Root(Cow<'a, Policy>),
    /// Its substitution makes the ACL fail.
    Fatal(AclError),
    /// No rule that may match is left for a group: it changes nothing but the count of
    /// policies.
    Inert,
    /// Some rule that may match is left.
    Kept(Cow<'a, Policy>),
    /// A templated rule reads `identity.groups`, naming these groups (`None`: one it names by
    /// an id that two groups share, which only the closure's order decides).
    Dependent(Cow<'a, Policy>, Option<Vec<u32>>),
}

/// What a group's ACL needs of its effective policy list (see the module doc).
#[derive(Clone, Default)]
struct Summary<'a> {
    first_unknown: Option<InventoryError>,
    root: Option<Cow<'a, Policy>>,
    /// The first two distinct names: the list is exactly one policy when this holds one.
    first_two: Vec<&'a str>,
    first_fatal: Option<AclError>,
    /// Answered by [`Inventory::acl_for`].
    fallback: bool,
    /// The policies that keep a rule, in merge order, each once.
    kept: Vec<&'a str>,
    /// The groups of the closure that kept policies reading `identity.groups` name.
    reads: Vec<u32>,
}

/// The forest of single-parent links, with entry and exit times for ancestor tests.
#[derive(Default)]
struct Forest {
    parent: Vec<Option<u32>>,
    root_of: Vec<u32>,
    enter: Vec<u32>,
    leave: Vec<u32>,
    /// Roots first, each group after its parent.
    order: Vec<u32>,
    /// Per root, its closure.
    closures: HashMap<u32, HashSet<u32>>,
}

/// The group answers of one inventory for one target, see the module doc.
pub struct GroupAcls<'a> {
    inventory: &'a Inventory,
    target: Target,
    options: AclOptions,
    keep: Box<dyn Fn(&PathPattern) -> bool + Sync + 'a>,
    outcomes: HashMap<&'a str, Outcome<'a>>,
    /// Per group id, the policies reading `identity.groups` that name it.
    named_by: Vec<Vec<&'a str>>,
    /// Per policy name, how many groups list it.
    holders: HashMap<&'a str, usize>,
    forest: Forest,
    /// Per group id.
    summaries: Vec<Summary<'a>>,
    /// A policy without rules: an ACL of only inert policies still holds some.
    placeholder: Policy,
}

impl Inventory {
    /// The ACL sources of every group (see the module doc); `keep` says whether a
    /// substituted pattern may match the request. Cost: O(groups + memberships + policies
    /// and rules held by groups + Σ kept policies of each group's parent), plus a closure
    /// walk for each root of the single-parent forest.
    pub fn group_acls<'a>(
        &'a self,
        target: Target,
        keep: impl Fn(&PathPattern) -> bool + Sync + 'a,
    ) -> GroupAcls<'a> {
        let mut acls = GroupAcls {
            inventory: self,
            target,
            options: AclOptions {
                namespaces: self.namespaces.clone(),
                ..AclOptions::default()
            },
            keep: Box::new(keep),
            outcomes: HashMap::new(),
            named_by: Vec::new(),
            holders: HashMap::new(),
            forest: Forest::default(),
            summaries: Vec::new(),
            placeholder: Policy::without_rules(),
        };
        acls.classify();
        acls.plant();
        acls.summarize();
        acls
    }
}

impl<'a> GroupAcls<'a> {
    /// The ACL of group `name`, as [`Inventory::acl_for`] builds it; `None` when the group
    /// is answered by `acl_for` (see the module doc) or is no group. Cost: one ACL merge of
    /// the policies that keep a rule.
    pub fn acl(&self, name: &str) -> Option<Result<Acl, InventoryError>> {
        let id = self.inventory.graph().id(name)?;
        let summary = &self.summaries[id as usize];
        if summary.fallback {
            return None;
        }
        if let Some(error) = &summary.first_unknown {
            return Some(Err(error.clone()));
        }
        let identity = self.identity(&summary.reads);
        let build = |policies: &[&Policy]| {
            Acl::with_options(policies, self.target, Some(&identity), &self.options)
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
                Some(Outcome::Kept(policy) | Outcome::Dependent(policy, _)) => Some(&**policy),
                _ => None,
            })
            .collect();
        if policies.is_empty() && !summary.first_two.is_empty() {
            policies.push(&self.placeholder);
        }
        Some(build(&policies))
    }

    /// The identity of a group as templates reading `groups` see it: no entity, and the
    /// groups given. Cost: O(groups × their metadata), copied.
    fn identity(&self, groups: &[u32]) -> Identity {
        Identity {
            groups: self.inventory.identity_groups(groups),
            ..Identity::default()
        }
    }

    /// The outcome of every policy a group lists, who names which group, and how many
    /// groups list each policy. Cost: one ACL merge per policy, O(rules).
    fn classify(&mut self) {
        let graph = self.inventory.graph();
        let mut shared_ids: HashMap<&'a str, Option<u32>> = HashMap::new();
        for id in 0..graph.len() as u32 {
            let declared = graph.info(id).1.id.as_str();
            let entry = shared_ids.entry(declared).or_insert(Some(id));
            if *entry != Some(id) {
                *entry = None;
            }
        }
        self.named_by = vec![Vec::new(); graph.len()];
        for id in 0..graph.len() as u32 {
            for name in &graph.info(id).1.policies {
                *self.holders.entry(name.as_str()).or_default() += 1;
                if self.outcomes.contains_key(name.as_str()) {
                    continue;
                }
                let outcome = self.outcome(name, &shared_ids);
                if let Outcome::Dependent(_, Some(named)) = &outcome {
                    for &group in named {
                        self.named_by[group as usize].push(name.as_str());
                    }
                }
                self.outcomes.insert(name.as_str(), outcome);
            }
        }
    }

    /// What policy `name` does to any group's ACL. Cost: one ACL merge of its rules.
    fn outcome(&self, name: &str, ids: &HashMap<&'a str, Option<u32>>) -> Outcome<'a> {
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
            let named = self.named_groups(&policy, ids);
            return Outcome::Dependent(policy, named);
        }
        match self.substituted(&policy, &[]) {
            Err(error) => Outcome::Fatal(error),
            Ok(false) => Outcome::Inert,
            Ok(true) => Outcome::Kept(policy),
        }
    }

    /// The groups the policy's `identity.groups.names.<name>` and `.ids.<id>` directives
    /// name (a name or id of no group names nothing); `None` when an id is shared. Cost:
    /// O(pattern length) per templated rule.
    fn named_groups(
        &self,
        policy: &Policy,
        ids: &HashMap<&'a str, Option<u32>>,
    ) -> Option<Vec<u32>> {
        let graph = self.inventory.graph();
        let mut named = Vec::new();
        let templated = policy.rules.iter().filter(|rule| rule.pattern.is_none());
        for rule in templated {
            for piece in rule.raw_pattern.split("{{").skip(1) {
                let directive = piece.split("}}").next().unwrap_or("").trim();
                let Some(selector) = directive.strip_prefix("identity.groups.") else {
                    continue;
                };
                let (by, rest) = selector.split_once('.').unwrap_or((selector, ""));
                let wanted = rest.split_once('.').map_or(rest, |(wanted, _)| wanted);
                let group = match by {
                    "names" => graph.id(wanted),
                    "ids" => match ids.get(wanted) {
                        Some(None) => return None,
                        Some(Some(group)) => Some(*group),
                        None => None,
                    },
                    _ => None,
                };
                named.extend(group.filter(|group| !named.contains(group)));
            }
        }
        Some(named)
    }

    /// Whether the policy alone, for a group whose closure holds `groups` of those it names,
    /// keeps a rule that may match; its error when the ACL fails. Cost: one ACL merge.
    fn substituted(&self, policy: &Policy, groups: &[u32]) -> Result<bool, AclError> {
        let identity = self.identity(groups);
        let acl = Acl::with_options(&[policy], self.target, Some(&identity), &self.options)?;
        let anywhere = !policy.namespace.is_empty();
        Ok(acl
            .rules()
            .iter()
            .any(|rule| anywhere || (self.keep)(&rule.pattern)))
    }

    /// Builds the forest of single-parent links: each group's parent when it has one
    /// parent, in its namespace, and is not where a cycle is found. Cost: O(groups +
    /// memberships), plus the closure of each root.
    fn plant(&mut self) {
        let graph = self.inventory.graph();
        let count = graph.len();
        let mut parent: Vec<Option<u32>> = vec![None; count];
        let mut root = vec![false; count];
        // 0: not seen, 1: on the current path, 2: placed.
        let mut state = vec![0u8; count];
        for start in 0..count as u32 {
            let mut path = Vec::new();
            let mut at = start;
            loop {
                match state[at as usize] {
                    2 => break,
                    1 => {
                        root[at as usize] = true;
                        break;
                    }
                    _ => {}
                }
                state[at as usize] = 1;
                path.push(at);
                match self.chain_parent(at) {
                    Some(up) => at = up,
                    None => {
                        root[at as usize] = true;
                        break;
                    }
                }
            }
            for group in path {
                state[group as usize] = 2;
                if !root[group as usize] {
                    parent[group as usize] = self.chain_parent(group);
                }
            }
        }
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); count];
        for (group, up) in parent.iter().enumerate() {
            if let Some(up) = up {
                children[*up as usize].push(group as u32);
            }
        }
        let mut forest = Forest {
            parent,
            root_of: vec![0; count],
            enter: vec![0; count],
            leave: vec![0; count],
            order: Vec::with_capacity(count),
            closures: HashMap::new(),
        };
        let mut clock = 0u32;
        for top in (0..count as u32).filter(|&group| root[group as usize]) {
            let name = graph.info(top).0.as_str();
            let closure = graph.closure([name]).into_iter().collect();
            forest.closures.insert(top, closure);
            // Depth first: (group, whether its children are done).
            let mut stack = vec![(top, false)];
            while let Some((group, done)) = stack.pop() {
                if done {
                    forest.leave[group as usize] = clock;
                    continue;
                }
                forest.enter[group as usize] = clock;
                clock += 1;
                forest.root_of[group as usize] = top;
                forest.order.push(group);
                stack.push((group, true));
                stack.extend(children[group as usize].iter().map(|&child| (child, false)));
            }
        }
        self.forest = forest;
    }

    /// Whether group `wanted` is in the closure of `group`: an ancestor on the forest, or in
    /// the closure of its root. Cost: one hash lookup.
    fn in_closure(&self, wanted: u32, group: u32) -> bool {
        let forest = &self.forest;
        let top = forest.root_of[group as usize];
        let (w, g) = (wanted as usize, group as usize);
        let above = forest.root_of[w] == top
            && forest.enter[w] <= forest.enter[g]
            && forest.leave[g] <= forest.leave[w];
        above
            || forest
                .closures
                .get(&top)
                .is_some_and(|c| c.contains(&wanted))
    }

    /// Fills `summaries`, each group after its parent on the forest (see the module doc).
    /// Cost: O(groups + Σ own policies + Σ kept policies of the parent), plus the walks.
    fn summarize(&mut self) {
        let graph = self.inventory.graph();
        let mut summaries: Vec<Summary<'a>> = vec![Summary::default(); graph.len()];
        let order = std::mem::take(&mut self.forest.order);
        for &group in &order {
            let summary = match self.forest.parent[group as usize] {
                None => self.walked(group),
                Some(up) => {
                    let inherited = summaries[up as usize].clone();
                    let own = graph.info(group).1.policies.iter().map(String::as_str);
                    let mut summary = self.fold(own, inherited, group);
                    summary.fallback |= self.named_by[group as usize].iter().any(|name| {
                        self.holders.get(name).copied().unwrap_or(0) > 1
                            || !graph.info(group).1.policies.iter().any(|own| own == name)
                    });
                    summary
                }
            };
            summaries[group as usize] = summary;
        }
        self.forest.order = order;
        self.summaries = summaries;
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
        self.fold(names.into_iter(), Summary::default(), group)
    }

    /// `own` in front of `inherited` (a later name already in `own` is left out), for
    /// `group`. Cost: O(own × (own + kept of `inherited`)), own policies being few.
    fn fold(
        &self,
        own: impl Iterator<Item = &'a str>,
        inherited: Summary<'a>,
        group: u32,
    ) -> Summary<'a> {
        let mut summary = Summary::default();
        let mut names: Vec<&'a str> = Vec::new();
        for name in own {
            if names.contains(&name) {
                continue;
            }
            names.push(name);
            self.add(&mut summary, name, group);
        }
        summary.first_unknown = summary.first_unknown.or(inherited.first_unknown);
        summary.root = summary.root.or(inherited.root);
        summary.first_fatal = summary.first_fatal.or(inherited.first_fatal);
        summary.fallback |= inherited.fallback;
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
        for read in inherited.reads {
            if !summary.reads.contains(&read) {
                summary.reads.push(read);
            }
        }
        summary
    }

    /// Adds one policy of `group`'s list (not seen before in it) to the summary.
    fn add(&self, summary: &mut Summary<'a>, name: &'a str, group: u32) {
        if summary.first_two.len() < 2 {
            summary.first_two.push(name);
        }
        let Some(outcome) = self.outcomes.get(name) else {
            // Not listed by any group: only a walked list of a bad name could hold it.
            summary.fallback = true;
            return;
        };
        match outcome {
            Outcome::Unknown(error) => {
                summary.first_unknown.get_or_insert_with(|| error.clone());
            }
            Outcome::Root(policy) => {
                summary.root.get_or_insert_with(|| policy.clone());
            }
            Outcome::Fatal(error) => {
                summary.first_fatal.get_or_insert_with(|| error.clone());
            }
            Outcome::Inert => {}
            Outcome::Kept(_) => summary.kept.push(name),
            Outcome::Dependent(_, None) => summary.fallback = true,
            Outcome::Dependent(policy, Some(named)) => {
                let members: Vec<u32> = named
                    .iter()
                    .copied()
                    .filter(|&wanted| self.in_closure(wanted, group))
                    .collect();
                match self.substituted(policy, &members) {
                    Err(error) => {
                        summary.first_fatal.get_or_insert(error);
                    }
                    Ok(false) => {}
                    Ok(true) => {
                        summary.kept.push(name);
                        for read in members {
                            if !summary.reads.contains(&read) {
                                summary.reads.push(read);
                            }
                        }
                    }
                }
            }
        }
    }
}
