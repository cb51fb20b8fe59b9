//! YAML access scenarios (`capable test`): who, what request (or Vault CLI command), and the
//! expected decision with, optionally, the rule that must decide it.
//!
//! ```yaml
//! scenarios:
//!   - name: inference pods read the OpenAI key
//!     role: kubernetes/inference-role
//!     command: vault kv get -field=api-key secret/ai/openai
//!     expect: allow
//!     because: {policy: ai-inference-service, path: "secret/data/ai/openai"}
//!   - name: nobody else's keys
//!     policies: [ai-inference-service]
//!     operation: read
//!     path: secret/data/ai/anthropic
//!     expect: deny
//!   - name: exact capabilities
//!     role: inference-role
//!     path: secret/data/ai/openai
//!     capabilities: [read]
//! ```
//!
//! A request is `operation` + `path` (+ `data`, `wrap_ttl`; `operation: write` means create
//! or update) or `command:` (see [`vault_cli`]). Writes to paths with an existence check
//! (KV) need `create` for a new resource and `update` for an existing one: `existing: true`
//! or `false` says which; without it both must be allowed. A command that makes several
//! requests is allowed only when all its requests are (or all of its fallback's).
//! `because` is checked on the decisive request: the first denied one, else the last one.

pub mod discover;
pub mod model;
pub mod report;
pub mod run;
pub mod vault_cli;

pub use discover::{run_scenarios, run_scenarios_with, scenario_paths, TestError};
pub use model::{load, Expectation, Invalid, Scenario, ScenarioFile, ScenarioRequest};
pub use run::{
    decide_translation, mount_visible, run_file, run_scenario, CallResult, Entry, FileOutcome,
    Outcome,
};
