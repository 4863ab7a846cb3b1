//! The real DentPro window joins a branch: a real `dentpro-server` on loopback (HTTPS, pinned
//! certificate), a reception desk set up with the core directly (as `crates/server/tests` do),
//! and the app on a fresh data dir joining through the first-run screen with an enrolment
//! ticket, then signing in with an account that came from the server.
//!
//! Needs `target/debug/dentpro-server` (`cargo build -p dentpro-server`). Run like the other
//! WebDriver tests, inside Xvfb + D-Bus (see scripts/webdriver-tests.sh):
//! `xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test webdriver_sync`.
//! Screenshots: test-artifacts/webdriver/<test>/<nn>-<step>.png.

mod support;

use dentpro_core::accounts::{Language, NewUser, SetupInput};
use dentpro_core::device::KeyStorePreference;
use dentpro_core::patients::{PatientInput, Sex};
use dentpro_core::permissions::Role;
use dentpro_core::workstation::{OpenOptions, Workstation};
use dentpro_sync::client::{self, EnrolmentTicket, SyncClient};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Ctx, Result, err, run_with, tid};

const PASSWORD: &str = "correct-horse-1";
const BRANCH: &str = "Jabal Amman Dental";
const DOCTOR_USER: &str = "dana";
const DOCTOR_NAME: &str = "Dr. Dana Saleh";

/// `target/debug/dentpro-server`, beside the app binary this test runs.
fn server_binary() -> PathBuf {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_dentpro"));
    let bin = app.with_file_name("dentpro-server");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p dentpro-server` first",
        bin.display()
    );
    bin
}

/// The branch server: `init`, then `serve` on a free loopback port; killed when dropped.
struct Server {
    dir: PathBuf,
    address: String,
    child: Child,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let bin = server_binary();
        let status = Command::new(&bin)
            .arg("--data-dir")
            .arg(dir)
            .args(["init", "--branch-name", BRANCH])
            .stdout(Stdio::null())
            .status()
            .expect("run dentpro-server init");
        assert!(status.success(), "dentpro-server init failed");
        let mut child = Command::new(&bin)
            .arg("--data-dir")
            .arg(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run dentpro-server serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read the listening line");
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected dentpro-server output: {line:?}"))
            .to_owned();
        Server {
            dir: dir.to_owned(),
            address,
            child,
        }
    }

    /// A one-time enrolment ticket (`dentpro-enrol:<code>@<host:port>#<fingerprint>`).
    fn ticket(&self, kind: &str) -> String {
        let out = Command::new(server_binary())
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["enrol-code", "--kind", kind, "--address", &self.address])
            .output()
            .expect("run dentpro-server enrol-code");
        assert!(
            out.status.success(),
            "enrol-code: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ticket = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
        ticket.parse::<EnrolmentTicket>().expect("a well-formed ticket");
        ticket
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reception desk: the core on its own data dir and key file, as the app runs it.
struct Reception {
    ws: Mutex<Workstation>,
    client: Mutex<Option<SyncClient>>,
}

impl Reception {
    /// Sets up the branch here (admin, receptionist, doctor), enrols with the server, syncs.
    fn set_up(dir: &Path, server: &Server) -> Self {
        let ws = Workstation::open(OpenOptions {
            key_store: KeyStorePreference::File,
            ..OpenOptions::new(dir)
        })
        .expect("open the reception workstation");
        let desk = Reception {
            ws: Mutex::new(ws),
            client: Mutex::new(None),
        };
        {
            let mut ws = desk.ws.lock().unwrap();
            let admin = ws
                .setup_branch(&SetupInput {
                    branch_name: BRANCH.into(),
                    branch_code: "JAD01".into(),
                    admin_username: "admin".into(),
                    admin_display_name: "Adel Admin".into(),
                    admin_password: PASSWORD.into(),
                    language: Language::En,
                })
                .expect("setup");
            for (username, display_name, role) in [
                ("rita", "Rita Haddad", Role::Receptionist),
                (DOCTOR_USER, DOCTOR_NAME, Role::Doctor),
            ] {
                ws.accounts()
                    .create_user(
                        &admin.session_id,
                        &NewUser {
                            username: username.into(),
                            display_name: display_name.into(),
                            role,
                            password: PASSWORD.into(),
                            language: Language::En,
                        },
                    )
                    .expect("create user");
            }
            ws.logout(&admin.session_id).unwrap();
        }
        let ticket: EnrolmentTicket = server.ticket("reception").parse().unwrap();
        client::enrol(&desk.ws, &ticket, "Front desk").expect("enrol the reception desk");
        desk
    }

    /// Registers a patient as the receptionist; returns the file number.
    fn register(&self, name_en: &str, name_ar: &str, phone: &str) -> String {
        let mut ws = self.ws.lock().unwrap();
        let rita = ws.login("rita", PASSWORD).expect("login rita").session_id;
        let p = ws
            .patients()
            .register(
                &rita,
                &PatientInput {
                    name_en: name_en.into(),
                    name_ar: name_ar.into(),
                    date_of_birth: "1990-05-01".into(),
                    sex: Sex::Female,
                    phone: phone.into(),
                    national_id: None,
                    address: "Amman".into(),
                    emergency_contact: "Sami 0790000000".into(),
                    allergies: "Penicillin".into(),
                    chronic_diseases: String::new(),
                    current_medications: String::new(),
                    medical_history: String::new(),
                },
            )
            .expect("register patient");
        ws.logout(&rita).unwrap();
        p.file_number
    }

    /// One sync (blocking HTTP: call it off the async runtime).
    fn sync(&self) {
        let mut client = self.client.lock().unwrap();
        if client.is_none() {
            *client = SyncClient::for_workstation(&self.ws).expect("client");
        }
        let report = client
            .as_mut()
            .expect("enrolled")
            .sync_once(&self.ws, |_| {})
            .expect("reception sync");
        assert_eq!(report.pending, 0, "{report:?}");
    }
}

impl Reception {
    /// The reason the server gives for refusing this desk's next sync (it must refuse).
    fn sync_refusal(&self) -> String {
        let mut client = self.client.lock().unwrap();
        let refused = client
            .as_mut()
            .expect("the desk has synced before")
            .sync_once(&self.ws, |_| {})
            .expect_err("the server must refuse a revoked desk");
        refused.details.get("reason").cloned().unwrap_or(refused.message)
    }
}

impl Ctx {
    /// The search for `query` shows the file `file_number`, within `limit` (background sync).
    async fn wait_for_patient(&self, query: &str, file_number: &str, limit: Duration) -> Result<String> {
        let deadline = Instant::now() + limit;
        loop {
            let rows = self.search_patients(query).await?;
            if let Some(row) = rows.iter().find(|r| r.file_number == file_number) {
                return Ok(row.text.clone());
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "{file_number} never showed up in the search for {query:?}: {rows:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn sync_attr(&self, name: &str) -> Result<String> {
        Ok(self.attr("sync-status", name).await?.unwrap_or_default())
    }
}

#[test]
fn a_new_desk_joins_the_branch_and_finds_a_reception_patient() {
    if !support::display_available("a_new_desk_joins_the_branch_and_finds_a_reception_patient") {
        return;
    }
    let root = tempfile::Builder::new()
        .prefix("dentpro-wd-branch-")
        .tempdir()
        .expect("temp dir");
    let server = Server::start(&root.path().join("server"));
    let reception = Arc::new(Reception::set_up(&root.path().join("reception"), &server));
    let sara = reception.register("Sara Haddad", "سارة حداد", "0791234567");
    reception.sync();
    let ticket = server.ticket("doctor");
    // The window's task gets its own handle: the last one (holding a blocking HTTP client) must
    // not be dropped on the async runtime.
    let desk_handle = Arc::clone(&reception);
    let server_pid = server.child.id();

    run_with(
        "a_new_desk_joins_the_branch_and_finds_a_reception_patient",
        &[],
        &[("DENTPRO_SYNC_INTERVAL_MS", "1000")],
        move |t| async move {
            t.wait_tid("setup-form").await?;
            assert!(
                !t.exists("sync-status").await?,
                "a desk that has not joined shows no sync status"
            );
            t.shot("first-start").await?;

            // Join through the first-run screen: a bad ticket is refused, the real one works.
            t.click("setup-mode-join").await?;
            t.wait_tid("join-form").await?;
            t.type_into("join-ticket", "not a ticket").await?;
            t.type_into("join-label", "Chair 2").await?;
            t.click("join-submit").await?;
            let bad = t.text("join-error-ticket").await?;
            assert!(bad.contains("not an enrolment ticket"), "{bad}");
            t.set_value("join-ticket", &ticket).await?;
            t.shot("join-filled").await?;
            t.click("join-submit").await?;

            // Enrolled: the waiting screen until the first sync brings the branch and its staff,
            // then the sign-in screen with the sync status online.
            t.wait_css(&format!("{}, {}", tid("join-waiting"), tid("login-form")))
                .await?;
            t.wait_tid("login-form").await?;
            t.wait_js(
                "the sync status to show online",
                "document.querySelector('[data-testid=sync-status]')?.dataset.online === 'true'",
                vec![],
            )
            .await?;
            assert!(t.text("login-branch").await?.contains(BRANCH));
            assert_eq!(t.text("sync-state").await?, "Online");
            let last = t.text("sync-last").await?;
            assert!(last.starts_with("Last sync "), "{last}");
            assert_eq!(t.sync_attr("data-pending").await?, "0");
            assert!(!t.exists("sync-progress").await?, "caught up: no progress bar");
            t.shot("login-synced").await?;

            // The doctor's account came from the server.
            t.sign_in(DOCTOR_USER, PASSWORD, DOCTOR_NAME, "doctor").await?;
            assert_eq!(t.sync_attr("data-online").await?, "true");
            let text = t.wait_for_patient("Sara", &sara, Duration::from_secs(5)).await?;
            assert!(text.contains("Sara Haddad"), "{text}");
            t.shot("reception-patient-found").await?;

            // A patient registered at reception now arrives through the background sync.
            let desk = Arc::clone(&desk_handle);
            let mona = tokio::task::spawn_blocking(move || {
                let n = desk.register("Mona Khalil", "منى خليل", "0797777777");
                desk.sync();
                n
            })
            .await?;
            let text = t.wait_for_patient("Mona", &mona, Duration::from_secs(15)).await?;
            assert!(text.contains("Mona Khalil"), "{text}");
            t.shot("second-patient-arrived").await?;

            // The doctor's own opening of the file is pushed back: pending returns to 0.
            t.click_css(&format!("{} td", tid("patient-row"))).await?;
            t.wait_tid("patient-file").await?;
            t.wait_js(
                "the doctor's records to reach the server",
                "(() => { const s = document.querySelector('[data-testid=sync-status]');
                          return !!s && s.dataset.online === 'true' && s.dataset.pending === '0'; })()",
                vec![],
            )
            .await?;
            let ok = t
                .invoke("sync_status", json!({}))
                .await?
                .map_err(|e| err(e.to_string()))?;
            assert_eq!(ok["enrolled"], json!(true));
            assert_eq!(ok["device_kind"], json!("doctor"));
            assert_eq!(ok["refused"], json!(0));
            assert!(ok["log_size"].as_u64().unwrap_or(0) > 0, "{ok}");
            assert_eq!(ok["applied_to"], ok["log_size"]);

            // The doctor has no Devices screen; the branch admin, signed in at this desk, does:
            // both workstations, live from the server, this one first and marked.
            assert!(!t.nav_items().await?.contains(&"devices".to_owned()));
            t.click("logout").await?;
            t.sign_in("admin", PASSWORD, "Adel Admin", "admin").await?;
            t.click("nav-devices").await?;
            t.wait_js(
                "the live list of both workstations",
                "(() => { const table = document.querySelector('[data-testid=devices-table]');
                          return !!table && table.dataset.live === 'true'
                              && table.querySelectorAll('[data-testid=device-row]').length === 2; })()",
                vec![],
            )
            .await?;
            let rows = t
                .js(
                    "return [...document.querySelectorAll('[data-testid=device-row]')].map(r => [
                        r.querySelector('[data-testid=device-label]').textContent, r.dataset.this,
                        r.dataset.status, !!r.querySelector('[data-testid=device-revoke]')]);",
                    vec![],
                )
                .await?;
            assert_eq!(
                rows,
                json!([
                    ["Chair 2", "true", "active", false],
                    ["Front desk", "false", "active", true]
                ])
            );
            t.shot("devices").await?;

            // The admin revokes the front desk (confirm step with a reason). Once the record
            // reaches the server, the front desk's syncs are refused.
            let front_desk = "[data-testid=device-row][data-this=false]";
            t.click_css(&format!("{front_desk} [data-testid=device-revoke]"))
                .await?;
            t.wait_tid("device-revoke-warning").await?;
            t.type_into("device-revoke-reason", "Laptop stolen").await?;
            t.click("device-revoke-confirm").await?;
            t.wait_js(
                "the front desk shown revoked",
                &format!("document.querySelector('{front_desk}')?.dataset.status === 'revoked'"),
                vec![],
            )
            .await?;
            t.wait_js(
                "the revocation to reach the server",
                "document.querySelector('[data-testid=sync-status]')?.dataset.pending === '0'",
                vec![],
            )
            .await?;
            let desk = Arc::clone(&desk_handle);
            let refused = tokio::task::spawn_blocking(move || desk.sync_refusal()).await?;
            assert_eq!(refused, "device_revoked");
            t.shot("device-revoked").await?;

            // The same pill in Arabic (right to left).
            t.switch_language("ar").await?;
            t.wait_js("Arabic", "document.documentElement.lang === 'ar'", vec![])
                .await?;
            assert_eq!(t.text("sync-state").await?, "متصل");
            t.shot("arabic-header").await?;

            // The server goes away: the pill turns offline (red dot, reason in the tooltip) and
            // the desk keeps working.
            let killed = Command::new("kill").arg(server_pid.to_string()).status()?;
            assert!(killed.success());
            t.wait_js(
                "the sync status to show offline",
                "document.querySelector('[data-testid=sync-status]')?.dataset.online === 'false'",
                vec![],
            )
            .await?;
            assert_eq!(t.sync_attr("data-error-code").await?, "sync_unavailable");
            assert_eq!(t.text("sync-state").await?, "غير متصل");
            let tooltip = t.sync_attr("title").await?;
            assert!(tooltip.contains("تعذّر الوصول إلى خادم الفرع"), "{tooltip}");
            t.shot("offline").await?;
            Ok(())
        },
    );
    drop(reception);
    drop(server);
}
