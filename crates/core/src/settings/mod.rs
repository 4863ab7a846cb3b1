//! Branch settings: values an admin changes, each change a record.

pub mod facade;
pub mod projection;
pub mod queries;
pub mod records;
pub mod rules;

pub use queries::*;
pub use records::*;
pub use rules::*;
