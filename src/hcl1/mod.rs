//! A parser for the HCL1 dialect Vault and OpenBao read policies in (and its JSON form).
//!
//! `parse` returns a syntax tree in which every node keeps its byte span. Policy lowering
//! (`crate::policy`) reads this tree and then forgets it.

mod ast;
mod parser;

pub use ast::{Item, Key, Node, NodeKind};
pub use parser::{parse, SyntaxError};
