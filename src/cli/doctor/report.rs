//! What `hmis doctor` found, one line per check, in a form both a person at a terminal and
//! a script (`grep '^FAIL'`) can read: the status first, then what was checked, then what
//! to do about it on its own `fix:` line.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Problem,
    /// Not checked because an earlier check of the same database failed.
    Skipped,
}

/// One check's outcome: `subject` is what was checked (`config`, `central`,
/// `region quthing`), `check` the aspect (`reachable`, `migrations`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub subject: String,
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Finding {
    pub fn ok(subject: &str, check: &'static str, detail: impl Into<String>) -> Self {
        Self::new(subject, check, Status::Ok, detail.into(), None)
    }

    pub fn problem(
        subject: &str,
        check: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(
            subject,
            check,
            Status::Problem,
            detail.into(),
            Some(fix.into()),
        )
    }

    pub fn skipped(subject: &str, check: &'static str, why: impl Into<String>) -> Self {
        Self::new(subject, check, Status::Skipped, why.into(), None)
    }

    fn new(
        subject: &str,
        check: &'static str,
        status: Status,
        detail: String,
        fix: Option<String>,
    ) -> Self {
        Self {
            subject: subject.to_owned(),
            check,
            status,
            detail,
            fix,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.status {
            Status::Ok => "ok",
            Status::Problem => "FAIL",
            Status::Skipped => "skip",
        };
        // Continuation lines (a rule error's list) are indented under the first.
        let detail = self.detail.trim_end().replace('\n', "\n      ");
        write!(f, "{label:<4}  {}: {}: {detail}", self.subject, self.check)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n      fix: {fix}")?;
        }
        Ok(())
    }
}

/// The last line: how many problems, and where.
pub fn summary(findings: &[Finding]) -> String {
    let problems: Vec<String> = findings
        .iter()
        .filter(|f| f.status == Status::Problem)
        .map(|f| format!("{} ({})", f.subject, f.check))
        .collect();
    match problems.len() {
        0 => format!("all {} checks passed", findings.len()),
        1 => format!("1 problem: {}", problems[0]),
        n => format!("{n} problems: {}", problems.join(", ")),
    }
}
