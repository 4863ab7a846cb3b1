//! Audit: the trail of records with filters ([`queries`]), and verification that nobody has
//! touched them ([`mod@verify`]): chain, anchor, and the projections against a rebuild.

pub mod facade;
pub mod queries;
pub mod records;
pub mod rules;
pub mod verify;
pub mod views;

pub use queries::*;
pub use records::*;
pub use rules::*;
pub use verify::*;
pub use views::*;
