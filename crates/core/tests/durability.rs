//! Nothing lost: a writer process is killed with SIGKILL in the middle of its work; every
//! action it acknowledged is still there when the workstation reopens, and the chain verifies.
//!
//! The writer is this test binary itself, re-invoked with `DENTPRO_DURABILITY_CHILD` set so that
//! only [`child_writer_process`] runs in it.

mod common;

use common::*;
use dentpro_core::audit;
use dentpro_core::demo::demo_patient;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "DENTPRO_DURABILITY_CHILD";
const ACKS_BEFORE_KILL: usize = 300;

/// In the child: writes patients (and file openings) until killed, printing `ACK <seq>` once
/// each action has returned, i.e. was acknowledged to its caller.
#[test]
fn child_writer_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let clock = clock();
    let mut ws = open(Path::new(&dir), &clock).unwrap();
    let session = if ws.status(None).unwrap().setup_done {
        ws.login("admin", PASSWORD).unwrap().session_id
    } else {
        ws.setup_branch(&setup_input()).unwrap().session_id
    };
    let stdout = std::io::stdout();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut i = 0;
    while Instant::now() < deadline {
        let p = ws.patients().register(&session, &demo_patient(i)).unwrap();
        writeln!(stdout.lock(), "ACK {}", ws.ledger().head().seq).unwrap();
        if i % 4 == 0 {
            ws.patients().open(&session, &p.id).unwrap();
            writeln!(stdout.lock(), "ACK {}", ws.ledger().head().seq).unwrap();
        }
        stdout.lock().flush().unwrap();
        i += 1;
    }
}

/// Runs a writer on `dir`, kills it with SIGKILL after `ACKS_BEFORE_KILL` acknowledgements,
/// and returns every seq it acknowledged (including lines still in the pipe).
fn run_and_kill(dir: &Path) -> BTreeSet<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_writer_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = BTreeSet::new();
    let mut killed = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(seq) = line.strip_prefix("ACK ") {
            acked.insert(seq.trim().parse::<u64>().unwrap());
            if acked.len() >= ACKS_BEFORE_KILL && !killed {
                child.kill().expect("SIGKILL the writer"); // Child::kill is SIGKILL on Unix
                killed = true;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(killed, "the writer stopped by itself: {status:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
    acked
}

fn check_nothing_lost(dir: &Path, acked: &BTreeSet<u64>) -> u64 {
    let clock = clock();
    let ws = open(dir, &clock).expect("reopen after the crash");
    let conn = ws.ledger().conn();
    let present: BTreeSet<u64> = conn
        .prepare("SELECT seq FROM records")
        .unwrap()
        .query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|s| s.unwrap() as u64)
        .collect();
    let lost: Vec<_> = acked.difference(&present).collect();
    assert!(lost.is_empty(), "acknowledged records lost: {lost:?}");
    let head = ws.ledger().head().seq;
    assert_eq!(present, (1..=head).collect(), "seq contiguous");
    let report = audit::verify(conn, Some(dir), Some(ws.device_id())).unwrap();
    assert!(report.ok, "{report:?}");
    head
}

#[test]
fn acknowledged_actions_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_and_kill(dir.path());
    assert!(first.len() >= ACKS_BEFORE_KILL);
    let head = check_nothing_lost(dir.path(), &first);
    assert!(head >= *first.last().unwrap());
    // A second life on the same data dir, killed again.
    let second = run_and_kill(dir.path());
    assert!(
        second.first().unwrap() > first.last().unwrap(),
        "the writer continued the chain"
    );
    let all: BTreeSet<u64> = first.union(&second).copied().collect();
    check_nothing_lost(dir.path(), &all);
    // The projections still agree with the records.
    let clock = clock();
    let ws = open(dir.path(), &clock).unwrap();
    assert_eq!(audit::compare_projections(ws.ledger().conn()).unwrap(), None);
    let registered = count(
        ws.ledger().conn(),
        "SELECT count(*) FROM records WHERE kind = 'patient.registered'",
    );
    assert_eq!(
        count(ws.ledger().conn(), "SELECT count(*) FROM patients"),
        registered
    );
}
