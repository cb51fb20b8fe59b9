//! The diff against brute force. For random pairs of policy sets (wildcards, globs, `+`, deny,
//! trailing slashes, carve-outs, sudo-protected paths, conditions, several policies), every
//! path of up to 4 segments over an alphabet made of the patterns' own segments, their
//! prefixes and one fresh segment is decided on both sides by the ACL (`Acl::authorize`), and
//! a capability is gained, lost or changed there exactly when the path lies in one reported
//! region of that kind; every witness is such a path.

use std::collections::BTreeSet;
use std::sync::Arc;

use capable::acl::builtin::requires_sudo;
use capable::acl::{Acl, MergedRule, Operation, Request};
use capable::config::Config;
use capable::diff::cells::conditions_json;
use capable::diff::{diff, ChangeKind, Options, SideInput, SubjectDiff};
use capable::inventory::{Inventory, Subject};
use capable::policy::{Capability, Policy};
use capable::query::reach::View;
use capable::source::SourceFile;
use capable::target::Target;
use capable::workspace::Workspace;
use proptest::prelude::*;

const ROLE: &str = "userpass/u";

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("a".to_string()),
        3 => Just("b".to_string()),
        2 => Just("ab".to_string()),
        3 => Just("+".to_string()),
        1 => Just(String::new()),
        1 => Just("sys".to_string()),
        1 => Just("audit".to_string()),
    ]
}

/// 1-3 segments, then nothing, `/`, `*` or `/*`.
fn pattern() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 1..4),
        prop_oneof![Just(""), Just("/"), Just("*"), Just("/*")],
    )
        .prop_map(|(segments, tail)| {
            let mut text = segments.join("/");
            if text.ends_with('+') && tail == "*" {
                text.push('/');
            }
            text.push_str(tail);
            text
        })
}

#[derive(Clone, Debug)]
struct Block {
    pattern: String,
    capabilities: Vec<&'static str>,
    condition: Option<&'static str>,
}

fn block() -> impl Strategy<Value = Block> {
    (
        pattern(),
        prop::collection::vec(
            prop_oneof![
                Just("read"),
                Just("list"),
                Just("update"),
                Just("sudo"),
                Just("deny")
            ],
            0..3,
        ),
        prop_oneof![
            6 => Just(None),
            1 => Just(Some("required_parameters = [\"x\"]")),
            1 => Just(Some("min_wrapping_ttl = \"1m\"")),
        ],
    )
        .prop_map(|(pattern, capabilities, condition)| Block {
            pattern,
            capabilities,
            condition,
        })
}

fn policy_text(blocks: &[Block]) -> String {
    let mut text = String::new();
    for block in blocks {
        let caps: Vec<String> = block
            .capabilities
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect();
        text.push_str(&format!(
            "path \"{}\" {{\n  capabilities = [{}]\n",
            block.pattern,
            caps.join(", ")
        ));
        if let Some(condition) = block.condition {
            text.push_str(&format!("  {condition}\n"));
        }
        text.push_str("}\n");
    }
    text
}

/// A side: policies `p0`, `p1`, ... and a role holding them all (without `default`).
fn workspace(policies: &[Vec<Block>], target: Target) -> Workspace {
    let names: Vec<String> = (0..policies.len()).map(|i| format!("p{i}")).collect();
    let yaml = format!(
        "roles:\n  {ROLE}:\n    policies: [{}]\n    token_no_default_policy: true\n",
        names.join(", ")
    );
    let config = Config::from_text(
        Arc::new(SourceFile::new("capable.yaml", yaml)),
        std::path::PathBuf::from("."),
    )
    .expect("generated config");
    let sources = policies
        .iter()
        .zip(&names)
        .map(|(blocks, name)| Arc::new(SourceFile::new(format!("{name}.hcl"), policy_text(blocks))))
        .collect();
    Workspace::from_sources(config, target, sources).expect("generated workspace")
}

fn held(workspace: &Workspace) -> Vec<&Policy> {
    workspace.policies.values().collect()
}

/// What the ACL says a path gets on one side: the deciding rule, and whether the path needs
/// sudo.
fn winner(acl: &Acl, path: &str, view: View) -> Option<MergedRule> {
    let operation = match view {
        View::Request => Operation::Read,
        View::Listing => Operation::List,
    };
    acl.authorize(&Request::new(operation, path.to_string()))
        .explanation
        .winner
}

fn holds(rule: &Option<MergedRule>, capability: Capability, protected: bool) -> bool {
    rule.as_ref().is_some_and(|rule| {
        !rule.capabilities.is_deny()
            && rule.capabilities.contains(capability)
            && (!protected || rule.capabilities.contains(Capability::Sudo))
    })
}

fn expected(
    base: &Option<MergedRule>,
    head: &Option<MergedRule>,
    capability: Capability,
    protected: bool,
) -> Option<ChangeKind> {
    match (
        holds(base, capability, protected),
        holds(head, capability, protected),
    ) {
        (false, true) => Some(ChangeKind::Gained),
        (true, false) => Some(ChangeKind::Lost),
        (true, true) => {
            let (b, h) = (base.as_ref()?, head.as_ref()?);
            (conditions_json(b, capability) != conditions_json(h, capability))
                .then_some(ChangeKind::Changed)
        }
        (false, false) => None,
    }
}

/// Segments of the patterns, every prefix of each, and one fresh segment.
fn alphabet(sides: &[&Workspace]) -> Vec<String> {
    let mut segments: BTreeSet<String> = BTreeSet::from(["z".to_string()]);
    for workspace in sides {
        for policy in workspace.policies.values() {
            for rule in &policy.rules {
                let Some(pattern) = &rule.pattern else {
                    continue;
                };
                for part in pattern.normalized.split('/') {
                    let literal = part.trim_end_matches('*');
                    if literal == "+" {
                        continue;
                    }
                    for end in 0..=literal.len() {
                        segments.insert(literal[..end].to_string());
                    }
                }
            }
        }
    }
    segments.into_iter().collect()
}

fn paths(alphabet: &[String]) -> Vec<String> {
    let mut all = Vec::new();
    let mut frontier: Vec<String> = alphabet.to_vec();
    all.extend(frontier.iter().cloned());
    for _ in 1..4 {
        let next: Vec<String> = frontier
            .iter()
            .flat_map(|path| {
                alphabet
                    .iter()
                    .map(move |segment| format!("{path}/{segment}"))
            })
            .collect();
        all.extend(next.iter().cloned());
        frontier = next;
    }
    all.retain(|path| !path.starts_with('/'));
    all.sort();
    all.dedup();
    all
}

const REQUEST_CAPS: [Capability; 3] = [Capability::Read, Capability::Update, Capability::Sudo];

fn check(base: &Workspace, head: &Workspace, target: Target) -> Result<(), TestCaseError> {
    let acl = |workspace: &Workspace| Acl::new(&held(workspace), target, None).expect("acl");
    let (base_acl, head_acl) = (acl(base), acl(head));
    let base_inventory = Inventory::new(&base.config, &base.policies).expect("inventory");
    let head_inventory = Inventory::new(&head.config, &head.policies).expect("inventory");
    let answer = diff(
        &SideInput {
            workspace: base,
            inventory: Some(&base_inventory),
        },
        &SideInput {
            workspace: head,
            inventory: Some(&head_inventory),
        },
        &Options::default(),
    )
    .expect("decided");
    let role = Subject::Role(ROLE.to_string());
    let subject: Option<&SubjectDiff> = answer.subjects.iter().find(|s| s.subject == role);
    let matchers: Vec<_> = subject
        .map(|subject| {
            subject
                .changes
                .iter()
                .map(|change| (change, subject.matcher(change)))
                .collect()
        })
        .unwrap_or_default();
    for (change, _) in &matchers {
        let subject = subject.expect("changes come from a subject");
        prop_assert!(
            subject.holds(change, &change.witness),
            "witness `{}` outside its region",
            change.witness
        );
        let path = &change.witness;
        let protected = requires_sudo(target, path);
        let kind = expected(
            &winner(&base_acl, path, change.view),
            &winner(&head_acl, path, change.view),
            change.capability,
            protected,
        );
        prop_assert_eq!(
            kind,
            Some(change.kind),
            "witness `{}` of {:?} {}",
            path,
            change.kind,
            change.capability
        );
    }
    for path in paths(&alphabet(&[base, head])) {
        for view in [View::Request, View::Listing] {
            if view == View::Listing && !path.ends_with('/') {
                continue;
            }
            let before = winner(&base_acl, &path, view);
            let after = winner(&head_acl, &path, view);
            let protected = requires_sudo(target, &path);
            let capabilities: &[Capability] = match view {
                View::Request => &REQUEST_CAPS,
                View::Listing => &[Capability::List],
            };
            for capability in capabilities {
                let want = expected(&before, &after, *capability, protected);
                let reported: Vec<ChangeKind> = matchers
                    .iter()
                    .filter(|(change, _)| change.view == view && change.capability == *capability)
                    .filter(|(_, matcher)| matcher.holds(&path))
                    .map(|(change, _)| change.kind)
                    .collect();
                prop_assert!(
                    reported.len() <= 1,
                    "`{}` {}: in several regions {:?}",
                    path,
                    capability,
                    reported
                );
                prop_assert_eq!(
                    reported.first().copied(),
                    want,
                    "{} `{}` {:?} view, base {:?} head {:?}",
                    capability,
                    path,
                    view,
                    before.as_ref().map(|r| &r.pattern.normalized),
                    after.as_ref().map(|r| &r.pattern.normalized)
                );
            }
        }
    }
    Ok(())
}

/// HEAD: BASE edited (a block changed, dropped or added, a policy added), or drawn afresh.
fn pair() -> impl Strategy<Value = (Vec<Vec<Block>>, Vec<Vec<Block>>)> {
    let policies = || prop::collection::vec(prop::collection::vec(block(), 1..4), 1..3);
    (
        policies(),
        policies(),
        block(),
        0..4usize,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(base, fresh, extra, edit, index)| {
            let mut head = base.clone();
            let policy = index.index(head.len());
            let at = index.index(head[policy].len());
            match edit {
                0 => head[policy][at] = extra,
                1 if head[policy].len() > 1 => {
                    head[policy].remove(at);
                }
                1 | 2 => head[policy].push(extra),
                _ => head = fresh,
            }
            (base, head)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn reported_regions_are_exactly_the_changed_paths(
        (base, head) in pair(),
        openbao in any::<bool>(),
    ) {
        let target = if openbao { Target::OpenBao } else { Target::Vault };
        let base = workspace(&base, target);
        let head = workspace(&head, target);
        check(&base, &head, target)?;
    }
}
