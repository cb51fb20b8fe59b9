//! The request a query is about: `OPERATION PATH`, or a Vault CLI command translated into
//! the API calls it makes (spec 7, through `crate::scenario::vault_cli`).

use crate::acl::{Operation, Request};
use crate::cli::CliError;
use crate::config::Mounts;

/// One API call; it succeeds when any of its alternatives is allowed.
#[derive(Clone, Debug)]
pub struct Call {
    /// The CLI command it belongs to, as given.
    pub command: Option<String>,
    /// `` `GET secret/data/ai/openai` `` (plus a note on the kv preflight for the first call).
    pub label: Option<String>,
    pub alternatives: Vec<Alternative>,
}

/// One way a call can be decided: a write with an existence check is `create` for a new key
/// and `update` for an existing one.
#[derive(Clone, Debug)]
pub struct Alternative {
    pub note: Option<String>,
    pub request: Request,
}

/// Builds the calls from the positional words (`OPERATION PATH` or `vault ...`), the
/// `--data key=value` pairs and the `--wrap-ttl` value.
pub fn build(
    words: &[String],
    data_pairs: &[String],
    wrap_ttl: Option<&str>,
    mounts: &Mounts,
) -> Result<Vec<Call>, CliError> {
    let data = parse_data(data_pairs)?;
    let wrap_ttl = match wrap_ttl {
        Some(text) => Some(
            crate::scenario::vault_cli::parse_seconds(text).map_err(|error| {
                CliError::usage(format!("invalid `--wrap-ttl` `{text}`: {}", error.message))
                    .with_help("give seconds (`300`) or a duration (`5m`)")
            })?,
        ),
        None => None,
    };
    if matches!(words.first().map(String::as_str), Some("vault" | "bao")) {
        return command_calls(&words.join(" "), &data, wrap_ttl, mounts);
    }
    let [operation, path] = words else {
        return Err(CliError::usage(format!(
            "expected `OPERATION PATH`, got {} word(s)",
            words.len()
        ))
        .with_help("e.g. `read secret/data/ai/openai`, or a CLI command after `--`: `-- vault kv get secret/ai/openai`"));
    };
    let operation: Operation = operation.parse().map_err(|message: String| {
        CliError::usage(message).with_help(
            "use one of `read`, `list`, `create`, `update`, `patch`, `delete`, `scan`, `recover`, `help`",
        )
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
    Ok(vec![Call {
        command: None,
        label: None,
        alternatives: vec![Alternative {
            note: None,
            request,
        }],
    }])
}

fn command_calls(
    command: &str,
    data: &serde_json::Map<String, serde_json::Value>,
    wrap_ttl: Option<i64>,
    mounts: &Mounts,
) -> Result<Vec<Call>, CliError> {
    let translation = crate::scenario::vault_cli::translate(command, mounts).map_err(|error| {
        let mut cli_error = CliError::usage(error.message.clone());
        cli_error.help = error.help.clone();
        cli_error
    })?;
    // The kv preflight is decided by mount visibility (spec 3.5), not by one rule.
    let preflight = translation.preflight.as_ref().map(|preflight| {
        format!(
            " (after the preflight `GET {}`, allowed when the token can see mount `{}`)",
            preflight.path, preflight.mount
        )
    });
    let mut calls = Vec::new();
    for call in translation.calls {
        let mut request = call.request.clone();
        request.data.extend(data.clone());
        request.wrap_ttl = wrap_ttl.or(request.wrap_ttl);
        let mut label = format!("`{} {}`", call.method, request.path);
        if calls.is_empty() {
            label.push_str(preflight.as_deref().unwrap_or(""));
        }
        let alternatives = if call.create_or_update {
            let create = Request {
                operation: Operation::Create,
                ..request.clone()
            };
            vec![
                Alternative {
                    note: Some("as `create` (a new key)".into()),
                    request: create,
                },
                Alternative {
                    note: Some("as `update` (an existing key)".into()),
                    request,
                },
            ]
        } else {
            vec![Alternative {
                note: None,
                request,
            }]
        };
        calls.push(Call {
            command: Some(command.to_string()),
            label: Some(label),
            alternatives,
        });
    }
    Ok(calls)
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
