//! An injected clock (STYLE 14): timestamps of facts and audit entries come
//! from here, so tests can fix time.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Returns the current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always answers the same instant; for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Converts an instant to a protobuf timestamp.
pub fn to_timestamp(at: DateTime<Utc>) -> shebao_api::Timestamp {
    shebao_api::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// Converts a stored RFC 3339 instant to a protobuf timestamp; an unreadable
/// value becomes the epoch rather than failing a read.
pub fn parse_timestamp(rfc3339: &str) -> shebao_api::Timestamp {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|at| to_timestamp(at.with_timezone(&Utc)))
        .unwrap_or_default()
}

/// The agency's time zone, China Standard Time (UTC+8): record months and
/// grant validity follow the local calendar, not UTC.
pub const CHINA_STANDARD_TIME: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    // Evaluated at compile time: an invalid offset fails the build, never a request.
    None => panic!("UTC+8 is a valid offset"),
};

/// The agency's calendar day at `now`.
pub fn agency_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&CHINA_STANDARD_TIME).date_naive()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_agency_day_begins_at_midnight_in_beijing() {
        let evening_utc = Utc
            .with_ymd_and_hms(2026, 1, 31, 16, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(
            agency_date(evening_utc),
            NaiveDate::from_ymd_opt(2026, 2, 1).expect("date")
        );
    }
}
