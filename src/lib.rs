//! capable: lint, test and simulate HashiCorp Vault and OpenBao ACL policies offline.
//!
//! The pipeline: policy text → [`hcl1`] (syntax tree with spans) → [`policy`] (our model,
//! validated exactly as the target's write path) → [`acl`] (merged per token, exact lookup
//! priority) → answers (`check`, `caps`, ...). The syntax tree is forgotten after lowering;
//! every model node keeps its [`span::Span`] so diagnostics can point at the source.

pub mod acl;
pub mod agent;
pub mod atomic_write;
pub mod audit;
pub mod baseline;
pub mod cache;
pub mod check;
pub mod cli;
pub mod config;
pub mod diag;
pub mod diff;
pub mod endpoints;
pub mod fmt;
pub mod fuzz_entry;
pub mod guards;
pub mod hcl1;
pub mod input;
pub mod inventory;
pub mod lint;
pub mod mounts;
pub mod namespace;
pub mod policy;
pub mod pull;
pub mod query;
pub mod report;
pub mod revision;
pub mod scenario;
pub mod source;
pub mod span;
pub mod suggest;
pub mod target;
pub mod terraform;
pub mod workspace;
