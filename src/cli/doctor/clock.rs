//! Clocks in step. hmis compares times that different databases wrote (sessions that
//! expire, transfers that time out, change-log retention, the audit trail's order across
//! regions), so a database whose clock has drifted is a fault even when each query works.
//! Each database's `clock_timestamp()` is read against this machine's clock; the reading
//! is only as exact as half the round trip, which is allowed for before judging.

use super::report::Finding;

/// One database's clock against this machine's, in milliseconds (positive: ahead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockSample {
    pub subject: String,
    pub offset_ms: i64,
    /// Half the query's round trip: the true offset is within this of `offset_ms`.
    pub uncertainty_ms: i64,
}

impl ClockSample {
    /// The offset of a database that said `db` while this machine's clock went from
    /// `before` to `after`.
    pub fn measure(
        subject: &str,
        before: chrono::DateTime<chrono::Utc>,
        db: chrono::DateTime<chrono::Utc>,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let half_trip = (after - before) / 2;
        Self {
            subject: subject.to_owned(),
            offset_ms: (db - (before + half_trip)).num_milliseconds(),
            uncertainty_ms: half_trip.num_milliseconds(),
        }
    }

    /// Surely more than `max_ms` away from this machine's clock.
    fn off(&self, max_ms: i64) -> bool {
        self.offset_ms.abs() - self.uncertainty_ms > max_ms
    }
}

const FIX_DATABASE: &str = "synchronize the clock of that database's server (timedatectl, \
                            chrony or ntpd there)";
const FIX_HERE: &str = "synchronize this machine's clock (timedatectl, chrony or ntpd); if \
                        hmis runs here, its sessions and time-outs are off by as much";

/// Judges the clocks: every database within `max_ms` of this machine is in step. When
/// every database is off by about the same amount (two or more, agreeing within `max_ms`),
/// the odd one out is this machine, and that is said once instead of blaming them all.
pub fn judge(samples: &[ClockSample], max_ms: i64) -> Vec<Finding> {
    let limit = seconds(max_ms);
    if samples.is_empty() {
        return vec![Finding::skipped(
            "clocks",
            "in step",
            "no database answered",
        )];
    }
    let (off, fine): (Vec<_>, Vec<_>) = samples.iter().partition(|s| s.off(max_ms));
    let largest = samples.iter().map(|s| s.offset_ms.abs()).max().unwrap_or(0);
    if off.is_empty() {
        return vec![Finding::ok(
            "clocks",
            "in step",
            format!(
                "{} within {limit} of this machine (largest difference {})",
                count(samples.len()),
                seconds(largest)
            ),
        )];
    }
    let lowest = samples.iter().map(|s| s.offset_ms).min().unwrap_or(0);
    let highest = samples.iter().map(|s| s.offset_ms).max().unwrap_or(0);
    if fine.is_empty() && samples.len() >= 2 && highest - lowest <= max_ms {
        let mean = samples.iter().map(|s| s.offset_ms).sum::<i64>() / samples.len() as i64;
        return vec![Finding::problem(
            "clocks",
            "in step",
            format!(
                "this machine's clock is {} {} every database (they agree within {limit})",
                seconds(mean.abs()),
                if mean > 0 { "behind" } else { "ahead of" },
            ),
            FIX_HERE,
        )];
    }
    let mut out: Vec<Finding> = off
        .iter()
        .map(|s| {
            let others = if fine.is_empty() {
                String::new()
            } else {
                format!(" ({} in step with this machine)", others(&fine))
            };
            Finding::problem(
                &s.subject,
                "clock",
                format!(
                    "{} {} this machine, more than {limit}{others}",
                    seconds(s.offset_ms.abs()),
                    if s.offset_ms > 0 {
                        "ahead of"
                    } else {
                        "behind"
                    },
                ),
                FIX_DATABASE,
            )
        })
        .collect();
    if !fine.is_empty() {
        out.push(Finding::ok(
            "clocks",
            "in step",
            format!("{} within {limit} of this machine", others(&fine)),
        ));
    }
    out
}

fn others(samples: &[&ClockSample]) -> String {
    let names: Vec<&str> = samples.iter().map(|s| s.subject.as_str()).collect();
    names.join(", ")
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 database".to_owned()
    } else {
        format!("{n} databases")
    }
}

/// `2.0 s`, `0.004 s`: milliseconds matter when the clocks are fine, tenths when not.
fn seconds(ms: i64) -> String {
    if ms < 1000 {
        format!("{:.3} s", ms as f64 / 1000.0)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::Status;
    use super::*;

    fn at(subject: &str, offset_ms: i64) -> ClockSample {
        ClockSample {
            subject: subject.to_owned(),
            offset_ms,
            uncertainty_ms: 1,
        }
    }

    fn problems(findings: &[Finding]) -> Vec<(&str, &str)> {
        findings
            .iter()
            .filter(|f| f.status == Status::Problem)
            .map(|f| (f.subject.as_str(), f.detail.as_str()))
            .collect()
    }

    #[test]
    fn clocks_within_the_threshold_are_in_step_and_the_largest_difference_is_said() {
        let samples = [at("central", 3), at("region quthing", -1_500)];
        let findings = judge(&samples, 2_000);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].status, Status::Ok);
        assert!(findings[0].detail.contains("2 databases within 2.0 s"));
        assert!(findings[0].detail.contains("largest difference 1.5 s"));
    }

    #[test]
    fn one_database_ahead_is_named_with_how_far_while_the_others_are_in_step() {
        let samples = [
            at("central", 2),
            at("region leribe", 5_300),
            at("region quthing", -4),
        ];
        let findings = judge(&samples, 2_000);
        let problems = problems(&findings);
        assert_eq!(problems.len(), 1, "{findings:#?}");
        assert_eq!(problems[0].0, "region leribe");
        assert!(problems[0].1.starts_with("5.3 s ahead of this machine"));
        assert!(problems[0].1.contains("central, region quthing in step"));
        let fine = findings.iter().find(|f| f.status == Status::Ok).unwrap();
        assert!(fine.detail.contains("central, region quthing"));
    }

    #[test]
    fn a_database_behind_is_said_to_be_behind() {
        let findings = judge(&[at("central", -2_500)], 2_000);
        assert_eq!(
            problems(&findings),
            [("central", "2.5 s behind this machine, more than 2.0 s")]
        );
    }

    #[test]
    fn when_every_database_agrees_but_this_machine_does_not_this_machine_is_blamed_once() {
        let samples = [
            at("central", 10_000),
            at("region leribe", 10_200),
            at("region quthing", 9_800),
        ];
        let findings = judge(&samples, 2_000);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].subject, "clocks");
        assert!(
            findings[0]
                .detail
                .starts_with("this machine's clock is 10.0 s behind every database"),
            "{}",
            findings[0].detail
        );
        assert!(findings[0].fix.as_deref().unwrap().contains("this machine"));
    }

    #[test]
    fn databases_off_in_different_directions_are_each_named() {
        let samples = [at("central", 3_000), at("region quthing", -3_000)];
        let findings = judge(&samples, 2_000);
        let named: Vec<&str> = problems(&findings).iter().map(|p| p.0).collect();
        assert_eq!(named, ["central", "region quthing"]);
    }

    #[test]
    fn a_slow_round_trip_is_allowed_for_before_a_clock_is_called_off() {
        let slow = ClockSample {
            uncertainty_ms: 800,
            ..at("central", 2_500)
        };
        assert!(problems(&judge(&[slow], 2_000)).is_empty());
    }

    #[test]
    fn the_offset_is_measured_from_the_middle_of_the_round_trip() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let ms = chrono::Duration::milliseconds;
        let sample = ClockSample::measure("central", t0, t0 + ms(3_050), t0 + ms(100));
        assert_eq!((sample.offset_ms, sample.uncertainty_ms), (3_000, 50));
    }

    #[test]
    fn no_answer_from_any_database_skips_the_judgement() {
        assert_eq!(judge(&[], 2_000)[0].status, Status::Skipped);
    }
}
