//! The short text of a vital-sign notification: what was measured and the value, in the
//! words of the ward, and never who: it may show on a lock screen or a shared tablet.

use crate::clinical::vitals::{self, Flag};

/// "Critical temperature 41.2 Cel", "High heart rate 130 /min", "Low SpO2 91 %".
pub fn vital(code: &str, flag: Flag, value: f64, unit: &str) -> String {
    let level = match flag {
        Flag::Critical => "Critical",
        Flag::High => "High",
        Flag::Low => "Low",
        Flag::Normal => "Normal",
    };
    format!("{level} {} {value} {unit}", label(code))
}

/// The vital's label inside a sentence: "Heart rate" becomes "heart rate" and "Systolic
/// BP" "systolic BP", while "SpO2", "BMI" and "MUAC" keep their capitals (a first word
/// with a capital past its first letter is an abbreviation). An unknown code shows as is.
fn label(code: &str) -> String {
    let Some(def) = vitals::def(code) else {
        return code.to_owned();
    };
    let first_word = def.label.split(' ').next().unwrap_or_default();
    let mut chars = def.label.chars();
    match chars.next() {
        Some(first) if !first_word.chars().skip(1).any(char::is_uppercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => def.label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_critical_temperature_reads_as_the_ward_says_it() {
        assert_eq!(
            vital("8310-5", Flag::Critical, 41.2, "Cel"),
            "Critical temperature 41.2 Cel"
        );
    }

    #[test]
    fn abbreviations_keep_their_capitals_and_unknown_codes_show_as_they_are() {
        assert_eq!(vital("2708-6", Flag::Low, 91.0, "%"), "Low SpO2 91 %");
        assert_eq!(
            vital("8867-4", Flag::High, 130.0, "/min"),
            "High heart rate 130 /min"
        );
        assert_eq!(
            vital("8480-6", Flag::High, 150.0, "mm[Hg]"),
            "High systolic BP 150 mm[Hg]"
        );
        assert_eq!(
            vital("9999-9", Flag::Critical, 1.5, "x"),
            "Critical 9999-9 1.5 x"
        );
    }
}
