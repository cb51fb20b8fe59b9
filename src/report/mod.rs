//! Output formats, one file each.

pub mod human;
