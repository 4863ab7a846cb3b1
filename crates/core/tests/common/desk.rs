//! A desk of a branch for the replay tests and the replay bench: a workstation with its branch
//! set up, and another desk of the branch whose records reach it through the log, before this
//! desk's pending ones; pushing makes the server log the pending ones next.

use super::{OtherDesk, accepted, clock, pending_records, pull_into, set_up};
use dentpro_core::Workstation;
use dentpro_core::clock::ManualClock;
use dentpro_core::kind::Event;
use dentpro_core::record::Record;
use dentpro_core::sync::{LogPosition, LoggedRecord, PullOutcome, Verdict};
use rusqlite::Connection;

pub struct Desk {
    pub _dir: tempfile::TempDir,
    pub ws: Workstation,
    /// The admin's session.
    pub admin: dentpro_core::ids::SessionId,
    pub admin_id: dentpro_core::ids::UserId,
    /// Another desk of the branch, writing as the admin.
    pub other: OtherDesk,
    pub clock: ManualClock,
}

pub fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (ws, admin) = set_up(dir.path(), &clock);
    let admin_id = ws
        .status(Some(&admin.session_id))
        .unwrap()
        .session
        .unwrap()
        .user_id;
    Desk {
        _dir: dir,
        ws,
        admin: admin.session_id,
        admin_id,
        other: OtherDesk::new(),
        clock,
    }
}

impl Desk {
    pub fn conn(&self) -> &Connection {
        self.ws.ledger().conn()
    }

    /// The other desk's records for `event` (its genesis first, the first time), pulled: logged
    /// after everything logged so far, so before this desk's pending records.
    pub fn pull_theirs(&mut self, event: Event) -> (PullOutcome, Record) {
        let records = self.other.write(&self.admin_id, event);
        let last = records.last().unwrap().clone();
        (pull_into(&mut self.ws, &records), last)
    }

    /// Pushes this desk's pending records: the server logs them next, refusing those `refuse`
    /// picks; then the desk pulls them back (its cursor moves past them).
    pub fn push(&mut self, refuse: impl Fn(&Record) -> bool) {
        push(&mut self.ws, refuse);
    }
}

/// Pushes `ws`'s pending records as [`Desk::push`] does, for a workstation set up otherwise.
pub fn push(ws: &mut Workstation, refuse: impl Fn(&Record) -> bool) {
    let pending = pending_records(ws);
    let from = ws.sync().cursor().unwrap();
    let entries: Vec<LoggedRecord> = pending
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let log_index = from + i as u64;
            let position = if refuse(&record) {
                LogPosition {
                    verdict: Verdict::Refused,
                    reason: Some("forbidden: refused in a test".into()),
                    ..accepted(log_index)
                }
            } else {
                accepted(log_index)
            };
            LoggedRecord { position, record }
        })
        .collect();
    let receipt: Vec<(u64, LogPosition)> = entries
        .iter()
        .map(|e| (e.record.body.seq, e.position.clone()))
        .collect();
    ws.sync().record_receipt(&receipt).unwrap();
    ws.sync().apply_pulled(&entries).unwrap();
}
