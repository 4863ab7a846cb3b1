//! DentPro flows on top of the harness: setup, users, sign in/out, patients, audit trail.

#![allow(dead_code)]

use super::{Ctx, Result, err, tid};
use fantoccini::Locator;
use serde_json::{Value, json};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-pass-1";

pub struct Staff {
    pub username: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub password: &'static str,
}

pub struct NewPatient {
    pub name_en: &'static str,
    pub name_ar: &'static str,
    pub date_of_birth: &'static str,
    pub sex: &'static str,
    pub phone: &'static str,
    pub national_id: &'static str,
    pub address: &'static str,
    pub emergency_contact: &'static str,
    pub allergies: &'static str,
    pub chronic_diseases: &'static str,
    pub current_medications: &'static str,
    pub medical_history: &'static str,
}

impl NewPatient {
    /// The patient as the `register_patient` command takes it.
    pub fn as_input(&self) -> Value {
        json!({
            "name_en": self.name_en, "name_ar": self.name_ar, "date_of_birth": self.date_of_birth,
            "sex": self.sex, "phone": self.phone,
            "national_id": if self.national_id.is_empty() { Value::Null } else { json!(self.national_id) },
            "address": self.address, "emergency_contact": self.emergency_contact,
            "allergies": self.allergies, "chronic_diseases": self.chronic_diseases,
            "current_medications": self.current_medications, "medical_history": self.medical_history,
        })
    }
}

/// A search result row as shown.
#[derive(Debug, Clone)]
pub struct Row {
    pub file_number: String,
    pub text: String,
}

impl Ctx {
    /// The window has booted to the setup or sign-in screen.
    pub async fn wait_booted(&self) -> Result {
        self.wait_css(&format!(
            "{}, {}, {}",
            tid("setup-form"),
            tid("login-form"),
            tid("current-user")
        ))
        .await
        .map(|_| ())
    }

    /// First-run setup; ends signed in as the admin.
    pub async fn first_run_setup(
        &self,
        lang: &str,
        branch_name: &str,
        branch_code: &str,
        admin_name: &str,
    ) -> Result {
        self.wait_tid("setup-form").await?;
        self.set_value("setup-language", lang).await?;
        self.wait_js(
            "the setup page follows the chosen language",
            "document.documentElement.lang === arguments[0]",
            vec![json!(lang)],
        )
        .await?;
        self.type_into("setup-branch-name", branch_name).await?;
        self.type_into("setup-branch-code", branch_code).await?;
        self.type_into("setup-admin-username", ADMIN).await?;
        self.type_into("setup-admin-name", admin_name).await?;
        self.type_into("setup-password", ADMIN_PASSWORD).await?;
        self.type_into("setup-password-confirm", ADMIN_PASSWORD).await?;
        self.shot("setup-filled").await?;
        self.click("setup-submit").await?;
        self.wait_signed_in_as(admin_name, "admin").await
    }

    pub async fn wait_signed_in_as(&self, name: &str, role: &str) -> Result {
        self.wait_js(
            &format!("signed in as {name} ({role})"),
            "(() => { const u = document.querySelector('[data-testid=current-user]');
                      const r = document.querySelector('[data-testid=current-role]');
                      return !!u && !!r && u.textContent === arguments[0] && r.dataset.role === arguments[1]; })()",
            vec![json!(name), json!(role)],
        )
        .await
        .map(|_| ())
    }

    /// Creates a user through the Users screen (as an admin or manager).
    pub async fn create_user_via_ui(&self, s: &Staff, language: &str) -> Result {
        self.click("nav-users").await?;
        self.wait_tid("user-create-form").await?;
        self.type_into("user-create-username", s.username).await?;
        self.type_into("user-create-name", s.name).await?;
        self.set_value("user-create-role", s.role).await?;
        self.type_into("user-create-password", s.password).await?;
        self.set_value("user-create-language", language).await?;
        self.click("user-create-submit").await?;
        self.wait_css(&format!(
            r#"[data-testid="user-row"][data-username="{}"]"#,
            s.username
        ))
        .await?;
        self.wait_tid("users-message").await?;
        // The form empties itself after a successful create.
        self.wait_js(
            "the create form to reset",
            "document.querySelector('[data-testid=user-create-username]').value === ''",
            vec![],
        )
        .await?;
        Ok(())
    }

    pub async fn sign_out(&self) -> Result {
        self.click("logout").await?;
        self.wait_tid("login-form").await?;
        self.wait_gone("current-user").await
    }

    pub async fn sign_in(&self, username: &str, password: &str, name: &str, role: &str) -> Result {
        self.wait_tid("login-form").await?;
        self.type_into("login-username", username).await?;
        self.type_into("login-password", password).await?;
        self.click("login-submit").await?;
        self.wait_signed_in_as(name, role).await
    }

    /// Which of the shell's nav items are shown.
    pub async fn nav_items(&self) -> Result<Vec<String>> {
        let v = self
            .js(
                "return [...document.querySelectorAll('nav [data-testid^=nav-]')].map(e => e.dataset.testid.slice(4));",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Fills the patient form (already open) with `p`.
    pub async fn fill_patient_form(&self, p: &NewPatient) -> Result {
        self.wait_tid("patient-form").await?;
        self.type_into("pf-name_en", p.name_en).await?;
        self.type_into("pf-name_ar", p.name_ar).await?;
        self.set_value("pf-date_of_birth", p.date_of_birth).await?;
        self.set_value("pf-sex", p.sex).await?;
        self.type_into("pf-national_id", p.national_id).await?;
        self.type_into("pf-phone", p.phone).await?;
        self.type_into("pf-emergency_contact", p.emergency_contact)
            .await?;
        self.type_into("pf-address", p.address).await?;
        self.type_into("pf-allergies", p.allergies).await?;
        self.type_into("pf-chronic_diseases", p.chronic_diseases).await?;
        self.type_into("pf-current_medications", p.current_medications)
            .await?;
        self.type_into("pf-medical_history", p.medical_history).await?;
        // Typing went through real key events; make sure the form holds exactly what we meant.
        for (field, want) in [
            ("pf-name_en", p.name_en),
            ("pf-name_ar", p.name_ar),
            ("pf-phone", p.phone),
        ] {
            let got = self
                .js(
                    "return document.querySelector(arguments[0]).value;",
                    vec![json!(tid(field))],
                )
                .await?;
            if got != json!(want) {
                return Err(err(format!("{field} holds {got}, expected {want:?}")));
            }
        }
        Ok(())
    }

    /// Registers `p` through the UI; ends on their new file. Returns the file number.
    pub async fn register_patient_via_ui(&self, p: &NewPatient) -> Result<String> {
        self.click("nav-patients").await?;
        self.click("register-patient").await?;
        self.fill_patient_form(p).await?;
        self.shot("patient-form-filled").await?;
        self.click("pf-submit").await?;
        self.wait_tid("patient-file").await?;
        self.wait_tid("patient-notice").await?;
        let file_number = self.text("patient-file-number").await?;
        if file_number.trim().is_empty() {
            return Err(err("the new file shows no file number"));
        }
        Ok(file_number.trim().to_owned())
    }

    /// Types `query` into the (empty) patient search box and waits for the settled answer.
    pub async fn search_patients(&self, query: &str) -> Result<Vec<Row>> {
        self.click("nav-patients").await?; // back to the search page, box empty
        self.wait_tid("patient-search-hint").await?;
        self.type_into("patient-search", query).await?;
        self.wait_js(
            &format!("the search for {query:?} to settle"),
            "(() => { const t = document.querySelector('[data-testid=patient-results]');
                      return !!document.querySelector('[data-testid=patient-no-results]')
                          || (!!t && t.getAttribute('aria-busy') === 'false'); })()",
            vec![],
        )
        .await?;
        let rows = self.c.find_all(Locator::Css(&tid("patient-row"))).await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(Row {
                file_number: r.attr("data-file-number").await?.unwrap_or_default(),
                text: r.text().await?,
            });
        }
        Ok(out)
    }

    /// Opens the Audit screen and waits for its first page.
    pub async fn open_audit(&self) -> Result {
        self.click("nav-audit").await?;
        self.wait_css(&format!(
            "{} [data-testid=audit-row], {}",
            tid("audit-table"),
            tid("audit-empty")
        ))
        .await?;
        Ok(())
    }

    /// The shown audit rows as (kind, visible text).
    pub async fn audit_rows(&self) -> Result<Vec<(String, String)>> {
        let v = self
            .js(
                "return [...document.querySelectorAll('[data-testid=audit-row]')].map(r => [r.dataset.kind, r.innerText]);",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Filters the audit trail by kind (exact, or a prefix ending in '.') through the UI.
    pub async fn filter_audit_kind(&self, kind: &str) -> Result<Vec<(String, String)>> {
        self.replace_text("audit-filter-kind", kind).await?;
        self.click("audit-apply").await?;
        self.wait_js(
            &format!("the audit trail filtered by {kind}"),
            "(() => { const rows = [...document.querySelectorAll('[data-testid=audit-row]')];
                      const k = arguments[0];
                      const match = (r) => k.endsWith('.') ? r.dataset.kind.startsWith(k) : r.dataset.kind === k;
                      return !!document.querySelector('[data-testid=audit-empty]') || (rows.length > 0 && rows.every(match)); })()",
            vec![json!(kind)],
        )
        .await?;
        self.audit_rows().await
    }

    /// Clicks "Verify chain" and returns (data-ok, text).
    pub async fn verify_chain(&self) -> Result<(String, String)> {
        self.click("audit-verify").await?;
        let el = self.wait_tid("audit-verify-result").await?;
        Ok((el.attr("data-ok").await?.unwrap_or_default(), el.text().await?))
    }

    /// Left edge, right edge and width of the first element matching `css`, and the window width.
    pub async fn rect(&self, css: &str) -> Result<(f64, f64, f64)> {
        let v = self
            .js(
                "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.right, window.innerWidth];",
                vec![json!(css)],
            )
            .await?;
        let a: Vec<f64> = serde_json::from_value(v)?;
        Ok((a[0], a[1], a[2]))
    }
}
