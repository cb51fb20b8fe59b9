//! ## What it does
//! Flags a grant whose mount segment is a wildcard: a `+` or a glob in the first segment
//! (`+/data/*`, `kv-*`), or in the auth method segment (`auth/+/login`, `auth/*`).
//!
//! ## Why is this bad?
//! Mounts are the unit of ownership: each team's engine has its own path. A wildcard mount
//! segment grants the same access on every mount, including mounts enabled later for other
//! teams or other engines, where `data/` or `creds/` may mean something else entirely.
//! Patterns without any literal character are left to `grants-everything`.
//!
//! ## Example
//! ```hcl
//! path "+/data/app/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## Use instead
//! ```hcl
//! path "secret/data/app/*" {
//!   capabilities = ["read"]
//! }
//! ```
//!
//! ## References
//! - spec section 3.4 (segment wildcards match any segment)

use crate::acl::Operation;
use crate::diag::{Diagnostic, Severity};
use crate::lint::holder::{first_grant_through, with_trailing_slash};
use crate::lint::matching::{instances, is_all_wildcard, pattern_matches, FILLER};
use crate::lint::wording::diagnostic;
use crate::lint::{Category, PolicyContext, Rule, RuleMeta};
use crate::policy::{PathPattern, PatternKind, Rule as PolicyRule};

pub struct WildcardMount;

impl Rule for WildcardMount {
    fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: "wildcard-mount",
            severity: Severity::Warning,
            category: Category::Security,
            summary: "`+` or a glob in the mount segment: the grant applies to every mount",
            source: include_str!("wildcard_mount.rs"),
        }
    }

    fn check_policy(&self, ctx: &PolicyContext<'_>, out: &mut Vec<Diagnostic>) {
        let meta = self.meta();
        for (rule, pattern) in ctx.granting_rules() {
            if is_all_wildcard(pattern) {
                continue;
            }
            let Some((template, stem)) = mount_template(pattern) else {
                continue;
            };
            let Some((operation, witness)) = witness(ctx, rule, pattern, &template) else {
                continue;
            };
            let mounts = match stem {
                Some(stem) => format!("every mount whose name starts with `{stem}`"),
                None => "every mount".to_string(),
            };
            let message = format!(
                "`{}` applies to {mounts}, including mounts enabled later: e.g. \
                 `{operation}` on `{witness}`",
                pattern.normalized
            );
            out.push(
                diagnostic(&meta, rule.pattern_span, message)
                    .with_label("wildcard mount")
                    .with_help("name the mount: one block per mount this policy is meant for"),
            );
        }
    }
}

/// When the mount segment is a wildcard, a path template with a new mount name in it, and
/// the literal start of the mount name for a prefix glob (`kv-` for `kv-*`).
fn mount_template(pattern: &PathPattern) -> Option<(String, Option<String>)> {
    let text = pattern.normalized.as_str();
    let parts: Vec<&str> = text.split('/').collect();
    let index = usize::from(parts[0] == "auth" && parts.len() > 1);
    let segment = parts[index];
    let glob_in_segment = pattern.kind == PatternKind::Prefix && !pattern.key().contains('/')
        || (pattern.kind == PatternKind::Prefix && index == 1 && pattern.key() == "auth/")
        || (index == parts.len() - 1 && segment.ends_with('*'));
    if segment != "+" && !glob_in_segment {
        return None;
    }
    // A new mount the pattern also covers: `new-mount` for `+` or `*`, `<stem>2` for `kv-*`.
    let stem = segment.trim_end_matches('*');
    let mount = if stem.is_empty() || stem == "+" {
        "new-mount".to_string()
    } else {
        format!("{stem}2")
    };
    let mut filled: Vec<String> = parts.iter().map(|part| part.to_string()).collect();
    filled[index] = mount;
    let prefix = (!stem.is_empty() && stem != "+").then(|| stem.to_string());
    Some((filled.join("/").replace('*', FILLER), prefix))
}

/// The first (operation, path) the ACL allows through this very block, on the template or
/// on an instance of the pattern aligned with it.
fn witness(
    ctx: &PolicyContext<'_>,
    rule: &PolicyRule,
    pattern: &PathPattern,
    template: &str,
) -> Option<(Operation, String)> {
    let candidates = std::iter::once(template.to_string())
        .filter(|path| pattern_matches(pattern, path))
        .chain(instances(pattern, template));
    first_grant_through(ctx, rule, candidates, with_trailing_slash)
}
