use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn person<'a>(given: &'a str, family: &'a str, born: NaiveDate) -> Person<'a> {
    Person {
        given_name: given,
        family_name: family,
        birth_date: born,
        phone: None,
        national_id: None,
    }
}

fn found(new: &Person, existing: &Person) -> Match {
    let m = compare(new, existing).unwrap_or_else(|| panic!("{new:?} should match {existing:?}"));
    assert!((THRESHOLD..=1.0).contains(&m.score), "{m:?}");
    m
}

fn mentions(m: &Match, text: &str) -> bool {
    m.reasons.iter().any(|r| r.contains(text))
}

#[test]
fn spelling_variant_duplicate_is_found() {
    let new = person("Tshepo", "Moshweshwe", date(1990, 5, 1));
    let old = person("Tšepo", "Moshoeshoe", date(1990, 5, 1));
    let m = found(&new, &old);
    assert!(m.score > 0.9, "{m:?}");
    assert!(
        mentions(&m, "given name Tshepo is a spelling variant of Tšepo"),
        "{m:?}"
    );
    assert!(
        mentions(
            &m,
            "family name Moshweshwe is a spelling variant of Moshoeshoe"
        ),
        "{m:?}"
    );
    assert!(mentions(&m, "same birth date 1990-05-01"), "{m:?}");
}

#[test]
fn swapped_names_are_found() {
    let new = person("Mofokeng", "Lerato", date(1988, 11, 23));
    let old = person("Lerato", "Mofokeng", date(1988, 11, 23));
    let m = found(&new, &old);
    assert!(mentions(&m, "given and family names swapped"), "{m:?}");
    assert!(mentions(&m, "same name Lerato"), "{m:?}");
}

#[test]
fn day_month_swap_is_found() {
    let new = person("Palesa", "Molapo", date(1995, 3, 7));
    let old = person("Palesa", "Molapo", date(1995, 7, 3));
    let m = found(&new, &old);
    assert!(mentions(&m, "day and month swapped"), "{m:?}");
}

#[test]
fn birth_date_a_day_out_is_found() {
    let new = person("Tšepo", "Moshoeshoe", date(1990, 5, 2));
    let old = person("Tšepo", "Moshoeshoe", date(1990, 5, 1));
    let m = found(&new, &old);
    assert!(
        mentions(&m, "birth date 1990-05-02 is one day from 1990-05-01"),
        "{m:?}"
    );
}

#[test]
fn birth_year_off_by_one_is_found() {
    let new = person("Lineo", "Mokoena", date(1979, 8, 14));
    let old = person("Dineo", "Mokoena", date(1978, 8, 14));
    let m = found(&new, &old);
    assert!(mentions(&m, "year 1979 against 1978"), "{m:?}");
}

#[test]
fn typo_in_family_name_with_close_birth_date_is_found() {
    let new = person("Thabo", "Mofekeng", date(2001, 2, 12));
    let old = person("Thabo", "Mofokeng", date(2001, 2, 10));
    let m = found(&new, &old);
    assert!(
        mentions(&m, "Mofekeng looks like a mistyping of Mofokeng"),
        "{m:?}"
    );
    assert!(mentions(&m, "2 days from"), "{m:?}");
}

#[test]
fn same_national_id_is_found_despite_other_differences() {
    // Married since: new family name, and a birth date guessed differently.
    let mut new = person("Mpho", "Letsie", date(1984, 6, 1));
    let mut old = person("Mpho", "Ramakau", date(1986, 1, 1));
    new.national_id = Some("0123 4567 89");
    old.national_id = Some("0123456789");
    let m = found(&new, &old);
    assert!(m.score > 0.99, "{m:?}");
    assert!(mentions(&m, "same national ID"), "{m:?}");
}

#[test]
fn different_national_ids_outweigh_matching_names() {
    let mut new = person("Thabo", "Mofokeng", date(1990, 5, 1));
    let mut old = person("Thabo", "Mofokeng", date(1990, 5, 1));
    new.national_id = Some("0123456789");
    old.national_id = Some("9876543210");
    assert_eq!(compare(&new, &old), None);
}

#[test]
fn married_woman_found_by_given_name_birth_date_and_phone() {
    let mut new = person("Limpho", "Letsie", date(1992, 9, 30));
    let mut old = person("Limpho", "Nkuebe", date(1992, 9, 30));
    new.phone = Some("+266 5812 3456");
    old.phone = Some("58123456");
    let m = found(&new, &old);
    assert!(mentions(&m, "same phone number"), "{m:?}");
}

#[test]
fn mother_and_child_sharing_a_phone_are_not_flagged() {
    let mut mother = person("Mpho", "Mofokeng", date(1975, 3, 12));
    let mut child = person("Lerato", "Mofokeng", date(2010, 6, 1));
    mother.phone = Some("5812 3456");
    child.phone = Some("58123456");
    assert_eq!(compare(&child, &mother), None);
    assert_eq!(compare(&mother, &child), None);
}

#[test]
fn siblings_and_twins_sharing_a_phone_are_not_flagged() {
    let phone = Some("62001122");
    let mut palesa = person("Palesa", "Mofokeng", date(2008, 1, 10));
    let mut lerato = person("Lerato", "Mofokeng", date(2010, 6, 1));
    let mut twin = person("Lineo", "Mofokeng", date(2008, 1, 10));
    palesa.phone = phone;
    lerato.phone = phone;
    twin.phone = phone;
    assert_eq!(compare(&lerato, &palesa), None);
    assert_eq!(compare(&twin, &palesa), None);
}

#[test]
fn father_and_son_with_the_same_names_are_not_flagged() {
    let mut father = person("Thabo", "Molapo", date(1965, 4, 20));
    let mut son = person("Thabo", "Molapo", date(1990, 4, 20));
    assert_eq!(compare(&son, &father), None);
    // Not even when they share the household phone.
    father.phone = Some("22311234");
    son.phone = Some("22311234");
    assert_eq!(compare(&son, &father), None);
}

#[test]
fn unrelated_people_are_not_flagged() {
    let a = person("Thabo", "Mofokeng", date(1990, 5, 1));
    let b = person("Lerato", "Molapo", date(1990, 5, 1));
    let c = person("Palesa", "Nthako", date(1972, 12, 25));
    assert_eq!(compare(&a, &b), None);
    assert_eq!(compare(&a, &c), None);
    assert_eq!(compare(&b, &c), None);
}

#[test]
fn common_name_and_birth_year_alone_are_not_enough() {
    let a = person("Thabo", "Mofokeng", date(1990, 1, 1));
    let b = person("Thabo", "Mofokeng", date(1990, 8, 15));
    assert_eq!(compare(&a, &b), None);
}

#[test]
fn placeholder_phones_and_ids_carry_no_weight() {
    let mut a = person("Thabo", "Mofokeng", date(1990, 1, 1));
    let mut b = person("Thabo", "Mofokeng", date(1990, 8, 15));
    a.phone = Some("00000000");
    b.phone = Some("0000 0000");
    a.national_id = Some("000000000");
    b.national_id = Some("000000000");
    assert_eq!(compare(&a, &b), None);
}

#[test]
fn score_grows_with_evidence() {
    let mut new = person("Tshepo", "Moshweshwe", date(1990, 5, 1));
    let mut old = person("Tšepo", "Moshoeshoe", date(1990, 5, 1));
    let names_and_date = found(&new, &old).score;
    new.phone = Some("58123456");
    old.phone = Some("58123456");
    let with_phone = found(&new, &old).score;
    new.national_id = Some("012345678");
    old.national_id = Some("012345678");
    let with_id = found(&new, &old).score;
    assert!(names_and_date < with_phone && with_phone < with_id);
}

#[test]
fn a_registration_keyed_once_gets_from_every_candidate_the_answer_it_gets_alone() {
    let new = person("Tshepo", "Moshweshwe", date(1990, 5, 1));
    let candidates = [
        person("Tšepo", "Moshoeshoe", date(1990, 5, 1)),
        person("Moshoeshoe", "Tshepo", date(1990, 5, 2)),
        person("Tshepo", "Moshweshwe", date(1990, 1, 5)),
        person("Thabo", "Mofokeng", date(1990, 5, 1)),
        person("Tshepo", "Moshweshwe", date(1960, 5, 1)),
    ];
    let keyed = Keyed::new(new);
    let answers: Vec<_> = candidates
        .iter()
        .map(|c| compare_keyed(&keyed, c))
        .collect();
    let alone: Vec<_> = candidates.iter().map(|c| compare(&new, c)).collect();
    assert_eq!(answers, alone);
    assert_eq!(
        answers.iter().filter(|a| a.is_some()).count(),
        3,
        "{answers:?}"
    );
}

#[test]
fn the_bound_on_what_names_can_add_is_the_most_any_two_names_add() {
    let most = |w: [f64; 4]| w.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(NAMES_AT_MOST, most(weight::GIVEN) + most(weight::FAMILY));
}
