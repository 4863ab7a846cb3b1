//! Issue 9, defect 8: clients that connect and then send slowly, or never finish their TLS
//! handshake, do not hold the real `dentpro-server`: `/health` answers while 50 of them are
//! connected, the server closes them after its timeouts, and beyond its connection cap new
//! connections wait (in the kernel's backlog) instead of the server falling over.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use support::TestServer;
use support::raw::{fingerprint, health, tls};

/// The server's timeouts in these tests (the defaults are 10 s).
const TIMEOUT_SECONDS: u64 = 3;
/// How long a slow client waits to be closed before the test calls it held.
const HELD: Duration = Duration::from_secs(20);

fn start(dir: &std::path::Path, max_connections: &str) -> TestServer {
    let timeout = TIMEOUT_SECONDS.to_string();
    TestServer::start_with_env(
        dir,
        &[
            ("DENTPRO_SERVER_MAX_CONNECTIONS", max_connections),
            ("DENTPRO_SERVER_HEADER_READ_TIMEOUT_SECONDS", &timeout),
            ("DENTPRO_SERVER_TLS_HANDSHAKE_TIMEOUT_SECONDS", &timeout),
            ("DENTPRO_SERVER_REQUEST_TIMEOUT_SECONDS", &timeout),
        ],
    )
}

/// Whether the peer closed the connection (EOF or reset), as seen by a read that waited.
fn closed(read: std::io::Result<usize>) -> bool {
    match read {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

/// Sends a request's headers one byte a second, forever: how long until the server closed
/// the connection (`None`: still open after [`HELD`]).
fn dribble_headers(address: &str, fingerprint: &str, ready: &Barrier) -> Option<Duration> {
    let mut s = tls(address, fingerprint);
    s.sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let start = Instant::now();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .unwrap();
    ready.wait();
    let mut buf = [0u8; 512];
    while start.elapsed() < HELD {
        if closed(s.read(&mut buf)) || s.write_all(b"a").is_err() {
            return Some(start.elapsed());
        }
    }
    None
}

/// Connects and never finishes the TLS handshake (sends nothing, or half a record header).
fn stall_handshake(address: &str, partial: bool, ready: &Barrier) -> Option<Duration> {
    let mut sock = TcpStream::connect(address).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let start = Instant::now();
    if partial {
        sock.write_all(&[0x16, 0x03, 0x01]).unwrap();
    }
    ready.wait();
    let mut buf = [0u8; 512];
    while start.elapsed() < HELD {
        if closed(sock.read(&mut buf)) {
            return Some(start.elapsed());
        }
    }
    None
}

#[test]
fn fifty_slow_clients_do_not_hold_the_server_and_are_closed_after_its_timeouts() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(&root.path().join("server"), "64");
    let fp = fingerprint(&server);
    assert!(health(&server.address, &fp));

    let ready = Arc::new(Barrier::new(51));
    let mut slow = Vec::new();
    for i in 0..50 {
        let (address, fp, ready) = (server.address.clone(), fp.clone(), ready.clone());
        slow.push(thread::spawn(move || match i % 5 {
            0 => ("stalled handshake", stall_handshake(&address, i % 2 == 0, &ready)),
            _ => ("dribbled headers", dribble_headers(&address, &fp, &ready)),
        }));
    }
    ready.wait();
    // All 50 are connected: the server still answers, every time it is asked.
    for _ in 0..5 {
        assert!(health(&server.address, &fp), "/health did not answer");
        thread::sleep(Duration::from_millis(300));
    }
    for t in slow {
        let (what, closed_after) = t.join().unwrap();
        let after = closed_after.unwrap_or_else(|| panic!("a client with {what} was held open"));
        assert!(
            after >= Duration::from_secs(TIMEOUT_SECONDS - 1),
            "a client with {what} was closed before the timeout ({after:?})"
        );
    }
    assert!(server.is_running());
    assert!(health(&server.address, &fp));
}

#[test]
fn beyond_the_connection_cap_new_connections_wait_and_the_server_stays_up() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(&root.path().join("server"), "8");
    let fp = fingerprint(&server);
    assert!(health(&server.address, &fp));

    // Eight connections that never start TLS take every slot...
    let idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&server.address).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(300));
    // ...so the next client waits (its TLS handshake is not answered)...
    let (tx, rx) = mpsc::channel();
    let (address, fp2) = (server.address.clone(), fp.clone());
    let waiting = thread::spawn(move || tx.send(health(&address, &fp2)).unwrap());
    assert!(
        rx.recv_timeout(Duration::from_millis(1500)).is_err(),
        "a connection beyond the cap was served at once"
    );
    // ...until the server closes the stalled ones after its handshake timeout.
    assert!(
        rx.recv_timeout(HELD).expect("the waiting client was served"),
        "/health answered"
    );
    waiting.join().unwrap();
    drop(idle);

    // A flood far beyond the cap does not bring the server down.
    let flood: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(&server.address).ok())
        .collect();
    thread::sleep(Duration::from_millis(300));
    drop(flood);
    assert!(server.is_running());
    assert!(health(&server.address, &fp));
}

#[test]
fn a_body_sent_slowly_is_answered_408_after_the_request_timeout() {
    let root = tempfile::tempdir().unwrap();
    let server = start(&root.path().join("server"), "64");
    let fp = fingerprint(&server);
    let mut s = tls(&server.address, &fp);
    s.sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let start = Instant::now();
    // Prompt headers, then a body one byte a second.
    s.write_all(
        b"POST /v1/enrol HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while start.elapsed() < HELD && !answer.ends_with(b"}") {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let _ = s.write_all(b" ");
            }
            Err(_) => break,
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""reason":"request_timeout""#), "{answer}");
}
