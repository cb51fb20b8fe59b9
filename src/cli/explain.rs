//! `capable explain`: one decision and why, for a person or a program.
//!
//! Exit status: 0 when the question is answered, whether the answer is ALLOWED or DENIED (a
//! query that succeeds is not a finding; scripts read `allowed` from `--format json`). With
//! `--fail-on-deny` a denied request exits 1, for shell conditions. 2 on usage or input
//! errors.

use super::{CliError, CliResult, Exit};
use crate::acl::{Operation, Request};
use crate::query::explain::{render_human, render_json, Explained};
use crate::query::subject::SubjectArgs;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit status: 0 when the question is answered, ALLOWED or DENIED (read \
`allowed` from `--format json`); 1 with `--fail-on-deny` when denied; 2 on usage or input errors."
)]
pub struct Args {
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Request data as `key=value` (repeatable; the value is JSON if it parses, else a string)
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,
    /// Ask for response wrapping with this TTL (seconds, or a duration like `5m`)
    #[arg(long, value_name = "TTL")]
    pub wrap_ttl: Option<String>,
    /// Exit 1 when the request is denied
    #[arg(long)]
    pub fail_on_deny: bool,
    /// `OPERATION PATH` (e.g. `read secret/data/ai/openai`), or a CLI command after `--`
    /// (e.g. `-- vault kv get secret/ai/openai`)
    #[arg(required = true, num_args = 1.., value_name = "REQUEST")]
    pub request: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

pub fn run(args: Args) -> CliResult {
    let resolved = args.subject.resolve()?;
    let requests = build_requests(&args, &resolved.mounts)?;
    let mut all_allowed = true;
    let mut json_answers = Vec::new();
    for (origin, request) in &requests {
        let decision = resolved.acl.authorize(request);
        all_allowed &= decision.allowed;
        let explained = Explained {
            subject: &resolved.subject,
            policies: &resolved.policies,
            target: resolved.target,
            command: origin.as_ref().map(|(command, _)| command.clone()),
            api_call: origin.as_ref().map(|(_, call)| call.clone()),
            request,
            decision: &decision,
        };
        match args.format {
            Format::Human => {
                if !json_answers.is_empty() {
                    println!();
                }
                print!("{}", render_human(&explained));
                json_answers.push(serde_json::Value::Null);
            }
            Format::Json => json_answers.push(render_json(&explained)),
        }
    }
    if args.format == Format::Json {
        let value = if json_answers.len() == 1 {
            json_answers.remove(0)
        } else {
            serde_json::json!({"version": crate::query::explain::JSON_VERSION, "requests": json_answers})
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
    if args.fail_on_deny && !all_allowed {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Clean)
}

/// One request to explain, with the CLI command and API call it came from (if any).
type Explainable = (Option<(String, String)>, Request);

/// The requests to explain: one for `OPERATION PATH`, one per API call for a CLI command.
fn build_requests(
    args: &Args,
    mounts: &crate::config::Mounts,
) -> Result<Vec<Explainable>, CliError> {
    let words = &args.request;
    let data = parse_data(&args.data)?;
    let wrap_ttl = match &args.wrap_ttl {
        Some(text) => Some(
            crate::scenario::vault_cli::parse_seconds(text).map_err(|error| {
                CliError::usage(format!("invalid `--wrap-ttl` `{text}`: {}", error.message))
                    .with_help("give seconds (`300`) or a duration (`5m`)")
            })?,
        ),
        None => None,
    };
    if matches!(words[0].as_str(), "vault" | "bao") {
        let command = words.join(" ");
        let translation =
            crate::scenario::vault_cli::translate(&command, mounts).map_err(|error| {
                let mut cli_error = CliError::usage(error.message.clone());
                cli_error.help = error.help.clone();
                cli_error
            })?;
        let mut requests = Vec::new();
        // The kv preflight is decided by mount visibility (spec 3.5), not by one rule.
        let preflight = translation.preflight.as_ref().map(|preflight| {
            format!(
                " (after the preflight `GET {}`, allowed when the token can see mount `{}`)",
                preflight.path, preflight.mount
            )
        });
        for call in translation.calls {
            let mut request = call.request.clone();
            request.data.extend(data.clone());
            request.wrap_ttl = wrap_ttl.or(request.wrap_ttl);
            let mut label = format!("`{} {}`", call.method, request.path);
            if requests.is_empty() {
                label.push_str(preflight.as_deref().unwrap_or(""));
            }
            if call.create_or_update {
                // A new key needs `create`, an existing one `update`: explain both.
                let create = Request {
                    operation: Operation::Create,
                    ..request.clone()
                };
                let new_key = format!("{label} as `create` (a new key)");
                requests.push((Some((command.clone(), new_key)), create));
                let existing = format!("{label} as `update` (an existing key)");
                requests.push((Some((command.clone(), existing)), request));
            } else {
                requests.push((Some((command.clone(), label)), request));
            }
        }
        return Ok(requests);
    }
    let [operation, path] = words.as_slice() else {
        return Err(CliError::usage(format!(
            "expected `OPERATION PATH`, got {} word(s)",
            words.len()
        ))
        .with_help("e.g. `capable explain --role R read secret/data/ai/openai`, or `-- vault kv get secret/ai/openai`"));
    };
    let operation: Operation = operation.parse().map_err(|message: String| {
        CliError::usage(message)
            .with_help("use one of `read`, `list`, `create`, `update`, `patch`, `delete`, `scan`, `recover`, `help`")
    })?;
    let mut path = path.trim_start_matches('/').to_string();
    if operation.is_listing() && !path.ends_with('/') {
        // The HTTP layer adds the trailing `/` to every LIST and SCAN (spec 3.1).
        path.push('/');
    }
    let request = Request {
        data,
        wrap_ttl,
        ..Request::new(operation, path)
    };
    Ok(vec![(None, request)])
}

fn parse_data(pairs: &[String]) -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
    let mut data = serde_json::Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::usage(format!("`--data {pair}` has no `=`"))
                .with_help("write `--data key=value`"));
        };
        let parsed = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        data.insert(key.to_string(), parsed);
    }
    Ok(data)
}
