//! The clinic UI: the Vite build in `ui/dist`, embedded in the binary (in debug builds
//! too), so that `hmis serve` and `hmis dev` need no Node.js and no files beside them.
//! `ui/dist` is committed and CI checks it against its sources (`scripts/ui-build --check`).
//!
//! Caching follows Vite's naming: `index.html` keeps its name and must be asked again every
//! time (`no-cache`, answered 304 when unchanged), while every file under `/assets/` is
//! named by its content's hash, so it never changes and is kept for a year (`immutable`).
//! These routes are public: the page is the sign-in screen, and everything it shows after
//! comes from the API, which needs a session. The CSP, the other security headers and gzip
//! come from the layers of [`crate::server`], as for every answer.

use crate::http::ApiError;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// `ui/dist`, as it was when hmis was built.
#[derive(rust_embed::Embed)]
#[folder = "ui/dist/"]
struct Dist;

pub const INDEX_CACHE: &str = "no-cache";
pub const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// `/`, `/index.html` and `/assets/*`; needs no state and no session.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{*file}", get(asset))
}

/// The page: revalidated on every load, so that a new build reaches the clinics at once.
async fn index(headers: HeaderMap) -> Response {
    let Some(file) = Dist::get("index.html") else {
        return ApiError::NotFound("the clinic UI is not built: run scripts/ui-build".into())
            .into_response();
    };
    let tag = etag(&file.metadata.sha256_hash());
    // If-None-Match compares weakly: `W/` on either side does not matter.
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| {
            let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
            sent.split(',')
                .any(|t| t.trim() == "*" || bare(t) == bare(&tag))
        });
    let tag = HeaderValue::from_str(&tag).expect("hex is a valid header value");
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static(INDEX_CACHE)),
        (header::ETAG, tag),
    ];
    if unchanged {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let html = HeaderValue::from_static("text/html; charset=utf-8");
    ([(header::CONTENT_TYPE, html)], cache, file.data).into_response()
}

/// A content-hashed file of the build: the same name is the same bytes, for good.
async fn asset(uri: Uri) -> Result<Response, ApiError> {
    let path = uri.path().trim_start_matches('/');
    let file = Dist::get(path).ok_or_else(|| ApiError::NotFound("no such asset".into()))?;
    let media = content_type(path, file.metadata.mimetype());
    let headers = [
        (header::CONTENT_TYPE, media),
        (header::CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE)),
    ];
    Ok((headers, file.data).into_response())
}

/// The media type of a file of the build, with `charset=utf-8` for text (Vite writes UTF-8).
fn content_type(path: &str, guessed: &str) -> HeaderValue {
    let media = match path.rsplit('.').next() {
        // Whatever the guess, browsers run modules only when served as JavaScript.
        Some("js" | "mjs") => "text/javascript",
        _ => guessed,
    };
    let text = media.starts_with("text/")
        || matches!(
            media,
            "application/json" | "image/svg+xml" | "application/xml"
        );
    let value = if text {
        format!("{media}; charset=utf-8")
    } else {
        media.to_owned()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// A weak validator: the bytes sent differ with the encoding (gzip or not).
fn etag(sha256: &[u8; 32]) -> String {
    let hex: String = sha256[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// The names of the files `index.html` loads before anything shows (scripts,
/// stylesheets, module preloads), as paths inside `ui/dist`.
pub fn first_screen_assets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let value = &html[at + attribute.len()..];
            let value = &value[..value.find('"').unwrap_or(value.len())];
            if let Some(path) = value.strip_prefix("/assets/") {
                out.push(format!("assets/{path}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
