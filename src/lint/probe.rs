//! Probing sensitive areas: fixed witness paths of an area plus witnesses derived from the
//! policy's own patterns, each asked of the policy's ACL (as the synthetic holder of a
//! templated policy), so that a carve-out (a more specific deny) is respected and the
//! finding points at the block that actually wins.

use std::collections::BTreeMap;

use crate::acl::FastSet;
use crate::acl::Operation;
use crate::diag::{Diagnostic, Severity};
use crate::lint::context::literal_first_segment;
use crate::lint::holder::{allowing_specific_block, with_trailing_slash};
use crate::lint::matching::{instances, pattern_matches, FILLER};
use crate::lint::wording::{diagnostic_at, lower, ticked};
use crate::lint::{PolicyContext, RuleMeta};
use crate::policy::PathPattern;
use crate::span::Span;

/// One sensitive area: paths matching `pattern`, and the operations that make access to them
/// dangerous. `witness` is a concrete path of the area that no narrowly written rule is
/// expected to hit (used as the fixed probe and to fill `+` segments of derived ones).
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub pattern: &'static str,
    pub witness: &'static str,
    pub operations: &'static [Operation],
    /// Whether the area's endpoints need a name after its literal start (`sys/policy/<name>`):
    /// the bare start itself (`sys/policy/`) is then not a witness.
    pub needs_name: bool,
}

impl Area {
    pub const fn new(
        pattern: &'static str,
        witness: &'static str,
        operations: &'static [Operation],
    ) -> Area {
        Area {
            pattern,
            witness,
            operations,
            needs_name: false,
        }
    }

    /// An area of named objects: a write to its bare prefix names nothing and fails.
    pub const fn named(
        pattern: &'static str,
        witness: &'static str,
        operations: &'static [Operation],
    ) -> Area {
        Area {
            needs_name: true,
            ..Area::new(pattern, witness, operations)
        }
    }

    /// Whether `path` is the bare literal start of a named area (`sys/policy/`).
    fn names_nothing(&self, path: &str) -> bool {
        self.needs_name && path.ends_with('/') && Some(path) == self.pattern.strip_suffix('*')
    }
}

/// What a holder of the policy can do in an area, per winning block.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The winning block's label span.
    pub span: Span,
    /// The area that was reached.
    pub area: Area,
    /// Operations allowed on `witness`, in the area's order.
    pub operations: Vec<Operation>,
    /// A concrete path the holder can act on.
    pub witness: String,
    /// Whether the area's own fixed witness was reached (the grant covers the whole area,
    /// not only paths named in the policy).
    pub broad: bool,
    /// Whether the winning block is templated (its paths depend on the holder's identity,
    /// shown as [`crate::lint::synthetic_identity::SELF`]).
    pub templated: bool,
}

impl Finding {
    /// "grants `update`, `create` on `sys/policies/acl/anything`".
    pub fn what(&self) -> String {
        format!(
            "grants {} on `{}`",
            ticked(self.operations.iter().map(|op| op.name())),
            self.witness
        )
    }

    /// "grants `update` on `sys/seal`: EFFECT".
    pub fn message(&self, effect: &str) -> String {
        format!("{}: {effect}", self.what())
    }

    /// `severity` when the grant covers names the policy never wrote, one step lower when it
    /// is limited to names the policy spells out.
    pub fn scaled(&self, severity: Severity) -> Severity {
        if self.broad {
            return severity;
        }
        lower(severity)
    }
}

/// Probes every area: the fixed witness, plus instances of each of the policy's patterns that
/// fall in the area; each asked of the policy's ACL for each dangerous operation. Returns one
/// finding per winning block of this policy, in source order. Only blocks whose first segment
/// can be the area's are looked at (the index groups them by first segment).
/// Cost: O(areas × (candidate blocks × pattern length + witnesses × operations ACL decisions)).
pub fn probe(ctx: &PolicyContext<'_>, areas: &[Area]) -> Vec<Finding> {
    // With templated rules, probe as a holder whose entity makes every template resolve.
    let holder = ctx.with_acl(ctx.index.holder_acl().unwrap_or(ctx.acl));
    let ctx = &holder;
    let substituted = ctx.index.substituted_patterns(ctx.acl);
    let mut findings: BTreeMap<usize, Finding> = BTreeMap::new();
    for area in areas {
        for (path, broad) in witnesses(ctx, area, substituted.patterns()) {
            probe_path(ctx, area, &path, broad, &mut findings);
        }
    }
    findings.into_values().collect()
}

/// The fixed witness first, then derived ones (deduplicated), from the granting blocks in
/// source order, then the templated blocks as the holder's ACL substituted them.
fn witnesses(
    ctx: &PolicyContext<'_>,
    area: &Area,
    substituted: &[PathPattern],
) -> Vec<(String, bool)> {
    let mut out = vec![(area.witness.to_string(), true)];
    let Ok(area_pattern) = PathPattern::parse(area.pattern) else {
        return out;
    };
    let first = literal_first_segment(&area_pattern);
    let mut seen: FastSet<String> = FastSet::default();
    seen.insert(area.witness.to_string());
    let rules = &ctx.policy.rules;
    let plain = ctx.index.witness_sources().granting.candidates(first);
    let plain = plain
        .iter()
        .filter_map(|&index| rules[index].pattern.as_ref());
    let templated = substituted.iter().filter(|pattern| {
        first.is_none() || literal_first_segment(pattern).is_none_or(|f| Some(f) == first)
    });
    for pattern in plain.chain(templated) {
        for path in instances(pattern, area.witness) {
            let fits = pattern_matches(&area_pattern, &path) && !area.names_nothing(&path);
            if fits && !seen.contains(&path) {
                seen.insert(path.clone());
                // A filler segment means the grant covers names the policy never wrote.
                let broad = path.split('/').any(|segment| segment == FILLER);
                out.push((path, broad));
            }
        }
    }
    out
}

fn probe_path(
    ctx: &PolicyContext<'_>,
    area: &Area,
    path: &str,
    broad: bool,
    findings: &mut BTreeMap<usize, Finding>,
) {
    for operation in area.operations {
        let request_path = if operation.is_listing() {
            with_trailing_slash(path)
        } else {
            path.to_string()
        };
        let Some(span) = allowing_specific_block(ctx, *operation, &request_path) else {
            continue;
        };
        let templated = ctx
            .rule_at_label(span)
            .is_some_and(|rule| rule.is_templated());
        let finding = findings.entry(span.start).or_insert_with(|| Finding {
            span,
            area: *area,
            operations: Vec::new(),
            witness: request_path.clone(),
            broad,
            templated,
        });
        // Keep the witness of the first (broadest) probe; collect its operations.
        if finding.witness == request_path && !finding.operations.contains(operation) {
            finding.operations.push(*operation);
        }
        if broad && !finding.broad {
            *finding = Finding {
                span,
                area: *area,
                operations: vec![*operation],
                witness: request_path.clone(),
                broad,
                templated,
            };
        }
    }
}

/// What a security rule reports about its sensitive areas: the areas it probes, and the
/// label and help of its diagnostics (the rule file keeps only its wording).
#[derive(Clone, Copy, Debug)]
pub struct AreaProbe {
    pub areas: &'static [Area],
    pub label: &'static str,
    pub help: &'static str,
}

impl AreaProbe {
    /// Probes the areas and reports each finding as "grants OPS on `WITNESS`: EFFECT", at the
    /// rule's severity when the grant covers names the policy never wrote, one step lower
    /// otherwise.
    pub fn report_effects<'e>(
        &self,
        meta: &RuleMeta,
        ctx: &PolicyContext<'_>,
        effect: impl Fn(&Finding) -> &'e str,
        out: &mut Vec<Diagnostic>,
    ) {
        self.report(
            meta,
            ctx,
            |finding| {
                (
                    finding.message(effect(finding)),
                    finding.scaled(meta.severity),
                )
            },
            out,
        );
    }

    /// Probes the areas and reports each finding with the message and severity `describe`
    /// gives.
    pub fn report(
        &self,
        meta: &RuleMeta,
        ctx: &PolicyContext<'_>,
        describe: impl Fn(&Finding) -> (String, Severity),
        out: &mut Vec<Diagnostic>,
    ) {
        for finding in probe(ctx, self.areas) {
            let (message, severity) = describe(&finding);
            out.push(
                diagnostic_at(meta, severity, finding.span, message)
                    .with_label(self.label)
                    .with_help(self.help),
            );
        }
    }
}
