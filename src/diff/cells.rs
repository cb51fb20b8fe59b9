//! The diff of one view of one subject: BASE regions against HEAD regions, cell by cell.
//!
//! A cell is the set of paths decided by one BASE region `b` (or by none) and one HEAD region
//! `h` (or none): the paths in `b` and `h` and in no region ranked above `b` on BASE or above
//! `h` on HEAD. The cells partition the path space of the view, and on a cell each side's
//! answer is fixed (the deciding rule's capabilities and conditions), except for sudo, which
//! splits a cell into its root-protected and unprotected parts (spec 6). So comparing the two
//! deciding rules once per non-empty (sub-)cell is exact. See the module documentation of
//! [`crate::diff`] for the statement and the cost.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use super::witness::Query;
use crate::acl::MergedRule;
use crate::policy::{CapSet, Capability};
use crate::query::lang::{intersects, Domain, Seq, Token};
use crate::query::reach::{self, Piece, Reach, Region, View, REPORT_ORDER};
use crate::target::Target;

/// What happened to one capability on one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Gained,
    Lost,
    Changed,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Gained => "gained",
            ChangeKind::Lost => "lost",
            ChangeKind::Changed => "changed",
        }
    }
}

/// Which side a region belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Base,
    Head,
}

/// A region that carves paths out of a cell: a path in it is decided elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub side: Side,
    pub region: usize,
}

/// One capability gained, lost or changed on one (sub-)cell.
#[derive(Clone, Debug)]
pub struct Change {
    pub kind: ChangeKind,
    pub capability: Capability,
    pub view: View,
    /// The deciding BASE region (index into the BASE reach's view), `None`: no BASE rule.
    pub base: Option<usize>,
    /// The deciding HEAD region, `None`: no HEAD rule.
    pub head: Option<usize>,
    /// Regions ranked above `base` (on BASE) or `head` (on HEAD) that overlap the cell.
    pub except: Vec<Exception>,
    /// `Some(true)`: only the root-protected paths of the cell (on BASE, HEAD); `Some(false)`:
    /// only the unprotected ones; `None`: both.
    pub sudo_base: Option<bool>,
    pub sudo_head: Option<bool>,
    /// A path of the (sub-)cell, confirmed to hold the change.
    pub witness: String,
    /// Identifies the (sub-)cell, so changes of one cell can be shown together.
    pub cell: usize,
}

/// A cell whose region search met [`super::witness::STATE_BUDGET`]: not decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    /// The deciding patterns of the cell (BASE, HEAD), `*` where a side has none.
    pub base: String,
    pub head: String,
    pub view: View,
}

/// One side of a view diff.
#[derive(Clone, Copy)]
pub struct SideView<'a> {
    pub reach: &'a Reach,
    /// The root-protected paths of this side (its target and PKI mounts).
    pub sudo: &'a [Piece],
    /// Equal keys mean equal `sudo` pieces.
    pub sudo_key: &'a str,
}

impl SideView<'_> {
    fn regions(&self, view: View) -> &[Region] {
        &self.reach.view(view).regions
    }

    fn rule(&self, region: &Region) -> &MergedRule {
        &self.reach.rules[region.rule]
    }
}

/// Literal paths worth trying as witnesses before searching (the workspaces' exact patterns),
/// sorted, so those under a region's literal head are found by a range scan.
#[derive(Clone, Debug, Default)]
pub struct Hints {
    sorted: Vec<String>,
}

/// How many hints are tried per cell.
const HINTS_PER_CELL: usize = 16;

impl Hints {
    pub fn new(mut paths: Vec<String>) -> Hints {
        let listed: Vec<String> = paths
            .iter()
            .filter(|path| !path.ends_with('/'))
            .map(|path| format!("{path}/"))
            .collect();
        paths.extend(listed);
        paths.sort();
        paths.dedup();
        Hints { sorted: paths }
    }

    fn under(&self, head: &[u8]) -> Vec<&str> {
        let start = self.sorted.partition_point(|hint| hint.as_bytes() < head);
        self.sorted[start..]
            .iter()
            .take_while(|hint| hint.as_bytes().starts_with(head))
            .take(HINTS_PER_CELL)
            .map(String::as_str)
            .collect()
    }
}

/// The regions of a view by literal head ([`crate::query::reach`]'s index of all of them).
struct HeadIndex(reach::HeadIndex);

impl HeadIndex {
    fn new(regions: &[Region]) -> HeadIndex {
        HeadIndex(reach::HeadIndex::new(regions, |_| true))
    }

    /// Regions with a piece whose head is compatible with one of `region`'s, ascending.
    fn candidates(&self, region: &Region) -> Vec<usize> {
        let mut found = Vec::new();
        self.0.candidates(region, &mut found);
        found
    }
}

fn domain(view: View) -> Domain {
    view.domain()
}

fn overlaps(a: &[Piece], b: &[Piece], domain: Domain) -> bool {
    a.iter().any(|mine| {
        b.iter()
            .any(|theirs| intersects(&mine.include, &theirs.include, domain))
    })
}

/// Everything that decides what a rule means, without where it was written: two rules with
/// equal keys answer every request alike.
pub fn rule_key(rule: &MergedRule) -> String {
    // Read covers the conditions of every operation and the parameters, list adds pagination
    // and the key filter, subscribe its event types.
    let conditions: Vec<Value> = [Capability::Read, Capability::List, Capability::Subscribe]
        .iter()
        .map(|capability| conditions_json(rule, *capability))
        .collect();
    format!(
        "{:?}|{}|{}|{}",
        rule.pattern.kind,
        rule.pattern.normalized,
        rule.capabilities.bits(),
        Value::Array(conditions)
    )
}

/// Parameter constraints apply to these operations only (spec 3.6 step 6).
fn parameters_apply(capability: Capability) -> bool {
    matches!(
        capability,
        Capability::Read
            | Capability::Create
            | Capability::Update
            | Capability::Patch
            | Capability::Recover
    )
}

fn param_value_json(value: &crate::policy::ParamValue) -> Value {
    use crate::policy::ParamValue;
    match value {
        ParamValue::Null => Value::Null,
        ParamValue::Str(text) => json!(text),
        ParamValue::Int(number) => json!({"int": number}),
        ParamValue::Float(number) => json!({"float": number}),
        ParamValue::Bool(flag) => json!(flag),
        ParamValue::List(items) => Value::Array(items.iter().map(param_value_json).collect()),
        ParamValue::Map(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), param_value_json(value)))
                .collect(),
        ),
    }
}

fn param_map_json(map: &Option<crate::policy::ParamMap>) -> Value {
    match map {
        None => Value::Null,
        Some(map) => Value::Object(
            map.iter()
                .map(|(key, entry)| {
                    let values: Vec<Value> = entry
                        .values
                        .iter()
                        .map(|value| param_value_json(&value.value))
                        .collect();
                    (key.clone(), Value::Array(values))
                })
                .collect(),
        ),
    }
}

/// The conditions the ACL checks after choosing `rule`, for requests needing `capability`,
/// without spans: equal values mean equal checks. Only the conditions that apply to the
/// capability are included (parameters to read/create/update/patch/recover, pagination and
/// the key filter to list/scan, event types to subscribe; wrapping TTLs, MFA and control
/// groups to every operation).
pub fn conditions_json(rule: &MergedRule, capability: Capability) -> Value {
    let mut conditions = serde_json::Map::new();
    if parameters_apply(capability) {
        if rule.extra().allowed_parameters.is_some() {
            conditions.insert(
                "allowed_parameters".into(),
                param_map_json(&rule.extra().allowed_parameters),
            );
        }
        if rule.extra().denied_parameters.is_some() {
            conditions.insert(
                "denied_parameters".into(),
                param_map_json(&rule.extra().denied_parameters),
            );
        }
        if !rule.extra().required_parameters.is_empty() {
            conditions.insert(
                "required_parameters".into(),
                json!(rule.extra().required_parameters),
            );
        }
    }
    if rule.extra().min_wrapping_ttl > 0 {
        conditions.insert(
            "min_wrapping_ttl".into(),
            json!(rule.extra().min_wrapping_ttl),
        );
    }
    if rule.extra().max_wrapping_ttl > 0 {
        conditions.insert(
            "max_wrapping_ttl".into(),
            json!(rule.extra().max_wrapping_ttl),
        );
    }
    if !rule.extra().mfa_methods.is_empty() {
        conditions.insert("mfa_methods".into(), json!(rule.extra().mfa_methods));
    }
    if let Some(group) = &rule.extra().control_group {
        let factors: Vec<Value> = group
            .factors
            .iter()
            .map(|factor| {
                json!({
                    "name": factor.name,
                    "group_names": factor.group_names,
                    "group_ids": factor.group_ids,
                    "approvals": factor.approvals,
                    "controlled_capabilities": factor.controlled_capabilities,
                })
            })
            .collect();
        let ttl = group.ttl.as_ref().map(|ttl| ttl.value);
        conditions.insert(
            "control_group".into(),
            json!({"ttl": ttl, "factors": factors}),
        );
    }
    if matches!(capability, Capability::List | Capability::Scan) {
        if rule.extra().pagination_limit > 0 {
            conditions.insert(
                "pagination_limit".into(),
                json!(rule.extra().pagination_limit),
            );
        }
        if let Some(filter) = &rule.extra().list_scan_response_keys_filter_path {
            conditions.insert("list_scan_response_keys_filter_path".into(), json!(filter));
        }
    }
    if capability == Capability::Subscribe && !rule.extra().subscribe_event_types.is_empty() {
        conditions.insert(
            "subscribe_event_types".into(),
            json!(rule.extra().subscribe_event_types),
        );
    }
    Value::Object(conditions)
}

/// Capabilities a view decides, valid for either target.
fn view_capabilities(view: View, targets: [Target; 2]) -> Vec<Capability> {
    REPORT_ORDER
        .into_iter()
        .filter(|capability| View::for_capability(*capability) == view)
        .filter(|capability| targets.iter().any(|target| capability.valid_for(*target)))
        .collect()
}

/// What a side holds on a (sub-)cell: the deciding rule's capabilities, none for deny, none
/// on a root-protected path unless the rule also grants sudo.
fn effective(rule: Option<&MergedRule>, protected: bool) -> CapSet {
    let Some(rule) = rule else {
        return CapSet::EMPTY;
    };
    let capabilities = rule.capabilities;
    if capabilities.is_deny() || (protected && !capabilities.contains(Capability::Sudo)) {
        return CapSet::EMPTY;
    }
    capabilities
}

/// Whether the side's answer on a cell depends on root protection.
fn sudo_matters(rule: Option<&MergedRule>) -> bool {
    rule.is_some_and(|rule| {
        !rule.capabilities.is_deny()
            && !rule.capabilities.is_empty()
            && !rule.capabilities.contains(Capability::Sudo)
    })
}

/// Region identity across sides: origin, pieces and the rule's meaning.
type RegionKey = (String, Vec<(Seq, Vec<Seq>)>, String);

fn region_key(side: &SideView<'_>, region: &Region) -> RegionKey {
    (
        format!("{:?}", region.origin),
        region
            .pieces
            .iter()
            .map(|piece| (piece.include.clone(), piece.exclude.clone()))
            .collect(),
        rule_key(side.rule(region)),
    )
}

/// Inputs common to every cell of one view diff.
pub struct ViewDiff<'a> {
    pub view: View,
    pub base: SideView<'a>,
    pub head: SideView<'a>,
    /// `--under`: only paths starting with this prefix.
    pub scope: Option<Vec<Piece>>,
    pub hints: &'a Hints,
}

/// The `--under` scope as a piece.
pub fn scope_pieces(prefix: &str) -> Vec<Piece> {
    vec![Piece {
        include: Seq::literal(prefix.trim_start_matches('/')).then(Token::Any),
        exclude: Vec::new(),
    }]
}

impl ViewDiff<'_> {
    /// Every change of the view, cell by cell. `next_cell` numbers the cells across calls.
    ///
    /// Cost: with D regions that differ between the sides (of R in all), O(D × k) candidate
    /// cells for k regions overlapping each, each costing O(k) overlap tests and one witness
    /// search; regions present on both sides are never paired with each other.
    pub fn changes(&self, next_cell: &mut usize) -> Result<Vec<Change>, Undecided> {
        let view = self.view;
        let domain = domain(view);
        let base_regions = self.base.regions(view);
        let head_regions = self.head.regions(view);
        let base_index = HeadIndex::new(base_regions);
        let head_index = HeadIndex::new(head_regions);
        let same_sudo = self.base.sudo_key == self.head.sudo_key;
        let shared = |side: &SideView<'_>, regions: &[Region], other: &HashMap<RegionKey, ()>| {
            regions
                .iter()
                .map(|region| same_sudo && other.contains_key(&region_key(side, region)))
                .collect::<Vec<bool>>()
        };
        let base_keys: HashMap<RegionKey, ()> = base_regions
            .iter()
            .map(|region| (region_key(&self.base, region), ()))
            .collect();
        let head_keys: HashMap<RegionKey, ()> = head_regions
            .iter()
            .map(|region| (region_key(&self.head, region), ()))
            .collect();
        let base_shared = shared(&self.base, base_regions, &head_keys);
        let head_shared = shared(&self.head, head_regions, &base_keys);
        let in_scope = |region: &Region| {
            self.scope
                .as_ref()
                .is_none_or(|scope| overlaps(&region.pieces, scope, domain))
        };
        let mut cells: BTreeSet<(Option<usize>, Option<usize>)> = BTreeSet::new();
        for (h, region) in head_regions.iter().enumerate() {
            if head_shared[h] || !in_scope(region) {
                continue;
            }
            cells.insert((None, Some(h)));
            for b in base_index.candidates(region) {
                if overlaps(&base_regions[b].pieces, &region.pieces, domain) {
                    cells.insert((Some(b), Some(h)));
                }
            }
        }
        for (b, region) in base_regions.iter().enumerate() {
            if base_shared[b] || !in_scope(region) {
                continue;
            }
            cells.insert((Some(b), None));
            for h in head_index.candidates(region) {
                if overlaps(&head_regions[h].pieces, &region.pieces, domain) {
                    cells.insert((Some(b), Some(h)));
                }
            }
        }
        let mut changes = Vec::new();
        for (b, h) in cells {
            let cell = Cell {
                diff: self,
                base_index: &base_index,
                head_index: &head_index,
                b,
                h,
            };
            changes.extend(cell.changes(next_cell)?);
        }
        Ok(changes)
    }
}

/// One candidate cell.
struct Cell<'a, 'b> {
    diff: &'a ViewDiff<'b>,
    base_index: &'a HeadIndex,
    head_index: &'a HeadIndex,
    b: Option<usize>,
    h: Option<usize>,
}

impl Cell<'_, '_> {
    /// The regions that take paths out of the cell: on each side, those ranked above the
    /// side's decider (all of them when the side has none) that overlap the cell's regions.
    fn exceptions(&self) -> Vec<Exception> {
        let view = self.diff.view;
        let domain = domain(view);
        let base_regions = self.diff.base.regions(view);
        let head_regions = self.diff.head.regions(view);
        let deciders: Vec<&Region> = [
            self.b.map(|b| &base_regions[b]),
            self.h.map(|h| &head_regions[h]),
        ]
        .into_iter()
        .flatten()
        .collect();
        let meets_all = |region: &Region| {
            deciders
                .iter()
                .all(|decider| overlaps(&region.pieces, &decider.pieces, domain))
        };
        let mut found = Vec::new();
        let sides = [
            (Side::Base, self.b, base_regions, self.base_index),
            (Side::Head, self.h, head_regions, self.head_index),
        ];
        for (side, decider, regions, index) in sides {
            let Some(anchor) = deciders.first() else {
                continue;
            };
            let above = decider.unwrap_or(regions.len());
            for candidate in index.candidates(anchor) {
                if candidate < above && meets_all(&regions[candidate]) {
                    found.push(Exception {
                        side,
                        region: candidate,
                    });
                }
            }
        }
        found
    }

    fn decider_pieces(&self) -> Vec<&[Piece]> {
        let view = self.diff.view;
        let base = self
            .b
            .map(|b| self.diff.base.regions(view)[b].pieces.as_slice());
        let head = self
            .h
            .map(|h| self.diff.head.regions(view)[h].pieces.as_slice());
        [base, head].into_iter().flatten().collect()
    }

    fn changes(&self, next_cell: &mut usize) -> Result<Vec<Change>, Undecided> {
        let view = self.diff.view;
        let (base, head) = (&self.diff.base, &self.diff.head);
        let base_rule = self.b.map(|b| base.rule(&base.regions(view)[b]));
        let head_rule = self.h.map(|h| head.rule(&head.regions(view)[h]));
        let deciders = self.decider_pieces();
        let touches = |side: &SideView<'_>| {
            deciders
                .iter()
                .all(|pieces| overlaps(pieces, side.sudo, domain(view)))
        };
        let split_base = sudo_matters(base_rule) && touches(base);
        let split_head = sudo_matters(head_rule) && touches(head);
        let same_sudo = base.sudo_key == head.sudo_key;
        let options = |split: bool| -> Vec<Option<bool>> {
            if split {
                vec![Some(true), Some(false)]
            } else {
                vec![None]
            }
        };
        let mut parts = Vec::new();
        for sudo_base in options(split_base || (same_sudo && split_head)) {
            for sudo_head in options(split_head || (same_sudo && split_base)) {
                if same_sudo && sudo_base.is_some() && sudo_head.is_some() && sudo_base != sudo_head
                {
                    continue;
                }
                parts.push((sudo_base, sudo_head));
            }
        }
        let targets = [base.reach.target, head.reach.target];
        let capabilities = view_capabilities(view, targets);
        let mut except: Option<Vec<Exception>> = None;
        let mut found = Vec::new();
        for (sudo_base, sudo_head) in parts {
            let held_base = effective(base_rule, sudo_base == Some(true));
            let held_head = effective(head_rule, sudo_head == Some(true));
            let kinds: Vec<(ChangeKind, Capability)> = capabilities
                .iter()
                .filter_map(|capability| {
                    let before = held_base.contains(*capability);
                    let after = held_head.contains(*capability);
                    let kind = match (before, after) {
                        (false, true) => ChangeKind::Gained,
                        (true, false) => ChangeKind::Lost,
                        (true, true) => {
                            let (Some(b), Some(h)) = (base_rule, head_rule) else {
                                return None;
                            };
                            if conditions_json(b, *capability) == conditions_json(h, *capability) {
                                return None;
                            }
                            ChangeKind::Changed
                        }
                        (false, false) => return None,
                    };
                    Some((kind, *capability))
                })
                .collect();
            if kinds.is_empty() {
                continue;
            }
            let except = except.get_or_insert_with(|| self.exceptions());
            let Some(witness) = self.witness(except, sudo_base, sudo_head)? else {
                continue;
            };
            let cell = *next_cell;
            *next_cell += 1;
            for (kind, capability) in kinds {
                found.push(Change {
                    kind,
                    capability,
                    view,
                    base: self.b,
                    head: self.h,
                    except: except.clone(),
                    sudo_base,
                    sudo_head,
                    witness: witness.clone(),
                    cell,
                });
            }
        }
        Ok(found)
    }

    fn witness(
        &self,
        except: &[Exception],
        sudo_base: Option<bool>,
        sudo_head: Option<bool>,
    ) -> Result<Option<String>, Undecided> {
        let view = self.diff.view;
        let (base, head) = (&self.diff.base, &self.diff.head);
        let base_regions = base.regions(view);
        let head_regions = head.regions(view);
        let query = change_query(
            view,
            (base, head),
            self.diff.scope.as_deref(),
            (self.b, self.h),
            except,
            (sudo_base, sudo_head),
        );
        let primary = match (self.h, self.b) {
            (Some(h), _) => &head_regions[h],
            (None, Some(b)) => &base_regions[b],
            (None, None) => return Ok(None),
        };
        let head_bytes = primary
            .pieces
            .iter()
            .map(|piece| reach::head(&piece.include))
            .min()
            .unwrap_or_default();
        let hints = self.diff.hints.under(&head_bytes);
        query.witness(&hints).map_err(|_| {
            let pattern = |regions: &[Region], index: Option<usize>| {
                index.map_or_else(|| "*".to_string(), |at| regions[at].pattern.clone())
            };
            Undecided {
                base: pattern(base_regions, self.b),
                head: pattern(head_regions, self.h),
                view,
            }
        })
    }
}

/// The paths of one (sub-)cell: in the deciding regions (`None`: in no region of that side),
/// in the scope, in no exception, and inside (`Some(true)`) or outside (`Some(false)`) each
/// side's root-protected paths.
pub fn change_query<'a>(
    view: View,
    (base, head): (&SideView<'a>, &SideView<'a>),
    scope: Option<&'a [Piece]>,
    (b, h): (Option<usize>, Option<usize>),
    except: &[Exception],
    (sudo_base, sudo_head): (Option<bool>, Option<bool>),
) -> Query<'a> {
    let base_regions: &'a [Region] = &base.reach.view(view).regions;
    let head_regions: &'a [Region] = &head.reach.view(view).regions;
    let mut query = Query::new(domain(view));
    if let Some(b) = b {
        query.inside.push(&base_regions[b].pieces);
    }
    if let Some(h) = h {
        query.inside.push(&head_regions[h].pieces);
    }
    if let Some(scope) = scope {
        query.inside.push(scope);
    }
    for exception in except {
        let regions = match exception.side {
            Side::Base => base_regions,
            Side::Head => head_regions,
        };
        query.outside.push(&regions[exception.region].pieces);
    }
    for (protected, side) in [(sudo_base, base), (sudo_head, head)] {
        match protected {
            Some(true) => query.inside.push(side.sudo),
            Some(false) => query.outside.push(side.sudo),
            None => {}
        }
    }
    query
}
