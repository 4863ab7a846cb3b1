//! Doctors and chairs: doctor profiles (names in English and Arabic, specialty, licence number,
//! linked to the doctor's account), the branch's chairs (operatories), each doctor's weekly
//! working hours and leave (a day off, a holiday, a late start), and a doctor's availability on
//! a date (what the appointment book reads). Managers and admins edit; every role that books or
//! treats reads.

pub mod facade;
pub mod projection;
pub mod queries;
pub mod records;
pub mod rules;
pub mod views;

pub use facade::Doctors;
pub use queries::*;
pub use records::*;
pub use views::*;
