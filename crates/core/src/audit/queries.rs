//! The audit trail: browsing the records with filters (the records table is the kernel's;
//! the patient and user names come from those areas' tables).

use super::views::{AuditEntry, AuditFilter, AuditPage};
use crate::Result;
use crate::patients::PATIENT_OF_RECORD;
use rusqlite::{Connection, params_from_iter, types::Value};

pub fn trail(conn: &Connection, filter: &AuditFilter) -> Result<AuditPage> {
    let (filter_sql, args) = filter_sql(filter);
    let from_sql = "FROM records r";
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) {from_sql} {filter_sql}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let limit = filter.limit.clamp(1, 500);
    let sql = format!(
        "SELECT r.local_index, r.seq, r.device_id, r.id, r.kind, r.actor_user_id, u.display_name,
                r.actor_role, r.business_date, r.device_time, {PATIENT_OF_RECORD},
                coalesce(nullif(p.name_en, ''), p.name_ar), r.payload,
                coalesce(nullif(p.name_ar, ''), p.name_en)
         {from_sql}
         LEFT JOIN users u ON u.id = r.actor_user_id
         LEFT JOIN patients p ON p.id = {PATIENT_OF_RECORD}
         {filter_sql}
         ORDER BY r.local_index DESC LIMIT {limit} OFFSET {}",
        filter.offset
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
        Ok(AuditEntry {
            local_index: r.get(0)?,
            seq: r.get(1)?,
            device_id: r.get(2)?,
            record_id: r.get(3)?,
            kind: r.get(4)?,
            actor_user_id: r.get(5)?,
            actor_name: r.get(6)?,
            actor_role: r.get(7)?,
            business_date: r.get(8)?,
            device_time: r.get(9)?,
            patient_id: r.get(10)?,
            patient_name: r.get(11)?,
            patient_name_ar: r.get(13)?,
            payload: mask_secrets(&r.get::<_, Vec<u8>>(12)?),
        })
    })?;
    Ok(AuditPage {
        entries: rows.collect::<rusqlite::Result<_>>()?,
        total,
    })
}

/// The trail's `WHERE` and its bound values.
fn filter_sql(filter: &AuditFilter) -> (String, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    if let Some(user) = filter.user_id.as_deref().filter(|s| !s.is_empty()) {
        args.push(user.to_owned().into());
        clauses.push(format!("r.actor_user_id = ?{}", args.len()));
    }
    if let Some(patient) = filter.patient_id.as_deref().filter(|s| !s.is_empty()) {
        args.push(patient.to_owned().into());
        clauses.push(format!("{PATIENT_OF_RECORD} = ?{}", args.len()));
    }
    if let Some(kind) = filter.kind.as_deref().filter(|s| !s.is_empty()) {
        if let Some(prefix) = kind.strip_suffix('.') {
            args.push(format!("{prefix}.%").into());
            clauses.push(format!("r.kind LIKE ?{}", args.len()));
        } else {
            args.push(kind.to_owned().into());
            clauses.push(format!("r.kind = ?{}", args.len()));
            // Through the kind index, except for the one kind it leaves out.
            if kind != "patient.viewed" {
                clauses.push(concat!("r.", crate::kind_indexed!()).to_owned());
            }
        }
    }
    if let Some(from) = filter.date_from.as_deref().filter(|s| !s.is_empty()) {
        args.push(from.to_owned().into());
        clauses.push(format!("r.business_date >= ?{}", args.len()));
    }
    if let Some(to) = filter.date_to.as_deref().filter(|s| !s.is_empty()) {
        args.push(to.to_owned().into());
        clauses.push(format!("r.business_date <= ?{}", args.len()));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (filter_sql, args)
}

fn mask_secrets(payload: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(mut v) => {
            if let Some(h) = v.get_mut("password_hash") {
                *h = serde_json::Value::String("•••".into());
            }
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(payload).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind filter goes through the kind index, except for the one kind it leaves out
    /// (migration V13), which reads the records newest first.
    #[test]
    fn a_kind_filter_reads_through_the_kind_index() {
        let conn = crate::store::open_in_memory().unwrap();
        for (kind, index) in [
            ("device.enrolled", true),
            ("doctor.registered", true),
            ("patient.viewed", false),
        ] {
            let (filter_sql, args) = filter_sql(&AuditFilter {
                kind: Some(kind.into()),
                ..Default::default()
            });
            let plan: Vec<String> = conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN SELECT count(*) FROM records r {filter_sql}"
                ))
                .unwrap()
                .query_map(params_from_iter(args.iter()), |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(plan.join(" ").contains("records_kind"), index, "{kind}: {plan:?}");
        }
    }
}
