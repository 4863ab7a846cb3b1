//! Text normalisation for search: one folded form for names typed in English or Arabic, and
//! digits only for phone numbers, so "أحمد", "احمد" and "أَحْمَد" find the same patient.

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
    fn phone_digits_accepts_arabic_indic() {
        assert_eq!(phone_digits("+962 (79) ١٢٣-٤٥٦٧"), "962791234567");
    }
}
