//! `capable pull [--addr URL] [--namespace NS] [--out DIR]`: read a live server (read-only) and
//! write its policies and inventory (see [`crate::pull`]); `--print-policy` prints the
//! read-only policy the token needs.
//!
//! Exit: 0 when pulled, 2 on usage, connection, permission or write errors (nothing is written
//! then), 3 on an internal error.

use super::HumanOrJson;
use std::path::{Path, PathBuf};

use super::{CliError, CliResult, Exit};
use crate::pull::client::{Endpoint, PullError, Secret};
use crate::pull::progress::Progress;
use crate::pull::{PullOptions, PullReport};
use crate::target::Target;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "The token comes from `VAULT_TOKEN` or `BAO_TOKEN`, or `--token-file`; \
it is never printed or written. `https://` is verified with rustls (the bundled Mozilla roots, \
or only the CAs of `--ca-cert`); plain `http://` is refused except to a loopback address. \
Only GET and LIST requests are sent. Exit status: 0 pulled, 2 usage, connection, permission or \
write errors (nothing written), 3 internal error."
)]
pub struct Args {
    /// Server address [default: `VAULT_ADDR`, else `BAO_ADDR`]
    #[arg(long, value_name = "URL")]
    pub addr: Option<String>,
    /// The namespace to pull (`admin/team-a`) [default: `VAULT_NAMESPACE`, else
    /// `BAO_NAMESPACE`, else the root namespace]; the namespaces below it are pulled too unless
    /// `--no-children`
    #[arg(long, short = 'n', value_name = "NS", value_parser = super::parse_namespace)]
    pub namespace: Option<String>,
    /// Pull only the namespace itself, not the namespaces below it
    #[arg(long)]
    pub no_children: bool,
    /// The folder written: `capable.yaml` and `policies/` [default: the working directory]
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Overwrite (and remove) files with uncommitted changes
    #[arg(long)]
    pub force: bool,
    /// Read the token from this file instead of `VAULT_TOKEN`/`BAO_TOKEN`
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM file of the CA certificates to trust (only these) [default: `VAULT_CACERT`, else
    /// `BAO_CACERT`, else the bundled Mozilla roots]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate for servers that ask for one [default: `VAULT_CLIENT_CERT`,
    /// else `BAO_CLIENT_CERT`]
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// PEM key of `--client-cert` [default: `VAULT_CLIENT_KEY`, else `BAO_CLIENT_KEY`]
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// The target written into `capable.yaml` [default: from the server's version: OpenBao for
    /// 2.x, else Vault]
    #[arg(long, value_name = "vault|openbao", value_parser = crate::cli::caps::parse_target)]
    pub target: Option<Target>,
    /// Print the minimal read-only policy pull needs, and exit (no server contacted)
    #[arg(long)]
    pub print_policy: bool,
    /// No progress line (a summary line is still printed)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format: `human` (warnings and a summary line on stderr) or `json` (the same on
    /// stdout, with every file by what happened to it)
    #[arg(long, value_enum, default_value_t = HumanOrJson::Human)]
    pub format: HumanOrJson,
}

pub fn run(args: Args) -> CliResult {
    if args.print_policy {
        super::write_stdout(&crate::pull::access::minimal_policy(!args.no_children))?;
        return Ok(Exit::Clean);
    }
    let endpoint = endpoint(&args)?;
    let namespace = match &args.namespace {
        Some(namespace) => namespace.clone(),
        None => match env_pair("VAULT_NAMESPACE", "BAO_NAMESPACE")? {
            Some(text) => super::parse_namespace(&text).map_err(|message| {
                CliError::usage(format!("`VAULT_NAMESPACE`/`BAO_NAMESPACE`: {message}"))
            })?,
            None => String::new(),
        },
    };
    let options = PullOptions {
        endpoint,
        namespace,
        children: !args.no_children,
        out: args.out.clone(),
        force: args.force,
        target: args.target,
    };
    let mut progress = Progress::new(args.quiet);
    match crate::pull::pull(&options, &mut progress) {
        Ok(report) => {
            match args.format {
                HumanOrJson::Human => print_report(&report, &options),
                HumanOrJson::Json => super::write_stdout(&json_report(&report))?,
            }
            Ok(Exit::Clean)
        }
        Err(error) => {
            progress.finish();
            Err(cli_error(error))
        }
    }
}

/// The address, token and TLS files from the flags and the environment.
fn endpoint(args: &Args) -> Result<Endpoint, CliError> {
    let addr = match &args.addr {
        Some(addr) => addr.clone(),
        None => env_pair("VAULT_ADDR", "BAO_ADDR")?.ok_or_else(|| {
            CliError::usage("no server address")
                .with_help("pass `--addr https://HOST:8200` or set `VAULT_ADDR` or `BAO_ADDR`")
        })?,
    };
    let token = match &args.token_file {
        Some(path) => read_token_file(path)?,
        None => env_pair("VAULT_TOKEN", "BAO_TOKEN")?
            .map(|t| Secret::new(&t))
            .ok_or_else(|| {
                CliError::usage("no token")
                    .with_help("set `VAULT_TOKEN` or `BAO_TOKEN`, or pass `--token-file FILE`")
            })?,
    };
    let path_env =
        |flag: &Option<PathBuf>, vault: &str, bao: &str| -> Result<Option<PathBuf>, CliError> {
            match flag {
                Some(path) => Ok(Some(path.clone())),
                None => Ok(env_pair(vault, bao)?.map(PathBuf::from)),
            }
        };
    Ok(Endpoint {
        addr,
        token,
        ca_cert: path_env(&args.ca_cert, "VAULT_CACERT", "BAO_CACERT")?,
        client_cert: path_env(&args.client_cert, "VAULT_CLIENT_CERT", "BAO_CLIENT_CERT")?,
        client_key: path_env(&args.client_key, "VAULT_CLIENT_KEY", "BAO_CLIENT_KEY")?,
    })
}

/// The Vault variable, else the OpenBao one; both set to different values is an error (which
/// one would be meant is a guess), naming the variables only.
fn env_pair(vault: &str, bao: &str) -> Result<Option<String>, CliError> {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    match (read(vault), read(bao)) {
        (Some(a), Some(b)) if a.trim() != b.trim() => Err(CliError::usage(format!(
            "`{vault}` and `{bao}` are both set, to different values"
        ))
        .with_help("unset one of them, or pass the value as a flag")),
        (Some(value), _) | (None, Some(value)) => Ok(Some(value)),
        (None, None) => Ok(None),
    }
}

fn read_token_file(path: &Path) -> Result<Secret, CliError> {
    let text = crate::input::read_text(path, 64 * 1024).map_err(|error| {
        CliError::usage(format!(
            "cannot read the token file `{}`: {error}",
            path.display()
        ))
    })?;
    let token = Secret::new(&text);
    if token.is_empty() {
        return Err(CliError::usage(format!(
            "the token file `{}` is empty",
            path.display()
        )));
    }
    Ok(token)
}

fn cli_error(error: PullError) -> CliError {
    match error {
        PullError::Usage { message, help } => CliError {
            message,
            help,
            exit: Exit::Usage,
        },
        PullError::Connect { message, help } => CliError::usage(message).with_help(help),
        PullError::Denied(denials) => {
            let mut message = format!(
                "permission denied: the token may not make {} of the requests pull needs",
                denials.len()
            );
            for denial in &denials {
                message.push_str(&format!("\n  {denial}"));
            }
            let mut help = "nothing was written; `capable pull --print-policy` prints a \
                            read-only policy that allows every request pull makes"
                .to_string();
            if denials.iter().any(|d| d.path.starts_with("sys/namespaces")) {
                help.push_str("; `--no-children` pulls without listing child namespaces");
            }
            CliError::usage(message).with_help(help)
        }
        PullError::Server { message } => CliError::usage(message)
            .with_help("nothing was written; check the server's log for the request"),
        PullError::Internal(message) => CliError {
            message: format!("internal error in capable pull: {message}"),
            help: Some("this is a bug; please report it (nothing was written)".into()),
            exit: Exit::Internal,
        },
    }
}

/// Warnings, then one summary line, on stderr.
fn print_report(report: &PullReport, options: &PullOptions) {
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let counts = &report.counts;
    let written = &report.written;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    eprintln!(
        "pulled {}, {}, {}, {}, {} ({}, {}) into `{}`: {} created, {} updated, {} removed, {} unchanged",
        plural(counts.policies, "policy", "policies"),
        plural(counts.roles, "role", "roles"),
        plural(counts.groups, "group", "groups"),
        plural(counts.entities, "entity", "entities"),
        plural(counts.mounts, "mount", "mounts"),
        plural(counts.namespaces, "namespace", "namespaces"),
        plural(report.requests, "request", "requests"),
        options.out.display(),
        written.created.len(),
        written.updated.len(),
        written.removed.len(),
        written.unchanged.len(),
    );
}

/// The `--format json` document (`version` 1).
fn json_report(report: &PullReport) -> String {
    let counts = &report.counts;
    let written = &report.written;
    let document = serde_json::json!({
        "version": 1,
        "target": report.target.to_string(),
        "counts": {
            "namespaces": counts.namespaces,
            "policies": counts.policies,
            "roles": counts.roles,
            "groups": counts.groups,
            "entities": counts.entities,
            "mounts": counts.mounts,
        },
        "files": {
            "created": written.created,
            "updated": written.updated,
            "removed": written.removed,
            "unchanged": written.unchanged,
        },
        "requests": report.requests,
        "warnings": report.warnings,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
