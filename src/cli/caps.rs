//! `capable caps`: what `sys/capabilities` answers for a token holding exactly these policies.

use std::path::PathBuf;
use std::sync::Arc;

use super::{CliError, CliResult, Exit};
use crate::acl::{builtin, Acl, AclError};
use crate::diag::FileDiagnostics;
use crate::policy::{parse_policy, Policy};
use crate::report::human;
use crate::source::SourceFile;
use crate::target::Target;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Product whose semantics to follow
    #[arg(long, default_value = "vault", value_parser = parse_target)]
    pub target: Target,
    /// Also hold the target's built-in `default` policy
    #[arg(long)]
    pub default_policy: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// A policy file the token holds (repeatable); a file named `root` is the root policy
    #[arg(long = "policy", value_name = "FILE", required = true)]
    pub policies: Vec<PathBuf>,
    /// API paths to ask about, as given to `sys/capabilities`
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub(crate) fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

pub fn run(args: Args) -> CliResult {
    let policies = load_policies(&args.policies, args.target)?;
    let mut held: Vec<&Policy> = policies.iter().collect();
    let default_policy = args
        .default_policy
        .then(|| builtin::default_policy(args.target));
    if let Some(default_policy) = &default_policy {
        held.push(default_policy);
    }
    let acl = Acl::new(&held, args.target, None).map_err(|error| {
        let help = match error {
            AclError::RootWithOthers => "the root policy cannot be combined with other policies",
            _ => "the server would refuse every request of such a token; fix the policy first",
        };
        CliError::usage(error.to_string()).with_help(help)
    })?;
    let answers: Vec<(String, Vec<&'static str>)> = args
        .paths
        .iter()
        .map(|path| (path.clone(), acl.capabilities(path).0))
        .collect();
    print!("{}", render(&answers, args.format));
    Ok(Exit::Clean)
}

/// Reads and validates each policy file; any file the target would refuse stops the command
/// with its diagnostics (exit 2), since no token can hold a policy the server refused.
pub fn load_policies(paths: &[PathBuf], target: Target) -> Result<Vec<Policy>, CliError> {
    let mut policies = Vec::new();
    let mut refused = Vec::new();
    for path in paths {
        let limit = crate::input::DEFAULT_MAX_BYTES;
        let text = crate::input::read_text(path, limit).map_err(|error| {
            CliError::usage(format!("cannot read `{}`: {error}", path.display()))
        })?;
        let source = Arc::new(SourceFile::new(path.display().to_string(), text));
        let parsed = parse_policy(source.clone(), target);
        match parsed.policy {
            Some(policy) => policies.push(policy),
            None => refused.push(FileDiagnostics {
                file: source,
                diagnostics: parsed.diagnostics,
            }),
        }
    }
    if refused.is_empty() {
        return Ok(policies);
    }
    for file in &refused {
        eprint!("{}", human::render(&file.file, &file.diagnostics, false));
    }
    let names: Vec<String> = refused
        .iter()
        .map(|f| format!("`{}`", f.file.name))
        .collect();
    Err(
        CliError::usage(format!("{} would be refused by {target}", names.join(", ")))
            .with_help("run `capable check` on the file and fix the errors first"),
    )
}

fn render(answers: &[(String, Vec<&'static str>)], format: Format) -> String {
    match format {
        Format::Json => {
            let mut object = serde_json::Map::new();
            for (path, names) in answers {
                object.insert(path.clone(), serde_json::json!(names));
            }
            let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(object))
                .expect("a map of strings always serialises");
            text.push('\n');
            text
        }
        Format::Text => answers
            .iter()
            .map(|(path, names)| format!("{path}: {}\n", names.join(", ")))
            .collect(),
    }
}
