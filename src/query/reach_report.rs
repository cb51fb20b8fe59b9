//! `reach` output: human text and JSON (`version` 1).

use serde_json::{json, Value};

use super::reach::{conditions, CapabilityReach, Grant, Origin, Reach, Region, View};
use crate::acl::{MergedRule, RuleSource};
use crate::endpoints::{MountMap, Named};
use crate::inventory::Subject;
use crate::policy::{Capability, PatternKind};

/// JSON output version.
pub const JSON_VERSION: u32 = 1;

/// What the answer means, stated once in both formats.
pub const MEANING: &str = "a path holds a capability exactly when it matches one of the patterns \
listed under that capability and none of that pattern's exceptions; a trailing `*` matches any \
rest of the path, `+` any one segment (possibly empty); list and scan describe LIST/SCAN \
requests, whose paths end in `/`; derived from the rules, not sampled; rules marked `if ...` \
are further subject to parameter, response-wrapping or pagination checks, which `explain` \
evaluates per request; sudo-protected paths also need `sudo` on the deciding rule";

/// The question's frame: who, with which policies, and how mounts are known.
pub struct Header<'a> {
    pub subject: &'a Subject,
    pub policies: &'a [String],
    /// Mount kinds for naming the endpoints of each region.
    pub mounts: &'a MountMap<'a>,
    /// The namespace asked in (`""`: root); region patterns are full paths, mounts are
    /// named relative to it.
    pub namespace: &'a str,
}

/// Endpoints shown per region in the human form (the JSON lists them all).
const ENDPOINTS_SHOWN: usize = 3;

/// The endpoints a region reaches for `capability`.
fn region_endpoints(
    header: &Header<'_>,
    region: &Region,
    capability: Option<Capability>,
) -> Vec<Named> {
    let pattern = region
        .pattern
        .strip_prefix(header.namespace)
        .unwrap_or(&region.pattern);
    crate::endpoints::named_by_pattern(header.mounts, pattern, capability)
}

fn endpoint_lines(out: &mut String, endpoints: &[Named]) {
    if endpoints.is_empty() {
        return;
    }
    let shown: Vec<String> = endpoints
        .iter()
        .take(ENDPOINTS_SHOWN)
        .map(Named::words)
        .collect();
    let more = endpoints.len().saturating_sub(ENDPOINTS_SHOWN);
    let noun = if endpoints.len() == 1 {
        "endpoint"
    } else {
        "endpoints"
    };
    let tail = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    out.push_str(&format!("    {noun}: {}{tail}\n", shown.join("; ")));
}

/// `file:line:column` of a block's pattern.
pub fn location(source: &RuleSource) -> String {
    let (line, column) = source.line_col();
    format!("{}:{line}:{column}", source.file.name)
}

/// The blocks of a rule that granted `capability` (all blocks when none did, e.g. deny).
pub fn granting_sources(rule: &MergedRule, capability: Option<Capability>) -> Vec<&RuleSource> {
    let granting: Vec<&RuleSource> = rule
        .sources
        .iter()
        .filter(|source| capability.is_some_and(|c| source.capabilities.contains(c)))
        .collect();
    if granting.is_empty() {
        rule.sources.iter().collect()
    } else {
        granting
    }
}

fn sources_words(sources: &[&RuleSource]) -> String {
    sources
        .iter()
        .map(|source| format!("`{}` at {}", source.policy, location(source)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn region_pattern(region: &Region, rule: &MergedRule) -> String {
    let lists_trimmed = region.origin == Origin::Pooled
        && rule.pattern.kind == PatternKind::SegmentWildcard
        && !rule.pattern.normalized.ends_with('*');
    match region.origin {
        Origin::ExactTrimmed => format!(
            "`{}` (LIST falls back to the exact rule `{}`)",
            region.pattern, rule.pattern.normalized
        ),
        Origin::NonExactTrimmed => format!(
            "`{}` (LIST fallback to `{}` when no rule matches the path with its `/`)",
            region.pattern, rule.pattern.normalized
        ),
        _ if lists_trimmed => format!("`{}` (and LIST `{}/`)", region.pattern, region.pattern),
        _ => format!("`{}`", region.pattern),
    }
}

fn capability_title(answer: &CapabilityReach<'_>) -> String {
    match answer.view {
        View::Listing => format!(
            "{} (LIST/SCAN requests; paths end in `/`)",
            answer.capability
        ),
        View::Request => answer.capability.to_string(),
    }
}

fn grant_lines(
    out: &mut String,
    header: &Header<'_>,
    reach: &Reach,
    grant: &Grant<'_>,
    capability: Capability,
) {
    let sources = granting_sources(grant.rule, Some(capability));
    let condition_words: Vec<&str> = conditions(grant.rule)
        .iter()
        .map(|c| c.describe())
        .collect();
    let conditional = if condition_words.is_empty() {
        String::new()
    } else {
        format!(" if {}", condition_words.join(", "))
    };
    out.push_str(&format!(
        "  {}{conditional}\n    granted by {}\n",
        region_pattern(grant.region, grant.rule),
        sources_words(&sources)
    ));
    endpoint_lines(
        out,
        &region_endpoints(header, grant.region, Some(capability)),
    );
    let excluded = grant.region.excluded_prefixes();
    if !excluded.is_empty() {
        // Vault's pooled LIST resolver only considers the longest matching prefix rule.
        let shown: Vec<String> = excluded.iter().map(|p| format!("`{p}`")).collect();
        out.push_str(&format!(
            "    except where a longer prefix rule matches (Vault's LIST resolver then ignores this one): {}\n",
            shown.join(", ")
        ));
    }
    for exception in &grant.exceptions {
        let rule = &reach.rules[exception.rule];
        let excluded = exception.excluded_prefixes();
        let unless = if excluded.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = excluded.iter().map(|p| format!("`{p}`")).collect();
            format!(
                " where no longer prefix rule ({}) matches",
                shown.join(", ")
            )
        };
        let what = if rule.capabilities.is_deny() {
            "deny".to_string()
        } else {
            format!(
                "[{}]",
                rule.capabilities
                    .iter()
                    .map(Capability::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push_str(&format!(
            "    except {}{unless}: {what} by {}\n",
            region_pattern(exception, rule),
            sources_words(&granting_sources(rule, None))
        ));
    }
}

/// The human rendering of the answers.
pub fn render_human(header: &Header<'_>, reach: &Reach, answers: &[CapabilityReach<'_>]) -> String {
    let mut out = format!(
        "reach of {} (target {})\n",
        super::explain::subject_words(header.subject, header.policies),
        reach.target
    );
    if reach.root {
        out.push_str("\nthe token holds `root`: every capability on every path\n");
        return out;
    }
    let mut any = false;
    for answer in answers.iter().filter(|answer| !answer.grants.is_empty()) {
        any = true;
        out.push_str(&format!("\n{}\n", capability_title(answer)));
        for grant in &answer.grants {
            grant_lines(&mut out, header, reach, grant, answer.capability);
        }
    }
    if !any {
        out.push_str("\nno capability on any path\n");
    }
    out.push_str(&format!("\nmeaning: {MEANING}\n"));
    out
}

fn region_json(reach: &Reach, region: &Region, capability: Option<Capability>) -> Value {
    let rule = &reach.rules[region.rule];
    let sources: Vec<Value> = granting_sources(rule, capability)
        .into_iter()
        .map(RuleSource::location_json)
        .collect();
    json!({
        "pattern": region.pattern,
        "origin": region.origin,
        "rule": rule.pattern.normalized,
        "capabilities": rule.capabilities.iter().map(Capability::name).collect::<Vec<_>>(),
        "conditions": conditions(rule),
        "excluding_longer_prefixes": region.excluded_prefixes(),
        "sources": sources,
    })
}

/// The JSON rendering (`version` 1).
pub fn render_json(header: &Header<'_>, reach: &Reach, answers: &[CapabilityReach<'_>]) -> Value {
    let capabilities: Vec<Value> = answers
        .iter()
        .map(|answer| {
            let regions: Vec<Value> = answer
                .grants
                .iter()
                .map(|grant| {
                    let mut region = region_json(reach, grant.region, Some(answer.capability));
                    region["endpoints"] = json!(region_endpoints(
                        header,
                        grant.region,
                        Some(answer.capability)
                    ));
                    let except: Vec<Value> = grant
                        .exceptions
                        .iter()
                        .map(|exception| region_json(reach, exception, None))
                        .collect();
                    region["except"] = json!(except);
                    region
                })
                .collect();
            json!({
                "capability": answer.capability.name(),
                "requests": answer.view,
                "regions": regions,
            })
        })
        .collect();
    json!({
        "version": JSON_VERSION,
        "subject": {"kind": header.subject.kind(), "name": header.subject.name()},
        "policies": header.policies,
        "target": reach.target.name(),
        "root": reach.root,
        "meaning": MEANING,
        "capabilities": capabilities,
    })
}
