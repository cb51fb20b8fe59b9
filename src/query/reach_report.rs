//! `reach` output: human text and JSON (`version` 2).

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::reach::{conditions, CapabilityReach, Grant, Origin, Reach, Region, View};
use crate::acl::{MergedRule, RuleSource};
use crate::endpoints::{MountMap, Named};
use crate::inventory::Subject;
use crate::policy::{Capability, PatternKind};

/// JSON output version.
pub const JSON_VERSION: u32 = 2;

/// What the answer means, stated once in both formats.
pub const MEANING: &str = "a path holds a capability exactly when it matches one of the patterns \
listed under that capability and none of that pattern's exceptions; a trailing `*` matches any \
rest of the path, `+` any one segment (possibly empty); list and scan describe LIST/SCAN \
requests, whose paths end in `/`; derived from the rules, not sampled; rules marked `if ...` \
are further subject to parameter, response-wrapping or pagination checks, which `explain` \
evaluates per request; sudo-protected paths also need `sudo` on the deciding rule";

/// What the JSON answer means: each capability's exceptions are a table printed once, which
/// its regions name by id or take the first entries of (linear in the rules).
pub const JSON_MEANING: &str = "a path holds a capability exactly when it matches one of the \
regions listed under that capability and none of that region's exceptions: the entries of the \
capability's `exceptions` table whose ids the region's `except` lists, and the first \
`except_first` entries of that table (ordered highest rank first: a region with many candidates \
takes every possible exception ranked above it); a trailing `*` matches any rest of the path, \
`+` any one segment (possibly empty); list and scan describe LIST/SCAN requests, whose paths end \
in `/`; derived from the rules, not sampled; rules with `conditions` are further subject to \
parameter, response-wrapping or pagination checks, which `explain` evaluates per request; \
sudo-protected paths also need `sudo` on the deciding rule";

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

fn endpoint_lines(out: &mut dyn Write, endpoints: &[Named]) -> io::Result<()> {
    if endpoints.is_empty() {
        return Ok(());
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
    writeln!(out, "    {noun}: {}{tail}", shown.join("; "))
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
    out: &mut dyn Write,
    header: &Header<'_>,
    reach: &Reach,
    answer: &CapabilityReach<'_>,
    grant: &Grant<'_>,
) -> io::Result<()> {
    let capability = answer.capability;
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
    writeln!(
        out,
        "  {}{conditional}\n    granted by {}",
        region_pattern(grant.region, grant.rule),
        sources_words(&sources)
    )?;
    endpoint_lines(
        out,
        &region_endpoints(header, grant.region, Some(capability)),
    )?;
    let excluded = grant.region.excluded_prefixes();
    if !excluded.is_empty() {
        // Vault's pooled LIST resolver only considers the longest matching prefix rule.
        let shown: Vec<String> = excluded.iter().map(|p| format!("`{p}`")).collect();
        writeln!(
            out,
            "    except where a longer prefix rule matches (Vault's LIST resolver then ignores this one): {}",
            shown.join(", ")
        )?;
    }
    for exception in grant.except.iter().map(|&id| answer.exceptions[id]) {
        exception_line(out, reach, exception, "    except ")?;
    }
    match grant.except_first {
        0 => Ok(()),
        1 => writeln!(
            out,
            "    except exception 1 of the ranked exceptions below (the one ranked above it)"
        ),
        n => writeln!(
            out,
            "    except exceptions 1 to {n} of the ranked exceptions below (all those ranked above it)"
        ),
    }
}

/// One exception: its pattern, its rule's capabilities and where the rule comes from.
fn exception_line(
    out: &mut dyn Write,
    reach: &Reach,
    exception: &Region,
    lead: &str,
) -> io::Result<()> {
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
    writeln!(
        out,
        "{lead}{}{unless}: {what} by {}",
        region_pattern(exception, rule),
        sources_words(&granting_sources(rule, None))
    )
}

/// The exceptions regions take by rank (the first `except_first` of the table), numbered
/// from 1, once per capability.
fn ranked_exception_lines(
    out: &mut dyn Write,
    reach: &Reach,
    answer: &CapabilityReach<'_>,
) -> io::Result<()> {
    let taken = answer
        .grants
        .iter()
        .map(|grant| grant.except_first)
        .max()
        .unwrap_or(0);
    if taken == 0 {
        return Ok(());
    }
    writeln!(out, "  ranked exceptions (highest rank first)")?;
    for (number, exception) in answer.exceptions[..taken].iter().enumerate() {
        exception_line(out, reach, exception, &format!("    {}. ", number + 1))?;
    }
    Ok(())
}

/// Writes the human rendering of the answers to `out`, one region at a time: memory stays
/// that of the answer, whatever the output's length (O(output) time).
pub fn write_human(
    out: &mut dyn Write,
    header: &Header<'_>,
    reach: &Reach,
    answers: &[CapabilityReach<'_>],
) -> io::Result<()> {
    writeln!(
        out,
        "reach of {} (target {})",
        super::explain::subject_words(header.subject, header.policies),
        reach.target
    )?;
    if reach.root {
        return writeln!(
            out,
            "\nthe token holds `root`: every capability on every path"
        );
    }
    let mut any = false;
    for answer in answers.iter().filter(|answer| !answer.grants.is_empty()) {
        any = true;
        writeln!(out, "\n{}", capability_title(answer))?;
        for grant in &answer.grants {
            grant_lines(out, header, reach, answer, grant)?;
        }
        ranked_exception_lines(out, reach, answer)?;
    }
    if !any {
        writeln!(out, "\nno capability on any path")?;
    }
    writeln!(out, "\nmeaning: {MEANING}")
}

/// The human rendering of the answers, as one string (for tests and small answers; the CLI
/// streams with [`write_human`]).
pub fn render_human(header: &Header<'_>, reach: &Reach, answers: &[CapabilityReach<'_>]) -> String {
    let mut out = Vec::new();
    write_human(&mut out, header, reach, answers).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the rendering is UTF-8")
}

/// The JSON rendering (`version` 2), serialised as it is written: each region is built only
/// while it is written, so a million-region answer never exists as a JSON tree in memory
/// (O(output) time, memory O(one region)). Keys keep the order below.
pub struct ReachJson<'a> {
    pub header: &'a Header<'a>,
    pub reach: &'a Reach,
    pub answers: &'a [CapabilityReach<'a>],
}

impl Serialize for ReachJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let namespace = self.header.namespace;
        let fields = if namespace.is_empty() { 7 } else { 8 };
        let mut out = serializer.serialize_struct("Reach", fields)?;
        out.serialize_field("version", &JSON_VERSION)?;
        out.serialize_field("subject", &SubjectJson(self.header.subject))?;
        out.serialize_field("policies", self.header.policies)?;
        out.serialize_field("target", self.reach.target.name())?;
        out.serialize_field("root", &self.reach.root)?;
        out.serialize_field("meaning", JSON_MEANING)?;
        out.serialize_field("capabilities", &AnswersJson(self))?;
        if !namespace.is_empty() {
            out.serialize_field("namespace", namespace)?;
        }
        out.end()
    }
}

/// The answers, one per capability, each made while it is written.
struct AnswersJson<'a>(&'a ReachJson<'a>);

impl Serialize for AnswersJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = self.0;
        serializer.collect_seq(
            json.answers
                .iter()
                .map(|answer| AnswerJson { json, answer }),
        )
    }
}

struct SubjectJson<'a>(&'a Subject);

impl Serialize for SubjectJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Subject", 2)?;
        out.serialize_field("kind", self.0.kind())?;
        out.serialize_field("name", &self.0.name())?;
        out.end()
    }
}

struct AnswerJson<'a> {
    json: &'a ReachJson<'a>,
    answer: &'a CapabilityReach<'a>,
}

impl Serialize for AnswerJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("CapabilityReach", 4)?;
        out.serialize_field("capability", self.answer.capability.name())?;
        out.serialize_field("requests", &self.answer.view)?;
        out.serialize_field("exceptions", &TableJson(self))?;
        out.serialize_field("regions", &GrantsJson(self))?;
        out.end()
    }
}

/// One answer's exception table, each entry made while it is written.
struct TableJson<'a>(&'a AnswerJson<'a>);

impl Serialize for TableJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let reach = self.0.json.reach;
        let table = &self.0.answer.exceptions;
        serializer.collect_seq(table.iter().enumerate().map(|(id, region)| ExceptionJson {
            id,
            region: RegionJson {
                reach,
                region,
                capability: None,
            },
        }))
    }
}

struct ExceptionJson<'a> {
    id: usize,
    region: RegionJson<'a>,
}

impl Serialize for ExceptionJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Exception", 8)?;
        out.serialize_field("id", &self.id)?;
        self.region.fields(&mut out)?;
        out.end()
    }
}

/// One answer's granting regions, each made while it is written.
struct GrantsJson<'a>(&'a AnswerJson<'a>);

impl Serialize for GrantsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let AnswerJson { json, answer } = self.0;
        serializer.collect_seq(answer.grants.iter().map(|grant| GrantJson {
            json,
            grant,
            capability: answer.capability,
        }))
    }
}

struct GrantJson<'a> {
    json: &'a ReachJson<'a>,
    grant: &'a Grant<'a>,
    capability: Capability,
}

impl Serialize for GrantJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let reach = self.json.reach;
        let region = RegionJson {
            reach,
            region: self.grant.region,
            capability: Some(self.capability),
        };
        let mut out = serializer.serialize_struct("Region", 10)?;
        region.fields(&mut out)?;
        let endpoints =
            region_endpoints(self.json.header, self.grant.region, Some(self.capability));
        out.serialize_field("endpoints", &endpoints)?;
        out.serialize_field("except", &self.grant.except)?;
        out.serialize_field("except_first", &self.grant.except_first)?;
        out.end()
    }
}

struct RegionJson<'a> {
    reach: &'a Reach,
    region: &'a Region,
    capability: Option<Capability>,
}

impl RegionJson<'_> {
    /// The fields every region has, granting or exception.
    fn fields<S: SerializeStruct>(&self, out: &mut S) -> Result<(), S::Error> {
        let rule = &self.reach.rules[self.region.rule];
        let capabilities: Vec<&str> = rule.capabilities.iter().map(Capability::name).collect();
        let sources: Vec<serde_json::Value> = granting_sources(rule, self.capability)
            .into_iter()
            .map(RuleSource::location_json)
            .collect();
        out.serialize_field("pattern", &self.region.pattern)?;
        out.serialize_field("origin", &self.region.origin)?;
        out.serialize_field("rule", &rule.pattern.normalized)?;
        out.serialize_field("capabilities", &capabilities)?;
        out.serialize_field("conditions", &conditions(rule))?;
        out.serialize_field(
            "excluding_longer_prefixes",
            &self.region.excluded_prefixes(),
        )?;
        out.serialize_field("sources", &sources)
    }
}

impl Serialize for RegionJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Region", 7)?;
        self.fields(&mut out)?;
        out.end()
    }
}
