//! How two birth dates compare, for the duplicate check: the kinds of agreement clerks'
//! slips produce (a day off, day and month swapped, a year mistyped), each with its
//! weight and the words the clerk is shown.

use super::weight;
use super::{CLOSE_DAYS, GENERATION_DAYS};
use chrono::{Datelike, NaiveDate};

/// How two birth dates compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Birth {
    Same,
    /// This many days apart, a week at most.
    Within(i64),
    DayMonthSwapped,
    YearOffByOne,
    SameYear,
    Near,
    Far,
    Generation,
}

impl Birth {
    pub(super) fn of(new: NaiveDate, old: NaiveDate) -> Birth {
        let days = (new - old).num_days().abs();
        let same_year = new.year() == old.year();
        let same_day = new.month() == old.month() && new.day() == old.day();
        match days {
            0 => Birth::Same,
            d if d <= CLOSE_DAYS => Birth::Within(d),
            _ if same_year && new.day() == old.month() && new.month() == old.day() => {
                Birth::DayMonthSwapped
            }
            _ if same_day && new.year().abs_diff(old.year()) == 1 => Birth::YearOffByOne,
            _ if same_year => Birth::SameYear,
            d if d <= 366 => Birth::Near,
            d if d < GENERATION_DAYS => Birth::Far,
            _ => Birth::Generation,
        }
    }

    pub(super) fn weight(self) -> f64 {
        match self {
            Birth::Same => weight::BIRTH_SAME,
            Birth::Within(_) => weight::BIRTH_WITHIN_DAYS,
            Birth::DayMonthSwapped => weight::BIRTH_DAY_MONTH_SWAPPED,
            Birth::YearOffByOne => weight::BIRTH_YEAR_OFF_BY_ONE,
            Birth::SameYear => weight::BIRTH_SAME_YEAR,
            Birth::Near => weight::BIRTH_NEAR,
            Birth::Far => weight::BIRTH_FAR,
            Birth::Generation => weight::BIRTH_GENERATION,
        }
    }

    /// What the clerk is told, when the dates agree in some way.
    pub(super) fn reason(self, new: NaiveDate, old: NaiveDate) -> Option<String> {
        Some(match self {
            Birth::Same => format!("same birth date {old}"),
            Birth::Within(1) => format!("birth date {new} is one day from {old}"),
            Birth::Within(days) => format!("birth date {new} is {days} days from {old}"),
            Birth::DayMonthSwapped => {
                format!("day and month swapped: birth date {new} against {old}")
            }
            Birth::YearOffByOne => format!(
                "same birth day and month, year {} against {}",
                new.year(),
                old.year()
            ),
            Birth::SameYear => format!("same birth year {}", old.year()),
            Birth::Near | Birth::Far | Birth::Generation => return None,
        })
    }
}
