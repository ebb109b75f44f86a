//! The `from`/`to` parameters of every time-ranged read (charts, statistics): a date
//! (`2026-11-23`, the region's local midnight) or a time with offset, and a range that
//! ends after it starts.

use super::ApiError;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;

/// From (inclusive) to (exclusive), in UTC.
pub type Range = (DateTime<Utc>, DateTime<Utc>);

/// `from` (default: 1900) and `to` (default: now), times with offset or dates in `tz`
/// (`to` as a date means the whole day); `to` must come after `from`.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Range, ApiError> {
    let from = match from {
        // PostgreSQL's timestamps start in 4713 BC; chrono's earliest is out of its range.
        None => DateTime::<Utc>::from_timestamp(-2_208_988_800, 0).expect("1900-01-01"),
        Some(raw) => bound(raw, false, tz).map_err(|r| ApiError::bad("from", &r))?,
    };
    let to = match to {
        None => now + chrono::Duration::minutes(5),
        Some(raw) => bound(raw, true, tz).map_err(|r| ApiError::bad("to", &r))?,
    };
    if to <= from {
        return Err(ApiError::bad("to", "must be after from"));
    }
    Ok((from, to))
}

/// A time with its offset, or a date in the region's time zone (as `to`: the whole day).
fn bound(raw: &str, end: bool, tz: Tz) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(raw.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("\"{raw}\" is neither a date (2026-11-23) nor a time with offset"))?;
    let day = if end {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    midnight
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{raw} has no midnight in the region's time zone"))
}
