//! The workstation's side of sync: enrolment, then [`SyncClient::sync_once`] — push this
//! device's records, pull everyone else's, and check the server's log against the checkpoint
//! pinned last time. Blocking HTTP over the pinned TLS client; the workstation is only locked
//! while its database is read or written, never across a network call.

use crate::auth;
use crate::merkle::{self, MerkleLog};
use crate::protocol::*;
use chrono::{DateTime, Duration, Utc};
use dentpro_core::devices::{Enrolment, LiveDevice};
use dentpro_core::sync::{LoggedRecord, entry_leaf};
use dentpro_core::workstation::{APP_VERSION, Workstation};
use dentpro_core::{CoreError, ErrorCode, Result};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

const TICKET_PREFIX: &str = "dentpro-enrol:";
/// Meta key (`sync.checkpoint`) of the last checkpoint this workstation verified and pinned.
const PIN_KEY: &str = "checkpoint";
/// Log entries per pulled page: large pages keep a catch-up to few round trips.
const PULL_PAGE: u32 = 2 * BATCH;

/// How the sync code reaches the workstation: it locks it only around database work.
pub trait Access {
    fn with<T>(&self, f: impl FnOnce(&mut Workstation) -> Result<T>) -> Result<T>;
}

impl Access for Mutex<Workstation> {
    fn with<T>(&self, f: impl FnOnce(&mut Workstation) -> Result<T>) -> Result<T> {
        f(&mut self.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// What an admin hands a workstation to enrol it: the one-time code, where the server is, and
/// the fingerprint of its certificate (so the very first connection is already pinned).
/// Written `dentpro-enrol:<code>@<host:port>#<sha-256 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentTicket {
    pub address: String,
    pub code: String,
    pub certificate_fingerprint: String,
}

impl fmt::Display for EnrolmentTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TICKET_PREFIX}{}@{}#{}",
            self.code, self.address, self.certificate_fingerprint
        )
    }
}

impl FromStr for EnrolmentTicket {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || CoreError::invalid("ticket", "ticket_format");
        let s = dentpro_core::text::bounded("ticket", s, dentpro_core::text::TICKET_MAX)?;
        let rest = s.strip_prefix(TICKET_PREFIX).ok_or_else(bad)?;
        let (code, rest) = rest.split_once('@').ok_or_else(bad)?;
        let (address, fingerprint) = rest.split_once('#').ok_or_else(bad)?;
        let fingerprint = crate::tls::normalize_fingerprint(fingerprint).map_err(|_| bad())?;
        if code.is_empty() || address.is_empty() {
            return Err(bad());
        }
        Ok(EnrolmentTicket {
            address: address.to_owned(),
            code: code.to_owned(),
            certificate_fingerprint: fingerprint,
        })
    }
}

fn unavailable(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::SyncUnavailable, message)
}

fn rejected(reason: &str, message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::SyncRejected, message).with("reason", reason)
}

fn http_client(fingerprint: &str) -> Result<reqwest::blocking::Client> {
    crate::tls::pinned_http_client(fingerprint).map_err(|e| unavailable(format!("TLS setup: {e}")))
}

/// Turns a reqwest failure or an error answer into a core error the UI can translate.
fn answer<T: DeserializeOwned>(
    response: reqwest::Result<reqwest::blocking::Response>,
) -> Result<(T, Option<DateTime<Utc>>)> {
    let response = response.map_err(|e| {
        let pin = std::error::Error::source(&e).and_then(crate::tls::pin_mismatch);
        match pin {
            Some(p) => rejected(
                "certificate_mismatch",
                format!("the server's certificate is not the pinned one: {p}"),
            ),
            None => unavailable(format!("the branch server cannot be reached: {e}")),
        }
    })?;
    let server_date = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc));
    let status = response.status();
    // An answer is bounded like anything else from outside: a page is at most a few MiB.
    let mut body = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(response, MAX_ANSWER_BYTES + 1),
        &mut body,
    )
    .map_err(|e| unavailable(format!("reading the answer: {e}")))?;
    if body.len() as u64 > MAX_ANSWER_BYTES {
        return Err(rejected(
            "answer_too_large",
            format!("the branch server's answer is over {MAX_ANSWER_BYTES} bytes"),
        ));
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if status.is_success() {
        let value = serde_json::from_str(&text)
            .map_err(|e| rejected("malformed_answer", format!("unreadable answer: {e}")))?;
        return Ok((value, server_date));
    }
    let err: ApiError = serde_json::from_str(&text).unwrap_or(ApiError {
        code: "http".into(),
        reason: format!("http_{}", status.as_u16()),
        message: text,
    });
    let code = if status.is_server_error() {
        ErrorCode::SyncUnavailable
    } else {
        ErrorCode::SyncRejected
    };
    Err(CoreError::new(code, err.message)
        .with("reason", err.reason)
        .with("status", status.as_u16().to_string()))
}

/// Enrols the workstation with the branch server named in `ticket`.
pub fn enrol(ws: &impl Access, ticket: &EnrolmentTicket, label: &str) -> Result<Enrolment> {
    let label = dentpro_core::text::bounded("label", label, dentpro_core::text::LABEL_MAX)?;
    let (device_id, key, branch_id) = ws.with(|ws| {
        if ws.devices().enrolment()?.is_some() {
            return Err(CoreError::new(
                ErrorCode::AlreadySetUp,
                "this workstation is already enrolled",
            ));
        }
        let branch = dentpro_core::accounts::branch(ws.ledger().conn())?;
        Ok((
            ws.device_id().to_string(),
            ws.ledger().identity().signing_key().clone(),
            branch.map(|b| b.id.into_string()),
        ))
    })?;
    let request = EnrolRequest {
        signature: sign_hex(&key, &enrol_message(&ticket.code, &device_id)),
        code: ticket.code.clone(),
        public_key: hex::encode(key.verifying_key().as_bytes()),
        device_id,
        label,
        app_version: APP_VERSION.into(),
        branch_id,
    };
    let http = http_client(&ticket.certificate_fingerprint)?;
    let url = format!("https://{}/v1/enrol", ticket.address);
    let (answer, _): (EnrolResponse, _) = answer(http.post(url).json(&request).send())?;
    let server_key = parse_key(&answer.server_key).map_err(|e| rejected("malformed_answer", e.message))?;
    if !answer.checkpoint.verify(&server_key) {
        return Err(rejected(
            "bad_checkpoint",
            "the server's checkpoint is not signed by its key",
        ));
    }
    let enrolment = Enrolment {
        server_url: format!("https://{}", ticket.address),
        certificate_fingerprint: ticket.certificate_fingerprint.clone(),
        server_key: answer.server_key,
        branch_name: answer.branch_name,
        device_kind: answer.device_kind,
        label: answer.label,
        enrolled_at: answer.server_time.to_rfc3339(),
    };
    ws.with(|ws| {
        ws.devices().save_enrolment(&enrolment)?;
        ws.sync()
            .set_meta(PIN_KEY, &serde_json::to_string(&answer.checkpoint)?)
    })?;
    Ok(enrolment)
}

/// Progress of a catch-up: log entries applied so far out of the log's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub applied_to: u64,
    pub log_size: u64,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
    pub refused: u64,
    pub pulled: u64,
    pub reprojected: bool,
    pub log_size: u64,
    pub pending: i64,
    /// Local clock minus the server's, when beyond the branch's bound.
    pub clock_skew_seconds: Option<i64>,
    /// DPoP proofs this sync presented (token requests and authenticated calls): each leaves
    /// one `jti` in the server's replay state of this device for a proof window.
    pub requests: u64,
}

pub struct SyncClient {
    http: reqwest::blocking::Client,
    base: String,
    device_key: SigningKey,
    server_key: VerifyingKey,
    token: Option<(String, DateTime<Utc>)>,
    /// Server clock minus local clock, learnt from answers: proofs are dated by the server's
    /// clock, so a workstation with a wrong clock still authenticates (and is flagged).
    offset: Duration,
    /// DPoP proofs made so far (each sync reports its share).
    proofs_made: u64,
    /// This workstation's copy of the log's Merkle tree, over the entries pulled so far.
    tree: Option<MerkleLog>,
}

impl SyncClient {
    /// A client for the server `ws` is enrolled with; `None` when it is not enrolled.
    pub fn for_workstation(ws: &impl Access) -> Result<Option<Self>> {
        let Some((enrolment, key)) = ws.with(|ws| {
            Ok(ws
                .devices()
                .enrolment()?
                .map(|e| (e, ws.ledger().identity().signing_key().clone())))
        })?
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: http_client(&enrolment.certificate_fingerprint)?,
            base: enrolment.server_url.clone(),
            server_key: parse_key(&enrolment.server_key).map_err(|e| rejected("bad_enrolment", e.message))?,
            device_key: key,
            token: None,
            offset: Duration::zero(),
            proofs_made: 0,
            tree: None,
        }))
    }

    fn server_now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    fn learn_time(&mut self, server_date: Option<DateTime<Utc>>) {
        if let Some(d) = server_date {
            // The Date header has whole seconds: ignore sub-second differences.
            let offset = d - Utc::now();
            if (offset - self.offset).num_seconds().abs() > 1 {
                self.offset = offset;
            }
        }
    }

    fn ensure_token(&mut self) -> Result<String> {
        if let Some((token, expires)) = &self.token
            && *expires - Duration::seconds(30) > self.server_now()
        {
            return Ok(token.clone());
        }
        let url = format!("{}/v1/token", self.base);
        let mut attempt = 0;
        loop {
            let proof = auth::make_proof(&self.device_key, "POST", &url, None, self.server_now());
            self.proofs_made += 1;
            let result = answer::<TokenResponse>(self.http.post(&url).header("DPoP", proof).send());
            match result {
                Ok((t, date)) => {
                    self.learn_time(date);
                    self.offset = t.server_time - Utc::now();
                    let expires = t.server_time + Duration::seconds(t.expires_in);
                    self.token = Some((t.access_token.clone(), expires));
                    return Ok(t.access_token);
                }
                // Our clock is off: the error carries the server's Date; retry once by it.
                Err(e) if attempt == 0 && is_clock_refusal(&e) => {
                    attempt += 1;
                    let date = self
                        .http
                        .get(format!("{}/health", self.base))
                        .send()
                        .ok()
                        .and_then(|r| {
                            r.headers()
                                .get(reqwest::header::DATE)
                                .and_then(|d| d.to_str().ok())
                                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                                .map(|d| d.with_timezone(&Utc))
                        });
                    self.offset = date.map_or(self.offset, |d| d - Utc::now());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One authenticated call. `path` has no query; `query` is appended after the proof is made
    /// (RFC 9449: `htu` leaves the query out).
    fn call<T: DeserializeOwned>(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let token = self.ensure_token()?;
        let url = format!("{}{path}", self.base);
        let proof = auth::make_proof(&self.device_key, method, &url, Some(&token), self.server_now());
        self.proofs_made += 1;
        let request = match method {
            "POST" => self.http.post(format!("{url}{query}")),
            _ => self.http.get(format!("{url}{query}")),
        };
        let mut request = request
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof);
        if let Some(body) = body {
            request = request.json(body);
        }
        let result = answer(request.send());
        match result {
            Ok((value, date)) => {
                self.learn_time(date);
                Ok(value)
            }
            Err(e) => {
                if e.details.get("reason").is_some_and(|r| r == "token_expired") {
                    self.token = None;
                }
                Err(e)
            }
        }
    }

    /// The branch's devices as the server sees them (`GET /v1/devices`): enrolment, revocation,
    /// last call, last logged seq and pull lag.
    pub fn devices(&mut self) -> Result<Vec<DeviceInfo>> {
        self.call("GET", "/v1/devices", "", None::<&()>)
    }

    /// Pulls and applies everything new, checking the server's log against the pinned
    /// checkpoint, then pushes this device's pending records. `progress` is called after each applied page.
    pub fn sync_once(&mut self, ws: &impl Access, progress: impl FnMut(Progress)) -> Result<SyncReport> {
        // Any read of a damaged page stops the sync (SQLCipher authenticates every page it
        // reads); whichever read met it, the error names the damage.
        self.sync_steps(ws, progress).map_err(|e| {
            if e.code == ErrorCode::DatabaseCorrupt {
                ws.with(|ws| Ok(ws.name_damage(e.clone()))).unwrap_or(e)
            } else {
                e
            }
        })
    }

    fn sync_steps(&mut self, ws: &impl Access, mut progress: impl FnMut(Progress)) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let proofs_before = self.proofs_made;
        let state: DeviceState = self.call("GET", "/v1/state", "", None::<&()>)?;
        let skew = (Utc::now() - state.server_time).num_seconds();
        report.clock_skew_seconds = (skew.abs() > state.max_clock_skew_seconds).then_some(skew);
        // Pull first: the server's log is checked against the pinned checkpoint before this
        // workstation hands it anything more.
        if let Err(e) = self.pull(ws, &mut report, &mut progress) {
            return Err(self.report_fork(ws, e));
        }
        let budget = usize::try_from(state.max_push_bytes).unwrap_or(usize::MAX);
        self.push(ws, state.logged_seq, budget, &mut report)?;
        report.pending = ws.with(|ws| ws.sync().pending())?;
        report.requests = self.proofs_made - proofs_before;
        Ok(report)
    }

    /// The log holds a record of this device that its chain does not (a restored backup that
    /// wrote on): offer the server our record at that seq, so that it quarantines the fork and
    /// alerts, and say so.
    fn report_fork(&mut self, ws: &impl Access, e: CoreError) -> CoreError {
        let seq = match (e.details.get("reason").map(String::as_str), e.details.get("seq")) {
            (Some("not_my_record"), Some(seq)) => seq.parse::<u64>().unwrap_or(0),
            _ => return e,
        };
        let ours = match ws.with(|ws| ws.sync().outbox(seq.saturating_sub(1), 1)) {
            Ok(records) => records,
            Err(_) => return e,
        };
        match self.push_records(&ours) {
            Err(fork) if fork.details.get("reason").is_some_and(|r| r == "fork") => fork,
            _ => e,
        }
    }

    /// Pushes exactly `records` and returns the server's receipt, unchecked and unrecorded:
    /// for tools and tests that replay or reorder batches (sync itself uses `sync_once`).
    pub fn push_records(&mut self, records: &[dentpro_core::record::Record]) -> Result<PushReceipt> {
        let request = PushRequest {
            records: records.iter().map(WireRecord::from).collect(),
            device_time: Utc::now(),
        };
        self.call("POST", "/v1/push", "", Some(&request))
    }

    /// Pushes this device's records after the last one the log holds. The first batch also
    /// repeats that last one: if this device's chain no longer has it (a restored backup that
    /// wrote on), the server sees two records at one seq and quarantines the fork.
    ///
    /// A batch is at most [`BATCH`] records and at most `max_bytes` of body (the server's limit),
    /// and always at least one record, so long notes never leave the workstation stuck.
    fn push(
        &mut self,
        ws: &impl Access,
        mut logged_seq: u64,
        max_bytes: usize,
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut after = logged_seq.saturating_sub(1);
        let mut first = true;
        loop {
            // The device's clock as its records carry it: the server measures its skew.
            let (records, device_time) =
                ws.with(|ws| Ok((ws.sync().outbox(after, BATCH)?, ws.ledger().clock().now())))?;
            let nothing_new = records.iter().all(|r| r.body.seq <= logged_seq);
            if records.is_empty() || (nothing_new && !first) {
                return Ok(());
            }
            first = false;
            let mut request = PushRequest {
                records: records.iter().map(WireRecord::from).collect(),
                device_time,
            };
            let envelope = json_len(&PushRequest {
                records: Vec::new(),
                device_time,
            });
            let fit = fitting(&request.records, envelope, max_bytes, json_len);
            request.records.truncate(fit);
            let records = &records[..fit];
            if envelope + json_len(&request.records[0]) > max_bytes {
                // The core bounds every field, so only a record written before the bounds (or a
                // server that shrank its limit) can get here: say so instead of retrying forever.
                return Err(rejected(
                    "record_too_large",
                    format!(
                        "record seq {} is larger than the {max_bytes} bytes the branch server accepts",
                        records[0].body.seq
                    ),
                )
                .with("seq", records[0].body.seq.to_string()));
            }
            let receipt: PushReceipt = self.call("POST", "/v1/push", "", Some(&request))?;
            report.clock_skew_seconds = report.clock_skew_seconds.or(receipt.clock_skew_seconds);
            let message = receipt_message(&receipt.device_id, &receipt.entries, &receipt.checkpoint);
            if !verify_hex(&self.server_key, &message, &receipt.signature)
                || !receipt.checkpoint.verify(&self.server_key)
            {
                return Err(rejected(
                    "bad_receipt",
                    "the push receipt is not signed by the pinned server key",
                ));
            }
            let entries: Vec<_> = receipt
                .entries
                .iter()
                .map(|e| (e.seq, e.position.clone()))
                .collect();
            ws.with(|ws| ws.sync().record_receipt(&entries))?;
            report.log_size = report.log_size.max(receipt.checkpoint.tree_size);
            let new = receipt.entries.iter().filter(|e| e.seq > logged_seq);
            report.pushed += new.clone().count() as u64;
            report.refused += new
                .filter(|e| e.position.verdict == dentpro_core::sync::Verdict::Refused)
                .count() as u64;
            if receipt.logged_seq < records.last().map_or(0, |r| r.body.seq) {
                return Err(rejected("push_stalled", "the server did not log the whole batch"));
            }
            logged_seq = receipt.logged_seq;
            after = logged_seq;
        }
    }

    fn pinned(&self, ws: &impl Access) -> Result<Option<SignedCheckpoint>> {
        ws.with(|ws| ws.sync().meta(PIN_KEY))?
            .map(|json| serde_json::from_str(&json).map_err(CoreError::from))
            .transpose()
    }

    fn pull(
        &mut self,
        ws: &impl Access,
        report: &mut SyncReport,
        progress: &mut impl FnMut(Progress),
    ) -> Result<()> {
        loop {
            let cursor = ws.with(|ws| ws.sync().cursor())?;
            if self.tree.as_ref().is_none_or(|t| t.len() != cursor) {
                let leaves = ws.with(|ws| ws.sync().log_leaves(cursor))?;
                self.tree = Some(leaves.into_iter().collect());
            }
            let pinned = self.pinned(ws)?;
            let known = pinned.as_ref().map_or(0, |p| p.tree_size);
            let query = format!("?from={cursor}&limit={PULL_PAGE}&known_size={known}");
            let page: PullResponse = self.call("GET", "/v1/pull", &query, None::<&()>).map_err(|e| {
                if e.details.get("reason").is_some_and(|r| r == "log_shorter_than_known") {
                    rejected("log_truncated", format!("the branch server's log is shorter than the {known} entries this workstation verified: it was truncated or replaced"))
                } else {
                    e
                }
            })?;
            let checkpoint = self.check_checkpoint(pinned.as_ref(), &page)?;
            let entries = page
                .entries
                .iter()
                .map(LoggedRecord::try_from)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| rejected("malformed_answer", e.message))?;
            let count = entries.len() as u64;
            if count > 0 {
                let outcome = ws.with(|ws| ws.sync().apply_pulled(&entries))?;
                let tree = self.tree.as_mut().expect("built above");
                for e in &entries {
                    tree.push(entry_leaf(&e.record.hash, &e.position));
                }
                report.pulled += outcome.received;
                report.reprojected |= outcome.reprojected;
            }
            let tree = self.tree.as_ref().expect("built above");
            let applied_to = tree.len();
            if applied_to >= checkpoint.tree_size {
                // Caught up: the entries we hold must give exactly the signed root.
                let ours = tree.root_at(checkpoint.tree_size).expect("size checked");
                if hex::encode(ours) != checkpoint.root {
                    return Err(rejected(
                        "log_rewritten",
                        "the branch server's log does not match the entries it served: it was rewritten",
                    ));
                }
            }
            ws.with(|ws| ws.sync().set_meta(PIN_KEY, &serde_json::to_string(&checkpoint)?))?;
            report.log_size = checkpoint.tree_size;
            progress(Progress {
                applied_to,
                log_size: checkpoint.tree_size,
            });
            if count == 0 || applied_to >= checkpoint.tree_size {
                return Ok(());
            }
        }
    }

    /// The page's checkpoint must be signed by the pinned key and consistent with the pinned
    /// checkpoint (RFC 6962 consistency proof): otherwise the server's log was rewritten or
    /// truncated since this workstation last looked.
    fn check_checkpoint(
        &self,
        pinned: Option<&SignedCheckpoint>,
        page: &PullResponse,
    ) -> Result<SignedCheckpoint> {
        let cp = &page.checkpoint;
        if !cp.verify(&self.server_key) {
            return Err(rejected(
                "bad_checkpoint",
                "the checkpoint is not signed by the pinned server key",
            ));
        }
        if let Some(pinned) = pinned {
            if cp.tree_size < pinned.tree_size {
                return Err(rejected(
                    "log_truncated",
                    format!(
                        "the branch server's log shrank from {} to {} entries",
                        pinned.tree_size, cp.tree_size
                    ),
                ));
            }
            let proof =
                hashes_from_hex(&page.consistency).map_err(|e| rejected("malformed_answer", e.message))?;
            let old_root = pinned
                .root_bytes()
                .map_err(|e| rejected("malformed_answer", e.message))?;
            let new_root = cp
                .root_bytes()
                .map_err(|e| rejected("malformed_answer", e.message))?;
            if !merkle::verify_consistency(pinned.tree_size, &old_root, cp.tree_size, &new_root, &proof) {
                return Err(rejected(
                    "log_rewritten",
                    format!(
                        "the branch server's log of {} entries is not an extension of the {} this workstation verified: it was rewritten",
                        cp.tree_size, pinned.tree_size
                    ),
                ));
            }
        }
        Ok(cp.clone())
    }

    /// Asks the server to prove that this device's record `seq` is in its log, and checks the
    /// proof against a checkpoint signed by the pinned key.
    pub fn prove_inclusion(&mut self, ws: &impl Access, seq: u64) -> Result<u64> {
        let (index, leaf) = ws
            .with(|ws| ws.sync().own_leaf(seq))?
            .ok_or_else(|| CoreError::not_found("logged record").with("seq", seq.to_string()))?;
        let proof: InclusionProof = self.call(
            "GET",
            "/v1/proof/inclusion",
            &format!("?index={index}"),
            None::<&()>,
        )?;
        let cp = &proof.checkpoint;
        if !cp.verify(&self.server_key) {
            return Err(rejected(
                "bad_checkpoint",
                "the checkpoint is not signed by the pinned server key",
            ));
        }
        let path = hashes_from_hex(&proof.proof).map_err(|e| rejected("malformed_answer", e.message))?;
        let root = cp
            .root_bytes()
            .map_err(|e| rejected("malformed_answer", e.message))?;
        if !merkle::verify_inclusion(&leaf, index, cp.tree_size, &path, &root) {
            return Err(rejected(
                "not_included",
                format!("the server's log does not hold this device's record seq {seq} as it was accepted"),
            ));
        }
        Ok(index)
    }
}

/// The branch server's figures for the devices screen, with a client of its own (the screen
/// asks now and then; the background sync keeps its own): `None` when this workstation is not
/// enrolled, an error when the server cannot be reached or refuses.
pub fn live_devices(ws: &impl Access) -> Result<Option<Vec<LiveDevice>>> {
    let Some(mut client) = SyncClient::for_workstation(ws)? else {
        return Ok(None);
    };
    let devices = client.devices()?;
    Ok(Some(
        devices
            .into_iter()
            .map(|d| LiveDevice {
                device_id: d.device_id.into(),
                kind: d.kind,
                label: d.label,
                enrolled_at: d.enrolled_at.to_rfc3339(),
                revoked_at: d.revoked_at.map(|t| t.to_rfc3339()),
                last_seen_at: d.last_seen_at.map(|t| t.to_rfc3339()),
                logged_seq: d.logged_seq,
                pull_lag: d.pull_lag,
            })
            .collect(),
    ))
}

fn is_clock_refusal(e: &CoreError) -> bool {
    e.details
        .get("reason")
        .is_some_and(|r| r == "proof_too_old" || r == "proof_not_yet_valid")
}

/// This workstation's copy of the branch log from index `from` up to the checkpoint it pinned,
/// with that checkpoint: for a restored server to recover what it logged after its backup.
pub fn export_log(ws: &impl Access, from: u64) -> Result<LogExport> {
    ws.with(|ws| {
        let checkpoint: SignedCheckpoint = ws
            .sync()
            .meta(PIN_KEY)?
            .map(|json| serde_json::from_str(&json))
            .transpose()?
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::NotSetUp,
                    "this workstation has not synced with a branch server",
                )
            })?;
        let count = checkpoint.tree_size.saturating_sub(from);
        let entries = dentpro_core::sync::log_entries(
            ws.ledger().conn(),
            from,
            u32::try_from(count).unwrap_or(u32::MAX),
        )?
        .iter()
        .map(WireEntry::from)
        .collect();
        Ok(LogExport { checkpoint, entries })
    })
}
