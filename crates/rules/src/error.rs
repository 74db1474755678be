//! Errors of the computations: what went wrong when a rule was applied to facts.
//!
//! Loading a rule book has its own error ([`crate::RuleBookError`]); parsing an
//! identifier has [`crate::IdError`]; parsing a month has
//! [`crate::PeriodError`]. This enum is for everything that happens after the
//! inputs are well-formed values (R6.4).

use crate::insurance::InsuranceType;
use crate::money::Fen;
use crate::period::Month;

/// A computation of the record could not be carried out (R6.4).
///
/// Every variant names the facts that were missing or wrong, so that the
/// caller can turn it into a field violation without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule book has no entry at all for the region.
    #[error("no rules for region {region}")]
    UnknownRegion {
        /// The region asked for.
        region: String,
    },
    /// No rule set of this insurance type is in force in the region that month.
    #[error("no {insurance} rule in force for region {region} in {month}")]
    NoRuleInForce {
        /// The region asked for.
        region: String,
        /// The insurance type asked for.
        insurance: InsuranceType,
        /// The month asked for.
        month: Month,
    },
    /// No benefit rules (retirement ages, divisors, transfer rates) are in force.
    #[error("no benefit rules in force for region {region} in {month}")]
    NoBenefitRulesInForce {
        /// The region asked for.
        region: String,
        /// The month asked for.
        month: Month,
    },
    /// A year-end roll-over needs the year's account interest rate and the book has none.
    #[error("no account interest rate for region {region} in {year}")]
    NoInterestRate {
        /// The region asked for.
        region: String,
        /// The year whose rate is missing.
        year: i32,
    },
    /// A declared wage was negative.
    #[error("declared wage {0} is negative")]
    NegativeWage(Fen),
    /// An amount that must not be negative (a credit, a base) was negative.
    #[error("{what} {amount} is negative")]
    NegativeAmount {
        /// What the amount was.
        what: &'static str,
        /// The amount.
        amount: Fen,
    },
    /// A sum or product left the range of the integer representation.
    #[error("arithmetic overflow while computing {0}")]
    Overflow(&'static str),
    /// A deemed contribution period (视同缴费年限) came without its evidence.
    #[error("deemed contribution period {from}..{to} has no evidence")]
    DeemedWithoutEvidence {
        /// First month of the period.
        from: Month,
        /// Last month of the period.
        to: Month,
    },
    /// An input was outside the domain of the computation.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// The result of a computation of this crate.
pub type Result<T, E = RuleError> = std::result::Result<T, E>;
