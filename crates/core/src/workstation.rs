//! The workstation facade: what the desktop shell (and the CLI, and the tests) call.
//!
//! Every method that acts for a user goes through [`Workstation::authorize`]: the session must
//! exist, be on this device, not be idle-locked, and its role must hold the action in the
//! permission matrix. A refusal is written as an `access.denied` record before the error
//! returns. The business rules themselves live in the area modules.

use crate::accounts::{self, BranchInfo, Language, LoginOutcome, NewUser, SetupInput, UserSummary};
use crate::audit::AccessDenied;
use crate::audit::{self, AuditFilter, AuditPage, VerifyReport};
use crate::clock::{Clock, SystemClock};
use crate::device::{DeviceIdentity, KeyStorage, KeyStorePreference};
use crate::devices::{self, DeviceEnrolled, DeviceInitialized, Enrolment};
use crate::ledger::{Actor, Ledger};
use crate::patients::{self, Patient, PatientFile, PatientInput, PatientSummary};
use crate::permissions::{self, Action, Role};
use crate::settings::{self, Settings};
use crate::sync;
use crate::{CoreError, ErrorCode, Result, integrity, store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
const ENROLMENT_KEY: &str = "sync.enrolment";

fn sync_meta_key(key: &str) -> Result<String> {
    if key.is_empty() || key == "enrolment" || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(CoreError::internal(format!("not a sync meta key: {key}")));
    }
    Ok(format!("sync.{key}"))
}

/// Wrong passwords typed at the lock screen before the session is ended.
const MAX_UNLOCK_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionInfo {
    pub session_id: String,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub language: Language,
    /// What the UI may offer; the core still checks every call.
    pub allowed_actions: Vec<Action>,
    pub idle_lock_minutes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AboutInfo {
    pub app_version: String,
    pub device_id: String,
    pub key_storage: KeyStorage,
    pub key_fallback_reason: Option<String>,
    pub data_dir: String,
    pub record_count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AppStatus {
    pub setup_done: bool,
    pub branch: Option<BranchInfo>,
    pub session: Option<SessionInfo>,
    pub locked: bool,
    pub about: AboutInfo,
}

/// A signed-in user on this workstation. Sessions live in memory only: a restart asks everyone
/// to log in again, and a session id means nothing on another device.
#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    role: Role,
    device_id: String,
    last_activity: DateTime<Utc>,
    locked: bool,
    failed_unlocks: u32,
}

pub struct OpenOptions {
    pub data_dir: PathBuf,
    pub key_store: KeyStorePreference,
    pub clock: Arc<dyn Clock>,
}

impl OpenOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            key_store: KeyStorePreference::Auto,
            clock: Arc::new(SystemClock),
        }
    }
}

pub struct Workstation {
    ledger: Ledger,
    data_dir: PathBuf,
    sessions: HashMap<String, Session>,
    /// What the full check found after an unclean shutdown (or the audit screen's last run):
    /// while set, nothing is synced from this database.
    integrity_problem: Option<CoreError>,
    /// Removed when the workstation closes cleanly; declared last so it outlives the database.
    _open_marker: Option<integrity::OpenMarker>,
}

impl Workstation {
    /// Opens the workstation in `data_dir`: device identity (created on first start), the
    /// database bound to it, and the genesis record of a new chain.
    pub fn open(opts: OpenOptions) -> Result<Self> {
        integrity::check_data_dir(&opts.data_dir, true)?;
        let identity = DeviceIdentity::load_or_create(&opts.data_dir, opts.key_store)?;
        let key = identity.database_key();
        let named = |e| integrity::name_damage_in(&opts.data_dir, &key, e);
        let conn = store::open_bound(&opts.data_dir, &identity).map_err(named)?;
        let mut ledger = Ledger::new(conn, identity, opts.clock, Some(&opts.data_dir)).map_err(named)?;
        if ledger.head().seq == 0 {
            let id = ledger.identity();
            let init = DeviceInitialized {
                public_key: hex::encode(id.verifying_key().as_bytes()),
                key_storage: match id.storage {
                    KeyStorage::Keyring => "keyring".into(),
                    KeyStorage::File => "file".into(),
                },
                app_version: APP_VERSION.into(),
            };
            ledger.append(&Actor::system(), init.into())?;
        }
        // Placed only once the database is ours (a refused second opener leaves it alone).
        let (marker, unclean) = integrity::OpenMarker::place(&opts.data_dir)?;
        let integrity_problem = if unclean {
            let report = integrity::full_check(
                ledger.conn(),
                Some(&opts.data_dir),
                Some(&ledger.identity().device_id),
            )?;
            let problem = report.as_error();
            match &problem {
                Some(e) => tracing::error!(error = %e, "integrity check after an unclean shutdown failed"),
                None => tracing::info!("integrity check after an unclean shutdown: ok"),
            }
            problem
        } else {
            None
        };
        Ok(Self {
            ledger,
            data_dir: opts.data_dir,
            sessions: HashMap::new(),
            integrity_problem,
            _open_marker: Some(marker),
        })
    }

    /// The problem the last full integrity check found, if any (sync stays stopped while set).
    pub fn integrity_problem(&self) -> Option<&CoreError> {
        self.integrity_problem.as_ref()
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The write path, for the areas' handles (after [`Self::authorize`]).
    pub(crate) fn ledger_mut(&mut self) -> &mut Ledger {
        &mut self.ledger
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn device_id(&self) -> &str {
        &self.ledger.identity().device_id
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.ledger.clock().now()
    }

    // ---- sessions and permission checks ----

    fn actor_of(session_id: &str, s: &Session) -> Actor {
        Actor {
            user_id: Some(s.user_id.clone()),
            role: Some(s.role),
            session_id: Some(session_id.to_owned()),
        }
    }

    /// The gate every user action passes. On refusal, the attempt is recorded.
    pub fn authorize(&mut self, session_id: &str, action: Action) -> Result<Actor> {
        self.authorize_for(session_id, action, None)
    }

    pub(crate) fn authorize_for(&mut self, session_id: &str, action: Action, patient_id: Option<&str>) -> Result<Actor> {
        let actor = self.active_session(session_id)?;
        let role = actor.role.expect("sessions always have a role");
        if !permissions::allows(role, action) {
            let denied = AccessDenied {
                action: action.as_str().into(),
                reason: format!("role {role} lacks {}", action.as_str()),
                patient_id: patient_id.map(str::to_owned),
            };
            self.ledger.append(&actor, denied.into())?;
            return Err(CoreError::new(
                ErrorCode::Forbidden,
                format!("a {role} may not {}", action.as_str().replace('_', " ")),
            )
            .with("action", action.as_str())
            .with("role", role.as_str()));
        }
        Ok(actor)
    }

    /// A live, unlocked session of this device; marks activity. Going idle locks it (recorded).
    fn active_session(&mut self, session_id: &str) -> Result<Actor> {
        let now = self.now();
        let idle_minutes = settings::get(self.ledger.conn())?.idle_lock_minutes;
        let device_id = self.device_id().to_owned();
        let session = self
            .sessions
            .get_mut(session_id)
            .ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
        if session.device_id != device_id {
            return Err(CoreError::new(
                ErrorCode::NotLoggedIn,
                "this session belongs to another device",
            ));
        }
        if !session.locked && now - session.last_activity > chrono::Duration::minutes(idle_minutes.into()) {
            session.locked = true;
            let event = accounts::SessionLocked {
                user_id: session.user_id.clone(),
                session_id: session_id.to_owned(),
                idle_minutes,
            };
            let actor = Self::actor_of(session_id, session);
            self.ledger.append(&actor, event.into())?;
            return Err(session_locked());
        }
        if session.locked {
            return Err(session_locked());
        }
        session.last_activity = now;
        Ok(Self::actor_of(session_id, session))
    }

    fn session_info(&self, session_id: &str) -> Result<SessionInfo> {
        let s = self
            .sessions
            .get(session_id)
            .ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
        let user = accounts::user_by_id(self.ledger.conn(), &s.user_id)?;
        Ok(SessionInfo {
            session_id: session_id.to_owned(),
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            language: user.language,
            allowed_actions: permissions::actions_for(user.role),
            idle_lock_minutes: settings::get(self.ledger.conn())?.idle_lock_minutes,
        })
    }

    fn start_session(&mut self, user: &UserSummary) -> Result<SessionInfo> {
        let session_id = uuid::Uuid::now_v7().to_string();
        let event = accounts::LoginSucceeded {
            user_id: user.id.clone(),
            session_id: session_id.clone(),
        };
        let actor = Actor {
            user_id: Some(user.id.clone()),
            role: Some(user.role),
            session_id: Some(session_id.clone()),
        };
        self.ledger.append(&actor, event.into())?;
        self.sessions.insert(
            session_id.clone(),
            Session {
                user_id: user.id.clone(),
                role: user.role,
                device_id: self.device_id().to_owned(),
                last_activity: self.now(),
                locked: false,
                failed_unlocks: 0,
            },
        );
        self.session_info(&session_id)
    }

    // ---- status ----

    pub fn about(&self) -> Result<AboutInfo> {
        let id = self.ledger.identity();
        let record_count = self
            .ledger
            .conn()
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))?;
        Ok(AboutInfo {
            app_version: APP_VERSION.into(),
            device_id: id.device_id.clone(),
            key_storage: id.storage,
            key_fallback_reason: id.fallback_reason.clone(),
            data_dir: self.data_dir.display().to_string(),
            record_count,
        })
    }

    pub fn status(&self, session_id: Option<&str>) -> Result<AppStatus> {
        let branch = accounts::branch(self.ledger.conn())?;
        let session = session_id.and_then(|id| self.sessions.get(id).map(|s| (id, s.locked)));
        Ok(AppStatus {
            setup_done: branch.is_some(),
            branch,
            session: match session {
                Some((id, _)) => Some(self.session_info(id)?),
                None => None,
            },
            locked: session.is_some_and(|(_, locked)| locked),
            about: self.about()?,
        })
    }

    // ---- accounts ----

    pub fn setup_branch(&mut self, input: &SetupInput) -> Result<SessionInfo> {
        let admin = accounts::setup_branch(&mut self.ledger, input)?;
        self.start_session(&admin)
    }

    pub fn login(&mut self, username: &str, password: &str) -> Result<SessionInfo> {
        if accounts::branch(self.ledger.conn())?.is_none() {
            return Err(CoreError::new(
                ErrorCode::NotSetUp,
                "this workstation is not set up yet",
            ));
        }
        self.check_signed_account(username)?;
        match accounts::check_login(self.ledger.conn(), username, password, self.now())? {
            LoginOutcome::Success(user) if !self.may_work_here(&user)? => self.refuse_sign_in(
                &user.username,
                &user.id,
                "terminal_not_bound",
                CoreError::new(
                    ErrorCode::Forbidden,
                    "this cashier account works only at the cashier terminals it is bound to",
                )
                .with("reason", "terminal_not_bound"),
            ),
            LoginOutcome::Success(user) => self.start_session(&user),
            LoginOutcome::Failure(record, err) => {
                let actor = Actor {
                    user_id: record.user_id.clone(),
                    role: None,
                    session_id: None,
                };
                self.ledger.append(&actor, record.into())?;
                Err(err)
            }
        }
    }

    /// The account's row must be what its signed records say (a role or password hash changed
    /// with the `sqlite3` tool is refused here, not trusted until someone verifies); a refusal
    /// is recorded.
    fn check_signed_account(&mut self, username: &str) -> Result<()> {
        let conn = self.ledger.conn();
        let Some(user) = accounts::user_by_username(conn, &username.trim().to_lowercase())? else {
            return Ok(()); // check_login refuses and records it
        };
        let hash = accounts::password_hash_of(conn, &user.id)?;
        let terminals = accounts::cashier_terminals(conn, &user.id)?;
        let Err(err) = integrity::check_signed_account(conn, self.device_id(), &user, &hash, &terminals)
        else {
            return Ok(());
        };
        self.refuse_sign_in(&user.username, &user.id, "account_tampered", err)
    }

    /// Records a sign-in refused for the account's state (not its password) and returns `err`.
    fn refuse_sign_in<T>(
        &mut self,
        username: &str,
        user_id: &str,
        reason: &str,
        err: CoreError,
    ) -> Result<T> {
        let refusal = accounts::LoginFailed {
            username: username.to_owned(),
            user_id: Some(user_id.to_owned()),
            reason: reason.into(),
            failed_attempts: 0,
            locked_until: None,
        };
        let actor = Actor {
            user_id: Some(user_id.to_owned()),
            role: None,
            session_id: None,
        };
        self.ledger.append(&actor, refusal.into())?;
        Err(err)
    }

    /// Once this workstation is enrolled in a branch, a cashier works only at the cashier
    /// terminals their account is bound to (the branch server refuses their records elsewhere).
    fn may_work_here(&self, user: &UserSummary) -> Result<bool> {
        if user.role != Role::Cashier || self.enrolment()?.is_none() {
            return Ok(true);
        }
        let terminals = accounts::cashier_terminals(self.ledger.conn(), &user.id)?;
        Ok(terminals.iter().any(|d| d == self.device_id()))
    }

    pub fn logout(&mut self, session_id: &str) -> Result<()> {
        if let Some(s) = self.sessions.remove(session_id) {
            let actor = Self::actor_of(session_id, &s);
            self.ledger.append(
                &actor,
                accounts::LoggedOut {
                    user_id: s.user_id,
                    session_id: session_id.into(),
                }
                .into(),
            )?;
        }
        Ok(())
    }

    /// Unlocks an idle-locked session with the user's password. Repeated wrong passwords end
    /// the session and count toward the account lockout like failed logins.
    pub fn unlock(&mut self, session_id: &str, password: &str) -> Result<SessionInfo> {
        let s = self
            .sessions
            .get(session_id)
            .cloned()
            .ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
        let user = accounts::user_by_id(self.ledger.conn(), &s.user_id)?;
        match accounts::check_login(self.ledger.conn(), &user.username, password, self.now())? {
            LoginOutcome::Success(_) => {
                let actor = Self::actor_of(session_id, &s);
                self.ledger.append(
                    &actor,
                    accounts::SessionUnlocked {
                        user_id: s.user_id.clone(),
                        session_id: session_id.into(),
                    }
                    .into(),
                )?;
                let now = self.now();
                if let Some(live) = self.sessions.get_mut(session_id) {
                    live.locked = false;
                    live.failed_unlocks = 0;
                    live.last_activity = now;
                }
                self.session_info(session_id)
            }
            LoginOutcome::Failure(record, err) => {
                let actor = Self::actor_of(session_id, &s);
                self.ledger.append(&actor, record.into())?;
                let live = self.sessions.get_mut(session_id).expect("checked above");
                live.failed_unlocks += 1;
                if live.failed_unlocks >= MAX_UNLOCK_ATTEMPTS || err.code == ErrorCode::AccountLocked {
                    self.sessions.remove(session_id);
                }
                Err(err)
            }
        }
    }

    /// User activity seen by the UI; fails with `session_locked` once the session went idle.
    pub fn heartbeat(&mut self, session_id: &str) -> Result<()> {
        self.active_session(session_id).map(|_| ())
    }

    pub fn set_language(&mut self, session_id: &str, language: Language) -> Result<SessionInfo> {
        let actor = self.active_session(session_id)?;
        let user_id = actor.user_id.clone().expect("sessions have users");
        self.ledger
            .append(&actor, accounts::LanguageSet { user_id, language }.into())?;
        self.session_info(session_id)
    }

    pub fn list_users(&mut self, session_id: &str) -> Result<Vec<UserSummary>> {
        self.authorize(session_id, Action::UserList)?;
        accounts::list_users(self.ledger.conn())
    }

    pub fn create_user(&mut self, session_id: &str, new: &NewUser) -> Result<UserSummary> {
        let actor = self.authorize(session_id, Action::UserCreate)?;
        accounts::create_user(&mut self.ledger, &actor, new)
    }

    pub fn reset_password(&mut self, session_id: &str, user_id: &str, password: &str) -> Result<()> {
        let actor = self.authorize(session_id, Action::UserResetPassword)?;
        accounts::reset_password(&mut self.ledger, &actor, user_id, password)
    }

    /// The branch's workstations (the devices screen; binding cashiers to their terminals).
    pub fn branch_devices(&mut self, session_id: &str) -> Result<Vec<devices::BranchDevice>> {
        self.authorize(session_id, Action::DeviceList)?;
        devices::branch_devices(self.ledger.conn())
    }

    /// Revokes another workstation of the branch: a `device.revoked` record, and once the
    /// branch server accepts it, that workstation's later records are refused (its earlier
    /// ones stay). Not this workstation itself, only a known one, and only once.
    pub fn revoke_device(
        &mut self,
        session_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<devices::BranchDevice> {
        let actor = self.authorize(session_id, Action::DeviceRevoke)?;
        devices::revoke_device(&mut self.ledger, &actor, device_id, reason)
    }

    pub fn cashier_terminals(&mut self, session_id: &str, user_id: &str) -> Result<Vec<String>> {
        self.authorize(session_id, Action::UserList)?;
        accounts::cashier_terminals(self.ledger.conn(), user_id)
    }

    pub fn set_cashier_terminals(
        &mut self,
        session_id: &str,
        user_id: &str,
        device_ids: &[String],
    ) -> Result<Vec<String>> {
        let actor = self.authorize(session_id, Action::CashierBind)?;
        accounts::set_cashier_terminals(&mut self.ledger, &actor, user_id, device_ids)
    }

    pub fn set_user_active(&mut self, session_id: &str, user_id: &str, active: bool) -> Result<UserSummary> {
        let action = if active {
            Action::UserReactivate
        } else {
            Action::UserDeactivate
        };
        let actor = self.authorize(session_id, action)?;
        let result = accounts::set_active(&mut self.ledger, &actor, user_id, active);
        if active {
            return result;
        }
        // A deactivated user's open sessions end at once.
        if result.is_ok() {
            self.sessions.retain(|_, s| s.user_id != user_id);
        }
        result
    }

    // ---- settings ----

    pub fn get_settings(&mut self, session_id: &str) -> Result<Settings> {
        self.active_session(session_id)?;
        settings::get(self.ledger.conn())
    }

    pub fn set_idle_lock_minutes(&mut self, session_id: &str, minutes: u32) -> Result<Settings> {
        let actor = self.authorize(session_id, Action::SettingsEdit)?;
        settings::set_idle_lock_minutes(&mut self.ledger, &actor, minutes)
    }

    // ---- patients ----

    pub fn search_patients(
        &mut self,
        session_id: &str,
        query: &str,
        limit: u32,
    ) -> Result<Vec<PatientSummary>> {
        self.authorize(session_id, Action::PatientSearch)?;
        patients::search(self.ledger.conn(), query, limit)
    }

    pub fn register_patient(&mut self, session_id: &str, input: &PatientInput) -> Result<Patient> {
        let actor = self.authorize(session_id, Action::PatientRegister)?;
        patients::register(&mut self.ledger, &actor, input)
    }

    pub fn update_patient(
        &mut self,
        session_id: &str,
        patient_id: &str,
        input: &PatientInput,
    ) -> Result<Patient> {
        let actor = self.authorize_for(session_id, Action::PatientEdit, Some(patient_id))?;
        patients::update(&mut self.ledger, &actor, patient_id, input)
    }

    /// Acts on an open edit conflict of a file: `apply` the losing edit's value after all, or
    /// keep the current one (see [`patients::resolve_conflict`]). Returns the file as it is now.
    pub fn resolve_patient_conflict(
        &mut self,
        session_id: &str,
        patient_id: &str,
        record_id: &str,
        field: &str,
        apply: bool,
    ) -> Result<PatientFile> {
        let actor = self.authorize_for(session_id, Action::PatientEdit, Some(patient_id))?;
        patients::resolve_conflict(&mut self.ledger, &actor, patient_id, record_id, field, apply)
    }

    pub fn open_patient(&mut self, session_id: &str, patient_id: &str) -> Result<PatientFile> {
        let actor = self.authorize_for(session_id, Action::PatientView, Some(patient_id))?;
        patients::open(&mut self.ledger, &actor, patient_id)
    }

    // ---- audit ----

    pub fn audit_trail(&mut self, session_id: &str, filter: &AuditFilter) -> Result<AuditPage> {
        self.authorize(session_id, Action::AuditView)?;
        audit::trail(self.ledger.conn(), filter)
    }

    /// Verifies the chain, the anchor and the projections; the run is itself recorded.
    pub fn verify_audit(&mut self, session_id: &str) -> Result<VerifyReport> {
        let actor = self.authorize(session_id, Action::AuditVerify)?;
        let mut report = audit::verify(self.ledger.conn(), Some(&self.data_dir), Some(self.device_id()))?;
        // The audit screen's run also checks the file itself (pages, indexes).
        report.storage_problems = integrity::storage_problems(self.ledger.conn());
        report.ok &= report.storage_problems.is_empty();
        self.integrity_problem = integrity::IntegrityReport {
            ok: report.ok,
            storage_problems: report.storage_problems.clone(),
            verify: Some(report.clone()),
        }
        .as_error();
        let problem = report
            .storage_problems
            .first()
            .cloned()
            .or_else(|| report.first_bad.as_ref().map(|b| b.problem.clone()))
            .or_else(|| report.projection_problem.clone());
        let event = audit::AuditVerified {
            ok: report.ok,
            records_checked: report.records_checked,
            problem,
        };
        self.ledger.append(&actor, event.into())?;
        Ok(report)
    }

    // ---- outbox and documents (crate::outbox, crate::documents) ----

    /// The effects this workstation's records queued, and their receivers (the worker's view).
    pub fn outbox(&self) -> crate::outbox::Outbox<'_> {
        let documents = crate::documents::DocumentStore::new(&self.data_dir, self.ledger.identity());
        let receivers = crate::outbox::Receivers { documents };
        crate::outbox::Outbox::new(self.ledger.conn(), receivers, self.now())
    }

    /// Verifies the audit chain (recorded as `verify_audit` does) and prints what it found as a
    /// PDF in the user's language (`audit.report_generated`); the outbox stores the document.
    pub fn audit_report(&mut self, session_id: &str) -> Result<crate::documents::audit_report::DocumentRef> {
        use crate::documents::audit_report::{self, Verifier};
        let report = self.verify_audit(session_id)?;
        let actor = self.authorize(session_id, Action::AuditVerify)?;
        let user = accounts::user_by_id(self.ledger.conn(), actor.user_id.as_deref().unwrap_or_default())?;
        let branch = accounts::branch(self.ledger.conn())?
            .map(|b| b.name)
            .unwrap_or_default();
        let by = Verifier {
            username: &user.username,
            display_name: &user.display_name,
            language: user.language,
        };
        let facts = audit_report::facts(&report, &by, &branch, self.device_id(), self.now());
        audit_report::generate(&mut self.ledger, &actor, facts)
    }

    /// A document this workstation printed, decrypted, to show or save.
    pub fn read_document(
        &mut self,
        session_id: &str,
        document_id: &str,
    ) -> Result<crate::documents::Document> {
        self.authorize(session_id, Action::AuditView)?;
        let documents = crate::documents::DocumentStore::new(&self.data_dir, self.ledger.identity());
        crate::documents::read(self.ledger.conn(), &documents, document_id)
    }

    // ---- sync with the branch server (device-level: run by the background sync, no session) ----

    /// The branch server this workstation is enrolled with, if any.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        store::meta_get(self.ledger.conn(), ENROLMENT_KEY)?
            .map(|json| serde_json::from_str(&json).map_err(CoreError::from))
            .transpose()
    }

    /// Who may enrol this workstation: anyone while it is not set up (a new desk joins its
    /// branch before it has any users: they come from the server), an unlocked admin after. A
    /// refusal is recorded like every other.
    pub fn may_enrol(&mut self, session_id: Option<&str>) -> Result<()> {
        if !self.status(session_id)?.setup_done {
            return Ok(());
        }
        let session_id = session_id.ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
        self.authorize(session_id, Action::DeviceEnrol).map(drop)
    }

    /// Keeps the enrolment (after the server accepted this device) and records it in the chain.
    pub fn save_enrolment(&mut self, enrolment: &Enrolment) -> Result<()> {
        if self.enrolment()?.is_some() {
            return Err(CoreError::new(
                ErrorCode::AlreadySetUp,
                "this workstation is already enrolled",
            ));
        }
        // Part of it came from the server's answer: bounded before it goes on the record.
        use crate::text::{LABEL_MAX, NAME_MAX, TICKET_MAX, bounded};
        bounded("branch_name", &enrolment.branch_name, NAME_MAX)?;
        bounded("enrolled_at", &enrolment.enrolled_at, NAME_MAX)?;
        let event = DeviceEnrolled {
            server_url: bounded("server_url", &enrolment.server_url, TICKET_MAX)?,
            server_certificate: bounded("server_certificate", &enrolment.certificate_fingerprint, 64)?,
            server_key: bounded("server_key", &enrolment.server_key, 64)?,
            device_kind: enrolment.device_kind,
            label: bounded("label", &enrolment.label, LABEL_MAX)?,
        };
        store::meta_set(
            self.ledger.conn(),
            ENROLMENT_KEY,
            &serde_json::to_string(enrolment)?,
        )?;
        self.ledger.append(&Actor::system(), event.into())?;
        Ok(())
    }

    /// Sync state kept with the records (pinned checkpoint and the like), keys `sync.*`.
    pub fn sync_meta(&self, key: &str) -> Result<Option<String>> {
        store::meta_get(self.ledger.conn(), &sync_meta_key(key)?)
    }

    pub fn set_sync_meta(&self, key: &str, value: &str) -> Result<()> {
        store::meta_set(self.ledger.conn(), &sync_meta_key(key)?, value)
    }

    /// This device's records to push, each re-checked first (hash, signature, link): a
    /// database damaged on disk stops here with `database_corrupt`, naming the record, and so
    /// does one whose full check failed after an unclean shutdown.
    pub fn sync_outbox(&self, after_seq: u64, limit: u32) -> Result<Vec<crate::record::Record>> {
        if let Some(problem) = &self.integrity_problem {
            return Err(problem.clone());
        }
        integrity::checked_outbox(
            self.ledger.conn(),
            self.device_id(),
            &self.ledger.identity().verifying_key(),
            after_seq,
            limit,
        )
    }

    pub fn sync_pending(&self) -> Result<i64> {
        sync::pending_count(self.ledger.conn(), self.device_id())
    }

    pub fn sync_cursor(&self) -> Result<u64> {
        sync::cursor(self.ledger.conn())
    }

    pub fn sync_record_receipt(&mut self, entries: &[(u64, sync::LogPosition)]) -> Result<()> {
        let device_id = self.device_id().to_owned();
        sync::record_receipt(self.ledger.conn_mut(), &device_id, entries)
    }

    pub fn sync_apply_pulled(&mut self, entries: &[sync::LoggedRecord]) -> Result<sync::PullOutcome> {
        let device_id = self.device_id().to_owned();
        sync::apply_pulled(self.ledger.conn_mut(), &device_id, entries)
    }

    /// The log leaves this workstation holds before `before`, in log order (to check the
    /// server's checkpoints).
    pub fn sync_log_leaves(&self, before: u64) -> Result<Vec<[u8; 32]>> {
        sync::log_leaves(self.ledger.conn(), Some(before))
    }

    /// Log index and leaf of this device's record `seq`, once the server logged it.
    pub fn sync_own_leaf(&self, seq: u64) -> Result<Option<(u64, [u8; 32])>> {
        sync::own_leaf(self.ledger.conn(), self.device_id(), seq)
    }
}

fn session_locked() -> CoreError {
    CoreError::new(
        ErrorCode::SessionLocked,
        "the session is locked after inactivity; enter your password",
    )
}
