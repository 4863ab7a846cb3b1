//! The pinned client against a real TLS server on 127.0.0.1: the paired certificate is
//! accepted under any name, any other certificate is refused with both fingerprints named, and a
//! server showing the paired certificate without its private key fails the handshake.

use std::net::SocketAddr;
use std::sync::Arc;

use dentpro_sync::tls::{
    PinMismatch, ServerIdentity, create_server_identity, crypto_provider, pin_mismatch, pinned_client_config,
    pinned_http_client, server_config,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const BODY: &str = "hello from the branch";

/// Serves `config` on 127.0.0.1 from a thread of its own (the blocking client must not run
/// inside an async runtime). Each connection gets one fixed HTTP/1.1 answer. The thread lives
/// as long as the test process.
fn serve(config: rustls::ServerConfig) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A refused handshake is the point of some tests: nothing to do then.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                        BODY.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn serve_identity(identity: &ServerIdentity) -> SocketAddr {
    serve(server_config(&identity.cert_pem, &identity.key_pem).unwrap())
}

fn identity() -> ServerIdentity {
    create_server_identity(&["branch.clinic.lan".into(), "192.168.1.10".into()]).unwrap()
}

#[test]
fn paired_client_reaches_the_server_by_ip_and_by_name() {
    let id = identity();
    let addr = serve_identity(&id);
    let client = pinned_http_client(&id.fingerprint).unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let response = client
            .get(format!("https://{host}:{}/v1/health", addr.port()))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "via {host}");
        assert_eq!(response.text().unwrap(), BODY, "via {host}");
    }
    // A fingerprint as openssl prints it (upper case, colons) pins the same certificate.
    let spelled = id
        .fingerprint
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let client = pinned_http_client(&spelled).unwrap();
    assert_eq!(
        client
            .get(format!("https://127.0.0.1:{}/", addr.port()))
            .send()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn another_certificate_is_refused_naming_both_fingerprints() {
    let (server_id, paired_id) = (identity(), identity());
    assert_ne!(server_id.fingerprint, paired_id.fingerprint);
    let addr = serve_identity(&server_id);
    let client = pinned_http_client(&paired_id.fingerprint).unwrap();
    let error = client
        .get(format!("https://127.0.0.1:{}/v1/health", addr.port()))
        .send()
        .unwrap_err();
    assert_eq!(
        pin_mismatch(&error),
        Some(PinMismatch {
            expected: paired_id.fingerprint.clone(),
            presented: server_id.fingerprint.clone()
        })
    );
    // The whole chain, as a log line would print it, names both.
    let mut text = String::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        text += &format!("{e}: ");
        source = e.source();
    }
    let mismatch = pin_mismatch(&error).unwrap().to_string();
    assert!(
        mismatch.contains(&paired_id.fingerprint) && mismatch.contains(&server_id.fingerprint),
        "{mismatch}"
    );
    assert!(text.contains("certificate"), "{text}");
}

#[test]
fn plain_http_is_refused_by_the_pinned_client() {
    let id = identity();
    let client = pinned_http_client(&id.fingerprint).unwrap();
    // https_only: nothing is even sent, so no server is needed.
    assert!(client.get("http://127.0.0.1:9/v1/health").send().is_err());
}

/// The rustls configuration on its own (as an async client would use it): pinning is by the
/// certificate, and the handshake signature is still checked with that certificate's key.
#[test]
fn handshake_needs_the_pinned_certificates_private_key() {
    let (genuine, impostor) = (identity(), identity());
    // The impostor presents the genuine certificate (public, easy to copy) with its own key.
    let provider = crypto_provider();
    let cert = CertificateDer::from_pem_slice(genuine.cert_pem.as_bytes()).unwrap();
    let wrong_key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::from_pem_slice(impostor.key_pem.as_bytes()).unwrap())
        .unwrap();
    let stolen = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(CertifiedKey::new(
            vec![cert],
            wrong_key,
        ))));
    let impostor_addr = serve(stolen);
    let genuine_addr = serve_identity(&genuine);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connector =
            tokio_rustls::TlsConnector::from(Arc::new(pinned_client_config(&genuine.fingerprint).unwrap()));
        // Any name will do for the pin, even one the certificate does not carry.
        let name = ServerName::try_from("not-in-the-certificate.example").unwrap();

        let tcp = tokio::net::TcpStream::connect(genuine_addr).await.unwrap();
        let mut tls = connector
            .connect(name.clone(), tcp)
            .await
            .expect("genuine server");
        tls.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut response = String::new();
        tls.read_to_string(&mut response).await.unwrap();
        assert!(response.ends_with(BODY), "{response}");

        let tcp = tokio::net::TcpStream::connect(impostor_addr).await.unwrap();
        let error = connector
            .connect(name, tcp)
            .await
            .expect_err("impostor must fail the handshake");
        assert_eq!(
            pin_mismatch(&error),
            None,
            "the pin matched; the signature did not: {error}"
        );
    });
}
