//! `capable rules [ID] [--format text|json|markdown]`: lists every rule (id, severity,
//! category, summary), or prints one rule's documentation (its doc comment, verbatim).
//! `--format markdown` prints the README's rule table.

use serde::Serialize;

use super::{CliError, CliResult, Exit};
use crate::lint::{all_rule_metas, rule_help_uri, rule_meta, rules_markdown_table, RuleMeta};

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RulesFormat {
    /// `text` is accepted too
    #[default]
    #[value(name = "human", alias = "text")]
    Text,
    Json,
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A rule id: print that rule's documentation
    pub id: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

pub fn run(args: Args) -> CliResult {
    let output = match &args.id {
        Some(id) => one_rule(&find(id)?, args.format),
        None => all_rules(args.format),
    };
    super::write_stdout(&output)?;
    Ok(Exit::Clean)
}

fn find(id: &str) -> Result<RuleMeta, CliError> {
    if let Some(meta) = rule_meta(id) {
        return Ok(meta);
    }
    let help = match crate::lint::suggest_rule_id(id) {
        Some(close) => format!("did you mean `{close}`? `capable rules` lists every rule"),
        None if id.starts_with("invalid-") => {
            "`invalid-` findings are refusals by the target, not lint rules; \
             `capable rules` lists every rule"
                .to_string()
        }
        None => "`capable rules` lists every rule".to_string(),
    };
    Err(CliError::usage(format!("unknown rule `{id}`")).with_help(help))
}

/// What JSON output says about a rule.
#[derive(Serialize)]
struct RuleEntry {
    id: &'static str,
    severity: &'static str,
    category: &'static str,
    summary: &'static str,
    help_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    documentation: Option<String>,
}

impl RuleEntry {
    fn of(meta: &RuleMeta, with_documentation: bool) -> RuleEntry {
        RuleEntry {
            id: meta.id,
            severity: meta.severity.name(),
            category: meta.category.name(),
            summary: meta.summary,
            help_uri: rule_help_uri(meta.id),
            documentation: with_documentation.then(|| meta.documentation()),
        }
    }
}

fn one_rule(meta: &RuleMeta, format: RulesFormat) -> String {
    match format {
        RulesFormat::Text | RulesFormat::Markdown => meta.documentation(),
        RulesFormat::Json => to_json(&serde_json::json!({
            "version": 1,
            "rule": RuleEntry::of(meta, true),
        })),
    }
}

fn all_rules(format: RulesFormat) -> String {
    let metas = all_rule_metas();
    match format {
        RulesFormat::Text => text_table(&metas),
        RulesFormat::Markdown => rules_markdown_table(),
        RulesFormat::Json => to_json(&serde_json::json!({
            "version": 1,
            "rules": metas
                .iter()
                .map(|meta| RuleEntry::of(meta, false))
                .collect::<Vec<_>>(),
        })),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

/// Aligned columns: id, severity, category, summary.
fn text_table(metas: &[RuleMeta]) -> String {
    let id_width = metas.iter().map(|meta| meta.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for meta in metas {
        out.push_str(&format!(
            "{:id_width$}  {:7}  {:11}  {}\n",
            meta.id,
            meta.severity.name(),
            meta.category.name(),
            meta.summary
        ));
    }
    out
}
