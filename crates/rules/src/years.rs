//! Contribution years (缴费年限): paid months per insurance type and deemed
//! years (视同缴费年限), each month counted once (R2.4, R6.4).
//!
//! A person who worked for two employers in the same month contributed for
//! that month, not for two: months are counted as the union of the paid
//! periods. Deemed years count for pension only, need their evidence (the
//! archive that proves the pre-reform service), and never add a month already
//! paid.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RuleError};
use crate::id::CreditCode;
use crate::insurance::InsuranceType;
use crate::period::{MonthRange, distinct_months};

/// A period of paid contributions of one insurance type with one employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidPeriod {
    /// The insurance type.
    pub insurance: InsuranceType,
    /// The employer, `None` for flexible employment (灵活就业).
    pub employer: Option<CreditCode>,
    /// The months paid.
    pub months: MonthRange,
}

/// A deemed contribution period (视同缴费年限) with the evidence that backs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeemedPeriod {
    /// The months deemed.
    pub months: MonthRange,
    /// The evidence, e.g. the archive reference of the approval; never empty.
    pub evidence: String,
}

/// A number of months shown as years and months (15 years 6 months).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct YearsMonths(pub u32);

impl YearsMonths {
    /// Returns the total number of months.
    pub const fn total_months(self) -> u32 {
        self.0
    }
    /// Returns the completed years.
    pub const fn years(self) -> u32 {
        self.0 / 12
    }
    /// Returns the months beyond the completed years.
    pub const fn months(self) -> u32 {
        self.0 % 12
    }
}

impl fmt::Display for YearsMonths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} years {} months", self.years(), self.months())
    }
}

/// A person's contribution years (R2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionYears {
    /// Distinct paid months per insurance type, in the order of [`InsuranceType::ALL`].
    pub paid: [YearsMonths; 5],
    /// Distinct deemed months.
    pub deemed: YearsMonths,
    /// Pension months: paid pension months and deemed months, each month once.
    pub pension_total: YearsMonths,
}

impl ContributionYears {
    /// Returns the distinct paid months of one insurance type.
    pub const fn paid(&self, insurance: InsuranceType) -> YearsMonths {
        self.paid[insurance.index()]
    }

    /// Returns the deemed months that count, i.e. not overlapping paid pension
    /// months.
    pub const fn deemed_counted(&self) -> YearsMonths {
        YearsMonths(self.pension_total.0 - self.paid[0].0)
    }
}

/// Computes contribution years from paid periods and deemed periods (R2.4,
/// R6.4): no month is counted twice across overlapping employers; deemed
/// periods count for pension only and must carry evidence
/// ([`RuleError::DeemedWithoutEvidence`] otherwise).
pub fn contribution_years(
    paid: &[PaidPeriod],
    deemed: &[DeemedPeriod],
) -> Result<ContributionYears> {
    for d in deemed {
        if d.evidence.trim().is_empty() {
            return Err(RuleError::DeemedWithoutEvidence {
                from: d.months.from(),
                to: d.months.to(),
            });
        }
    }
    let mut per_type: [YearsMonths; 5] = Default::default();
    for ty in InsuranceType::ALL {
        let ranges: Vec<MonthRange> = paid
            .iter()
            .filter(|p| p.insurance == ty)
            .map(|p| p.months)
            .collect();
        per_type[ty.index()] = YearsMonths(distinct_months(&ranges));
    }
    let deemed_ranges: Vec<MonthRange> = deemed.iter().map(|d| d.months).collect();
    let mut pension_ranges: Vec<MonthRange> = paid
        .iter()
        .filter(|p| p.insurance == InsuranceType::Pension)
        .map(|p| p.months)
        .collect();
    pension_ranges.extend_from_slice(&deemed_ranges);
    Ok(ContributionYears {
        paid: per_type,
        deemed: YearsMonths(distinct_months(&deemed_ranges)),
        pension_total: YearsMonths(distinct_months(&pension_ranges)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Month;

    fn range(a: u32, b: u32) -> MonthRange {
        MonthRange::new(
            Month::from_yyyymm(a).unwrap(),
            Month::from_yyyymm(b).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_month_with_two_employers_counts_once() {
        // R6.4: contribution years are computed, no month counted twice
        let e1 = CreditCode::parse("91350100M000100Y43").ok();
        let paid = [
            PaidPeriod {
                insurance: InsuranceType::Pension,
                employer: e1,
                months: range(201001, 201912),
            },
            PaidPeriod {
                insurance: InsuranceType::Pension,
                employer: None,
                months: range(201906, 202005),
            },
            PaidPeriod {
                insurance: InsuranceType::Medical,
                employer: e1,
                months: range(201001, 201012),
            },
        ];
        let y = contribution_years(&paid, &[]).unwrap();
        assert_eq!(y.paid(InsuranceType::Pension), YearsMonths(125));
        assert_eq!(
            y.paid(InsuranceType::Pension).to_string(),
            "10 years 5 months"
        );
        assert_eq!(y.paid(InsuranceType::Medical).total_months(), 12);
        assert_eq!(y.paid(InsuranceType::Maternity).total_months(), 0);
        assert_eq!(y.pension_total, YearsMonths(125));
    }

    #[test]
    fn deemed_years_count_for_pension_without_doubling_paid_months() {
        let paid = [PaidPeriod {
            insurance: InsuranceType::Pension,
            employer: None,
            months: range(199201, 200112),
        }];
        let deemed = [DeemedPeriod {
            months: range(198501, 199212),
            evidence: "archive 1993-0042".into(),
        }];
        let y = contribution_years(&paid, &deemed).unwrap();
        assert_eq!(y.deemed, YearsMonths(96));
        assert_eq!(y.pension_total, YearsMonths(204));
        assert_eq!(y.deemed_counted(), YearsMonths(84));
    }

    #[test]
    fn deemed_years_without_evidence_are_refused() {
        let deemed = [DeemedPeriod {
            months: range(198501, 199112),
            evidence: "  ".into(),
        }];
        assert!(matches!(
            contribution_years(&[], &deemed),
            Err(RuleError::DeemedWithoutEvidence { .. })
        ));
    }
}
