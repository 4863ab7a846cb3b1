//! End-to-end tests of the real DentPro window through WebDriver (tauri-driver + WebKitWebDriver).
//!
//! Run them with `bash scripts/webdriver-tests.sh` (Xvfb + D-Bus + per-run XDG dirs). Without a
//! display each test fails with a message saying so; DENTPRO_SKIP_WEBDRIVER=1 skips them instead.
//! Screenshots of every step: test-artifacts/webdriver/<test>/<nn>-<step>.png.

mod support;

use serde_json::{Value, json};
use support::app::ADMIN_PASSWORD;
use support::app::{NewPatient, Staff};
use support::{Ctx, Result, catalog, err, run, run_with, tid};

const RECEPTIONIST: Staff = Staff {
    username: "rana",
    name: "Rana Khalil",
    role: "receptionist",
    password: "rana-pass-1",
};
const MANAGER: Staff = Staff {
    username: "omar",
    name: "Omar Nasser",
    role: "manager",
    password: "omar-pass-1",
};

const LAYLA: NewPatient = NewPatient {
    name_en: "Layla Haddad",
    name_ar: "ليلى حداد",
    date_of_birth: "1990-04-12",
    sex: "female",
    phone: "+962 79 555 1234",
    national_id: "9901234567",
    address: "12 Rainbow St, Amman",
    emergency_contact: "Sami Haddad +962 79 555 0000",
    allergies: "Penicillin",
    chronic_diseases: "Asthma",
    current_medications: "Salbutamol inhaler",
    medical_history: "Tonsillectomy in 2005",
};

/// Setup in `lang`, then the admin creates the receptionist and the manager through the UI.
async fn branch_with_staff(t: &Ctx, lang: &str, receptionist: &Staff, manager: &Staff) -> Result {
    t.wait_booted().await?;
    t.first_run_setup(lang, "Downtown Dental", "DT01", "Clinic Admin")
        .await?;
    t.create_user_via_ui(receptionist, lang).await?;
    t.create_user_via_ui(manager, lang).await?;
    Ok(())
}

#[test]
fn english_reception_flow() {
    run("english_reception_flow", &[], |t| async move {
        t.wait_booted().await?;
        t.shot("first-start").await?;
        t.first_run_setup("en", "Downtown Dental", "DT01", "Clinic Admin")
            .await?;
        assert_eq!(t.html_attr("lang").await?, "en");
        assert_eq!(t.html_attr("dir").await?, "ltr");
        let (left, _, width) = t.rect("nav.sidebar").await?;
        assert!(
            left < width / 2.0,
            "the sidebar should be on the left: left {left} of {width}"
        );
        t.shot("admin-signed-in").await?;

        t.create_user_via_ui(&RECEPTIONIST, "en").await?;
        t.create_user_via_ui(&MANAGER, "en").await?;
        t.shot("users-created").await?;
        t.sign_out().await?;

        // The receptionist: Patients, but no Users, Audit or Settings.
        t.sign_in(
            RECEPTIONIST.username,
            RECEPTIONIST.password,
            RECEPTIONIST.name,
            "receptionist",
        )
        .await?;
        let nav = t.nav_items().await?;
        assert!(nav.contains(&"patients".to_owned()), "nav {nav:?}");
        for hidden in ["users", "audit", "settings"] {
            assert!(
                !nav.contains(&hidden.to_owned()),
                "the receptionist's nav shows {hidden}: {nav:?}"
            );
        }
        t.shot("receptionist-signed-in").await?;

        let file_number = t.register_patient_via_ui(&LAYLA).await?;
        assert_eq!(t.text("patient-field-allergies").await?, LAYLA.allergies);
        t.shot("patient-registered").await?;

        // Search by a prefix of the English name, then by the Arabic name.
        let rows = t.search_patients("Lay").await?;
        t.shot("search-english-prefix").await?;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].file_number, file_number);
        assert!(
            rows[0].text.contains(LAYLA.name_en) && rows[0].text.contains(LAYLA.name_ar),
            "{rows:?}"
        );

        let rows = t.search_patients("ليلى").await?;
        t.shot("search-arabic").await?;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].file_number, file_number);

        // Open the file from the results.
        // (WebKitWebDriver cannot click a <tr> itself: click its first cell.)
        t.click_css(&format!("{} td", tid("patient-row"))).await?;
        t.wait_tid("patient-file").await?;
        assert_eq!(t.text("patient-file-number").await?.trim(), file_number);
        assert_eq!(t.text("patient-field-phone").await?, LAYLA.phone);
        t.wait_css(r#"[data-testid="history-row"][data-kind="patient.viewed"]"#)
            .await?;
        t.shot("patient-file").await?;
        t.sign_out().await?;

        // The manager reads the audit trail.
        t.sign_in(MANAGER.username, MANAGER.password, MANAGER.name, "manager")
            .await?;
        t.open_audit().await?;
        let rows = t.audit_rows().await?;
        let registered: Vec<_> = rows.iter().filter(|(k, _)| k == "patient.registered").collect();
        let viewed: Vec<_> = rows.iter().filter(|(k, _)| k == "patient.viewed").collect();
        assert_eq!(registered.len(), 1, "{rows:#?}");
        assert!(!viewed.is_empty(), "{rows:#?}");
        assert!(
            registered[0].1.contains(RECEPTIONIST.name),
            "the registration row names the receptionist: {registered:?}"
        );
        assert!(
            registered[0].1.contains(LAYLA.name_en),
            "the registration row names the patient: {registered:?}"
        );
        assert!(
            viewed.iter().any(|(_, text)| text.contains(RECEPTIONIST.name)),
            "{viewed:?}"
        );
        t.shot("audit-trail").await?;

        let (ok, text) = t.verify_chain().await?;
        t.shot("audit-verified").await?;
        assert_eq!(ok, "true", "verify result: {text}");
        Ok(())
    });
}

const RECEPTIONIST_AR: Staff = Staff {
    username: "huda",
    name: "هدى سالم",
    role: "receptionist",
    password: "huda-pass-1",
};
const MANAGER_AR: Staff = Staff {
    username: "karim",
    name: "كريم منصور",
    role: "manager",
    password: "karim-pass-1",
};

const AHMAD: NewPatient = NewPatient {
    name_en: "Ahmad Al-Khatib",
    name_ar: "أحمد الخطيب",
    date_of_birth: "1984-09-03",
    sex: "male",
    phone: "0791234567",
    national_id: "",
    address: "شارع الجامعة، عمّان",
    emergency_contact: "سلمى الخطيب 0797654321",
    allergies: "حساسية من البنسلين",
    chronic_diseases: "السكري",
    current_medications: "ميتفورمين",
    medical_history: "",
};

/// The page is laid out right to left: direction, language and where things really are.
async fn assert_rtl_layout(t: &Ctx) -> Result {
    assert_eq!(t.html_attr("dir").await?, "rtl");
    assert_eq!(t.html_attr("lang").await?, "ar");
    let (left, _right, width) = t.rect("nav.sidebar").await?;
    assert!(
        left >= width / 2.0,
        "the sidebar should be on the right: left {left} of {width}"
    );
    let (_, brand_right, _) = t.rect(".topbar .brand").await?;
    let (_, signout_right, _) = t.rect(&tid("logout")).await?;
    assert!(
        brand_right > signout_right,
        "the brand should be at the right end of the header ({brand_right} vs {signout_right})"
    );
    Ok(())
}

/// The first column header of `table_css` is to the right of the last one.
async fn assert_table_rtl(t: &Ctx, table_css: &str) -> Result {
    let v = t
        .js(
            "const th = [...document.querySelectorAll(arguments[0] + ' thead th')];
             const a = th[0].getBoundingClientRect(), b = th[th.length - 1].getBoundingClientRect();
             return [a.left, b.right, th.length];",
            vec![json!(table_css)],
        )
        .await?;
    let a: Vec<f64> = serde_json::from_value(v)?;
    assert!(
        a[2] >= 2.0 && a[0] >= a[1],
        "first column should be right of the last in {table_css}: {a:?}"
    );
    Ok(())
}

fn has_arabic(s: &str) -> bool {
    s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

#[test]
fn arabic_reception_flow() {
    run("arabic_reception_flow", &[], |t| async move {
        t.wait_booted().await?;
        t.first_run_setup("ar", "عيادة وسط البلد", "DT02", "مدير العيادة")
            .await?;
        assert_rtl_layout(&t).await?;
        assert_eq!(t.text("nav-patients").await?, catalog("ar", "nav.patients"));
        assert_eq!(t.text("logout").await?, catalog("ar", "header.signOut"));
        t.shot("admin-signed-in-ar").await?;

        t.create_user_via_ui(&RECEPTIONIST_AR, "ar").await?;
        t.create_user_via_ui(&MANAGER_AR, "ar").await?;
        assert_table_rtl(&t, &tid("users-table")).await?;
        t.shot("users-created-ar").await?;
        t.sign_out().await?;

        // The sign-in screen stays in Arabic.
        assert_eq!(t.html_attr("dir").await?, "rtl");
        assert_eq!(t.text("login-submit").await?, catalog("ar", "login.submit"));
        // The label's text starts at the right edge of its input and runs leftwards.
        let v = t
            .js(
                "const label = document.querySelector('label[for=login-username]');
                 const range = document.createRange(); range.selectNodeContents(label);
                 const text = range.getBoundingClientRect();
                 const input = document.querySelector('[data-testid=login-username]').getBoundingClientRect();
                 return [text.left, text.right, input.left, input.right];",
                vec![],
            )
            .await?;
        let r: Vec<f64> = serde_json::from_value(v)?;
        assert!(
            (r[1] - r[3]).abs() < 4.0 && r[0] > r[2] + 20.0,
            "the label text should hug the input's right edge: text {}..{}, input {}..{}",
            r[0],
            r[1],
            r[2],
            r[3]
        );
        t.shot("login-ar").await?;

        t.sign_in(
            RECEPTIONIST_AR.username,
            RECEPTIONIST_AR.password,
            RECEPTIONIST_AR.name,
            "receptionist",
        )
        .await?;
        assert_rtl_layout(&t).await?;
        let nav = t.nav_items().await?;
        assert!(
            nav.contains(&"patients".to_owned())
                && !nav.contains(&"users".to_owned())
                && !nav.contains(&"audit".to_owned()),
            "{nav:?}"
        );
        let body = t.body_text().await?;
        assert!(
            body.contains(&catalog("ar", "nav.patients"))
                && body.contains(&catalog("ar", "roles.receptionist")),
            "{body}"
        );

        let file_number = t.register_patient_via_ui(&AHMAD).await?;
        let heading = t.text("patient-file").await?;
        assert!(
            heading.contains(AHMAD.name_ar) && has_arabic(&heading),
            "{heading}"
        );
        t.shot("patient-registered-ar").await?;

        // Typed without the hamza, the Arabic name still finds him; so does the family name.
        let rows = t.search_patients("احمد").await?;
        assert_table_rtl(&t, &tid("patient-results")).await?;
        t.shot("search-arabic-no-hamza").await?;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].file_number, file_number);
        assert!(rows[0].text.contains(AHMAD.name_ar), "{rows:?}");
        let rows = t.search_patients("الخطيب").await?;
        assert_eq!(
            rows.iter().map(|r| r.file_number.as_str()).collect::<Vec<_>>(),
            [file_number.as_str()]
        );

        t.click_css(&format!("{} td", tid("patient-row"))).await?;
        t.wait_tid("patient-file").await?;
        assert_eq!(t.text("patient-file-number").await?.trim(), file_number);
        assert_eq!(t.text("patient-field-allergies").await?, AHMAD.allergies);
        t.shot("patient-file-ar").await?;
        t.sign_out().await?;

        t.sign_in(
            MANAGER_AR.username,
            MANAGER_AR.password,
            MANAGER_AR.name,
            "manager",
        )
        .await?;
        t.open_audit().await?;
        assert_table_rtl(&t, &tid("audit-table")).await?;
        let rows = t.audit_rows().await?;
        let registered: Vec<_> = rows.iter().filter(|(k, _)| k == "patient.registered").collect();
        assert_eq!(registered.len(), 1, "{rows:#?}");
        assert!(registered[0].1.contains(RECEPTIONIST_AR.name), "{registered:?}");
        assert!(
            registered[0].1.contains(&catalog("ar", "roles.receptionist")),
            "{registered:?}"
        );
        let viewed: Vec<_> = rows.iter().filter(|(k, _)| k == "patient.viewed").collect();
        assert!(
            !viewed.is_empty() && viewed.iter().all(|(_, text)| text.contains(RECEPTIONIST_AR.name)),
            "{viewed:?}"
        );
        t.shot("audit-trail-ar").await?;
        let (ok, text) = t.verify_chain().await?;
        assert_eq!(ok, "true", "{text}");
        assert!(has_arabic(&text), "the verify result is in Arabic: {text}");
        t.shot("audit-verified-ar").await?;
        Ok(())
    });
}

/// The valid patient the validation test starts from (and must never find registered).
const ZAID: NewPatient = NewPatient {
    name_en: "Zaid Qasem",
    name_ar: "زيد قاسم",
    date_of_birth: "2001-02-28",
    sex: "male",
    phone: "0785550101",
    national_id: "",
    address: "",
    emergency_contact: "",
    allergies: "None known",
    chronic_diseases: "",
    current_medications: "",
    medical_history: "",
};

/// Submits the patient form and waits for the field error `field`; returns its text.
async fn submit_expecting(t: &Ctx, field: &str) -> Result<String> {
    t.click("pf-submit").await?;
    let id = format!("pf-error-{field}");
    t.wait_tid(&id).await?;
    let others = t
        .js(
            "return [...document.querySelectorAll('[data-testid^=pf-error-]')].map(e => e.dataset.testid);",
            vec![],
        )
        .await?;
    assert_eq!(others, json!([id]), "exactly one field error is shown");
    assert!(t.exists("patient-form").await?, "the form stays open");
    t.text(&id).await
}

#[test]
fn validation_errors_change_nothing() {
    run("validation_errors_change_nothing", &[], |t| async move {
        branch_with_staff(&t, "en", &RECEPTIONIST, &MANAGER).await?;
        t.sign_out().await?;
        t.sign_in(
            RECEPTIONIST.username,
            RECEPTIONIST.password,
            RECEPTIONIST.name,
            "receptionist",
        )
        .await?;
        t.click("register-patient").await?;
        t.fill_patient_form(&ZAID).await?;

        // A date of birth in the future (a year from today, as the window's clock sees it).
        let next_year = t
            .js("const d = new Date(); d.setFullYear(d.getFullYear() + 1); return d.toISOString().slice(0, 10);", vec![])
            .await?;
        t.set_value(
            "pf-date_of_birth",
            next_year.as_str().ok_or_else(|| err("no date"))?,
        )
        .await?;
        let msg = submit_expecting(&t, "date_of_birth").await?;
        assert_eq!(msg, catalog("en", "reasons.date_in_future"));
        t.shot("future-dob-en").await?;

        // The same mistake in Arabic: the message is Arabic.
        t.switch_language("ar").await?;
        t.wait_js("Arabic layout", "document.documentElement.dir === 'rtl'", vec![])
            .await?;
        t.wait_js(
            "the form to keep its input",
            "document.querySelector('[data-testid=pf-name_en]').value === arguments[0]",
            vec![json!(ZAID.name_en)],
        )
        .await?;
        let msg = submit_expecting(&t, "date_of_birth").await?;
        assert_eq!(msg, catalog("ar", "reasons.date_in_future"));
        assert!(has_arabic(&msg));
        t.shot("future-dob-ar").await?;
        t.switch_language("en").await?;
        t.wait_js("English layout", "document.documentElement.dir === 'ltr'", vec![])
            .await?;
        t.set_value("pf-date_of_birth", ZAID.date_of_birth).await?;

        // No name at all.
        t.set_value("pf-name_en", "").await?;
        t.set_value("pf-name_ar", "").await?;
        let msg = submit_expecting(&t, "name_en").await?;
        assert_eq!(msg, catalog("en", "reasons.name_required"));
        t.shot("empty-names").await?;
        t.type_into("pf-name_en", ZAID.name_en).await?;
        t.type_into("pf-name_ar", ZAID.name_ar).await?;

        // A malformed phone number.
        t.replace_text("pf-phone", "12ab").await?;
        let msg = submit_expecting(&t, "phone").await?;
        assert_eq!(msg, catalog("en", "reasons.phone_format"));
        t.shot("bad-phone").await?;
        t.click("pf-cancel").await?;

        // Nothing was registered.
        for q in ["Zaid", "زيد", "0785550101"] {
            let rows = t.search_patients(q).await?;
            assert!(rows.is_empty(), "search {q:?} found {rows:?}");
            t.wait_tid("patient-no-results").await?;
        }
        t.shot("no-such-patient").await?;
        t.sign_out().await?;

        t.sign_in(MANAGER.username, MANAGER.password, MANAGER.name, "manager")
            .await?;
        t.open_audit().await?;
        let rows = t.audit_rows().await?;
        assert!(rows.iter().all(|(k, _)| !k.starts_with("patient.")), "{rows:#?}");
        let filtered = t.filter_audit_kind("patient.").await?;
        assert!(filtered.is_empty(), "{filtered:#?}");
        t.wait_tid("audit-empty").await?;
        t.shot("audit-no-patient-records").await?;
        let (ok, text) = t.verify_chain().await?;
        assert_eq!(ok, "true", "{text}");
        Ok(())
    });
}

fn no_filter(kind: Option<&str>) -> Value {
    json!({"filter": {"user_id": null, "patient_id": null, "kind": kind, "date_from": null, "date_to": null, "limit": 100, "offset": 0}})
}

#[test]
fn raw_ipc_is_refused_by_role() {
    run("raw_ipc_is_refused_by_role", &[], |t| async move {
        branch_with_staff(&t, "en", &RECEPTIONIST, &MANAGER).await?;
        t.sign_out().await?;

        // Nobody signed in.
        let e = t.invoke_refused("list_users", json!({}), "not_logged_in").await?;
        t.shot("signed-out").await?;
        assert!(t.exists("login-form").await?, "{e}");

        t.sign_in(
            RECEPTIONIST.username,
            RECEPTIONIST.password,
            RECEPTIONIST.name,
            "receptionist",
        )
        .await?;
        // A call the receptionist may make goes through the same path.
        let found = t
            .invoke("search_patients", json!({"query": "nobody", "limit": 5}))
            .await?;
        assert_eq!(found, Ok(json!([])));

        let new_user = json!({"input": {"username": "sneaky", "display_name": "Sneaky Admin", "role": "receptionist",
                                         "password": "sneaky-pass-1", "language": "en"}});
        let refused = [
            ("create_user", new_user, "user_create"),
            ("audit_trail", no_filter(None), "audit_view"),
            ("set_idle_lock_minutes", json!({"minutes": 5}), "settings_edit"),
        ];
        for (cmd, args, action) in refused {
            let e = t.invoke_refused(cmd, args, "forbidden").await?;
            assert_eq!(e["details"]["role"], json!("receptionist"), "{cmd}: {e}");
            assert_eq!(e["details"]["action"], json!(action), "{cmd}: {e}");
        }
        // The window itself is undisturbed: still signed in, no error shown.
        t.wait_signed_in_as(RECEPTIONIST.name, "receptionist").await?;
        assert!(!t.exists("error-banner").await?);
        t.shot("receptionist-after-refusals").await?;
        t.sign_out().await?;

        t.sign_in(MANAGER.username, MANAGER.password, MANAGER.name, "manager")
            .await?;
        let e = t
            .invoke_refused("register_patient", json!({"input": ZAID.as_input()}), "forbidden")
            .await?;
        assert_eq!(e["details"]["role"], json!("manager"), "{e}");
        assert_eq!(e["details"]["action"], json!("patient_register"), "{e}");

        // Nothing the refused calls asked for happened.
        let users = t
            .invoke("list_users", json!({}))
            .await?
            .map_err(|e| err(e.to_string()))?;
        let names: Vec<&str> = users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert!(!names.contains(&"sneaky"), "{names:?}");
        let settings = t
            .invoke("get_settings", json!({}))
            .await?
            .map_err(|e| err(e.to_string()))?;
        assert_eq!(settings["idle_lock_minutes"], json!(10));
        let patients = t
            .invoke("search_patients", json!({"query": "Zaid", "limit": 5}))
            .await?;
        assert_eq!(patients, Ok(json!([])));

        // Every refusal is on the record, with the caller's role.
        let page = t
            .invoke("audit_trail", no_filter(Some("access.denied")))
            .await?
            .map_err(|e| err(e.to_string()))?;
        let mut denied: Vec<(String, String)> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let payload: Value = serde_json::from_str(e["payload"].as_str().unwrap()).unwrap();
                (
                    e["actor_role"].as_str().unwrap_or("").to_owned(),
                    payload["action"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        denied.sort();
        let expected: Vec<(String, String)> = [
            ("manager", "patient_register"),
            ("receptionist", "audit_view"),
            ("receptionist", "settings_edit"),
            ("receptionist", "user_create"),
        ]
        .iter()
        .map(|(r, a)| (r.to_string(), a.to_string()))
        .collect();
        assert_eq!(denied, expected, "access.denied records: {page}");

        // And the manager sees them in the audit screen.
        t.open_audit().await?;
        let rows = t.filter_audit_kind("access.denied").await?;
        assert_eq!(rows.len(), 4, "{rows:#?}");
        let by_receptionist = rows
            .iter()
            .filter(|(_, text)| text.contains(RECEPTIONIST.name) && text.contains("Receptionist"))
            .count();
        let by_manager = rows
            .iter()
            .filter(|(_, text)| text.contains(MANAGER.name) && text.contains("Manager"))
            .count();
        assert_eq!((by_receptionist, by_manager), (3, 1), "{rows:#?}");
        for action in ["user_create", "audit_view", "settings_edit", "patient_register"] {
            assert!(
                rows.iter().any(|(_, text)| text.contains(action)),
                "no row mentions {action}: {rows:#?}"
            );
        }
        t.shot("audit-access-denied").await?;
        Ok(())
    });
}

#[test]
fn about_shows_device_and_key_storage() {
    run("about_shows_device_and_key_storage", &[], |t| async move {
        t.wait_booted().await?;
        t.first_run_setup("en", "Downtown Dental", "DT01", "Clinic Admin")
            .await?;
        t.click("nav-about").await?;
        let device_id = t.text("about-device-id").await?.trim().to_owned();
        assert!(
            device_id.len() == 32
                && device_id
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "device id {device_id:?}"
        );
        // The same id the data dir holds.
        let device_json: Value =
            serde_json::from_str(&std::fs::read_to_string(t.data_dir.join("device.json"))?)?;
        assert_eq!(device_json["device_id"], json!(device_id));
        assert_eq!(
            t.attr("about-key-storage", "data-value").await?.as_deref(),
            Some("file")
        );
        assert_eq!(t.text("about-key-storage").await?, catalog("en", "about.file"));
        let fallback = t.text("about-key-fallback").await?;
        assert!(
            fallback.contains("file storage was requested"),
            "fallback reason: {fallback}"
        );
        assert_eq!(
            t.text("about-data-dir").await?.trim(),
            t.data_dir.to_string_lossy()
        );
        assert_eq!(t.text("about-branch").await?, "Downtown Dental (DT01)");
        t.shot("about-en").await?;

        // The same facts in Arabic; the id stays a left-to-right run.
        t.switch_language("ar").await?;
        t.wait_js("Arabic", "document.documentElement.dir === 'rtl'", vec![])
            .await?;
        t.wait_js(
            "the About screen in Arabic",
            "document.querySelector('[data-testid=about-key-storage]').textContent === arguments[0]",
            vec![json!(catalog("ar", "about.file"))],
        )
        .await?;
        assert_eq!(t.text("about-device-id").await?.trim(), device_id);
        assert_eq!(
            t.attr("about-key-storage", "data-value").await?.as_deref(),
            Some("file")
        );
        t.shot("about-ar").await?;
        Ok(())
    });
}

/// libfaketime's multithreaded library (Debian package `faketime`); DENTPRO_LIBFAKETIME overrides.
fn libfaketime() -> String {
    if let Ok(p) = std::env::var("DENTPRO_LIBFAKETIME") {
        return p;
    }
    let arch = std::env::consts::ARCH;
    [
        format!("/usr/lib/{arch}-linux-gnu/faketime/libfaketimeMT.so.1"),
        "/usr/lib/faketime/libfaketimeMT.so.1".to_owned(),
        "/usr/local/lib/faketime/libfaketimeMT.so.1".to_owned(),
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .unwrap_or_else(|| {
        panic!("idle_lock_asks_for_password needs libfaketime: apt-get install faketime (or set DENTPRO_LIBFAKETIME)")
    })
}

/// The idle lock, without waiting minutes: the app runs under libfaketime with its wall clock
/// going 10× faster (the monotonic clock, which drives timers, is left alone), so the one-minute
/// idle limit passes in about 6.5 s and the UI's 15 s idle check notices it.
#[test]
fn idle_lock_asks_for_password() {
    if !support::display_available("idle_lock_asks_for_password") {
        return;
    }
    let lib = libfaketime();
    let env = [
        ("LD_PRELOAD", lib.as_str()),
        ("FAKETIME", "+0 x10"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ];
    run_with("idle_lock_asks_for_password", &[], &env, |t| async move {
        t.wait_booted().await?;
        t.first_run_setup("en", "Downtown Dental", "DT01", "Clinic Admin")
            .await?;
        t.click("nav-settings").await?;
        t.wait_js(
            "the settings to load",
            "document.querySelector('[data-testid=settings-idle-lock]').value === '10'",
            vec![],
        )
        .await?;
        t.replace_text("settings-idle-lock", "1").await?;
        t.click("settings-save").await?;
        t.wait_tid("settings-saved").await?;

        // Start a registration and leave it unsaved.
        t.click("nav-patients").await?;
        t.click("register-patient").await?;
        t.type_into("pf-name_en", "Unsaved Name").await?;
        let idle_from = std::time::Instant::now();
        t.wait_js_for(
            "the lock screen after the idle limit",
            std::time::Duration::from_secs(40),
            "!!document.querySelector('[data-testid=lock-screen]')",
        )
        .await?;
        eprintln!(
            "locked after {:.1} s idle (real time)",
            idle_from.elapsed().as_secs_f64()
        );
        assert!(
            t.js("return document.querySelector('.shell').hidden;", vec![])
                .await?
                == json!(true)
        );
        assert!(t.text("lock-user").await?.contains("Clinic Admin"));
        t.shot("locked").await?;

        t.type_into("lock-password", "wrong-password").await?;
        t.click("lock-submit").await?;
        t.wait_tid("lock-error").await?;
        t.shot("wrong-password").await?;
        t.type_into("lock-password", ADMIN_PASSWORD).await?;
        t.click("lock-submit").await?;
        t.wait_gone("lock-screen").await?;
        // The unsaved form is still there, with what was typed.
        let name = t
            .js(
                "return document.querySelector('[data-testid=pf-name_en]').value;",
                vec![],
            )
            .await?;
        assert_eq!(name, json!("Unsaved Name"));
        t.shot("unlocked-form-kept").await?;

        t.click("pf-cancel").await?;
        t.open_audit().await?;
        let kinds: Vec<String> = t
            .filter_audit_kind("auth.")
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for kind in [
            "auth.session_locked",
            "auth.login_failed",
            "auth.session_unlocked",
        ] {
            assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
        }
        t.shot("audit-lock-records").await?;
        Ok(())
    });
}
