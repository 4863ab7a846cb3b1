//! The workstation: opening a data dir, sign-in and the sessions, and the authorization every
//! command passes. The commands themselves are the areas' handles (`ws.accounts()`,
//! `ws.patients()`, `ws.settings()`, `ws.devices()`, `ws.audit()`, `ws.sync()`: each area's
//! `facade.rs`).
//!
//! Every method that acts for a user goes through [`Workstation::authorize`]: the session must
//! exist, be on this device, not be idle-locked, and its role must hold the action in the
//! permission matrix. A refusal is written as an `access.denied` record before the error
//! returns. The business rules themselves live in the area modules.

use crate::accounts::{self, AfterFailedUnlock, BranchInfo, Language, LoginOutcome, SetupInput, UserSummary};
use crate::audit::AccessDenied;
use crate::clock::{Clock, SystemClock};
use crate::device::{DeviceIdentity, KeyStorage, KeyStorePreference};
use crate::devices::DeviceInitialized;
use crate::ids::{DeviceId, SessionId, UserId};
use crate::ledger::{Actor, Ledger};
use crate::permissions::{self, Action, Role};
use crate::settings;
use crate::{CoreError, ErrorCode, Result, integrity, store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionInfo {
    pub session_id: SessionId,
    pub user_id: UserId,
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
    pub device_id: DeviceId,
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
    user_id: UserId,
    role: Role,
    device_id: DeviceId,
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
    /// This workstation's id (the ledger's identity's, typed).
    device_id: DeviceId,
    sessions: HashMap<SessionId, Session>,
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
        integrity::check_data_dir(&opts.data_dir, integrity::DirUse::Write)?;
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
            device_id: DeviceId::new(&ledger.identity().device_id),
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

    /// An error met while reading this database, named: when the file is damaged, the error
    /// says which pages (SQLCipher's and SQLite's checks of the whole file); any other error
    /// comes back as it is. For callers whose reads go through several areas (a sync).
    pub fn name_damage(&self, e: CoreError) -> CoreError {
        crate::integrity::name_damage(self.ledger.conn(), e)
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

    pub fn device_id(&self) -> &DeviceId {
        &self.device_id
    }

    /// After a verification run: the problem it found, if any (sync stays stopped while set).
    pub(crate) fn set_integrity_problem(&mut self, problem: Option<CoreError>) {
        self.integrity_problem = problem;
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.ledger.clock().now()
    }

    // ---- sessions and permission checks ----

    fn actor_of(session_id: &SessionId, s: &Session) -> Actor {
        Actor::new(&s.user_id, Some(s.role), Some(session_id.as_str()))
    }

    /// The gate every user action passes. On refusal, the attempt is recorded.
    pub fn authorize(&mut self, session_id: &SessionId, action: Action) -> Result<Actor> {
        self.authorize_for(session_id, action, None)
    }

    /// [`Self::authorize`] for an action on one patient's file: a refusal names the patient.
    pub(crate) fn authorize_for(
        &mut self,
        session_id: &SessionId,
        action: Action,
        patient_id: Option<&str>,
    ) -> Result<Actor> {
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
    /// For what any signed-in user may do (no action to check).
    pub(crate) fn active_session(&mut self, session_id: &SessionId) -> Result<Actor> {
        let now = self.now();
        let idle_minutes = settings::get(self.ledger.conn())?.idle_lock_minutes;
        let device_id = self.device_id.clone();
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
                session_id: session_id.clone(),
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

    fn session_info(&self, session_id: &SessionId) -> Result<SessionInfo> {
        let s = self
            .sessions
            .get(session_id)
            .ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
        let user = accounts::user_by_id(self.ledger.conn(), &s.user_id)?;
        Ok(SessionInfo {
            session_id: session_id.clone(),
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
        let session_id = SessionId::generate();
        let event = accounts::LoginSucceeded {
            user_id: user.id.clone(),
            session_id: session_id.clone(),
        };
        let actor = Actor::new(&user.id, Some(user.role), Some(session_id.as_str()));
        self.ledger.append(&actor, event.into())?;
        self.sessions.insert(
            session_id.clone(),
            Session {
                user_id: user.id.clone(),
                role: user.role,
                device_id: self.device_id.clone(),
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
            device_id: self.device_id.clone(),
            key_storage: id.storage,
            key_fallback_reason: id.fallback_reason.clone(),
            data_dir: self.data_dir.display().to_string(),
            record_count,
        })
    }

    pub fn status(&self, session_id: Option<&SessionId>) -> Result<AppStatus> {
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

    // ---- sign-in and sessions ----

    /// Sets the branch up on a new workstation and signs its first admin in.
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
            LoginOutcome::Success(user)
                if !accounts::may_work_here(self.ledger.conn(), &user, &self.device_id)? =>
            {
                self.refuse_sign_in(
                    &user.username,
                    &user.id,
                    "terminal_not_bound",
                    CoreError::new(
                        ErrorCode::Forbidden,
                        "this cashier account works only at the cashier terminals it is bound to",
                    )
                    .with("reason", "terminal_not_bound"),
                )
            }
            LoginOutcome::Success(user) => self.start_session(&user),
            LoginOutcome::Failure(record, err) => {
                let actor = match &record.user_id {
                    Some(user_id) => Actor::new(user_id, None, None),
                    None => Actor::system(),
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
        let Err(err) = integrity::check_signed_account(conn, &self.device_id, &user, &hash, &terminals)
        else {
            return Ok(());
        };
        self.refuse_sign_in(&user.username, &user.id, "account_tampered", err)
    }

    /// Records a sign-in refused for the account's state (not its password) and returns `err`.
    fn refuse_sign_in<T>(
        &mut self,
        username: &str,
        user_id: &UserId,
        reason: &str,
        err: CoreError,
    ) -> Result<T> {
        let refusal = accounts::LoginFailed {
            username: username.to_owned(),
            user_id: Some(user_id.clone()),
            reason: reason.into(),
            failed_attempts: 0,
            locked_until: None,
        };
        let actor = Actor::new(user_id, None, None);
        self.ledger.append(&actor, refusal.into())?;
        Err(err)
    }

    pub fn logout(&mut self, session_id: &SessionId) -> Result<()> {
        if let Some(s) = self.sessions.remove(session_id) {
            let actor = Self::actor_of(session_id, &s);
            self.ledger.append(
                &actor,
                accounts::LoggedOut {
                    user_id: s.user_id,
                    session_id: session_id.clone(),
                }
                .into(),
            )?;
        }
        Ok(())
    }

    /// Unlocks an idle-locked session with the user's password. Repeated wrong passwords end
    /// the session and count toward the account lockout like failed logins.
    pub fn unlock(&mut self, session_id: &SessionId, password: &str) -> Result<SessionInfo> {
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
                        session_id: session_id.clone(),
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
                if accounts::failed_unlock(&mut live.failed_unlocks, &err) == AfterFailedUnlock::EndSession {
                    self.sessions.remove(session_id);
                }
                Err(err)
            }
        }
    }

    /// User activity seen by the UI; fails with `session_locked` once the session went idle.
    pub fn heartbeat(&mut self, session_id: &SessionId) -> Result<()> {
        self.active_session(session_id).map(|_| ())
    }

    pub fn set_language(&mut self, session_id: &SessionId, language: Language) -> Result<SessionInfo> {
        let actor = self.active_session(session_id)?;
        let user_id = actor.user_id.clone().expect("sessions have users").into();
        self.ledger
            .append(&actor, accounts::LanguageSet { user_id, language }.into())?;
        self.session_info(session_id)
    }

    /// Ends every session of `user` on this workstation (a deactivated account's, at once).
    pub(crate) fn end_sessions_of(&mut self, user: &UserId) {
        self.sessions.retain(|_, s| &s.user_id != user);
    }
}

fn session_locked() -> CoreError {
    CoreError::new(
        ErrorCode::SessionLocked,
        "the session is locked after inactivity; enter your password",
    )
}
