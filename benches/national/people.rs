//! Made-up people with the shape of a Lesotho register: Sesotho-like names built from a
//! few hundred syllable pairs with a skewed frequency (so that name keys and their first
//! two letters are as common or as rare as real ones), birth dates over 0 to 90 years
//! (more young than old), districts of the region, villages, phones for ~70% and
//! national IDs for ~50%. Deterministic per seed, so a rerun seeds the same register.

use chrono::{Duration, NaiveDate};
use rand::Rng;

const GIVEN_START: &[&str] = &[
    "Pa", "Le", "Li", "Ntha", "Re", "Pu", "Ma", "Ke", "Tše", "Mpho", "Tha", "Te", "Lebo", "Bo",
    "Tu", "Kho", "Tla", "Mo", "Se", "Ro", "To", "Ka", "Ne", "Lie",
];
const GIVEN_END: &[&str] = &[
    "lesa", "rato", "mpho", "neo", "biseng", "thabile", "leng", "filoe", "mello", "ti", "bo",
    "boho", "pho", "hang", "kang", "melo", "tso", "li", "tlatsi", "hau",
];
const FAMILY_START: &[&str] = &[
    "Mo", "Le", "Ra", "Se", "Ma", "Tha", "Nku", "Lero", "Mokhe", "Ntše", "Khata", "Pha", "Mpe",
    "Mose", "Tau", "Lesi", "Mate", "Mola", "Sei", "Mofo",
];
const FAMILY_END: &[&str] = &[
    "koena", "fokeng", "lapo", "tsie", "ebe", "hapi", "katane", "khonyana", "tholi", "mae", "kara",
    "bote", "iso", "khe", "hle", "jara", "sia", "tete", "peli", "tala", "moholi",
];
const VILLAGE: &[&str] = &[
    "Mafa",
    "Ramabanta",
    "Lejone",
    "Sekake",
    "Nqabeni",
    "Mosiuoa",
    "Potsane",
    "Tlali",
    "Makhoroana",
    "Moshebi",
    "Mokhotlong",
    "Seforong",
    "Tsoelike",
    "Mphaki",
    "Letsoha",
    "Nkau",
];

/// One person, as hmis would store them (keys and HRN are added by the seeder).
#[derive(Debug, Clone)]
pub struct Person {
    pub given_name: String,
    pub family_name: String,
    pub sex: &'static str,
    pub birth_date: NaiveDate,
    pub birth_date_estimated: bool,
    pub district: String,
    pub village: Option<String>,
    pub phone: Option<String>,
    pub national_id: Option<String>,
}

/// An index into `n` items where low indexes are much more common,
/// as a few family names are very common and most are rare (u²: density ~ x^(-1/2)).
fn skewed(rng: &mut impl Rng, n: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u) * n as f64) as usize % n
}

fn pair(rng: &mut impl Rng, a: &[&str], b: &[&str]) -> String {
    format!("{}{}", a[skewed(rng, a.len())], b[skewed(rng, b.len())])
}

/// The `seq`-th person of the region coded `code`: `seq` makes the national ID unique.
pub fn person(
    rng: &mut impl Rng,
    districts: &[String],
    code: u16,
    seq: u64,
    today: NaiveDate,
) -> Person {
    let age_days = (rng.random::<f64>().powf(1.4) * 90.0 * 365.25) as i64;
    Person {
        given_name: pair(rng, GIVEN_START, GIVEN_END),
        family_name: pair(rng, FAMILY_START, FAMILY_END),
        sex: if rng.random_bool(0.52) {
            "female"
        } else {
            "male"
        },
        birth_date: today - Duration::days(age_days),
        birth_date_estimated: rng.random_bool(0.05),
        district: districts[rng.random_range(0..districts.len())].clone(),
        village: rng
            .random_bool(0.9)
            .then(|| format!("Ha {}", VILLAGE[skewed(rng, VILLAGE.len())])),
        phone: rng.random_bool(0.7).then(|| {
            format!(
                "+266{}{:07}",
                rng.random_range(5..=6),
                rng.random_range(0..10_000_000)
            )
        }),
        national_id: rng.random_bool(0.5).then(|| format!("LS{code:02}{seq:09}")),
    }
}

/// Someone to register, for creates.
pub struct Newcomer {
    pub given_name: String,
    pub family_name: String,
    pub sex: &'static str,
    pub birth_date: NaiveDate,
    pub district: &'static str,
    pub village: Option<String>,
}

impl Newcomer {
    /// The body of `POST /api/v1/patients`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "given_name": self.given_name,
            "family_name": self.family_name,
            "sex": self.sex,
            "birth_date": self.birth_date.to_string(),
            "district": self.district,
            "village": self.village,
        })
    }
}

/// A person the register most likely does not hold yet: three-syllable names (so the
/// duplicate check finds candidates by first letters and birth year, but rarely a
/// match), no phone or national ID shared with anyone.
pub fn newcomer(rng: &mut impl Rng, district: &'static str) -> Newcomer {
    let today = chrono::Utc::now().date_naive();
    let mut third = || GIVEN_END[rng.random_range(0..GIVEN_END.len())];
    let (a, b) = (third(), third());
    Newcomer {
        given_name: format!("{}{a}", pair(rng, GIVEN_START, GIVEN_END)),
        family_name: format!("{}{b}", pair(rng, FAMILY_START, FAMILY_END)),
        sex: if rng.random_bool(0.5) {
            "female"
        } else {
            "male"
        },
        birth_date: today - Duration::days(rng.random_range(0..90 * 365)),
        district,
        village: Some(format!(
            "Ha {}",
            VILLAGE[rng.random_range(0..VILLAGE.len())]
        )),
    }
}
