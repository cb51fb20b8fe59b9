//! Group closures on random small group graphs (chains, hubs, diamonds, cycles) against a
//! plain per-subject reference: every subject's effective policies, the groups its identity
//! carries, and its `who-can` answers equal what a breadth-first walk over group names from
//! the `capable.yaml` text alone gives. The inventory computes closures on interned ids; this
//! checks it did not change a single answer.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use capable::acl::Acl;
use capable::config::Config;
use capable::inventory::{Inventory, Subject};
use capable::query::who_can::{narrow_for, who_can, who_can_with};
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use proptest::prelude::*;

const POLICIES: usize = 5;

/// One random inventory: per group its policies and member groups, per entity its policies
/// and groups, and which groups list which entities.
#[derive(Clone, Debug)]
struct Graph {
    groups: Vec<(Vec<usize>, Vec<usize>, Vec<usize>)>,
    entities: Vec<(Vec<usize>, Vec<usize>)>,
}

fn graph() -> impl Strategy<Value = Graph> {
    (1usize..9, 1usize..4).prop_flat_map(|(groups, entities)| {
        let indices = |n: usize, most: usize| prop::collection::vec(0..n, 0..most);
        let group = (
            indices(POLICIES, 3),
            indices(groups, 4),
            indices(entities, 3),
        );
        let entity = (indices(POLICIES, 2), indices(groups, 3));
        (
            prop::collection::vec(group, groups),
            prop::collection::vec(entity, entities),
        )
            .prop_map(|(groups, entities)| Graph { groups, entities })
    })
}

/// Each policy: a plain rule on its own path, a second one naming the entity's name, a
/// group, the entity's metadata, the entity's id (empty for a group subject, so the rule is
/// kept for groups) or nothing, and `+` rules.
fn policy_text(index: usize) -> String {
    let template = match index % 5 {
        0 => "{{identity.entity.name}}".to_string(),
        1 => format!("{{{{identity.groups.names.g{index}.name}}}}"),
        2 => "{{identity.entity.metadata.team}}".to_string(),
        3 => "{{identity.entity.id}}".to_string(),
        _ => "plain".to_string(),
    };
    // `+` rules that match every probe path, and one that matches none (`who-can` leaves it
    // out before building any ACL).
    let plus = match index % 2 {
        0 => "path \"secret/+/x\" { capabilities = [\"read\"] }\n",
        _ => "path \"secret/+/t/+\" { capabilities = [\"deny\"] }\n",
    };
    format!(
        "path \"secret/p{index}/*\" {{ capabilities = [\"read\"] }}\n\
         path \"secret/t/{template}/*\" {{ capabilities = [\"update\"] }}\n\
         path \"secret/+/p{index}\" {{ capabilities = [\"deny\"] }}\n{plus}"
    )
}

/// Names without repeats, in first order (a YAML list naming a group twice is legal, but the
/// reference below would then have to model the resolver's duplicates).
fn unique(items: &[usize]) -> Vec<usize> {
    let mut seen = HashSet::new();
    items.iter().copied().filter(|i| seen.insert(*i)).collect()
}

fn yaml(graph: &Graph) -> String {
    let list = |prefix: &str, items: &[usize]| {
        let names: Vec<String> = unique(items)
            .iter()
            .map(|i| format!("{prefix}{i}"))
            .collect();
        format!("[{}]", names.join(", "))
    };
    let mut out = String::from("groups:\n");
    for (at, (policies, members, entities)) in graph.groups.iter().enumerate() {
        let _ = writeln!(out, "  g{at}:\n    policies: {}", list("p", policies));
        let _ = writeln!(out, "    member_groups: {}", list("g", members));
        let _ = writeln!(out, "    member_entities: {}", list("e", entities));
    }
    out.push_str("entities:\n");
    for (at, (policies, groups)) in graph.entities.iter().enumerate() {
        let _ = writeln!(out, "  e{at}:\n    metadata: {{team: t{at}}}");
        let _ = writeln!(out, "    policies: {}", list("p", policies));
        let _ = writeln!(out, "    groups: {}", list("g", groups));
    }
    out.push_str("roles:\n");
    for at in 0..graph.entities.len() {
        let _ = writeln!(
            out,
            "  userpass/r{at}:\n    policies: [p{at}]\n    entity: e{at}"
        );
    }
    out
}

/// The reference: group `g`'s parents are the groups listing it, in name order.
fn parents(graph: &Graph) -> BTreeMap<String, Vec<String>> {
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut names: Vec<(String, usize)> = (0..graph.groups.len())
        .map(|at| (format!("g{at}"), at))
        .collect();
    names.sort();
    for (name, at) in names {
        for member in unique(&graph.groups[at].1) {
            parents
                .entry(format!("g{member}"))
                .or_default()
                .push(name.clone());
        }
    }
    parents
}

/// Breadth-first over names, each group once, from `start` in its order.
fn closure(parents: &BTreeMap<String, Vec<String>>, start: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut queue: VecDeque<String> = start.into();
    while let Some(group) = queue.pop_front() {
        if !seen.insert(group.clone()) {
            continue;
        }
        queue.extend(parents.get(&group).into_iter().flatten().cloned());
        order.push(group);
    }
    order
}

fn push_unique(out: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
}

fn group_policies(graph: &Graph, groups: &[String]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|name| {
            let at: usize = name[1..].parse().unwrap_or(0);
            unique(&graph.groups[at].0)
        })
        .map(|p| format!("p{p}"))
        .collect()
}

/// An entity's direct groups: its own `groups` and the groups listing it, by name.
fn entity_groups(graph: &Graph, entity: usize) -> Vec<String> {
    let mut direct: BTreeSet<String> = unique(&graph.entities[entity].1)
        .iter()
        .map(|g| format!("g{g}"))
        .collect();
    for (at, (_, _, entities)) in graph.groups.iter().enumerate() {
        if entities.contains(&entity) {
            direct.insert(format!("g{at}"));
        }
    }
    direct.into_iter().collect()
}

/// The reference answer for one subject: (effective policies, groups its identity carries).
fn reference(graph: &Graph, subject: &Subject) -> (Vec<String>, Vec<String>) {
    let parents = parents(graph);
    let entity_part = |entity: usize, out: &mut Vec<String>| {
        let groups = closure(&parents, entity_groups(graph, entity));
        let own = unique(&graph.entities[entity].0);
        push_unique(out, own.iter().map(|p| format!("p{p}")));
        push_unique(out, group_policies(graph, &groups));
        groups
    };
    match subject {
        Subject::Group(name) => {
            let groups = closure(&parents, vec![name.clone()]);
            let mut out = Vec::new();
            push_unique(&mut out, group_policies(graph, &groups));
            (out, groups)
        }
        Subject::Entity(name) => {
            let mut out = vec!["default".to_string()];
            let groups = entity_part(name[1..].parse().unwrap_or(0), &mut out);
            (out, groups)
        }
        Subject::Role(name) => {
            let at: usize = name.trim_start_matches("userpass/r").parse().unwrap_or(0);
            let mut out: Vec<String> = vec![format!("p{at}"), "default".to_string()];
            out.sort();
            out.dedup();
            let groups = entity_part(at, &mut out);
            (out, groups)
        }
        Subject::Policies(_) => (Vec::new(), Vec::new()),
    }
}

fn workspace(graph: &Graph) -> (Config, Workspace) {
    let source = Arc::new(SourceFile::new("capable.yaml", yaml(graph)));
    let config = Config::from_text(source, ".".into()).expect("config");
    let sources = (0..POLICIES)
        .map(|p| {
            let name = format!("policies/p{p}.hcl");
            Arc::new(SourceFile::new(name, policy_text(p)))
        })
        .collect();
    let workspace = Workspace::from_sources(config.clone(), Target::Vault, sources).expect("ws");
    (config, workspace)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn closures_equal_a_per_subject_walk_over_names(graph in graph()) {
        let (config, workspace) = workspace(&graph);
        let inventory = Inventory::new(&config, &workspace.policies).expect("inventory");
        for subject in inventory.subjects() {
            let (policies, groups) = reference(&graph, &subject);
            prop_assert_eq!(&inventory.effective_policies(&subject).unwrap(), &policies, "{}", subject);
            let identity = inventory.identity_for(&subject).unwrap().unwrap_or_default();
            let names: Vec<String> = identity.groups.iter().map(|g| g.name.clone()).collect();
            prop_assert_eq!(&names, &groups, "{}", subject);
        }
    }

    /// Groups are answered from summaries shared along single parents
    /// (`Inventory::group_acls`): every decision, explanation included, equals the one of the
    /// subject's own ACL.
    #[test]
    fn who_can_decisions_equal_each_subjects_own_acl(
        graph in graph(),
        probe in 0..POLICIES,
        templated in 0..3usize,
        bao in any::<bool>(),
    ) {
        let target = if bao { Target::OpenBao } else { Target::Vault };
        let (config, workspace) = workspace(&graph);
        let inventory = Inventory::new(&config, &workspace.policies).expect("inventory");
        // The second rules: of an entity's name, of group `g1`'s name.
        let path = match templated {
            0 => "secret/t/e0/x".to_string(),
            1 => "secret/t/g1/x".to_string(),
            _ => format!("secret/p{probe}/x"),
        };
        let words = ["read".to_string(), path];
        let calls = capable::query::request::build(&words, &[], None, &config.mounts).expect("calls");
        let mut narrowed = inventory.clone();
        narrow_for(&mut narrowed, target, &calls);
        for answer in who_can_with(&narrowed, target, &calls, false) {
            let own = inventory.acl_for(&answer.subject, target).map(|acl| {
                let decisions: Vec<_> = calls[0]
                    .alternatives
                    .iter()
                    .map(|alternative| acl.authorize(&alternative.request))
                    .collect();
                let chosen = decisions.iter().position(|d| d.allowed).unwrap_or(0);
                vec![decisions[chosen].clone()]
            });
            let own = own.map_err(|error| error.to_string());
            prop_assert_eq!(format!("{:?}", answer.decisions), format!("{:?}", own), "{}", answer.subject);
        }
    }

    #[test]
    fn who_can_answers_equal_acls_of_the_reference_policies(
        graph in graph(),
        probe in 0..POLICIES + 4,
        update in any::<bool>(),
    ) {
        let (config, workspace) = workspace(&graph);
        let inventory = Inventory::new(&config, &workspace.policies).expect("inventory");
        // Paths of the plain rules, and paths the templated `secret/t/{{...}}/*` rules reach
        // for some subjects (entity names, `team` metadata) and not for others.
        let path = match probe {
            p if p < POLICIES => format!("secret/p{p}/x"),
            p if p == POLICIES => "secret/t/e0/x".to_string(),
            p if p == POLICIES + 1 => "secret/t/t1/x".to_string(),
            p if p == POLICIES + 2 => "secret/t/g1/x".to_string(),
            _ => "secret/t/plain/x".to_string(),
        };
        let operation = if update { "update" } else { "read" };
        let words = [operation.to_string(), path];
        let calls = capable::query::request::build(&words, &[], None, &config.mounts).expect("calls");
        let mut narrowed = inventory.clone();
        narrow_for(&mut narrowed, Target::Vault, &calls);
        let answers = who_can(&narrowed, Target::Vault, &calls);
        let bare = who_can_with(&narrowed, Target::Vault, &calls, false);
        prop_assert_eq!(answers.len(), bare.len());
        for (answer, bare) in answers.iter().zip(&bare) {
            let (policies, _) = reference(&graph, &answer.subject);
            prop_assert_eq!(&answer.policies, &policies);
            prop_assert!(bare.policies.is_empty());
            prop_assert_eq!(format!("{:?}", bare.decisions), format!("{:?}", answer.decisions));
            // The whole ACL of the reference policies, with the subject's identity.
            let held: Vec<&capable::policy::Policy> = policies
                .iter()
                .filter_map(|name| workspace.policies.get(name).or_else(|| {
                    (name == "default").then(|| capable::acl::builtin::default_policy_ref(Target::Vault))
                }))
                .collect();
            let identity = inventory.identity_for(&answer.subject).unwrap();
            let acl = Acl::new(&held, Target::Vault, identity.as_ref()).expect("acl");
            let request = &calls[0].alternatives[0].request;
            prop_assert_eq!(answer.allowed(), acl.authorize(request).allowed, "{}", answer.subject);
        }
    }
}

/// The spans of `policy`'s templated rules that `Acl::new(&[policy])` leaves out for
/// `identity`: the plain form of what `unresolved-template` reports (it judges each policy's
/// template step alone, without building the ACL).
fn reference_unresolved(
    policy: &capable::policy::Policy,
    identity: Option<&capable::acl::Identity>,
    target: Target,
) -> BTreeSet<usize> {
    let resolved: BTreeSet<usize> = match Acl::new(&[policy], target, identity) {
        Ok(acl) => acl
            .rules()
            .into_iter()
            .flat_map(|rule| rule.sources.iter())
            .map(|source| source.pattern_span.start)
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    policy
        .rules
        .iter()
        .filter(|rule| rule.is_templated() && !resolved.contains(&rule.pattern_span.start))
        .map(|rule| rule.pattern_span.start)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// `unresolved-template` of every subject, from its policies alone, flags exactly the
    /// templated rules its policies' own ACLs leave out.
    #[test]
    fn unresolved_templates_equal_what_each_policys_acl_leaves_out(graph in graph()) {
        let (config, workspace) = workspace(&graph);
        let inventory = Inventory::new(&config, &workspace.policies).expect("inventory");
        for target in [Target::Vault, Target::OpenBao] {
            for subject in inventory.subjects() {
                let identity = inventory.identity_for(&subject).unwrap();
                let policies = inventory.policy_set(&subject, target).unwrap();
                let mut found = Vec::new();
                capable::lint::rules::unresolved_template::check_subject(
                    &policies, identity.as_ref(), target, &mut found,
                );
                let flagged: BTreeSet<(String, usize)> = found
                    .iter()
                    .map(|(file, diagnostic)| (file.name.clone(), diagnostic.span.start))
                    .collect();
                let mut expected = BTreeSet::new();
                for policy in policies.iter().filter(|p| !p.source.name.starts_with('<')) {
                    // The graph's values hold no `/`, `*` or `+`: no policy is refused whole.
                    prop_assert!(Acl::new(&[policy], target, identity.as_ref()).is_ok());
                    for start in reference_unresolved(policy, identity.as_ref(), target) {
                        expected.insert((policy.source.name.clone(), start));
                    }
                }
                prop_assert_eq!(&flagged, &expected, "{} on {:?}", subject, target);
            }
        }
    }
}
