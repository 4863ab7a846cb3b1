//! Text normalisation for search: one folded form for names typed in English or Arabic, and
//! digits only for phone numbers, so "أحمد", "احمد" and "أَحْمَد" find the same patient.

use crate::{CoreError, Result};

/// Maximum lengths, in characters, of the free text a user can put into a record. With every
/// field at its maximum the largest record stays far below the branch server's push limit
/// (`crates/server/tests/bounds.rs` builds it), so a workstation can always sync.
pub const NAME_MAX: usize = 100;
/// One line: an address, an emergency contact.
pub const LINE_MAX: usize = 300;
/// Clinical notes: allergies, chronic diseases, medications, medical history.
pub const NOTES_MAX: usize = 4000;
/// A workstation's label, an enrolment code's label.
pub const LABEL_MAX: usize = 100;
/// A reason an admin gives (revoking a workstation).
pub const REASON_MAX: usize = 500;
/// A phone number as typed (spaces, dashes and brackets included).
pub const PHONE_MAX: usize = 30;
/// A password (only its hash is stored; the bound keeps hashing cheap).
pub const PASSWORD_MAX: usize = 256;
/// A username as recorded by a failed login (real usernames have at most 32 characters).
pub const LOGIN_NAME_MAX: usize = 64;
/// An enrolment ticket, `dentpro-enrol:<code>@<host:port>#<fingerprint>`.
pub const TICKET_MAX: usize = 512;

/// `value` trimmed, refused with `invalid(field, "too_long")` and `details.max` when it has more
/// than `max` characters: the one check every free-text input goes through.
pub fn bounded(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(CoreError::invalid(field, "too_long").with("max", max.to_string()));
    }
    Ok(v.to_owned())
}

/// At most `max` characters of `value` (for text that is recorded, not refused).
pub fn truncated(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// Folds case, Arabic letter variants, Arabic diacritics and tatweel, and Arabic-Indic digits.
/// (Latin diacritics are folded by the FTS5 tokenizer's `remove_diacritics`.)
pub fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !is_arabic_mark(*c))
        .map(|c| match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' => 'ي',
            'ة' => 'ه',
            'ؤ' => 'و',
            'ئ' => 'ي',
            _ => ascii_digit(c).unwrap_or(c),
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_arabic_mark(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

fn ascii_digit(c: char) -> Option<char> {
    match c {
        '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
        '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
        _ => None,
    }
}

/// The digits of a phone number (Arabic-Indic digits included), nothing else.
pub fn phone_digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| ascii_digit(c).or(c.is_ascii_digit().then_some(c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_arabic_variants_and_marks() {
        assert_eq!(fold("أَحْمَد"), "احمد");
        assert_eq!(fold("إيمان"), fold("ايمان"));
        assert_eq!(fold("فاطمة"), "فاطمه");
        assert_eq!(fold("SARA"), "sara");
    }

    #[test]
    fn bounded_counts_characters_not_bytes() {
        assert_eq!(bounded("f", "  أحمد  ", 4).unwrap(), "أحمد");
        let e = bounded("f", "أحمدي", 4).unwrap_err();
        assert_eq!(e.details["reason"], "too_long");
        assert_eq!(e.details["max"], "4");
    }

    #[test]
    fn phone_digits_accepts_arabic_indic() {
        assert_eq!(phone_digits("+962 (79) ١٢٣-٤٥٦٧"), "962791234567");
    }
}
