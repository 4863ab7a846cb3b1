//! Harness for the WebDriver tests of the real DentPro window.
//!
//! Each test gets its own temp data dir, its own XDG dirs (so WebKit's local storage, e.g. the
//! remembered UI language, never leaks between tests) and its own `tauri-driver` on free ports.
//! `tauri-driver` is stopped with SIGTERM (it then stops WebKitWebDriver; SIGKILL would orphan
//! it and hang the run), even when the test fails. Screenshots go to
//! `test-artifacts/webdriver/<test>/<nn>-<step>.png`.

#![allow(dead_code)] // not every test binary uses every helper

pub mod app;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::fs::{self, File};
use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T = ()> = std::result::Result<T, Error>;

/// How long a wait for the UI lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

pub fn err(msg: impl Into<String>) -> Error {
    msg.into().into()
}

/// The root of the repository (the package directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A UI catalog entry, e.g. `catalog("ar", "reasons.date_in_future")`.
pub fn catalog(lang: &str, key: &str) -> String {
    // The shared texts, then each area's own (ui/src/areas/<area>/i18n/<lang>.json): keys keep
    // their full path, and no key is in two files (the UI's catalog test checks).
    let ui = repo_root().join("ui/src");
    let mut files = vec![ui.join(format!("i18n/{lang}.json"))];
    let mut areas: Vec<PathBuf> = fs::read_dir(ui.join("areas"))
        .expect("ui/src/areas")
        .filter_map(|e| Some(e.ok()?.path().join(format!("i18n/{lang}.json"))))
        .filter(|p| p.is_file())
        .collect();
    areas.sort();
    files.extend(areas);
    for path in &files {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let json: Value = serde_json::from_str(&text).expect("catalog is JSON");
        if let Some(v) = key.split('.').try_fold(&json, |v, part| v.get(part)) {
            return v
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {} is not text", path.display()))
                .to_owned();
        }
    }
    panic!("no key {key} in the {lang} catalogs")
}

/// CSS selector of a `data-testid`.
pub fn tid(id: &str) -> String {
    format!(r#"[data-testid="{id}"]"#)
}

// ---------------------------------------------------------------------------------------------
// Processes

fn find_tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tauri-driver"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(c) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(c).join("bin/tauri-driver"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(h).join(".cargo/bin/tauri-driver"));
    }
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("tauri-driver not found: `cargo install tauri-driver --locked`, or set TAURI_DRIVER")
    })
}

fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

/// `kill -<signal> <pid>` without unsafe code (the workspace forbids it).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn pid_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state is 'Z'.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Processes whose command line mentions `needle` (our unique temp dir): the app we started.
fn pids_mentioning(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// A running `tauri-driver`; dropping it stops it with SIGTERM (and anything of ours left over).
pub struct Driver {
    child: Child,
    pub port: u16,
    /// A string only our processes carry on their command line (the test's temp dir).
    marker: String,
}

impl Driver {
    fn start(xdg_root: &Path, log: &Path, marker: String) -> Result<Self> {
        let (port, native_port) = free_ports();
        let log_file = File::create(log)?;
        let mut cmd = Command::new(find_tauri_driver());
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .env("NO_AT_BRIDGE", "1")
            .env("XDG_DATA_HOME", xdg_root.join("data"))
            .env("XDG_CACHE_HOME", xdg_root.join("cache"))
            .env("XDG_CONFIG_HOME", xdg_root.join("config"))
            .env("RUST_LOG", "info,refinery_core=warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        let child = cmd
            .spawn()
            .map_err(|e| err(format!("cannot start tauri-driver: {e}")))?;
        let mut driver = Driver { child, port, marker };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // tauri-driver starts WebKitWebDriver on the native port and forwards a new session
            // to it: both must listen (a cold first start of WebKitWebDriver is slower than
            // tauri-driver's, and the first test of a run then failed to open a session).
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && TcpStream::connect(("127.0.0.1", native_port)).is_ok()
            {
                return Ok(driver);
            }
            if let Some(status) = driver.child.try_wait()? {
                return Err(err(format!(
                    "tauri-driver exited early ({status}); see {}",
                    log.display()
                )));
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "tauri-driver did not listen on {port}; see {}",
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    eprintln!("tauri-driver ignored SIGTERM for 10 s; killing it");
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        // The app normally ends with its WebDriver session; should one outlive it, end it too.
        for pid in pids_mentioning(&self.marker) {
            signal(pid, "TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<u32> = pids_mentioning(&self.marker)
                .into_iter()
                .filter(|p| pid_alive(*p))
                .collect();
            if left.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                for pid in left {
                    signal(pid, "KILL");
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The test runner

/// Everything a test body works with: the WebDriver client on the app's window and its paths.
pub struct Ctx {
    pub c: Client,
    pub name: String,
    pub data_dir: PathBuf,
    pub shots: PathBuf,
    step: AtomicU32,
}

/// Whether the window can be shown at all. Without a display a test fails with a clear message,
/// unless DENTPRO_SKIP_WEBDRIVER=1 asks to skip (then it returns false).
pub fn display_available(name: &str) -> bool {
    let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if has_display {
        return true;
    }
    if std::env::var("DENTPRO_SKIP_WEBDRIVER").as_deref() == Ok("1") {
        eprintln!("SKIPPED {name}: no DISPLAY and DENTPRO_SKIP_WEBDRIVER=1");
        return false;
    }
    panic!(
        "{name}: no DISPLAY, so the DentPro window cannot be shown. Run the WebDriver tests with \
         `bash scripts/webdriver-tests.sh` (Xvfb + D-Bus), or set DENTPRO_SKIP_WEBDRIVER=1 to skip them."
    );
}

/// Starts the app with a fresh data dir (extra `args` after the standard ones), runs `body`
/// against its window, and always cleans up. A failure leaves `failure.png` and `failure.html`.
pub fn run<F, Fut>(name: &str, extra_args: &[&str], body: F)
where
    F: FnOnce(Ctx) -> Fut + Send + 'static,
    Fut: Future<Output = Result> + Send + 'static,
{
    run_with(name, extra_args, &[], body)
}

/// `run`, with the app started through a wrapper that sets `app_env` (e.g. an LD_PRELOAD).
pub fn run_with<F, Fut>(name: &str, extra_args: &[&str], app_env: &[(&str, &str)], body: F)
where
    F: FnOnce(Ctx) -> Fut + Send + 'static,
    Fut: Future<Output = Result> + Send + 'static,
{
    if !display_available(name) {
        return;
    }
    let started = Instant::now();
    let shots = repo_root().join("test-artifacts/webdriver").join(name);
    let _ = fs::remove_dir_all(&shots);
    fs::create_dir_all(&shots).expect("create the artifacts dir");
    let tmp = tempfile::Builder::new()
        .prefix("dentpro-wd-")
        .tempdir()
        .expect("temp dir");
    let data_dir = tmp.path().join("data");
    let xdg = tmp.path().join("xdg");
    for d in ["data", "cache", "config"] {
        fs::create_dir_all(xdg.join(d)).expect("xdg dir");
    }
    let marker = tmp.path().to_string_lossy().into_owned();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let driver = Driver::start(&xdg, &shots.join("tauri-driver.log"), marker)
        .unwrap_or_else(|e| panic!("{name}: {e}"));

    let mut args: Vec<String> = vec![
        "--data-dir".into(),
        data_dir.to_string_lossy().into_owned(),
        "--key-store".into(),
        "file".into(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    let mut application = PathBuf::from(env!("CARGO_BIN_EXE_dentpro"));
    if !app_env.is_empty() {
        let wrapper = tmp.path().join("dentpro-wrapper.sh");
        let mut script = String::from("#!/bin/sh\n");
        for (k, v) in app_env {
            script.push_str(&format!("export {k}='{v}'\n"));
        }
        script.push_str(&format!("exec '{}' \"$@\"\n", application.display()));
        fs::write(&wrapper, script).expect("write the wrapper");
        let status = Command::new("chmod")
            .arg("0755")
            .arg(&wrapper)
            .status()
            .expect("chmod");
        assert!(status.success());
        application = wrapper;
    }
    let caps = json!({
        "tauri:options": { "application": application, "args": args }
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let url = format!("http://127.0.0.1:{}", driver.port);

    let outcome = rt.block_on(async {
        let client = match tokio::time::timeout(
            Duration::from_secs(60),
            ClientBuilder::native().capabilities(caps).connect(&url),
        )
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(format!("cannot open a WebDriver session: {e}")),
            Err(_) => return Err("opening the WebDriver session timed out".to_owned()),
        };
        let ctx = Ctx {
            c: client.clone(),
            name: name.to_owned(),
            data_dir,
            shots: shots.clone(),
            step: AtomicU32::new(0),
        };
        let joined = tokio::spawn(body(ctx)).await;
        let failure = match joined {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(Err(e.to_string())),
            Err(j) if j.is_panic() => Some(Ok(j.into_panic())),
            Err(j) => Some(Err(format!("test task ended: {j}"))),
        };
        if failure.is_some() {
            // Best effort: what the window showed when the test failed.
            let _ = tokio::time::timeout(Duration::from_secs(10), async {
                if let Ok(png) = client.screenshot().await {
                    let _ = fs::write(shots.join("failure.png"), png);
                }
                if let Ok(html) = client.source().await {
                    let _ = fs::write(shots.join("failure.html"), html);
                }
            })
            .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(15), client.close()).await;
        match failure {
            None => Ok(None),
            Some(Ok(panic)) => Ok(Some(panic)),
            Some(Err(e)) => Err(e),
        }
    });
    drop(driver);
    drop(rt);
    eprintln!(
        "{name}: {:.1} s, artifacts in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
    match outcome {
        Ok(None) => {}
        Ok(Some(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("{name} failed: {e} (artifacts in {})", shots.display()),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers on the window

impl Ctx {
    /// Saves a screenshot as `<nn>-<step>.png`, after letting the window paint its last update.
    pub async fn shot(&self, step: &str) -> Result {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let png = self.c.screenshot().await?;
        fs::write(self.shots.join(format!("{n:02}-{step}.png")), png)?;
        Ok(())
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.c.execute(script, args).await?)
    }

    /// Polls `expr` (a JS expression; `args` are `arguments[..]`) until it is truthy; returns it.
    pub async fn wait_js(&self, what: &str, expr: &str, args: Vec<Value>) -> Result<Value> {
        self.wait_js_args_for(what, WAIT, expr, args).await
    }

    /// `wait_js` with its own time limit and no arguments.
    pub async fn wait_js_for(&self, what: &str, limit: Duration, expr: &str) -> Result<Value> {
        self.wait_js_args_for(what, limit, expr, vec![]).await
    }

    async fn wait_js_args_for(
        &self,
        what: &str,
        limit: Duration,
        expr: &str,
        args: Vec<Value>,
    ) -> Result<Value> {
        let script = format!("return ({expr});");
        let deadline = Instant::now() + limit;
        loop {
            let v = self.c.execute(&script, args.clone()).await?;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(err(format!("timed out waiting for: {what} (last value {v})")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_css(&self, css: &str) -> Result<Element> {
        self.c
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| err(format!("no element {css}: {e}")))
    }

    pub async fn wait_tid(&self, id: &str) -> Result<Element> {
        self.wait_css(&tid(id)).await
    }

    pub async fn wait_gone(&self, id: &str) -> Result {
        self.wait_js(
            &format!("{id} to disappear"),
            "!document.querySelector(arguments[0])",
            vec![json!(tid(id))],
        )
        .await
        .map(|_| ())
    }

    pub async fn exists(&self, id: &str) -> Result<bool> {
        Ok(!self.c.find_all(Locator::Css(&tid(id))).await?.is_empty())
    }

    pub async fn click(&self, id: &str) -> Result {
        self.click_css(&tid(id)).await
    }

    /// Switches the window's language with the header's switch and waits until the choice is
    /// saved: the switch is disabled while the session's language is being written, so a second
    /// click in that time would be ignored (as it is for a person).
    pub async fn switch_language(&self, lang: &str) -> Result {
        self.click(&format!("lang-{lang}")).await?;
        self.wait_js(
            &format!("the language {lang}, saved"),
            "document.documentElement.lang === arguments[0] \
             && document.querySelector(`[data-testid=lang-${arguments[0]}]:not([disabled])[aria-pressed=true]`)",
            vec![json!(lang)],
        )
        .await
        .map(drop)
    }

    pub async fn click_css(&self, css: &str) -> Result {
        self.wait_css(css)
            .await?
            .click()
            .await
            .map_err(|e| err(format!("click {css}: {e:?}")))
    }

    /// Types `text` into an (empty) input with real key events.
    pub async fn type_into(&self, id: &str, text: &str) -> Result {
        let el = self.wait_tid(id).await?;
        if text.is_empty() {
            return Ok(()); // WebKitWebDriver refuses an empty text
        }
        el.send_keys(text)
            .await
            .map_err(|e| err(format!("type into {id}: {e}")))?;
        Ok(())
    }

    /// Sets a control's value the way React sees user input (used for `<select>` and date inputs,
    /// whose native pickers WebDriver cannot drive uniformly).
    pub async fn set_value(&self, id: &str, value: &str) -> Result {
        self.wait_tid(id).await?;
        let script = r#"
            const el = document.querySelector(arguments[0]);
            const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype
                : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
            Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]);
            el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
            return el.value;
        "#;
        let v = self.js(script, vec![json!(tid(id)), json!(value)]).await?;
        if v != json!(value) {
            return Err(err(format!("{id} did not take the value {value:?} (has {v})")));
        }
        Ok(())
    }

    /// Replaces a text input's content: empties it, then types `text` with real key events.
    pub async fn replace_text(&self, id: &str, text: &str) -> Result {
        self.set_value(id, "").await?;
        self.type_into(id, text).await
    }

    pub async fn text(&self, id: &str) -> Result<String> {
        Ok(self.wait_tid(id).await?.text().await?)
    }

    pub async fn attr(&self, id: &str, name: &str) -> Result<Option<String>> {
        Ok(self.wait_tid(id).await?.attr(name).await?)
    }

    /// The visible text of the whole page.
    pub async fn body_text(&self) -> Result<String> {
        Ok(self
            .js("return document.body.innerText;", vec![])
            .await?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// Calls a Tauri command straight from the page, bypassing the UI. `Ok` is the command's
    /// value, `Err` the rejection (the core's error object).
    pub async fn invoke(&self, cmd: &str, args: Value) -> Result<std::result::Result<Value, Value>> {
        let script = r#"
            const [cmd, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(cmd, args).then(
                (value) => done({ ok: value === undefined ? null : value }),
                (error) => done({ err: error === undefined ? null : error }));
        "#;
        let v = self.c.execute_async(script, vec![json!(cmd), args]).await?;
        match (v.get("ok"), v.get("err")) {
            (Some(ok), None) => Ok(Ok(ok.clone())),
            (None, Some(e)) => Ok(Err(e.clone())),
            _ => Err(err(format!("unexpected answer from invoke({cmd}): {v}"))),
        }
    }

    /// `invoke` that must be refused with the error `code`; returns the error object.
    pub async fn invoke_refused(&self, cmd: &str, args: Value, code: &str) -> Result<Value> {
        match self.invoke(cmd, args).await? {
            Ok(v) => Err(err(format!(
                "{cmd} should have been refused with {code}, but returned {v}"
            ))),
            Err(e) if e.get("code") == Some(&json!(code)) => Ok(e),
            Err(e) => Err(err(format!("{cmd} was refused with {e}, expected code {code}"))),
        }
    }

    pub async fn html_attr(&self, name: &str) -> Result<String> {
        let v = self
            .js(
                "return document.documentElement.getAttribute(arguments[0]) || '';",
                vec![json!(name)],
            )
            .await?;
        Ok(v.as_str().unwrap_or("").to_owned())
    }
}
