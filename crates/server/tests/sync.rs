//! Sync end to end: the real `dentpro-server` on loopback (HTTPS, pinned certificate, DPoP
//! tokens) and several workstations with their own data dirs and keys.

mod support;

use dentpro_core::ErrorCode;
use support::*;

#[test]
fn a_patient_registered_at_reception_reaches_the_doctor() {
    let mut b = Branch::new();
    // The doctor's machine got the branch and its accounts from the server: staff log in there.
    let dana = b.doctor.login("dana");
    let rita = b.reception.login("rita");
    let p = b
        .reception
        .ws()
        .register_patient(&rita, &patient("Sara Haddad", "0791234567"))
        .unwrap();
    assert_eq!(b.doctor.ws().search_patients(&dana, "Sara", 10).unwrap().len(), 0);
    let pushed = b.reception.sync().unwrap();
    assert_eq!(pushed.pending, 0);
    let pulled = b.doctor.sync().unwrap();
    assert!(pulled.pulled >= 2, "{pulled:?}");
    let found = b.doctor.ws().search_patients(&dana, "Sara", 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].file_number, p.file_number);
    let file = b.doctor.ws().open_patient(&dana, &p.id).unwrap();
    assert_eq!(file.patient.fields.phone, p.fields.phone);
    // Both databases verify, and hold the same projections.
    for station in [&b.reception, &b.doctor] {
        let report = station.ws().ledger().conn().query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(report, 1);
        let conn = station.db();
        assert_eq!(dentpro_core::audit::compare_projections(&conn).unwrap(), None);
    }
    b.doctor.sync().unwrap();
    b.reception.sync().unwrap();
    let dump = |s: &Station| dentpro_core::audit::dump_projections(&s.db()).unwrap();
    assert_eq!(dump(&b.reception), dump(&b.doctor));
    // The devices are listed with their last-seen time and lag.
    let devices = b.server.cli(&["devices"]);
    assert!(devices.contains("reception") && devices.contains("doctor"), "{devices}");
    // Every record of the reception desk can be proven to be in the log.
    let seq = b.reception.ws().ledger().head().seq;
    let index = b.reception.prove_inclusion(seq).unwrap();
    assert!(index > 0);
    let _ = ErrorCode::SyncRejected;
}
