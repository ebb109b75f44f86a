//! The clinic UI as a browser meets it: the page at `/` revalidated on every load, under
//! the strict CSP and with nothing inline; its content-hashed assets kept for good, of the
//! right type and gzipped; and `GET /api/v1/regions`, which it reads once signed in.

use crate::helpers::{PASSWORD, bearer_client, spawn_app};
use reqwest::Response;
use serde_json::{Value, json};
use std::io::Read;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn dist(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("ui/dist")
            .join(path),
    )
    .unwrap()
}

#[tokio::test]
async fn the_page_is_the_built_index_html_never_cached_unrevalidated_and_under_the_csp() {
    let app = spawn_app().await;
    for path in ["/", "/index.html"] {
        let page = app.anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(
            header(&page, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&page, "cache-control"), Some("no-cache"), "{path}");
        assert_eq!(
            header(&page, "content-security-policy"),
            Some(CSP),
            "{path}"
        );
        assert_eq!(header(&page, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&page, "x-frame-options"), Some("DENY"));
        assert_eq!(header(&page, "referrer-policy"), Some("no-referrer"));
        let etag = header(&page, "etag").unwrap().to_owned();
        let html = page.text().await.unwrap();
        assert_eq!(html.as_bytes(), dist("index.html"), "{path}");
        // The CSP allows no inline script, style or handler: the page needs none.
        for inline in ["<style", " style=", " onclick=", " onload="] {
            assert!(!html.contains(inline), "{inline} in {path}");
        }
        for script in html.split("<script").skip(1) {
            let tag = &script[..script.find('>').unwrap()];
            assert!(tag.contains(" src=\"/assets/"), "an inline script: {tag}");
        }
        let again = app.anon.get(app.url(path)).header("if-none-match", &etag);
        let again = again.send().await.unwrap();
        assert_eq!(again.status(), 304, "{path} with If-None-Match {etag}");
        assert_eq!(header(&again, "cache-control"), Some("no-cache"));
    }
}

#[tokio::test]
async fn every_asset_the_page_names_is_served_immutable_of_its_type_and_gzipped() {
    let app = spawn_app().await;
    let html = app.anon.get(app.url("/")).send().await.unwrap();
    let assets = hmis::ui::first_screen_assets(&html.text().await.unwrap());
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{assets:?}");
    for path in assets {
        let url = app.url(&format!("/{path}"));
        let response = app.anon.get(&url).header("accept-encoding", "gzip");
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let media = match path.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml; charset=utf-8",
            _ => panic!("the page names an asset of a kind this test does not know: {path}"),
        };
        assert_eq!(header(&response, "content-type"), Some(media), "{path}");
        assert_eq!(
            header(&response, "cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        assert_eq!(header(&response, "content-security-policy"), Some(CSP));
        assert_eq!(
            header(&response, "content-encoding"),
            Some("gzip"),
            "{path}"
        );
        let mut body = Vec::new();
        let gzipped = response.bytes().await.unwrap();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_end(&mut body)
            .unwrap();
        assert_eq!(body, dist(&path), "{path} as gunzipped");
        // Without Accept-Encoding, the plain bytes.
        let plain = app.anon.get(&url).send().await.unwrap();
        assert_eq!(header(&plain, "content-encoding"), None, "{path}");
        assert_eq!(plain.bytes().await.unwrap(), dist(&path), "{path}");
    }
}

#[tokio::test]
async fn an_asset_the_build_does_not_have_is_a_404_problem() {
    let app = spawn_app().await;
    for path in [
        "/assets/index-00000000.js",
        "/assets/",
        "/assets/..%2Findex.html",
    ] {
        let response = app.anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(header(&response, "cache-control"), None, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 404, "{path}: {problem}");
    }
}

#[tokio::test]
async fn the_regions_are_listed_in_order_with_districts_and_time_zone_for_anyone_signed_in() {
    let app = spawn_app().await;
    let anonymous = app.anon.get(app.url("/api/v1/regions")).send().await;
    assert_eq!(anonymous.unwrap().status(), 401);
    // A user without any grant: the regions are no one's records.
    let central = app.central().await;
    hmis::auth::users::create(&central, "no.grants", PASSWORD, "")
        .await
        .unwrap();
    let client = bearer_client(&app.login("no.grants", PASSWORD).await);
    let response = client.get(app.url("/api/v1/regions")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let body: Value = response.json().await.unwrap();
    let expected: Vec<Value> = app
        .settings
        .regions
        .iter()
        .map(|r| {
            json!({"name": r.name, "display_name": r.display_name,
                   "districts": r.districts, "time_zone": r.time_zone})
        })
        .collect();
    assert_eq!(body, json!({ "regions": expected }));
    let names: Vec<&str> = expected
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["leribe", "mafeteng", "maseru", "quthing"]);
    assert_eq!(body["regions"][3]["time_zone"], "Africa/Maseru");
    assert!(
        body["regions"][3]["districts"]
            .as_array()
            .unwrap()
            .contains(&json!("Quthing")),
        "{body}"
    );
}
