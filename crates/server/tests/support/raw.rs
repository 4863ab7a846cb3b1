//! Raw HTTPS to the real server: a pinned TLS connection and `/health`, for tests that need
//! to send bytes no well-behaved client would.

use super::TestServer;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

pub fn fingerprint(server: &TestServer) -> String {
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(server.dir.join("server.json")).unwrap()).unwrap();
    config["certificate_fingerprint"].as_str().unwrap().to_owned()
}

/// A TLS connection pinned to the server's certificate, handshake done.
pub fn tls(address: &str, fingerprint: &str) -> StreamOwned<ClientConnection, TcpStream> {
    let config = dentpro_sync::tls::pinned_client_config(fingerprint).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(address).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).expect("TLS handshake");
    }
    StreamOwned::new(conn, sock)
}

/// `GET /health` on a new connection: whether it answered 200.
pub fn health(address: &str, fingerprint: &str) -> bool {
    let mut s = tls(address, fingerprint);
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    // A close without TLS close_notify is fine here: the status line is what counts.
    let _ = s.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200")
}
