//! The flat rule registry (like ruff's `codes.rs`): every rule, in one table.

use super::Rule;

/// Every lint rule, in catalog order.
pub static RULES: &[&dyn Rule] = &[];

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|rule| rule.meta().id == id)
}
