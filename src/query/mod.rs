//! Questions about access: `explain` (why one decision), `reach` (what a subject can do),
//! `who-can` (which subjects may do one thing).

pub mod lang;
pub mod reach;
