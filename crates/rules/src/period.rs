//! Months (费款所属期, YYYYMM), ranges of months, and ages in months.
//!
//! Contribution periods, rule effective dates and benefit dates are all whole
//! months (DESIGN "Domain facts to get right"). A [`Month`] is a year and a
//! month between 1800-01 and 9999-12; arithmetic never panics.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The first year a [`Month`] may have: the oldest birth years of GB 11643
/// numbers are in the 1800s.
pub const MIN_YEAR: i32 = 1800;
/// The last year a [`Month`] may have.
pub const MAX_YEAR: i32 = 9999;

/// A text or number could not be read as a month or a range of months.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The number is not of the form YYYYMM with a month 01..12.
    #[error("{0} is not a month of the form YYYYMM")]
    NotAMonth(String),
    /// The year is outside 1800..=9999.
    #[error("year {0} is outside {MIN_YEAR}..={MAX_YEAR}")]
    YearOutOfRange(i64),
    /// A range ends before it starts.
    #[error("range {from}..={to} ends before it starts")]
    EmptyRange {
        /// First month.
        from: Month,
        /// Last month.
        to: Month,
    },
}

/// A calendar month, the unit of contribution periods (R2.2) and of rule
/// effective dates (R6.4).
///
/// Ordered by time; displays and parses as `YYYYMM` (`"202601"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32); // year * 12 + (month - 1)

impl Month {
    /// The earliest month, 1800-01.
    pub const MIN: Month = Month(MIN_YEAR * 12);
    /// The latest month, 9999-12.
    pub const MAX: Month = Month(MAX_YEAR * 12 + 11);

    /// Builds a month from a year and a month number 1..=12.
    pub fn new(year: i32, month: u32) -> Result<Month, PeriodError> {
        if !(1..=12).contains(&month) {
            return Err(PeriodError::NotAMonth(format!("{year:04}{month:02}")));
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError::YearOutOfRange(i64::from(year)));
        }
        Ok(Month(year * 12 + month as i32 - 1))
    }

    /// Reads `YYYYMM`, e.g. `202601`.
    pub fn from_yyyymm(yyyymm: u32) -> Result<Month, PeriodError> {
        let year = yyyymm / 100;
        let month = yyyymm % 100;
        if !(1..=12).contains(&month) {
            return Err(PeriodError::NotAMonth(yyyymm.to_string()));
        }
        let year = i32::try_from(year).map_err(|_| PeriodError::YearOutOfRange(i64::from(year)))?;
        Month::new(year, month)
    }

    /// Returns the month containing a date.
    pub fn of_date(date: NaiveDate) -> Result<Month, PeriodError> {
        Month::new(date.year(), date.month())
    }

    /// Returns `YYYYMM`.
    pub const fn yyyymm(self) -> u32 {
        (self.year() as u32) * 100 + self.month()
    }

    /// Returns the year.
    pub const fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// Returns the month number 1..=12.
    pub const fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// Returns the following month; 9999-12 is its own successor.
    pub fn next(self) -> Month {
        self.checked_add_months(1).unwrap_or(Month::MAX)
    }

    /// Returns the preceding month; 1800-01 is its own predecessor.
    pub fn prev(self) -> Month {
        self.checked_add_months(-1).unwrap_or(Month::MIN)
    }

    /// Adds (or, if negative, subtracts) months; `None` outside 1800-01..=9999-12.
    pub fn checked_add_months(self, months: i32) -> Option<Month> {
        let m = Month(self.0.checked_add(months)?);
        (Month::MIN..=Month::MAX).contains(&m).then_some(m)
    }

    /// Returns the number of months from `earlier` to `self` (negative if
    /// `earlier` is later): 202602 since 202511 is 3.
    pub const fn months_since(self, earlier: Month) -> i32 {
        self.0 - earlier.0
    }

    /// Returns January of the month's year.
    pub const fn january(self) -> Month {
        Month(self.year() * 12)
    }

    /// Returns December of the month's year.
    pub const fn december(self) -> Month {
        Month(self.year() * 12 + 11)
    }

    /// Returns the first day of the month.
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year(), self.month())
    }
}

impl FromStr for Month {
    type Err = PeriodError;

    /// Reads `YYYYMM` or `YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits: String = t.chars().filter(|c| *c != '-').collect();
        let dashed_ok = !t.contains('-') || (t.len() == 7 && t.as_bytes().get(4) == Some(&b'-'));
        if digits.len() != 6 || !dashed_ok || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PeriodError::NotAMonth(s.to_owned()));
        }
        let n: u32 = digits
            .parse()
            .map_err(|_| PeriodError::NotAMonth(s.to_owned()))?;
        Month::from_yyyymm(n)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.yyyymm())
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(deserializer)?;
        Month::from_yyyymm(n).map_err(serde::de::Error::custom)
    }
}

/// Returns a person's age in completed months at the end of month `at`.
///
/// Ages of the record are counted in months: a person born on any day of
/// 1965-03 is 720 months (60 years) old in 2025-03 (the statutory retirement
/// age is reached in the birth month). Negative before the birth month.
pub fn age_in_months(birth: NaiveDate, at: Month) -> i32 {
    let born = birth.year() * 12 + birth.month0() as i32;
    at.0 - born
}

/// An inclusive range of months, `from..=to`, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawRange", into = "RawRange")]
pub struct MonthRange {
    from: Month,
    to: Month,
}

#[derive(Serialize, Deserialize)]
struct RawRange {
    from: Month,
    to: Month,
}

impl TryFrom<RawRange> for MonthRange {
    type Error = PeriodError;
    fn try_from(r: RawRange) -> Result<Self, Self::Error> {
        MonthRange::new(r.from, r.to)
    }
}

impl From<MonthRange> for RawRange {
    fn from(r: MonthRange) -> Self {
        RawRange {
            from: r.from,
            to: r.to,
        }
    }
}

impl MonthRange {
    /// Builds `from..=to`; an error if `to` is before `from`.
    pub fn new(from: Month, to: Month) -> Result<MonthRange, PeriodError> {
        if to < from {
            return Err(PeriodError::EmptyRange { from, to });
        }
        Ok(MonthRange { from, to })
    }

    /// The range of one month.
    pub const fn single(month: Month) -> MonthRange {
        MonthRange {
            from: month,
            to: month,
        }
    }

    /// Returns the first month.
    pub const fn from(self) -> Month {
        self.from
    }

    /// Returns the last month.
    pub const fn to(self) -> Month {
        self.to
    }

    /// Returns the number of months in the range (at least 1).
    pub const fn len(self) -> u32 {
        (self.to.0 - self.from.0) as u32 + 1
    }

    /// Always false: a range holds at least one month.
    pub const fn is_empty(self) -> bool {
        false
    }

    /// Returns true when `month` is in the range.
    pub fn contains(self, month: Month) -> bool {
        self.from <= month && month <= self.to
    }

    /// Returns true when the two ranges share a month.
    pub fn overlaps(self, other: MonthRange) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    /// Returns the months the two ranges share, if any.
    pub fn intersect(self, other: MonthRange) -> Option<MonthRange> {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        (from <= to).then_some(MonthRange { from, to })
    }

    /// Iterates over the months of the range in order.
    pub fn iter(self) -> impl Iterator<Item = Month> {
        (self.from.0..=self.to.0).map(Month)
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.from, self.to)
    }
}

/// Returns the number of distinct months covered by `ranges`, counting a
/// month covered by several ranges once (R6.4: no month counted twice).
pub fn distinct_months(ranges: &[MonthRange]) -> u32 {
    let mut sorted: Vec<MonthRange> = ranges.to_vec();
    sorted.sort_unstable();
    let mut total: u32 = 0;
    let mut current: Option<MonthRange> = None;
    for r in sorted {
        current = match current {
            Some(c) if r.from.0 <= c.to.0 + 1 => Some(MonthRange {
                from: c.from,
                to: c.to.max(r.to),
            }),
            Some(c) => {
                total += c.len();
                Some(r)
            }
            None => Some(r),
        };
    }
    if let Some(c) = current {
        total += c.len();
    }
    total
}

/// Returns the union of `ranges` as sorted, disjoint, non-adjacent ranges.
pub fn merge_ranges(ranges: &[MonthRange]) -> Vec<MonthRange> {
    let mut sorted: Vec<MonthRange> = ranges.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<MonthRange> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.from.0 <= last.to.0 + 1 => last.to = last.to.max(r.to),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u32) -> Month {
        Month::from_yyyymm(n).unwrap_or(Month::MIN)
    }

    #[test]
    fn a_month_round_trips_through_yyyymm() {
        let month = m(202601);
        assert_eq!(month.yyyymm(), 202601);
        assert_eq!(month.year(), 2026);
        assert_eq!(month.month(), 1);
        assert_eq!(month.to_string(), "202601");
        assert_eq!("202601".parse::<Month>(), Ok(month));
        assert_eq!("2026-01".parse::<Month>(), Ok(month));
    }

    #[test]
    fn a_month_number_outside_one_to_twelve_is_refused() {
        assert!(Month::from_yyyymm(202613).is_err());
        assert!(Month::from_yyyymm(202600).is_err());
        assert!(Month::from_yyyymm(179912).is_err());
        assert!("20261".parse::<Month>().is_err());
        assert!("2026-1".parse::<Month>().is_err());
        assert!("abcdef".parse::<Month>().is_err());
    }

    #[test]
    fn month_arithmetic_crosses_year_ends() {
        assert_eq!(m(202512).next(), m(202601));
        assert_eq!(m(202601).prev(), m(202512));
        assert_eq!(m(202602).months_since(m(202511)), 3);
        assert_eq!(m(202605).checked_add_months(-17), Some(m(202412)));
        assert_eq!(Month::MAX.next(), Month::MAX);
        assert_eq!(Month::MIN.prev(), Month::MIN);
    }

    #[test]
    fn age_in_months_counts_the_birth_month_as_reached() {
        let birth = NaiveDate::from_ymd_opt(1965, 3, 31).unwrap_or_default();
        assert_eq!(age_in_months(birth, m(202503)), 720);
        assert_eq!(age_in_months(birth, m(202502)), 719);
    }

    #[test]
    fn overlapping_ranges_count_each_month_once() {
        // R6.4: no month counted twice across overlapping employers
        let a = MonthRange::new(m(202001), m(202012)).unwrap_or(MonthRange::single(Month::MIN));
        let b = MonthRange::new(m(202006), m(202103)).unwrap_or(MonthRange::single(Month::MIN));
        let c = MonthRange::new(m(202105), m(202105)).unwrap_or(MonthRange::single(Month::MIN));
        assert_eq!(distinct_months(&[a, b, c]), 16);
        assert_eq!(merge_ranges(&[c, a, b]).len(), 2);
        assert!(MonthRange::new(m(202002), m(202001)).is_err());
    }
}
