//! `diff` output, one file per format. The pieces every format shares live here: how a
//! change's region, deciding rules and exceptions are described.

pub mod github;
pub mod human;
pub mod json;
pub mod markdown;
pub mod sarif;

use super::{Change, ChangeKind, Diff, Exception, Side, SubjectDiff};
use crate::acl::MergedRule;
use crate::policy::Capability;
use crate::query::reach::{Origin, Region, View};

/// JSON output version.
pub const JSON_VERSION: u32 = 1;

/// What the answer means, stated once in the human and JSON formats.
pub const MEANING: &str = "a path holds a capability on HEAD and not on BASE exactly when it \
lies in a region reported as gained (lost: the reverse; changed: held on both sides under \
different conditions); a region is the paths matching its pattern and the other side's \
deciding pattern it lies `within`, and none of its exceptions; `+` is one segment, a trailing \
`*` any rest; list and scan describe LIST/SCAN requests, whose paths end in `/`; derived from \
the rules, not sampled";

/// The two sides as the user named them.
#[derive(Clone, Debug)]
pub struct Labels {
    pub base: String,
    pub head: String,
}

/// The side whose region a change is described by: HEAD for gained and changed, BASE for
/// lost (or the side that has a decider at all).
pub fn primary_side(change: &Change) -> Side {
    match (change.kind, change.base, change.head) {
        (ChangeKind::Lost, Some(_), _) | (_, Some(_), None) => Side::Base,
        _ => Side::Head,
    }
}

fn region_index(change: &Change, side: Side) -> Option<usize> {
    match side {
        Side::Base => change.base,
        Side::Head => change.head,
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Base => Side::Head,
        Side::Head => Side::Base,
    }
}

pub fn region(subject: &SubjectDiff, side: Side, view: View, index: usize) -> &Region {
    &subject.side(side).reach.view(view).regions[index]
}

/// A region's pattern, with the list fallback it stands for when it is not the rule's own.
pub fn region_pattern(region: &Region, rule: &MergedRule) -> String {
    match region.origin {
        Origin::ExactTrimmed => format!(
            "`{}` (LIST falls back to the exact rule `{}`)",
            region.pattern, rule.pattern.normalized
        ),
        Origin::NonExactTrimmed => format!(
            "`{}` (LIST falls back to `{}` when no rule matches the path with its `/`)",
            region.pattern, rule.pattern.normalized
        ),
        Origin::Pooled if !rule.pattern.normalized.ends_with('*') && !rule.pattern.is_exact() => {
            format!("`{}` (and LIST `{}/`)", region.pattern, region.pattern)
        }
        _ => format!("`{}`", region.pattern),
    }
}

/// The deciding region of a change on its primary side.
pub fn primary_pattern(subject: &SubjectDiff, change: &Change) -> String {
    let side = primary_side(change);
    match region_index(change, side) {
        Some(index) => region(subject, side, change.view, index).pattern.clone(),
        None => "*".to_string(),
    }
}

/// The other side's deciding pattern, if it has one.
pub fn within_pattern(subject: &SubjectDiff, change: &Change) -> Option<String> {
    let side = other(primary_side(change));
    region_index(change, side)
        .map(|index| region(subject, side, change.view, index).pattern.clone())
}

pub use crate::query::reach_report::{granting_sources, location};

pub fn capability_names(rule: &MergedRule) -> Vec<&'static str> {
    if rule.capabilities.is_deny() {
        return vec!["deny"];
    }
    rule.capabilities.iter().map(Capability::name).collect()
}

/// `[read, list]` or `deny`.
pub fn capability_words(rule: &MergedRule) -> String {
    if rule.capabilities.is_deny() {
        return "deny".into();
    }
    format!("[{}]", capability_names(rule).join(", "))
}

/// The deciding rule of a side on a change, in words.
pub fn decider_words(subject: &SubjectDiff, change: &Change, side: Side) -> String {
    let reach = &subject.side(side).reach;
    if let Some(reason) = &subject.side(side).refused {
        return format!("no access: {reason}");
    }
    let Some(index) = region_index(change, side) else {
        return "no rule matches".into();
    };
    let region = &reach.view(change.view).regions[index];
    let rule = &reach.rules[region.rule];
    if reach.root {
        return "the `root` policy (every capability on every path)".into();
    }
    let sources = granting_sources(rule, Some(change.capability));
    let at: Vec<String> = sources
        .iter()
        .map(|source| format!("`{}` at {}", source.policy, location(source)))
        .collect();
    format!(
        "{} by {} in {}",
        capability_words(rule),
        region_pattern(region, rule),
        at.join(", ")
    )
}

/// An exception in words: `secret/data/ai/openai` (base: \[read\] by `ai` at f:1:1).
pub fn exception_words(subject: &SubjectDiff, change: &Change, exception: &Exception) -> String {
    let reach = &subject.side(exception.side).reach;
    let region = &reach.view(change.view).regions[exception.region];
    let rule = &reach.rules[region.rule];
    let sources: Vec<String> = granting_sources(rule, None)
        .iter()
        .map(|source| format!("`{}` at {}", source.policy, location(source)))
        .collect();
    format!(
        "{} ({}: {} in {})",
        region_pattern(region, rule),
        side_name(exception.side),
        capability_words(rule),
        sources.join(", ")
    )
}

pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Base => "base",
        Side::Head => "head",
    }
}

/// Root protection of the cell, in words (empty when it does not matter).
pub fn sudo_words(change: &Change) -> Option<&'static str> {
    match (change.sudo_base, change.sudo_head) {
        (Some(true), _) | (_, Some(true)) => Some("on root-protected paths (sudo needed)"),
        (Some(false), _) | (_, Some(false)) => Some("outside root-protected paths"),
        _ => None,
    }
}

/// Where a change lies, after its capabilities: `` on `p` (LIST/SCAN requests) within `w` ``
/// and the root-protection qualifier.
pub fn region_words(subject: &SubjectDiff, change: &Change) -> String {
    let requests = match change.view {
        View::Listing => " (LIST/SCAN requests)",
        View::Request => "",
    };
    let mut words = format!("on `{}`{requests}", primary_pattern(subject, change));
    if let Some(within) = within_pattern(subject, change) {
        words.push_str(&format!(" within `{within}`"));
    }
    if let Some(sudo) = sudo_words(change) {
        words.push_str(&format!(" {sudo}"));
    }
    words
}

/// One change in one line, for annotations: who, what, where, and the witness.
pub fn change_message(subject: &SubjectDiff, change: &Change) -> String {
    format!(
        "{} {} {} {}, e.g. `{}`",
        subject_title(subject),
        change.kind.name(),
        change.capability.name(),
        region_words(subject, change),
        change.witness
    )
}

/// `no access changed` or the counts.
pub fn summary_line(diff: &Diff) -> String {
    if diff.subjects.is_empty() {
        return format!("no access changed ({} subjects compared)", diff.compared);
    }
    format!(
        "{} of {} subjects changed: {} gained, {} lost, {} changed",
        diff.subjects.len(),
        diff.compared,
        diff.count(ChangeKind::Gained),
        diff.count(ChangeKind::Lost),
        diff.count(ChangeKind::Changed)
    )
}

/// The subject as a title: `role `x``, `policy `p` (new)`, `role `y` in namespace
/// `admin/`` (its paths are then full paths, all starting with the namespace).
pub fn subject_title(subject: &SubjectDiff) -> String {
    let presence = match subject.presence {
        super::Presence::Both => "",
        super::Presence::Added => " (new)",
        super::Presence::Removed => " (removed)",
    };
    let namespace = if subject.namespace.is_empty() {
        String::new()
    } else {
        format!(" in namespace `{}`", subject.namespace)
    };
    match &subject.subject {
        crate::inventory::Subject::Policies(names) if names.len() == 1 => {
            format!("policy `{}`{namespace}{presence}", names[0])
        }
        other => format!("{other}{namespace}{presence}"),
    }
}

/// Changes grouped by cell and kind, in report order: gained, then lost, then changed.
pub fn grouped(subject: &SubjectDiff) -> Vec<Vec<&Change>> {
    let mut groups: Vec<Vec<&Change>> = Vec::new();
    let mut order: Vec<&Change> = subject.changes.iter().collect();
    order.sort_by_key(|change| (change.kind, change.cell, change.capability));
    for change in order {
        match groups.last_mut() {
            Some(group) if group[0].cell == change.cell && group[0].kind == change.kind => {
                group.push(change)
            }
            _ => groups.push(vec![change]),
        }
    }
    groups
}
