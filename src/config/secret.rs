//! Database URLs carry passwords, and some settings are keys: these newtypes keep them out
//! of `Debug`, `Display` and therefore out of every log line, while still handing the real
//! value to whatever needs it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A `postgresql://` URL whose password never prints.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The real URL, for the driver (and for `hmis dev`, which prints it on purpose).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// A key setting (`server.cursor_key`): printed as `***`, or `(unset)` when empty.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "(unset)" } else { "***" })
    }
}

fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_appears_in_debug_or_display() {
        let url = DatabaseUrl::new("postgresql://hmis:s3cret@db:5432/hmis_quthing?sslmode=require");
        assert_eq!(
            url.to_string(),
            "postgresql://hmis:***@db:5432/hmis_quthing?sslmode=require"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            url.expose(),
            "postgresql://hmis:s3cret@db:5432/hmis_quthing?sslmode=require"
        );
    }

    #[test]
    fn a_key_setting_never_prints() {
        assert_eq!(format!("{:?}", Secret::new("k3y")), "***");
        assert_eq!(format!("{:?}", Secret::default()), "(unset)");
    }

    #[test]
    fn a_url_without_password_is_shown_unchanged() {
        for plain in ["postgresql://hmis@db/x", "postgresql://db/x", "not a url"] {
            assert_eq!(DatabaseUrl::new(plain).redacted(), plain);
        }
    }
}
