//! Namespace wildcards (docs/namespaces.md rule 4): in a namespace with child namespaces, a
//! `+` first segment of a pattern is a namespace, not a mount: `+/sys/policies/acl/*` in
//! `admin/` administers the policies of every child namespace of `admin/`, and `team-*` covers
//! everything in the children whose names start with `team-`.
//!
//! [`child_view`] rewrites those rules as the child namespaces see them (`sys/policies/acl/*`,
//! `*`), so the admin rules judge them there and say "in every child namespace"; `check` drops
//! `wildcard-mount` for them. Cost: O(blocks) to build the view, plus the admin rules' own.

use crate::policy::{PathPattern, PatternKind, Policy, Rule};

/// The rules whose findings on a child view are about child namespaces (the admin rules,
/// `grants-everything` for a glob first segment, whose child view is `*`, and
/// `sudo-unneeded`, whose answer depends on the paths the children see).
pub const ADMIN_RULES: &[&str] = &[
    "audit-admin",
    "auth-method-admin",
    "auth-role-admin",
    "grants-everything",
    "identity-admin",
    "mount-admin",
    "plugin-admin",
    "policy-admin",
    "seal-admin",
    "raw-storage",
    "sudo-unneeded",
    "token-create",
];

/// How a rule's first segment reaches into child namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// `+/rest`: `rest` in every direct child namespace.
    EveryChild,
    /// `team-*`: everything in the children whose names start with `team-`.
    ChildrenStartingWith(String),
}

impl Reach {
    /// The words appended to a finding.
    pub fn words(&self, namespace: &str) -> String {
        let parent = crate::namespace::display(namespace);
        match self {
            Reach::EveryChild => format!("in every child namespace of `{parent}`"),
            Reach::ChildrenStartingWith(stem) => {
                format!("in every child namespace of `{parent}` whose name starts with `{stem}`")
            }
        }
    }
}

/// How `pattern` reaches into child namespaces, and the pattern as they see it; `None` when
/// its first segment is literal (or the pattern is the bare `*`, left to `grants-everything`).
pub fn namespace_wildcard(pattern: &PathPattern) -> Option<(Reach, PathPattern)> {
    if let Some(rest) = pattern.normalized.strip_prefix("+/") {
        let inner = PathPattern::parse(rest).ok()?;
        return Some((Reach::EveryChild, inner));
    }
    let glob_first = pattern.kind == PatternKind::Prefix
        && !pattern.key().is_empty()
        && !pattern.key().contains('/');
    if !glob_first {
        return None;
    }
    let everything = PathPattern::parse("*").ok()?;
    Some((
        Reach::ChildrenStartingWith(pattern.key().to_string()),
        everything,
    ))
}

/// The policy as its namespace's children see its namespace-wildcard rules: those rules only,
/// each with the pattern a child sees (spans kept, so findings point at the original label),
/// and per rule its block's span and how it reaches. `None` when no rule is a namespace
/// wildcard.
pub fn child_view(policy: &Policy) -> Option<(Policy, Vec<(crate::span::Span, Reach)>)> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut reaches = Vec::new();
    for rule in &policy.rules {
        let Some(pattern) = &rule.pattern else {
            continue;
        };
        let Some((reach, inner)) = namespace_wildcard(pattern) else {
            continue;
        };
        reaches.push((rule.block_span, reach));
        rules.push(Rule {
            pattern: Some(inner),
            ..rule.clone()
        });
    }
    if rules.is_empty() {
        return None;
    }
    let view = Policy {
        rules,
        namespace: String::new(),
        ..policy.clone()
    };
    Some((view, reaches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_segment_wildcards_reach_children() {
        let plus = PathPattern::parse("+/sys/policies/acl/*").unwrap();
        let (reach, inner) = namespace_wildcard(&plus).unwrap();
        assert_eq!(reach, Reach::EveryChild);
        assert_eq!(inner.normalized, "sys/policies/acl/*");
        let glob = PathPattern::parse("team-*").unwrap();
        let (reach, inner) = namespace_wildcard(&glob).unwrap();
        assert_eq!(reach, Reach::ChildrenStartingWith("team-".into()));
        assert_eq!(inner.normalized, "*");
        for literal in ["sys/policies/acl/*", "*", "a+/x", "secret/+/x"] {
            let pattern = PathPattern::parse(literal).unwrap();
            assert!(namespace_wildcard(&pattern).is_none(), "{literal}");
        }
        assert_eq!(
            Reach::EveryChild.words("admin/"),
            "in every child namespace of `admin/`"
        );
    }
}
