pub mod bao;
pub mod cli;
