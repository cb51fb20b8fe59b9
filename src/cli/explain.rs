//! `capable explain`: one decision and why, for a person or a program.
//!
//! Exit status: 0 when the question is answered, whether the answer is ALLOWED or DENIED (a
//! query that succeeds is not a finding; scripts read `allowed` from `--format json`). With
//! `--fail-on-deny` a denied request exits 1, for shell conditions. 2 on usage or input
//! errors.

use super::{CliError, CliResult, Exit};
use crate::acl::Request;
use crate::query::explain::{render_human, render_json, Explained};
use crate::query::request;
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
        let full = Request {
            path: resolved.full_path(&request.path),
            ..request.clone()
        };
        let decision = resolved.acl.authorize(&full);
        all_allowed &= decision.allowed;
        let explained = Explained {
            subject: &resolved.subject,
            policies: &resolved.policies,
            target: resolved.target,
            command: origin.as_ref().map(|(command, _)| command.clone()),
            api_call: origin.as_ref().map(|(_, call)| call.clone()),
            request,
            decision: &decision,
            namespace: &resolved.namespace,
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

/// The requests to explain: one for `OPERATION PATH`, one per API call (and per alternative,
/// for a write that may need `create` or `update`) for a CLI command.
fn build_requests(
    args: &Args,
    mounts: &crate::config::Mounts,
) -> Result<Vec<Explainable>, CliError> {
    let calls = request::build(&args.request, &args.data, args.wrap_ttl.as_deref(), mounts)?;
    let mut requests = Vec::new();
    for call in calls {
        for alternative in call.alternatives {
            let origin = call.command.clone().map(|command| {
                let label = call.label.clone().unwrap_or_default();
                match &alternative.note {
                    Some(note) => (command, format!("{label} {note}")),
                    None => (command, label),
                }
            });
            requests.push((origin, alternative.request));
        }
    }
    Ok(requests)
}
