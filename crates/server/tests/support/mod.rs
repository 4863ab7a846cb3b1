//! A real branch server (the `dentpro-server` binary, HTTPS on loopback) and real workstations
//! (the core on their own data dirs and keys), for the sync integration tests.
#![allow(dead_code)]

use dentpro_core::device::KeyStorePreference;
use dentpro_core::devices::DeviceKind;
use dentpro_core::patients::{PatientInput, Sex};
use dentpro_core::permissions::Role;
use dentpro_core::workstation::{OpenOptions, Workstation};
use dentpro_sync::client::{self, EnrolmentTicket, SyncClient, SyncReport};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// The core's test helpers (accounts, setup, counting rows), one copy for both crates.
#[path = "../../../core/tests/common/mod.rs"]
pub mod core_common;
#[allow(unused_imports)] // each includer (tests, bench) uses its own part
pub use core_common::{PASSWORD, count, new_user, setup_input};

pub mod raw;

const SERVER: &str = env!("CARGO_BIN_EXE_dentpro-server");

/// An enrolment of `key` with the ticket's `code`, signed as the client signs it.
pub fn enrol_request(
    code: &str,
    key: &ed25519_dalek::SigningKey,
    label: &str,
) -> dentpro_sync::protocol::EnrolRequest {
    use dentpro_sync::protocol::{enrol_message, sign_hex};
    let device_id = dentpro_core::record::device_id_for(&key.verifying_key());
    dentpro_sync::protocol::EnrolRequest {
        code: code.into(),
        signature: sign_hex(key, &enrol_message(code, &device_id)),
        public_key: hex::encode(key.verifying_key().as_bytes()),
        device_id,
        label: label.into(),
        app_version: "test".into(),
        branch_id: None,
    }
}

pub struct TestServer {
    pub dir: PathBuf,
    pub address: String,
    child: Option<Child>,
    /// Environment of `serve` (its options' `DENTPRO_SERVER_*` variables).
    env: Vec<(String, String)>,
    /// Extra arguments of `serve` (tunables a test lowers).
    serve_args: Vec<String>,
}

impl TestServer {
    /// `init` + `serve` on a free loopback port.
    pub fn start(dir: &Path) -> Self {
        Self::start_configured(dir, &[], &[])
    }

    /// `init` + `serve` with these environment variables (`serve` options) set.
    pub fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_configured(dir, &[], env)
    }

    /// `init` + `serve` with extra `serve` arguments.
    pub fn start_with(dir: &Path, serve_args: &[&str]) -> Self {
        Self::start_configured(dir, serve_args, &[])
    }

    fn start_configured(dir: &Path, serve_args: &[&str], env: &[(&str, &str)]) -> Self {
        let status = Command::new(SERVER)
            .args(["--data-dir"])
            .arg(dir)
            .args(["init", "--branch-name", "Test Clinic"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run dentpro-server init");
        assert!(status.success(), "init failed");
        let mut server = TestServer {
            dir: dir.to_owned(),
            address: "127.0.0.1:0".into(),
            child: None,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            serve_args: serve_args.iter().map(|a| a.to_string()).collect(),
        };
        server.restart();
        server
    }

    /// (Re)starts `serve` on the same port (a free one the first time).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut child = Command::new(SERVER)
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["serve", "--listen", &self.address])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(&self.serve_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run dentpro-server serve");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected server output: {line:?}"));
        self.address = address.to_owned();
        self.child = Some(child);
    }

    /// Whether `serve` is still running (it did not exit or crash).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().expect("poll server").is_none())
    }

    /// SIGKILL: no clean shutdown.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill server");
            child.wait().expect("reap server");
        }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(SERVER)
            .arg("--data-dir")
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("run dentpro-server");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    pub fn ticket(&self, kind: DeviceKind) -> EnrolmentTicket {
        let out = self.cli(&["enrol-code", "--kind", kind.as_str(), "--address", &self.address]);
        out.trim().parse().expect("an enrolment ticket")
    }

    pub fn db(&self) -> rusqlite::Connection {
        dentpro_server::store::DataDir::new(&self.dir)
            .open_db()
            .expect("open server db")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A workstation: the core on its own data dir and key, as the desktop app runs it.
pub struct Station {
    pub dir: PathBuf,
    pub ws: Mutex<Workstation>,
    client: Option<SyncClient>,
}

impl Station {
    pub fn open(dir: &Path) -> Self {
        Self::open_with_clock(dir, std::sync::Arc::new(dentpro_core::clock::SystemClock))
    }

    /// A station over a workstation the test opened itself.
    pub fn from_workstation(dir: &Path, ws: Workstation) -> Self {
        Station {
            dir: dir.to_owned(),
            ws: Mutex::new(ws),
            client: None,
        }
    }

    /// A workstation whose clock is `clock` (a machine with a wrong clock, say).
    pub fn open_with_clock(dir: &Path, clock: std::sync::Arc<dyn dentpro_core::clock::Clock>) -> Self {
        let ws = Workstation::open(OpenOptions {
            key_store: KeyStorePreference::File,
            clock,
            ..OpenOptions::new(dir)
        })
        .expect("open workstation");
        Station {
            dir: dir.to_owned(),
            ws: Mutex::new(ws),
            client: None,
        }
    }

    pub fn enrol(&mut self, server: &TestServer, kind: DeviceKind) {
        client::enrol(&self.ws, &server.ticket(kind), kind.as_str()).expect("enrol");
    }

    pub fn sync(&mut self) -> dentpro_core::Result<SyncReport> {
        if self.client.is_none() {
            self.client = SyncClient::for_workstation(&self.ws)?;
        }
        self.client
            .as_mut()
            .expect("enrolled")
            .sync_once(&self.ws, |_| {})
    }

    /// A fresh client (new token, tree rebuilt from the database), as after an app restart.
    pub fn forget_client(&mut self) {
        self.client = None;
    }

    pub fn client(&mut self) -> &mut SyncClient {
        if self.client.is_none() {
            self.client = SyncClient::for_workstation(&self.ws).expect("client");
        }
        self.client.as_mut().expect("enrolled")
    }

    /// Asks the server for an inclusion proof of this device's record `seq` and checks it.
    pub fn prove_inclusion(&mut self, seq: u64) -> dentpro_core::Result<u64> {
        if self.client.is_none() {
            self.client = SyncClient::for_workstation(&self.ws)?;
        }
        self.client
            .as_mut()
            .expect("enrolled")
            .prove_inclusion(&self.ws, seq)
    }

    pub fn push_records(
        &mut self,
        records: &[dentpro_core::record::Record],
    ) -> dentpro_core::Result<dentpro_sync::protocol::PushReceipt> {
        self.client().push_records(records)
    }

    /// Writes `event` into this desk's chain as `actor`, bypassing the workstation's own
    /// permission checks (as a tampered or outdated workstation could), then reopens the
    /// workstation on the longer chain.
    pub fn forge(&mut self, actor: dentpro_core::ledger::Actor, event: dentpro_core::kind::Event) {
        self.forge_with(|ledger| {
            dentpro_core::test_support::forge(ledger, &actor, vec![event]).expect("forged append");
        });
    }

    /// Runs `write` on a ledger of this desk's chain, outside the workstation's checks, then
    /// reopens the workstation on the longer chain.
    pub fn forge_with(&mut self, write: impl FnOnce(&mut dentpro_core::ledger::Ledger)) {
        use dentpro_core::device::DeviceIdentity;
        self.client = None;
        let placeholder = Workstation::open(OpenOptions {
            key_store: KeyStorePreference::File,
            ..OpenOptions::new(self.dir.join("placeholder"))
        })
        .expect("placeholder workstation");
        drop(std::mem::replace(&mut *self.ws.lock().unwrap(), placeholder));
        {
            let identity = DeviceIdentity::load_or_create(&self.dir, KeyStorePreference::File).unwrap();
            let conn = dentpro_core::store::open_bound(&self.dir, &identity).unwrap();
            let clock = std::sync::Arc::new(dentpro_core::clock::SystemClock);
            let mut ledger =
                dentpro_core::ledger::Ledger::new(conn, identity, clock, Some(&self.dir)).unwrap();
            write(&mut ledger);
        }
        *self.ws.lock().unwrap() = Workstation::open(OpenOptions {
            key_store: KeyStorePreference::File,
            ..OpenOptions::new(&self.dir)
        })
        .expect("reopen workstation");
    }

    pub fn ws(&self) -> std::sync::MutexGuard<'_, Workstation> {
        self.ws.lock().unwrap()
    }

    pub fn device_id(&self) -> dentpro_core::ids::DeviceId {
        self.ws().device_id().clone()
    }

    pub fn login(&self, username: &str) -> dentpro_core::ids::SessionId {
        self.ws().login(username, PASSWORD).expect("login").session_id
    }

    /// This desk's database, read through its workstation (which owns the file while open).
    /// Holds the workstation: don't call `ws()` while it lives.
    pub fn db(&self) -> StationDb<'_> {
        StationDb(self.ws())
    }
}

pub struct StationDb<'a>(std::sync::MutexGuard<'a, Workstation>);

impl std::ops::Deref for StationDb<'_> {
    type Target = rusqlite::Connection;

    fn deref(&self) -> &rusqlite::Connection {
        self.0.ledger().conn()
    }
}

pub fn patient(name: &str, phone: &str) -> PatientInput {
    PatientInput {
        name_en: name.into(),
        name_ar: String::new(),
        date_of_birth: "1990-05-01".into(),
        sex: Sex::Female,
        phone: phone.into(),
        national_id: None,
        address: "Amman".into(),
        emergency_contact: "Sam 0790000000".into(),
        allergies: String::new(),
        chronic_diseases: String::new(),
        current_medications: String::new(),
        medical_history: String::new(),
    }
}

/// A branch: server, a reception desk (where the branch was set up, with a receptionist and a
/// doctor account) and a doctor's machine enrolled fresh; both synced once.
pub struct Branch {
    pub root: tempfile::TempDir,
    pub server: TestServer,
    pub reception: Station,
    pub doctor: Station,
}

impl Branch {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let server = TestServer::start(&root.path().join("server"));
        Self::on(root, server)
    }

    /// The same branch on a server the caller started (with its own `serve` options) in `root`.
    pub fn on(root: tempfile::TempDir, server: TestServer) -> Self {
        let mut reception = Station::open(&root.path().join("reception"));
        {
            let mut ws = reception.ws();
            let admin = ws.setup_branch(&setup_input()).expect("setup");
            ws.accounts()
                .create_user(&admin.session_id, &new_user("rita", Role::Receptionist))
                .unwrap();
            ws.accounts()
                .create_user(&admin.session_id, &new_user("dana", Role::Doctor))
                .unwrap();
            ws.accounts()
                .create_user(&admin.session_id, &new_user("carl", Role::Cashier))
                .unwrap();
            ws.logout(&admin.session_id).unwrap();
        }
        reception.enrol(&server, DeviceKind::Reception);
        reception.sync().expect("first sync of reception");
        let mut doctor = Station::open(&root.path().join("doctor"));
        doctor.enrol(&server, DeviceKind::Doctor);
        doctor.sync().expect("first sync of doctor");
        Branch {
            root,
            server,
            reception,
            doctor,
        }
    }
}
