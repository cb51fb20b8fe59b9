//! `diff`: the exact access a change gains and loses, per subject.
//!
//! # What is compared
//!
//! Two workspaces, BASE and HEAD (each with its own `capable.yaml`, inventory and target).
//! The subjects are every role, identity group and entity of either inventory, and every
//! policy on its own. For each subject present on a side, that side's merged ACL (templates
//! resolved against the subject's identity, `default` included where the subject holds it)
//! gives its [`Reach`]: the ranked regions of the request view and of the list view.
//!
//! # The theorem
//!
//! Fix a subject and a view. For each side, every path of the view is decided by exactly one
//! region (the highest-ranked one containing it) or by none. So the pairs (BASE decider,
//! HEAD decider) partition the path space into *cells*: the cell `(b, h)` is the paths in `b`
//! and in `h` and in no region ranked above `b` on BASE nor above `h` on HEAD (a missing
//! decider means: in no region of that side). The root-protected paths of each side (spec 6)
//! split a cell in two where a deciding rule grants capabilities without `sudo`. On every
//! (sub-)cell each side's effective answer is constant: the deciding rule's capabilities (none
//! for `deny`, none on a protected path without `sudo`) and its conditions. Hence, for a
//! capability C:
//!
//! > a path holds C on HEAD and not on BASE **if and only if** it lies in a (sub-)cell
//! > reported as *gained* C; symmetrically for *lost*; and it holds C on both sides under
//! > different conditions (parameters, wrapping TTLs, MFA, control group, pagination, key
//! > filter, event types) if and only if it lies in a cell reported as *changed* C.
//!
//! A cell is reported only when [`witness::Query::witness`] finds a path in it (the search is
//! exhaustive, so an unreported cell is empty), and that path is the change's witness. Each
//! reported region is written like `reach`'s: the deciding region's pattern, the other side's
//! deciding pattern it lies within, and the higher-ranked regions of either side that are
//! carved out ([`cells::Change::except`]).
//!
//! A region present on both sides with the same meaning (pattern, origin, capabilities and
//! conditions, wherever it was written) never decides a path differently: if such regions
//! `b ≠ h` decided a path on the two sides, each would outrank the other. So only cells with a
//! differing region on at least one side are examined.
//!
//! # Cost
//!
//! Loading: one parse per policy file per side. Per subject: one ACL merge per side, O(P) for
//! P rules held; a subject whose two merged rule sets have equal meanings is skipped after an
//! O(P log P) comparison. Otherwise, with D differing regions (of R), O(D × k) candidate cells
//! for k overlapping regions each (found through an index on literal heads, not a scan), each
//! costing O(k) overlap tests of O(L²) for patterns of length L and one witness search. So a
//! change touching a few policies costs O(S × P log P) for S subjects, plus O(D × k²) for the
//! subjects that hold the changed policies.

pub mod cells;
pub mod report;
pub mod side;
pub mod sudo;
pub mod witness;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::acl::{Acl, AclOptions, MergedRule};
use crate::inventory::{Inventory, Subject};
use crate::policy::{CapSet, Capability, PathPattern, Policy};
use crate::query::reach::{Piece, Reach, View};
use crate::target::Target;
use crate::workspace::Workspace;

pub use cells::{Change, ChangeKind, Exception, Hints, Side, Undecided};

/// The diff could not be decided for one subject: a region search met
/// [`witness::STATE_BUDGET`] (a bound on memory, see [`witness`]). An input error (exit 2),
/// never a guess.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffError {
    pub subject: Subject,
    pub cell: Undecided,
}

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let view = match self.cell.view {
            View::Request => "requests",
            View::Listing => "LIST requests",
        };
        write!(
            f,
            "the diff of {} is too large to decide exactly: the {view} decided by `{}` on BASE \
             and `{}` on HEAD need more than {} search states",
            self.subject,
            self.cell.base,
            self.cell.head,
            witness::STATE_BUDGET
        )
    }
}

/// One side as the diff reads it.
pub struct SideInput<'a> {
    pub workspace: &'a Workspace,
    /// `None` when the side's `capable.yaml` declares no roles, groups or entities.
    pub inventory: Option<&'a Inventory>,
}

/// What to compare.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only subjects with one of these names (role key or bare role name, group, entity or
    /// policy name); empty: all.
    pub subjects: Vec<String>,
    /// Only paths starting with this prefix (relative to the namespace asked in).
    pub under: Option<String>,
    /// Ask in this namespace (a normalised path, `admin/team-a/`): only subjects whose
    /// tokens may make requests there (of it or an ancestor), on the paths of it and its
    /// children. `None`: every subject in its own namespace.
    pub namespace: Option<String>,
}

/// Whether a subject exists on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Both,
    /// Only on HEAD.
    Added,
    /// Only on BASE.
    Removed,
}

/// A subject's access on one side.
#[derive(Clone, Debug)]
pub struct SubjectSide {
    /// The effective policies, in merge order (empty when the subject is absent).
    pub policies: Vec<String>,
    pub reach: Reach,
    /// Why the side grants nothing although it names policies (the token would be refused).
    pub refused: Option<String>,
    /// The side's root-protected paths.
    pub sudo: Arc<Vec<Piece>>,
}

impl SubjectSide {
    fn view(&self) -> cells::SideView<'_> {
        cells::SideView {
            reach: &self.reach,
            sudo: self.sudo.as_slice(),
            sudo_key: "",
        }
    }
}

/// The changes of one subject.
#[derive(Clone, Debug)]
pub struct SubjectDiff {
    pub subject: Subject,
    /// The namespace the subject's requests are made in (`""`: root); its paths are full
    /// paths, all starting with it.
    pub namespace: String,
    pub presence: Presence,
    pub base: SubjectSide,
    pub head: SubjectSide,
    pub changes: Vec<Change>,
    /// `--under` as a piece.
    pub scope: Option<Vec<Piece>>,
}

impl SubjectDiff {
    /// Whether `path` lies in the change's region (the meaning the module documentation
    /// states). Cost: O(path length × total tokens of the regions involved).
    pub fn holds(&self, change: &Change, path: &str) -> bool {
        self.matcher(change).holds(path)
    }

    /// [`SubjectDiff::holds`] compiled once for many paths.
    pub fn matcher(&self, change: &Change) -> witness::Matcher<'_> {
        let (base, head) = (self.base.view(), self.head.view());
        cells::change_query(
            change.view,
            (&base, &head),
            self.scope.as_deref(),
            (change.base, change.head),
            &change.except,
            (change.sudo_base, change.sudo_head),
        )
        .matcher()
    }

    pub fn side(&self, side: Side) -> &SubjectSide {
        match side {
            Side::Base => &self.base,
            Side::Head => &self.head,
        }
    }

    /// The rule deciding a region of one side and view.
    pub fn rule(&self, side: Side, view: View, region: usize) -> &MergedRule {
        let reach = &self.side(side).reach;
        &reach.rules[reach.view(view).regions[region].rule]
    }

    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes
            .iter()
            .filter(|change| change.kind == kind)
            .count()
    }
}

/// The whole answer.
#[derive(Clone, Debug)]
pub struct Diff {
    /// Subjects with at least one change, or that appeared or disappeared, in report order.
    pub subjects: Vec<SubjectDiff>,
    /// How many subjects were compared.
    pub compared: usize,
    pub base_target: Target,
    pub head_target: Target,
}

impl Diff {
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.subjects
            .iter()
            .map(|subject| subject.count(kind))
            .sum()
    }
}

/// A side's view of one subject before its reach is built.
struct Loaded {
    policies: Vec<String>,
    acl: Option<Acl>,
    refused: Option<String>,
}

/// The rule `root` stands for: every capability on every path, `sudo` included.
fn root_rule(target: Target) -> MergedRule {
    let capabilities = Capability::ALL
        .into_iter()
        .filter(|capability| *capability != Capability::Deny && capability.valid_for(target))
        .fold(CapSet::EMPTY, CapSet::with);
    MergedRule::only(
        PathPattern::parse("*").expect("`*` is a valid pattern"),
        capabilities,
    )
}

/// The regions of a loaded side (a root token is one rule `*` with every capability).
fn reach_of(loaded: &Loaded, target: Target) -> Reach {
    match &loaded.acl {
        Some(acl) if acl.is_root() => Reach::from_rules(vec![root_rule(target)], target, true),
        Some(acl) => Reach::new(acl),
        None => Reach::from_rules(Vec::new(), target, false),
    }
}

/// The meaning of a loaded side, for the unchanged-subject shortcut.
fn signature(loaded: &Loaded) -> Option<(bool, Vec<String>)> {
    let acl = loaded.acl.as_ref()?;
    let mut keys: Vec<String> = acl.rules().into_iter().map(cells::rule_key).collect();
    keys.sort();
    Some((acl.is_root(), keys))
}

/// Per side: what is constant across subjects.
struct Prepared<'a> {
    input: &'a SideInput<'a>,
    target: Target,
    sudo: Arc<Vec<Piece>>,
    sudo_key: String,
    /// `--namespace`, if asked.
    asked: Option<&'a str>,
}

impl<'a> Prepared<'a> {
    fn new(input: &'a SideInput<'a>, asked: Option<&'a str>) -> Prepared<'a> {
        let target = input.workspace.target;
        let mounts = sudo::pki_mounts(&input.workspace.config.mounts);
        let namespaces = &input.workspace.config.namespaces;
        let pieces = sudo::protected_pieces(target, &mounts);
        let tree: Vec<&str> = namespaces.iter().collect();
        Prepared {
            input,
            target,
            sudo: Arc::new(sudo::in_namespaces(pieces, namespaces)),
            sudo_key: format!("{target}|{}|{}", mounts.join(","), tree.join(",")),
            asked,
        }
    }

    /// The namespace the subject lives in on this side, `None` when the side lacks it.
    fn own_namespace(&self, subject: &Subject) -> Option<String> {
        let workspace = self.input.workspace;
        match subject {
            Subject::Policies(names) => {
                let policies: Option<Vec<&Policy>> = names
                    .iter()
                    .map(|name| workspace.policies.get(name))
                    .collect();
                policies?.first().map(|policy| policy.namespace.clone())
            }
            other => {
                let inventory = self.input.inventory?;
                inventory.effective_policies(other).ok()?;
                Some(inventory.namespace_of(other))
            }
        }
    }

    /// The namespace the subject is asked in on this side: `--namespace` when its tokens may
    /// make requests there, else its own.
    fn asked_namespace(&self, subject: &Subject) -> Option<String> {
        let own = self.own_namespace(subject)?;
        match self.asked {
            None => Some(own),
            Some(asked) if crate::namespace::is_within(asked, &own) => Some(asked.to_string()),
            Some(_) => None,
        }
    }

    fn has(&self, subject: &Subject, namespace: &str) -> bool {
        self.asked_namespace(subject).as_deref() == Some(namespace)
    }

    fn acl_options(&self) -> AclOptions {
        AclOptions {
            namespaces: self.input.workspace.config.namespaces.clone(),
            ..AclOptions::default()
        }
    }

    fn load(&self, subject: &Subject, namespace: &str) -> Loaded {
        if !self.has(subject, namespace) {
            return Loaded {
                policies: Vec::new(),
                acl: None,
                refused: None,
            };
        }
        let (policies, acl) = match subject {
            Subject::Policies(names) => {
                let held: Vec<&Policy> = names
                    .iter()
                    .filter_map(|name| self.input.workspace.policies.get(name))
                    .collect();
                (
                    names.clone(),
                    Acl::with_options(&held, self.target, None, &self.acl_options())
                        .map_err(|e| e.to_string()),
                )
            }
            other => {
                let inventory = self.input.inventory.expect("checked by `has`");
                (
                    inventory.policies_of(other),
                    inventory
                        .acl_for(other, self.target)
                        .map_err(|error| error.to_string()),
                )
            }
        };
        match acl {
            Ok(acl) => Loaded {
                policies,
                acl: Some(acl),
                refused: None,
            },
            Err(reason) => Loaded {
                policies,
                acl: None,
                refused: Some(reason),
            },
        }
    }
}

/// Every subject of either side with the namespace it is asked in, roles first, then
/// groups, entities and policies. A subject whose namespace differs between the sides is two
/// subjects (one removed, one added): its tokens make requests elsewhere.
fn subjects(base: &Prepared<'_>, head: &Prepared<'_>) -> Vec<(Subject, String)> {
    let mut found: BTreeSet<(Subject, String)> = BTreeSet::new();
    for side in [base, head] {
        let mut all: Vec<Subject> = side
            .input
            .inventory
            .map(Inventory::subjects)
            .unwrap_or_default();
        all.extend(
            side.input
                .workspace
                .policies
                .keys()
                .map(|name| Subject::Policies(vec![name.clone()])),
        );
        for subject in all {
            if let Some(namespace) = side.asked_namespace(&subject) {
                found.insert((subject, namespace));
            }
        }
    }
    found.into_iter().collect()
}

/// The paths compared for a subject asked in `namespace`: those starting with the namespace
/// and `under`; `None` for every path.
fn scope_of(namespace: &str, under: Option<&str>) -> Option<Vec<Piece>> {
    let under = under.unwrap_or("");
    if namespace.is_empty() && under.is_empty() {
        return None;
    }
    let relative = if namespace.is_empty() {
        under
    } else {
        under.trim_start_matches('/')
    };
    Some(cells::scope_pieces(&format!("{namespace}{relative}")))
}

fn selected(subject: &Subject, names: &[String]) -> bool {
    if names.is_empty() {
        return true;
    }
    let name = subject.name();
    let bare = match subject {
        Subject::Role(key) => key.rsplit_once('/').map(|(_, bare)| bare.to_string()),
        _ => None,
    };
    names
        .iter()
        .any(|wanted| *wanted == name || bare.as_deref() == Some(wanted.as_str()))
}

/// Exact patterns of every policy of both sides: readable witnesses.
fn hints(base: &SideInput<'_>, head: &SideInput<'_>) -> Hints {
    let mut paths = Vec::new();
    for side in [base, head] {
        for policy in side.workspace.policies.values() {
            for rule in &policy.rules {
                if let Some(pattern) = &rule.pattern {
                    if pattern.is_exact() {
                        paths.push(pattern.normalized.clone());
                    }
                }
            }
        }
    }
    Hints::new(paths)
}

/// The names of the subjects `options.subjects` asks for that neither side has (in the
/// namespace asked, if any).
pub fn unknown_subjects(
    base: &SideInput<'_>,
    head: &SideInput<'_>,
    options: &Options,
) -> Vec<String> {
    let asked = options.namespace.as_deref();
    let all = subjects(&Prepared::new(base, asked), &Prepared::new(head, asked));
    options
        .subjects
        .iter()
        .filter(|name| {
            !all.iter()
                .any(|(subject, _)| selected(subject, std::slice::from_ref(name)))
        })
        .cloned()
        .collect()
}

/// Compares every subject. See the module documentation for what is exact and what it costs.
pub fn diff(
    base: &SideInput<'_>,
    head: &SideInput<'_>,
    options: &Options,
) -> Result<Diff, DiffError> {
    let asked = options.namespace.as_deref();
    let base_side = Prepared::new(base, asked);
    let head_side = Prepared::new(head, asked);
    let hints = hints(base, head);
    let mut next_cell = 0;
    let mut compared = 0;
    let mut found = Vec::new();
    for (subject, namespace) in subjects(&base_side, &head_side) {
        if !selected(&subject, &options.subjects) {
            continue;
        }
        compared += 1;
        let scope = scope_of(&namespace, options.under.as_deref());
        let before = base_side.load(&subject, &namespace);
        let after = head_side.load(&subject, &namespace);
        let presence = match (
            base_side.has(&subject, &namespace),
            head_side.has(&subject, &namespace),
        ) {
            (true, true) => Presence::Both,
            (false, _) => Presence::Added,
            (_, false) => Presence::Removed,
        };
        let unchanged = base_side.sudo_key == head_side.sudo_key
            && signature(&before).is_some()
            && signature(&before) == signature(&after);
        if unchanged && presence == Presence::Both {
            continue;
        }
        let base_reach = reach_of(&before, base_side.target);
        let head_reach = reach_of(&after, head_side.target);
        let mut changes = Vec::new();
        for view in [View::Request, View::Listing] {
            let view_diff = cells::ViewDiff {
                view,
                base: cells::SideView {
                    reach: &base_reach,
                    sudo: &base_side.sudo,
                    sudo_key: &base_side.sudo_key,
                },
                head: cells::SideView {
                    reach: &head_reach,
                    sudo: &head_side.sudo,
                    sudo_key: &head_side.sudo_key,
                },
                scope: scope.clone(),
                hints: &hints,
            };
            let found = view_diff
                .changes(&mut next_cell)
                .map_err(|cell| DiffError {
                    subject: subject.clone(),
                    cell,
                })?;
            changes.extend(found);
        }
        if changes.is_empty() && presence == Presence::Both {
            continue;
        }
        found.push(SubjectDiff {
            subject,
            namespace,
            presence,
            base: SubjectSide {
                policies: before.policies,
                reach: base_reach,
                refused: before.refused,
                sudo: base_side.sudo.clone(),
            },
            head: SubjectSide {
                policies: after.policies,
                reach: head_reach,
                refused: after.refused,
                sudo: head_side.sudo.clone(),
            },
            changes,
            scope,
        });
    }
    Ok(Diff {
        subjects: found,
        compared,
        base_target: base_side.target,
        head_target: head_side.target,
    })
}

/// Per-subject change counts, for summaries: (gained, lost, changed).
pub fn counts(subject: &SubjectDiff) -> (usize, usize, usize) {
    (
        subject.count(ChangeKind::Gained),
        subject.count(ChangeKind::Lost),
        subject.count(ChangeKind::Changed),
    )
}
