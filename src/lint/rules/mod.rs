//! One file per rule; each file's `//!` comment is the rule's user documentation
//! (What it does / Why is this bad / Example / Use instead).
