//! Device-bound access, after RFC 9449 (OAuth 2.0 Demonstrating Proof of Possession, "DPoP").
//!
//! Every request a workstation sends carries two JWTs:
//! - an **access token** the branch server issued to the device at enrolment or refresh
//!   ([`issue_access_token`]): short-lived, signed with the server's Ed25519 key, and bound to
//!   the device key by that key's RFC 7638 thumbprint in `cnf.jkt`;
//! - a fresh **DPoP proof** ([`make_proof`]) signed with the device's own key (the one in the OS
//!   keyring), naming the request's method and URL, the time, a unique `jti`, and the hash of
//!   the access token (`ath`).
//!
//! A token copied off a workstation is useless without its device key, and a proof captured in
//! flight is only good for that method and URL, for `max_skew` and once ([`JtiCache`]). The
//! server checks token + proof + binding, then that the key is an enrolled device's, and only
//! then remembers the proof's `jti` in that device's replay state ([`DeviceReplayCaches`]), so
//! that proofs from unknown keys store nothing.
//!
//! **JOSE.** JWS compact serialisation, headers and claims are `jsonwebtoken`'s. Its
//! signatures go through a process-wide `CryptoProvider`; the crate's own `rust_crypto` backend
//! would pull a second Ed25519 implementation (ed25519-dalek 2) and the `rsa` crate (which has
//! an open timing advisory, RUSTSEC-2023-0071), and `aws_lc_rs` needs cmake. So this module
//! installs a provider that supports only EdDSA and signs and verifies with the workspace's
//! ed25519-dalek 3 (verification is `verify_strict`: no malleable or small-order signatures).
//! It is installed on first use by any function here; nothing else in DentPro uses
//! `jsonwebtoken`. Times are checked here, against the caller's `now` (the crate reads the system
//! clock), so the server's injectable clock rules.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Once};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, OctetKeyPairParameters, OctetKeyPairType,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

/// `typ` of a DPoP proof (RFC 9449 section 4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";
/// `typ` of our access tokens (RFC 9068's JWT access token type), so that neither kind of JWT
/// can be passed off as the other.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Longest `jti` accepted: ours are UUIDs (36 characters); the bound keeps [`JtiCache`] small.
const MAX_JTI_LEN: usize = 128;

/// Why a token or proof was refused. [`AuthError::reason`] is a stable key for logs and API
/// error bodies.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    #[error("malformed token or proof: {0}")]
    Malformed(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("the proof was made for another HTTP method or URL")]
    WrongMethodOrUrl,
    #[error("the access token has expired")]
    Expired,
    /// The proof's `iat` is more than `max_skew` in the past: an old, captured proof, or a
    /// workstation clock running behind.
    #[error("the proof is too old (or the workstation's clock is behind)")]
    ProofTooOld,
    /// The proof's `iat` is more than `max_skew` in the future: the workstation's clock is ahead.
    #[error("the proof is dated in the future (the workstation's clock is ahead)")]
    NotYetValid,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`), or its `ath` is not
    /// the hash of the access token presented with it.
    #[error("the proof does not match the access token it came with")]
    TokenBinding,
    #[error("the proof was already used")]
    Replayed,
    /// The replay cache is full of proofs that are still within their window: refusing is the
    /// only safe answer (forgetting one would let it be replayed).
    #[error("too many requests in the replay window")]
    ReplayCacheFull,
    /// The proof's `jwk` carries private key material (RFC 9449 section 4.3 step 7).
    #[error("the proof's jwk holds a private key")]
    PrivateKeyInProof,
}

impl AuthError {
    /// Stable snake_case key for logs and API errors.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Malformed(_) => "malformed",
            AuthError::BadSignature => "bad_signature",
            AuthError::WrongMethodOrUrl => "wrong_method_or_url",
            AuthError::Expired => "token_expired",
            AuthError::ProofTooOld => "proof_too_old",
            AuthError::NotYetValid => "proof_not_yet_valid",
            AuthError::TokenBinding => "token_binding",
            AuthError::Replayed => "replayed",
            AuthError::ReplayCacheFull => "replay_cache_full",
            AuthError::PrivateKeyInProof => "private_key_in_proof",
        }
    }
}

/// Claims of a DPoP proof (RFC 9449 section 4.2).
#[derive(Serialize, Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    /// RFC 7519 NumericDate: seconds, possibly with a fraction (ours are whole seconds).
    iat: serde_json::Number,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

/// Claims of an access token: the device, the key it is bound to, its lifetime.
#[derive(Serialize, Deserialize)]
struct AccessClaims {
    sub: String,
    cnf: Confirmation,
    iat: i64,
    exp: i64,
    jti: String,
}

/// RFC 9449 section 6.1 confirmation claim: the JWK thumbprint of the bound key.
#[derive(Serialize, Deserialize)]
struct Confirmation {
    jkt: String,
}

/// What [`verify_proof`] established about a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The key that signed the proof (from its `jwk` header).
    pub public_key: VerifyingKey,
    /// RFC 7638 SHA-256 thumbprint of that key, base64url.
    pub thumbprint: String,
    pub jti: String,
    pub iat: DateTime<Utc>,
}

/// What [`verify_access_token`] established about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub device_id: String,
    /// Thumbprint of the device key the token is bound to (`cnf.jkt`).
    pub thumbprint: String,
    pub expires: DateTime<Utc>,
}

/// RFC 7638 JWK SHA-256 thumbprint of an Ed25519 public key, base64url without padding: the hash
/// of the required members `crv`, `kty`, `x` in lexicographic order, without whitespace.
pub fn thumbprint(key: &VerifyingKey) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(key.as_bytes()));
    b64(&Sha256::digest(canonical.as_bytes()))
}

/// Makes a DPoP proof for one request: header `{typ:"dpop+jwt", alg:"EdDSA", jwk}`, claims
/// `{jti, htm, htu, iat, ath?}`. `url` is the request URL; its query and fragment are left out
/// of `htu` as RFC 9449 asks.
pub fn make_proof(
    device_key: &SigningKey,
    method: &str,
    url: &str,
    access_token: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(PROOF_TYPE.to_owned());
    header.jwk = Some(public_jwk(&device_key.verifying_key()));
    let claims = ProofClaims {
        jti: Uuid::now_v7().to_string(),
        htm: method.to_owned(),
        htu: htu_of(url),
        iat: now.timestamp().into(),
        ath: access_token.map(token_hash),
    };
    sign(&header, &claims, device_key)
}

/// Verifies a DPoP proof: the signature with the key in its own `jwk` header, `typ` and `alg`,
/// `htm` equal to `method`, `htu` equal to `url` (both normalised, without query and fragment),
/// `iat` within `max_skew` of `now`, and, when an access token is given, `ath` equal to its
/// hash. It does not check replay: see [`JtiCache`].
pub fn verify_proof(
    proof: &str,
    method: &str,
    url: &str,
    access_token: Option<&str>,
    now: DateTime<Utc>,
    max_skew: Duration,
) -> Result<VerifiedProof, AuthError> {
    let header = jsonwebtoken::decode_header(proof).map_err(malformed)?;
    check_header(&header, PROOF_TYPE)?;
    refuse_private_jwk(proof)?;
    let jwk = header
        .jwk
        .as_ref()
        .ok_or_else(|| AuthError::Malformed("proof has no jwk".into()))?;
    let public_key = key_of_jwk(jwk)?;
    let claims: ProofClaims = decode_verified(proof, &public_key)?;

    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
        return Err(AuthError::Malformed("bad jti".into()));
    }
    if claims.htm != method || !same_target(&claims.htu, url) {
        return Err(AuthError::WrongMethodOrUrl);
    }
    let iat = numeric_date(&claims.iat)?;
    if iat < now - max_skew {
        return Err(AuthError::ProofTooOld);
    }
    if iat > now + max_skew {
        return Err(AuthError::NotYetValid);
    }
    if let Some(token) = access_token
        && claims.ath.as_deref() != Some(token_hash(token).as_str())
    {
        return Err(AuthError::TokenBinding);
    }
    Ok(VerifiedProof {
        thumbprint: thumbprint(&public_key),
        public_key,
        jti: claims.jti,
        iat,
    })
}

/// Issues an access token for `device_id`, bound to the device key whose thumbprint is
/// `thumbprint`, valid from `now` for `ttl`.
pub fn issue_access_token(
    server_key: &SigningKey,
    device_id: &str,
    thumbprint: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    let claims = AccessClaims {
        sub: device_id.to_owned(),
        cnf: Confirmation {
            jkt: thumbprint.to_owned(),
        },
        iat: now.timestamp(),
        exp: (now + ttl).timestamp(),
        jti: Uuid::now_v7().to_string(),
    };
    sign(&header, &claims, server_key)
}

/// Verifies an access token's type, signature (by `server_key`) and expiry at `now`.
pub fn verify_access_token(
    token: &str,
    server_key: &VerifyingKey,
    now: DateTime<Utc>,
) -> Result<TokenClaims, AuthError> {
    let header = jsonwebtoken::decode_header(token).map_err(malformed)?;
    check_header(&header, ACCESS_TOKEN_TYPE)?;
    let claims: AccessClaims = decode_verified(token, server_key)?;
    if claims.sub.is_empty() || claims.cnf.jkt.is_empty() {
        return Err(AuthError::Malformed("token has no subject or key binding".into()));
    }
    let expires = timestamp(claims.exp)?;
    if expires <= now {
        return Err(AuthError::Expired);
    }
    Ok(TokenClaims {
        device_id: claims.sub,
        thumbprint: claims.cnf.jkt,
        expires,
    })
}

/// Everything the server checks on an authenticated request except replay: the access token
/// (signed by `server_key`, unexpired), the DPoP proof for this method and URL carrying the
/// token's hash, and that the proof's key is the one the token is bound to (a token copied to
/// another machine comes with a proof from another key). Then call [`DeviceReplayCaches::check`] with
/// the proof's `jti` and `iat`.
pub fn authenticate(
    token: &str,
    proof: &str,
    method: &str,
    url: &str,
    server_key: &VerifyingKey,
    now: DateTime<Utc>,
    max_skew: Duration,
) -> Result<(TokenClaims, VerifiedProof), AuthError> {
    let claims = verify_access_token(token, server_key, now)?;
    let proof = verify_proof(proof, method, url, Some(token), now, max_skew)?;
    if proof.thumbprint != claims.thumbprint {
        return Err(AuthError::TokenBinding);
    }
    Ok((claims, proof))
}

/// Replay cache of DPoP proof `jti`s. Each is kept until its proof can no longer pass the
/// `iat` window (`iat + window`), and the number kept is capped: when the cap is reached by
/// proofs that are all still live, new proofs are refused rather than old ones forgotten.
#[derive(Debug)]
pub struct JtiCache {
    window: Duration,
    max_entries: usize,
    seen: HashSet<Arc<str>>,
    /// Min-heap of (forget-after timestamp, jti), so expired entries are dropped in order.
    expiries: BinaryHeap<Reverse<(i64, Arc<str>)>>,
}

impl JtiCache {
    /// Default cap: far above what a branch's workstations send in one window, and a few MiB.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

    /// A cache for proofs accepted within `window` of their `iat` (the `max_skew` given to
    /// [`verify_proof`]).
    pub fn new(window: Duration) -> Self {
        Self::with_max_entries(window, Self::DEFAULT_MAX_ENTRIES)
    }

    pub fn with_max_entries(window: Duration, max_entries: usize) -> Self {
        Self {
            window,
            max_entries,
            seen: HashSet::new(),
            expiries: BinaryHeap::new(),
        }
    }

    /// Records `jti`; `false` if it was already seen (a replay) or the cache is full.
    pub fn check_and_insert(&mut self, jti: &str, iat: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.check(jti, iat, now).is_ok()
    }

    /// Records `jti`, saying why not: [`AuthError::Replayed`] or [`AuthError::ReplayCacheFull`].
    pub fn check(&mut self, jti: &str, iat: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AuthError> {
        self.forget_expired(now);
        if self.seen.contains(jti) {
            return Err(AuthError::Replayed);
        }
        if self.seen.len() >= self.max_entries {
            return Err(AuthError::ReplayCacheFull);
        }
        let jti: Arc<str> = Arc::from(jti);
        self.seen.insert(jti.clone());
        self.expiries
            .push(Reverse(((iat + self.window).timestamp(), jti)));
        Ok(())
    }

    /// Number of `jti`s currently remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn forget_expired(&mut self, now: DateTime<Utc>) {
        let now = now.timestamp();
        while let Some(Reverse((forget_after, _))) = self.expiries.peek()
            && *forget_after < now
        {
            if let Some(Reverse((_, jti))) = self.expiries.pop() {
                self.seen.remove(&jti);
            }
        }
    }
}

/// Replay state kept per device: one bounded [`JtiCache`] each. The server calls
/// [`DeviceReplayCaches::check`] only once a proof's key is known to belong to an enrolled,
/// unrevoked device, so proofs from unknown keys store nothing, and a flood from one device
/// can fill only that device's cache (locking out only that device until its window passes).
#[derive(Debug)]
pub struct DeviceReplayCaches {
    window: Duration,
    per_device: usize,
    caches: HashMap<String, JtiCache>,
}

impl DeviceReplayCaches {
    pub fn new(window: Duration, per_device: usize) -> Self {
        Self {
            window,
            per_device,
            caches: HashMap::new(),
        }
    }

    /// Records the proof `jti` of `device_id`: [`AuthError::Replayed`] if that device already
    /// used it, [`AuthError::ReplayCacheFull`] if that device's cache is full of live proofs.
    pub fn check(
        &mut self,
        device_id: &str,
        jti: &str,
        iat: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        if !self.caches.contains_key(device_id) {
            let cache = JtiCache::with_max_entries(self.window, self.per_device);
            self.caches.insert(device_id.to_owned(), cache);
        }
        let cache = self.caches.get_mut(device_id).expect("inserted above");
        cache.check(jti, iat, now)
    }

    /// `jti`s remembered for `device_id`.
    pub fn len_of(&self, device_id: &str) -> usize {
        self.caches.get(device_id).map_or(0, JtiCache::len)
    }

    /// Devices with replay state.
    pub fn devices(&self) -> usize {
        self.caches.len()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `ath`: base64url SHA-256 of the access token's ASCII bytes (RFC 9449 section 4.2).
fn token_hash(token: &str) -> String {
    b64(&Sha256::digest(token.as_bytes()))
}

fn public_jwk(key: &VerifyingKey) -> Jwk {
    Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: b64(key.as_bytes()),
        }),
    }
}

/// The Ed25519 key of a proof's `jwk`. Its `x` must be the canonical encoding, so that one key
/// has one thumbprint.
fn key_of_jwk(jwk: &Jwk) -> Result<VerifyingKey, AuthError> {
    let AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
        curve: EllipticCurve::Ed25519,
        x,
        ..
    }) = &jwk.algorithm
    else {
        return Err(AuthError::Malformed("jwk is not an Ed25519 key".into()));
    };
    let bytes = URL_SAFE_NO_PAD.decode(x).map_err(malformed)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| AuthError::Malformed("jwk x is not 32 bytes".into()))?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(malformed)?;
    if b64(key.as_bytes()) != *x {
        return Err(AuthError::Malformed("jwk x is not canonical base64url".into()));
    }
    Ok(key)
}

fn check_header(header: &Header, typ: &str) -> Result<(), AuthError> {
    if header.alg != Algorithm::EdDSA {
        return Err(AuthError::Malformed("alg must be EdDSA".into()));
    }
    if header.typ.as_deref() != Some(typ) {
        return Err(AuthError::Malformed(format!("typ must be {typ}")));
    }
    // RFC 7515 section 4.1.11: extensions we do not understand must not be ignored.
    if header.crit.is_some() {
        return Err(AuthError::Malformed("unsupported crit header".into()));
    }
    Ok(())
}

fn sign<T: Serialize>(header: &Header, claims: &T, key: &SigningKey) -> String {
    ensure_jwt_provider();
    // jsonwebtoken takes Ed25519 signing keys as PKCS#8 DER; our provider parses it back.
    let der = key
        .to_pkcs8_der()
        .expect("an Ed25519 key always encodes as PKCS#8");
    let key = EncodingKey::from_ed_der(der.as_bytes());
    jsonwebtoken::encode(header, claims, &key).expect("signing our own claims with EdDSA cannot fail")
}

/// Checks the JWS signature with `key` (EdDSA only) and parses the claims. The time claims are
/// checked by the callers, against their `now`.
fn decode_verified<T: serde::de::DeserializeOwned>(jwt: &str, key: &VerifyingKey) -> Result<T, AuthError> {
    ensure_jwt_provider();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let key = DecodingKey::from_ed_der(key.as_bytes());
    match jsonwebtoken::decode::<T>(jwt, &key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) if *e.kind() == ErrorKind::InvalidSignature => Err(AuthError::BadSignature),
        Err(e) => Err(malformed(e)),
    }
}

fn malformed(e: impl std::fmt::Display) -> AuthError {
    AuthError::Malformed(e.to_string())
}

/// An RFC 7519 NumericDate (JSON number of seconds, fraction allowed) as a time.
fn numeric_date(n: &serde_json::Number) -> Result<DateTime<Utc>, AuthError> {
    if let Some(seconds) = n.as_i64() {
        return timestamp(seconds);
    }
    let bad = || AuthError::Malformed("iat is not a NumericDate".into());
    let f = n.as_f64().filter(|f| f.is_finite()).ok_or_else(bad)?;
    // Whole seconds in range of i64 first (the cast saturates, the range check catches it).
    let seconds = f.floor();
    if !(-1e15..=1e15).contains(&seconds) {
        return Err(bad());
    }
    let nanos = ((f - seconds) * 1e9) as u32;
    DateTime::from_timestamp(seconds as i64, nanos.min(999_999_999)).ok_or_else(bad)
}

/// RFC 9449 section 4.3 step 7: the proof's `jwk` must not hold a private key. Read from the
/// raw header, as `jsonwebtoken`'s `Jwk` type drops members it does not know (such as `d`).
fn refuse_private_jwk(jwt: &str) -> Result<(), AuthError> {
    /// Private members of JWKs of every type (RFC 7517, 7518, 8037).
    const PRIVATE: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    let segment = jwt.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(malformed)?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).map_err(malformed)?;
    let jwk = header.get("jwk").and_then(|j| j.as_object());
    if jwk.is_some_and(|jwk| PRIVATE.iter().any(|m| jwk.contains_key(*m))) {
        return Err(AuthError::PrivateKeyInProof);
    }
    Ok(())
}

fn timestamp(seconds: i64) -> Result<DateTime<Utc>, AuthError> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| AuthError::Malformed("time out of range".into()))
}

/// `htu` for a request URL: without query and fragment (RFC 9449 section 4.2).
fn htu_of(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            url.into()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// RFC 9449 section 4.3: `htu` matches the request's URI ignoring query and fragment, after
/// RFC 3986 syntax- and scheme-based normalisation (which `url` applies when parsing: case of
/// scheme and host, default port, dot segments, percent-encoding).
fn same_target(htu: &str, request_url: &str) -> bool {
    let normalised = |s: &str| {
        Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    matches!((normalised(htu), normalised(request_url)), (Some(a), Some(b)) if a == b)
}

/// The EdDSA-only `jsonwebtoken` provider over ed25519-dalek 3 (see the module docs).
static JWT_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: jwt_signer,
    verifier_factory: jwt_verifier,
    // JWK thumbprints and key conversions are done above, not through the crate.
    key_utils: KeyUtils::new_unimplemented(),
};

fn ensure_jwt_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if JWT_PROVIDER.install_default().is_err() {
            tracing::warn!("another jsonwebtoken CryptoProvider was installed first; using it");
        }
    });
}

fn jwt_signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if *alg != Algorithm::EdDSA {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    let key = SigningKey::from_pkcs8_der(key.as_bytes()).map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(EdDsaSigner(key)))
}

fn jwt_verifier(alg: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    if *alg != Algorithm::EdDSA {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    let bytes: [u8; 32] = key
        .try_get_as_bytes()?
        .try_into()
        .map_err(|_| ErrorKind::InvalidEddsaKey)?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(EdDsaVerifier(key)))
}

struct EdDsaSigner(SigningKey);

impl jsonwebtoken::signature::Signer<Vec<u8>> for EdDsaSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        Ok(self.0.sign(msg).to_bytes().to_vec())
    }
}

impl JwtSigner for EdDsaSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct EdDsaVerifier(VerifyingKey);

impl jsonwebtoken::signature::Verifier<Vec<u8>> for EdDsaVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), jsonwebtoken::signature::Error> {
        let signature =
            Signature::from_slice(signature).map_err(|_| jsonwebtoken::signature::Error::new())?;
        self.0
            .verify_strict(msg, &signature)
            .map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for EdDsaVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_from_b64(d: &str) -> SigningKey {
        SigningKey::from_bytes(&URL_SAFE_NO_PAD.decode(d).unwrap().try_into().unwrap())
    }

    /// RFC 8037 appendix A: the Ed25519 key, its RFC 7638 thumbprint, and a JWS signed with it.
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    #[test]
    fn rfc8037_thumbprint() {
        let key = key_from_b64(RFC8037_D);
        assert_eq!(b64(key.verifying_key().as_bytes()), RFC8037_X);
        assert_eq!(thumbprint(&key.verifying_key()), RFC8037_THUMBPRINT);
    }

    #[test]
    fn rfc8037_signature_through_the_provider() {
        ensure_jwt_provider();
        let key = key_from_b64(RFC8037_D);
        let (message, signature) = RFC8037_JWS.rsplit_once('.').unwrap();
        let public = DecodingKey::from_ed_der(key.verifying_key().as_bytes());
        assert!(
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &public, Algorithm::EdDSA).unwrap()
        );
        // Ed25519 is deterministic: signing the same input gives the RFC's signature.
        let der = key.to_pkcs8_der().unwrap();
        let private = EncodingKey::from_ed_der(der.as_bytes());
        assert_eq!(
            jsonwebtoken::crypto::sign(message.as_bytes(), &private, Algorithm::EdDSA).unwrap(),
            signature
        );
        // Another message does not verify.
        assert!(
            !jsonwebtoken::crypto::verify(signature, b"eyJhbGciOiJFZERTQSJ9.eA", &public, Algorithm::EdDSA)
                .unwrap()
        );
    }

    #[test]
    fn htu_leaves_out_query_and_fragment() {
        assert_eq!(
            htu_of("https://Branch.local:443/v1/pull?after=5#x"),
            "https://branch.local/v1/pull"
        );
        assert!(same_target(
            "https://branch.local/v1/pull",
            "https://BRANCH.local:443/v1/./pull?after=9"
        ));
        assert!(!same_target(
            "https://branch.local/v1/pull",
            "https://branch.local/v1/push"
        ));
        assert!(!same_target(
            "https://branch.local/v1/pull",
            "http://branch.local/v1/pull"
        ));
        assert!(!same_target(
            "https://branch.local:8443/v1/pull",
            "https://branch.local/v1/pull"
        ));
        assert!(!same_target("not a url", "not a url"));
    }

    #[test]
    fn reasons_are_distinct() {
        let all = [
            AuthError::Malformed(String::new()),
            AuthError::BadSignature,
            AuthError::WrongMethodOrUrl,
            AuthError::Expired,
            AuthError::ProofTooOld,
            AuthError::NotYetValid,
            AuthError::TokenBinding,
            AuthError::Replayed,
            AuthError::ReplayCacheFull,
            AuthError::PrivateKeyInProof,
        ];
        let reasons: HashSet<&str> = all.iter().map(AuthError::reason).collect();
        assert_eq!(reasons.len(), all.len());
    }
}
