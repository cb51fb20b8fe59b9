//! `capable reach`: what a subject can do, as path regions with their carve-outs.
//!
//! Exit status: 0 when the answer is printed (whatever it is), 2 on usage or input errors.

use super::HumanOrJson;
use super::{CliError, CliResult, Exit};
use crate::acl::Acl;
use crate::policy::Capability;
use crate::query::reach::Reach;
use crate::query::reach_report::{write_human, Header, ReachJson};
use crate::query::subject::SubjectArgs;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Each capability lists Vault patterns with their exceptions: a path holds \
the capability exactly when it matches a listed pattern and none of its exceptions. Exit status: 0 \
when answered, 2 on usage or input errors."
)]
pub struct Args {
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Only this capability (`read`, `list`, `update`, ...)
    #[arg(long, value_name = "CAPABILITY")]
    pub capability: Option<String>,
    /// Only paths starting with this prefix (e.g. `secret/data/ai/`)
    #[arg(long, value_name = "PREFIX")]
    pub under: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = HumanOrJson::Human)]
    pub format: HumanOrJson,
}

pub fn run(args: Args) -> CliResult {
    let mut resolved = args.subject.resolve()?;
    // Mount kinds: the declared mounts, then what the subject's own patterns show.
    let mounts = crate::endpoints::MountMap::from_patterns(
        resolved.target,
        &resolved.mounts,
        resolved.acl.rules().into_iter().map(|rule| &rule.pattern),
    );
    // The regions take the ACL's rules; its lookup stores are freed before they are built.
    let acl = std::mem::replace(&mut resolved.acl, Acl::empty_of(resolved.target));
    let reach = Reach::from_acl(acl);
    let capabilities = match &args.capability {
        Some(name) => vec![parse_capability(name, resolved.target)?],
        None => reach.granted_capabilities(),
    };
    // Asked in a namespace: the regions inside it, shown as full paths.
    let in_namespace = (!resolved.namespace.is_empty())
        .then(|| resolved.full_path(args.under.as_deref().unwrap_or("")));
    let under = in_namespace.as_deref().or(args.under.as_deref());
    let answers: Vec<_> = capabilities
        .into_iter()
        .map(|capability| reach.capability(capability, under))
        .collect();
    let namespace = resolved.namespace.as_str();
    let header = Header {
        subject: &resolved.subject,
        policies: &resolved.policies,
        mounts: &mounts,
        namespace,
    };
    match args.format {
        HumanOrJson::Human => super::write_stdout_with(|out| {
            if !namespace.is_empty() {
                writeln!(
                    out,
                    "in namespace `{namespace}` (paths are full paths: `{namespace}` and the path in it)"
                )?;
            }
            write_human(out, &header, &reach, &answers)
        })?,
        HumanOrJson::Json => super::write_stdout_with(|out| {
            let json = ReachJson {
                header: &header,
                reach: &reach,
                answers: &answers,
            };
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)
        })?,
    }
    Ok(Exit::Clean)
}

fn parse_capability(name: &str, target: crate::target::Target) -> Result<Capability, CliError> {
    match Capability::parse(name, target) {
        Some(Capability::Deny) | None => Err(CliError::usage(format!(
            "`{name}` is not a capability a {target} token can hold"
        ))
        .with_help("use one of `read`, `list`, `create`, `update`, `patch`, `delete`, `sudo`")),
        Some(capability) => Ok(capability),
    }
}
