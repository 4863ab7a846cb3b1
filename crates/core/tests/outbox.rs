//! The outbox and its first use, the audit verification report as a PDF in the encrypted,
//! content-addressed documents store: real workstations on real files, real `qpdf` and
//! `pdftotext`, and a real process killed with SIGKILL between the commit and the effect.
//!
//! The crash tests re-invoke this test binary with `DENTPRO_OUTBOX_CHILD` set, so that only
//! [`child_report_process`] runs in it.

mod common;

use common::*;
use dentpro_core::accounts::Language;
use dentpro_core::documents::audit_report::{self, AuditReportGenerated};
use dentpro_core::documents::{self, Delivery};
use dentpro_core::outbox::{BATCH, FAILPOINT_ENV, RunReport};
use dentpro_core::{Workstation, audit, registry, replay, store, sync};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "DENTPRO_OUTBOX_CHILD";

fn decode(doc: &documents::Document) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(&doc.content_base64)
        .unwrap()
}

fn doc_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(documents::DIR).join(id)
}

/// The report's record, as stored.
fn report_record(ws: &Workstation) -> AuditReportGenerated {
    let payload: Vec<u8> = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT payload FROM records WHERE kind = 'audit.report_generated' ORDER BY local_index DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let event = registry::decode("audit.report_generated", 1, &payload).unwrap();
    event
        .get::<AuditReportGenerated>()
        .cloned()
        .unwrap_or_else(|| panic!("{event:?}"))
}

fn outbox_rows(ws: &Workstation) -> (i64, i64) {
    let conn = ws.ledger().conn();
    (
        count(conn, "SELECT count(*) FROM outbox"),
        count(conn, "SELECT count(*) FROM outbox WHERE done_at IS NULL"),
    )
}

fn tool(name: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} (poppler-utils / qpdf, see scripts/setup.sh): {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `pdftotext` of `pdf` (written to a file beside it).
fn pdf_text(pdf: &[u8], dir: &Path) -> String {
    let path = dir.join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    if let Ok(keep) = std::env::var("DENTPRO_KEEP_PDF") {
        std::fs::write(format!("{keep}-{}.pdf", &documents::sha256_hex(pdf)[..8]), pdf).unwrap();
    }
    let (ok, check) = tool("qpdf", &["--check", path.to_str().unwrap()]);
    assert!(ok, "qpdf --check failed:\n{check}");
    let (ok, text) = tool("pdftotext", &[path.to_str().unwrap(), "-"]);
    assert!(ok, "{text}");
    // poppler marks its right-to-left runs with bidi embedding controls; the text is the rest.
    text.chars()
        .filter(|c| !matches!(*c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069))
        .collect()
}

#[test]
fn the_english_report_is_a_valid_pdf_saying_what_verification_found() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let doc = ws.audit().report(&admin.session_id).unwrap();
    assert_eq!(ws.outbox().run().unwrap().done, 1);
    let read = ws
        .audit()
        .read_document(&admin.session_id, &doc.document_id)
        .unwrap();
    assert_eq!(
        (read.media_type.as_str(), read.file_name.as_str()),
        ("application/pdf", "audit-report-2026-03-02.pdf")
    );
    let pdf = decode(&read);
    assert_eq!(documents::sha256_hex(&pdf), doc.document_id);
    let work = tempfile::tempdir().unwrap();
    let text = pdf_text(&pdf, work.path());
    let checked = report_record(&ws).records_checked;
    for expected in [
        "Audit verification report".to_owned(),
        "Branch: Test Clinic".to_owned(),
        "Result: intact, no problem found".to_owned(),
        format!("Records checked: {checked}"),
        "Run by: Adel Admin (admin)".to_owned(),
        "At: 2026-03-02 08:00:00 UTC".to_owned(),
        format!("Workstation: {}", ws.device_id()),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
}

#[test]
fn the_arabic_report_is_shaped_and_extracts_in_logical_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    ws.set_language(&admin.session_id, Language::Ar).unwrap();
    let doc = ws.audit().report(&admin.session_id).unwrap();
    ws.outbox().run().unwrap();
    let pdf = decode(
        &ws.audit()
            .read_document(&admin.session_id, &doc.document_id)
            .unwrap(),
    );
    let work = tempfile::tempdir().unwrap();
    let text = pdf_text(&pdf, work.path());
    assert_eq!(report_record(&ws).language, Language::Ar);
    // The Arabic in logical order, and the Latin values whole.
    for expected in [
        "تقرير التحقق من السجل",
        "النتيجة",
        "سليم",
        "لم توجد أي مشكلة",
        "السجلات المفحوصة",
        "مطابقة للسجلات",
        "أجراه",
        "Adel Admin (admin)",
        "Test Clinic",
        "2026-03-02 08:00:00 UTC",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(!text.contains("Audit verification report"), "{text}");
    // Shaped: joined letter forms are drawn (a page of isolated letters is not Arabic to read).
    let path = work.path().join("report.pdf");
    let (ok, fonts) = tool("pdffonts", &[path.to_str().unwrap()]);
    assert!(
        ok && fonts.contains("NotoNaskhArabic") && fonts.contains("NotoSans"),
        "{fonts}"
    );
}

#[test]
fn the_same_facts_give_the_same_bytes_and_the_record_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let doc = ws.audit().report(&admin.session_id).unwrap();
    let facts = report_record(&ws);
    assert_eq!(facts.document_sha256, doc.document_id);
    // Any holder of the record renders the same bytes from its payload alone.
    let again = audit_report::render(&facts).unwrap();
    assert_eq!(documents::sha256_hex(&again), facts.document_sha256);
    assert_eq!(again, audit_report::render(&facts).unwrap());
    for language in [Language::En, Language::Ar] {
        let f = AuditReportGenerated {
            language,
            ..facts.clone()
        };
        assert_eq!(
            audit_report::render(&f).unwrap(),
            audit_report::render(&f).unwrap()
        );
    }
    // And different facts, different bytes.
    let other = AuditReportGenerated {
        records_checked: facts.records_checked + 1,
        ..facts.clone()
    };
    assert_ne!(audit_report::render(&other).unwrap(), again);
}

#[test]
fn the_document_at_rest_is_encrypted_private_and_bound_to_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let doc = ws.audit().report(&admin.session_id).unwrap();
    ws.outbox().run().unwrap();
    let path = doc_path(dir.path(), &doc.document_id);
    let raw = std::fs::read(&path).unwrap();
    let pdf = decode(
        &ws.audit()
            .read_document(&admin.session_id, &doc.document_id)
            .unwrap(),
    );
    assert!(pdf.starts_with(b"%PDF"));
    for plain in [&b"%PDF"[..], b"Adel Admin", b"admin", b"Test Clinic", b"NotoSans"] {
        assert!(
            !raw.windows(plain.len()).any(|w| w == plain),
            "{:?} readable on disk",
            String::from_utf8_lossy(plain)
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join(documents::DIR)), 0o700);
    }
    // A flipped byte, or the file under another document's name, does not open.
    let mut flipped = raw.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::write(&path, &flipped).unwrap();
    let err = assert_code(
        ws.audit().read_document(&admin.session_id, &doc.document_id),
        dentpro_core::ErrorCode::Storage,
    );
    assert_eq!(err.details["reason"], "document_damaged");
    std::fs::write(&path, &raw).unwrap();
    ws.audit()
        .read_document(&admin.session_id, &doc.document_id)
        .unwrap();
    // An id from outside is checked before it names a path.
    assert_code(
        ws.audit().read_document(&admin.session_id, "../dentpro.sqlite3"),
        dentpro_core::ErrorCode::Invalid,
    );
    assert_code(
        ws.audit().read_document(&admin.session_id, &"ab".repeat(32)),
        dentpro_core::ErrorCode::NotFound,
    );
}

#[test]
fn the_effect_is_queued_with_the_record_and_runs_once_after_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let doc = ws.audit().report(&admin.session_id).unwrap();
    // Committed with its record, not yet performed.
    assert_eq!(outbox_rows(&ws), (1, 1));
    assert!(!doc_path(dir.path(), &doc.document_id).exists());
    let key: String = ws
        .ledger()
        .conn()
        .query_row("SELECT idempotency_key FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(key, format!("{}/0", doc.record_id));
    assert_eq!(
        ws.outbox().run().unwrap(),
        RunReport {
            done: 1,
            duplicates: 0,
            failed: 0
        }
    );
    assert_eq!(outbox_rows(&ws), (1, 0));
    assert_eq!(ws.outbox().run().unwrap(), RunReport::default());
    let stored = std::fs::read_dir(dir.path().join(documents::DIR))
        .unwrap()
        .count();
    assert_eq!(stored, 1, "one file, no temporary left");
}

/// The desktop shell's worker holds the workstation only to take the due effects and to mark
/// each done: the effect itself runs with the database free for the window's commands.
#[test]
fn an_effect_taken_from_the_outbox_runs_while_the_workstation_goes_on_writing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let first = ws.audit().report(&admin.session_id).unwrap();
    let (due, receivers) = {
        let outbox = ws.outbox();
        (outbox.due(BATCH).unwrap(), outbox.receivers().clone())
    };
    assert_eq!(due.len(), 1);
    // A command the window runs while the effect is under way.
    clock.advance(chrono::Duration::seconds(1));
    let second = ws.audit().report(&admin.session_id).unwrap();
    assert_ne!(first.document_id, second.document_id);
    let mut report = RunReport::default();
    for pending in &due {
        let outcome = receivers.perform(pending);
        report.count(&outcome);
        ws.outbox().finish(pending, &outcome).unwrap();
    }
    assert_eq!(
        report,
        RunReport {
            done: 1,
            duplicates: 0,
            failed: 0
        }
    );
    assert!(doc_path(dir.path(), &first.document_id).exists());
    assert!(!doc_path(dir.path(), &second.document_id).exists());
    assert_eq!(outbox_rows(&ws), (2, 1), "the second one waits for the next pass");
    assert_eq!(ws.outbox().run().unwrap().done, 1);
    assert!(doc_path(dir.path(), &second.document_id).exists());
    assert_eq!(outbox_rows(&ws), (2, 0));
}

#[test]
fn a_failing_effect_is_retried_with_backoff_until_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    // The store cannot be made: a file stands where its folder goes (a full or broken disk).
    let blocker = dir.path().join(documents::DIR);
    std::fs::write(&blocker, b"in the way").unwrap();
    let doc = ws.audit().report(&admin.session_id).unwrap();
    assert_eq!(ws.outbox().run().unwrap().failed, 1);
    let (attempts, next, error): (u32, String, Option<String>) = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT attempts, next_attempt_at, last_error FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((attempts, next.as_str()), (1, "2026-03-02T08:00:02.000Z"));
    assert!(error.is_some());
    assert_eq!(
        ws.outbox().run().unwrap(),
        RunReport::default(),
        "not due before its backoff"
    );
    clock.advance(chrono::Duration::seconds(2));
    assert_eq!(ws.outbox().run().unwrap().failed, 1);
    clock.advance(chrono::Duration::seconds(3));
    assert_eq!(
        ws.outbox().run().unwrap(),
        RunReport::default(),
        "the second retry waits 4 s"
    );
    std::fs::remove_file(&blocker).unwrap();
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(ws.outbox().run().unwrap().done, 1);
    assert!(doc_path(dir.path(), &doc.document_id).exists());
    assert_eq!(outbox_rows(&ws), (1, 0));
}

#[test]
fn replay_rebuild_verification_pulls_and_the_server_run_no_effect() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let doc = ws.audit().report(&admin.session_id).unwrap();
    ws.outbox().run().unwrap();
    let path = doc_path(dir.path(), &doc.document_id);
    std::fs::remove_file(&path).unwrap();

    // Rebuild, verification and a replay of every projection in place.
    audit::rebuild(ws.ledger().conn()).unwrap();
    assert!(ws.audit().verify(&admin.session_id).unwrap().ok);
    {
        let tx = ws.ledger().conn().unchecked_transaction().unwrap();
        replay::reproject_all(&tx).unwrap();
        tx.commit().unwrap();
    }
    assert_eq!(outbox_rows(&ws), (1, 0));
    assert_eq!(ws.outbox().run().unwrap(), RunReport::default());
    assert!(!path.exists(), "no effect ran again");

    // Another desk pulling the record queues nothing and stores nothing.
    let records: Vec<_> = ws
        .ledger()
        .conn()
        .prepare("SELECT * FROM records ORDER BY local_index")
        .unwrap()
        .query_map([], dentpro_core::ledger::read_record)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let mut other = open(other_dir.path(), &clock).unwrap();
    pull_into(&mut other, &records);
    assert_eq!(outbox_rows(&other), (0, 0));
    assert_eq!(other.outbox().run().unwrap(), RunReport::default());
    assert!(!other_dir.path().join(documents::DIR).exists());

    // The branch server admits the records (its own code path) and runs nothing.
    let server_dir = tempfile::tempdir().unwrap();
    let mut server =
        store::open_unbound(&server_dir.path().join("server.sqlite3"), &store::DbKey::random()).unwrap();
    let tx = server.transaction().unwrap();
    let identity = dentpro_core::device::DeviceIdentity::load_existing(dir.path()).unwrap();
    let sender = sync::Sender {
        device_id: ws.device_id(),
        public_key: &identity.verifying_key(),
        clock_skew_seconds: None,
    };
    let (admitted, error) = sync::admit_all(&tx, &sender, &records);
    assert!(error.is_none(), "{error:?}");
    assert!(
        admitted
            .iter()
            .all(|a| a.position().verdict == sync::Verdict::Accepted)
    );
    tx.commit().unwrap();
    assert!(records.iter().any(|r| r.body.kind == "audit.report_generated"));
    assert_eq!(count(&server, "SELECT count(*) FROM outbox"), 0);
    assert!(!server_dir.path().join(documents::DIR).exists());
}

/// In the child: sets up (or opens) the data dir, prints a report and says `COMMITTED <id>`;
/// then, with a failpoint set, runs the outbox (which stops at it), else waits to be killed.
#[test]
fn child_report_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let clock = clock();
    let (mut ws, admin) = set_up(Path::new(&dir), &clock);
    let doc = ws.audit().report(&admin.session_id).unwrap();
    println!("COMMITTED {}", doc.document_id);
    if std::env::var(FAILPOINT_ENV).is_ok() {
        ws.outbox().run().unwrap();
        panic!("the failpoint did not stop the worker");
    }
    loop {
        std::thread::park();
    }
}

/// Runs the child on `dir` with `failpoint`, waits until it reached the point, kills it with
/// SIGKILL, and returns the document id it committed.
fn run_and_kill(dir: &Path, failpoint: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_report_process",
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env(CHILD_ENV, dir)
    .env_remove(FAILPOINT_ENV)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(point) = failpoint {
        cmd.env(FAILPOINT_ENV, point);
    }
    let mut child = cmd.spawn().expect("spawn the child");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let id = loop {
        let line = stdout.next().expect("the child printed its document").unwrap();
        if let Some(id) = line.strip_prefix("COMMITTED ") {
            break id.trim().to_owned();
        }
    };
    if let Some(point) = failpoint {
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let wanted = format!("dentpro-outbox-failpoint {point}");
        loop {
            let line = stderr.next().expect("the child reached the failpoint").unwrap();
            if line.trim() == wanted {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL the child"); // Child::kill is SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success());
    id
}

/// Reopens `dir` after the kill and runs the outbox: the store ends up with the document once.
fn restart_and_run(dir: &Path, id: &str, stored_before: bool) -> RunReport {
    let path = doc_path(dir, id);
    assert_eq!(path.exists(), stored_before);
    let inode = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).unwrap().ino()
    };
    let before = stored_before.then(|| inode(&path));
    let clock = clock();
    let ws = open(dir, &clock).unwrap();
    assert_eq!(
        outbox_rows(&ws),
        (1, 1),
        "the effect is still due after the restart"
    );
    let report = ws.outbox().run().unwrap();
    assert_eq!(outbox_rows(&ws), (1, 0));
    assert_eq!(ws.outbox().run().unwrap(), RunReport::default());
    let files: Vec<_> = std::fs::read_dir(dir.join(documents::DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files,
        [std::ffi::OsString::from(id)],
        "exactly the document, once"
    );
    if let Some(before) = before {
        assert_eq!(
            inode(&path),
            before,
            "the earlier delivery was kept, not written again"
        );
    }
    let store = documents::DocumentStore::new(
        dir,
        &dentpro_core::device::DeviceIdentity::load_existing(dir).unwrap(),
    );
    assert_eq!(documents::sha256_hex(&store.get(id).unwrap()), id);
    assert_eq!(
        store.put(id, &store.get(id).unwrap()).unwrap(),
        Delivery::Duplicate
    );
    report
}

/// Kills a child at `failpoint` (`None`: right after the commit), restarts on its data dir
/// (the document already in the store or not, as `stored_before` says) and runs the outbox:
/// (done, duplicates) of that run.
fn killed_then_restarted(failpoint: Option<&str>, stored_before: bool) -> (u32, u32) {
    let dir = tempfile::tempdir().unwrap();
    let id = run_and_kill(dir.path(), failpoint);
    let report = restart_and_run(dir.path(), &id, stored_before);
    (report.done, report.duplicates)
}

#[test]
fn killed_between_the_commit_and_the_worker_the_effect_happens_after_restart() {
    assert_eq!(killed_then_restarted(None, false), (1, 0));
}

#[test]
fn killed_before_the_effect_the_effect_happens_once_after_restart() {
    assert_eq!(killed_then_restarted(Some("before_effect"), false), (1, 0));
}

#[test]
fn killed_after_the_effect_before_it_is_marked_done_the_receiver_keeps_one_copy() {
    assert_eq!(
        killed_then_restarted(Some("after_effect"), true),
        (1, 1),
        "redelivered, deduplicated"
    );
}
