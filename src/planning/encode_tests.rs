use super::*;

/// A binary numeric: digit count, weight, sign, display scale, then base-10000 digits.
fn numeric_bytes(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [digits.len() as u16, weight as u16, sign, dscale]
        .into_iter()
        .chain(digits.iter().copied())
    {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out
}

#[test]
fn numerics_come_out_as_the_exact_decimal_text() {
    let cases: &[(i16, u16, u16, &[u16], &str)] = &[
        (0, 0, 1, &[12, 5000], "12.5"),
        (1, 0, 3, &[12, 3456, 7890], "123456.789"),
        (-1, 0, 4, &[1], "0.0001"),
        (-2, 0, 8, &[12], "0.00000012"),
        (0, 0x4000, 2, &[3, 1400], "-3.14"),
        (1, 0, 0, &[1], "10000"),
        (0, 0, 0, &[], "0"),
        (0, 0, 3, &[], "0.000"),
        (0, 0, 10, &[72, 5000], "72.5000000000"),
        (0, 0xC000, 0, &[], "NaN"),
        (0, 0xD000, 0, &[], "Infinity"),
        (0, 0xF000, 0, &[], "-Infinity"),
    ];
    for (weight, sign, dscale, digits, expected) in cases {
        let raw = numeric_bytes(*weight, *sign, *dscale, digits);
        assert_eq!(numeric(&raw).unwrap(), *expected, "{digits:?}");
    }
    assert!(
        numeric(&[0, 2, 0]).is_err(),
        "a cut-short value is an error"
    );
}

#[test]
fn a_json_line_keeps_the_query_s_column_order_with_the_region_first() {
    let mut out = Vec::new();
    let names = ["zeta".to_owned(), "alpha".to_owned()];
    json_line(&mut out, "quthing", &names, &[Value::from(3), Value::Null]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"region\":\"quthing\",\"zeta\":3,\"alpha\":null}\n"
    );
}

#[test]
fn csv_quotes_only_what_must_be_quoted_and_tells_null_from_empty() {
    let mut out = Vec::new();
    csv_header(&mut out, &["n".to_owned(), "note".to_owned()]);
    csv_record(
        &mut out,
        [
            Value::from("maseru"),
            Value::Null,
            Value::from(""),
            Value::from("a, \"b\"\nc"),
            Value::from(1.5),
            Value::from(true),
        ]
        .into_iter(),
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "region,n,note\r\nmaseru,,\"\",\"a, \"\"b\"\"\nc\",1.5,true\r\n"
    );
}

#[test]
fn column_names_must_be_distinct_and_not_region() {
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(check_columns(&names(&["n", "district"])), Ok(()));
    assert!(
        check_columns(&names(&["region", "n"]))
            .unwrap_err()
            .contains("AS")
    );
    assert!(
        check_columns(&names(&["count", "count"]))
            .unwrap_err()
            .contains("\"count\"")
    );
}

#[test]
fn simple_types_decode_from_their_binary_form() {
    let int8 = 12i64.to_be_bytes();
    assert_eq!(decode(&Type::INT8, Some(&int8)).unwrap(), Value::from(12));
    assert_eq!(
        decode(&Type::TEXT, Some(b"Qacha's Nek")).unwrap(),
        Value::from("Qacha's Nek")
    );
    assert_eq!(decode(&Type::BOOL, Some(&[1])).unwrap(), Value::from(true));
    assert_eq!(decode(&Type::INT4, None).unwrap(), Value::Null);
    // 2000-01-02: one day after PostgreSQL's epoch.
    assert_eq!(
        decode(&Type::DATE, Some(&1i32.to_be_bytes())).unwrap(),
        Value::from("2000-01-02")
    );
    let micros = 1_500_000i64.to_be_bytes();
    assert_eq!(
        decode(&Type::TIMESTAMPTZ, Some(&micros)).unwrap(),
        Value::from("2000-01-01T00:00:01.500Z")
    );
    assert_eq!(
        decode(&Type::INTERVAL, Some(&[0; 16])).unwrap(),
        Value::Null,
        "no decoder: null"
    );
}
