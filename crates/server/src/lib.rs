//! DentPro's branch server: the place where a branch's workstations exchange their signed
//! records. It re-checks every record with the core's own rules ([`dentpro_core::sync::admit`]),
//! keeps an RFC 6962 Merkle log of them and signs checkpoints, so a workstation can tell if the
//! log was ever rewritten.
//!
//! - [`store`]: the data dir (database, key, TLS identity), devices and enrolment codes.
//! - this file: the HTTP API (axum) over one SQLite connection and the in-memory Merkle tree.

pub mod store;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use dentpro_core::ErrorCode;
use dentpro_core::record::device_id_for;
use dentpro_core::sync::{self as core_sync, Admission, LoggedRecord, Sender};
use dentpro_sync::auth::{self, JtiCache};
use dentpro_sync::merkle::MerkleLog;
use dentpro_sync::protocol::*;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use store::{DataDir, DeviceRow};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

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
    /// Bound on the replay state (DPoP `jti`s remembered).
    pub replay_cache_entries: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_clock_skew: Duration::minutes(2),
            proof_window: Duration::minutes(5),
            token_ttl: Duration::minutes(10),
            replay_cache_entries: JtiCache::DEFAULT_MAX_ENTRIES,
        }
    }
}

struct Inner {
    db: Connection,
    log: MerkleLog,
    jti: JtiCache,
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
                jti: JtiCache::with_max_entries(settings.proof_window, settings.replay_cache_entries),
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
}

impl Failure {
    fn new(status: StatusCode, code: &str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            error: ApiError {
                code: code.into(),
                reason: reason.into(),
                message: message.into(),
            },
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.error)).into_response()
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
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
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

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refused(
    inner: &Inner,
    device: Option<&str>,
    status: StatusCode,
    reason: &str,
    message: String,
) -> Failure {
    tracing::warn!(device = device.unwrap_or("-"), reason, %message, "request refused");
    if let Err(e) = store::security_event(&inner.db, device, "request_refused", reason, &message) {
        tracing::error!(error = %e, "could not store a security event");
    }
    Failure::new(status, "unauthorized", reason, message)
}

/// Checks the access token and its DPoP proof, refuses replays and revoked devices, and marks
/// the device as seen.
fn authenticate(server: &Server, inner: &mut Inner, call: &Call) -> Result<DeviceRow, Failure> {
    let (headers, method, uri) = (&call.headers, &call.method, &call.uri);
    let now = Utc::now();
    let token = header(headers, "authorization")
        .and_then(|h| h.strip_prefix("DPoP "))
        .ok_or_else(|| {
            refused(
                inner,
                None,
                StatusCode::UNAUTHORIZED,
                "no_token",
                "a DPoP access token is required".into(),
            )
        })?;
    let proof = header(headers, "dpop").ok_or_else(|| {
        refused(
            inner,
            None,
            StatusCode::UNAUTHORIZED,
            "no_proof",
            "a DPoP proof is required".into(),
        )
    })?;
    let url = request_url(headers, uri);
    let (claims, proof) = auth::authenticate(
        token,
        proof,
        method.as_str(),
        &url,
        &server.key.verifying_key(),
        now,
        server.settings.proof_window,
    )
    .map_err(|e| refused(inner, None, StatusCode::UNAUTHORIZED, e.reason(), e.to_string()))?;
    if let Err(e) = inner.jti.check(&proof.jti, proof.iat, now) {
        return Err(refused(
            inner,
            Some(&claims.device_id),
            StatusCode::UNAUTHORIZED,
            e.reason(),
            e.to_string(),
        ));
    }
    let device = enrolled_device(inner, &claims.device_id, &proof.public_key)?;
    inner.db.execute(
        "UPDATE devices SET last_seen_at = ?2 WHERE device_id = ?1",
        params![device.device_id, now.to_rfc3339()],
    )?;
    Ok(device)
}

/// The device, if enrolled with this very key and not revoked.
fn enrolled_device(inner: &Inner, device_id: &str, key: &VerifyingKey) -> Result<DeviceRow, Failure> {
    let device = store::device(&inner.db, device_id)?;
    match device {
        None => Err(refused(
            inner,
            Some(device_id),
            StatusCode::FORBIDDEN,
            "not_enrolled",
            format!("device {device_id} is not enrolled in this branch"),
        )),
        Some(d) if d.public_key != hex::encode(key.as_bytes()) => Err(refused(
            inner,
            Some(device_id),
            StatusCode::FORBIDDEN,
            "foreign_key",
            "the proof is signed by another key than the device's".into(),
        )),
        Some(d) if d.revoked_at.is_some() => Err(refused(
            inner,
            Some(device_id),
            StatusCode::FORBIDDEN,
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
    let key = parse_key(&req.public_key)?;
    let refuse = |inner: &Inner, reason: &str, message: String| {
        refused(
            inner,
            Some(&req.device_id),
            StatusCode::FORBIDDEN,
            reason,
            message,
        )
    };
    if device_id_for(&key) != req.device_id {
        return Err(refuse(
            &inner,
            "device_id_mismatch",
            "the device id does not derive from its key".into(),
        ));
    }
    if !verify_hex(&key, &enrol_message(&req.code, &req.device_id), &req.signature) {
        return Err(refuse(
            &inner,
            "bad_signature",
            "the enrolment is not signed by the device key".into(),
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
                "this enrolment code was already used",
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
    let taken: i64 = tx.query_row(
        "SELECT count(*) FROM devices WHERE station = ?1 AND revoked_at IS NULL",
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
        && *theirs != ours.id
    {
        return Err(refused_tx(
            tx,
            &req.device_id,
            "other_branch",
            "this workstation holds another branch's data; enrol a fresh workstation",
        ));
    }
    let label = if req.label.trim().is_empty() {
        label
    } else {
        req.label.trim().to_owned()
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

/// Refuses inside an enrolment transaction: the refusal is stored after rolling it back.
fn refused_tx(tx: rusqlite::Transaction<'_>, device: &str, reason: &str, message: &str) -> Failure {
    drop(tx);
    tracing::warn!(device, reason, message, "enrolment refused");
    Failure::new(StatusCode::FORBIDDEN, "enrolment_refused", reason, message)
}

async fn token(State(server): State<Arc<Server>>, call: Call) -> ApiResult<TokenResponse> {
    let mut inner = server.lock();
    let now = Utc::now();
    let proof = header(&call.headers, "dpop").ok_or_else(|| {
        refused(
            &inner,
            None,
            StatusCode::UNAUTHORIZED,
            "no_proof",
            "a DPoP proof is required".into(),
        )
    })?;
    let url = request_url(&call.headers, &call.uri);
    let proof = auth::verify_proof(
        proof,
        call.method.as_str(),
        &url,
        None,
        now,
        server.settings.proof_window,
    )
    .map_err(|e| clock_aware(&inner, e, now))?;
    if let Err(e) = inner.jti.check(&proof.jti, proof.iat, now) {
        return Err(refused(
            &inner,
            None,
            StatusCode::UNAUTHORIZED,
            e.reason(),
            e.to_string(),
        ));
    }
    let device_id = device_id_for(&proof.public_key);
    enrolled_device(&inner, &device_id, &proof.public_key)?;
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

/// A proof refused for its date says the server's time, so the workstation can date the next
/// one by the server's clock.
fn clock_aware(inner: &Inner, e: auth::AuthError, now: DateTime<Utc>) -> Failure {
    let mut f = refused(inner, None, StatusCode::UNAUTHORIZED, e.reason(), e.to_string());
    if matches!(e, auth::AuthError::ProofTooOld | auth::AuthError::NotYetValid) {
        f.error.message = format!("{} (server time {})", f.error.message, now.to_rfc3339());
    }
    f
}

async fn state(State(server): State<Arc<Server>>, call: Call) -> ApiResult<DeviceState> {
    let mut inner = server.lock();
    let device = authenticate(&server, &mut inner, &call)?;
    Ok(Json(DeviceState {
        logged_seq: core_sync::logged_seq(&inner.db, &device.device_id)?,
        log_size: inner.log.len(),
        server_time: Utc::now(),
        max_clock_skew_seconds: server.settings.max_clock_skew.num_seconds(),
    }))
}

async fn push(
    State(server): State<Arc<Server>>,
    call: Call,
    Json(req): Json<PushRequest>,
) -> ApiResult<PushReceipt> {
    let mut guard = server.lock();
    let inner = &mut *guard;
    let device = authenticate(&server, inner, &call)?;
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
                && let Some(revoked) = core_sync::revocation_in(record)
            {
                store::revoke_by_record(&tx, record, &revoked)?;
            }
            if let Some(reason) = &p.reason {
                tracing::warn!(device = %device.device_id, seq = record.body.seq, %reason, "record refused");
                store::security_event(
                    &tx,
                    Some(&device.device_id),
                    "record_refused",
                    reason,
                    &format!("seq {} ({})", record.body.seq, record.body.kind),
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
        store::security_event(
            &inner.db,
            Some(&device.device_id),
            "push_refused",
            &reason,
            &e.message,
        )?;
        tracing::warn!(device = %device.device_id, seq = record.body.seq, %reason, message = %e.message, "push refused");
        return Err(e.into());
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
            record.body.seq as i64,
            logged,
            serde_json::to_string(&WireRecord::from(record))?,
            Utc::now().to_rfc3339()
        ],
    )?;
    Ok(())
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
    Query(q): Query<PullQuery>,
) -> ApiResult<PullResponse> {
    let mut inner = server.lock();
    let device = authenticate(&server, &mut inner, &call)?;
    let limit = q.limit.unwrap_or(BATCH).clamp(1, 5 * BATCH);
    let entries = core_sync::log_entries(&inner.db, q.from, limit)?;
    let size = inner.log.len();
    let known = q.known_size.unwrap_or(0);
    let consistency = inner.log.consistency_proof(known, size).ok_or_else(|| {
        Failure::new(
            StatusCode::CONFLICT,
            "sync_rejected",
            "log_shorter_than_known",
            format!("the log holds {size} entries, fewer than the {known} this device has seen"),
        )
    })?;
    let pulled_to = q.from + entries.len() as u64;
    inner.db.execute(
        "UPDATE devices SET pulled_to = max(pulled_to, ?2) WHERE device_id = ?1",
        params![device.device_id, pulled_to as i64],
    )?;
    Ok(Json(PullResponse {
        entries: entries.iter().map(WireEntry::from).collect::<Vec<_>>(),
        checkpoint: server.checkpoint(&inner.log),
        consistency: hashes_to_hex(&consistency),
    }))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
}

async fn inclusion(
    State(server): State<Arc<Server>>,
    call: Call,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<InclusionProof> {
    let mut inner = server.lock();
    authenticate(&server, &mut inner, &call)?;
    let no_entry = || {
        Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no_such_entry",
            "no such log entry",
        )
    };
    let size = inner.log.len();
    let proof = inner.log.inclusion_proof(q.index, size).ok_or_else(no_entry)?;
    let entry: Vec<LoggedRecord> = core_sync::log_entries(&inner.db, q.index, 1)?;
    let leaf = entry
        .first()
        .map(|e| core_sync::entry_leaf(&e.record.hash, &e.position))
        .ok_or_else(no_entry)?;
    Ok(Json(InclusionProof {
        index: q.index,
        leaf: hex::encode(leaf),
        proof: hashes_to_hex(&proof),
        checkpoint: server.checkpoint(&inner.log),
    }))
}

async fn devices(State(server): State<Arc<Server>>, call: Call) -> ApiResult<Vec<DeviceInfo>> {
    let mut inner = server.lock();
    authenticate(&server, &mut inner, &call)?;
    Ok(Json(store::devices(&inner.db)?))
}
