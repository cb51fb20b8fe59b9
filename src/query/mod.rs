//! Questions about access: `explain` (why one decision), `reach` (what a subject can do),
//! `who-can` (which subjects may do one thing).

pub mod explain;
pub mod lang;
pub mod reach;
pub mod reach_report;
pub mod request;
pub mod subject;
pub mod who_can;
