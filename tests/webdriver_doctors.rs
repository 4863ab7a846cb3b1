//! The doctors area in the real DentPro window (WebDriver): a manager registers a doctor for a
//! doctor's account, gives them working hours, and the list reads in Arabic, right to left.
//! Run like tests/webdriver.rs (Xvfb + D-Bus + per-run XDG dirs), e.g.
//! `xvfb-run -a dbus-run-session -- cargo test --test webdriver_doctors`.
//! Screenshots: test-artifacts/webdriver/doctors_manager_flow/<nn>-<step>.png.

mod support;

use support::app::Staff;
use support::{Result, err, run};

const MANAGER: Staff = Staff {
    username: "omar",
    name: "Omar Nasser",
    role: "manager",
    password: "omar-pass-1",
};
const DOCTOR: Staff = Staff {
    username: "lina",
    name: "Lina Haddad",
    role: "doctor",
    password: "lina-pass-1",
};

#[test]
fn doctors_manager_flow() {
    run("doctors_manager_flow", &[], |t| async move {
        t.wait_booted().await?;
        t.first_run_setup("en", "Downtown Dental", "DT01", "Clinic Admin")
            .await?;
        t.create_user_via_ui(&MANAGER, "en").await?;
        t.create_user_via_ui(&DOCTOR, "en").await?;
        t.sign_out().await?;
        t.sign_in(MANAGER.username, MANAGER.password, MANAGER.name, "manager")
            .await?;
        let nav = t.nav_items().await?;
        assert!(nav.contains(&"doctors".to_owned()), "nav {nav:?}");

        t.click("nav-doctors").await?;
        t.wait_tid("doctors-table").await?;
        t.click("doctor-new").await?;
        t.wait_tid("doctor-form").await?;
        // The account picker lists the doctor's account (and only theirs).
        let user_id = t
            .wait_js(
                "the doctor's account in the picker",
                "(() => { const o = [...document.querySelectorAll('[data-testid=df-user_id] option')].find(o => o.textContent.includes('(lina)')); return o ? o.value : null; })()",
                vec![],
            )
            .await?;
        let user_id = user_id.as_str().ok_or_else(|| err("no account id"))?.to_owned();
        t.set_value("df-user_id", &user_id).await?;
        t.type_into("df-name_en", "Lina Haddad").await?;
        t.type_into("df-name_ar", "لينا حداد").await?;
        t.set_value("df-specialty", "pediatric_dentistry").await?;
        t.type_into("df-licence", "jmc-1234").await?;
        t.shot("profile-filled").await?;
        t.click("df-submit").await?;
        t.wait_tid("doctor-page").await?;
        assert_eq!(t.text("doctor-message").await?, "Dr Lina Haddad registered.");

        // Monday 09:00–13:00 (the editor's default interval), saved as the week.
        t.click_css(r#"[data-testid="week-day"][data-day="monday"] [data-testid="week-add"]"#)
            .await?;
        t.click("week-save").await?;
        t.wait_js(
            "the hours saved",
            "(() => { const m = document.querySelector('[data-testid=doctor-message]'); return !!m && m.textContent === 'Working hours saved.'; })()",
            vec![],
        )
        .await?;
        t.shot("hours-saved").await?;

        // The list, in Arabic, right to left.
        t.click("doctor-back").await?;
        t.wait_tid("doctor-row").await?;
        t.switch_language("ar").await?;
        t.wait_js(
            "the page in Arabic",
            "document.documentElement.dir === 'rtl' && document.querySelector('[data-testid=doctor-row]').textContent.includes('طب أسنان الأطفال')",
            vec![],
        )
        .await?;
        let row = t.text("doctor-row").await?;
        assert!(row.contains("لينا حداد") && row.contains("JMC-1234"), "{row}");
        assert_eq!(t.text("nav-doctors").await?, "الأطباء والكراسي");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        t.shot("doctors-list-arabic").await?;
        Result::Ok(())
    });
}
