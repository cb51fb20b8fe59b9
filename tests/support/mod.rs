pub mod bao;
