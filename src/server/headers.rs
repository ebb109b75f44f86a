//! Security headers on every answer, in one place so that no route can forget them: a
//! strict Content-Security-Policy (the UI loads nothing but its own files, no inline
//! script or style, and no other site may frame it), no MIME sniffing, no Referer leaking
//! patient IDs in URLs to other sites, `Cache-Control: no-store` on every `/api/` answer
//! (patient data must not stay in a shared clinic computer's or a proxy's cache), and
//! HSTS when the session cookie is `Secure` (hmis then sits behind TLS, and a browser
//! that once saw it must never fall back to plain HTTP and send the cookie in clear).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";
/// One year, the preload lists' minimum; subdomains too, since cookies reach them.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The middleware: `hsts` is whether cookies are configured `Secure`.
pub async fn add(hsts: bool, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}
