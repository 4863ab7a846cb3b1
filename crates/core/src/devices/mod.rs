//! Devices: the workstations of a branch — each one's genesis record, its enrolment at the
//! branch server, an admin's revocation, and the devices screen's overview.

pub mod facade;
pub mod projection;
pub mod queries;
pub mod records;
pub mod rules;
pub mod views;

pub use queries::*;
pub use records::*;
pub use rules::*;
pub use views::*;
