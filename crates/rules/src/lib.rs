//! shebao-rules: every computation of the social insurance record, exact to
//! the fen, as a pure library with no I/O beyond reading a rule book file.
//!
//! The regulation forbids typing in contribution amounts, benefit standards,
//! individual account balances and contribution years: the system computes
//! them from the original facts with business rules fixed in advance (R6.4).
//! Those rules change by region and by date, and a record must be
//! recomputable for any past month, so the rules are data: a [`RuleBook`]
//! loaded from TOML or YAML, versioned by region, insurance type and
//! effective month, validated on load.
//!
//! What is where:
//!
//! - identifiers ([`CitizenId`] GB 11643, [`CreditCode`] GB 32100,
//!   [`RegionCode`] GB/T 2260) in [`id`];
//! - money in integer fen ([`Fen`]), exact rates ([`Rate`]) and the one
//!   rounding rule ([`Rounding`]) in [`money`];
//! - months ([`Month`], YYYYMM) and ranges in [`period`];
//! - rule books ([`RuleBook::rule_in_force`]) in [`rulebook`];
//! - contribution assessment ([`RuleBook::assess`]) in [`contribution`];
//! - the individual account ledger ([`RuleBook::account_balance`],
//!   [`RuleBook::account_statement`]) in [`account`];
//! - contribution years ([`contribution_years`]) in [`years`];
//! - retirement age, eligibility and pension ([`RuleBook::retirement`],
//!   [`RuleBook::pension_eligibility`], [`RuleBook::pension_award`]) in
//!   [`pension`];
//! - transfer amounts ([`RuleBook::pension_transfer`]) in [`transfer`].
//!
//! ```
//! use shebao_rules::{Fen, Month, RuleBook};
//!
//! let book = RuleBook::default_book();
//! let region = *book.default_region();
//! let month = Month::from_yyyymm(202601)?;
//! let a = book.assess(&region, month, Fen::new(300_000))?; // declared 3000.00
//! let pension = &a.lines[0];
//! assert_eq!(pension.base.to_string(), "4800.00");
//! assert_eq!(pension.employer.to_string(), "768.00");
//! assert_eq!(pension.personal.to_string(), "384.00");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod account;
pub mod contribution;
pub mod error;
pub mod id;
pub mod insurance;
pub mod money;
pub mod pension;
pub mod period;
pub mod rulebook;
pub mod transfer;
pub mod years;

pub use account::{AccountBalance, AccountEntry, AccountStatement, CreditingMethod, YearEnd};
pub use contribution::{Assessment, AssessmentLine};
pub use error::RuleError;
pub use id::{CitizenId, CreditCode, IdError, RegionCode, Sex};
pub use insurance::InsuranceType;
pub use money::{AmountError, Fen, Rate, Rounding};
pub use pension::{
    Eligibility, IneligibleReason, PensionAward, PensionClaim, Retirement, RetirementCategory,
};
pub use period::{Month, MonthRange, PeriodError};
pub use rulebook::{RuleBook, RuleBookError, RuleSet};
pub use transfer::{PensionTransfer, PooledItem};
pub use years::{ContributionYears, DeemedPeriod, PaidPeriod, YearsMonths, contribution_years};
