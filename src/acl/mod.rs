//! Merging policies into an ACL and deciding requests with Vault's exact priority.
//!
//! Public surface (used by `cli`, `lint`, `scenario`):
//! - [`Acl::new`] merges policies (spec section 2) for a target and an optional identity;
//! - [`Acl::capabilities`] answers like `sys/capabilities` (spec 3.8), with an explanation;
//! - [`Acl::authorize`] decides one request (spec 3.2-3.7, section 6);
//! - [`Acl::rules`] lists the merged rules (one per store and key).

pub mod builtin;
mod explain;
mod identity;
mod lookup;
mod merge;
mod params;
mod priority;
mod request;
mod store;
mod template;
mod types;

pub use identity::{Alias, Group, Identity};
pub use params::glob_matches;
pub use request::{Operation, Request};
pub use template::TemplateFlags;
pub use types::{
    Acl, AclError, AclOptions, Candidate, Decision, DenyReason, Explanation, LookupStep,
    MergedRule, PriorityStep, RuleSource, SkippedRule,
};

#[cfg(test)]
mod tests;
