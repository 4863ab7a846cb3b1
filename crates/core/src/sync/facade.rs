//! The device-level sync commands the background sync (`dentpro_sync::client`) runs: no session,
//! the workstation acts for itself. What to push, receipts, pulled pages, the log's leaves and
//! the sync state kept with the records.

use super::{LogPosition, LoggedRecord, PullOutcome};
use crate::record::Record;
use crate::{Result, Workstation, integrity, store};

/// `ws.sync()`.
pub struct BranchSync<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn sync(&mut self) -> BranchSync<'_> {
        BranchSync { ws: self }
    }
}

impl BranchSync<'_> {
    /// Sync state kept with the records (pinned checkpoint and the like), keys `sync.*`.
    pub fn meta(&mut self, key: &str) -> Result<Option<String>> {
        store::meta_get(self.ws.ledger().conn(), &super::meta_key(key)?)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        store::meta_set(self.ws.ledger().conn(), &super::meta_key(key)?, value)
    }

    /// This device's records to push, each re-checked first (hash, signature, link): a
    /// database damaged on disk stops here with `database_corrupt`, naming the record, and so
    /// does one whose full check failed after an unclean shutdown.
    pub fn outbox(&mut self, after_seq: u64, limit: u32) -> Result<Vec<Record>> {
        if let Some(problem) = self.ws.integrity_problem() {
            return Err(problem.clone());
        }
        let ledger = self.ws.ledger();
        integrity::checked_outbox(
            ledger.conn(),
            self.ws.device_id(),
            &ledger.identity().verifying_key(),
            after_seq,
            limit,
        )
    }

    pub fn pending(&mut self) -> Result<i64> {
        super::pending_count(self.ws.ledger().conn(), self.ws.device_id())
    }

    pub fn cursor(&mut self) -> Result<u64> {
        super::cursor(self.ws.ledger().conn())
    }

    pub fn record_receipt(&mut self, entries: &[(u64, LogPosition)]) -> Result<()> {
        let device_id = self.ws.device_id().clone();
        super::record_receipt(self.ws.ledger_mut().conn_mut(), &device_id, entries)
    }

    pub fn apply_pulled(&mut self, entries: &[LoggedRecord]) -> Result<PullOutcome> {
        let device_id = self.ws.device_id().clone();
        super::apply_pulled(self.ws.ledger_mut().conn_mut(), &device_id, entries)
    }

    /// The log leaves this workstation holds before `before`, in log order (to check the
    /// server's checkpoints).
    pub fn log_leaves(&mut self, before: u64) -> Result<Vec<[u8; 32]>> {
        super::log_leaves(self.ws.ledger().conn(), Some(before))
    }

    /// Log index and leaf of this device's record `seq`, once the server logged it.
    pub fn own_leaf(&mut self, seq: u64) -> Result<Option<(u64, [u8; 32])>> {
        super::own_leaf(self.ws.ledger().conn(), self.ws.device_id(), seq)
    }
}
