//! ## What it does
//! Flags a rule of a role's policy that allowed every parameter, but whose merged rule in the
//! role's ACL is restricted by `allowed_parameters` (or `denied_parameters`) that another of
//! the role's policies set on the same pattern. Runs on roles of the inventory.
//!
//! ## Why is this bad?
//! Rules with the same pattern merge (spec 2): a rule without `allowed_parameters` allows
//! everything, but once another policy adds `allowed_parameters` on that pattern the merged
//! rule allows only the listed keys. Adding a policy to a role can therefore take access
//! away, silently, from requests that worked before.
//!
//! ## Example
//! ```hcl
//! # app.hcl
//! path "auth/token/create" { capabilities = ["update"] }
//! # limits.hcl, attached to the same role
//! path "auth/token/create" {
//!   capabilities = ["update"]
//!   allowed_parameters = { "ttl" = [] }
//! }
//! ```
//!
//! ## Use instead
//! Keep parameter constraints for a path in one policy, or list every parameter the role
//! needs in the constrained rule.
//!
//! ## References
//! - spec section 2 ("Restriction effect"), 3.7

use crate::acl::FastMap;
use crate::acl::MergedRule;
use crate::diag::{Diagnostic, Severity};
use crate::lint::wording::ticked;
use crate::lint::{Category, PolicyContext, RoleContext, RoleFinding as Finding, Rule, RuleMeta};
use crate::policy::{ParamMap, Policy, Rule as PolicyRule};
use crate::span::Span;

pub struct ParametersNarrowedByMerge;

impl Rule for ParametersNarrowedByMerge {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "parameters-narrowed-by-merge",
            severity: Severity::Warning,
            category: Category::Correctness,
            summary: "another policy of the role restricts the parameters this rule allowed freely",
            source: include_str!("parameters_narrowed_by_merge.rs"),
        }
    }

    /// Role-level only: see [`check_role`].
    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let _ = (ctx, out);
    }
}

fn constrains(map: &Option<ParamMap>) -> bool {
    map.as_ref().is_some_and(|m| !m.is_empty())
}

/// Whether an allowed map lets every parameter through (`{"*" = []}` alone).
fn allows_everything(map: &ParamMap) -> bool {
    map.len() == 1 && map.get("*").is_some_and(|entry| entry.values.is_empty())
}

/// The role's blocks by policy name, then pattern span: where a merged rule's source came
/// from. As [`RoleContext::policy`] does, a name means its first policy.
type Blocks<'a> = FastMap<String, (&'a Policy, FastMap<Span, &'a PolicyRule>)>;

fn blocks<'a>(ctx: &RoleContext<'a>) -> Blocks<'a> {
    let mut found: Blocks<'a> = FastMap::default();
    for policy in ctx.policies {
        let entry = found
            .entry(policy.qualified_name())
            .or_insert_with(|| (policy, FastMap::default()));
        if !std::ptr::eq(entry.0, policy) {
            continue;
        }
        for rule in &policy.rules {
            entry.1.entry(rule.pattern_span).or_insert(rule);
        }
    }
    found
}

/// For each merged rule with parameter constraints: every contributing block (of a file
/// policy) that had none. Cost: O(blocks) to index the role's blocks once, then
/// O(sources²) per narrowed merged rule (each source against the others).
pub fn check_role(ctx: &RoleContext<'_>, out: &mut Vec<Finding>) {
    let meta = ParametersNarrowedByMerge.meta();
    let mut index: Option<Blocks<'_>> = None;
    for merged in ctx.acl.rules() {
        if merged.capabilities.is_deny() || merged.sources.len() < 2 {
            continue;
        }
        let narrowed_allowed = merged
            .extra()
            .allowed_parameters
            .as_ref()
            .is_some_and(|m| !m.is_empty() && !allows_everything(m));
        let narrowed_denied = constrains(&merged.extra().denied_parameters);
        if !narrowed_allowed && !narrowed_denied {
            continue;
        }
        let index = index.get_or_insert_with(|| blocks(ctx));
        let block = |policy: &str, span: Span| {
            let (policy, rules) = index.get(policy)?;
            rules.get(&span).map(|rule| (*policy, *rule))
        };
        for source in &merged.sources {
            let Some((policy, rule)) = block(&source.policy, source.pattern_span) else {
                continue;
            };
            if rule.capabilities.is_deny() || policy.source.name.starts_with('<') {
                continue;
            }
            // The other policies whose blocks on this pattern constrain that parameter map.
            let restricting = |kind: ParamKind| -> Vec<String> {
                merged
                    .sources
                    .iter()
                    .filter(|s| s.policy != source.policy)
                    .filter(|s| {
                        block(&s.policy, s.pattern_span)
                            .is_some_and(|(_, r)| constrains(kind.of_rule(r)))
                    })
                    .map(|s| s.policy.to_string())
                    .collect()
            };
            let kinds = [
                (ParamKind::Allowed, narrowed_allowed),
                (ParamKind::Denied, narrowed_denied),
            ];
            for (kind, narrowed) in kinds {
                if !narrowed || constrains(kind.of_rule(rule)) {
                    continue;
                }
                let by = restricting(kind);
                if by.is_empty() {
                    continue;
                }
                let keys = kind.of_merged(merged).iter().flat_map(|m| m.keys());
                let message = kind.message(&merged.pattern.normalized, ticked(keys), ticked(by));
                out.push((
                    policy.source.clone(),
                    diagnostic(meta.id, meta.severity, rule, message),
                ));
            }
        }
    }
}

/// The two parameter maps a merge can narrow.
#[derive(Clone, Copy)]
enum ParamKind {
    Allowed,
    Denied,
}

impl ParamKind {
    fn of_rule(self, rule: &PolicyRule) -> &Option<ParamMap> {
        match self {
            ParamKind::Allowed => &rule.extra().allowed_parameters,
            ParamKind::Denied => &rule.extra().denied_parameters,
        }
    }

    fn of_merged(self, merged: &MergedRule) -> &Option<ParamMap> {
        match self {
            ParamKind::Allowed => &merged.extra().allowed_parameters,
            ParamKind::Denied => &merged.extra().denied_parameters,
        }
    }

    fn message(self, pattern: &str, keys: String, by: String) -> String {
        match self {
            ParamKind::Allowed => format!(
                "for {{subjects}}, `{pattern}` allows only the parameters {keys}: `allowed_parameters` in {by} narrow this rule, which allowed every parameter"
            ),
            ParamKind::Denied => format!(
                "for {{subjects}}, `{pattern}` denies the parameters {keys}: `denied_parameters` in {by} apply to this rule too"
            ),
        }
    }
}

fn diagnostic(
    id: &'static str,
    severity: Severity,
    rule: &PolicyRule,
    message: String,
) -> Diagnostic {
    Diagnostic::new(id, severity, rule.pattern_span, message)
        .with_label("parameters narrowed by another policy")
        .with_help("keep the parameter constraints of a path in one policy, or list every parameter the role needs")
}
