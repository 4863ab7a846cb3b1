//! The outbox worker: one thread performing the side effects the workstation's records queued
//! (`dentpro_core::outbox`) — today, writing printed documents to the documents store.
//!
//! It runs what is due at start (effects left by a crash or a closed window), again when a
//! command queued something ([`OutboxWorker::request`]), and when the next retry is due (the
//! core backs a failing effect off from 2 s to 10 minutes). The workstation is locked only to
//! read the due effects and to mark each one done, never while an effect runs: a slow receiver
//! (an SMS gateway offline) must not freeze the window's commands.

use crate::sync::WorkstationCell;
use dentpro_core::Result;
use dentpro_core::outbox::{BATCH, RunReport};
use dentpro_sync::client::Access;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The longest sleep between passes (and the pause while the workstation is not open).
const IDLE: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct OutboxWorker {
    requested: Mutex<bool>,
    wake: Condvar,
}

impl OutboxWorker {
    /// Starts the worker thread on `ws`.
    pub fn start(ws: Arc<WorkstationCell>) -> Arc<Self> {
        let worker = Arc::new(Self::default());
        let this = Arc::clone(&worker);
        let spawned = std::thread::Builder::new()
            .name("dentpro-outbox".into())
            .spawn(move || this.run(&ws));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the outbox worker; effects wait for the next start");
        }
        worker
    }

    /// Asks for a pass now (a command just queued an effect).
    pub fn request(&self) {
        *self.requested.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    fn run(&self, ws: &WorkstationCell) {
        loop {
            let pause = match pass(ws) {
                Ok((report, next)) => {
                    if report.done + report.failed > 0 {
                        tracing::info!(?report, "outbox pass");
                    }
                    next.map_or(IDLE, |at| {
                        (at - chrono::Utc::now())
                            .to_std()
                            .unwrap_or(Duration::ZERO)
                            .min(IDLE)
                    })
                }
                Err(e) => {
                    tracing::debug!(code = ?e.code, "outbox pass skipped: {}", e.message);
                    IDLE
                }
            };
            let guard = self.requested.lock().unwrap_or_else(|p| p.into_inner());
            let (mut requested, _) = self
                .wake
                .wait_timeout_while(guard, pause, |requested| !*requested)
                .unwrap_or_else(|p| p.into_inner());
            *requested = false;
        }
    }
}

/// Performs what is due (up to a batch; the rest is due at once, so the next pass follows
/// without a pause), the workstation locked for `due` and for each `finish` only; returns the
/// report and when the next effect is due.
fn pass(ws: &WorkstationCell) -> Result<(RunReport, Option<chrono::DateTime<chrono::Utc>>)> {
    let (due, receivers) = ws.with(|ws| {
        let outbox = ws.outbox();
        Ok((outbox.due(BATCH)?, outbox.receivers().clone()))
    })?;
    let mut report = RunReport::default();
    for pending in due {
        // Unlocked: the window's commands go on while the receiver takes its time.
        let outcome = receivers.perform(&pending);
        report.count(&outcome);
        ws.with(|ws| ws.outbox().finish(&pending, &outcome))?;
    }
    Ok((report, ws.with(|ws| ws.outbox().next_due())?))
}
