//! Identifier types: a patient's id cannot be passed where a user's is expected.
//!
//! Each is a string on the wire and in signed payloads (`#[serde(transparent)]`, a plain
//! `string` in the UI's bindings), so adopting one changes no stored or signed byte. An id that
//! arrives from outside is bounded when it is read ([`ID_MAX`]); whether it names anything is the
//! rules' question. An area declares its own ids with [`id_type!`](crate::id_type) next to its
//! records (e.g. `doctors::DoctorId`); the ones shared by several areas live here.

/// Longest id accepted from outside (UUIDs are 36 characters, device ids 64 hex digits).
pub const ID_MAX: usize = 128;

/// Declares a string id newtype: transparent on the wire, bounded when deserialized, readable as
/// `&str` (`as_str`, `Deref`, `Display`), bindable in SQL.
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, ::serde::Serialize)]
        #[cfg_attr(feature = "specta", derive(::specta::Type))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// A fresh, time-ordered id (UUID v7).
            pub fn generate() -> Self {
                Self(::uuid::Uuid::now_v7().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if s.len() > $crate::ids::ID_MAX {
                    return Err(::serde::de::Error::custom(format!(
                        "{} is longer than {} bytes",
                        stringify!($name),
                        $crate::ids::ID_MAX
                    )));
                }
                Ok(Self(s))
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        // The other way round too, so an id compares with the strings of rows and payloads
        // whichever side it is on.
        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl ::rusqlite::ToSql for $name {
            fn to_sql(&self) -> ::rusqlite::Result<::rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl ::rusqlite::types::FromSql for $name {
            fn column_result(v: ::rusqlite::types::ValueRef<'_>) -> ::rusqlite::types::FromSqlResult<Self> {
                String::column_result(v).map(Self)
            }
        }
    };
}

id_type!(
    /// A patient's file (UUID v7, made by the registering desk).
    PatientId
);
id_type!(
    /// A staff account.
    UserId
);
id_type!(
    /// A workstation: the hex SHA-256 of its public key.
    DeviceId
);
id_type!(
    /// A login on one workstation (UUID v7); the window holds it.
    SessionId
);
id_type!(
    /// A signed record (UUID v7).
    RecordId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_plain_string_on_the_wire() {
        let id = PatientId::new("0190-abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0190-abc\"");
        let back: PatientId = serde_json::from_str("\"0190-abc\"").unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn an_overlong_id_is_refused_when_read() {
        let long = format!("\"{}\"", "a".repeat(ID_MAX + 1));
        let err = serde_json::from_str::<UserId>(&long).unwrap_err();
        assert!(
            err.to_string().contains("UserId is longer than 128 bytes"),
            "{err}"
        );
        let at_bound = format!("\"{}\"", "a".repeat(ID_MAX));
        assert!(serde_json::from_str::<UserId>(&at_bound).is_ok());
    }
}
