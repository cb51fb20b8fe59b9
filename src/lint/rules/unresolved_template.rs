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

use crate::acl::{AclError, DirectiveShape, Identity};
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
    for policy in judged(policies) {
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

/// What [`check_subject`] reads of an entity's own fields (not its groups) for some
/// policies: the directives and variable names of their templated rules, less those reading
/// `identity.groups`. Two identities with the same groups and the same [`EntityShape`] get
/// the same findings, so an inventory lints each distinct shape once.
#[derive(Debug, Default)]
pub struct EntityReads {
    /// As [`crate::acl::label_directives`] gives them, sorted, each once.
    directives: Vec<String>,
    /// As [`why_unresolved`] reads them, sorted, each once.
    variables: Vec<String>,
}

/// The outcome of each of an [`EntityReads`]' directives and variables for one identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntityShape {
    directives: Vec<DirectiveShape>,
    /// Per variable, why it does not resolve ([`missing`]).
    missing: Vec<Option<String>>,
}

impl EntityReads {
    /// The reads of the policies [`check_subject`] judges among `policies`. Cost: O(size of
    /// their labels).
    pub fn of<'p>(policies: impl IntoIterator<Item = &'p crate::policy::Policy>) -> EntityReads {
        let mut directives = std::collections::BTreeSet::new();
        let mut variables = std::collections::BTreeSet::new();
        for policy in judged(policies) {
            for rule in &policy.rules {
                let read = crate::acl::label_directives(&rule.raw_pattern);
                directives.extend(read.filter(|d| !reads_groups(d)).map(str::to_string));
                let names = rule.template_vars.iter().map(|v| variable_name(&v.value));
                variables.extend(names.filter(|n| !reads_groups(n)).map(str::to_string));
            }
        }
        EntityReads {
            directives: directives.into_iter().collect(),
            variables: variables.into_iter().collect(),
        }
    }

    /// The shape of `identity` for these reads; its groups are not read (a directive or
    /// variable under `identity.groups.` reads nothing else, and nothing else reads them).
    /// Cost: O(reads × (value length + identity's own fields)).
    pub fn shape(&self, identity: &Identity) -> EntityShape {
        EntityShape {
            directives: self
                .directives
                .iter()
                .map(|directive| crate::acl::directive_shape(directive, Some(identity)))
                .collect(),
            missing: self
                .variables
                .iter()
                .map(|name| missing(name, identity))
                .collect(),
        }
    }
}

/// Whether a directive or variable reads `identity.groups` (and nothing of the entity).
fn reads_groups(name: &str) -> bool {
    name.starts_with("identity.groups.")
}

/// A variable's name as written between the braces.
fn variable_name(value: &str) -> &str {
    value.trim_matches(|c| c == '{' || c == '}' || c == ' ')
}

/// The policies [`check_subject`] judges: templated ones from files (not built-ins).
fn judged<'p>(
    policies: impl IntoIterator<Item = &'p crate::policy::Policy>,
) -> impl Iterator<Item = &'p crate::policy::Policy> {
    policies.into_iter().filter(|policy| is_judged(policy))
}

/// Whether [`check_subject`] judges `policy` (the others it passes over).
pub fn is_judged(policy: &crate::policy::Policy) -> bool {
    !policy.source.name.starts_with('<') && policy.templated
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
        if let Some(reason) = missing(variable_name(&variable.value), identity) {
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
