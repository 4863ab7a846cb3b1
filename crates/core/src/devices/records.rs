//! The devices area's signed payloads: a device's genesis, its enrolment in a branch and its
//! revocation.

use super::{projection, rules};
use crate::ids::DeviceId;
use crate::kind::{Admit, AdmitContext, Applied, Kind};
use crate::permissions::{Action, Role};
use crate::{CoreError, Result};
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

/// The first record of every device's chain: its public key, so the chain can be verified by
/// anyone holding the records, without the secret key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInitialized {
    pub public_key: String,
    pub key_storage: String,
    pub app_version: String,
}

impl Kind for DeviceInitialized {
    const KIND: &'static str = "device.initialized";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
    fn admit_first(&self, cx: &AdmitContext<'_>) -> Result<Admit> {
        Ok(rules::admit_genesis(cx, self))
    }
}

/// What a workstation is, as enrolled at the branch server. Its names come from this one
/// declaration (serde and strum, `snake_case`). A plain value, shared by the payload and the
/// IPC types.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumIter, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeviceKind {
    Reception,
    Doctor,
    CashierTerminal,
    ManagerDesktop,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl std::str::FromStr for DeviceKind {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        <DeviceKind as strum::IntoEnumIterator>::iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| CoreError::invalid("device_kind", "unknown_device_kind").with("value", s))
    }
}

/// This workstation joined a branch server (written once, by the device itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEnrolled {
    pub server_url: String,
    pub server_certificate: String,
    pub server_key: String,
    pub device_kind: DeviceKind,
    pub label: String,
}

impl Kind for DeviceEnrolled {
    const KIND: &'static str = "device.enrolled";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

/// An admin revoked a workstation: the branch server refuses its later records (its earlier
/// ones stay in the log). Written at another workstation, never by the revoked one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRevoked {
    pub device_id: DeviceId,
    pub reason: String,
}

impl Kind for DeviceRevoked {
    const KIND: &'static str = "device.revoked";
    const ACTION: Option<Action> = Some(Action::DeviceRevoke);
    const TABLES: &'static [&'static str] = &["device_revocations"];
    fn subjects(&self) -> Vec<String> {
        vec![format!("device:{}", self.device_id)]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::revoked(tx, self, at)
    }
    fn admit(&self, cx: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        rules::admit_revocation(cx, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::assert_payload_json;

    /// The literals were captured from the payloads before the payload types were separated
    /// from the IPC types: a renamed field or a changed value format fails here.
    #[test]
    fn device_payloads_keep_their_json() {
        assert_payload_json(
            &DeviceInitialized {
                public_key: "ab".repeat(32),
                key_storage: "file".into(),
                app_version: "0.1.0".into(),
            },
            r#"{"app_version":"0.1.0","key_storage":"file","public_key":"abababababababababababababababababababababababababababababababab"}"#,
        );
        assert_payload_json(
            &DeviceEnrolled {
                server_url: "https://127.0.0.1:8443".into(),
                server_certificate: "MIIB".into(),
                server_key: "cd".repeat(32),
                device_kind: DeviceKind::CashierTerminal,
                label: "Cashier 1".into(),
            },
            r#"{"device_kind":"cashier_terminal","label":"Cashier 1","server_certificate":"MIIB","server_key":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","server_url":"https://127.0.0.1:8443"}"#,
        );
        assert_payload_json(
            &DeviceRevoked {
                device_id: "0123456789abcdef0123456789abcdef".into(),
                reason: "stolen".into(),
            },
            r#"{"device_id":"0123456789abcdef0123456789abcdef","reason":"stolen"}"#,
        );
    }
}
