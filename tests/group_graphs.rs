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
    // Roles with one token policy: those whose entities share a class share one too (who-can
    // builds their ACLs per class), each with its own entity's name, id and metadata.
    for at in 0..graph.entities.len() {
        let _ = writeln!(
            out,
            "  approle/s{at}:\n    policies: [p0]\n    entity: e{at}"
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
            let (at, token) = match name.strip_prefix("approle/s") {
                Some(at) => (at.parse().unwrap_or(0), 0),
                None => {
                    let at = name.trim_start_matches("userpass/r").parse().unwrap_or(0);
                    (at, at)
                }
            };
            let mut out: Vec<String> = vec![format!("p{token}"), "default".to_string()];
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

/// Values of an entity's own fields: empty, plain, and holding each character that changes a
/// template step (`/`, `*`, `+`) or might (`{`, `}`), alone, at either end and inside.
fn shaped_value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "", "a", "bc", "é", "/", "*", "+", "{", "}", "a/b", "/a", "a/", "a*", "*a", "+a", "a+",
        "a+*b", "+*", "*+", "a{b}", "//", "++", "**", "a/+/b",
    ])
    .prop_map(str::to_string)
}

/// The same shape as `value` (see `capable::acl::directive_shape`): each run of other
/// characters than `/`, `*`, `+`, `{`, `}` replaced by another non-empty one.
fn reshaped(value: &str, filler: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in value.chars() {
        match c {
            '/' | '*' | '+' | '{' | '}' => {
                in_run = false;
                out.push(c);
            }
            _ if in_run => {}
            _ => {
                in_run = true;
                out.push_str(filler);
            }
        }
    }
    out
}

/// An entity's own fields: id, name, `team` and `zone` metadata (each may be missing), and an
/// alias on `acc1` (may be missing) with `r` metadata and `c` custom metadata.
#[derive(Clone, Debug)]
struct OwnFields {
    id: String,
    name: String,
    team: Option<String>,
    zone: Option<String>,
    alias: Option<(String, Option<String>, Option<String>)>,
}

/// A few values, so that two identities often share a shape: empty, plain, and one of each
/// character that matters, alone or after a plain run.
fn few_values() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "a", "+", "*", "/", "a+", "*a"]).prop_map(str::to_string)
}

fn own_fields() -> impl Strategy<Value = OwnFields> {
    own_fields_of(shaped_value)
}

fn own_fields_of<S: Strategy<Value = String>>(
    value: impl Fn() -> S,
) -> impl Strategy<Value = OwnFields> {
    let maybe = || prop::option::of(value());
    (
        value(),
        value(),
        maybe(),
        maybe(),
        prop::option::of((value(), maybe(), maybe())),
    )
        .prop_map(|(id, name, team, zone, alias)| OwnFields {
            id,
            name,
            team,
            zone,
            alias,
        })
}

impl OwnFields {
    fn reshaped(&self, filler: &str) -> OwnFields {
        let shape = |value: &String| reshaped(value, filler);
        OwnFields {
            id: shape(&self.id),
            name: shape(&self.name),
            team: self.team.as_ref().map(shape),
            zone: self.zone.as_ref().map(shape),
            alias: self
                .alias
                .as_ref()
                .map(|(name, r, c)| (shape(name), r.as_ref().map(shape), c.as_ref().map(shape))),
        }
    }

    /// These fields with field `field` (in declaration order; 5: the alias's custom
    /// metadata) set to `value` (`None`: removed, or for id and name emptied).
    fn with_field(&self, field: usize, value: Option<String>) -> OwnFields {
        let mut out = self.clone();
        let alias = out.alias.get_or_insert_with(|| ("n".into(), None, None));
        match field {
            0 => out.id = value.unwrap_or_default(),
            1 => out.name = value.unwrap_or_default(),
            2 => out.team = value,
            3 => out.zone = value,
            4 => alias.1 = value,
            _ => alias.2 = value,
        }
        if field < 4 {
            out.alias = self.alias.clone();
        }
        out
    }

    /// The identity of an entity with these fields in group `g1` (id `gid1`, `env`
    /// metadata `env`).
    fn identity(&self, env: &str) -> capable::acl::Identity {
        let mut metadata = BTreeMap::new();
        if let Some(team) = &self.team {
            metadata.insert("team".to_string(), team.clone());
        }
        if let Some(zone) = &self.zone {
            metadata.insert("zone".to_string(), zone.clone());
        }
        let aliases = self.alias.iter().map(|(name, r, c)| capable::acl::Alias {
            mount_accessor: "acc1".into(),
            id: "alias-1".into(),
            name: name.clone(),
            metadata: r.iter().map(|r| ("r".to_string(), r.clone())).collect(),
            custom_metadata: c.iter().map(|c| ("c".to_string(), c.clone())).collect(),
        });
        capable::acl::Identity {
            entity_id: self.id.clone(),
            entity_name: self.name.clone(),
            metadata,
            aliases: aliases.collect(),
            groups: vec![capable::acl::Group {
                id: "gid1".into(),
                name: "g1".into(),
                metadata: BTreeMap::from([("env".to_string(), env.to_string())]),
            }],
        }
    }
}

/// The directives the labels below are made of: every kind of variable, a bogus one, one
/// with spaces, and `identity.groups` ones (read from the groups, which stay the same).
const DIRECTIVES: &[&str] = &[
    "identity.entity.id",
    "identity.entity.name",
    " identity.entity.name ",
    "identity.entity.metadata.team",
    "identity.entity.metadata.zone",
    "identity.entity.aliases.acc1.name",
    "identity.entity.aliases.acc1.id",
    "identity.entity.aliases.acc1.metadata.r",
    "identity.entity.aliases.acc1.custom_metadata.c",
    "identity.entity.aliases.acc2.name",
    "identity.entity.bogus",
    "identity.groups.names.g1.name",
    "identity.groups.ids.gid1.metadata.env",
    "identity.groups.names.g2.id",
    "time.now",
    "time.now.plus.1h",
];

/// A path label: literal pieces (with `/`, `+`, `*` that meet the values) and directives.
fn label() -> impl Strategy<Value = String> {
    let literal = prop::sample::select(vec!["secret/", "a", "/", "+", "*", "x+", "+/", "/*", "b"]);
    let directive = || prop::sample::select(DIRECTIVES.to_vec());
    // A directive between `+` and `*`: an empty value makes the pattern's `+*`.
    let piece = prop_oneof![
        literal.prop_map(str::to_string),
        directive().prop_map(|d| format!("{{{{{d}}}}}")),
        directive().prop_map(|d| format!("+{{{{{d}}}}}*")),
    ];
    prop::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat())
}

/// A policy of the labels; `None` when the target refuses it (a written `+*`).
fn policy_of(labels: &[String], target: Target) -> Option<capable::policy::Policy> {
    let text: String = labels
        .iter()
        .map(|label| format!("path \"{label}\" {{ capabilities = [\"read\"] }}\n"))
        .collect();
    let source = Arc::new(SourceFile::new("p.hcl", text));
    capable::policy::parse_policy(source, target).policy
}

/// The findings as (span, message), in order.
fn unresolved(
    policy: &capable::policy::Policy,
    identity: &capable::acl::Identity,
    target: Target,
) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    capable::lint::rules::unresolved_template::check_subject(
        [policy],
        Some(identity),
        target,
        &mut found,
    );
    found
        .into_iter()
        .map(|(_, diagnostic)| (diagnostic.span.start, diagnostic.message))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// What `check` computes once per shape of an entity's own fields (per group closure):
    /// two identities with the same groups whose values differ only in the runs of other
    /// characters than `/`, `*`, `+`, `{`, `}` have the same shape, and every rule's template
    /// step (`kept_rules`) and `unresolved-template` findings are the same for both, on both
    /// targets, with or without OpenBao's template switches; so do two identities of one
    /// shape that differ in a value.
    #[test]
    fn identities_of_one_shape_get_the_same_template_outcomes(
        labels in prop::collection::vec(label(), 1..5),
        own in prop_oneof![own_fields(), own_fields_of(few_values)],
        field in 0..6usize,
        value in prop::option::of(few_values()),
        env in shaped_value(),
        filler in prop::sample::select(vec!["q", "zz", "é", "0"]),
        bao in any::<bool>(),
        slashes in any::<bool>(),
        wildcards in any::<bool>(),
    ) {
        let target = if bao { Target::OpenBao } else { Target::Vault };
        let policy = policy_of(&labels, target);
        prop_assume!(policy.is_some(), "a written `+*`");
        let Some(mut policy) = policy else {
            return Ok(());
        };
        policy.template_flags = capable::acl::TemplateFlags {
            allow_slashes: slashes,
            allow_wildcards: wildcards,
        };
        let first = own.identity(&env);
        let second = own.reshaped(filler).identity(&env);
        let reads = capable::lint::rules::unresolved_template::EntityReads::of([&policy]);
        prop_assert_eq!(reads.shape(&first), reads.shape(&second));
        let kept = |identity| {
            capable::acl::kept_rules(&policy, target, Some(identity)).map_err(|_| "refused")
        };
        prop_assert_eq!(kept(&first), kept(&second));
        prop_assert_eq!(unresolved(&policy, &first, target), unresolved(&policy, &second, target));
        // Any other identity of that shape, too (a shape that forgets what matters fails):
        // here the first with one field set to another value, or removed.
        let third = own.with_field(field, value).identity(&env);
        if reads.shape(&third) == reads.shape(&first) {
            prop_assert_eq!(kept(&first), kept(&third));
            prop_assert_eq!(unresolved(&policy, &first, target), unresolved(&policy, &third, target));
        }
    }
}

/// An in-memory findings store, as the cache keeps them.
#[derive(Default)]
struct MemoryStore(std::sync::Mutex<BTreeMap<String, capable::inventory::lints::StoredFindings>>);

impl capable::inventory::lints::RoleFindingsStore for MemoryStore {
    fn get(&self, key: &str) -> Option<capable::inventory::lints::StoredFindings> {
        self.0.lock().unwrap().get(key).cloned()
    }

    fn put(&self, key: &str, findings: capable::inventory::lints::StoredFindings) {
        self.0.lock().unwrap().insert(key.to_string(), findings);
    }
}

/// Policies for the shared closures: labels where the values' `/`, `*`, `+` and emptiness
/// decide (`p3` may hold slashes, `p4` wildcards on OpenBao).
const SHARED_POLICIES: &[&str] = &[
    "secret/{{identity.entity.name}}/*",
    "secret/+{{identity.entity.metadata.team}}*",
    "kv/{{identity.entity.aliases.acc1.name}}/{{identity.entity.metadata.zone}}",
    "kv/{{identity.entity.metadata.team}}/{{identity.groups.names.g1.name}}/*",
    "x/{{identity.entity.aliases.acc1.metadata.r}}+/{{identity.entity.id}}",
    "y/{{identity.groups.names.g2.metadata.env}}/{{identity.entity.bogus}}",
];

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A `capable.yaml` of groups `g0 <- g1 <- g2` (g2 lists g1, g1 lists g0) and the entities,
/// each in `g0` or `g1` (so in one of two closures), with its own fields.
fn shared_yaml(entities: &[(OwnFields, bool)], env: &str) -> String {
    let mut out = String::from(
        "policies:\n  p3:\n    allow_slashes_in_identity_templates: true\n  \
         p4:\n    allow_wildcards_in_identity_templates: true\ngroups:\n",
    );
    let _ = writeln!(out, "  g0:\n    policies: [p0, p1]");
    let _ = writeln!(
        out,
        "  g1:\n    policies: [p2, p3, p4]\n    member_groups: [g0]\n    id: gid1"
    );
    let _ = writeln!(
        out,
        "  g2:\n    policies: [p5]\n    member_groups: [g1]\n    metadata: {{env: {}}}",
        quoted(env)
    );
    out.push_str("entities:\n");
    for (at, (own, deep)) in entities.iter().enumerate() {
        // Names must differ: the entity's name is its key, with a unique prefix.
        let name = format!("e{at}{}", own.name);
        let _ = writeln!(
            out,
            "  {}:\n    id: {}",
            quoted(&name),
            quoted(&format!("{at}{}", own.id))
        );
        let _ = writeln!(out, "    groups: [{}]", if *deep { "g0" } else { "g1" });
        let metadata: Vec<String> = [("team", &own.team), ("zone", &own.zone)]
            .iter()
            .filter_map(|(key, value)| Some(format!("{key}: {}", quoted(value.as_ref()?))))
            .collect();
        let _ = writeln!(out, "    metadata: {{{}}}", metadata.join(", "));
        if let Some((alias, r, c)) = &own.alias {
            let _ = writeln!(
                out,
                "    aliases:\n      - {{mount: userpass, accessor: acc1, name: {}, metadata: {{{}}}, custom_metadata: {{{}}}}}",
                quoted(&format!("{at}{alias}")),
                r.iter().map(|r| format!("r: {}", quoted(r))).collect::<String>(),
                c.iter().map(|c| format!("c: {}", quoted(c))).collect::<String>(),
            );
        }
    }
    out
}

/// The reference merge: per entity its own `check_subject` with its whole identity, one
/// finding per (file, rule, span, message) in first order, naming its subjects sorted.
fn reference_findings(inventory: &Inventory, target: Target) -> Vec<(String, usize, String)> {
    let mut order: Vec<(String, String, usize, String)> = Vec::new();
    let mut subjects: BTreeMap<(String, String, usize, String), BTreeSet<String>> = BTreeMap::new();
    for subject in inventory.subjects() {
        if !matches!(subject, Subject::Entity(_)) {
            continue;
        }
        let identity = inventory.identity_for(&subject).unwrap();
        let policies = inventory.policy_set(&subject, target).unwrap();
        let mut found = Vec::new();
        capable::lint::rules::unresolved_template::check_subject(
            &policies,
            identity.as_ref(),
            target,
            &mut found,
        );
        for (file, diagnostic) in found {
            let key = (
                file.name.clone(),
                diagnostic.rule.to_string(),
                diagnostic.span.start,
                diagnostic.message.clone(),
            );
            if !subjects.contains_key(&key) {
                order.push(key.clone());
            }
            subjects.entry(key).or_default().insert(subject.to_string());
        }
    }
    order
        .into_iter()
        .map(|key| {
            let names: Vec<String> = subjects[&key].iter().cloned().collect();
            let message = key.3.replace("{subjects}", &names.join(", "));
            (key.0, key.2, message)
        })
        .collect()
}

fn as_triples(findings: Vec<capable::lint::RoleFinding>) -> Vec<(String, usize, String)> {
    findings
        .into_iter()
        .map(|(file, diagnostic)| (file.name.clone(), diagnostic.span.start, diagnostic.message))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    /// Many entities in two closures, with identities of many shapes: the findings linted
    /// once per (closure, shape) equal every entity's own, merged, on both targets, without
    /// a store, into an empty one and from the filled one.
    #[test]
    fn entity_findings_per_closure_and_shape_equal_each_entitys_own(
        entities in prop::collection::vec((own_fields(), any::<bool>()), 1..14),
        env in shaped_value(),
        bao in any::<bool>(),
    ) {
        let target = if bao { Target::OpenBao } else { Target::Vault };
        let source = Arc::new(SourceFile::new("capable.yaml", shared_yaml(&entities, &env)));
        let config = Config::from_text(source, ".".into()).expect("config");
        let sources = SHARED_POLICIES
            .iter()
            .enumerate()
            .map(|(at, label)| {
                let text = format!("path \"{label}\" {{ capabilities = [\"read\"] }}\n");
                Arc::new(SourceFile::new(format!("policies/p{at}.hcl"), text))
            })
            .collect();
        let workspace = Workspace::from_sources(config.clone(), target, sources).expect("ws");
        let inventory = Inventory::new(&config, &workspace.policies).expect("inventory");
        let expected = reference_findings(&inventory, target);
        let lints = capable::inventory::lints::lint_inventory;
        prop_assert_eq!(&as_triples(lints(&inventory, target, &config.mounts)), &expected);
        let store = MemoryStore::default();
        for _ in 0..2 {
            let found = capable::inventory::lints::lint_inventory_with(
                &inventory, target, &config.mounts, Some(&store),
            );
            prop_assert_eq!(&as_triples(found), &expected);
        }
    }
}
