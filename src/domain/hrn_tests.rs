use super::*;

/// A deterministic spread of valid numbers (plain LCG, no `rand` needed),
/// plus the edges of both ranges.
fn sample() -> Vec<Hrn> {
    let mut out = vec![
        Hrn::new(1, 1).unwrap(),
        Hrn::new(2, 123).unwrap(),
        Hrn::new(99, SEQUENCE_MAX).unwrap(),
        Hrn::new(10, 4_567_890).unwrap(),
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..200 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let region = (state >> 33) % 99 + 1;
        let sequence = (state >> 13) % u64::from(SEQUENCE_MAX) + 1;
        out.push(Hrn::new(region as u8, sequence as u32).unwrap());
    }
    out
}

fn compact(hrn: &Hrn) -> Vec<u8> {
    hrn.to_string()
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

fn to_text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

#[test]
fn damm_known_vectors() {
    // The textbook example: 572 gets check digit 4, and 5724 validates to 0.
    assert_eq!(damm(&[5, 7, 2]), 4);
    assert_eq!(damm(&[5, 7, 2, 4]), 0);
    assert_eq!(damm(&[]), 0);
    assert_eq!(damm(&[0, 0, 0]), 0);
}

#[test]
fn display_groups_three_three_four_with_real_check_digit() {
    // Expected strings computed independently of this code.
    assert_eq!(Hrn::new(2, 123).unwrap().to_string(), "020-000-1237");
    assert_eq!(Hrn::new(1, 1).unwrap().to_string(), "010-000-0011");
    assert_eq!(Hrn::new(10, 4_567_890).unwrap().to_string(), "104-567-8901");
    assert_eq!(Hrn::new(99, 9_999_999).unwrap().to_string(), "999-999-9990");
    assert_eq!(Hrn::new(2, 123).unwrap().check_digit(), 7);
}

#[test]
fn accessors_return_parts() {
    let hrn = Hrn::new(42, 765).unwrap();
    assert_eq!(hrn.region_code(), 42);
    assert_eq!(hrn.sequence(), 765);
}

#[test]
fn display_and_parse_round_trip() {
    for hrn in sample() {
        let text = hrn.to_string();
        assert_eq!(text.len(), 12);
        assert_eq!(text.parse::<Hrn>(), Ok(hrn), "{text}");
    }
}

#[test]
fn separators_are_accepted() {
    let want = Hrn::new(2, 123).unwrap();
    for text in [
        "020-000-1237",
        "0200001237",
        "020 000 1237",
        "020.000.1237",
        "  020-000 1237 ",
        "02-0000-12-37",
        "0-2-0-0-0-0-1-2-3-7",
    ] {
        assert_eq!(text.parse::<Hrn>(), Ok(want), "{text:?}");
    }
}

#[test]
fn every_single_digit_substitution_is_refused() {
    for hrn in sample() {
        let good = compact(&hrn);
        for pos in 0..good.len() {
            for digit in 0..10 {
                if digit == good[pos] {
                    continue;
                }
                let mut bad = good.clone();
                bad[pos] = digit;
                let text = to_text(&bad);
                assert_eq!(
                    text.parse::<Hrn>(),
                    Err(HrnError::CheckDigit),
                    "{hrn} mistyped as {text}"
                );
            }
        }
    }
}

#[test]
fn every_adjacent_transposition_is_refused() {
    for hrn in sample() {
        let good = compact(&hrn);
        for pos in 0..good.len() - 1 {
            if good[pos] == good[pos + 1] {
                continue;
            }
            let mut bad = good.clone();
            bad.swap(pos, pos + 1);
            let text = to_text(&bad);
            assert_eq!(
                text.parse::<Hrn>(),
                Err(HrnError::CheckDigit),
                "{hrn} swapped as {text}"
            );
        }
    }
}

#[test]
fn damm_property_holds_for_every_two_digit_pair_in_any_context() {
    // Exhaustive over the table itself: any interim state, any pair a != b,
    // swapping them changes the result. This is what makes the sample tests
    // above hold for every number, not just the sampled ones.
    for interim in 0..10u8 {
        for a in 0..10u8 {
            for b in 0..10u8 {
                if a != b {
                    // Row 0 is a permutation, so the leading digit puts
                    // the state in every possible interim; columns are
                    // permutations too, so states that differ stay different
                    // whatever digits follow.
                    let ab = damm(&[interim, a, b]);
                    let ba = damm(&[interim, b, a]);
                    assert_ne!(ab, ba, "interim {interim}, {a}{b}");
                }
            }
        }
    }
}

#[test]
fn wrong_length_is_refused() {
    assert_eq!("020-000-123".parse::<Hrn>(), Err(HrnError::WrongLength(9)));
    assert_eq!(
        "020-000-12370".parse::<Hrn>(),
        Err(HrnError::WrongLength(11))
    );
    assert_eq!("".parse::<Hrn>(), Err(HrnError::WrongLength(0)));
    assert_eq!(" - ".parse::<Hrn>(), Err(HrnError::WrongLength(0)));
}

#[test]
fn other_characters_are_refused() {
    assert_eq!(
        "020/000/1237".parse::<Hrn>(),
        Err(HrnError::UnexpectedCharacter('/'))
    );
    assert_eq!(
        "O20-000-1237".parse::<Hrn>(),
        Err(HrnError::UnexpectedCharacter('O'))
    );
    // Non-ASCII digits look like digits but are not what was printed.
    assert_eq!(
        "٠20-000-1237".parse::<Hrn>(),
        Err(HrnError::UnexpectedCharacter('٠'))
    );
}

#[test]
fn range_errors_from_new() {
    assert_eq!(Hrn::new(0, 1), Err(HrnError::RegionCode(0)));
    assert_eq!(Hrn::new(100, 1), Err(HrnError::RegionCode(100)));
    assert_eq!(Hrn::new(1, 0), Err(HrnError::Sequence(0)));
    assert_eq!(
        Hrn::new(1, SEQUENCE_MAX + 1),
        Err(HrnError::Sequence(10_000_000))
    );
    assert!(Hrn::new(REGION_MAX, SEQUENCE_MAX).is_ok());
}

#[test]
fn region_zero_and_sequence_zero_are_refused_when_parsed() {
    // Both have a correct check digit, so only the range check stops them.
    let region_zero = format!("000000123{}", damm(&[0, 0, 0, 0, 0, 0, 1, 2, 3]));
    assert_eq!(region_zero.parse::<Hrn>(), Err(HrnError::RegionCode(0)));
    let sequence_zero = format!("050000000{}", damm(&[0, 5, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(sequence_zero.parse::<Hrn>(), Err(HrnError::Sequence(0)));
    assert_eq!("0000000000".parse::<Hrn>(), Err(HrnError::RegionCode(0)));
}

#[test]
fn messages_speak_to_the_clerk() {
    assert_eq!(
        HrnError::CheckDigit.to_string(),
        "the last digit does not match: check the number for a mistyped or swapped digit"
    );
    assert!(HrnError::WrongLength(9).to_string().contains("10 digits"));
    assert!(HrnError::RegionCode(0).to_string().contains("00"));
}

/// The migration that defines `hmis_hrn()`, the SQL twin of `Display`.
const HRN_SQL: &str = include_str!("../../migrations/shard/0003_clinical.sql");

#[test]
fn sql_uses_the_same_damm_table() {
    let start = HRN_SQL.find("ARRAY[").expect("table literal") + "ARRAY[".len();
    let end = start + HRN_SQL[start..].find("];").expect("end of table");
    let numbers: Vec<u8> = HRN_SQL[start..end]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let flat: Vec<u8> = DAMM_TABLE.iter().flatten().copied().collect();
    assert_eq!(numbers, flat);
}

#[test]
fn sql_declares_the_agreed_signature() {
    assert!(HRN_SQL.contains(
        "CREATE OR REPLACE FUNCTION hmis_hrn(region_code integer, sequence bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT"
    ));
}
