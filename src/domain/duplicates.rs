//! Duplicate detection at registration: is this new person probably someone
//! already on file?
//!
//! A second record for one patient splits their history (an HIV or TB patient
//! whose earlier results are on another record is treated as new), so the
//! clerk is shown likely matches before a new record is created. The scoring
//! follows Fellegi-Sunter record linkage: each comparison adds a weight, the
//! rough log2 of how much likelier the observation is for one person than for
//! two, and the sum becomes a probability-like score. All weights live in
//! [`weight`] so they can be tuned against real clinic data in one place.
//!
//! Households are the main trap: a mother and child share a phone and family
//! name, twins also share a birth date, and a father and son may share both
//! names. So a shared phone only counts when the given name agrees, and birth
//! dates a generation apart veto any match not backed by the national ID.

use chrono::NaiveDate;

use super::names::similarity;

/// What registration knows about a person when it checks for duplicates.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub birth_date: NaiveDate,
    pub phone: Option<&'a str>,
    pub national_id: Option<&'a str>,
}

/// A likely duplicate: `score` in [0, 1] and, for the clerk, what matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub score: f64,
    pub reasons: Vec<String>,
}

/// Scores at or above this are shown to the clerk as possible duplicates. It
/// is the point where, by the weights, one person is as likely as two.
pub const THRESHOLD: f64 = 0.5;

/// Evidence weights, roughly log2 likelihood ratios, so +1 doubles the odds.
pub mod weight {
    /// Odds before any evidence: about 1 in 1000 candidate pairs is really
    /// one person, so names and birth date must both agree to pass.
    pub const PRIOR: f64 = -10.0;
    /// Nearly conclusive: outweighed only when both names disagree and the
    /// birth dates are over a year apart, as when a mother's ID is typed on
    /// her child's record.
    pub const NATIONAL_ID_SAME: f64 = 20.0;
    /// Different IDs are strong evidence of two people, but IDs do get
    /// mistyped, so it is not a veto.
    pub const NATIONAL_ID_DIFFERENT: f64 = -10.0;
    /// A shared phone, counted only when the given name agrees too, because
    /// whole households share one phone.
    pub const PHONE_SAME: f64 = 4.0;
    /// Given name, by similarity band: [same key, typo, close, different].
    /// Given names are more distinctive than family names (a village may be
    /// half Mofokeng) and rarely change.
    pub const GIVEN: [f64; 4] = [5.0, 3.0, 1.0, -5.0];
    /// Family name, same bands. Disagreement costs less: women change it on
    /// marriage.
    pub const FAMILY: [f64; 4] = [4.0, 2.5, 1.0, -3.0];
    /// Clerks do swap the two names, but a straight match is more believable.
    pub const NAMES_SWAPPED: f64 = -0.5;
    pub const BIRTH_SAME: f64 = 5.0;
    /// A week apart at most: a slip on the day, or a guessed date.
    pub const BIRTH_WITHIN_DAYS: f64 = 3.0;
    /// 05/03 read as 03/05: a classic form-filling error.
    pub const BIRTH_DAY_MONTH_SWAPPED: f64 = 4.0;
    /// Same day and month, year one off: a mistyped year.
    pub const BIRTH_YEAR_OFF_BY_ONE: f64 = 3.0;
    /// Same year only: common when the exact date was never known.
    pub const BIRTH_SAME_YEAR: f64 = 0.5;
    /// Under a year apart otherwise: neither for nor against.
    pub const BIRTH_NEAR: f64 = 0.0;
    /// More than a year but less than a generation apart.
    pub const BIRTH_FAR: f64 = -4.0;
    /// A generation apart. Without a matching national ID this is a veto
    /// (father and son with the same names); with one, a strong doubt.
    pub const BIRTH_GENERATION: f64 = -8.0;
}

/// Name similarity at which a difference is most likely a one-letter slip
/// (Mofokeng / Mofekeng scores about 0.91).
const TYPO_SIMILARITY: f64 = 0.9;
/// Below this, names count against a match. Kept this high because short
/// Sesotho names that differ in one vowel are often different names
/// (Thabo / Tebo scores 0.85, and gains only the small "close" weight).
const CLOSE_SIMILARITY: f64 = 0.85;
/// Birth dates this many days apart still count as "close".
const CLOSE_DAYS: i64 = 7;
/// Birth dates this far apart belong to different generations.
const GENERATION_DAYS: i64 = 15 * 365;

/// Compares a new registration with an existing record; `None` unless the
/// score reaches [`THRESHOLD`].
pub fn compare(new: &Person, existing: &Person) -> Option<Match> {
    let mut total = weight::PRIOR;
    let mut reasons = Vec::new();

    let id_same = match (id_key(new.national_id), id_key(existing.national_id)) {
        (Some(a), Some(b)) if a == b => {
            total += weight::NATIONAL_ID_SAME;
            reasons.push("same national ID".to_string());
            true
        }
        (Some(_), Some(_)) => {
            total += weight::NATIONAL_ID_DIFFERENT;
            false
        }
        _ => false,
    };

    let names = compare_names(new, existing);
    total += names.weight;
    reasons.extend(names.reasons);

    let generation_apart =
        (new.birth_date - existing.birth_date).num_days().abs() >= GENERATION_DAYS;
    if generation_apart && !id_same {
        return None;
    }
    let (birth_weight, birth_reason) = compare_birth(new.birth_date, existing.birth_date);
    total += birth_weight;
    reasons.extend(birth_reason);

    if let (Some(a), Some(b)) = (phone_key(new.phone), phone_key(existing.phone))
        && a == b
        && names.given_agrees
    {
        total += weight::PHONE_SAME;
        reasons.push("same phone number".to_string());
    }

    let score = 1.0 / (1.0 + (-total).exp2());
    (score >= THRESHOLD).then_some(Match { score, reasons })
}

struct NameEvidence {
    weight: f64,
    reasons: Vec<String>,
    /// Whether the name compared with the existing given name agrees; the
    /// phone only counts then.
    given_agrees: bool,
}

/// Tries the names as entered and with given and family swapped, and keeps
/// whichever arrangement explains the pair better.
fn compare_names(new: &Person, existing: &Person) -> NameEvidence {
    let straight = arrangement(
        (new.given_name, existing.given_name),
        (new.family_name, existing.family_name),
        false,
    );
    let swapped = arrangement(
        (new.family_name, existing.given_name),
        (new.given_name, existing.family_name),
        true,
    );
    if swapped.weight > straight.weight {
        swapped
    } else {
        straight
    }
}

fn arrangement(given: (&str, &str), family: (&str, &str), swapped: bool) -> NameEvidence {
    let given_sim = similarity(given.0, given.1);
    let family_sim = similarity(family.0, family.1);
    let given_weight = pick(given_sim, weight::GIVEN);
    let family_weight = pick(family_sim, weight::FAMILY);
    let mut reasons = Vec::new();
    // Once swapped, "given" and "family" would mislead: the new record's
    // given name is being compared with the existing family name.
    let (given_label, family_label) = if swapped {
        reasons.push("given and family names swapped".to_string());
        ("name", "name")
    } else {
        ("given name", "family name")
    };
    reasons.extend(name_reason(given_label, given, given_sim));
    reasons.extend(name_reason(family_label, family, family_sim));
    let penalty = if swapped { weight::NAMES_SWAPPED } else { 0.0 };
    NameEvidence {
        weight: given_weight + family_weight + penalty,
        reasons,
        given_agrees: given_sim >= CLOSE_SIMILARITY,
    }
}

/// Weight for a similarity from a `[same key, typo, close, different]` row.
fn pick(sim: f64, weights: [f64; 4]) -> f64 {
    match sim {
        s if s >= 1.0 => weights[0],
        s if s >= TYPO_SIMILARITY => weights[1],
        s if s >= CLOSE_SIMILARITY => weights[2],
        _ => weights[3],
    }
}

fn name_reason(label: &str, (new, old): (&str, &str), sim: f64) -> Option<String> {
    let (new, old) = (new.trim(), old.trim());
    if sim >= 1.0 && new.to_lowercase() == old.to_lowercase() {
        Some(format!("same {label} {old}"))
    } else if sim >= 1.0 {
        Some(format!("{label} {new} is a spelling variant of {old}"))
    } else if sim >= TYPO_SIMILARITY {
        Some(format!("{label} {new} looks like a mistyping of {old}"))
    } else if sim >= CLOSE_SIMILARITY {
        Some(format!("{label} {new} is similar to {old}"))
    } else {
        None
    }
}

/// Weight and, when they agree in some way, the reason for two birth dates.
fn compare_birth(new: NaiveDate, old: NaiveDate) -> (f64, Option<String>) {
    use chrono::Datelike;
    let days = (new - old).num_days().abs();
    if days == 0 {
        return (weight::BIRTH_SAME, Some(format!("same birth date {old}")));
    }
    if days <= CLOSE_DAYS {
        let span = if days == 1 {
            "one day".to_string()
        } else {
            format!("{days} days")
        };
        let reason = format!("birth date {new} is {span} from {old}");
        return (weight::BIRTH_WITHIN_DAYS, Some(reason));
    }
    let same_year = new.year() == old.year();
    if same_year && new.day() == old.month() && new.month() == old.day() {
        let reason = format!("day and month swapped: birth date {new} against {old}");
        return (weight::BIRTH_DAY_MONTH_SWAPPED, Some(reason));
    }
    if new.month() == old.month() && new.day() == old.day() && new.year().abs_diff(old.year()) == 1
    {
        let reason = format!(
            "same birth day and month, year {} against {}",
            new.year(),
            old.year()
        );
        return (weight::BIRTH_YEAR_OFF_BY_ONE, Some(reason));
    }
    if same_year {
        let reason = format!("same birth year {}", old.year());
        return (weight::BIRTH_SAME_YEAR, Some(reason));
    }
    match days {
        d if d <= 366 => (weight::BIRTH_NEAR, None),
        d if d < GENERATION_DAYS => (weight::BIRTH_FAR, None),
        _ => (weight::BIRTH_GENERATION, None),
    }
}

/// Last eight digits, so "+266 5812 3456", "00266 58123456" and "58123456"
/// agree (eight digits is a whole Lesotho number, and also tells South
/// African numbers apart whether written 082... or +27 82...). Short
/// numbers and placeholders such as 00000000 carry no identity.
fn phone_key(phone: Option<&str>) -> Option<String> {
    let digits: Vec<char> = phone?.chars().filter(char::is_ascii_digit).collect();
    let last = digits.get(digits.len().checked_sub(8)?..)?;
    informative(last)
}

/// Letters and digits only, uppercased, so "0123 456 78a" and "012345678A"
/// agree; very short values and placeholders are ignored.
fn id_key(id: Option<&str>) -> Option<String> {
    let chars: Vec<char> = id?
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    if chars.len() < 5 {
        return None;
    }
    informative(&chars)
}

fn informative(chars: &[char]) -> Option<String> {
    let first = *chars.first()?;
    if chars.iter().all(|&c| c == first) {
        None
    } else {
        Some(chars.iter().collect())
    }
}

#[cfg(test)]
#[path = "duplicates_tests.rs"]
mod tests;
