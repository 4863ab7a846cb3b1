//! Background sync with the branch server.
//!
//! Once the workstation is enrolled, one `std::thread` runs [`SyncClient::sync_once`]: again
//! every `DENTPRO_SYNC_INTERVAL_MS` (default 5000) after a success, after an exponential backoff
//! (1 s doubling to 60 s) after a failure, and at once when [`SyncEngine::request`] asks (after
//! enrolment, or the UI's "sync now"). The workstation is locked only around database work (the
//! [`Access`] impl below), never across a network call, so the window stays usable while a sync
//! runs. What the thread learns is kept in [`SyncEngine`] for the `sync_status` command.

use chrono::Utc;
use dentpro_core::devices::DeviceKind;
use dentpro_core::workstation::Workstation;
use dentpro_core::{CoreError, ErrorCode, Result};
use dentpro_sync::client::{Access, Progress, SyncClient, SyncReport};
use serde::Serialize;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The opened workstation, or why it could not open; shared by the commands and the sync thread.
pub struct WorkstationCell(Mutex<std::result::Result<Workstation, CoreError>>);

impl WorkstationCell {
    pub fn new(ws: std::result::Result<Workstation, CoreError>) -> Self {
        Self(Mutex::new(ws))
    }

    /// The lock survives a panic elsewhere: the database keeps its own consistency.
    pub fn lock(&self) -> MutexGuard<'_, std::result::Result<Workstation, CoreError>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Access for WorkstationCell {
    fn with<T>(&self, f: impl FnOnce(&mut Workstation) -> Result<T>) -> Result<T> {
        match self.lock().as_mut() {
            Ok(ws) => f(ws),
            Err(e) => Err(e.clone()),
        }
    }
}

/// What the UI shows about sync, on every screen (the sign-in screen too).
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct SyncStatus {
    /// The workstation is enrolled with a branch server.
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub branch_name: Option<String>,
    pub device_kind: Option<DeviceKind>,
    pub device_label: Option<String>,
    /// The last attempt reached the server and passed every check.
    pub online: bool,
    /// A sync is running now.
    pub syncing: bool,
    /// When the last successful sync ended (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Why the last attempt failed (cleared by the next success).
    pub last_error: Option<CoreError>,
    /// This device's records the server has not yet accepted (or refused).
    pub pending: i64,
    /// This device's records the server refused.
    pub refused: i64,
    /// Entries in the branch server's log, as of the last checkpoint seen.
    pub log_size: u64,
    /// Log entries this workstation holds; below `log_size` while catching up.
    pub applied_to: u64,
    /// Local clock minus the server's, when beyond the branch's bound.
    pub clock_skew_seconds: Option<i64>,
}

/// What the sync thread knows (the parts of [`SyncStatus`] that are not read from the database).
#[derive(Debug, Default)]
struct Live {
    online: bool,
    syncing: bool,
    last_sync_at: Option<String>,
    last_error: Option<CoreError>,
    log_size: u64,
    applied_to: u64,
    clock_skew_seconds: Option<i64>,
    /// A sync was asked for: the thread should not wait.
    requested: bool,
    /// The thread is running.
    started: bool,
}

/// The sync thread's shared state: its status and the "sync now" signal.
#[derive(Default)]
pub struct SyncEngine {
    live: Mutex<Live>,
    wake: Condvar,
}

/// Pause after a success.
fn interval() -> Duration {
    let ms = std::env::var("DENTPRO_SYNC_INTERVAL_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .unwrap_or(5000);
    Duration::from_millis(ms)
}

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The pause after the `failures`-th failure in a row: 1 s, 2 s, 4 s … 60 s.
pub fn backoff(failures: u32) -> Duration {
    let factor = 1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX);
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

impl SyncEngine {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the thread to sync now (no effect until it is started).
    pub fn request(&self) {
        self.live().requested = true;
        self.wake.notify_all();
    }

    /// Starts the sync thread if the workstation is enrolled and it is not running yet; asks for
    /// an immediate sync either way.
    pub fn start_if_enrolled(self: &Arc<Self>, ws: &Arc<WorkstationCell>) -> Result<bool> {
        let enrolled = ws.with(|ws| Ok(ws.devices().enrolment()?.is_some()))?;
        if !enrolled {
            return Ok(false);
        }
        let start = {
            let mut live = self.live();
            live.requested = true;
            !std::mem::replace(&mut live.started, true)
        };
        self.wake.notify_all();
        if start {
            let (engine, ws) = (Arc::clone(self), Arc::clone(ws));
            let spawned = std::thread::Builder::new()
                .name("dentpro-sync".into())
                .spawn(move || engine.run(&ws));
            if let Err(e) = spawned {
                self.live().started = false;
                return Err(CoreError::internal(format!("cannot start the sync thread: {e}")));
            }
            tracing::info!("background sync started");
        }
        Ok(true)
    }

    /// The status as the UI shows it: the thread's view plus the counts from the database.
    pub fn status(&self, ws: &WorkstationCell) -> Result<SyncStatus> {
        let (enrolment, pending, refused, cursor) = ws.with(|ws| {
            let enrolment = ws.devices().enrolment()?;
            let refused = dentpro_core::sync::refused_own(ws.ledger().conn(), ws.device_id())?.len();
            Ok((
                enrolment,
                ws.sync().pending()?,
                refused as i64,
                ws.sync().cursor()?,
            ))
        })?;
        let live = self.live();
        let mut status = SyncStatus {
            enrolled: enrolment.is_some(),
            online: live.online,
            syncing: live.syncing,
            last_sync_at: live.last_sync_at.clone(),
            last_error: live.last_error.clone(),
            pending,
            refused,
            // Between pages the database may already be ahead of the last progress report.
            applied_to: live.applied_to.max(cursor),
            log_size: live.log_size.max(cursor),
            clock_skew_seconds: live.clock_skew_seconds,
            ..SyncStatus::default()
        };
        if let Some(e) = enrolment {
            status.server_url = Some(e.server_url);
            status.branch_name = Some(e.branch_name);
            status.device_kind = Some(e.device_kind);
            status.device_label = Some(e.label);
        }
        Ok(status)
    }

    /// Waits up to `pause`, or until a sync is requested.
    fn wait(&self, pause: Duration) {
        let live = self.live();
        let (mut live, _) = self
            .wake
            .wait_timeout_while(live, pause, |l| !l.requested)
            .unwrap_or_else(|p| p.into_inner());
        live.requested = false;
    }

    fn progress(&self, p: Progress) {
        let mut live = self.live();
        live.applied_to = p.applied_to;
        live.log_size = p.log_size;
    }

    fn finished(&self, result: &Result<SyncReport>) {
        let mut live = self.live();
        live.syncing = false;
        match result {
            Ok(report) => {
                live.online = true;
                live.last_sync_at = Some(Utc::now().to_rfc3339());
                live.last_error = None;
                live.log_size = report.log_size;
                live.applied_to = live.applied_to.max(report.log_size);
                live.clock_skew_seconds = report.clock_skew_seconds;
            }
            Err(e) => {
                live.online = false;
                live.last_error = Some(e.clone());
            }
        }
    }

    /// The sync thread: one attempt, then a pause (interval or backoff), forever.
    fn run(&self, ws: &WorkstationCell) {
        let interval = interval();
        let mut client: Option<SyncClient> = None;
        let mut failures = 0u32;
        if let Ok(cursor) = ws.with(|ws| ws.sync().cursor()) {
            let mut live = self.live();
            live.applied_to = cursor;
            live.log_size = live.log_size.max(cursor);
        }
        loop {
            {
                let mut live = self.live();
                live.syncing = true;
                live.requested = false; // this attempt serves any request made so far
            }
            let result = self.attempt(ws, &mut client);
            self.finished(&result);
            let pause = match &result {
                Ok(report) => {
                    if failures > 0 {
                        tracing::info!("sync is back after {failures} failed attempts");
                    }
                    failures = 0;
                    tracing::debug!(?report, "synced");
                    interval
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    // A fresh client next time: new token, Merkle tree rebuilt from the database.
                    if e.code != ErrorCode::SyncUnavailable {
                        client = None;
                    }
                    let pause = backoff(failures);
                    tracing::warn!(code = ?e.code, details = ?e.details, retry_in = ?pause, "sync failed: {}", e.message);
                    pause
                }
            };
            self.wait(pause);
        }
    }

    fn attempt(&self, ws: &WorkstationCell, client: &mut Option<SyncClient>) -> Result<SyncReport> {
        if client.is_none() {
            *client = SyncClient::for_workstation(ws)?;
        }
        let Some(c) = client.as_mut() else {
            return Err(CoreError::new(
                ErrorCode::NotSetUp,
                "this workstation is not enrolled with a branch server",
            ));
        };
        c.sync_once(ws, |p| self.progress(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_a_minute() {
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(500), MAX_BACKOFF);
    }

    #[test]
    fn a_request_ends_the_wait_early() {
        let engine = SyncEngine::new();
        let e = Arc::clone(&engine);
        let waiter = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            e.wait(Duration::from_secs(30));
            start.elapsed()
        });
        std::thread::sleep(Duration::from_millis(100));
        engine.request();
        assert!(waiter.join().unwrap() < Duration::from_secs(5));
    }
}
