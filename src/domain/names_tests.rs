use super::*;

fn assert_collide(a: &str, b: &str) {
    assert_eq!(name_key(a), name_key(b), "{a} / {b}");
    assert_eq!(similarity(a, b), 1.0, "{a} / {b}");
}

fn assert_distinct(a: &str, b: &str) {
    assert_ne!(name_key(a), name_key(b), "{a} / {b}");
    // Well below the 0.85 at which duplicate detection starts to count a
    // name as agreeing.
    let s = similarity(a, b);
    assert!(s < 0.8, "{a} / {b} scored {s}");
}

#[test]
fn case_spaces_hyphens_apostrophes_are_ignored() {
    assert_collide("THABO", "thabo");
    assert_collide("  Thabo ", "Thabo");
    assert_collide("Ma-Lerato", "Malerato");
    assert_collide("Ma Lerato", "Malerato");
    assert_collide("Mo'lapo", "Molapo");
    assert_collide("Ma’lerato", "Malerato");
}

#[test]
fn diacritics_are_stripped_but_caron_s_is_sh() {
    assert_collide("Tšepo", "Tshepo");
    assert_collide("TŠEPO", "tshepo");
    assert_collide("Mošoeshoe", "Moshoeshoe");
    assert_collide("Lêrato", "Lerato");
    assert_collide("Mokôena", "Mokoena");
}

#[test]
fn lesotho_oe_is_sa_we() {
    assert_collide("Moshoeshoe", "Moshweshwe");
}

#[test]
fn lesotho_oa_is_sa_wa() {
    assert_collide("Ntsoaki", "Ntswaki");
}

#[test]
fn lesotho_li_lu_are_sa_di_du() {
    assert_collide("Lineo", "Dineo");
    assert_collide("Limpho", "Dimpho");
    assert_collide("Tlali", "Tladi");
    assert_collide("Lumela", "Dumela");
}

#[test]
fn ts_with_or_without_aspiration() {
    assert_collide("Tšepo", "Tsepo");
    assert_collide("Tshepo", "Tsepo");
    assert_collide("Tšepo", "Tshepo");
}

#[test]
fn lesotho_ch_is_sa_tjh() {
    assert_collide("Chaka", "Tjhaka");
}

#[test]
fn lesotho_kh_is_sa_kg() {
    assert_collide("Khotso", "Kgotso");
    assert_collide("Kgotso", "Kotso");
}

#[test]
fn dropped_aspiration_is_forgiven() {
    assert_collide("Thabo", "Tabo");
    assert_collide("Mpho", "Mpo");
    assert_collide("Khotso", "Kotso");
    assert_collide("Tlhaloso", "Tlaloso");
}

#[test]
fn doubled_letters_collapse() {
    assert_collide("Mpho", "Mppho");
    assert_collide("Lerato", "Lerrato");
    assert_collide("Tšepo", "Tsshepo");
}

#[test]
fn distinct_sounds_keep_their_h() {
    // "sh" and "hl" are sounds of their own, not aspiration.
    assert_eq!(name_key("Moshoeshoe"), "moshweshwe");
    assert_eq!(name_key("Hlalele"), "hlalele");
    assert_eq!(name_key("Chaka"), "chaka");
}

#[test]
fn unrelated_names_do_not_collide() {
    assert_distinct("Thabo", "Lerato");
    assert_distinct("Mofokeng", "Molapo");
    assert_distinct("Lineo", "Limpho");
    assert_distinct("Mpho", "Palesa");
}

#[test]
fn one_letter_typo_is_very_similar() {
    let s = similarity("Mofokeng", "Mofekeng");
    assert!(s >= 0.9, "{s}");
    assert!(s < 1.0, "{s}");
}

#[test]
fn similarity_stays_in_range_and_is_symmetric() {
    let names = [
        "Thabo", "Tabo", "Lerato", "Mofokeng", "Mofekeng", "Mpho", "",
    ];
    for a in names {
        for b in names {
            let s = similarity(a, b);
            assert!((0.0..=1.0).contains(&s), "{a} / {b}: {s}");
            assert_eq!(s, similarity(b, a), "{a} / {b}");
        }
    }
}

#[test]
fn empty_names_are_no_evidence() {
    assert_eq!(name_key(" - "), "");
    assert_eq!(similarity("", ""), 0.0);
    assert_eq!(similarity("Thabo", ""), 0.0);
}
