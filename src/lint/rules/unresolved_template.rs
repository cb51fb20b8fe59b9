//! ## What it does
//! Flags a templated path (`{{identity.entity.metadata.team}}`, ...) that cannot resolve for
//! a role or entity of the inventory: no such metadata key, no alias on that mount accessor,
//! not a member of the named group, or (OpenBao) a substituted value containing `/`, `*` or
//! `+`. Runs on roles and entities of the inventory in `capable.yaml`.
//!
//! ## Why is this bad?
//! When substitution fails, Vault and OpenBao silently skip that path rule (spec 1.8): the
//! subject simply lacks the access, and nothing in the server logs says why. The policy looks
//! right and the token looks right; only the combination is broken. On OpenBao a value with
//! `/`, `*` or `+` is worse: the token's ACL cannot be built and every request fails.
//!
//! ## Example
//! ```hcl
//! # team.hcl, held by a role whose entity has no `team` metadata
//! path "secret/data/teams/{{identity.entity.metadata.team}}/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! Give the entity the metadata (or alias, or group membership) the template needs, or do
//! not attach the policy to that role.
//!
//! ## References
//! - spec section 1.8 (templated policies)

use crate::acl::{AclError, Identity};
use crate::diag::{Diagnostic, Severity};
use crate::lint::{Category, PolicyContext, RoleContext, RoleFinding as Finding, Rule, RuleMeta};
use crate::policy::Rule as PolicyRule;
use crate::target::Target;

pub struct UnresolvedTemplate;

impl Rule for UnresolvedTemplate {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "unresolved-template",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "a templated path cannot resolve for a role or entity, so it is skipped",
            source: include_str!("unresolved_template.rs"),
        }
    }

    /// Role-level only: see [`check_role`].
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let _ = (ctx, out);
    }
}

/// For each templated rule of each file policy of the subject: whether the ACL built with
/// the subject's identity keeps it. Cost: see [`check_subject`].
pub fn check_role(ctx: &RoleContext<'_>, out: &mut Vec<Finding>) {
    check_subject(ctx.file_policies(), ctx.identity, ctx.target, out);
}

/// [`check_role`] from the subject's policies alone (the rule needs no merged ACL, so an
/// entity's is never built). Policies not from files (built-ins) are passed over. Cost:
/// O(size of the templated policies), each policy's template step judged on its own
/// ([`crate::acl::kept_rules`]).
pub fn check_subject<'p>(
    policies: impl IntoIterator<Item = &'p crate::policy::Policy>,
    identity: Option<&Identity>,
    target: Target,
    out: &mut Vec<Finding>,
) {
    let meta = UnresolvedTemplate.meta();
    let file_policies = policies
        .into_iter()
        .filter(|policy| !policy.source.name.starts_with('<'));
    for policy in file_policies.filter(|p| p.templated) {
        // OpenBao refuses the whole policy when one substitution is forbidden: then only the
        // rules whose own substitution is at fault are reported.
        let (kept, refused) = match crate::acl::kept_rules(policy, target, identity) {
            Ok(kept) => (kept, false),
            Err(AclError::TemplatedPolicy { .. }) => (vec![false; policy.rules.len()], true),
            Err(_) => continue,
        };
        let unkept = policy
            .rules
            .iter()
            .zip(kept)
            .filter(|(_, kept)| !kept)
            .map(|(rule, _)| rule);
        for rule in unkept.filter(|r| r.is_templated() && !r.expired) {
            let (reason, consequence) = why_unresolved(rule, identity, target);
            if refused && consequence == SKIPPED {
                continue;
            }
            let message = format!(
                "`{}` does not resolve for {{subjects}}: {reason}, so {consequence}",
                crate::diag::shorten(&rule.raw_pattern)
            );
            out.push((
                policy.source.clone(),
                Diagnostic::new(meta.id, meta.severity, rule.pattern_span, message)
                    .with_label("skipped for this subject")
                    .with_help("give the entity what the template needs (metadata, alias, group), or detach the policy"),
            ));
        }
    }
}

const SKIPPED: &str = "the rule is skipped";

/// The first template variable that the identity cannot fill, in words, and what follows.
fn why_unresolved(
    rule: &PolicyRule,
    identity: Option<&Identity>,
    target: Target,
) -> (String, &'static str) {
    let Some(identity) = identity else {
        return ("the token has no identity".into(), SKIPPED);
    };
    for variable in &rule.template_vars {
        let name = variable
            .value
            .trim_matches(|c| c == '{' || c == '}' || c == ' ');
        if let Some(reason) = missing(name, identity) {
            return (reason, SKIPPED);
        }
    }
    if target.is_openbao() {
        // Observed on OpenBao 2.7.2: the token's ACL cannot be built, so every request of the
        // token fails with `Forbidden`, not only this path.
        return (
            "a substituted value contains `/`, `*` or `+`, which OpenBao forbids".into(),
            "every request of the token fails (`Forbidden`)",
        );
    }
    // Vault's newest `identitytpl` refuses a substituted `*` or `+` (spec 1.8).
    (
        "a substituted value contains `*` or `+`, which Vault refuses".into(),
        SKIPPED,
    )
}

fn missing(name: &str, identity: &Identity) -> Option<String> {
    let parts: Vec<&str> = name.split('.').collect();
    let has_entity = !identity.entity_id.is_empty();
    match parts.as_slice() {
        ["identity", "entity", "id"] if !has_entity => Some("there is no entity".into()),
        ["identity", "entity", "name"] if identity.entity_name.is_empty() => {
            Some("the entity has no name".into())
        }
        ["identity", "entity", "metadata", key @ ..] => {
            let key = key.join(".");
            if !has_entity {
                return Some("there is no entity".into());
            }
            let found = identity.metadata.get(&key).is_some_and(|v| !v.is_empty());
            (!found).then(|| format!("the entity has no metadata `{key}`"))
        }
        ["identity", "entity", "aliases", accessor, rest @ ..] => {
            let Some(alias) = identity
                .aliases
                .iter()
                .find(|a| a.mount_accessor == *accessor)
            else {
                return Some(format!(
                    "the entity has no alias on mount accessor `{accessor}`"
                ));
            };
            match rest {
                ["metadata", key @ ..] => {
                    let key = key.join(".");
                    (!alias.metadata.contains_key(&key))
                        .then(|| format!("the alias on `{accessor}` has no metadata `{key}`"))
                }
                ["custom_metadata", key @ ..] => {
                    let key = key.join(".");
                    (!alias.custom_metadata.contains_key(&key)).then(|| {
                        format!("the alias on `{accessor}` has no custom metadata `{key}`")
                    })
                }
                _ => None,
            }
        }
        ["identity", "groups", "names", group, rest @ ..] => {
            let Some(found) = identity.groups.iter().find(|g| g.name == *group) else {
                return Some(format!("it is not a member of group `{group}`"));
            };
            group_metadata(rest, &found.metadata, group)
        }
        ["identity", "groups", "ids", id, rest @ ..] => {
            let Some(found) = identity.groups.iter().find(|g| g.id == *id) else {
                return Some(format!("it is not a member of group id `{id}`"));
            };
            group_metadata(rest, &found.metadata, id)
        }
        ["identity", ..] | ["time", ..] => None,
        _ => Some(format!("`{name}` is not a template variable")),
    }
}

fn group_metadata(
    rest: &[&str],
    metadata: &std::collections::BTreeMap<String, String>,
    group: &str,
) -> Option<String> {
    match rest {
        ["metadata", key @ ..] => {
            let key = key.join(".");
            (!metadata.contains_key(&key))
                .then(|| format!("group `{group}` has no metadata `{key}`"))
        }
        _ => None,
    }
}
