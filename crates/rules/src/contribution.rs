//! Contribution assessment: from a declared wage to the base and the amounts
//! owed by employer and person for each insurance type (R2.2, R6.4).
//!
//! The base is the declared wage clamped to the floor and ceiling of the rule
//! set in force (typically 60 % and 300 % of the average wage); each amount is
//! the base times the rate, rounded once by the rule set's [`Rounding`].

use serde::{Deserialize, Serialize};

use crate::error::{Result, RuleError};
use crate::insurance::InsuranceType;
use crate::money::{Fen, Rounding};
use crate::period::Month;
use crate::rulebook::RuleSet;

/// The computed contributions of one declared wage for one month, one line
/// per insurance type in force (R2.2; computed, never typed: R6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The contribution month (费款所属期).
    pub month: Month,
    /// The declared wage (缴费工资) the assessment started from.
    pub declared_wage: Fen,
    /// One line per insurance type in force that month, in the order of
    /// [`InsuranceType::ALL`].
    pub lines: Vec<AssessmentLine>,
}

impl Assessment {
    /// Returns the sum of the employer amounts of all lines.
    pub fn employer_total(&self) -> Fen {
        sum(self.lines.iter().map(|l| l.employer))
    }

    /// Returns the sum of the personal amounts of all lines.
    pub fn personal_total(&self) -> Fen {
        sum(self.lines.iter().map(|l| l.personal))
    }

    /// Returns the sum of the individual-account credits of all lines.
    pub fn account_credit_total(&self) -> Fen {
        sum(self.lines.iter().map(|l| l.account_credit))
    }

    /// Returns the line of one insurance type, if it was in force.
    pub fn line(&self, insurance: InsuranceType) -> Option<&AssessmentLine> {
        self.lines.iter().find(|l| l.insurance == insurance)
    }
}

// Line amounts are bounded by validated ceilings (at most 10^13 fen), so five
// of them cannot overflow; saturate anyway rather than panic.
fn sum(amounts: impl Iterator<Item = Fen>) -> Fen {
    Fen::new(amounts.fold(0i64, |acc, a| acc.saturating_add(a.fen())))
}

/// The contribution of one insurance type for one month (R2.2, R6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentLine {
    /// The insurance type.
    pub insurance: InsuranceType,
    /// The stable id of the rule set applied, `region/type/YYYYMM`
    /// (e.g. `350100/pension/201905`), so that any amount can be traced to
    /// the rule that produced it (R6.4). Shared with the rule set, so an
    /// assessment allocates no strings.
    pub rule_id: std::sync::Arc<str>,
    /// The contribution base (缴费基数): the declared wage clamped to the
    /// rule's floor and ceiling.
    pub base: Fen,
    /// The employer's amount: base × employer rate, rounded once.
    pub employer: Fen,
    /// The person's amount: base × personal rate, rounded once.
    pub personal: Fen,
    /// The credit to the individual account: base × account rate, rounded once.
    pub account_credit: Fen,
}

/// The amounts of one line without its rule id: the allocation-free core of
/// an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAmounts {
    /// The clamped base.
    pub base: Fen,
    /// The employer's amount.
    pub employer: Fen,
    /// The person's amount.
    pub personal: Fen,
    /// The individual-account credit.
    pub account_credit: Fen,
}

impl RuleSet {
    /// Clamps a declared wage to the rule's base floor and ceiling
    /// (DESIGN "Domain facts": 60 % and 300 % of the average wage, typically).
    #[inline]
    pub fn clamp_base(&self, declared_wage: Fen) -> Fen {
        declared_wage.clamp(self.base_floor(), self.base_ceiling())
    }

    /// Computes base, employer, personal and account amounts for a declared
    /// wage under this rule (R6.4). A negative wage is refused.
    #[inline]
    pub fn amounts(&self, declared_wage: Fen) -> Result<LineAmounts> {
        if declared_wage.is_negative() {
            return Err(RuleError::NegativeWage(declared_wage));
        }
        let base = self.clamp_base(declared_wage);
        let rounding: Rounding = self.rounding();
        let overflow = || RuleError::Overflow("a contribution amount");
        Ok(LineAmounts {
            base,
            employer: self
                .employer_rate()
                .apply(base, rounding)
                .ok_or_else(overflow)?,
            personal: self
                .personal_rate()
                .apply(base, rounding)
                .ok_or_else(overflow)?,
            account_credit: self
                .account_rate()
                .apply(base, rounding)
                .ok_or_else(overflow)?,
        })
    }

    /// Computes the assessment line of a declared wage under this rule (R6.4).
    pub fn assess(&self, declared_wage: Fen) -> Result<AssessmentLine> {
        let a = self.amounts(declared_wage)?;
        Ok(AssessmentLine {
            insurance: self.insurance(),
            rule_id: self.shared_id(),
            base: a.base,
            employer: a.employer,
            personal: a.personal,
            account_credit: a.account_credit,
        })
    }
}
