//! Merging policies into an ACL and deciding requests with Vault's exact priority.
//!
//! Public surface (used by `cli`, `lint`, `scenario`):
//! - [`Acl::new`] merges policies (spec section 2) for a target and an optional identity;
//! - [`Acl::capabilities`] answers like `sys/capabilities` (spec 3.8), with an explanation;
//! - [`Acl::authorize`] decides one request (spec 3.2-3.7, section 6);
//! - [`Acl::rules`] lists the merged rules (one per store and key);
//! - [`Acl::with_default`] adds the target's built-in `default` policy, [`Acl::with_options`]
//!   takes OpenBao's template flags and a fixed clock;
//! - [`Acl::has_mount_access`] answers the `kv` CLI preflight (spec 3.5);
//! - walks for lints and queries: [`Acl::exact_rules_under`], [`Acl::prefix_rules_under`],
//!   [`Acl::prefix_rules_covering`], [`Acl::wildcard_rules`], [`Acl::matching_rules`];
//! - verdicts without explanation: [`Acl::capability_set`], [`Acl::is_allowed`],
//!   [`Acl::verdict`] (the winner borrowed).
//!
//! Layout: `merge` builds the stores (spec 2), `store` holds the radix tree and segment trie,
//! `priority` the comparator (3.4), `lookup` the per-target lookup (3.3), `params` parameter
//! and pagination checks (3.7, 3.9), `template` identity templates (1.8), `explain` the answers.

pub mod builtin;
mod explain;
mod identity;
mod kept;
mod lookup;
mod merge;
mod params;
mod priority;
pub mod reference;
mod request;
mod store;
pub(crate) use store::{FastMap, FastSet};
mod template;
mod types;

pub use identity::{Alias, Group, Identity};
pub use kept::kept_rules;
pub use params::glob_matches;
pub use request::{Operation, Request};
pub use template::{directive_shape, label_directives, DirectiveShape, TemplateFlags};
pub use types::{
    Acl, AclError, AclOptions, Candidate, Decision, DenyReason, Explanation, LookupStep,
    MergedExtra, MergedRule, PriorityStep, RuleSource, SkippedRule, Sources, Verdict,
};

#[cfg(test)]
mod tests;
