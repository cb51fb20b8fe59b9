//! Vault Agent templates: can the role an agent logs in as read what its templates read?
//!
//! [`check`] reads every agent configuration of the workspace (HCL1: `auto_auth` and
//! `template` blocks, see [`config`]), finds the secrets each template touches
//! ([`template`], consul-template syntax parsed with nom), resolves the `auto_auth` role
//! through the inventory (`<auth mount>/<role>` in `capable.yaml`), and decides each access
//! with that role's merged ACL. Findings use the rule `agent-secret-unreadable`
//! (`src/lint/rules/agent_secret_unreadable.rs`).
//!
//! What a template function asks of Vault (consul-template semantics):
//! - `secret "p"`: a read of `p`; on a KV v2 mount `M/` a path without `data/` gets it
//!   (`M/k` reads `M/data/k`), as consul-template does;
//! - `secret "p" "k=v" ...` and `pkiCert "p" ...`: a write with those parameters, which needs
//!   `update` (or `create` or `update` on a KV mount, whose writes have an existence check);
//! - `secrets "p"`: a LIST of `p/` (`M/metadata/...` on KV v2).
//!
//! Cost: one parse per configuration and template, one ACL per distinct role, one
//! `authorize` per secret use.

pub mod config;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::acl::{Acl, Decision, DenyReason, Operation, Request};
use crate::config::{Mounts, RuleLevel};
use crate::diag::{Diagnostic, FileDiagnostics, Severity};
use crate::inventory::{Inventory, Subject};
use crate::lint::rules::agent_secret_unreadable::AgentSecretUnreadable;
use crate::lint::Rule;
use crate::source::SourceFile;
use crate::span::Span;
use crate::target::Target;
use crate::workspace::Workspace;

use config::{AgentConfig, AutoAuth, TemplateText};
use template::{Access, SecretUse};

const RULE: &str = "agent-secret-unreadable";

/// Checks every agent configuration of the workspace. Configurations are skipped silently
/// only when the inventory itself is invalid (its errors are reported by the inventory).
/// `rules: {agent-secret-unreadable: off}` turns the check off; a severity there replaces the
/// default severity of the unreadable-secret findings (the "cannot check" warnings keep theirs).
pub fn check(workspace: &Workspace) -> Vec<FileDiagnostics> {
    let severity = match workspace.config.rule_level(RULE) {
        Some(RuleLevel::Off) => return Vec::new(),
        Some(RuleLevel::Severity(severity)) => Some(severity),
        None => None,
    };
    let mut found = check_unconfigured(workspace);
    if let Some(severity) = severity {
        let default = AgentSecretUnreadable.meta().severity;
        for diagnostic in found
            .iter_mut()
            .flat_map(|file| file.diagnostics.iter_mut())
        {
            if diagnostic.severity == default {
                diagnostic.severity = severity;
            }
        }
    }
    found
}

fn check_unconfigured(workspace: &Workspace) -> Vec<FileDiagnostics> {
    // No configuration to check: the inventory (a whole-tree load) is not built for nothing.
    if workspace.agent_files.is_empty() {
        return Vec::new();
    }
    let inventory = match Inventory::new(&workspace.config, &workspace.policies) {
        Ok(inventory) => Some(inventory),
        Err(_) if workspace.config.has_inventory() => return Vec::new(),
        Err(_) => None,
    };
    let context = Context {
        inventory: inventory.as_ref(),
        mounts: &workspace.config.mounts,
        target: workspace.target,
        acls: BTreeMap::new(),
        bases: vec![PathBuf::from("."), workspace.root.clone()],
        boundaries: workspace.boundaries.clone(),
        max_bytes: workspace.config.max_file_size,
    };
    check_files(context, &workspace.agent_files)
}

/// Checks agent configurations against an inventory (`None`: no inventory, so every role is
/// unknown).
pub fn check_with(
    inventory: Option<&Inventory>,
    mounts: &Mounts,
    target: Target,
    files: &[Arc<SourceFile>],
) -> Vec<FileDiagnostics> {
    let context = Context {
        inventory,
        mounts,
        target,
        acls: BTreeMap::new(),
        bases: vec![PathBuf::from(".")],
        boundaries: crate::input::boundaries(&[PathBuf::from(".")]),
        max_bytes: crate::input::DEFAULT_MAX_BYTES,
    };
    check_files(context, files)
}

fn check_files(mut context: Context<'_>, files: &[Arc<SourceFile>]) -> Vec<FileDiagnostics> {
    let mut report = Report::default();
    for file in files {
        context.check_config(file.clone(), &mut report);
    }
    report.into_files()
}

/// Diagnostics grouped by file, in first-seen order.
#[derive(Default)]
struct Report {
    files: Vec<FileDiagnostics>,
}

impl Report {
    fn push(&mut self, file: &Arc<SourceFile>, diagnostic: Diagnostic) {
        match self
            .files
            .iter_mut()
            .find(|entry| entry.file.name == file.name)
        {
            Some(entry) => entry.diagnostics.push(diagnostic),
            None => self.files.push(FileDiagnostics {
                file: file.clone(),
                diagnostics: vec![diagnostic],
            }),
        }
    }

    fn into_files(self) -> Vec<FileDiagnostics> {
        self.files
    }
}

struct Context<'a> {
    inventory: Option<&'a Inventory>,
    mounts: &'a Mounts,
    target: Target,
    /// Merged ACLs by role key, built once per role.
    acls: BTreeMap<String, Result<Acl, String>>,
    /// Folders relative file names start from (the working directory, the workspace root).
    bases: Vec<PathBuf>,
    /// The folders template files may be read from ([`crate::input::boundaries`]).
    boundaries: Vec<PathBuf>,
    max_bytes: u64,
}

/// The role an agent logs in as, resolved.
struct Login {
    role: String,
    policies: Vec<String>,
}

impl Context<'_> {
    fn check_config(&mut self, file: Arc<SourceFile>, report: &mut Report) {
        let agent = match config::read(file.clone()) {
            Ok(agent) => agent,
            Err((message, span)) => {
                let diagnostic =
                    warning(span, format!("cannot read agent configuration: {message}"))
                        .with_help("fix the HCL syntax so capable can check the templates");
                report.push(&file, diagnostic);
                return;
            }
        };
        if agent.templates.is_empty() {
            return;
        }
        let Some(auto_auth) = &agent.auto_auth else {
            let span = Span::new(0, 0);
            let diagnostic = warning(span, "agent has templates but no `auto_auth` login")
                .with_help(
                    "capable checks templates against the role `auto_auth` logs in as; add an \
                     `auto_auth` block",
                );
            report.push(&file, diagnostic);
            return;
        };
        let Some(login) = self.login(&agent, auto_auth, report) else {
            return;
        };
        for template in &agent.templates {
            self.check_template(&agent, template, &login, report);
        }
    }

    /// Resolves the `auto_auth` role through the inventory, reporting why it cannot be.
    fn login(
        &mut self,
        agent: &AgentConfig,
        auth: &AutoAuth,
        report: &mut Report,
    ) -> Option<Login> {
        let role = match self.role_key(auth) {
            Ok(role) => role,
            Err((message, help)) => {
                report.push(&agent.file, warning(auth.span, message).with_help(help));
                return None;
            }
        };
        let inventory = self.inventory?;
        let target = self.target;
        let entry = self.acls.entry(role.clone()).or_insert_with(|| {
            inventory
                .acl_for(&Subject::Role(role.clone()), target)
                .map_err(|error| error.to_string())
        });
        if let Err(message) = entry {
            let message = format!("cannot build the access of role `{role}`: {message}");
            report.push(&agent.file, warning(auth.span, message));
            return None;
        }
        let policies = inventory.policies_of(&Subject::Role(role.clone()));
        Some(Login { role, policies })
    }

    fn role_key(&self, auth: &AutoAuth) -> Result<String, (String, String)> {
        let mount = &auth.mount;
        let add_help = |key: &str| {
            format!(
                "add `{key}` under `roles` in `capable.yaml` with its policies, so capable can \
                 check what the templates read"
            )
        };
        let Some(inventory) = self.inventory.filter(|inventory| !inventory.is_empty()) else {
            let role = auth.role.as_deref().filter(|role| !role.is_empty());
            let key = format!("{mount}/{}", role.unwrap_or("<role>"));
            return Err((
                format!("cannot check the templates: no inventory names the role this agent logs in as (`{key}`)"),
                add_help(&key),
            ));
        };
        let literal = auth
            .role
            .as_deref()
            .filter(|role| !role.is_empty() && !role.contains("${") && !role.contains("{{"));
        if let Some(role) = literal {
            let key = format!("{mount}/{role}");
            return inventory.find_role(&key).map_err(|_| {
                (
                    format!("role `{key}` that this agent logs in as is not in the inventory"),
                    add_help(&key),
                )
            });
        }
        if let Some(role) = &auth.role {
            if !role.is_empty() {
                return Err((
                    format!("the role `{role}` is not a literal name, so capable cannot tell which role this agent logs in as"),
                    "write the role name, or check the rendered configuration".into(),
                ));
            }
        }
        // AppRole and token logins name no role: use the only role of the mount, if unique.
        let prefix = format!("{mount}/");
        let candidates: Vec<&str> = inventory
            .role_names()
            .filter(|name| name.starts_with(&prefix))
            .collect();
        match candidates.as_slice() {
            [only] => Ok(only.to_string()),
            _ => Err((
                format!(
                    "cannot tell which role the `{}` login on `auth/{mount}` uses ({} roles of that mount in the inventory)",
                    auth.method,
                    candidates.len()
                ),
                format!(
                    "this login names no role; keep exactly one role under `{prefix}` in \
                     `capable.yaml` so capable can check the templates"
                ),
            )),
        }
    }

    fn check_template(
        &self,
        agent: &AgentConfig,
        template: &TemplateText,
        login: &Login,
        report: &mut Report,
    ) {
        match template {
            TemplateText::Inline { text, span } => {
                let located = |inner: Span, needle: &str| {
                    config::inline_span(&agent.file, *span, text, inner, needle)
                };
                self.check_text(&agent.file, text, located, login, report);
            }
            TemplateText::File { path, span } => {
                let source = match read_template(
                    &agent.file,
                    path,
                    &self.bases,
                    &self.boundaries,
                    self.max_bytes,
                ) {
                    Ok(source) => source,
                    Err(refusal) => {
                        report.push(&agent.file, template_not_read(path, *span, refusal));
                        return;
                    }
                };
                let text = source.text.clone();
                self.check_text(&source, &text, |inner: Span, _: &str| inner, login, report);
            }
        }
    }

    /// Checks one template's text; `locate` maps a span in `text` to a span in `file`.
    fn check_text(
        &self,
        file: &Arc<SourceFile>,
        text: &str,
        locate: impl Fn(Span, &str) -> Span,
        login: &Login,
        report: &mut Report,
    ) {
        let uses = match template::secret_uses(text) {
            Ok(uses) => uses,
            Err(error) => {
                let span = locate(error.span, "");
                report.push(file, warning(span, error.message).with_help(error.help));
                return;
            }
        };
        let Some(Ok(acl)) = self.acls.get(&login.role) else {
            return;
        };
        for secret in uses {
            if let Some(diagnostic) = self.check_use(acl, &secret, login) {
                let span = locate(secret.span, &secret.path);
                report.push(file, Diagnostic { span, ..diagnostic });
            }
        }
    }

    fn check_use(&self, acl: &Acl, secret: &SecretUse, login: &Login) -> Option<Diagnostic> {
        let (api_path, operations) = api_request(secret, self.mounts);
        let mut data = serde_json::Map::new();
        if secret.access == Access::Write {
            for (key, value) in &secret.parameters {
                data.insert(key.clone(), serde_json::Value::String(value.clone()));
            }
        }
        let decisions: Vec<(Operation, Decision)> = operations
            .iter()
            .map(|operation| {
                let request = Request {
                    data: data.clone(),
                    ..Request::new(*operation, api_path.clone())
                };
                (*operation, acl.authorize(&request))
            })
            .collect();
        if decisions.iter().any(|(_, decision)| decision.allowed) {
            return None;
        }
        let (operation, decision) = decisions.first()?;
        Some(unreadable(secret, &api_path, *operation, decision, login))
    }
}

/// The API path and the operations (any one suffices) a template function needs.
fn api_request(secret: &SecretUse, mounts: &Mounts) -> (String, Vec<Operation>) {
    let path = secret.path.trim_start_matches('/');
    let kv = mounts.find(path).filter(|mount| mount.engine == "kv");
    let kv2_mount = kv
        .filter(|mount| mount.kv_version == Some(2))
        .map(|mount| mount.path.clone());
    match secret.access {
        Access::Read => (
            kv2_path(path, kv2_mount.as_deref(), "data/"),
            vec![Operation::Read],
        ),
        Access::List => {
            let listed = kv2_path(path, kv2_mount.as_deref(), "metadata/");
            let listed = if listed.ends_with('/') {
                listed
            } else {
                format!("{listed}/")
            };
            (listed, vec![Operation::List])
        }
        Access::Write if kv.is_some() => (
            kv2_path(path, kv2_mount.as_deref(), "data/"),
            vec![Operation::Update, Operation::Create],
        ),
        Access::Write => (path.to_string(), vec![Operation::Update]),
    }
}

/// Inserts the KV v2 segment after the mount unless the path already has it.
fn kv2_path(path: &str, kv2_mount: Option<&str>, segment: &str) -> String {
    let Some(mount) = kv2_mount else {
        return path.to_string();
    };
    let rest = path.strip_prefix(mount).unwrap_or("");
    if rest.starts_with(segment) || path.len() < mount.len() {
        return path.to_string();
    }
    format!("{mount}{segment}{rest}")
}

fn unreadable(
    secret: &SecretUse,
    api_path: &str,
    operation: Operation,
    decision: &Decision,
    login: &Login,
) -> Diagnostic {
    let verb = match secret.access {
        Access::Read => "read",
        Access::List => "list",
        Access::Write => "write",
    };
    let shown = if api_path == secret.path {
        format!("`{api_path}`")
    } else {
        format!("`{}` (API path `{api_path}`)", secret.path)
    };
    let why = deny_words(decision);
    let message = format!("role `{}` cannot {verb} {shown}: {why}", login.role);
    let capability = operation.capability().map(|c| c.name()).unwrap_or("read");
    let policies = login
        .policies
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let parameters = matches!(
        decision.explanation.deny_reason,
        Some(
            DenyReason::ParameterNotAllowed(_)
                | DenyReason::DeniedParameter(_)
                | DenyReason::MissingRequiredParameter(_)
        )
    );
    let help = if parameters {
        format!(
            "the template passes {}; allow them in the rule's parameter constraints, or pass \
             what the rule allows",
            secret
                .parameters
                .iter()
                .map(|(key, value)| format!("`{key}={value}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "grant `{capability}` on `{api_path}` in one of the role's policies ({policies}), or \
             remove the secret from the template"
        )
    };
    let meta = AgentSecretUnreadable.meta();
    Diagnostic::new(RULE, meta.severity, secret.span, message)
        .with_label(format!("{verb} by this template"))
        .with_help(help)
}

/// Why a decision denies, in a few words.
fn deny_words(decision: &Decision) -> String {
    let explanation = &decision.explanation;
    let winner = explanation.winner.as_ref().map(|rule| {
        let policies: Vec<&str> = rule.sources.iter().map(|s| &*s.policy).collect();
        format!(
            "`{}` in `{}`",
            rule.pattern.normalized,
            policies.join("`, `")
        )
    });
    match (&explanation.deny_reason, winner) {
        (Some(DenyReason::ExplicitDeny), Some(rule)) => format!("denied by {rule}"),
        (Some(DenyReason::MissingCapability(capability)), Some(rule)) => {
            format!("the deciding rule {rule} lacks `{capability}`")
        }
        (Some(DenyReason::NoPolicies), _) => "the role has no policies".into(),
        (Some(reason), Some(rule)) => format!(
            "{} (rule {rule})",
            crate::query::explain::deny_reason_words(reason)
        ),
        (Some(reason), None) => crate::query::explain::deny_reason_words(reason),
        (None, _) => "no rule grants it".into(),
    }
}

/// The finding on a template `source` that is not read; never quotes the file.
fn template_not_read(path: &str, span: Span, refusal: Option<crate::input::Refusal>) -> Diagnostic {
    match refusal {
        Some(refusal) if refusal.is_escape() => Diagnostic::new(
            RULE,
            Severity::Error,
            span,
            format!("refused to read template source `{path}`: {refusal}"),
        )
        .with_help(crate::input::ESCAPE_HELP),
        Some(refusal) => warning(
            span,
            format!("cannot read template source `{path}`: {refusal}; its secrets are not checked"),
        )
        .with_help(
            "keep the template in the repository next to its configuration, as a regular file",
        ),
        None => warning(
            span,
            format!("template source `{path}` not found; its secrets are not checked"),
        )
        .with_help(
            "capable looks for the file as written and next to the agent configuration; \
             keep the template in the repository next to its configuration",
        ),
    }
}

fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(RULE, Severity::Warning, span, message)
}

/// Finds a template file: as written (when relative), relative to the agent configuration's
/// folder, then by file name next to the configuration (or in its `templates` folder); each
/// tried from the working directory, then from the workspace root. Every candidate must stay
/// inside `boundaries` and be a regular file under `max_bytes` ([`crate::input`]); an absolute
/// `source` (a path on the agent's machine) is only looked up by those relative forms. The
/// file is named as found, relative. `Err(Some(refusal))`: the only candidates found were
/// refused (an escape from the workspace, a FIFO, ...); `Err(None)`: none exists.
fn read_template(
    agent_file: &SourceFile,
    written: &str,
    bases: &[PathBuf],
    boundaries: &[PathBuf],
    max_bytes: u64,
) -> Result<Arc<SourceFile>, Option<crate::input::Refusal>> {
    use crate::input::{read_confined, ReadError, Refusal};
    let config_dir = Path::new(&agent_file.name)
        .parent()
        .unwrap_or(Path::new(""));
    let written_path = Path::new(written);
    let absolute = crate::input::is_absolute_name(written);
    let relative = written_path.strip_prefix("/").unwrap_or(written_path);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if !absolute {
        candidates.push(written_path.to_path_buf());
    }
    candidates.push(config_dir.join(relative));
    if let Some(name) = written_path.file_name() {
        candidates.push(config_dir.join(name));
        candidates.push(config_dir.join("templates").join(name));
    }
    let mut refused = None;
    for base in bases {
        for candidate in &candidates {
            let shown = candidate.to_string_lossy().replace('\\', "/");
            match read_confined(boundaries, &shown, &base.join(candidate), max_bytes) {
                Ok(text) => return Ok(Arc::new(SourceFile::new(shown, text))),
                Err(Refusal::Unreadable(ReadError::NotFound)) => {}
                Err(refusal) => {
                    refused.get_or_insert(refusal);
                }
            }
        }
    }
    Err(refused)
}
