//! Audit logs: what a Vault or OpenBao file audit device recorded, read in one streaming pass,
//! and the answers built on it.
//!
//! - [`reader`]: files, gzip and stdin, one entry at a time in constant memory; bad lines are
//!   counted and reported with their line number, never fatal;
//! - [`entry`]: the JSON shape of one line (borrowed, only the fields capable needs);
//! - [`subject`]: the auth role behind a logged token;
//! - [`decide`]: one logged request re-decided under a policy tree with the ACL;
//! - [`replay`]: which logged requests a policy change would newly deny or allow, and where the
//!   server disagrees with the tree (fidelity);
//! - [`suggest`]: the least-privilege policy for the requests a role or policy made;
//! - [`usage`]: which granted rules and capabilities the log never used.
//!
//! Cost: one streaming pass over the log; per entry a borrowed parse (unread fields skipped)
//! and, for `replay`, two hash lookups per tree without allocation once a request's verdict
//! is cached. `scripts/bench-audit` measures the whole process on a generated 1 GB log.
//!
//! Secret values, tokens, accessors and HMACs never leave this module: reports name requests
//! by operation and path, tokens by display name and policies.

pub mod decide;
pub mod entry;
pub mod observed;
pub mod reader;
pub mod replay;
pub mod report;
pub mod subject;
pub mod suggest;
pub mod usage;

pub use entry::{Entry, ServerDecision};
pub use reader::{read_logs, BadLine, LogSource, Position, ReadError, ReadStats};
