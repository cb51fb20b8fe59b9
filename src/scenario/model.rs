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

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Free text for the reader.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    scenarios: Vec<Spanned<RawScenario>>,
}

/// One scenario as written. Fields are flat (no untagged enums) so every one keeps its span.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
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
    capabilities: Option<Spanned<Vec<String>>>,
    because: Option<Spanned<RawBecause>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBecause {
    policy: Spanned<String>,
    path: Spanned<String>,
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
}

/// Reads one scenario file. Every error points at its line and column; unknown fields are
/// rejected. Commands are translated with the mount table here, so a command capable cannot
/// translate is an input error too.
pub fn load(file: Arc<SourceFile>, mounts: &Mounts) -> Result<ScenarioFile, Vec<Diagnostic>> {
    let raw: RawFile = match serde_saphyr::from_str(&file.text) {
        Ok(raw) => raw,
        Err(error) => return Err(vec![yaml_diagnostic(&file, &error)]),
    };
    let mut errors = Vec::new();
    let mut scenarios = Vec::new();
    for raw_scenario in raw.scenarios {
        let span = span_of_spanned(&raw_scenario);
        match validate(raw_scenario.value, span, mounts) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(ScenarioFile { file, scenarios })
    } else {
        Err(errors)
    }
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
                    let start = start as usize;
                    Span::new(start, start + (len as usize).max(1))
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
    let name = raw.name.value.clone();
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
            let mut names = caps.value.clone();
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
            format!("scenario `{}` has no subject", raw.name.value),
            help,
        )),
        _ => Err(error(
            found[1].1,
            format!("scenario `{}` has more than one subject", raw.name.value),
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
    let name = &raw.name.value;
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
