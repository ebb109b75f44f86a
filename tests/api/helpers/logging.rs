//! `TEST_LOG=1` shows hmis's tracing output in the integration tests: a subscriber set up
//! once per test binary, writing through libtest's capture (so a passing test stays quiet
//! unless `--nocapture`, and a failing one shows its logs). `RUST_LOG` picks the levels
//! (default `info`). Without `TEST_LOG`, nothing is installed and tests print nothing.

use std::sync::Once;

static INIT: Once = Once::new();

/// Installs the subscriber when `TEST_LOG` is set to anything but `0` or empty.
pub fn init() {
    INIT.call_once(|| {
        if !wanted(std::env::var("TEST_LOG").ok().as_deref()) {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // Another subscriber set first (a test's own) wins; that is no failure.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

fn wanted(value: Option<&str>) -> bool {
    !matches!(value.map(str::trim), None | Some("" | "0"))
}

#[test]
fn test_log_is_on_for_any_value_but_unset_empty_or_zero() {
    assert!(wanted(Some("1")));
    assert!(wanted(Some("debug")));
    assert!(!wanted(None));
    assert!(!wanted(Some("")));
    assert!(!wanted(Some("0")));
}
