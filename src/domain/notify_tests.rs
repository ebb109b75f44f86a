//! The notification vocabulary: what is sent decodes to what was meant, and anything else
//! is an error, not a panic.
use super::*;

fn every_kind() -> Vec<Note> {
    vec![
        Note::Session {
            hash: "ab".repeat(32),
        },
        Note::User {
            user_id: Uuid::new_v4(),
        },
        Note::Policy,
        Note::Forwarding,
        Note::Alert(Alert {
            region: "mafeteng".into(),
            alert_id: Uuid::new_v4(),
            patient_id: Uuid::new_v4(),
            observation_id: Uuid::new_v4(),
            code: "2708-6".into(),
            value: 85.0,
            unit: "%".into(),
            reason: "below 90 %".into(),
            raised_at: "2026-12-01T08:00:00.123456Z".parse().unwrap(),
        }),
        Note::Transfer {
            patient_id: Uuid::new_v4(),
            transfer_id: Uuid::new_v4(),
            from_region: "quthing".into(),
            to_region: "maseru".into(),
        },
        Note::Notice {
            user_id: Uuid::new_v4(),
            id: Uuid::new_v4(),
        },
        Note::NoticesRead {
            user_id: Uuid::new_v4(),
        },
    ]
}

#[test]
fn every_kind_of_note_decodes_to_what_was_encoded() {
    for note in every_kind() {
        assert_eq!(decode(&encode(&note)).unwrap(), note);
    }
}

#[test]
fn notes_are_json_objects_tagged_by_kind() {
    let kinds: Vec<String> = every_kind()
        .iter()
        .map(|n| {
            let v: serde_json::Value = serde_json::from_str(&encode(n)).unwrap();
            v["kind"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected = [
        "session",
        "user",
        "policy",
        "forwarding",
        "alert",
        "transfer",
        "notice",
        "notices_read",
    ];
    assert_eq!(kinds, expected);
    assert_eq!(encode(&Note::Policy), r#"{"kind":"policy"}"#);
}

#[test]
fn an_alert_decodes_with_postgresqls_timestamp_and_offset() {
    let payload = r#"{"kind" : "alert", "region" : "mafeteng",
        "alert_id" : "0190b1a2-0000-7000-8000-000000000001",
        "patient_id" : "0190b1a2-0000-7000-8000-000000000002",
        "observation_id" : "0190b1a2-0000-7000-8000-000000000003",
        "code" : "2708-6", "value" : 85, "unit" : "%", "reason" : "below 90 %",
        "raised_at" : "2026-12-01T10:00:00.5+02:00"}"#;
    let Note::Alert(alert) = decode(payload).unwrap() else {
        panic!("not an alert");
    };
    assert_eq!(alert.value, 85.0);
    assert_eq!(
        alert.raised_at,
        "2026-12-01T08:00:00.5Z".parse::<DateTime<Utc>>().unwrap()
    );
}

#[test]
fn an_unknown_kind_a_missing_field_or_the_old_plain_text_is_an_error() {
    for payload in [
        r#"{"kind":"chat_message","room":"x"}"#,
        r#"{"kind":"session"}"#,
        r#"{"region":"maseru"}"#,
        "policy",
        "session:abcd",
        "",
    ] {
        assert!(decode(payload).is_err(), "{payload}");
    }
}
