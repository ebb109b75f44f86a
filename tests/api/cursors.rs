//! Cross-region cursors are sealed: a name-ordered one shows no patient's name, and one
//! that is tampered with, sealed under another key, or names a region the list does not
//! ask is refused with 400 naming `cursor`. Processes that share `server.cursor_key`
//! accept each other's cursors.

use crate::helpers::{TestApp, launch, patient, project_databases};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmis::fanout::cursor::{Cursor, Key};
use serde_json::Value;

const KEY: &str = "the key every hmis process of this deployment shares";

async fn first_page(app: &TestApp) -> (Value, String) {
    let (status, body) = app
        .get_json("/api/v1/patients?size=2&sort=family_name,given_name")
        .await;
    assert_eq!(status, 200, "{body}");
    let cursor = body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    (body, cursor)
}

fn refused_field(status: u16, problem: &Value) -> (u16, Option<&str>) {
    (status, problem["errors"][0]["field"].as_str())
}

#[tokio::test]
async fn a_name_ordered_cursor_shows_no_name_and_a_tampered_or_foreign_one_is_refused() {
    let mut settings = project_databases().await;
    settings.file.server.cursor_key = hmis::config::Secret::new(KEY);
    let app = launch(settings.clone()).await;
    let mut names = Vec::new();
    for district in [
        "Quthing", "Maseru", "Leribe", "Mafeteng", "Quthing", "Berea",
    ] {
        let created = app.create_patient(&patient(district)).await;
        names.push(created["family_name"].as_str().unwrap().to_owned());
        names.push(created["given_name"].as_str().unwrap().to_owned());
    }
    let (body, cursor) = first_page(&app).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64url");
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    for name in &names {
        assert!(!text.contains(&name.to_lowercase()), "{name} in {cursor}");
    }
    let next = "/api/v1/patients?size=2&sort=family_name,given_name&cursor=";
    let (status, page2) = app.get_json(&format!("{next}{cursor}")).await;
    assert_eq!(status, 200, "{page2}");

    // Another process with the same key continues the walk; one with another key refuses.
    let same = launch(settings.clone()).await;
    let (status, _) = same.get_json(&format!("{next}{cursor}")).await;
    assert_eq!(status, 200);
    settings.file.server.cursor_key = hmis::config::Secret::new("another deployment's key");
    let other = launch(settings).await;
    let (status, problem) = other.get_json(&format!("{next}{cursor}")).await;
    assert_eq!(
        refused_field(status, &problem),
        (400, Some("cursor")),
        "{problem}"
    );

    let mut tampered = bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    let unknown_region = {
        let mut c = Cursor::new("family_name,given_name".into(), String::new());
        let position = vec!["A".into(), "B".into(), uuid::Uuid::now_v7().to_string()];
        c.positions.insert("atlantis".into(), position);
        c.seal(&Key::from_setting(KEY))
    };
    let plain = br#"{"v":2,"sort":"family_name,given_name","filter":"","positions":{}}"#;
    for (raw, why) in [
        (
            URL_SAFE_NO_PAD.encode(&tampered),
            "not a cursor this API gave out",
        ),
        (
            cursor[..cursor.len() - 4].to_owned(),
            "not a cursor this API gave out",
        ),
        (
            URL_SAFE_NO_PAD.encode(plain),
            "not a cursor this API gave out",
        ),
        (unknown_region, "\"atlantis\""),
    ] {
        let (status, problem) = app.get_json(&format!("{next}{raw}")).await;
        assert_eq!(
            refused_field(status, &problem),
            (400, Some("cursor")),
            "{raw}: {problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn the_last_page_has_no_next_cursor_even_when_it_is_exactly_full() {
    let app = crate::helpers::spawn_app().await;
    for district in ["Quthing", "Quthing", "Maseru"] {
        app.create_patient(&patient(district)).await;
    }
    // Three matches, pages of three: one page, nothing after it.
    let (status, body) = app.get_json("/api/v1/patients?size=3").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 3, "{body}");
    assert!(body.get("next_cursor").is_none_or(Value::is_null), "{body}");
    // Pages of two: a cursor, then a last page of one without one.
    let (_, first) = app.get_json("/api/v1/patients?size=2").await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (status, last) = app
        .get_json(&format!("/api/v1/patients?size=2&cursor={cursor}"))
        .await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["items"].as_array().unwrap().len(), 1, "{last}");
    assert!(last.get("next_cursor").is_none_or(Value::is_null), "{last}");
    // A region with exactly a page of matches (two in Quthing) has nothing after it.
    let (_, exact) = app
        .get_json("/api/v1/patients?region=quthing,maseru&district=Quthing&size=2")
        .await;
    assert_eq!(exact["items"].as_array().unwrap().len(), 2, "{exact}");
    assert!(
        exact.get("next_cursor").is_none_or(Value::is_null),
        "{exact}"
    );
}
