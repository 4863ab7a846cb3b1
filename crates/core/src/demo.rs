//! A demo branch a newcomer can try at once: one user of every role and a few hundred patients
//! with English and Arabic names. Everything goes through the normal write path.

use crate::Result;
use crate::accounts::{Language, NewUser, SetupInput};
use crate::patients::{PatientInput, Sex};
use crate::permissions::Role;
use crate::workstation::Workstation;

pub const DEMO_PASSWORD: &str = "demo-pass-1";

/// (username, display name, role) of the demo staff; all use [`DEMO_PASSWORD`].
pub const DEMO_USERS: &[(&str, &str, Role)] = &[
    ("manager", "Mona Haddad", Role::Manager),
    ("reception", "Rami Saleh", Role::Receptionist),
    ("assistant", "Aya Nasser", Role::Assistant),
    ("doctor", "Dr. Omar Khalil", Role::Doctor),
    ("cashier", "Karim Azar", Role::Cashier),
];

const FIRST_EN: &[&str] = &[
    "Ahmad", "Sara", "Omar", "Lina", "Yousef", "Maryam", "Khaled", "Huda", "Ali", "Noor", "Hassan", "Rania",
    "Tariq", "Dana", "Fadi", "Salma",
];
const FIRST_AR: &[&str] = &[
    "أحمد",
    "سارة",
    "عمر",
    "لينا",
    "يوسف",
    "مريم",
    "خالد",
    "هدى",
    "علي",
    "نور",
    "حسن",
    "رانيا",
    "طارق",
    "دانا",
    "فادي",
    "سلمى",
];
const LAST_EN: &[&str] = &[
    "Haddad", "Khalil", "Nasser", "Saleh", "Azar", "Mansour", "Qasem", "Darwish", "Barakat", "Hamdan",
    "Jaber", "Shami",
];
const LAST_AR: &[&str] = &[
    "حداد",
    "خليل",
    "ناصر",
    "صالح",
    "عازر",
    "منصور",
    "قاسم",
    "درويش",
    "بركات",
    "حمدان",
    "جابر",
    "شامي",
];
const ALLERGIES: &[&str] = &["", "", "", "Penicillin", "Latex", "Lidocaine"];
const CHRONIC: &[&str] = &["", "", "Diabetes type 2", "Hypertension", "Asthma"];

/// Sets up a demo branch (admin `admin` / [`DEMO_PASSWORD`]) with staff and `patients` patients.
pub fn populate(ws: &mut Workstation, patients: usize) -> Result<()> {
    let admin = ws.setup_branch(&SetupInput {
        branch_name: "DentPro Demo Clinic".into(),
        branch_code: "DEMO".into(),
        admin_username: "admin".into(),
        admin_display_name: "Adel Admin".into(),
        admin_password: DEMO_PASSWORD.into(),
        language: Language::En,
    })?;
    for (username, name, role) in DEMO_USERS {
        ws.accounts().create_user(
            &admin.session_id,
            &NewUser {
                username: (*username).into(),
                display_name: (*name).into(),
                role: *role,
                password: DEMO_PASSWORD.into(),
                language: Language::En,
            },
        )?;
    }
    ws.logout(&admin.session_id)?;
    let desk = ws.login("reception", DEMO_PASSWORD)?;
    for i in 0..patients {
        ws.patients().register(&desk.session_id, &demo_patient(i))?;
    }
    ws.logout(&desk.session_id)
}

/// A deterministic, plausible patient number `i` (also used by tests and benchmarks).
pub fn demo_patient(i: usize) -> PatientInput {
    let f = i % FIRST_EN.len();
    let l = (i / FIRST_EN.len() + i) % LAST_EN.len();
    PatientInput {
        name_en: format!("{} {}", FIRST_EN[f], LAST_EN[l]),
        name_ar: format!("{} {}", FIRST_AR[f], LAST_AR[l]),
        date_of_birth: format!("{}-{:02}-{:02}", 1950 + i % 60, 1 + i % 12, 1 + i % 28),
        sex: if f.is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        },
        phone: format!("+9627{:08}", (i * 7919) % 100_000_000),
        national_id: i.is_multiple_of(3).then(|| format!("N{:08}", i)),
        address: format!("{} Rainbow St, Amman", 1 + i % 200),
        emergency_contact: format!(
            "{} {} +9627{:08}",
            FIRST_EN[(f + 3) % FIRST_EN.len()],
            LAST_EN[l],
            (i * 104_729) % 100_000_000
        ),
        allergies: ALLERGIES[i % ALLERGIES.len()].into(),
        chronic_diseases: CHRONIC[i % CHRONIC.len()].into(),
        current_medications: if i.is_multiple_of(5) {
            "Metformin 500 mg".into()
        } else {
            String::new()
        },
        medical_history: String::new(),
    }
}
