//! Policy text to the policy model, validated exactly as the target's write path would.

mod abstime;
pub mod capability;
mod control_group;
mod decode;
pub mod duration;
mod gostr;
mod lower;
pub mod model;
pub mod pattern;
mod template;

use std::sync::Arc;

pub use capability::{CapSet, Capability};
pub use model::{ControlGroup, ControlGroupFactor, ParamEntry, ParamMap, ParamValue, Policy, Rule};
pub use pattern::{PathPattern, PatternKind};

use crate::diag::Diagnostic;
use crate::source::SourceFile;
use crate::target::Target;

/// The outcome of reading one policy file.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// `None` when the target would refuse the policy (then `diagnostics` holds at least one
    /// `invalid-` or `empty-policy` error).
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and validates one policy file for a target. Never panics on any input.
pub fn parse_policy(source: Arc<SourceFile>, target: Target) -> Parsed {
    lower::parse_policy(source, target)
}
