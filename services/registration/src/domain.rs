//! Registration facts as domain types: a value of these types has passed
//! every check (GB 11643, GB 32100, a real month), so an invalid ID number
//! cannot reach storage.

use chrono::{DateTime, NaiveDate, Utc};
use shebao_rules::{CitizenId, CreditCode, Month, Sex};

use crate::error::{RegistrationError, Result};

/// Checks a human-readable name: trimmed, 1 to `max` characters, no control characters.
pub fn parse_name(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let name = raw.trim();
    let invalid = |reason: String| RegistrationError::Invalid { field, reason };
    if name.is_empty() {
        return Err(invalid("must not be empty".into()));
    }
    let chars = name.chars().count();
    if chars > max {
        return Err(invalid(format!(
            "must be at most {max} characters, got {chars}"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters".into()));
    }
    Ok(name.to_string())
}

/// Parses a citizen ID number, naming `field` on error.
pub fn parse_citizen_id(field: &'static str, raw: &str) -> Result<CitizenId> {
    CitizenId::parse(raw).map_err(|e| RegistrationError::Invalid {
        field,
        reason: e.to_string(),
    })
}

/// Parses a unified social credit code, naming `field` on error.
pub fn parse_credit_code(field: &'static str, raw: &str) -> Result<CreditCode> {
    CreditCode::parse(raw).map_err(|e| RegistrationError::Invalid {
        field,
        reason: e.to_string(),
    })
}

/// Parses a YYYYMM month, naming `field` on error.
pub fn parse_month(field: &'static str, raw: u32) -> Result<Month> {
    Month::from_yyyymm(raw).map_err(|e| RegistrationError::Invalid {
        field,
        reason: e.to_string(),
    })
}

/// A registered insured person (参保人员).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Normalised citizen ID number.
    pub citizen_id: CitizenId,
    /// Name as on the identity document.
    pub name: String,
    /// When the registration was recorded.
    pub registered_at: DateTime<Utc>,
    /// Who recorded it.
    pub registered_by: String,
}

impl Person {
    /// Birth date, derived from the ID number (GB 11643).
    pub fn birth_date(&self) -> NaiveDate {
        self.citizen_id.birth_date()
    }

    /// Sex, derived from the ID number (GB 11643).
    pub fn sex(&self) -> Sex {
        self.citizen_id.sex()
    }
}

/// A registered employer (用人单位).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employer {
    /// Unified social credit code.
    pub credit_code: CreditCode,
    /// Registered name.
    pub name: String,
    /// When the registration was recorded.
    pub registered_at: DateTime<Utc>,
    /// Who recorded it.
    pub registered_by: String,
}

/// The fact that a person works for an employer from a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employment {
    /// The person.
    pub citizen_id: CitizenId,
    /// The employer.
    pub credit_code: CreditCode,
    /// First month of employment.
    pub start_month: Month,
    /// When the fact was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_or_overlong_name_is_rejected() {
        assert!(parse_name("name", "   ", 64).is_err());
        assert!(parse_name("name", &"张".repeat(65), 64).is_err());
        assert!(parse_name("name", "a\u{0}b", 64).is_err());
        assert_eq!(
            parse_name("name", " 张三 ", 64).ok().as_deref(),
            Some("张三")
        );
    }

    #[test]
    fn an_id_with_a_wrong_check_character_is_rejected_naming_the_field() {
        // R5.2: information is verified before it enters the record
        match parse_citizen_id("citizen_id", "110105194912310021") {
            Err(RegistrationError::Invalid { field, .. }) => assert_eq!(field, "citizen_id"),
            other => panic!("expected invalid, got {other:?}"),
        }
    }
}
