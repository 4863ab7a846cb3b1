//! The branch server's self-made TLS identity and the workstation's pinned client.
//!
//! A clinic has no public host name and no certificate authority, so the server makes its own
//! certificate ([`create_server_identity`], with `rcgen`) and the workstation trusts exactly that
//! certificate, by the SHA-256 fingerprint of its DER encoding, entered or confirmed when the
//! workstation is paired ([`pinned_client_config`], [`pinned_http_client`]). Host names and
//! validity dates play no part: the pin decides; changing the certificate means pairing again.
//! The TLS handshake's signature is still verified against the pinned certificate's key, so a
//! server that merely replays the certificate without its key fails.
//!
//! **Crypto provider.** Everything here uses rustls with the `ring` provider, passed explicitly
//! ([`crypto_provider`]), so nothing depends on a process-wide default and aws-lc-rs (which
//! needs cmake to build) is never compiled. Code that builds rustls configurations *without*
//! naming a provider (axum-server's `RustlsConfig::from_pem`, `rustls::ServerConfig::builder()`)
//! needs [`install_default_crypto_provider`] called once at process start, or use
//! [`server_config`] with `RustlsConfig::from_config`.
//!
//! The key is ECDSA P-256 (`ecdsa_secp256r1_sha256`): supported for TLS 1.3 server
//! authentication by every rustls provider and by browsers and curl, should anyone look.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Names every server certificate carries, so that the server can always be reached on the
/// machine itself.
const ALWAYS_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Connect timeout of [`pinned_http_client`]: the branch server is on the local network.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout of [`pinned_http_client`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(thiserror::Error, Debug)]
pub enum TlsError {
    #[error("could not create the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("not a PEM certificate or key: {0}")]
    Pem(String),
    #[error("not a SHA-256 certificate fingerprint (64 hex digits expected): {0:?}")]
    BadFingerprint(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The server's certificate and private key (PEM) and the fingerprint workstations pin.
#[derive(Clone)]
pub struct ServerIdentity {
    pub cert_pem: String,
    /// PKCS#8 PEM. Secret: store it readable by the server's account only.
    pub key_pem: String,
    /// Lowercase hex SHA-256 of the DER certificate.
    pub fingerprint: String,
}

impl std::fmt::Debug for ServerIdentity {
    /// Leaves the private key out, so an identity can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// The certificate a workstation saw instead of the one it is paired with. It is the source
/// of the TLS error a pinned client returns; find it in an error's chain with [`pin_mismatch`].
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error(
    "the server presented a certificate with fingerprint {presented}, but this workstation is \
     paired with {expected}"
)]
pub struct PinMismatch {
    pub expected: String,
    pub presented: String,
}

/// The rustls crypto provider DentPro uses: `ring`.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs `ring` as the process-wide rustls provider, for code that builds rustls
/// configurations without naming one. Harmless if one is installed already.
pub fn install_default_crypto_provider() {
    // An error only means a provider is already installed; rustls keeps the first.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Creates a self-signed ECDSA P-256 certificate for the branch server, valid for
/// `subject_alt_names` (host names or IP addresses) plus `localhost` and `127.0.0.1`.
pub fn create_server_identity(subject_alt_names: &[String]) -> Result<ServerIdentity, TlsError> {
    let mut names: Vec<String> = Vec::new();
    for name in ALWAYS_NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(subject_alt_names.iter().cloned())
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "DentPro branch server");
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    // Validity stays rcgen's (1975 to 4096): trust comes from the pin, and an expiry date would
    // only cut a branch off one day with nobody to renew the certificate.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    Ok(ServerIdentity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        fingerprint: fingerprint_of_der(cert.der()),
    })
}

/// Lowercase hex SHA-256 of a certificate's DER encoding.
pub fn fingerprint_of_der(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

/// The fingerprint of the first certificate in a PEM text.
pub fn fingerprint_of_pem(cert_pem: &str) -> Result<String, TlsError> {
    let der =
        CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| TlsError::Pem(e.to_string()))?;
    Ok(fingerprint_of_der(&der))
}

/// Parses a fingerprint as people may type or paste it: hex digits in either case, optionally
/// separated by colons or spaces (as `openssl x509 -fingerprint` prints it).
pub fn normalize_fingerprint(fingerprint: &str) -> Result<String, TlsError> {
    let hex: String = fingerprint
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(TlsError::BadFingerprint(fingerprint.to_owned()))
    }
}

/// A TLS 1.3 client configuration that accepts exactly the certificate with this SHA-256
/// fingerprint, whatever the host name, and refuses any other with a [`PinMismatch`]. The
/// server's handshake signature is still verified with that certificate's key.
pub fn pinned_client_config(fingerprint_hex: &str) -> Result<rustls::ClientConfig, TlsError> {
    let provider = crypto_provider();
    let verifier = PinnedCertVerifier {
        expected: normalize_fingerprint(fingerprint_hex)?,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        // Both ends are DentPro's own: no reason to offer anything older.
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A blocking HTTPS client over [`pinned_client_config`]: https only, no proxy (the server is
/// on the local network), no redirects, connect timeout 5 s, request timeout 30 s. Build and use
/// it outside any async runtime (reqwest's blocking client runs its own).
pub fn pinned_http_client(fingerprint_hex: &str) -> Result<reqwest::blocking::Client, TlsError> {
    let config = pinned_client_config(fingerprint_hex)?;
    let client = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(config)
        // Plain http would bypass the pin altogether.
        .https_only(true)
        .no_proxy()
        // A DPoP proof names one URL; a redirect could only fail it or send it elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    Ok(client)
}

/// A rustls server configuration for the identity's PEM certificate and key, with the `ring`
/// provider and ALPN for HTTP/2 and HTTP/1.1 (what axum-server's `from_pem` sets): for
/// `axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(..))`.
pub fn server_config(cert_pem: &str, key_pem: &str) -> Result<rustls::ServerConfig, TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem("no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsError::Pem(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Finds the [`PinMismatch`] behind an error (a `reqwest::Error` from a pinned client, an
/// `std::io::Error` from a TLS stream, a `rustls::Error`), if that is what it was.
pub fn pin_mismatch(error: &(dyn std::error::Error + 'static)) -> Option<PinMismatch> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(mismatch) = e.downcast_ref::<PinMismatch>() {
            return Some(mismatch.clone());
        }
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) =
            e.downcast_ref::<rustls::Error>()
            && let Some(mismatch) = other.0.downcast_ref::<PinMismatch>()
        {
            return Some(mismatch.clone());
        }
        // io::Error::source() skips the error it wraps (rustls's, under tokio-rustls), so look
        // at the wrapped error itself.
        current = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// Accepts the one certificate whose SHA-256 fingerprint is `expected`.
#[derive(Debug)]
struct PinnedCertVerifier {
    expected: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = fingerprint_of_der(end_entity);
        if presented == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            let mismatch = PinMismatch {
                expected: self.expected.clone(),
                presented,
            };
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(mismatch)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalised() {
        let fp = "AB:CD:".to_string() + &"0".repeat(60);
        assert_eq!(
            normalize_fingerprint(&fp).unwrap(),
            "abcd".to_string() + &"0".repeat(60)
        );
        assert!(normalize_fingerprint("abcd").is_err());
        assert!(normalize_fingerprint(&"g".repeat(64)).is_err());
        assert!(pinned_client_config("nope").is_err());
    }

    #[test]
    fn identity_pem_round_trips() {
        let id = create_server_identity(&["branch.local".into(), "localhost".into()]).unwrap();
        assert_eq!(fingerprint_of_pem(&id.cert_pem).unwrap(), id.fingerprint);
        assert_eq!(id.fingerprint.len(), 64);
        assert!(!format!("{id:?}").contains("PRIVATE KEY"));
        server_config(&id.cert_pem, &id.key_pem).unwrap();
        assert!(fingerprint_of_pem("not pem").is_err());
        assert!(server_config(&id.cert_pem, "not pem").is_err());
    }
}
