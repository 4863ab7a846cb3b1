//! Time comes from a [`Clock`] so rules that depend on it (login lockout, idle lock, business
//! date) are testable without sleeping. Projections never read the clock: every time a table
//! stores was decided when the record was written and is carried in the record.

use chrono::{DateTime, Local, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// The clinic's business date for `now` (the branch's local calendar day).
    fn business_date(&self) -> NaiveDate {
        self.now().with_timezone(&Local).date_naive()
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests can move by hand.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().expect("clock poisoned");
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock poisoned")
    }
}

/// The one textual form of an instant in records and tables: RFC 3339, UTC, milliseconds.
pub fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
