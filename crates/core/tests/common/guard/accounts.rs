//! Accounts: users, the cashier terminals, and the session commands every user has.

use super::super::*;
use super::{Area, Branch, CommandCase};
use dentpro_core::accounts::Language;
use dentpro_core::permissions::{Action, Role};

/// A deactivated receptionist's account (admission: a retired account's records are refused).
pub struct Retired(pub dentpro_core::ids::UserId);

pub static AREA: Area = Area {
    name: "accounts",
    prepare: |b| {
        let admin = b.admin();
        let retired = b
            .ws
            .accounts()
            .create_user(&admin, &new_user("retired", Role::Receptionist))
            .unwrap()
            .id;
        b.ws.accounts().deactivate(&admin, &retired).unwrap();
        b.set_fixture(Retired(retired));
    },
    commands: &[
        CommandCase {
            name: "accounts.list_users",
            action: Some(Action::UserList),
            writes: None,
            run: |b, c| b.ws.accounts().list_users(&c.session).map(|u| assert!(u.len() >= 7)),
        },
        CommandCase {
            name: "accounts.create_user",
            action: Some(Action::UserCreate),
            writes: Some("user.created"),
            // A role every creator who may create users may administer.
            run: |b, c| {
                let user = new_user(&format!("new.{}.{}", c.role, c.n), Role::Receptionist);
                b.ws.accounts().create_user(&c.session, &user).map(drop)
            },
        },
        CommandCase {
            name: "accounts.reset_password",
            action: Some(Action::UserResetPassword),
            writes: Some("user.password_reset"),
            run: |b, c| {
                b.ws.accounts()
                    .reset_password(&c.session, &b.victim_id, "another-pass-1")
            },
        },
        CommandCase {
            name: "accounts.deactivate",
            action: Some(Action::UserDeactivate),
            writes: Some("user.deactivated"),
            run: |b, c| {
                b.ws.accounts()
                    .deactivate(&c.session, &b.victim_id)
                    .map(|u| assert!(!u.active))
            },
        },
        CommandCase {
            name: "accounts.reactivate",
            action: Some(Action::UserReactivate),
            writes: Some("user.reactivated"),
            run: |b, c| {
                b.ws.accounts()
                    .reactivate(&c.session, &b.victim_id)
                    .map(|u| assert!(u.active))
            },
        },
        CommandCase {
            name: "accounts.cashier_terminals",
            action: Some(Action::UserList),
            writes: None,
            run: |b, c| b.ws.accounts().cashier_terminals(&c.session, &b.victim_id).map(drop),
        },
        CommandCase {
            name: "accounts.set_cashier_terminals",
            action: Some(Action::CashierBind),
            writes: Some("cashier.terminals_set"),
            run: |b, c| {
                b.ws.accounts()
                    .set_cashier_terminals(
                        &c.session,
                        &b.victim_id,
                        &["00112233445566778899aabbccddeeff".into()],
                    )
                    .map(|t| assert_eq!(t.len(), 1))
            },
        },
        CommandCase {
            name: "session.set_language",
            action: None,
            writes: Some("user.language_set"),
            run: |b, c| {
                b.ws.set_language(&c.session, Language::Ar)
                    .map(|s| assert_eq!(s.language, Language::Ar))
            },
        },
        CommandCase {
            name: "session.heartbeat",
            action: None,
            writes: None,
            run: |b, c| b.ws.heartbeat(&c.session),
        },
    ],
    // Sign-in, a failed one, an idle lock, unlocking and signing out, at the reception desk
    // (the clock moves on: the branch's other sessions go idle too).
    other_records: |b: &mut Branch| {
        let desk = b.ws.login("user.receptionist", PASSWORD).unwrap();
        b.ws.login("user.doctor", "wrong-password").unwrap_err(); // auth.login_failed
        let idle = b.ws.settings().get(&desk.session_id).unwrap().idle_lock_minutes;
        b.clock.advance(chrono::Duration::minutes(i64::from(idle) + 1));
        b.ws.heartbeat(&desk.session_id).unwrap_err(); // auth.session_locked
        b.ws.unlock(&desk.session_id, PASSWORD).unwrap();
        b.ws.logout(&desk.session_id).unwrap();
    },
};
