//! Small parsers for the free-text fields of a record: names, short labels, phone numbers,
//! and the one check every text input passes before anything else sees it: no control
//! characters (a NUL makes PostgreSQL fail the statement; the others corrupt logs,
//! terminals and printed records).

/// Free-text fields that may hold several lines: a reason, a planner's SQL. Tab, line
/// feed and carriage return are allowed in these; every other control character, and in
/// every other field all of them, are refused.
pub const MULTILINE_FIELDS: &[&str] = &["reason", "sql"];

/// Refuses control characters (Unicode category Cc: U+0000 to U+001F, U+007F to U+009F),
/// but for `multiline` text the tab, line feed and carriage return. The reason names the
/// first one and where it is, for a clerk who cannot see it.
pub fn no_control_chars(s: &str, multiline: bool) -> Result<(), String> {
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
    match s
        .chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() && !allowed(c))
    {
        None => Ok(()),
        Some((i, c)) => Err(format!(
            "must not contain control characters (U+{:04X} at character {})",
            c as u32,
            i + 1
        )),
    }
}

/// A person's name part: trimmed, 1 to 100 characters, at least one letter, no control
/// characters. Apostrophes, hyphens and spaces are common in Sesotho names and allowed.
pub fn name(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if !s.chars().any(char::is_alphabetic) {
        return Err("must contain at least one letter".into());
    }
    Ok(s.to_owned())
}

/// An optional label (village, facility): trimmed, empty means none, at most `max` chars.
pub fn label(raw: &str, max: usize) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(Some(s.to_owned()))
}

/// A phone number in international form. Spaces, dashes, dots and brackets are dropped;
/// an 8-digit number is a Lesotho number and gets +266, so that the same phone typed two
/// ways is stored, and found, one way.
pub fn phone(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let (plus, rest) = match s.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(format!("\"{c}\" is not allowed in a phone number")),
        }
    }
    match (plus, digits.len()) {
        (false, 8) => Ok(Some(format!("+266{digits}"))),
        (_, 8..=15) => Ok(Some(format!("+{digits}"))),
        _ => Err("must have 8 digits (Lesotho) or 8 to 15 with a country code".into()),
    }
}

/// A national identity number: letters, digits and dashes, stored upper-case.
pub fn national_id(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() > 32 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("must be 1 to 32 letters, digits or dashes".into());
    }
    Ok(Some(s.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_multiline_text_keeps_its_tabs_and_newlines() {
        for bad in ["a\u{0}b", "\u{1}", "esc\u{1b}[2J", "del\u{7f}", "c1\u{85}"] {
            assert!(no_control_chars(bad, true).is_err(), "{bad:?}");
            assert!(no_control_chars(bad, false).is_err(), "{bad:?}");
        }
        let note = "line one\r\n\tline two";
        assert_eq!(no_control_chars(note, true), Ok(()));
        let reason = no_control_chars(note, false).unwrap_err();
        assert!(reason.contains("U+000D at character 9"), "{reason}");
        assert_eq!(no_control_chars("Ntate 'Mampho – Sesotho ✓", false), Ok(()));
        let reason = no_control_chars("ab\u{0}", false).unwrap_err();
        assert!(reason.contains("U+0000 at character 3"), "{reason}");
    }

    #[test]
    fn names_are_trimmed_and_sesotho_punctuation_is_kept() {
        assert_eq!(name("  Ntate 'Mampho ").unwrap(), "Ntate 'Mampho");
        assert_eq!(name("Mosala-Mohapi").unwrap(), "Mosala-Mohapi");
        for bad in ["", "   ", "1234", "a\u{0}b", &"x".repeat(101)] {
            assert!(name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn the_same_phone_typed_two_ways_is_stored_one_way() {
        assert_eq!(phone("5812 3456").unwrap().unwrap(), "+26658123456");
        assert_eq!(phone("+266 5812-3456").unwrap().unwrap(), "+26658123456");
        assert_eq!(phone("").unwrap(), None);
        for bad in ["12", "5812 345x", "+1234567890123456"] {
            assert!(phone(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn national_ids_are_upper_cased_and_limited_to_safe_characters() {
        assert_eq!(national_id("ls-123a").unwrap().unwrap(), "LS-123A");
        assert!(national_id("12 34").is_err());
        assert!(national_id("1'; drop table patients;--").is_err());
    }
}
