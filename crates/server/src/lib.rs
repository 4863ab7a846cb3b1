//! DentPro's branch server: the place where a branch's workstations exchange their signed
//! records. It re-checks every record with the core's own rules ([`dentpro_core::sync::admit`]),
//! keeps an RFC 6962 Merkle log of them and signs checkpoints, so a workstation can tell if the
//! log was ever rewritten.
//!
//! - [`store`]: the data dir (database, key, TLS identity), devices and enrolment codes.
//! - this file: the HTTP API (axum) over one SQLite connection and the in-memory Merkle tree.
//!
//! **What arrives before authentication is bounded.** Every 4xx answer goes through `guard`:
//! it gets the one JSON error shape ([`ApiError`]) and is recorded as an aggregated security
//! event (per source, kind, reason and hour, with a count: see [`store::security_event`]); a
//! source (peer IP) past its refusal budget has its refusals counted in memory instead of
//! written one by one, and its enrolments are answered 429 before their body is read. Proofs
//! are checked against the enrolled devices before their `jti` is remembered, and replay state
//! is kept per device ([`auth::DeviceReplayCaches`]).

pub mod backup;
pub mod listener;
pub mod store;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header as h};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use dentpro_core::ErrorCode;
use dentpro_core::record::device_id_for;
use dentpro_core::sync::{self as core_sync, Admission, LoggedRecord, Sender};
use dentpro_sync::auth::{self, DeviceReplayCaches};
use dentpro_sync::merkle::MerkleLog;
use dentpro_sync::protocol::*;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use store::{DataDir, DeviceRow, Source};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest push body read (after the token and proof check out): the limit clients learn from
/// `/v1/state` and fit their batches to.
pub const MAX_PUSH_BODY_BYTES: usize = MAX_PUSH_BYTES;
/// Largest body of every other request (enrolment: a few hundred bytes of JSON).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Peers whose refusal budget is tracked; beyond that, new peers share one budget.
const MAX_TRACKED_SOURCES: usize = 4096;

/// Tunables of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A device whose clock is further than this from the server's is warned and its records
    /// flagged.
    pub max_clock_skew: Duration,
    /// How old (or early) a DPoP proof may be. Workstations date their proofs by the server's
    /// clock (learnt from each answer), so this only has to cover network delay.
    pub proof_window: Duration,
    pub token_ttl: Duration,
    /// Bound on the replay state of one enrolled device (DPoP `jti`s remembered within
    /// `proof_window`). A catch-up makes far fewer requests in a window: see
    /// `catch_up_fits_in_the_replay_bound` below.
    pub replay_cache_entries: usize,
    /// Refusals a source (peer IP) may cause in a minute before they are counted instead of
    /// recorded one by one and its enrolments are refused unread (429).
    pub refusals_per_minute: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_clock_skew: Duration::minutes(2),
            proof_window: Duration::seconds(60),
            token_ttl: Duration::minutes(10),
            replay_cache_entries: 10_000,
            refusals_per_minute: 30,
        }
    }
}

struct Inner {
    db: Connection,
    log: MerkleLog,
    replay: DeviceReplayCaches,
    limiter: RefusalLimiter,
}

pub struct Server {
    inner: Mutex<Inner>,
    key: SigningKey,
    branch_name: String,
    settings: Settings,
}

impl Server {
    /// Opens an initialised data dir and rebuilds the Merkle tree from the stored log.
    pub fn open(dir: &DataDir, settings: Settings) -> dentpro_core::Result<Self> {
        let config = dir.config()?;
        let db = dir.open_db()?;
        let log: MerkleLog = core_sync::log_leaves(&db, None)?.into_iter().collect();
        tracing::info!(log_size = log.len(), "log loaded");
        Ok(Self {
            inner: Mutex::new(Inner {
                db,
                log,
                replay: DeviceReplayCaches::new(settings.proof_window, settings.replay_cache_entries),
                limiter: RefusalLimiter::new(settings.refusals_per_minute),
            }),
            key: dir.signing_key()?,
            branch_name: config.branch_name,
            settings,
        })
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/health", get(health))
            .route("/v1/enrol", post(enrol))
            .route("/v1/token", post(token))
            .route("/v1/state", get(state))
            .route("/v1/push", post(push))
            .route("/v1/pull", get(pull))
            .route("/v1/proof/inclusion", get(inclusion))
            .route("/v1/devices", get(devices))
            .fallback(no_route)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(middleware::from_fn_with_state(self.clone(), guard))
            .with_state(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A handler that panicked mid-request left no half-done SQLite transaction behind
        // (dropped transactions roll back), so the state is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn checkpoint(&self, log: &MerkleLog) -> SignedCheckpoint {
        SignedCheckpoint::sign(&self.key, log.len(), log.root(), Utc::now())
    }
}

// ---- errors ----

pub struct Failure {
    status: StatusCode,
    error: ApiError,
    about: Box<About>,
    /// RFC 6750 / RFC 9449 error code of a 401's `WWW-Authenticate: DPoP` challenge.
    challenge: &'static str,
}

/// A refusal as [`guard`] records it (from the answer's extensions).
#[derive(Clone, Debug)]
struct Refusal {
    about: About,
    error: ApiError,
}

/// What a refusal is recorded as, beside its error.
#[derive(Clone, Debug)]
struct About {
    kind: &'static str,
    /// The device the request named: a sample, capped when stored.
    device: Option<String>,
    /// The device authenticated: the event's source is the device, not the peer address.
    authenticated: bool,
}

/// `WWW-Authenticate` error codes (RFC 6750 section 3.1, RFC 9449 section 7.1).
const INVALID_TOKEN: &str = "invalid_token";
const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";

impl Failure {
    fn new(status: StatusCode, code: &str, reason: &str, message: impl Into<String>) -> Self {
        let error = ApiError {
            code: code.into(),
            reason: reason.into(),
            message: message.into(),
        };
        Self {
            status,
            about: Box::new(About {
                kind: "request_refused",
                device: None,
                authenticated: false,
            }),
            error,
            challenge: INVALID_TOKEN,
        }
    }

    fn kind(mut self, kind: &'static str) -> Self {
        self.about.kind = kind;
        self
    }

    /// Names the device the request claimed to come from (not authenticated).
    fn naming(mut self, device_id: Option<&str>) -> Self {
        self.about.device = device_id.map(|d| store::printable(d, store::MAX_DEVICE_ID_CHARS));
        self
    }

    /// A refusal of an authenticated device's request.
    fn of(mut self, device_id: &str) -> Self {
        self.about.device = Some(device_id.to_owned());
        self.about.authenticated = true;
        self
    }

    /// A 401 for the token (`invalid_token`) or the proof (`invalid_dpop_proof`).
    fn unauthorized(challenge: &'static str, reason: &str, message: impl Into<String>) -> Self {
        let mut f = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", reason, message);
        f.challenge = challenge;
        f
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let refusal = Refusal {
            about: *self.about,
            error: self.error.clone(),
        };
        let mut response = (self.status, Json(self.error)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // The reason is a snake_case key: safe inside a quoted-string.
            let challenge = format!(
                r#"DPoP error="{}", error_description="{}", algs="EdDSA""#,
                self.challenge, refusal.error.reason
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(h::WWW_AUTHENTICATE, value);
            }
        }
        response.extensions_mut().insert(refusal);
        response
    }
}

impl From<dentpro_core::CoreError> for Failure {
    fn from(e: dentpro_core::CoreError) -> Self {
        let status = match e.code {
            ErrorCode::Invalid => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::Conflict | ErrorCode::SyncRejected => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let reason = e.details.get("reason").cloned().unwrap_or_else(|| "error".into());
        let code = serde_json::to_value(e.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "internal".into());
        Failure::new(status, &code, &reason, e.message)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        dentpro_core::CoreError::from(e).into()
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure::new(StatusCode::BAD_REQUEST, &error.code, &error.reason, error.message)
    }
}

// ---- the guard: one error shape, every refusal recorded, a budget per source ----

/// Per-source (peer IP) refusal budget, in memory and bounded: a fixed window of a minute.
struct RefusalLimiter {
    per_minute: u32,
    sources: HashMap<IpAddr, Budget>,
}

struct Budget {
    window_start: Instant,
    used: u32,
    /// Refusals past the budget in this window, not yet written.
    suppressed: u64,
}

/// What to write for one refusal of a source.
#[derive(Debug, PartialEq, Eq)]
struct Tally {
    /// Record this refusal itself.
    record: bool,
    /// Add this many to the source's `over_refusal_budget` event.
    over_budget: u64,
}

impl RefusalLimiter {
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
    /// Where new peers are counted once [`MAX_TRACKED_SOURCES`] are tracked.
    const OVERFLOW: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            sources: HashMap::new(),
        }
    }

    fn budget(&mut self, ip: IpAddr, now: Instant) -> &mut Budget {
        let mut key = ip;
        if !self.sources.contains_key(&ip) && self.sources.len() >= MAX_TRACKED_SOURCES {
            self.sources
                .retain(|_, b| now.duration_since(b.window_start) < Self::WINDOW);
            if self.sources.len() >= MAX_TRACKED_SOURCES {
                key = Self::OVERFLOW;
            }
        }
        self.sources.entry(key).or_insert(Budget {
            window_start: now,
            used: 0,
            suppressed: 0,
        })
    }

    /// The source used up its budget in the current window.
    fn exhausted(&mut self, ip: IpAddr, now: Instant) -> bool {
        let per_minute = self.per_minute;
        let b = self.budget(ip, now);
        now.duration_since(b.window_start) < Self::WINDOW && b.used >= per_minute
    }

    /// Counts a refusal of `ip`: recorded while within budget; past it, the first one opens
    /// the source's `over_refusal_budget` event and the others are added to it at the
    /// source's first refusal after the window ends.
    fn refusal(&mut self, ip: IpAddr, now: Instant) -> Tally {
        let per_minute = self.per_minute;
        let b = self.budget(ip, now);
        let mut over_budget = 0;
        if now.duration_since(b.window_start) >= Self::WINDOW {
            over_budget = b.suppressed;
            *b = Budget {
                window_start: now,
                used: 0,
                suppressed: 0,
            };
        }
        let record = b.used < per_minute;
        if record {
            b.used += 1;
        } else if b.used == per_minute {
            // The first refusal past the budget opens the event at once.
            b.used += 1;
            over_budget += 1;
        } else {
            b.suppressed += 1;
        }
        Tally { record, over_budget }
    }
}

/// Wraps every request: refuses an over-budget source's enrolment before its body is read,
/// gives every 4xx answer (axum's own rejections too) the [`ApiError`] shape, and records it.
async fn guard(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| source_of(c.0.ip()));
    let now = Instant::now();
    // Only enrolment reads a body before authentication.
    if request.uri().path() == "/v1/enrol" && server.lock().limiter.exhausted(ip, now) {
        let mut response = Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too_many_refusals",
            "too many refused requests from this address; try again in a minute",
        )
        .into_response();
        let headers = response.headers_mut();
        headers.insert(h::RETRY_AFTER, HeaderValue::from_static("60"));
        headers.insert(h::CONNECTION, HeaderValue::from_static("close"));
        server.record(ip, now, None);
        return response;
    }
    let response = next.run(request).await;
    if !response.status().is_client_error() {
        return response;
    }
    let response = shaped(response).await;
    let refusal = response.extensions().get::<Refusal>().cloned();
    server.record(ip, now, refusal.as_ref());
    response
}

/// The source a peer's refusals are counted under: its IPv4 address, or its IPv6 /64 (one
/// host usually holds a whole /64, so single addresses would be free to rotate).
fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

/// An error answer in the [`ApiError`] shape: ours already are; axum's rejections (plain
/// text, or empty for 404/405) are wrapped, keeping their text as the message.
async fn shaped(response: Response) -> Response {
    if response.extensions().get::<Refusal>().is_some() {
        return response;
    }
    let status = response.status();
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let (code, reason) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no_such_route"),
        StatusCode::METHOD_NOT_ALLOWED => ("bad_request", "method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("bad_request", "body_too_large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("bad_request", "unsupported_media_type"),
        StatusCode::UNPROCESSABLE_ENTITY => ("bad_request", "unprocessable"),
        _ => ("bad_request", "malformed"),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_owned()
    } else {
        text
    };
    let mut response = Failure::new(status, code, reason, message).into_response();
    if let Some(allow) = parts.headers.get(h::ALLOW) {
        response.headers_mut().insert(h::ALLOW, allow.clone());
    }
    response
}

async fn no_route() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no_such_route",
        "no such route",
    )
}

impl Server {
    /// Records a refusal (`None`: an over-budget source's request refused unread) as an
    /// aggregated security event, within the source's budget.
    fn record(&self, ip: IpAddr, now: Instant, refusal: Option<&Refusal>) {
        let mut inner = self.lock();
        let result = match refusal {
            Some(r) if r.about.authenticated => {
                let device = r.about.device.as_deref().unwrap_or("-");
                let source = Source::Device(device);
                store::security_event(
                    &inner.db,
                    &source,
                    Some(device),
                    r.about.kind,
                    &r.error.reason,
                    &r.error.message,
                    1,
                )
            }
            _ => {
                let tally = inner.limiter.refusal(ip, now);
                let source = Source::Peer(ip);
                let mut result = Ok(());
                if tally.over_budget > 0 {
                    result = store::security_event(
                        &inner.db,
                        &source,
                        None,
                        "request_refused",
                        "over_refusal_budget",
                        &format!(
                            "more than {} refusals in a minute from this address: the rest are only counted, its enrolments refused unread",
                            self.settings.refusals_per_minute
                        ),
                        tally.over_budget,
                    );
                }
                match refusal {
                    Some(r) if tally.record => result.and(store::security_event(
                        &inner.db,
                        &source,
                        r.about.device.as_deref(),
                        r.about.kind,
                        &r.error.reason,
                        &r.error.message,
                        1,
                    )),
                    _ => result,
                }
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "could not store a security event");
        }
    }
}

type ApiResult<T> = Result<Json<T>, Failure>;

// ---- authentication ----

/// What authenticating a call needs from its request: the DPoP headers, the method and URL.
pub struct Call {
    headers: HeaderMap,
    method: Method,
    uri: Uri,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Call {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Call {
            headers: parts.headers.clone(),
            method: parts.method.clone(),
            uri: parts.uri.clone(),
        })
    }
}

/// The URL a proof must name: the scheme is always https; host as the client addressed us.
fn request_url(headers: &HeaderMap, uri: &Uri) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    format!("https://{host}{}", uri.path())
}

/// The one value of a header that must not be repeated (RFC 9449 section 4.3 step 1 for
/// `DPoP`; one credential in `Authorization`); `Ok(None)` when absent.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Failure> {
    let mut values = headers.get_all(name).iter();
    let (first, second) = (values.next(), values.next());
    let (challenge, reason) = if name == "dpop" {
        (INVALID_DPOP_PROOF, "multiple_proofs")
    } else {
        (INVALID_TOKEN, "multiple_tokens")
    };
    if second.is_some() {
        return Err(Failure::unauthorized(
            challenge,
            reason,
            format!("the request carries more than one {name} header"),
        ));
    }
    Ok(first.and_then(|v| v.to_str().ok()))
}

/// The request's DPoP proof: exactly one `DPoP` header.
fn dpop_proof(headers: &HeaderMap) -> Result<&str, Failure> {
    single(headers, "dpop")?
        .ok_or_else(|| Failure::unauthorized(INVALID_DPOP_PROOF, "no_proof", "a DPoP proof is required"))
}

/// The access token of `Authorization: DPoP <token>`; the scheme is case-insensitive
/// (RFC 9110 section 11.1).
fn access_token(headers: &HeaderMap) -> Result<&str, Failure> {
    single(headers, "authorization")?
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("dpop"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Failure::unauthorized(INVALID_TOKEN, "no_token", "a DPoP access token is required"))
}

/// A refused proof; one refused for its date says the server's time, so the workstation can
/// date the next one by the server's clock.
fn bad_proof(e: auth::AuthError, now: DateTime<Utc>) -> Failure {
    let mut message = e.to_string();
    if matches!(e, auth::AuthError::ProofTooOld | auth::AuthError::NotYetValid) {
        message = format!("{message} (server time {})", now.to_rfc3339());
    }
    Failure::unauthorized(INVALID_DPOP_PROOF, e.reason(), message)
}

/// Checks the access token and its DPoP proof, that the device is enrolled and unrevoked, and
/// only then refuses replays (in that device's replay state); marks the device as seen.
fn authenticate(server: &Server, inner: &mut Inner, call: &Call) -> Result<DeviceRow, Failure> {
    let (headers, method, uri) = (&call.headers, &call.method, &call.uri);
    let now = Utc::now();
    let token = access_token(headers)?;
    let proof = dpop_proof(headers)?;
    let claims = auth::verify_access_token(token, &server.key.verifying_key(), now)
        .map_err(|e| Failure::unauthorized(INVALID_TOKEN, e.reason(), e.to_string()))?;
    let url = request_url(headers, uri);
    let proof = auth::verify_proof(
        proof,
        method.as_str(),
        &url,
        Some(token),
        now,
        server.settings.proof_window,
    )
    .map_err(|e| bad_proof(e, now).naming(Some(&claims.device_id)))?;
    if proof.thumbprint != claims.thumbprint {
        let e = auth::AuthError::TokenBinding;
        return Err(
            Failure::unauthorized(INVALID_TOKEN, e.reason(), e.to_string()).naming(Some(&claims.device_id))
        );
    }
    let device = enrolled_device(inner, &claims.device_id, &proof.public_key)?;
    inner
        .replay
        .check(&device.device_id, &proof.jti, proof.iat, now)
        .map_err(|e| bad_proof(e, now).naming(Some(&device.device_id)))?;
    inner.db.execute(
        "UPDATE devices SET last_seen_at = ?2 WHERE device_id = ?1",
        params![device.device_id, now.to_rfc3339()],
    )?;
    Ok(device)
}

/// The device, if enrolled with this very key and not revoked.
fn enrolled_device(inner: &Inner, device_id: &str, key: &VerifyingKey) -> Result<DeviceRow, Failure> {
    let device = store::device(&inner.db, device_id)?;
    let forbidden = |reason: &str, message: String| {
        Failure::new(StatusCode::FORBIDDEN, "unauthorized", reason, message).naming(Some(device_id))
    };
    match device {
        None => Err(forbidden(
            "not_enrolled",
            "this device is not enrolled in this branch".into(),
        )),
        Some(d) if d.public_key != hex::encode(key.as_bytes()) => Err(forbidden(
            "foreign_key",
            "the proof is signed by another key than the device's".into(),
        )),
        Some(d) if d.revoked_at.is_some() => Err(forbidden(
            "device_revoked",
            format!("device {device_id} was revoked"),
        )),
        Some(d) => Ok(d),
    }
}

// ---- handlers ----

async fn health(State(server): State<Arc<Server>>) -> Json<Health> {
    let inner = server.lock();
    Json(Health {
        status: "ok".into(),
        version: VERSION.into(),
        log_size: inner.log.len(),
    })
}

async fn enrol(State(server): State<Arc<Server>>, Json(req): Json<EnrolRequest>) -> ApiResult<EnrolResponse> {
    let mut inner = server.lock();
    let refuse = |reason: &str, message: &str| {
        Failure::new(StatusCode::FORBIDDEN, "enrolment_refused", reason, message)
            .kind("enrolment_refused")
            .naming(Some(&req.device_id))
    };
    if req.label.chars().count() > dentpro_core::text::LABEL_MAX {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "too_long",
            format!("the label is over {} characters", dentpro_core::text::LABEL_MAX),
        ));
    }
    let key = parse_key(&req.public_key).map_err(|e| {
        Failure::from(e)
            .kind("enrolment_refused")
            .naming(Some(&req.device_id))
    })?;
    if device_id_for(&key) != req.device_id {
        return Err(refuse(
            "device_id_mismatch",
            "the device id does not derive from its key",
        ));
    }
    if !verify_hex(&key, &enrol_message(&req.code, &req.device_id), &req.signature) {
        return Err(refuse(
            "bad_signature",
            "the enrolment is not signed by the device key",
        ));
    }
    let now = Utc::now();
    let tx = inner
        .db
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let code: Option<(String, String, String, Option<String>)> = tx
        .query_row(
            "SELECT kind, label, expires_at, used_by FROM enrolment_codes WHERE code_hash = ?1",
            [store::code_hash(&req.code)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .ok();
    let (kind, label) = match code {
        None => {
            return Err(refused_tx(
                tx,
                &req.device_id,
                "unknown_code",
                "no such enrolment code",
            ));
        }
        Some((_, _, _, Some(_))) => {
            return Err(refused_tx(
                tx,
                &req.device_id,
                "code_used",
                "this enrolment code was already used by another device: the ticket may have been copied or stolen",
            ));
        }
        Some((_, _, expires, None)) if expires < now.to_rfc3339() => {
            return Err(refused_tx(
                tx,
                &req.device_id,
                "code_expired",
                "this enrolment code has expired",
            ));
        }
        Some((kind, label, _, None)) => (kind, label),
    };
    if store::device(&tx, &req.device_id)?.is_some() {
        return Err(refused_tx(
            tx,
            &req.device_id,
            "already_enrolled",
            "this device is already enrolled",
        ));
    }
    let station = req.device_id[..4].to_uppercase();
    // Revoked devices count too: the files they registered keep their numbers, so a new
    // device dealing out the same prefix would collide with them (its registrations refused).
    let taken: i64 = tx.query_row(
        "SELECT count(*) FROM devices WHERE station = ?1",
        [&station],
        |r| r.get(0),
    )?;
    if taken > 0 {
        return Err(refused_tx(
            tx,
            &req.device_id,
            "station_taken",
            &format!(
                "another device of this branch already numbers files as {station}-…; reset this workstation's data dir to get a new key"
            ),
        ));
    }
    if let (Some(theirs), Some(ours)) = (&req.branch_id, dentpro_core::accounts::branch(&tx)?)
        && theirs.as_str() != ours.id.as_str()
    {
        return Err(refused_tx(
            tx,
            &req.device_id,
            "other_branch",
            "this workstation holds another branch's data; enrol a fresh workstation",
        ));
    }
    // Shown on the admin's terminal and screens: capped, control characters escaped.
    let label = if req.label.trim().is_empty() {
        label
    } else {
        store::printable(req.label.trim(), dentpro_core::text::LABEL_MAX)
    };
    tx.execute(
        "UPDATE enrolment_codes SET used_by = ?2, used_at = ?3 WHERE code_hash = ?1",
        params![store::code_hash(&req.code), req.device_id, now.to_rfc3339()],
    )?;
    tx.execute(
        "INSERT INTO devices (device_id, public_key, kind, label, station, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![req.device_id, req.public_key, kind, label, station, now.to_rfc3339()],
    )?;
    tx.commit()?;
    tracing::info!(device = %req.device_id, %kind, %label, "device enrolled");
    Ok(Json(EnrolResponse {
        branch_name: server.branch_name.clone(),
        device_kind: kind.parse()?,
        label,
        server_key: hex::encode(server.key.verifying_key().as_bytes()),
        checkpoint: server.checkpoint(&inner.log),
        server_time: now,
    }))
}

/// Refuses inside an enrolment transaction: it is rolled back, and [`guard`] records the
/// refusal.
fn refused_tx(tx: rusqlite::Transaction<'_>, device: &str, reason: &str, message: &str) -> Failure {
    drop(tx);
    tracing::warn!(device = %store::printable(device, 80), reason, message, "enrolment refused");
    Failure::new(StatusCode::FORBIDDEN, "enrolment_refused", reason, message)
        .kind("enrolment_refused")
        .naming(Some(device))
}

async fn token(State(server): State<Arc<Server>>, call: Call) -> ApiResult<TokenResponse> {
    let mut inner = server.lock();
    let now = Utc::now();
    let proof = dpop_proof(&call.headers)?;
    let url = request_url(&call.headers, &call.uri);
    let proof = auth::verify_proof(
        proof,
        call.method.as_str(),
        &url,
        None,
        now,
        server.settings.proof_window,
    )
    .map_err(|e| bad_proof(e, now))?;
    // The key must be an enrolled device's before anything is remembered of the proof:
    // proofs from unknown keys store nothing.
    let device_id = device_id_for(&proof.public_key);
    enrolled_device(&inner, &device_id, &proof.public_key)?;
    inner
        .replay
        .check(&device_id, &proof.jti, proof.iat, now)
        .map_err(|e| bad_proof(e, now).naming(Some(&device_id)))?;
    let access_token = auth::issue_access_token(
        &server.key,
        &device_id,
        &proof.thumbprint,
        now,
        server.settings.token_ttl,
    );
    Ok(Json(TokenResponse {
        access_token,
        token_type: "DPoP".into(),
        expires_in: server.settings.token_ttl.num_seconds(),
        server_time: now,
    }))
}

async fn state(State(server): State<Arc<Server>>, call: Call) -> ApiResult<DeviceState> {
    let mut inner = server.lock();
    let device = authenticate(&server, &mut inner, &call)?;
    Ok(Json(DeviceState {
        logged_seq: core_sync::logged_seq(&inner.db, &device.device_id)?,
        log_size: inner.log.len(),
        server_time: Utc::now(),
        max_clock_skew_seconds: server.settings.max_clock_skew.num_seconds(),
        max_push_bytes: MAX_PUSH_BYTES as u64,
    }))
}

async fn push(
    State(server): State<Arc<Server>>,
    call: Call,
    body: axum::body::Body,
) -> ApiResult<PushReceipt> {
    // Authenticate first; only then is the body read (bounded) and parsed.
    let device = authenticate(&server, &mut server.lock(), &call)?;
    let req = read_push(&call, body)
        .await
        .map_err(|f| f.of(&device.device_id))?;
    let mut guard = server.lock();
    let inner = &mut *guard;
    let key = parse_key(&device.public_key)?;
    let now = Utc::now();
    let skew = (req.device_time - now).num_seconds();
    let flagged_skew = (skew.abs() > server.settings.max_clock_skew.num_seconds()).then_some(skew);
    if let Some(s) = flagged_skew {
        tracing::warn!(device = %device.device_id, skew_seconds = s, "device clock is off; its records are flagged");
    }
    let sender = Sender {
        device_id: &device.device_id,
        public_key: &key,
        clock_skew_seconds: flagged_skew,
    };
    let records = req
        .records
        .iter()
        .map(dentpro_sync::protocol::record_from_wire)
        .collect::<Result<Vec<_>, _>>()?;
    let tx = inner
        .db
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (admitted, error) = core_sync::admit_all(&tx, &sender, &records);
    let mut entries = Vec::with_capacity(admitted.len());
    let mut new_leaves = Vec::new();
    for (record, admission) in records.iter().zip(&admitted) {
        if let Admission::Logged(p) = admission {
            new_leaves.push(core_sync::entry_leaf(&record.hash, p));
            // An admin revoked a device from a workstation: from now on it is refused here.
            if p.verdict == core_sync::Verdict::Accepted
                && let Some(revoked) = dentpro_core::devices::revocation_in(record)
            {
                store::revoke_by_record(&tx, record, &revoked)?;
            }
            if let Some(reason) = &p.reason {
                tracing::warn!(device = %device.device_id, seq = record.body.seq, %reason, "record refused");
                store::security_event(
                    &tx,
                    &Source::Device(&device.device_id),
                    Some(&device.device_id),
                    "record_refused",
                    reason,
                    &format!("seq {} ({})", record.body.seq, record.body.kind),
                    1,
                )?;
            }
        }
        entries.push(ReceiptEntry {
            seq: record.body.seq,
            position: admission.position().clone(),
        });
    }
    let failure = error.map(|e| (&records[admitted.len()], e));
    tx.commit()?;
    inner.log.extend(new_leaves);
    if let Some((record, e)) = failure {
        let reason = e.details.get("reason").cloned().unwrap_or_default();
        if reason == "fork" {
            quarantine(&inner.db, &device.device_id, record, &e)?;
        }
        tracing::warn!(device = %device.device_id, seq = record.body.seq, %reason, message = %e.message, "push refused");
        // Recorded by the guard, as the device's.
        return Err(Failure::from(e).kind("push_refused").of(&device.device_id));
    }
    let checkpoint = server.checkpoint(&inner.log);
    let signature = sign_hex(
        &server.key,
        &receipt_message(&device.device_id, &entries, &checkpoint),
    );
    Ok(Json(PushReceipt {
        logged_seq: core_sync::logged_seq(&inner.db, &device.device_id)?,
        device_id: device.device_id,
        entries,
        clock_skew_seconds: flagged_skew,
        checkpoint,
        signature,
    }))
}

/// The push body of an authenticated call: JSON, at most [`MAX_PUSH_BODY_BYTES`].
async fn read_push(call: &Call, body: axum::body::Body) -> Result<PushRequest, Failure> {
    let json = call
        .headers
        .get(h::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_request",
            "unsupported_media_type",
            "a push body is application/json",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_PUSH_BODY_BYTES)
        .await
        .map_err(|_| {
            Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "bad_request",
                "body_too_large",
                format!("a push body is at most {MAX_PUSH_BODY_BYTES} bytes (or it was cut off)"),
            )
        })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let status = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        Failure::new(status, "bad_request", "malformed", format!("push body: {e}"))
    })
}

fn quarantine(
    db: &Connection,
    device_id: &str,
    record: &dentpro_core::record::Record,
    e: &dentpro_core::CoreError,
) -> dentpro_core::Result<()> {
    let logged = e.details.get("logged_hash").cloned().unwrap_or_default();
    tracing::error!(device = device_id, seq = record.body.seq, logged_hash = %logged, offered_hash = %hex::encode(record.hash), "FORK: a device offered a different record at a logged seq; quarantined");
    db.execute(
        "INSERT INTO quarantine (device_id, seq, logged_hash, record, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            device_id,
            i64::try_from(record.body.seq).map_err(|_| dentpro_core::CoreError::internal("seq out of range"))?,
            logged,
            serde_json::to_string(&WireRecord::from(record))?,
            Utc::now().to_rfc3339()
        ],
    )?;
    Ok(())
}

/// A query string, or a JSON 400 naming what is wrong with it (a missing, negative,
/// non-numeric or over-large number).
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Failure> {
    q.map(|Query(q)| q).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "bad_parameter",
            e.body_text(),
        )
    })
}

/// A JSON 400 for a number outside what the log allows.
fn out_of_range(name: &str, value: u64, allowed: String) -> Failure {
    Failure::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "parameter_out_of_range",
        format!("{name}={value} is out of range: {allowed}"),
    )
}

#[derive(Deserialize)]
struct PullQuery {
    from: u64,
    limit: Option<u32>,
    known_size: Option<u64>,
}

async fn pull(
    State(server): State<Arc<Server>>,
    call: Call,
    q: Result<Query<PullQuery>, QueryRejection>,
) -> ApiResult<PullResponse> {
    let mut inner = server.lock();
    let device = authenticate(&server, &mut inner, &call)?;
    let q = query(q)?;
    let size = inner.log.len();
    // A log shorter than the device saw is truncation, which the client names: checked first.
    let known = q.known_size.unwrap_or(0);
    let consistency = inner.log.consistency_proof(known, size).ok_or_else(|| {
        Failure::new(
            StatusCode::CONFLICT,
            "sync_rejected",
            "log_shorter_than_known",
            format!("the log holds {size} entries, fewer than the {known} this device has seen"),
        )
    })?;
    if q.from > size {
        return Err(out_of_range(
            "from",
            q.from,
            format!("the log holds {size} entries"),
        ));
    }
    let limit = q.limit.unwrap_or(BATCH);
    if !(1..=MAX_PULL_LIMIT).contains(&limit) {
        return Err(out_of_range(
            "limit",
            limit.into(),
            format!("1 to {MAX_PULL_LIMIT}"),
        ));
    }
    let entries = page(&inner.db, q.from, limit)?;
    // `from + entries` is at most the log's size, checked above.
    let pulled_to = q
        .from
        .checked_add(entries.len() as u64)
        .and_then(|t| i64::try_from(t).ok());
    inner.db.execute(
        "UPDATE devices SET pulled_to = max(pulled_to, ?2) WHERE device_id = ?1",
        params![
            device.device_id,
            pulled_to.ok_or_else(|| out_of_range("from", q.from, "the log's size".into()))?
        ],
    )?;
    Ok(Json(PullResponse {
        entries,
        checkpoint: server.checkpoint(&inner.log),
        consistency: hashes_to_hex(&consistency),
    }))
}

/// Log entries from `from` on: at most `limit` of them and [`MAX_PULL_BYTES`] of JSON, and at
/// least one when there is one. Read in small chunks, so a page of large records never holds
/// more than the page in memory.
fn page(db: &Connection, from: u64, limit: u32) -> Result<Vec<WireEntry>, Failure> {
    const CHUNK: u32 = 64;
    let mut out: Vec<WireEntry> = Vec::new();
    let mut bytes = 0usize;
    while (out.len() as u64) < u64::from(limit) {
        let next = from + out.len() as u64;
        let want = CHUNK.min(limit - out.len() as u32);
        let chunk = core_sync::log_entries(db, next, want)?;
        let got = chunk.len();
        for entry in &chunk {
            let entry = WireEntry::from(entry);
            let len = json_len(&entry) + 1;
            if !out.is_empty() && bytes + len > MAX_PULL_BYTES {
                return Ok(out);
            }
            bytes += len;
            out.push(entry);
        }
        if got < want as usize {
            break;
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    /// The tree size to prove against (the log's size when absent).
    size: Option<u64>,
}

async fn inclusion(
    State(server): State<Arc<Server>>,
    call: Call,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> ApiResult<InclusionProof> {
    let mut inner = server.lock();
    authenticate(&server, &mut inner, &call)?;
    let q = query(q)?;
    let log_size = inner.log.len();
    let size = q.size.unwrap_or(log_size);
    if size > log_size {
        return Err(out_of_range(
            "size",
            size,
            format!("the log holds {log_size} entries"),
        ));
    }
    if q.index >= size {
        return Err(out_of_range(
            "index",
            q.index,
            format!("below the tree size {size}"),
        ));
    }
    let no_entry = || {
        Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no_such_entry",
            "no such log entry",
        )
    };
    let proof = inner.log.inclusion_proof(q.index, size).ok_or_else(no_entry)?;
    let root = inner.log.root_at(size).ok_or_else(no_entry)?;
    let entry: Vec<LoggedRecord> = core_sync::log_entries(&inner.db, q.index, 1)?;
    let leaf = entry
        .first()
        .map(|e| core_sync::entry_leaf(&e.record.hash, &e.position))
        .ok_or_else(no_entry)?;
    Ok(Json(InclusionProof {
        index: q.index,
        leaf: hex::encode(leaf),
        proof: hashes_to_hex(&proof),
        checkpoint: SignedCheckpoint::sign(&server.key, size, root, Utc::now()),
    }))
}

async fn devices(State(server): State<Arc<Server>>, call: Call) -> ApiResult<Vec<DeviceInfo>> {
    let mut inner = server.lock();
    authenticate(&server, &mut inner, &call)?;
    Ok(Json(store::devices(&inner.db)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Measured (`SYNC_BENCH_RECORDS=500000 SYNC_BENCH_LONG_NOTES=1 cargo bench -p
    /// dentpro-server --bench sync`, 2026-12-02): a 500k-record catch-up whose 100k patients
    /// carry 3,000 characters of history each (pages bounded by bytes) presented 664 proofs in
    /// 162 s and completed against a server holding only a quarter of the default bound.
    ///
    /// A 500k-record catch-up makes one token request, one state call and a pull per page
    /// (the client asks for 2 × BATCH; pages are never counted smaller than BATCH here), plus
    /// the last, empty pull. Even if all of it fell within one proof window, one device's
    /// replay bound holds it four times over.
    #[test]
    fn catch_up_fits_in_the_replay_bound() {
        let records: u64 = 500_000;
        let requests = 2 + records.div_ceil(u64::from(BATCH)) + 1;
        let bound = Settings::default().replay_cache_entries as u64;
        assert!(requests * 4 <= bound, "{requests} requests, bound {bound}");
    }

    #[test]
    fn a_source_past_its_budget_is_counted_not_recorded() {
        let mut limiter = RefusalLimiter::new(3);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t0 = Instant::now();
        let tallies: Vec<Tally> = (0..6).map(|_| limiter.refusal(ip, t0)).collect();
        let record = |over_budget| Tally {
            record: true,
            over_budget,
        };
        let counted = |over_budget| Tally {
            record: false,
            over_budget,
        };
        assert_eq!(
            tallies,
            [
                record(0),
                record(0),
                record(0),
                counted(1),
                counted(0),
                counted(0)
            ]
        );
        assert!(limiter.exhausted(ip, t0));
        // Another source has its own budget.
        assert!(!limiter.exhausted("192.0.2.8".parse().unwrap(), t0));
        // A minute later: the two only counted are added, and the budget is back.
        let later = t0 + RefusalLimiter::WINDOW;
        assert_eq!(limiter.refusal(ip, later), record(2));
        assert!(!limiter.exhausted(ip, later));
    }

    #[test]
    fn an_ipv6_peer_is_counted_by_its_64() {
        let a = source_of("2001:db8:1:2:aaaa::1".parse().unwrap());
        assert_eq!(a, source_of("2001:db8:1:2:bbbb::9".parse().unwrap()));
        assert_ne!(a, source_of("2001:db8:1:3::1".parse().unwrap()));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(source_of(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn tracked_sources_are_bounded() {
        let mut limiter = RefusalLimiter::new(1);
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED_SOURCES as u32 + 100) {
            limiter.refusal(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), t0);
        }
        assert!(limiter.sources.len() <= MAX_TRACKED_SOURCES + 1);
        // New peers then share one budget.
        assert!(limiter.exhausted("198.51.100.1".parse().unwrap(), t0));
    }
}
