//! `capable explain`: one decision and why, for a person or a program.
//!
//! Exit status: 0 when the question is answered, whether the answer is ALLOWED or DENIED (a
//! query that succeeds is not a finding; scripts read `allowed` from `--format json`). With
//! `--fail-on-deny` a denied request exits 1, for shell conditions. 2 on usage or input
//! errors.

use super::HumanOrJson;
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
    #[arg(long, value_enum, default_value_t = HumanOrJson::Human)]
    pub format: HumanOrJson,
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

pub fn run(args: Args) -> CliResult {
    let resolved = args.subject.resolve()?;
    let requests = build_requests(&args, &resolved.mounts)?;
    let mut all_allowed = true;
    let mut json_answers = Vec::new();
    let mut human = String::new();
    // Mount kinds: the declared mounts, then what the subject's own patterns show.
    let rules = resolved.acl.rules();
    let endpoints = crate::endpoints::MountMap::from_patterns(
        resolved.target,
        &resolved.mounts,
        rules.iter().map(|rule| &rule.pattern),
    );
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
            endpoint: crate::endpoints::name_of(&endpoints, &request.path),
        };
        match args.format {
            HumanOrJson::Human => {
                if !json_answers.is_empty() {
                    human.push('\n');
                }
                human.push_str(&render_human(&explained));
                if origin.is_none() {
                    if let Some(note) = kv2_note(&request.path, &resolved.mounts) {
                        human.push_str(&note);
                        human.push('\n');
                    }
                }
                json_answers.push(serde_json::Value::Null);
            }
            HumanOrJson::Json => json_answers.push(render_json(&explained)),
        }
    }
    if args.format == HumanOrJson::Json {
        let value = if json_answers.len() == 1 {
            json_answers.remove(0)
        } else {
            serde_json::json!({"version": crate::query::explain::JSON_VERSION, "requests": json_answers})
        };
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        human = format!("{text}\n");
    }
    super::write_stdout(&human)?;
    if args.fail_on_deny && !all_allowed {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Clean)
}

/// For an API path on a KV v2 mount written without `data/` (`secret/ai/openai`), where the
/// secret's API path is: such a path matches no KV request, which is rarely what was meant.
fn kv2_note(path: &str, mounts: &crate::config::Mounts) -> Option<String> {
    let mount = mounts.find(path)?;
    if mount.kv_version != Some(2) {
        return None;
    }
    let key = path.strip_prefix(&mount.path)?;
    let versioned = [
        "data/",
        "metadata/",
        "delete/",
        "undelete/",
        "destroy/",
        "subkeys/",
    ];
    if key.is_empty() || key == "config" || versioned.iter().any(|prefix| key.starts_with(prefix)) {
        return None;
    }
    let mount_path = &mount.path;
    Some(format!(
        "note: `{mount_path}` is a KV v2 mount: the API path of secret `{key}` is \
         `{mount_path}data/{key}` (its metadata: `{mount_path}metadata/{key}`); \
         `-- vault kv get {path}` explains the CLI command"
    ))
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
