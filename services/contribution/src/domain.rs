//! Contribution facts as domain types. A value of these types has passed
//! every check (GB 11643, GB 32100, a real month that has begun, a
//! plausible wage), and every amount in them was computed by the rule book
//! (R6.4): this module holds no rate, floor, ceiling or formula of its own.

use chrono::{DateTime, Utc};
use shebao_rules::{
    AccountBalance, Assessment, AssessmentLine, CitizenId, CreditCode, Fen, InsuranceType, Month,
    RegionCode, RuleBook,
};

use crate::error::{ContributionError, Result};

/// Largest declared monthly wage accepted: 100 million yuan. Not a rule of
/// contribution (the base is clamped by the rule book); a bound on what can
/// plausibly be a monthly wage, so that a slipped keystroke is refused.
pub const MAX_DECLARED_WAGE: Fen = Fen::new(10_000_000_000);

/// Parses a citizen ID number, naming `field` on error.
pub fn parse_citizen_id(field: &'static str, raw: &str) -> Result<CitizenId> {
    CitizenId::parse(raw).map_err(|e| ContributionError::Invalid {
        field,
        reason: e.to_string(),
    })
}

/// Parses a unified social credit code, naming `field` on error.
pub fn parse_credit_code(field: &'static str, raw: &str) -> Result<CreditCode> {
    CreditCode::parse(raw).map_err(|e| ContributionError::Invalid {
        field,
        reason: e.to_string(),
    })
}

/// Parses a YYYYMM month, naming `field` on error.
pub fn parse_month(field: &'static str, raw: u32) -> Result<Month> {
    Month::from_yyyymm(raw).map_err(|e| ContributionError::Invalid {
        field,
        reason: e.to_string(),
    })
}

/// Parses a month that must not lie after `current`, naming `field` on error.
pub fn parse_past_month(field: &'static str, raw: u32, current: Month) -> Result<Month> {
    let month = parse_month(field, raw)?;
    if month > current {
        return Err(ContributionError::Invalid {
            field,
            reason: format!("{month} is after the current month {current}"),
        });
    }
    Ok(month)
}

/// Parses a declared monthly wage in fen: zero or more, at most [`MAX_DECLARED_WAGE`].
pub fn parse_declared_wage(field: &'static str, raw: i64) -> Result<Fen> {
    let wage = Fen::new(raw);
    if wage.is_negative() {
        return Err(ContributionError::Invalid {
            field,
            reason: format!("must be zero or more, got {raw}"),
        });
    }
    if wage > MAX_DECLARED_WAGE {
        return Err(ContributionError::Invalid {
            field,
            reason: format!(
                "must be at most {MAX_DECLARED_WAGE} yuan ({} fen), got {raw}",
                MAX_DECLARED_WAGE.fen()
            ),
        });
    }
    Ok(wage)
}

/// The month of the record that contains `now` (China Standard Time).
pub fn current_month(now: DateTime<Utc>) -> Result<Month> {
    Month::of_date(shebao_kernel::clock::agency_date(now)).map_err(ContributionError::Clock)
}

/// A wage declaration that passed every check: an employer, a person, a
/// month that has begun and a plausible wage. It carries no amount: those
/// are computed (R6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The declaring employer.
    pub credit_code: CreditCode,
    /// The employee.
    pub citizen_id: CitizenId,
    /// The contribution month (费款所属期).
    pub month: Month,
    /// The declared monthly wage (缴费工资).
    pub declared_wage: Fen,
}

/// The fact, from registration, that a person works for an employer from a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employment {
    /// The employer.
    pub credit_code: CreditCode,
    /// First month of employment.
    pub start_month: Month,
}

impl Declaration {
    /// True when `employments` show the person employed by the declaring
    /// employer in the declared month.
    pub fn is_covered_by(&self, employments: &[Employment]) -> bool {
        employments
            .iter()
            .any(|e| e.credit_code == self.credit_code && e.start_month <= self.month)
    }
}

/// A recorded monthly contribution of one person at one employer: the
/// declaration and the assessment the rule book computed for it (R2.2, R6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The person.
    pub citizen_id: CitizenId,
    /// The employer.
    pub credit_code: CreditCode,
    /// The month, the declared wage and one computed line per insurance
    /// type in force, each naming the rule that produced it.
    pub assessment: Assessment,
    /// When the declaration was recorded.
    pub declared_at: DateTime<Utc>,
    /// Who declared it.
    pub declared_by: String,
}

impl Contribution {
    /// The contribution month.
    pub fn month(&self) -> Month {
        self.assessment.month
    }

    /// The pension line, which carries the individual-account credit.
    pub fn pension_line(&self) -> Option<&AssessmentLine> {
        self.assessment.line(InsuranceType::Pension)
    }
}

/// A person's pension individual account as recomputed for a month (R2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndividualAccount {
    /// The person.
    pub citizen_id: CitizenId,
    /// The month whose end the balance is computed for.
    pub as_of: Month,
    /// Principal, interest and their sum, as the rule book computed them.
    pub balance: AccountBalance,
}

/// The rule book and the region of this deployment: the only place amounts
/// come from (R6.4).
#[derive(Debug, Clone)]
pub struct RegionRules {
    book: RuleBook,
    region: RegionCode,
}

impl RegionRules {
    /// The rules of `region` in `book`; the caller has checked that the
    /// book has the region.
    pub fn new(book: RuleBook, region: RegionCode) -> Self {
        Self { book, region }
    }

    /// The region whose rules apply.
    pub fn region(&self) -> &RegionCode {
        &self.region
    }

    /// Computes the contribution of a declaration by the rules in force in
    /// its month; `Precondition` when no rule is in force.
    pub fn assess(&self, declaration: &Declaration) -> Result<Assessment> {
        Ok(self
            .book
            .assess(&self.region, declaration.month, declaration.declared_wage)?)
    }

    /// Recomputes the pension individual account from its credits as of the
    /// end of `at` (R2.4); `Precondition` when an interest rate is missing.
    pub fn account_balance(&self, credits: &[(Month, Fen)], at: Month) -> Result<AccountBalance> {
        Ok(self.book.account_balance(&self.region, credits, at)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn month(n: u32) -> Month {
        Month::from_yyyymm(n).expect("month")
    }

    fn code(raw: &str) -> CreditCode {
        CreditCode::parse(raw).expect("credit code")
    }

    #[test]
    fn a_negative_or_implausible_wage_is_rejected_naming_the_field() {
        for raw in [-1, MAX_DECLARED_WAGE.fen() + 1, i64::MAX, i64::MIN] {
            match parse_declared_wage("declared_wage_fen", raw) {
                Err(ContributionError::Invalid { field, .. }) => {
                    assert_eq!(field, "declared_wage_fen")
                }
                other => panic!("{raw}: expected invalid, got {other:?}"),
            }
        }
        assert_eq!(
            parse_declared_wage("declared_wage_fen", 0).ok(),
            Some(Fen::ZERO)
        );
        assert_eq!(
            parse_declared_wage("declared_wage_fen", MAX_DECLARED_WAGE.fen()).ok(),
            Some(MAX_DECLARED_WAGE)
        );
    }

    #[test]
    fn a_month_after_the_current_month_is_rejected() {
        let current = month(202603);
        assert!(parse_past_month("month", 202603, current).is_ok());
        assert!(parse_past_month("month", 202512, current).is_ok());
        match parse_past_month("month", 202604, current) {
            Err(ContributionError::Invalid { field, .. }) => assert_eq!(field, "month"),
            other => panic!("expected invalid, got {other:?}"),
        }
        assert!(parse_past_month("month", 202613, current).is_err());
    }

    #[test]
    fn the_current_month_is_the_month_in_china_standard_time() {
        let late_utc = Utc
            .with_ymd_and_hms(2026, 1, 31, 17, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(current_month(late_utc).ok(), Some(month(202602)));
        let early_utc = Utc
            .with_ymd_and_hms(2026, 1, 31, 15, 59, 59)
            .single()
            .expect("instant");
        assert_eq!(current_month(early_utc).ok(), Some(month(202601)));
    }

    #[test]
    fn only_an_employment_at_the_employer_begun_by_the_month_covers_a_declaration() {
        let a = code("91350100M000100Y43");
        let b = code("91350100M000200X5W");
        let declaration = Declaration {
            credit_code: a,
            citizen_id: CitizenId::parse("350102198001010011").expect("id"),
            month: month(202601),
            declared_wage: Fen::new(500_000),
        };
        let at = |credit_code, start| Employment {
            credit_code,
            start_month: month(start),
        };
        assert!(declaration.is_covered_by(&[at(a, 202601)]));
        assert!(declaration.is_covered_by(&[at(b, 202001), at(a, 202312)]));
        assert!(!declaration.is_covered_by(&[at(a, 202602)]));
        assert!(!declaration.is_covered_by(&[at(b, 202001)]));
        assert!(!declaration.is_covered_by(&[]));
    }
}
