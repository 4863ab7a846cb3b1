//! The audit verification report: what a run of `audit verify` found (counts, the first
//! problem), who ran it and when, as a one-page PDF in the user's language.
//!
//! The `audit.report_generated` record carries every fact the page shows, so the PDF is a pure
//! function of the payload ([`render`]): any workstation holding the record renders the same
//! bytes, and their SHA-256 is the payload's `document_sha256`. The command renders it,
//! appends the record and queues the store's write in the same transaction
//! ([`crate::outbox`]); the worker writes it to the documents store after the commit.

use super::pdf::{self, Line, Page, TextDirection};
use crate::accounts::Language;
use crate::audit::VerifyReport;
use crate::ids::{DeviceId, RecordId};
use crate::kind::{Applied, Kind};
use crate::ledger::{Actor, Ledger};
use crate::outbox::Effect;
use crate::permissions::Action;
use crate::{CoreError, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

/// The page's layout version: a change of layout (or of the fonts) is a new version, so a
/// record always names the layout its bytes came from.
pub const LAYOUT: u32 = 1;
pub const MEDIA_TYPE: &str = "application/pdf";

/// `audit.report_generated`: a verification report was printed to the documents store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReportGenerated {
    /// SHA-256 of the PDF: its id in the documents store.
    pub document_sha256: String,
    pub layout: u32,
    pub language: Language,
    pub branch_name: String,
    pub device_id: DeviceId,
    /// When the verification ran (the clock at the command), RFC 3339 UTC.
    pub verified_at: String,
    pub verified_by_username: String,
    pub verified_by_name: String,
    pub ok: bool,
    pub records_checked: i64,
    pub devices: i64,
    pub projections_ok: bool,
    pub problem: Option<String>,
}

/// Prints nothing into tables: the document is the outbox's work, never a projection's.
impl Kind for AuditReportGenerated {
    const KIND: &'static str = "audit.report_generated";
    const ACTION: Option<Action> = Some(Action::AuditVerify);
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

/// What the command returns: the document's id and the record that printed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DocumentRef {
    pub document_id: String,
    pub record_id: RecordId,
    pub media_type: String,
    pub file_name: String,
}

/// Who ran the verification, for the page.
pub struct Verifier<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub language: Language,
}

/// The report's facts, from a verification run (document id not yet known).
pub fn facts(
    report: &VerifyReport,
    by: &Verifier<'_>,
    branch_name: &str,
    device_id: &str,
    verified_at: DateTime<Utc>,
) -> AuditReportGenerated {
    // The same first problem as the run's `audit.verified` record names.
    let problem = crate::audit::verified(report).problem;
    AuditReportGenerated {
        document_sha256: String::new(),
        layout: LAYOUT,
        language: by.language,
        branch_name: branch_name.to_owned(),
        device_id: device_id.into(),
        verified_at: verified_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        verified_by_username: by.username.to_owned(),
        verified_by_name: by.display_name.to_owned(),
        ok: report.ok,
        records_checked: report.records_checked,
        devices: report.devices,
        projections_ok: report.projections_ok,
        problem: problem.map(|p| crate::text::truncated(&p, 1000)),
    }
}

/// Prints `report` as run by `actor` on this workstation, in the actor's language: the facts
/// (who, which branch, which device, when), then [`generate`].
pub fn print(ledger: &mut Ledger, actor: &Actor, report: &VerifyReport) -> Result<DocumentRef> {
    let conn = ledger.conn();
    let user = crate::accounts::user_by_id(conn, &actor.user_id().unwrap_or_default().into())?;
    let branch = crate::accounts::branch(conn)?.map(|b| b.name).unwrap_or_default();
    let by = Verifier {
        username: &user.username,
        display_name: &user.display_name,
        language: user.language,
    };
    let device_id = ledger.identity().device_id.clone();
    let facts = facts(report, &by, &branch, &device_id, ledger.clock().now());
    generate(ledger, actor, facts)
}

/// Renders the report, appends its record and queues the document's write, in one transaction.
pub fn generate(ledger: &mut Ledger, actor: &Actor, mut facts: AuditReportGenerated) -> Result<DocumentRef> {
    let bytes = render(&facts)?;
    facts.document_sha256 = super::sha256_hex(&bytes);
    let document_id = facts.document_sha256.clone();
    let file_name = file_name(&facts);
    let effect = Effect::StoreDocument {
        document_id: document_id.clone(),
        bytes,
    };
    let record = ledger.append_with_effects(actor, vec![facts.into()], vec![effect])?;
    Ok(DocumentRef {
        document_id,
        record_id: record.body.id.as_str().into(),
        media_type: MEDIA_TYPE.into(),
        file_name,
    })
}

/// The name a saved copy gets: `audit-report-<date>.pdf`.
pub fn file_name(facts: &AuditReportGenerated) -> String {
    format!(
        "audit-report-{}.pdf",
        facts.verified_at.get(..10).unwrap_or("undated")
    )
}

/// The PDF for `facts` (its `document_sha256` is ignored): the same facts give the same bytes.
pub fn render(facts: &AuditReportGenerated) -> Result<Vec<u8>> {
    if facts.layout != LAYOUT {
        return Err(CoreError::internal(format!(
            "unknown report layout {}",
            facts.layout
        )));
    }
    let created = DateTime::parse_from_rfc3339(&facts.verified_at)
        .map_err(|e| CoreError::internal(format!("verified_at: {e}")))?;
    let when = created
        .with_timezone(&Utc)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    let t = Texts::of(facts.language);
    let result = if facts.ok { t.ok } else { t.not_ok };
    let projections = if facts.projections_ok { t.match_ } else { t.differ };
    let problem = facts.problem.clone().unwrap_or_else(|| t.none.to_owned());
    let by = format!("{} ({})", facts.verified_by_name, facts.verified_by_username);
    let rows: [(&str, String); 9] = [
        (t.branch, facts.branch_name.clone()),
        (t.result, result.to_owned()),
        (t.records, facts.records_checked.to_string()),
        (t.devices, facts.devices.to_string()),
        (t.projections, projections.to_owned()),
        (t.first_problem, problem),
        (t.by, by),
        (t.at, when),
        (t.device, facts.device_id.to_string()),
    ];
    let direction = match facts.language {
        Language::En => TextDirection::LeftToRight,
        Language::Ar => TextDirection::RightToLeft,
    };
    let mut lines = vec![Line {
        text: t.title.to_owned(),
        size: 18.0,
        gap_before: 0.0,
    }];
    for (label, value) in rows {
        let value = match facts.language {
            Language::Ar if !value.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) => {
                pdf::ltr_island(&value)
            }
            _ => value,
        };
        for (i, text) in pdf::wrap(&format!("{label}: {value}"), direction, 11.0)
            .into_iter()
            .enumerate()
        {
            lines.push(Line {
                text,
                size: 11.0,
                gap_before: if i == 0 { 6.0 } else { 0.0 },
            });
        }
    }
    Ok(pdf::render(&Page {
        title: t.title.to_owned(),
        direction,
        lines,
        created_at_unix: created.timestamp(),
    }))
}

struct Texts {
    title: &'static str,
    branch: &'static str,
    result: &'static str,
    ok: &'static str,
    not_ok: &'static str,
    records: &'static str,
    devices: &'static str,
    projections: &'static str,
    match_: &'static str,
    differ: &'static str,
    first_problem: &'static str,
    none: &'static str,
    by: &'static str,
    at: &'static str,
    device: &'static str,
}

impl Texts {
    fn of(language: Language) -> Self {
        match language {
            Language::En => Texts {
                title: "Audit verification report",
                branch: "Branch",
                result: "Result",
                ok: "intact, no problem found",
                not_ok: "a problem was found",
                records: "Records checked",
                devices: "Devices",
                projections: "Tables",
                match_: "match the records",
                differ: "differ from the records",
                first_problem: "First problem",
                none: "none",
                by: "Run by",
                at: "At",
                device: "Workstation",
            },
            Language::Ar => Texts {
                title: "تقرير التحقق من السجل",
                branch: "الفرع",
                result: "النتيجة",
                ok: "سليم، لم توجد أي مشكلة",
                not_ok: "وجدت مشكلة",
                records: "السجلات المفحوصة",
                devices: "الأجهزة",
                projections: "الجداول",
                match_: "مطابقة للسجلات",
                differ: "غير مطابقة للسجلات",
                first_problem: "أول مشكلة",
                none: "لا يوجد",
                by: "أجراه",
                at: "الوقت",
                device: "محطة العمل",
            },
        }
    }
}

#[cfg(test)]
mod payload_tests {
    use super::*;
    use crate::kind::assert_payload_json;

    /// The literal was captured from the payload before the payload types were separated from
    /// the IPC types: a renamed field or a changed value format fails here.
    #[test]
    fn the_report_payload_keeps_its_json() {
        let report = VerifyReport {
            ok: true,
            records_checked: 1200,
            devices: 3,
            first_bad: None,
            anchor: "ok".into(),
            projections_ok: true,
            projection_problem: None,
            storage_problems: Vec::new(),
        };
        let by = Verifier {
            username: "admin",
            display_name: "مدير",
            language: Language::Ar,
        };
        let at = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut payload = facts(
            &report,
            &by,
            "Amman Central",
            "0123456789abcdef0123456789abcdef",
            at,
        );
        payload.document_sha256 = "ee".repeat(32);
        assert_payload_json(
            &payload,
            r#"{"branch_name":"Amman Central","device_id":"0123456789abcdef0123456789abcdef","devices":3,"document_sha256":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","language":"ar","layout":1,"ok":true,"problem":null,"projections_ok":true,"records_checked":1200,"verified_at":"2026-03-02T08:00:00Z","verified_by_name":"مدير","verified_by_username":"admin"}"#,
        );
    }
}
