//! ## What it does
//! Flags rules that let holders mint tokens: `update` on `auth/token/create` (child tokens;
//! with `sudo`, orphan tokens with any policy), `auth/token/create-orphan`,
//! `auth/token/create/<role>`, and `create`/`update` on token roles `auth/token/roles/<role>`.
//!
//! ## Why is this bad?
//! Tokens are the credentials themselves. A child token carries a subset of its parent's
//! policies, so plain `auth/token/create` is mostly a way to spread credentials (reported as
//! `info`). With `sudo` on `auth/token/create`, holders may create orphan tokens, tokens with
//! a chosen id or period, and tokens with policies **they do not have** (an escalation,
//! `error`). A token role's `allowed_policies` decide what `auth/token/create/<role>` hands
//! out, so writing roles is an escalation (`error`), and creating from any role too
//! (`warning`; from roles the policy names, `info`). Orphan tokens (`create-orphan`,
//! `warning`) outlive the token that made them and escape revocation of its tree.
//!
//! ## Example
//! ```hcl
//! path "auth/token/create" {
//!   capabilities = ["update", "sudo"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! # Let an auth method role, whose policies are reviewed, hand out tokens.
//! path "auth/approle/login" {
//!   capabilities = ["update"]
//! }
//! ```
//!
//! ## References
//! - spec section 6 (handler-level sudo checks of the token store)

use crate::acl::Operation::{self, Create, Update};
use crate::diag::{Diagnostic, Severity};
use crate::lint::holder::authorize_as_holder;
use crate::lint::probe::{Area, AreaProbe, Finding};
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};

pub struct TokenCreate;

const PROBE: AreaProbe = AreaProbe {
    areas: &[
        Area::new("auth/token/create", "auth/token/create", &[Update]),
        Area::new(
            "auth/token/create-orphan",
            "auth/token/create-orphan",
            &[Update],
        ),
        Area::new(
            "auth/token/create/*",
            "auth/token/create/anything",
            &[Update],
        ),
        Area::new(
            "auth/token/roles/*",
            "auth/token/roles/anything",
            &[Create, Update],
        ),
    ],
    label: "mints tokens",
    help: "create tokens through a named token role (`auth/token/create/<role>`) whose \
           `allowed_policies` are reviewed, without `sudo`",
};

impl Rule for TokenCreate {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "token-create",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "minting tokens: orphan tokens, tokens from roles, token role admin",
            source: include_str!("token_create.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        PROBE.report(&self.meta(), ctx, |finding| describe(ctx, finding), out);
    }
}

fn describe(ctx: &PolicyContext<'_>, finding: &Finding) -> (String, Severity) {
    let what = finding.what();
    match finding.area.pattern {
        "auth/token/create" if with_sudo(ctx) => (
            format!(
                "{what} with `sudo`: holders can mint orphan tokens carrying any policy, \
                 including policies they do not hold"
            ),
            Severity::Error,
        ),
        "auth/token/create" => (
            format!("{what}: holders can mint child tokens carrying their own policies"),
            Severity::Info,
        ),
        "auth/token/create-orphan" => (
            format!(
                "{what}: holders can mint orphan tokens that outlive them and escape \
                 revocation of their token tree"
            ),
            Severity::Warning,
        ),
        "auth/token/create/*" => (
            format!(
                "{what}: holders can mint tokens with whatever policies the role allows, \
                 not only their own"
            ),
            finding.scaled(Severity::Warning),
        ),
        _ => (
            format!(
                "{what}: holders can define a token role allowing any policy, then mint \
                 tokens from it"
            ),
            Severity::Error,
        ),
    }
}

/// Whether the rule that wins `auth/token/create` also grants `sudo`.
fn with_sudo(ctx: &PolicyContext<'_>) -> bool {
    let decision = authorize_as_holder(ctx, Operation::Update, "auth/token/create");
    decision.allowed && decision.root_privs
}
