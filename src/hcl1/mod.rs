//! A parser for the HCL1 dialect Vault and OpenBao read policies in (and its JSON form).
//!
//! `parse` returns a syntax tree in which every node keeps its byte span. Policy lowering
//! (`crate::policy`) reads this tree and then forgets it. The scanner and parser reproduce
//! HCL1's (`github.com/hashicorp/hcl` v1, as built into OpenBao 2.7.2) acceptance, error
//! texts and error positions; see `parser.rs` and `lexer.rs` for the dialect's rules.

mod ast;
mod cursor;
mod json;
pub(crate) mod lexer;
pub(crate) mod parser;
mod unquote;

pub use ast::{Item, Key, Keys, KeysIntoIter, Node, NodeKind};
pub use parser::{parse, SyntaxError, MAX_DEPTH};

#[cfg(test)]
mod tests;
