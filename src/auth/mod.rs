//! Authentication machinery: users and their passwords (argon2), sessions (cached, revoked
//! through [`crate::bus`]), login throttling. The HTTP side (the [`Subject`] extractor that
//! reads the `hmis_session` cookie or an `Authorization: Bearer` token, and CSRF) is in
//! [`crate::http`]; the login routes in [`crate::login`].

pub mod password;
pub mod queue;
pub mod sessions;
pub mod throttle;
pub mod users;

pub use sessions::Session;

pub const SESSION_COOKIE: &str = "hmis_session";
pub const CSRF_COOKIE: &str = "hmis_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
