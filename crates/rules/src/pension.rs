//! Pension entitlement: statutory retirement age, minimum contribution
//! years, eligibility and the monthly basic pension (R2.3, R6.4).
//!
//! - Retirement age (全国人大常委会 decision of 2024-09-13, in force
//!   2025-01-01): men 60 → 63 and women cadres 55 → 58, one month later per
//!   four months of birth; women workers 50 → 55, one month later per two
//!   months; flexible early retirement up to three years (never below the
//!   old age) once the minimum contribution is met.
//! - Minimum contribution for a monthly pension: 15 years until 2029, six
//!   months more each year from 2030, 20 years in 2039.
//! - Basic pension (国发〔2005〕38号): basic part = (average wage + indexed own
//!   wage) / 2 × contribution years × 1 %; account part = account balance /
//!   months divisor for the retirement age (139 at 60, 170 at 55, 195 at 50);
//!   a regional transitional part for deemed years.
//!
//! Every figure is rule-book data ([`BenefitRules`]) with effective dates.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Result, RuleError};
use crate::id::RegionCode;
use crate::id::Sex;
use crate::insurance::InsuranceType;
use crate::money::{Fen, MILLION, Rate, Rounding};
use crate::period::{Month, age_in_months};
use crate::rulebook::RuleBook;

/// The retirement category of a person: the law sets different ages for
/// men, women in cadre posts and women workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetirementCategory {
    /// Men (60, rising to 63).
    Male,
    /// Women in management and technical posts (55, rising to 58).
    FemaleCadre,
    /// Women workers (50, rising to 55).
    FemaleWorker,
}

impl RetirementCategory {
    /// The three categories.
    pub const ALL: [RetirementCategory; 3] = [
        RetirementCategory::Male,
        RetirementCategory::FemaleCadre,
        RetirementCategory::FemaleWorker,
    ];

    /// Returns the category of a person by sex and, for women, post.
    pub const fn of(sex: Sex, cadre_post: bool) -> RetirementCategory {
        match (sex, cadre_post) {
            (Sex::Male, _) => RetirementCategory::Male,
            (Sex::Female, true) => RetirementCategory::FemaleCadre,
            (Sex::Female, false) => RetirementCategory::FemaleWorker,
        }
    }

    /// Returns the stable name used in rule books.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetirementCategory::Male => "male",
            RetirementCategory::FemaleCadre => "female_cadre",
            RetirementCategory::FemaleWorker => "female_worker",
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            RetirementCategory::Male => 0,
            RetirementCategory::FemaleCadre => 1,
            RetirementCategory::FemaleWorker => 2,
        }
    }
}

/// The retirement age schedule of one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetirementRule {
    pub(crate) category: RetirementCategory,
    pub(crate) base_age_months: u32,
    pub(crate) target_age_months: u32,
    pub(crate) first_affected_birth: Option<Month>,
    pub(crate) birth_months_per_step: u32,
}

impl RetirementRule {
    /// Returns the category.
    pub const fn category(&self) -> RetirementCategory {
        self.category
    }

    /// Returns the old (pre-reform) age in months.
    pub const fn base_age_months(&self) -> u32 {
        self.base_age_months
    }

    /// Returns the statutory age in months of a person born on `birth`: the
    /// old age plus one month per `birth_months_per_step` months of birth
    /// from the first affected birth month, up to the target age.
    pub fn age_months(&self, birth: NaiveDate) -> u32 {
        let Some(first) = self.first_affected_birth else {
            return self.base_age_months;
        };
        let born = i64::from(birth.year()) * 12 + i64::from(birth.month0());
        let first = i64::from(first.year()) * 12 + i64::from(first.month() - 1);
        let since = born - first;
        if since < 0 {
            return self.base_age_months;
        }
        let delay = since / i64::from(self.birth_months_per_step.max(1)) + 1;
        let max_delay = i64::from(self.target_age_months - self.base_age_months);
        self.base_age_months + delay.min(max_delay) as u32
    }
}

/// The minimum contribution for a monthly pension, by year of retirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumContribution {
    pub(crate) months: u32,
    pub(crate) rising_from_year: Option<i32>,
    pub(crate) step_months: u32,
    pub(crate) max_months: u32,
}

impl MinimumContribution {
    /// Returns the minimum number of contribution months for a person
    /// retiring in `year`: 180 until 2029, 186 in 2030, ..., 240 from 2039.
    pub fn months_for_year(&self, year: i32) -> u32 {
        match self.rising_from_year {
            Some(first) if year >= first => {
                let steps = u32::try_from(year - first + 1).unwrap_or(u32::MAX);
                self.months
                    .saturating_add(steps.saturating_mul(self.step_months))
                    .min(self.max_months)
            }
            _ => self.months,
        }
    }
}

/// One version of a region's benefit rules (R2.3, R6.4): retirement ages,
/// flexible retirement, minimum contribution, months divisors, transitional
/// coefficient and transfer rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenefitRules {
    pub(crate) id: String,
    pub(crate) from: Month,
    pub(crate) to: Option<Month>,
    pub(crate) retirement: [RetirementRule; 3],
    pub(crate) flexible_early_months: u32,
    pub(crate) flexible_delay_months: u32,
    pub(crate) minimum: MinimumContribution,
    pub(crate) divisors: [u32; 31],
    pub(crate) transitional_rate: Option<Rate>,
    pub(crate) pooled_transfer_rate: Rate,
    pub(crate) pooled_transfer_since: Month,
    pub(crate) note: Option<String>,
}

impl BenefitRules {
    /// Returns the stable version id `region/benefit/YYYYMM`.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Returns the first month in force.
    pub const fn from(&self) -> Month {
        self.from
    }
    /// Returns the last month in force, `None` while open-ended.
    pub const fn to(&self) -> Option<Month> {
        self.to
    }
    /// Returns true when the rules are in force in `month`.
    pub fn covers(&self, month: Month) -> bool {
        self.from <= month && self.to.is_none_or(|to| month <= to)
    }
    /// Returns the retirement schedule of a category.
    pub const fn retirement(&self, category: RetirementCategory) -> &RetirementRule {
        &self.retirement[category.index()]
    }
    /// Returns how many months before the statutory age a person may retire
    /// (never below the old age).
    pub const fn flexible_early_months(&self) -> u32 {
        self.flexible_early_months
    }
    /// Returns how many months after the statutory age a person may delay.
    pub const fn flexible_delay_months(&self) -> u32 {
        self.flexible_delay_months
    }
    /// Returns the minimum contribution schedule.
    pub const fn minimum_contribution(&self) -> &MinimumContribution {
        &self.minimum
    }
    /// Returns the regional transitional coefficient, if the region has one.
    pub const fn transitional_rate(&self) -> Option<Rate> {
        self.transitional_rate
    }
    /// Returns the share of the contribution base the pooled fund transfers (12 %).
    pub const fn pooled_transfer_rate(&self) -> Rate {
        self.pooled_transfer_rate
    }
    /// Returns the first month whose base counts for the pooled transfer (1998-01).
    pub const fn pooled_transfer_since(&self) -> Month {
        self.pooled_transfer_since
    }
    /// Returns the book's note on the figures, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Returns the months divisor (计发月数) for a retirement age in months:
    /// the table entry of the completed years of age, clamped to 40..=70
    /// (国发〔2005〕38号: 139 at 60, 170 at 55, 195 at 50).
    pub fn divisor(&self, age_months: u32) -> u32 {
        let years = (age_months / 12).clamp(40, 70);
        self.divisors[(years - 40) as usize]
    }

    /// Returns the statutory retirement age of a person in months.
    pub fn statutory_age_months(&self, birth: NaiveDate, category: RetirementCategory) -> u32 {
        self.retirement(category).age_months(birth)
    }
}

/// A retirement age as years and months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgeMonths(pub u32);

impl AgeMonths {
    /// Returns the completed years.
    pub const fn years(self) -> u32 {
        self.0 / 12
    }
    /// Returns the months beyond the completed years.
    pub const fn months(self) -> u32 {
        self.0 % 12
    }
}

impl std::fmt::Display for AgeMonths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}y{}m", self.years(), self.months())
    }
}

/// A person's statutory retirement, under the rules in force when it falls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    /// The statutory age.
    pub age: AgeMonths,
    /// The month in which the age is reached; the pension is paid from the
    /// following month.
    pub month: Month,
    /// The earliest month of flexible early retirement (never below the old age).
    pub earliest_month: Month,
    /// The latest month of flexible delayed retirement.
    pub latest_month: Month,
    /// The id of the benefit rules applied.
    pub rule_id: String,
}

/// Why a person is not (yet) entitled to a monthly pension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IneligibleReason {
    /// The claim month is before the earliest (flexible) retirement month.
    BelowRetirementAge {
        /// The statutory retirement month.
        statutory_month: Month,
        /// The earliest month of flexible early retirement.
        earliest_month: Month,
    },
    /// Too few contribution months (paid and deemed) for the year of retirement.
    InsufficientContribution {
        /// The months the person has.
        have_months: u32,
        /// The months the year of retirement requires.
        need_months: u32,
    },
}

impl std::fmt::Display for IneligibleReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IneligibleReason::BelowRetirementAge {
                statutory_month,
                earliest_month,
            } => write!(
                f,
                "below retirement age: statutory retirement in {statutory_month}, earliest flexible retirement in {earliest_month}"
            ),
            IneligibleReason::InsufficientContribution {
                have_months,
                need_months,
            } => write!(
                f,
                "insufficient contribution: {have_months} months, {need_months} required"
            ),
        }
    }
}

/// The answer to "may this person draw a monthly pension from this month?" (R2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// True when there is no reason against.
    pub eligible: bool,
    /// The person's statutory retirement.
    pub retirement: Retirement,
    /// The minimum contribution months for the claim year.
    pub minimum_months: u32,
    /// Every reason against, empty when eligible.
    pub reasons: Vec<IneligibleReason>,
}

/// The facts a pension award is computed from (R6.4: computed, never typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PensionClaim {
    /// The birth date (from the citizen ID number).
    pub birth: NaiveDate,
    /// The retirement category.
    pub category: RetirementCategory,
    /// The month of retirement; the pension is paid from the next month.
    pub retirement_month: Month,
    /// Paid and deemed contribution months, counted once each.
    pub contribution_months: u32,
    /// The deemed months among them (视同缴费年限), for the transitional part.
    pub deemed_months: u32,
    /// The individual account balance at retirement.
    pub account_balance: Fen,
    /// The average contribution index (平均缴费工资指数), see
    /// [`RuleBook::contribution_index`].
    pub contribution_index: Rate,
}

/// A computed monthly pension, itemised (R2.3, R6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PensionAward {
    /// The id of the benefit rules applied.
    pub benefit_rule_id: String,
    /// The id of the pension rule whose average wage was used.
    pub wage_rule_id: String,
    /// The average wage at retirement.
    pub average_wage: Fen,
    /// The indexed own wage: average wage × contribution index.
    pub indexed_wage: Fen,
    /// The age at retirement.
    pub age: AgeMonths,
    /// The months divisor for that age.
    pub divisor: u32,
    /// Basic part: (average wage + indexed wage) / 2 × years × 1 %.
    pub basic: Fen,
    /// Account part: account balance / divisor.
    pub account: Fen,
    /// Regional transitional part: indexed wage × deemed years × coefficient.
    pub transitional: Fen,
    /// The monthly pension.
    pub total: Fen,
}

/// Computes the basic part of the pension (国发〔2005〕38号): (average wage +
/// indexed own wage) / 2 × contribution months / 12 × 1 %, rounded once.
pub fn basic_pension(
    average_wage: Fen,
    indexed_wage: Fen,
    contribution_months: u32,
    rounding: Rounding,
) -> Option<Fen> {
    let sum = i128::from(average_wage.fen()) + i128::from(indexed_wage.fen());
    rounding.divide(sum * i128::from(contribution_months), 2 * 12 * 100)
}

/// Computes the account part of the pension: balance / divisor, rounded once.
pub fn account_pension(balance: Fen, divisor: u32, rounding: Rounding) -> Option<Fen> {
    if divisor == 0 {
        return None;
    }
    rounding.divide(i128::from(balance.fen()), i128::from(divisor))
}

/// Computes a regional transitional part: indexed wage × deemed months / 12
/// × coefficient, rounded once.
pub fn transitional_pension(
    indexed_wage: Fen,
    deemed_months: u32,
    coefficient: Rate,
    rounding: Rounding,
) -> Option<Fen> {
    let n = i128::from(indexed_wage.fen())
        * i128::from(deemed_months)
        * i128::from(coefficient.millionths());
    rounding.divide(n, 12 * i128::from(MILLION))
}

fn month_of(birth: NaiveDate) -> Result<Month> {
    Month::of_date(birth).map_err(|e| RuleError::InvalidInput(e.to_string()))
}

fn add_months(m: Month, months: u32) -> Result<Month> {
    i32::try_from(months)
        .ok()
        .and_then(|n| m.checked_add_months(n))
        .ok_or(RuleError::Overflow("a retirement month"))
}

impl RuleBook {
    /// Returns a person's statutory retirement under the benefit rules in
    /// force in the month it falls (R2.3): the age, the month, and the window
    /// of flexible early and delayed retirement.
    pub fn retirement(
        &self,
        region: &RegionCode,
        birth: NaiveDate,
        category: RetirementCategory,
    ) -> Result<Retirement> {
        let born = month_of(birth)?;
        // Start from the rules in force at an old retirement age, then follow
        // the month the schedule gives until the rules no longer change: the
        // age is the one of the law in force when it is reached.
        let mut rules = None;
        let mut last_err = None;
        for years in [50, 55, 60] {
            match self.benefit_rules_in_force(region, add_months(born, years * 12)?) {
                Ok(r) => {
                    rules = Some(r);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some(mut rules) = rules else {
            return Err(last_err.unwrap_or(RuleError::NoBenefitRulesInForce {
                region: region.to_string(),
                month: born,
            }));
        };
        for _ in 0..4 {
            let month = add_months(born, rules.statutory_age_months(birth, category))?;
            match self.benefit_rules_in_force(region, month) {
                Ok(next) if next.id != rules.id => rules = next,
                _ => break,
            }
        }
        let rule = rules.retirement(category);
        let age = rule.age_months(birth);
        let month = add_months(born, age)?;
        let early = age
            .saturating_sub(rules.flexible_early_months)
            .max(rule.base_age_months);
        Ok(Retirement {
            age: AgeMonths(age),
            month,
            earliest_month: add_months(born, early)?,
            latest_month: add_months(month, rules.flexible_delay_months)?,
            rule_id: rules.id.clone(),
        })
    }

    /// Decides whether a person may draw a monthly pension from the month
    /// after `claim_month` (R2.3): reached the earliest (flexible) retirement
    /// month and holds the minimum contribution months for the claim year.
    /// Flexible early retirement needs the minimum contribution; both reasons
    /// are reported when both apply.
    pub fn pension_eligibility(
        &self,
        region: &RegionCode,
        birth: NaiveDate,
        category: RetirementCategory,
        contribution_months: u32,
        claim_month: Month,
    ) -> Result<Eligibility> {
        let retirement = self.retirement(region, birth, category)?;
        let rules =
            self.benefit_rules_in_force(region, claim_month.max(retirement.earliest_month))?;
        let minimum_months = rules.minimum.months_for_year(claim_month.year());
        let mut reasons = Vec::new();
        if claim_month < retirement.earliest_month {
            reasons.push(IneligibleReason::BelowRetirementAge {
                statutory_month: retirement.month,
                earliest_month: retirement.earliest_month,
            });
        }
        if contribution_months < minimum_months {
            reasons.push(IneligibleReason::InsufficientContribution {
                have_months: contribution_months,
                need_months: minimum_months,
            });
        }
        Ok(Eligibility {
            eligible: reasons.is_empty(),
            retirement,
            minimum_months,
            reasons,
        })
    }

    /// Computes the average contribution index (平均缴费工资指数) of a pension
    /// contribution history: the mean over the months of base / the average
    /// wage of the pension rule in force that month, each month's ratio and
    /// the mean rounded half-up to the millionth.
    pub fn contribution_index(&self, region: &RegionCode, bases: &[(Month, Fen)]) -> Result<Rate> {
        if bases.is_empty() {
            return Ok(Rate::ZERO);
        }
        let mut sum: i128 = 0;
        for (month, base) in bases {
            if base.is_negative() {
                return Err(RuleError::NegativeAmount {
                    what: "contribution base",
                    amount: *base,
                });
            }
            let rule = self.rule_in_force(region, InsuranceType::Pension, *month)?;
            let avg = i128::from(rule.average_wage().fen());
            if avg == 0 {
                return Err(RuleError::InvalidInput(format!(
                    "rule {} has no average wage",
                    rule.id()
                )));
            }
            let ratio = Rounding::HalfUpFen
                .divide(i128::from(base.fen()) * i128::from(MILLION), avg)
                .ok_or(RuleError::Overflow("a contribution index"))?;
            sum += i128::from(ratio.fen());
        }
        let mean = Rounding::HalfUpFen
            .divide(sum, bases.len() as i128)
            .ok_or(RuleError::Overflow("a contribution index"))?;
        u32::try_from(mean.fen())
            .map(Rate::from_millionths)
            .map_err(|_| RuleError::Overflow("a contribution index"))
    }

    /// Computes the monthly basic pension of a claim, itemised (R2.3, R6.4):
    /// basic part, account part and the regional transitional part, with the
    /// average wage of the pension rule in force in the retirement month and
    /// the benefit rules in force then.
    pub fn pension_award(&self, region: &RegionCode, claim: &PensionClaim) -> Result<PensionAward> {
        if claim.account_balance.is_negative() {
            return Err(RuleError::NegativeAmount {
                what: "account balance",
                amount: claim.account_balance,
            });
        }
        if claim.deemed_months > claim.contribution_months {
            return Err(RuleError::InvalidInput(
                "deemed months exceed contribution months".to_owned(),
            ));
        }
        let rules = self.benefit_rules_in_force(region, claim.retirement_month)?;
        let wage_rule =
            self.rule_in_force(region, InsuranceType::Pension, claim.retirement_month)?;
        let rounding = wage_rule.rounding();
        let overflow = || RuleError::Overflow("a pension");
        let average_wage = wage_rule.average_wage();
        let indexed_wage = claim
            .contribution_index
            .apply(average_wage, rounding)
            .ok_or_else(overflow)?;
        let age = age_in_months(claim.birth, claim.retirement_month);
        let age = u32::try_from(age)
            .map_err(|_| RuleError::InvalidInput("retirement before birth".to_owned()))?;
        let divisor = rules.divisor(age);
        let basic = basic_pension(
            average_wage,
            indexed_wage,
            claim.contribution_months,
            rounding,
        )
        .ok_or_else(overflow)?;
        let account =
            account_pension(claim.account_balance, divisor, rounding).ok_or_else(overflow)?;
        let transitional = match rules.transitional_rate {
            Some(rate) => transitional_pension(indexed_wage, claim.deemed_months, rate, rounding)
                .ok_or_else(overflow)?,
            None => Fen::ZERO,
        };
        let total = basic
            .checked_add(account)
            .and_then(|t| t.checked_add(transitional))
            .ok_or_else(overflow)?;
        Ok(PensionAward {
            benefit_rule_id: rules.id.clone(),
            wage_rule_id: wage_rule.id().to_owned(),
            average_wage,
            indexed_wage,
            age: AgeMonths(age),
            divisor,
            basic,
            account,
            transitional,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u32) -> Month {
        Month::from_yyyymm(n).unwrap()
    }

    fn d(y: i32, mo: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, mo, 15).unwrap()
    }

    fn fuzhou() -> RegionCode {
        RegionCode::parse("350100").unwrap()
    }

    fn reform() -> BenefitRules {
        RuleBook::default_book()
            .benefit_rules_in_force(&fuzhou(), m(202601))
            .unwrap()
            .clone()
    }

    fn age(rules: &BenefitRules, birth: NaiveDate, c: RetirementCategory) -> String {
        AgeMonths(rules.statutory_age_months(birth, c)).to_string()
    }

    #[test]
    fn men_retire_one_month_later_per_four_months_of_birth_from_1965() {
        // decision of 2024-09-13: men 60 → 63
        let r = reform();
        let male = RetirementCategory::Male;
        assert_eq!(age(&r, d(1964, 12), male), "60y0m");
        for mo in 1..=4 {
            assert_eq!(age(&r, d(1965, mo), male), "60y1m");
        }
        assert_eq!(age(&r, d(1965, 5), male), "60y2m");
        assert_eq!(age(&r, d(1976, 8), male), "62y11m");
        assert_eq!(age(&r, d(1976, 9), male), "63y0m");
        assert_eq!(age(&r, d(1990, 1), male), "63y0m");
    }

    #[test]
    fn women_cadres_rise_to_58_and_women_workers_to_55() {
        let r = reform();
        let cadre = RetirementCategory::of(Sex::Female, true);
        let worker = RetirementCategory::of(Sex::Female, false);
        assert_eq!(age(&r, d(1969, 12), cadre), "55y0m");
        assert_eq!(age(&r, d(1970, 4), cadre), "55y1m");
        assert_eq!(age(&r, d(1981, 9), cadre), "58y0m");
        assert_eq!(age(&r, d(1975, 2), worker), "50y1m");
        assert_eq!(age(&r, d(1975, 3), worker), "50y2m");
        assert_eq!(age(&r, d(1984, 10), worker), "54y11m");
        assert_eq!(age(&r, d(1984, 11), worker), "55y0m");
    }

    #[test]
    fn the_minimum_contribution_rises_six_months_a_year_from_2030() {
        let min = *reform().minimum_contribution();
        assert_eq!(min.months_for_year(2029), 180);
        assert_eq!(min.months_for_year(2030), 186);
        assert_eq!(min.months_for_year(2035), 216);
        assert_eq!(min.months_for_year(2039), 240);
        assert_eq!(min.months_for_year(2050), 240);
    }

    #[test]
    fn the_months_divisor_follows_the_table_by_completed_years() {
        // 国发〔2005〕38号
        let r = reform();
        assert_eq!(r.divisor(60 * 12), 139);
        assert_eq!(r.divisor(60 * 12 + 1), 139);
        assert_eq!(r.divisor(55 * 12), 170);
        assert_eq!(r.divisor(50 * 12), 195);
        assert_eq!(r.divisor(63 * 12), 117);
        assert_eq!(r.divisor(30 * 12), 233);
        assert_eq!(r.divisor(80 * 12), 56);
    }

    #[test]
    fn the_retirement_follows_the_law_in_force_when_it_falls() {
        let book = RuleBook::default_book();
        let r = book
            .retirement(&fuzhou(), d(1965, 2), RetirementCategory::Male)
            .unwrap();
        assert_eq!((r.age, r.month), (AgeMonths(721), m(202503)));
        assert_eq!(r.rule_id, "350100/benefit/202501");
        // flexible early retirement never goes below the old age
        assert_eq!(r.earliest_month, m(202502));
        assert_eq!(r.latest_month, m(202803));
        let r = book
            .retirement(&fuzhou(), d(1950, 5), RetirementCategory::Male)
            .unwrap();
        assert_eq!((r.age, r.month), (AgeMonths(720), m(201005)));
        assert_eq!(r.earliest_month, r.month);
    }

    #[test]
    fn eligibility_gives_every_reason_against() {
        // R2.3: eligibility with the reason when not eligible
        let book = RuleBook::default_book();
        let male = RetirementCategory::Male;
        // born 1970-01: 61y4m, statutory 2031-05, earliest flexible 2030-01
        let e = book
            .pension_eligibility(&fuzhou(), d(1970, 1), male, 100, m(202906))
            .unwrap();
        assert!(!e.eligible);
        assert_eq!(e.retirement.month, m(203105));
        assert_eq!(
            e.reasons,
            vec![
                IneligibleReason::BelowRetirementAge {
                    statutory_month: m(203105),
                    earliest_month: m(203001)
                },
                IneligibleReason::InsufficientContribution {
                    have_months: 100,
                    need_months: 180
                },
            ]
        );
        let e = book
            .pension_eligibility(&fuzhou(), d(1970, 1), male, 180, m(203006))
            .unwrap();
        assert_eq!(
            e.reasons,
            vec![IneligibleReason::InsufficientContribution {
                have_months: 180,
                need_months: 186
            }]
        );
        assert_eq!(
            e.reasons[0].to_string(),
            "insufficient contribution: 180 months, 186 required"
        );
        let e = book
            .pension_eligibility(&fuzhou(), d(1970, 1), male, 186, m(203006))
            .unwrap();
        assert!(e.eligible);
    }

    #[test]
    fn the_pension_is_basic_plus_account_plus_transitional() {
        // 国发〔2005〕38号: (8000 + 8000) / 2 × 15 × 1 % = 1200.00;
        // 139 000.00 / 139 = 1000.00; 8000 × 5 × 1.3 % = 520.00
        let book = RuleBook::default_book();
        let claim = PensionClaim {
            birth: d(1964, 6),
            category: RetirementCategory::Male,
            retirement_month: m(202406),
            contribution_months: 180,
            deemed_months: 60,
            account_balance: Fen::new(13_900_000),
            contribution_index: Rate::ONE,
        };
        let a = book.pension_award(&fuzhou(), &claim).unwrap();
        assert_eq!(a.divisor, 139);
        assert_eq!(a.indexed_wage, Fen::new(800_000));
        assert_eq!(a.basic, Fen::new(120_000));
        assert_eq!(a.account, Fen::new(100_000));
        assert_eq!(a.transitional, Fen::new(52_000));
        assert_eq!(a.total, Fen::new(272_000));
        assert_eq!(a.benefit_rule_id, "350100/benefit/200601");
    }

    #[test]
    fn the_contribution_index_is_the_mean_of_base_over_average_wage() {
        let book = RuleBook::default_book();
        let bases = [
            (m(202401), Fen::new(480_000)),
            (m(202402), Fen::new(2_400_000)),
        ];
        let idx = book.contribution_index(&fuzhou(), &bases).unwrap();
        assert_eq!(idx.millionths(), 1_800_000);
        assert_eq!(book.contribution_index(&fuzhou(), &[]).unwrap(), Rate::ZERO);
    }
}
