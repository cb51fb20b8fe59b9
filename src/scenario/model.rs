//! Scenario files: YAML read with serde-saphyr, validated into [`Scenario`]s whose every part
//! keeps its span for error messages.

use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::vault_cli::{translate, Translation};
use crate::acl::Operation;
use crate::config::Mounts;
use crate::diag::Diagnostic;
use crate::inventory::{span_of_spanned, Subject};
use crate::source::SourceFile;
use crate::span::Span;

/// The file as written. Each scenario is read loosely ([`Entries`]) so one bad scenario
/// (an unknown key, a value of the wrong type) is reported on its own and the others still run.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Free text for the reader.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    scenarios: Vec<Spanned<Entries>>,
}

/// The keys of a scenario mapping with their values, in order; `None` when the scenario is not
/// a mapping.
struct Entries(Option<Vec<(Spanned<String>, Spanned<Loose>)>>);

/// A value read without a type: a sequence keeps each item's span (for per-item errors).
enum Loose {
    Seq(Vec<Spanned<serde_json::Value>>),
    Value(serde_json::Value),
}

impl Loose {
    fn into_json(self) -> serde_json::Value {
        match self {
            Loose::Seq(items) => {
                serde_json::Value::Array(items.into_iter().map(|item| item.value).collect())
            }
            Loose::Value(value) => value,
        }
    }
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        struct EntriesVisitor;
        impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scenario mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value::<Spanned<Loose>>()?));
                }
                Ok(Entries(Some(entries)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Entries, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Entries(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Entries, E> {
                Ok(Entries(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Entries, E> {
                Ok(Entries(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Entries, E> {
                Ok(Entries(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Entries, E> {
                Ok(Entries(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Entries, E> {
                Ok(Entries(None))
            }
            fn visit_unit<E>(self) -> Result<Entries, E> {
                Ok(Entries(None))
            }
            fn visit_none<E>(self) -> Result<Entries, E> {
                Ok(Entries(None))
            }
        }
        deserializer.deserialize_any(EntriesVisitor)
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Loose, D::Error> {
        struct LooseVisitor;
        impl<'de> serde::de::Visitor<'de> for LooseVisitor {
            type Value = Loose;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Loose, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<serde_json::Value>>()? {
                    items.push(item);
                }
                Ok(Loose::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Loose, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    object.insert(key, map.next_value::<serde_json::Value>()?);
                }
                Ok(Loose::Value(serde_json::Value::Object(object)))
            }
            fn visit_bool<E>(self, value: bool) -> Result<Loose, E> {
                Ok(Loose::Value(value.into()))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Loose, E> {
                Ok(Loose::Value(value.into()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Loose, E> {
                Ok(Loose::Value(value.into()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Loose, E> {
                Ok(Loose::Value(value.into()))
            }
            fn visit_str<E>(self, value: &str) -> Result<Loose, E> {
                Ok(Loose::Value(value.into()))
            }
            fn visit_string<E>(self, value: String) -> Result<Loose, E> {
                Ok(Loose::Value(value.into()))
            }
            fn visit_unit<E>(self) -> Result<Loose, E> {
                Ok(Loose::Value(serde_json::Value::Null))
            }
            fn visit_none<E>(self) -> Result<Loose, E> {
                Ok(Loose::Value(serde_json::Value::Null))
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Loose, D::Error> {
                Loose::deserialize(inner)
            }
        }
        deserializer.deserialize_any(LooseVisitor)
    }
}

/// The keys a scenario may have.
const SCENARIO_KEYS: &[&str] = &[
    "name",
    "role",
    "entity",
    "group",
    "policies",
    "namespace",
    "operation",
    "path",
    "data",
    "wrap_ttl",
    "existing",
    "command",
    "expect",
    "capabilities",
    "because",
];

/// One scenario with its values typed, every one keeping its span.
#[derive(Default)]
struct RawScenario {
    name: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    entity: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
    policies: Option<Spanned<Vec<String>>>,
    namespace: Option<Spanned<String>>,
    operation: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    data: Option<Spanned<serde_json::Value>>,
    wrap_ttl: Option<Spanned<serde_json::Value>>,
    existing: Option<Spanned<bool>>,
    command: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
    capabilities: Option<Spanned<Vec<Spanned<String>>>>,
    because: Option<Spanned<RawBecause>>,
}

struct RawBecause {
    policy: Spanned<String>,
    path: Spanned<String>,
}

/// `did you mean `x`?` for a misspelt name, when one is close.
fn did_you_mean(written: &str, candidates: &[&str]) -> Option<String> {
    crate::suggest::closest(
        candidates.iter().copied(),
        |candidate| crate::suggest::edit_distance(candidate, written),
        |candidate| (candidate.len() / 3).max(2),
    )
    .map(|found| format!("did you mean `{found}`?"))
}

fn retag<T, U>(value: &Spanned<U>, inner: T) -> Spanned<T> {
    Spanned::new(inner, value.referenced, value.defined)
}

/// A scalar as text (`name: 42` is the name `42`).
fn scalar_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Types the loose entries of one scenario. Every problem is collected: unknown keys (with a
/// did-you-mean), repeated keys, values of the wrong type, unknown capability names. Cost:
/// O(entries × keys).
fn typed(entries: Vec<(Spanned<String>, Spanned<Loose>)>) -> (RawScenario, Vec<Diagnostic>) {
    let mut raw = RawScenario::default();
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in entries {
        let key_span = span_of_spanned(&key);
        let value_span = span_of_spanned(&value);
        if !SCENARIO_KEYS.contains(&key.value.as_str()) {
            let help = match did_you_mean(&key.value, SCENARIO_KEYS) {
                Some(suggestion) => format!("{suggestion} a scenario has `name`, a subject (`role`, `entity`, `group` or `policies`), a request (`operation` + `path`, or `command`) and `expect` or `capabilities`"),
                None => "a scenario has `name`, a subject (`role`, `entity`, `group` or `policies`), a request (`operation` + `path`, or `command`) and `expect` or `capabilities`".into(),
            };
            errors.push(error(
                key_span,
                format!("unknown key `{}`", key.value),
                help,
            ));
            continue;
        }
        if seen.contains(&key.value) {
            errors.push(error(
                key_span,
                format!("`{}` is given twice", key.value),
                "keep one",
            ));
            continue;
        }
        seen.push(key.value.clone());
        let (referenced, defined) = (value.referenced, value.defined);
        let loose = value.value;
        let text = |loose: &Loose| match loose {
            Loose::Value(value) => scalar_text(value),
            Loose::Seq(_) => None,
        };
        let wrong = |what: &str| {
            error(
                value_span,
                format!("`{}` must be {what}", key.value),
                format!("write `{}:` with {what}", key.value),
            )
        };
        match key.value.as_str() {
            "name" | "role" | "entity" | "group" | "namespace" | "operation" | "path"
            | "command" | "expect" => {
                let Some(found) = text(&loose) else {
                    errors.push(wrong("a string"));
                    continue;
                };
                let found = Spanned::new(found, referenced, defined);
                let slot = match key.value.as_str() {
                    "name" => &mut raw.name,
                    "role" => &mut raw.role,
                    "entity" => &mut raw.entity,
                    "group" => &mut raw.group,
                    "namespace" => &mut raw.namespace,
                    "operation" => &mut raw.operation,
                    "path" => &mut raw.path,
                    "command" => &mut raw.command,
                    _ => &mut raw.expect,
                };
                *slot = Some(found);
            }
            "policies" | "capabilities" => {
                let Loose::Seq(items) = loose else {
                    errors.push(wrong("a list of names"));
                    continue;
                };
                let mut names = Vec::new();
                for item in items {
                    match scalar_text(&item.value) {
                        Some(name) => names.push(retag(&item, name)),
                        None => errors.push(error(
                            span_of_spanned(&item),
                            format!("`{}` items must be names", key.value),
                            "write each item as a plain name",
                        )),
                    }
                }
                if key.value == "policies" {
                    let plain = names.into_iter().map(|name| name.value).collect();
                    raw.policies = Some(Spanned::new(plain, referenced, defined));
                } else {
                    for name in &names {
                        check_capability_name(name, &mut errors);
                    }
                    raw.capabilities = Some(Spanned::new(names, referenced, defined));
                }
            }
            "data" | "wrap_ttl" => {
                let json = Spanned::new(loose.into_json(), referenced, defined);
                if key.value == "data" {
                    raw.data = Some(json);
                } else {
                    raw.wrap_ttl = Some(json);
                }
            }
            "existing" => match loose {
                Loose::Value(serde_json::Value::Bool(flag)) => {
                    raw.existing = Some(Spanned::new(flag, referenced, defined));
                }
                _ => errors.push(wrong("`true` or `false`")),
            },
            _ => match because(loose, value_span, referenced) {
                Ok((policy, path)) => {
                    raw.because = Some(Spanned::new(
                        RawBecause {
                            policy: Spanned::new(policy, referenced, defined),
                            path: Spanned::new(path, referenced, defined),
                        },
                        referenced,
                        defined,
                    ))
                }
                Err(diagnostic) => errors.push(diagnostic),
            },
        }
    }
    (raw, errors)
}

/// `because: {policy, path}`: both keys, strings, nothing else.
fn because(
    loose: Loose,
    span: Span,
    _at: serde_saphyr::Location,
) -> Result<(String, String), Diagnostic> {
    let help = "write `because: {policy: <policy name>, path: <pattern>}`";
    let Loose::Value(serde_json::Value::Object(map)) = loose else {
        return Err(error(span, "`because` must be a mapping", help));
    };
    for key in map.keys() {
        if key != "policy" && key != "path" {
            let help = match did_you_mean(key, &["policy", "path"]) {
                Some(suggestion) => format!("{suggestion} {help}"),
                None => help.to_string(),
            };
            return Err(error(
                span,
                format!("unknown key `{key}` in `because`"),
                help,
            ));
        }
    }
    let field = |name: &str| {
        map.get(name)
            .and_then(scalar_text)
            .ok_or_else(|| error(span, format!("`because` needs `{name}`"), help))
    };
    Ok((field("policy")?, field("path")?))
}

/// The names `capabilities:` may list: every capability, and `root` (what
/// `sys/capabilities` answers for a root token).
fn check_capability_name(name: &Spanned<String>, errors: &mut Vec<Diagnostic>) {
    let known: Vec<&str> = crate::policy::Capability::ALL
        .iter()
        .map(|capability| capability.name())
        .chain(["root"])
        .collect();
    if known.contains(&name.value.as_str()) {
        return;
    }
    let list = known
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let help = match did_you_mean(&name.value, &known) {
        Some(suggestion) => format!("{suggestion} capabilities are {list}"),
        None => format!("capabilities are {list}"),
    };
    errors.push(error(
        span_of_spanned(name),
        format!("unknown capability `{}`", name.value),
        help,
    ));
}

/// One validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    /// The scenario's mapping (where failures point).
    pub span: Span,
    pub subject: Subject,
    pub subject_span: Span,
    /// `namespace:`: where the request is made, its path relative to it (default: the
    /// subject's namespace; see docs/namespaces.md).
    pub namespace: Option<String>,
    pub request: ScenarioRequest,
    pub expect: Expectation,
    pub expect_span: Span,
    pub because: Option<Because>,
}

/// What the scenario asks.
#[derive(Clone, Debug)]
pub enum ScenarioRequest {
    /// `operation` + `path`. `existing` decides create vs update for `write`.
    Api {
        operation: ApiOperation,
        path: String,
        data: serde_json::Map<String, serde_json::Value>,
        wrap_ttl: Option<i64>,
        existing: Option<bool>,
    },
    /// `command:` translated into requests.
    Command {
        text: String,
        translation: Translation,
        existing: Option<bool>,
    },
    /// `capabilities:` at `path` (like `sys/capabilities`).
    Capabilities { path: String },
}

/// `operation:` — an ACL operation, or `write` (create or update, by `existing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiOperation {
    Op(Operation),
    Write,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    Allow,
    Deny,
    /// The exact `sys/capabilities` answer, sorted.
    Capabilities(Vec<String>),
}

impl Expectation {
    pub fn describe(&self) -> String {
        match self {
            Expectation::Allow => "allow".into(),
            Expectation::Deny => "deny".into(),
            Expectation::Capabilities(caps) => format!("[{}]", caps.join(", ")),
        }
    }
}

/// `because: {policy, path}`: the policy and pattern that must decide.
#[derive(Clone, Debug)]
pub struct Because {
    pub policy: String,
    pub path: String,
    pub span: Span,
}

/// The scenarios of one file.
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    pub file: Arc<SourceFile>,
    pub scenarios: Vec<Scenario>,
    /// The scenarios that cannot run (or the whole file, when it cannot be read as
    /// scenarios), in file order: each is reported as a failed scenario.
    pub invalid: Vec<Invalid>,
}

/// A scenario, or a whole file, that cannot run: reported as a failed scenario with its
/// diagnostics, while the other scenarios still run.
#[derive(Clone, Debug)]
pub struct Invalid {
    /// The scenario's name (`None`: the whole file, or a scenario without a name).
    pub name: Option<String>,
    /// The scenario's mapping, or where the file's error is.
    pub span: Span,
    pub diagnostics: Vec<Diagnostic>,
}

impl Invalid {
    /// The name a report shows: the scenario's, else its position.
    pub fn label(&self, file: &SourceFile) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => {
                let (line, column) = file.line_col(self.span.start);
                format!("{}:{line}:{column}", file.name)
            }
        }
    }
}

/// Reads one scenario file. Every error points at its line and column; unknown fields are
/// rejected. Commands are translated with the mount table here, so a command capable cannot
/// translate is an input error too.
pub fn load(file: Arc<SourceFile>, mounts: &Mounts) -> ScenarioFile {
    let mut loaded = ScenarioFile {
        file: file.clone(),
        scenarios: Vec::new(),
        invalid: Vec::new(),
    };
    let raw: RawFile = match serde_saphyr::from_str(&file.text) {
        Ok(raw) => raw,
        Err(error) => {
            let diagnostic = yaml_diagnostic(&file, &error);
            loaded.invalid.push(Invalid {
                name: None,
                span: diagnostic.span,
                diagnostics: vec![diagnostic],
            });
            return loaded;
        }
    };
    for raw_scenario in raw.scenarios {
        let span = span_of_spanned(&raw_scenario);
        let Entries(Some(entries)) = raw_scenario.value else {
            loaded.invalid.push(Invalid {
                name: None,
                span,
                diagnostics: vec![error(
                    span,
                    "a scenario must be a mapping",
                    "write each scenario as `- name: ...` with its keys below",
                )],
            });
            continue;
        };
        let (raw, errors) = typed(entries);
        let name = raw.name.as_ref().map(|name| name.value.clone());
        if !errors.is_empty() {
            loaded.invalid.push(Invalid {
                name,
                span,
                diagnostics: errors,
            });
            continue;
        }
        match validate(raw, span, mounts) {
            Ok(scenario) => loaded.scenarios.push(scenario),
            Err(diagnostic) => loaded.invalid.push(Invalid {
                name,
                span,
                diagnostics: vec![diagnostic],
            }),
        }
    }
    loaded
}

/// A serde-saphyr error as a diagnostic at its location.
pub fn yaml_diagnostic(file: &SourceFile, error: &serde_saphyr::Error) -> Diagnostic {
    let inner = error.without_snippet();
    let span = inner
        .location()
        .map(|location| {
            let span = location.span();
            match (span.byte_offset(), span.byte_len()) {
                (Some(start), Some(len)) => {
                    crate::source::at_least_one_char(&file.text, start as usize, len as usize)
                }
                _ => offset_of(file, location.line() as usize, location.column() as usize),
            }
        })
        .unwrap_or_default();
    let text = inner.to_string();
    let first = text.lines().next().unwrap_or("invalid scenario file");
    let message = strip_location_suffix(first);
    let only_comments = file
        .text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
    if only_comments {
        return Diagnostic::error("invalid-scenario", span, "the scenario file is empty")
            .with_help("a scenario file is a mapping with a `scenarios:` list");
    }
    let help = if message.contains("unknown field") {
        "a scenario has `name`, a subject (`role`, `entity`, `group` or `policies`), a request \
         (`operation` + `path`, or `command`) and `expect` or `capabilities`"
    } else if message.contains("missing field `scenarios`") || message.contains("expected mapping")
    {
        "a scenario file is a mapping with a `scenarios:` list"
    } else {
        "fix the YAML at this position"
    };
    Diagnostic::error("invalid-scenario", span, lowercase_first(&message)).with_help(help)
}

fn offset_of(file: &SourceFile, line: usize, column: usize) -> Span {
    let start: usize = file
        .text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let start = (start + column.saturating_sub(1)).min(file.text.len());
    Span::new(start, start)
}

/// serde-saphyr appends ` at line N, column M`; we show the location ourselves.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => message[..index].to_string(),
        _ => message.to_string(),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn error(span: Span, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic::error("invalid-scenario", span, message).with_help(help)
}

fn validate(raw: RawScenario, span: Span, mounts: &Mounts) -> Result<Scenario, Diagnostic> {
    let Some(name) = raw.name.as_ref().map(|name| name.value.clone()) else {
        return Err(error(
            span,
            "a scenario has no `name`",
            "add `name:` saying what the scenario checks",
        ));
    };
    let (subject, subject_span) = subject(&raw, span)?;
    let expect_span;
    let expect = match (&raw.expect, &raw.capabilities) {
        (Some(_), Some(caps)) => {
            return Err(error(
                span_of_spanned(caps),
                format!("scenario `{name}` has both `expect` and `capabilities`"),
                "keep one: `expect: allow|deny` for a request, `capabilities` for a path",
            ))
        }
        (Some(expect), None) => {
            expect_span = span_of_spanned(expect);
            match expect.value.as_str() {
                "allow" => Expectation::Allow,
                "deny" => Expectation::Deny,
                other => {
                    return Err(error(
                        expect_span,
                        format!("`expect` must be `allow` or `deny`, not `{other}`"),
                        "use `capabilities: [..]` to compare the exact capability set",
                    ))
                }
            }
        }
        (None, Some(caps)) => {
            expect_span = span_of_spanned(caps);
            let mut names: Vec<String> = caps.value.iter().map(|c| c.value.clone()).collect();
            names.sort();
            names.dedup();
            Expectation::Capabilities(names)
        }
        (None, None) => {
            return Err(error(
                span,
                format!("scenario `{name}` has no expectation"),
                "add `expect: allow`, `expect: deny` or `capabilities: [..]`",
            ))
        }
    };
    let request = request(&raw, span, &expect, mounts)?;
    let namespace = match &raw.namespace {
        Some(namespace) => Some(crate::namespace::normalize(&namespace.value).map_err(
            |message| {
                error(
                span_of_spanned(namespace),
                message,
                "write the namespace path, e.g. `admin/team-a/` (`root` for the root namespace)",
            )
            },
        )?),
        None => None,
    };
    let because = raw.because.as_ref().map(|because| Because {
        policy: because.value.policy.value.clone(),
        path: because.value.path.value.clone(),
        span: span_of_spanned(because),
    });
    if let (Some(because), Expectation::Capabilities(_)) = (&because, &expect) {
        return Err(error(
            because.span,
            "`because` needs `expect: allow|deny`",
            "`because` names the rule that decides a request",
        ));
    }
    Ok(Scenario {
        name,
        span,
        subject,
        subject_span,
        namespace,
        request,
        expect,
        expect_span,
        because,
    })
}

fn name_of(raw: &RawScenario) -> &str {
    raw.name.as_ref().map_or("", |name| name.value.as_str())
}

fn subject(raw: &RawScenario, span: Span) -> Result<(Subject, Span), Diagnostic> {
    let mut found: Vec<(Subject, Span)> = Vec::new();
    if let Some(role) = &raw.role {
        found.push((Subject::Role(role.value.clone()), span_of_spanned(role)));
    }
    if let Some(entity) = &raw.entity {
        found.push((
            Subject::Entity(entity.value.clone()),
            span_of_spanned(entity),
        ));
    }
    if let Some(group) = &raw.group {
        found.push((Subject::Group(group.value.clone()), span_of_spanned(group)));
    }
    if let Some(policies) = &raw.policies {
        found.push((
            Subject::Policies(policies.value.clone()),
            span_of_spanned(policies),
        ));
    }
    let help = "give exactly one of `role`, `entity`, `group` or `policies`";
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(error(
            span,
            format!("scenario `{}` has no subject", name_of(raw)),
            help,
        )),
        _ => Err(error(
            found[1].1,
            format!("scenario `{}` has more than one subject", name_of(raw)),
            help,
        )),
    }
}

fn request(
    raw: &RawScenario,
    span: Span,
    expect: &Expectation,
    mounts: &Mounts,
) -> Result<ScenarioRequest, Diagnostic> {
    let name = &name_of(raw);
    let existing = raw.existing.as_ref().map(|e| e.value);
    if let Expectation::Capabilities(_) = expect {
        if let Some(extra) = raw.command.as_ref().or(raw.operation.as_ref()) {
            return Err(error(
                span_of_spanned(extra),
                "`capabilities` compares the capability set at `path`; it takes no `operation` or `command`",
                "remove `operation`/`command`, or use `expect: allow|deny`",
            ));
        }
        let Some(path) = &raw.path else {
            return Err(error(
                span,
                format!("scenario `{name}` has `capabilities` but no `path`"),
                "add `path: <api path>`",
            ));
        };
        return Ok(ScenarioRequest::Capabilities {
            path: path.value.trim_start_matches('/').to_string(),
        });
    }
    if let Some(command) = &raw.command {
        if let Some(extra) = raw.operation.as_ref().or(raw.path.as_ref()) {
            return Err(error(
                span_of_spanned(extra),
                format!("scenario `{name}` has both `command` and `operation`/`path`"),
                "a scenario makes either one CLI command or one API request",
            ));
        }
        let translation = translate(&command.value, mounts).map_err(|e| {
            let help = e
                .help
                .clone()
                .unwrap_or_else(|| "write the command as you would type it".into());
            error(span_of_spanned(command), e.message, help)
        })?;
        return Ok(ScenarioRequest::Command {
            text: command.value.clone(),
            translation,
            existing,
        });
    }
    let (Some(operation), Some(path)) = (&raw.operation, &raw.path) else {
        return Err(error(
            span,
            format!("scenario `{name}` has no request"),
            "add `operation` and `path`, or `command: vault ...`",
        ));
    };
    let api_operation = match operation.value.as_str() {
        "write" => ApiOperation::Write,
        text => ApiOperation::Op(text.parse::<Operation>().map_err(|message| {
            error(
                span_of_spanned(operation),
                message,
                "use one of `read`, `list`, `create`, `update`, `write`, `patch`, `delete`, `scan`, `sudo`-free ops",
            )
        })?),
    };
    let data = match &raw.data {
        None => serde_json::Map::new(),
        Some(data) => match &data.value {
            serde_json::Value::Object(map) => map.clone(),
            _ => {
                return Err(error(
                    span_of_spanned(data),
                    "`data` must be a mapping of parameter names to values",
                    "write `data: {name: value}`",
                ))
            }
        },
    };
    let wrap_ttl = match &raw.wrap_ttl {
        None => None,
        Some(ttl) => Some(wrap_ttl_seconds(ttl)?),
    };
    Ok(ScenarioRequest::Api {
        operation: api_operation,
        path: path.value.trim_start_matches('/').to_string(),
        data,
        wrap_ttl,
        existing,
    })
}

fn wrap_ttl_seconds(ttl: &Spanned<serde_json::Value>) -> Result<i64, Diagnostic> {
    let bad = || {
        error(
            span_of_spanned(ttl),
            "`wrap_ttl` must be seconds or a duration such as `5m`",
            "write `wrap_ttl: 300` or `wrap_ttl: 5m`",
        )
    };
    match &ttl.value {
        serde_json::Value::Number(n) => n.as_i64().ok_or_else(bad),
        serde_json::Value::String(text) => super::vault_cli::parse_seconds(text).map_err(|_| bad()),
        _ => Err(bad()),
    }
}
