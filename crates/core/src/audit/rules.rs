//! The audit area's rules: a verification run on this workstation, what it means for sync, and
//! the record of it.

use super::records::AuditVerified;
use super::verify::{VerifyReport, verify};
use crate::integrity::{self, IntegrityReport};
use crate::{CoreError, Result};
use rusqlite::Connection;
use std::path::Path;

/// Verifies the chain, the anchor and the projections of this workstation (`data_dir`,
/// `device_id`), and — the audit screen's run — the file itself (pages, indexes).
pub fn verify_here(conn: &Connection, data_dir: &Path, device_id: &str) -> Result<VerifyReport> {
    let mut report = verify(conn, Some(data_dir), Some(device_id))?;
    report.storage_problems = integrity::storage_problems(conn);
    report.ok &= report.storage_problems.is_empty();
    Ok(report)
}

/// What a run found as the error that keeps sync stopped while it stands (`None`: all is well).
pub fn integrity_problem(report: &VerifyReport) -> Option<CoreError> {
    IntegrityReport {
        ok: report.ok,
        storage_problems: report.storage_problems.clone(),
        verify: Some(report.clone()),
    }
    .as_error()
}

/// The `audit.verified` record of a run: its verdict, how much it checked, its first problem.
pub fn verified(report: &VerifyReport) -> AuditVerified {
    let problem = report
        .storage_problems
        .first()
        .cloned()
        .or_else(|| report.first_bad.as_ref().map(|b| b.problem.clone()))
        .or_else(|| report.projection_problem.clone());
    AuditVerified {
        ok: report.ok,
        records_checked: report.records_checked,
        problem,
    }
}
