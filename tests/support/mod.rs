pub mod bao;
pub mod cli;
pub mod git;
pub mod sarif;
