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

use super::names::{key_similarity, name_key};
use birth::Birth;

#[path = "duplicates_birth.rs"]
mod birth;

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

/// A person with the keys of their names made once ([`name_key`]): a registration is
/// compared with every candidate of a region, a hundred and more in a dense one, and
/// making a key (Unicode decomposition and a dozen rewrites) costs more than comparing two.
#[derive(Debug, Clone)]
pub struct Keyed<'a> {
    pub person: Person<'a>,
    given_key: String,
    family_key: String,
}

impl<'a> Keyed<'a> {
    pub fn new(person: Person<'a>) -> Keyed<'a> {
        Keyed {
            given_key: name_key(person.given_name),
            family_key: name_key(person.family_name),
            person,
        }
    }

    /// The keys of the given and the family name.
    pub fn keys(&self) -> [&str; 2] {
        [&self.given_key, &self.family_key]
    }
}

/// Compares a new registration with an existing record; `None` unless the
/// score reaches [`THRESHOLD`].
pub fn compare(new: &Person, existing: &Person) -> Option<Match> {
    compare_keyed(&Keyed::new(*new), existing)
}

/// [`compare`] with the new person's keys made. Names cost the most to compare (keys,
/// Jaro-Winkler), and most candidates of a dense region (born within a year, names
/// starting alike) cannot reach the threshold whatever their names say: those are turned
/// away before their names are looked at. The words for the clerk are written for matches
/// only.
pub fn compare_keyed(new: &Keyed, existing: &Person) -> Option<Match> {
    let (n, e) = (&new.person, existing);
    let mut total = weight::PRIOR;
    let id_same = match (id_key(n.national_id), id_key(e.national_id)) {
        (Some(a), Some(b)) if a == b => {
            total += weight::NATIONAL_ID_SAME;
            true
        }
        (Some(_), Some(_)) => {
            total += weight::NATIONAL_ID_DIFFERENT;
            false
        }
        _ => false,
    };
    let generation_apart = (n.birth_date - e.birth_date).num_days().abs() >= GENERATION_DAYS;
    if generation_apart && !id_same {
        return None;
    }
    let birth = Birth::of(n.birth_date, e.birth_date);
    total += birth.weight();
    let phones_agree =
        matches!((phone_key(n.phone), phone_key(e.phone)), (Some(a), Some(b)) if a == b);
    let phone_at_most = if phones_agree {
        weight::PHONE_SAME
    } else {
        0.0
    };
    if score_of(total + NAMES_AT_MOST + phone_at_most) < THRESHOLD {
        return None;
    }
    let names = compare_names(new, &Keyed::new(*e));
    total += names.weight;
    let phone_same = phones_agree && names.given_agrees;
    if phone_same {
        total += weight::PHONE_SAME;
    }
    let score = score_of(total);
    if score < THRESHOLD {
        return None;
    }
    let mut reasons = Vec::new();
    if id_same {
        reasons.push("same national ID".to_string());
    }
    reasons.extend(names.reasons(n, e));
    reasons.extend(birth.reason(n.birth_date, e.birth_date));
    if phone_same {
        reasons.push("same phone number".to_string());
    }
    Some(Match { score, reasons })
}

/// The most the names can add: both agreeing, as entered (a swap costs a little).
const NAMES_AT_MOST: f64 = weight::GIVEN[0] + weight::FAMILY[0];

/// The probability-like score of a sum of weights; it grows with the sum.
fn score_of(total: f64) -> f64 {
    1.0 / (1.0 + (-total).exp2())
}

/// How the names of a pair compare, in one arrangement (straight or swapped).
struct NameEvidence {
    weight: f64,
    given_sim: f64,
    family_sim: f64,
    swapped: bool,
    /// Whether the name compared with the existing given name agrees; the
    /// phone only counts then.
    given_agrees: bool,
}

/// Tries the names as entered and with given and family swapped, and keeps
/// whichever arrangement explains the pair better.
fn compare_names(new: &Keyed, existing: &Keyed) -> NameEvidence {
    let straight = arrangement(
        (&new.given_key, &existing.given_key),
        (&new.family_key, &existing.family_key),
        false,
    );
    let swapped = arrangement(
        (&new.family_key, &existing.given_key),
        (&new.given_key, &existing.family_key),
        true,
    );
    if swapped.weight > straight.weight {
        swapped
    } else {
        straight
    }
}

fn arrangement(given: (&str, &str), family: (&str, &str), swapped: bool) -> NameEvidence {
    let given_sim = key_similarity(given.0, given.1);
    let family_sim = key_similarity(family.0, family.1);
    let penalty = if swapped { weight::NAMES_SWAPPED } else { 0.0 };
    NameEvidence {
        weight: pick(given_sim, weight::GIVEN) + pick(family_sim, weight::FAMILY) + penalty,
        given_sim,
        family_sim,
        swapped,
        given_agrees: given_sim >= CLOSE_SIMILARITY,
    }
}

impl NameEvidence {
    /// What the clerk is told of the names.
    fn reasons(&self, new: &Person, existing: &Person) -> Vec<String> {
        let mut reasons = Vec::new();
        // Once swapped, "given" and "family" would mislead: the new record's
        // given name is being compared with the existing family name.
        let (given, family, given_label, family_label) = if self.swapped {
            reasons.push("given and family names swapped".to_string());
            let given = (new.family_name, existing.given_name);
            (
                given,
                (new.given_name, existing.family_name),
                "name",
                "name",
            )
        } else {
            let given = (new.given_name, existing.given_name);
            let family = (new.family_name, existing.family_name);
            (given, family, "given name", "family name")
        };
        reasons.extend(name_reason(given_label, given, self.given_sim));
        reasons.extend(name_reason(family_label, family, self.family_sim));
        reasons
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
