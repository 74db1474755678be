//! Rule books: a region's business rules as data, versioned by region,
//! insurance type and effective month, validated on load (R6.4).
//!
//! A rule book is a TOML or YAML file. Each region holds its contribution
//! rule sets (one per insurance type and period), its yearly account interest
//! rates (记账利率) and its benefit rules (retirement ages, minimum contribution
//! years, months divisors, transfer rates). Loading refuses a book with
//! overlapping periods, rates outside [0, 1], a floor above its ceiling, a
//! year without an interest rate, or any unreadable value, naming the file,
//! the key and the reason. A default book for the demo region 350100 ships
//! with the crate ([`RuleBook::default_book`]).
//!
//! Rates are decimal strings (`"16%"`, `"8.31%"`, `"0.0831"`); amounts are
//! yuan as decimal strings (`"8000.00"`) or whole numbers; a floor or ceiling
//! may be a share of the average wage (`"60%"`); months are `YYYYMM`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::account::{
    self, AccountBalance, AccountEntry, AccountStatement, CreditingMethod, YearTerms,
};
use crate::contribution::Assessment;
use crate::error::{Result, RuleError};
use crate::id::RegionCode;
use crate::insurance::InsuranceType;
use crate::money::{Fen, Rate, Rounding};
use crate::pension::{BenefitRules, MinimumContribution, RetirementCategory, RetirementRule};
use crate::period::Month;

/// The default rule book, for the demo region 350100 (Fuzhou).
pub const DEFAULT_BOOK_TOML: &str = include_str!("../rulebooks/default.toml");

/// Largest amount a rule book may hold: 10^11 yuan, so that no sum of a few
/// amounts can overflow.
const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// A rule book could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum RuleBookError {
    /// The file could not be read.
    #[error("{path}: cannot read rule book")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file's extension is neither `.toml` nor `.yaml`/`.yml`.
    #[error("{path}: unknown rule book format (use .toml, .yaml or .yml)")]
    Format {
        /// The file.
        path: String,
    },
    /// The text is not well-formed TOML/YAML or does not have the shape of a book.
    #[error("{source_name}: {message}")]
    Parse {
        /// The file or source name.
        source_name: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is well-formed but breaks a rule of validity.
    #[error("{source_name}: {key}: {reason}")]
    Invalid {
        /// The file or source name.
        source_name: String,
        /// The key, e.g. `region[350100].rule[3].employer_rate`.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// One version of the contribution rules of an insurance type in a region,
/// in force from `from` to `to` inclusive (R6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    id: std::sync::Arc<str>,
    region: RegionCode,
    insurance: InsuranceType,
    from: Month,
    to: Option<Month>,
    average_wage: Fen,
    base_floor: Fen,
    base_ceiling: Fen,
    employer_rate: Rate,
    personal_rate: Rate,
    account_rate: Rate,
    account_method: CreditingMethod,
    rounding: Rounding,
    note: Option<String>,
}

impl RuleSet {
    /// Returns the stable version id `region/type/YYYYMM`, e.g. `350100/pension/201905`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns the version id as a shared string, cheap to clone into results.
    pub fn shared_id(&self) -> std::sync::Arc<str> {
        std::sync::Arc::clone(&self.id)
    }
    /// Returns the region.
    pub const fn region(&self) -> &RegionCode {
        &self.region
    }
    /// Returns the insurance type.
    pub const fn insurance(&self) -> InsuranceType {
        self.insurance
    }
    /// Returns the first month in force.
    pub const fn from(&self) -> Month {
        self.from
    }
    /// Returns the last month in force, `None` while open-ended.
    pub const fn to(&self) -> Option<Month> {
        self.to
    }
    /// Returns true when the rule is in force in `month`.
    pub fn covers(&self, month: Month) -> bool {
        self.from <= month && self.to.is_none_or(|to| month <= to)
    }
    /// Returns the monthly average wage the base limits derive from.
    pub const fn average_wage(&self) -> Fen {
        self.average_wage
    }
    /// Returns the base floor (typically 60 % of the average wage).
    pub const fn base_floor(&self) -> Fen {
        self.base_floor
    }
    /// Returns the base ceiling (typically 300 % of the average wage).
    pub const fn base_ceiling(&self) -> Fen {
        self.base_ceiling
    }
    /// Returns the employer's rate.
    pub const fn employer_rate(&self) -> Rate {
        self.employer_rate
    }
    /// Returns the person's rate.
    pub const fn personal_rate(&self) -> Rate {
        self.personal_rate
    }
    /// Returns the share of the base credited to the individual account.
    pub const fn account_rate(&self) -> Rate {
        self.account_rate
    }
    /// Returns the crediting method of account interest.
    pub const fn account_method(&self) -> CreditingMethod {
        self.account_method
    }
    /// Returns the rounding rule.
    pub const fn rounding(&self) -> Rounding {
        self.rounding
    }
    /// Returns the book's note on the figures, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

/// What a region does for a year whose account interest rate is not yet
/// published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpublishedInterest {
    /// Refuse the computation ([`RuleError::NoInterestRate`]).
    Refuse,
    /// Credit provisionally at the latest published rate.
    LatestPublished,
}

/// The account interest rate of one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterestRate {
    /// The year.
    pub year: i32,
    /// The rate.
    pub rate: Rate,
    /// True when the year's rate is not published and the latest published
    /// one stands in.
    pub provisional: bool,
}

/// The rules of one region.
#[derive(Debug, Clone)]
struct RegionRules {
    code: RegionCode,
    name: String,
    rules: [Vec<RuleSet>; 5],
    interest_first_year: i32,
    interest: Vec<Rate>,
    unpublished: UnpublishedInterest,
    benefits: Vec<BenefitRules>,
}

/// A validated rule book: every region's rule sets, interest rates and
/// benefit rules (R6.4). Built only by loading, so it is always valid.
#[derive(Debug, Clone)]
pub struct RuleBook {
    source: String,
    default_region: RegionCode,
    regions: Vec<RegionRules>,
}

impl RuleBook {
    /// Returns the default rule book shipped with the crate (demo region 350100).
    pub fn default_book() -> RuleBook {
        // The default book is a compile-time asset validated by the test
        // `the_default_book_loads_and_validates`; failing here is a build defect.
        #[allow(clippy::expect_used)]
        RuleBook::from_toml_str("default.toml", DEFAULT_BOOK_TOML)
            .expect("the embedded default rule book is valid")
    }

    /// Parses and validates a TOML rule book; `source_name` names it in errors.
    pub fn from_toml_str(source_name: &str, text: &str) -> Result<RuleBook, RuleBookError> {
        let raw: RawBook = toml::from_str(text).map_err(|e| RuleBookError::Parse {
            source_name: source_name.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        build(source_name, raw)
    }

    /// Parses and validates a YAML rule book; `source_name` names it in errors.
    pub fn from_yaml_str(source_name: &str, text: &str) -> Result<RuleBook, RuleBookError> {
        let raw: RawBook = serde_yaml::from_str(text).map_err(|e| RuleBookError::Parse {
            source_name: source_name.to_owned(),
            message: e.to_string(),
        })?;
        build(source_name, raw)
    }

    /// Reads a rule book file, TOML (`.toml`) or YAML (`.yaml`, `.yml`).
    pub fn load_file(path: &Path) -> Result<RuleBook, RuleBookError> {
        let name = path.display().to_string();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let text = || {
            std::fs::read_to_string(path).map_err(|source| RuleBookError::Read {
                path: name.clone(),
                source,
            })
        };
        match ext.as_deref() {
            Some("toml") => RuleBook::from_toml_str(&name, &text()?),
            Some("yaml" | "yml") => RuleBook::from_yaml_str(&name, &text()?),
            _ => Err(RuleBookError::Format { path: name }),
        }
    }

    /// Returns the name of the source the book was loaded from.
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// Returns the book's default region (declared, or else the first one).
    pub fn default_region(&self) -> &RegionCode {
        &self.default_region
    }

    /// Returns the regions of the book, in file order.
    pub fn regions(&self) -> impl Iterator<Item = &RegionCode> {
        self.regions.iter().map(|r| &r.code)
    }

    /// Returns the display name of a region.
    pub fn region_name(&self, region: &RegionCode) -> Result<&str> {
        Ok(&self.region(region)?.name)
    }

    fn region(&self, region: &RegionCode) -> Result<&RegionRules> {
        self.regions
            .iter()
            .find(|r| r.code == *region)
            .ok_or_else(|| RuleError::UnknownRegion {
                region: region.to_string(),
            })
    }

    /// Returns every version of the rules of one insurance type in a region,
    /// in time order.
    pub fn rule_sets(&self, region: &RegionCode, ty: InsuranceType) -> Result<&[RuleSet]> {
        Ok(&self.region(region)?.rules[ty.index()])
    }

    /// Returns the rule set in force for a region, an insurance type and a
    /// month: the rule that recomputes that month, then or now (R6.4).
    pub fn rule_in_force(
        &self,
        region: &RegionCode,
        ty: InsuranceType,
        month: Month,
    ) -> Result<&RuleSet> {
        let rules = &self.region(region)?.rules[ty.index()];
        find_in_force(rules, month).ok_or_else(|| RuleError::NoRuleInForce {
            region: region.to_string(),
            insurance: ty,
            month,
        })
    }

    /// Assesses a declared wage for a month: one line per insurance type in
    /// force, each with its clamped base, employer and personal amounts and
    /// account credit (R2.2, R6.4). A negative wage is refused with
    /// [`RuleError::NegativeWage`]; a month with no type in force with
    /// [`RuleError::NoRuleInForce`] for pension.
    pub fn assess(
        &self,
        region: &RegionCode,
        month: Month,
        declared_wage: Fen,
    ) -> Result<Assessment> {
        if declared_wage.is_negative() {
            return Err(RuleError::NegativeWage(declared_wage));
        }
        let r = self.region(region)?;
        let mut lines = Vec::with_capacity(InsuranceType::ALL.len());
        for rules in &r.rules {
            if let Some(rule) = find_in_force(rules, month) {
                lines.push(rule.assess(declared_wage)?);
            }
        }
        if lines.is_empty() {
            return Err(RuleError::NoRuleInForce {
                region: region.to_string(),
                insurance: InsuranceType::Pension,
                month,
            });
        }
        Ok(Assessment {
            month,
            declared_wage,
            lines,
        })
    }

    /// Returns the account interest rate of a year in a region (记账利率),
    /// provisional when the book's policy lets the latest published rate
    /// stand in for an unpublished year.
    pub fn interest_rate(&self, region: &RegionCode, year: i32) -> Result<InterestRate> {
        let r = self.region(region)?;
        let missing = || RuleError::NoInterestRate {
            region: region.to_string(),
            year,
        };
        let offset = year - r.interest_first_year;
        if offset < 0 {
            return Err(missing());
        }
        if let Some(rate) = r.interest.get(offset as usize) {
            return Ok(InterestRate {
                year,
                rate: *rate,
                provisional: false,
            });
        }
        match (r.unpublished, r.interest.last()) {
            (UnpublishedInterest::LatestPublished, Some(rate)) => Ok(InterestRate {
                year,
                rate: *rate,
                provisional: true,
            }),
            _ => Err(missing()),
        }
    }

    /// Returns the terms of a year's account interest: the year's rate and
    /// the method and rounding of the pension rule in force in December.
    pub fn year_terms(&self, region: &RegionCode, year: i32) -> Result<YearTerms> {
        let rate = self.interest_rate(region, year)?;
        let december = Month::new(year, 12).map_err(|e| RuleError::InvalidInput(e.to_string()))?;
        let rule = self.rule_in_force(region, InsuranceType::Pension, december)?;
        Ok(YearTerms {
            rate: rate.rate,
            provisional: rate.provisional,
            method: rule.account_method(),
            rounding: rule.rounding(),
        })
    }

    /// Recomputes the pension individual account from its credits: principal
    /// plus interest credited at each completed year-end by the rule set's
    /// method and the year's rate, as of the end of month `at` (R2.4, R6.4).
    pub fn account_balance(
        &self,
        region: &RegionCode,
        credits: &[(Month, Fen)],
        at: Month,
    ) -> Result<AccountBalance> {
        let entries: Vec<AccountEntry> = credits
            .iter()
            .map(|(month, amount)| AccountEntry::Credit {
                month: *month,
                amount: *amount,
            })
            .collect();
        Ok(self.account_statement(region, &entries, at)?.balance)
    }

    /// Recomputes the pension individual account ledger from its entries
    /// (credits, transfers in and out) as of the end of month `at`, with
    /// every year-end roll-over itemised (R2.4, R6.4, R10.1).
    pub fn account_statement(
        &self,
        region: &RegionCode,
        entries: &[AccountEntry],
        at: Month,
    ) -> Result<AccountStatement> {
        self.region(region)?;
        account::compute_statement(entries, at, |year| self.year_terms(region, year))
    }

    /// Returns the benefit rules in force in a region in a month (retirement
    /// ages, minimum contribution, divisors, transfer rates; R2.3, R6.4).
    pub fn benefit_rules_in_force(
        &self,
        region: &RegionCode,
        month: Month,
    ) -> Result<&BenefitRules> {
        self.region(region)?
            .benefits
            .iter()
            .find(|b| b.covers(month))
            .ok_or_else(|| RuleError::NoBenefitRulesInForce {
                region: region.to_string(),
                month,
            })
    }
}

#[inline]
fn find_in_force(rules: &[RuleSet], month: Month) -> Option<&RuleSet> {
    let idx = rules.partition_point(|r| r.from <= month);
    let rule = rules.get(idx.checked_sub(1)?)?;
    rule.covers(month).then_some(rule)
}

// ---------------------------------------------------------------------------
// The shape of the file, before validation.

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Str(String),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(untagged)]
enum Key {
    Int(i64),
    Str(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    default_region: Option<String>,
    #[serde(rename = "region", default)]
    regions: Vec<RawRegion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    code: String,
    name: Option<String>,
    rounding: Option<String>,
    unpublished_interest: Option<String>,
    #[serde(default)]
    interest: BTreeMap<Key, Scalar>,
    #[serde(rename = "rule", default)]
    rules: Vec<RawRule>,
    #[serde(rename = "benefit", default)]
    benefits: Vec<RawBenefit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    insurance: String,
    from: Scalar,
    to: Option<Scalar>,
    average_wage: Scalar,
    base_floor: Scalar,
    base_ceiling: Scalar,
    employer_rate: Scalar,
    personal_rate: Scalar,
    account_rate: Option<Scalar>,
    account_method: Option<String>,
    rounding: Option<String>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBenefit {
    from: Scalar,
    to: Option<Scalar>,
    retirement: Vec<RawRetirement>,
    flexible_early_months: Option<u32>,
    flexible_delay_months: Option<u32>,
    minimum_contribution: RawMinimum,
    divisors: BTreeMap<Key, Scalar>,
    transitional_rate: Option<Scalar>,
    pooled_transfer_rate: Scalar,
    pooled_transfer_since: Scalar,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetirement {
    category: String,
    age: u32,
    target_age: Option<u32>,
    first_affected_birth: Option<Scalar>,
    birth_months_per_step: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinimum {
    months: u32,
    rising_from_year: Option<i32>,
    step_months: Option<u32>,
    max_months: Option<u32>,
}

// ---------------------------------------------------------------------------
// Validation.

struct Ctx<'a> {
    source: &'a str,
}

impl Ctx<'_> {
    fn err(&self, key: &str, reason: impl Into<String>) -> RuleBookError {
        RuleBookError::Invalid {
            source_name: self.source.to_owned(),
            key: key.to_owned(),
            reason: reason.into(),
        }
    }

    fn month(&self, key: &str, v: &Scalar) -> Result<Month, RuleBookError> {
        let parsed = match v {
            Scalar::Int(n) => u32::try_from(*n)
                .ok()
                .and_then(|n| Month::from_yyyymm(n).ok()),
            Scalar::Str(s) => s.parse::<Month>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            self.err(
                key,
                format!(
                    "{} is not a month YYYYMM between 180001 and 999912",
                    show(v)
                ),
            )
        })
    }

    /// Reads a validity period: `from` and an optional `to` that must not
    /// end before it starts; `key` maps a field name to its full key.
    fn period(
        &self,
        key: impl Fn(&str) -> String,
        from: &Scalar,
        to: Option<&Scalar>,
    ) -> Result<(Month, Option<Month>), RuleBookError> {
        let from = self.month(&key("from"), from)?;
        let to = match to {
            Some(v) => {
                let to = self.month(&key("to"), v)?;
                if to < from {
                    return Err(self.err(
                        &key("to"),
                        format!("ends in {to}, before it starts in {from}"),
                    ));
                }
                Some(to)
            }
            None => None,
        };
        Ok((from, to))
    }

    fn amount(&self, key: &str, v: &Scalar) -> Result<Fen, RuleBookError> {
        let fen = match v {
            Scalar::Int(n) => {
                Fen::from_yuan(*n).ok_or_else(|| self.err(key, "amount out of range"))?
            }
            Scalar::Str(s) => Fen::parse_yuan(s).map_err(|e| self.err(key, e.to_string()))?,
            Scalar::Float(_) => {
                return Err(self.err(
                    key,
                    format!(
                        "{} is a float; write amounts as decimal strings such as \"8000.00\"",
                        show(v)
                    ),
                ));
            }
            Scalar::Bool(_) => return Err(self.err(key, format!("{} is not an amount", show(v)))),
        };
        if fen.is_negative() {
            return Err(self.err(key, format!("amount {fen} is negative")));
        }
        if fen.fen() > MAX_AMOUNT {
            return Err(self.err(
                key,
                format!("amount {fen} is larger than the largest allowed"),
            ));
        }
        Ok(fen)
    }

    /// An amount, or a share of `of` written as a percentage.
    fn amount_or_share(
        &self,
        key: &str,
        v: &Scalar,
        of: Fen,
        rounding: Rounding,
    ) -> Result<Fen, RuleBookError> {
        if let Scalar::Str(s) = v
            && s.trim_end().ends_with('%')
        {
            let share = Rate::parse(s).map_err(|e| self.err(key, e.to_string()))?;
            return share
                .apply(of, rounding)
                .ok_or_else(|| self.err(key, "amount out of range"));
        }
        self.amount(key, v)
    }

    fn rate(&self, key: &str, v: &Scalar) -> Result<Rate, RuleBookError> {
        let rate = match v {
            Scalar::Str(s) => Rate::parse(s).map_err(|e| self.err(key, e.to_string()))?,
            _ => {
                return Err(self.err(key, format!("{} is not a rate; write rates as decimal strings such as \"16%\" or \"0.16\"", show(v))));
            }
        };
        if rate > Rate::ONE {
            return Err(self.err(key, format!("rate {rate} is outside [0, 1]")));
        }
        Ok(rate)
    }

    fn rounding(
        &self,
        key: &str,
        v: Option<&str>,
        default: Rounding,
    ) -> Result<Rounding, RuleBookError> {
        match v {
            None => Ok(default),
            Some(s) => [
                Rounding::HalfUpFen,
                Rounding::HalfUpJiao,
                Rounding::HalfUpYuan,
            ]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                self.err(
                    key,
                    format!("`{s}` is not a rounding (half_up_fen, half_up_jiao, half_up_yuan)"),
                )
            }),
        }
    }
}

fn show(v: &Scalar) -> String {
    match v {
        Scalar::Int(n) => n.to_string(),
        Scalar::Str(s) => format!("\"{s}\""),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
    }
}

fn show_key(k: &Key) -> String {
    match k {
        Key::Int(n) => n.to_string(),
        Key::Str(s) => s.clone(),
    }
}

fn key_int(k: &Key) -> Option<i64> {
    match k {
        Key::Int(n) => Some(*n),
        Key::Str(s) => s.trim().parse().ok(),
    }
}

fn build(source: &str, raw: RawBook) -> Result<RuleBook, RuleBookError> {
    let ctx = Ctx { source };
    if raw.regions.is_empty() {
        return Err(ctx.err("region", "the book has no region"));
    }
    let mut regions: Vec<RegionRules> = Vec::with_capacity(raw.regions.len());
    for (ri, region) in raw.regions.iter().enumerate() {
        let code = RegionCode::parse(&region.code)
            .map_err(|e| ctx.err(&format!("region[{ri}].code"), e.to_string()))?;
        if regions.iter().any(|r| r.code == code) {
            return Err(ctx.err(
                &format!("region[{ri}].code"),
                format!("region {code} appears twice"),
            ));
        }
        regions.push(build_region(&ctx, &code, region)?);
    }
    let default_region = match &raw.default_region {
        Some(s) => {
            let code =
                RegionCode::parse(s).map_err(|e| ctx.err("default_region", e.to_string()))?;
            if !regions.iter().any(|r| r.code == code) {
                return Err(ctx.err(
                    "default_region",
                    format!("region {code} is not in the book"),
                ));
            }
            code
        }
        None => regions[0].code,
    };
    Ok(RuleBook {
        source: source.to_owned(),
        default_region,
        regions,
    })
}

fn build_region(
    ctx: &Ctx<'_>,
    code: &RegionCode,
    raw: &RawRegion,
) -> Result<RegionRules, RuleBookError> {
    let prefix = format!("region[{code}]");
    let rounding = ctx.rounding(
        &format!("{prefix}.rounding"),
        raw.rounding.as_deref(),
        Rounding::default(),
    )?;
    let unpublished = match raw.unpublished_interest.as_deref() {
        None | Some("refuse") => UnpublishedInterest::Refuse,
        Some("latest_published") => UnpublishedInterest::LatestPublished,
        Some(other) => {
            return Err(ctx.err(
                &format!("{prefix}.unpublished_interest"),
                format!("`{other}` is not a policy (refuse, latest_published)"),
            ));
        }
    };

    // Contribution rule sets.
    let mut rules: [Vec<RuleSet>; 5] = Default::default();
    for (i, r) in raw.rules.iter().enumerate() {
        let key = |field: &str| format!("{prefix}.rule[{i}].{field}");
        let insurance: InsuranceType =
            r.insurance
                .parse()
                .map_err(|e: crate::insurance::UnknownInsuranceType| {
                    ctx.err(&key("insurance"), e.to_string())
                })?;
        let (from, to) = ctx.period(key, &r.from, r.to.as_ref())?;
        let rounding = ctx.rounding(&key("rounding"), r.rounding.as_deref(), rounding)?;
        let average_wage = ctx.amount(&key("average_wage"), &r.average_wage)?;
        let base_floor =
            ctx.amount_or_share(&key("base_floor"), &r.base_floor, average_wage, rounding)?;
        let base_ceiling = ctx.amount_or_share(
            &key("base_ceiling"),
            &r.base_ceiling,
            average_wage,
            rounding,
        )?;
        if base_floor > base_ceiling {
            return Err(ctx.err(
                &key("base_floor"),
                format!("floor {base_floor} is above the ceiling {base_ceiling}"),
            ));
        }
        let employer_rate = ctx.rate(&key("employer_rate"), &r.employer_rate)?;
        let personal_rate = ctx.rate(&key("personal_rate"), &r.personal_rate)?;
        let account_rate = match &r.account_rate {
            Some(v) => ctx.rate(&key("account_rate"), v)?,
            None => Rate::ZERO,
        };
        let account_method = match r.account_method.as_deref() {
            None | Some("month_product") => CreditingMethod::MonthProduct,
            Some("annual_factor") => CreditingMethod::AnnualFactor,
            Some(other) => {
                return Err(ctx.err(
                    &key("account_method"),
                    format!("`{other}` is not a crediting method (month_product, annual_factor)"),
                ));
            }
        };
        rules[insurance.index()].push(RuleSet {
            id: format!("{code}/{insurance}/{from}").into(),
            region: *code,
            insurance,
            from,
            to,
            average_wage,
            base_floor,
            base_ceiling,
            employer_rate,
            personal_rate,
            account_rate,
            account_method,
            rounding,
            note: r.note.clone(),
        });
    }
    for list in &mut rules {
        list.sort_by_key(|r| r.from);
        for pair in list.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.to.is_none_or(|to| to >= b.from) {
                return Err(ctx.err(
                    &format!("{prefix}.rule[{}]", b.id),
                    format!(
                        "period from {} overlaps rule {} (in force until {})",
                        b.from,
                        a.id,
                        a.to.map_or("further notice".to_owned(), |m| m.to_string())
                    ),
                ));
            }
        }
    }

    // Interest rates: a gap-free run of years covering every year from the
    // first pension rule that credits an account.
    let mut years: Vec<(i32, Rate)> = Vec::with_capacity(raw.interest.len());
    for (k, v) in &raw.interest {
        let key = format!("{prefix}.interest.{}", show_key(k));
        let year = key_int(k)
            .and_then(|y| i32::try_from(y).ok())
            .filter(|y| (1800..=9999).contains(y))
            .ok_or_else(|| ctx.err(&key, "not a year between 1800 and 9999"))?;
        years.push((year, ctx.rate(&key, v)?));
    }
    years.sort_by_key(|(y, _)| *y);
    for pair in years.windows(2) {
        if pair[1].0 != pair[0].0 + 1 {
            return Err(ctx.err(
                &format!("{prefix}.interest"),
                format!(
                    "no rate for {} (rates must cover every year without gaps)",
                    pair[0].0 + 1
                ),
            ));
        }
    }
    let first_account_year = rules[InsuranceType::Pension.index()]
        .iter()
        .find(|r| r.account_rate > Rate::ZERO)
        .map(|r| r.from.year());
    if let Some(first) = first_account_year {
        match years.first() {
            None => {
                return Err(ctx.err(
                    &format!("{prefix}.interest"),
                    format!(
                        "no account interest rates; pension accounts are credited from {first}"
                    ),
                ));
            }
            Some((y, _)) if *y > first => {
                return Err(ctx.err(
                    &format!("{prefix}.interest"),
                    format!("no rate for {first}; pension accounts are credited from {first}"),
                ));
            }
            _ => {}
        }
    }
    let interest_first_year = years.first().map_or(0, |(y, _)| *y);
    let interest: Vec<Rate> = years.into_iter().map(|(_, r)| r).collect();

    // Benefit rules.
    let mut benefits: Vec<BenefitRules> = Vec::with_capacity(raw.benefits.len());
    for (i, b) in raw.benefits.iter().enumerate() {
        benefits.push(build_benefit(
            ctx,
            code,
            &format!("{prefix}.benefit[{i}]"),
            b,
        )?);
    }
    benefits.sort_by_key(|b| b.from);
    for pair in benefits.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.to.is_none_or(|to| to >= b.from) {
            return Err(ctx.err(
                &format!("{prefix}.benefit[{}]", b.id),
                format!("period from {} overlaps benefit rules {}", b.from, a.id),
            ));
        }
    }

    Ok(RegionRules {
        code: *code,
        name: raw.name.clone().unwrap_or_else(|| code.to_string()),
        rules,
        interest_first_year,
        interest,
        unpublished,
        benefits,
    })
}

fn build_benefit(
    ctx: &Ctx<'_>,
    code: &RegionCode,
    prefix: &str,
    raw: &RawBenefit,
) -> Result<BenefitRules, RuleBookError> {
    let key = |field: &str| format!("{prefix}.{field}");
    let (from, to) = ctx.period(key, &raw.from, raw.to.as_ref())?;

    let mut retirement: [Option<RetirementRule>; 3] = [None, None, None];
    for (i, r) in raw.retirement.iter().enumerate() {
        let rkey = |field: &str| format!("{prefix}.retirement[{i}].{field}");
        let category = RetirementCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == r.category)
            .ok_or_else(|| {
                ctx.err(
                    &rkey("category"),
                    format!(
                        "`{}` is not a category (male, female_cadre, female_worker)",
                        r.category
                    ),
                )
            })?;
        if !(40..=70).contains(&r.age) {
            return Err(ctx.err(&rkey("age"), format!("age {} is outside 40..=70", r.age)));
        }
        let target = r.target_age.unwrap_or(r.age);
        if target < r.age || target > 70 {
            return Err(ctx.err(
                &rkey("target_age"),
                format!("target age {target} must be between age {} and 70", r.age),
            ));
        }
        let (first_affected_birth, step) = if target > r.age {
            let first = r.first_affected_birth.as_ref().ok_or_else(|| {
                ctx.err(
                    &rkey("first_affected_birth"),
                    "required when the target age is above the age",
                )
            })?;
            let first = ctx.month(&rkey("first_affected_birth"), first)?;
            let step = r.birth_months_per_step.filter(|s| *s > 0).ok_or_else(|| {
                ctx.err(
                    &rkey("birth_months_per_step"),
                    "required and positive when the target age is above the age",
                )
            })?;
            (Some(first), step)
        } else {
            (None, 1)
        };
        let slot = &mut retirement[category.index()];
        if slot.is_some() {
            return Err(ctx.err(
                &rkey("category"),
                format!("category {} appears twice", category.as_str()),
            ));
        }
        *slot = Some(RetirementRule {
            category,
            base_age_months: r.age * 12,
            target_age_months: target * 12,
            first_affected_birth,
            birth_months_per_step: step,
        });
    }
    let [Some(male), Some(female_cadre), Some(female_worker)] = retirement else {
        return Err(ctx.err(
            &key("retirement"),
            "needs one entry for each of male, female_cadre and female_worker",
        ));
    };

    let m = &raw.minimum_contribution;
    if m.months == 0 {
        return Err(ctx.err(&key("minimum_contribution.months"), "must be positive"));
    }
    let minimum = MinimumContribution {
        months: m.months,
        rising_from_year: m.rising_from_year,
        step_months: m.step_months.unwrap_or(0),
        max_months: m.max_months.unwrap_or(m.months),
    };
    if minimum.max_months < minimum.months {
        return Err(ctx.err(
            &key("minimum_contribution.max_months"),
            "must not be below months",
        ));
    }
    if minimum.rising_from_year.is_some() && minimum.step_months == 0 {
        return Err(ctx.err(
            &key("minimum_contribution.step_months"),
            "required and positive with rising_from_year",
        ));
    }

    let mut divisors = [0u32; 31];
    for (k, v) in &raw.divisors {
        let age = key_int(k)
            .filter(|a| (40..=70).contains(a))
            .ok_or_else(|| {
                ctx.err(
                    &key("divisors"),
                    format!("{} is not an age between 40 and 70", show_key(k)),
                )
            })?;
        let dkey = format!("{prefix}.divisors.{age}");
        let value = match v {
            Scalar::Int(n) => u32::try_from(*n).ok().filter(|n| *n > 0),
            _ => None,
        }
        .ok_or_else(|| {
            ctx.err(
                &dkey,
                format!("{} is not a positive whole number of months", show(v)),
            )
        })?;
        divisors[(age - 40) as usize] = value;
    }
    for (i, d) in divisors.iter().enumerate() {
        if *d == 0 {
            return Err(ctx.err(&key("divisors"), format!("no divisor for age {}", 40 + i)));
        }
    }
    for i in 1..divisors.len() {
        if divisors[i] > divisors[i - 1] {
            return Err(ctx.err(
                &format!("{prefix}.divisors.{}", 40 + i),
                "a divisor must not rise with age",
            ));
        }
    }

    let transitional_rate = match &raw.transitional_rate {
        Some(v) => Some(ctx.rate(&key("transitional_rate"), v)?),
        None => None,
    };
    let pooled_transfer_rate = ctx.rate(&key("pooled_transfer_rate"), &raw.pooled_transfer_rate)?;
    let pooled_transfer_since =
        ctx.month(&key("pooled_transfer_since"), &raw.pooled_transfer_since)?;

    Ok(BenefitRules {
        id: format!("{code}/benefit/{from}"),
        from,
        to,
        retirement: [male, female_cadre, female_worker],
        flexible_early_months: raw.flexible_early_months.unwrap_or(0),
        flexible_delay_months: raw.flexible_delay_months.unwrap_or(0),
        minimum,
        divisors,
        transitional_rate,
        pooled_transfer_rate,
        pooled_transfer_since,
        note: raw.note.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u32) -> Month {
        Month::from_yyyymm(n).unwrap()
    }

    fn fuzhou() -> RegionCode {
        RegionCode::parse("350100").unwrap()
    }

    #[test]
    fn the_default_book_loads_and_validates() {
        // R6.4: business rules fixed in advance, validated on load
        let book = RuleBook::from_toml_str("default.toml", DEFAULT_BOOK_TOML).unwrap();
        assert_eq!(book.default_region().as_str(), "350100");
        assert_eq!(book.regions().count(), 1);
        let book = RuleBook::default_book();
        assert_eq!(book.source_name(), "default.toml");
    }

    #[test]
    fn the_default_book_covers_every_month_from_1998_to_2026_for_every_type() {
        // R6.4: any past month can be recomputed
        let book = RuleBook::default_book();
        let mut month = m(199801);
        while month <= m(202612) {
            for ty in InsuranceType::ALL {
                assert!(
                    book.rule_in_force(&fuzhou(), ty, month).is_ok(),
                    "{ty} {month}"
                );
            }
            assert!(book.year_terms(&fuzhou(), month.year()).is_ok(), "{month}");
            assert!(
                book.benefit_rules_in_force(&fuzhou(), month).is_ok(),
                "{month}"
            );
            month = month.next();
        }
    }

    #[test]
    fn the_rule_in_force_is_found_by_region_type_and_month() {
        let book = RuleBook::default_book();
        let rule = book
            .rule_in_force(&fuzhou(), InsuranceType::Pension, m(202601))
            .unwrap();
        assert_eq!(rule.id(), "350100/pension/201905");
        assert_eq!(rule.base_floor(), Fen::new(480_000));
        assert_eq!(rule.base_ceiling(), Fen::new(2_400_000));
        assert_eq!(rule.employer_rate().to_string(), "16%");
        let old = book
            .rule_in_force(&fuzhou(), InsuranceType::Pension, m(201904))
            .unwrap();
        assert_eq!(old.id(), "350100/pension/201607");
        assert_eq!(old.employer_rate().to_string(), "20%");
        assert!(matches!(
            book.rule_in_force(&fuzhou(), InsuranceType::Pension, m(199712)),
            Err(RuleError::NoRuleInForce { .. })
        ));
        assert!(matches!(
            book.rule_in_force(
                &RegionCode::parse("110000").unwrap(),
                InsuranceType::Pension,
                m(202601)
            ),
            Err(RuleError::UnknownRegion { .. })
        ));
    }

    #[test]
    fn a_wage_below_the_floor_is_raised_and_above_the_ceiling_is_clamped() {
        // R6.4, the worked example of the issue: average 8000, floor 4800, ceiling 24000
        let book = RuleBook::default_book();
        let low = book
            .assess(&fuzhou(), m(202601), Fen::new(300_000))
            .unwrap();
        let p = low.line(InsuranceType::Pension).unwrap();
        assert_eq!(&*p.rule_id, "350100/pension/201905");
        assert_eq!(
            (p.base, p.employer, p.personal),
            (Fen::new(480_000), Fen::new(76_800), Fen::new(38_400))
        );
        assert_eq!(p.account_credit, Fen::new(38_400));
        let high = book
            .assess(&fuzhou(), m(202601), Fen::new(3_000_000))
            .unwrap();
        let p = high.line(InsuranceType::Pension).unwrap();
        assert_eq!(p.base.to_string(), "24000.00");
        assert_eq!(p.employer.to_string(), "3840.00");
        assert_eq!(p.personal.to_string(), "1920.00");
        assert_eq!(high.lines.len(), 5);
        assert_eq!(high.account_credit_total(), Fen::new(192_000));
        let sum: i64 = high.lines.iter().map(|l| l.employer.fen()).sum();
        assert_eq!(high.employer_total().fen(), sum);
        assert_eq!(
            high.personal_total().fen(),
            high.lines.iter().map(|l| l.personal.fen()).sum::<i64>()
        );
    }

    #[test]
    fn a_negative_wage_is_refused() {
        let book = RuleBook::default_book();
        assert_eq!(
            book.assess(&fuzhou(), m(202601), Fen::new(-1)),
            Err(RuleError::NegativeWage(Fen::new(-1)))
        );
    }

    #[test]
    fn a_past_month_is_assessed_with_the_rule_then_in_force() {
        // R6.4: before 2019-05 the employer pension rate was 20 %
        let book = RuleBook::default_book();
        let a = book
            .assess(&fuzhou(), m(201901), Fen::new(600_000))
            .unwrap();
        let p = a.line(InsuranceType::Pension).unwrap();
        assert_eq!(&*p.rule_id, "350100/pension/201607");
        assert_eq!(p.employer, Fen::new(120_000));
    }

    #[test]
    fn published_interest_rates_are_exact_and_later_years_are_provisional() {
        let book = RuleBook::default_book();
        let r = book.interest_rate(&fuzhou(), 2016).unwrap();
        assert_eq!((r.rate.millionths(), r.provisional), (83_100, false));
        let expected = [
            (2017, 71_200),
            (2018, 82_900),
            (2019, 76_100),
            (2020, 60_400),
            (2021, 66_900),
            (2022, 61_200),
            (2023, 39_700),
            (2024, 26_200),
        ];
        for (year, millionths) in expected {
            assert_eq!(
                book.interest_rate(&fuzhou(), year)
                    .unwrap()
                    .rate
                    .millionths(),
                millionths,
                "{year}"
            );
        }
        let r = book.interest_rate(&fuzhou(), 2026).unwrap();
        assert_eq!((r.rate.millionths(), r.provisional), (26_200, true));
        assert!(book.interest_rate(&fuzhou(), 1997).is_err());
    }

    #[test]
    fn the_account_balance_is_recomputed_from_credits() {
        // R6.4: individual account balances are computed, never typed
        let book = RuleBook::default_book();
        let credits: Vec<(Month, Fen)> = (1..=12)
            .map(|mm| (m(202300 + mm), Fen::new(38_400)))
            .collect();
        let b = book
            .account_balance(&fuzhou(), &credits, m(202311))
            .unwrap();
        assert_eq!(b.balance, Fen::new(38_400 * 11));
        assert_eq!(b.interest, Fen::ZERO);
        let b = book
            .account_balance(&fuzhou(), &credits, m(202312))
            .unwrap();
        // 384 × 78 × 3.97 % / 12 = 99.0912 → 99.09
        assert_eq!(b.principal, Fen::new(460_800));
        assert_eq!(b.interest, Fen::new(9_909));
        assert_eq!(b.balance, Fen::new(470_709));
        // 2024: 4707.09 × 2.62 % = 123.325758 → 123.33
        let b = book
            .account_balance(&fuzhou(), &credits, m(202412))
            .unwrap();
        assert_eq!(b.interest, Fen::new(9_909 + 12_333));
    }

    fn invalid(text: &str) -> (String, String) {
        match RuleBook::from_toml_str("bad.toml", text) {
            Err(RuleBookError::Invalid {
                source_name,
                key,
                reason,
            }) => {
                assert_eq!(source_name, "bad.toml");
                (key, reason)
            }
            other => panic!("expected an invalid book, got {other:?}"),
        }
    }

    const HEAD: &str = "default_region = \"350100\"\n[[region]]\ncode = \"350100\"\n[region.interest]\n2019 = \"7.61%\"\n";

    fn rule(ty: &str, from: u32, to: Option<u32>, employer: &str) -> String {
        let to = to.map(|t| format!("to = {t}\n")).unwrap_or_default();
        format!(
            "[[region.rule]]\ninsurance = \"{ty}\"\nfrom = {from}\n{to}average_wage = \"8000\"\nbase_floor = \"60%\"\nbase_ceiling = \"300%\"\nemployer_rate = \"{employer}\"\npersonal_rate = \"8%\"\n"
        )
    }

    #[test]
    fn a_small_book_with_no_benefit_rules_is_valid() {
        let text = format!(
            "{HEAD}{}{}",
            rule("pension", 201901, Some(201904), "20%"),
            rule("pension", 201905, None, "16%")
        );
        let book = RuleBook::from_toml_str("small.toml", &text).unwrap();
        assert_eq!(
            book.rule_sets(&fuzhou(), InsuranceType::Pension)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn overlapping_periods_are_refused_with_the_key() {
        let text = format!(
            "{HEAD}{}{}",
            rule("pension", 201901, None, "20%"),
            rule("pension", 201905, None, "16%")
        );
        let (key, reason) = invalid(&text);
        assert_eq!(key, "region[350100].rule[350100/pension/201905]");
        assert!(
            reason.contains("overlaps rule 350100/pension/201901"),
            "{reason}"
        );
    }

    #[test]
    fn a_rate_above_one_is_refused() {
        let (key, reason) = invalid(&format!("{HEAD}{}", rule("pension", 201905, None, "160%")));
        assert_eq!(key, "region[350100].rule[0].employer_rate");
        assert_eq!(reason, "rate 160% is outside [0, 1]");
    }

    #[test]
    fn a_float_rate_is_refused() {
        let text =
            format!("{HEAD}{}", rule("pension", 201905, None, "16%")).replace("\"16%\"", "0.16");
        let (key, reason) = invalid(&text);
        assert_eq!(key, "region[350100].rule[0].employer_rate");
        assert!(
            reason.contains("write rates as decimal strings"),
            "{reason}"
        );
    }

    #[test]
    fn a_floor_above_the_ceiling_is_refused() {
        let text = format!("{HEAD}{}", rule("pension", 201905, None, "16%"))
            .replace("\"60%\"", "\"30000\"");
        let (key, reason) = invalid(&text);
        assert_eq!(key, "region[350100].rule[0].base_floor");
        assert_eq!(reason, "floor 30000.00 is above the ceiling 24000.00");
    }

    #[test]
    fn a_year_without_an_interest_rate_is_refused() {
        let text = format!(
            "{HEAD}2021 = \"6.69%\"\n{}",
            rule("pension", 201905, None, "16%")
                .replace("employer_rate", "account_rate = \"8%\"\nemployer_rate")
        );
        let (key, reason) = invalid(&text);
        assert_eq!(key, "region[350100].interest");
        assert!(reason.contains("no rate for 2020"), "{reason}");
        let text = format!(
            "{HEAD}{}",
            rule("pension", 201805, None, "16%")
                .replace("employer_rate", "account_rate = \"8%\"\nemployer_rate")
        );
        let (_, reason) = invalid(&text);
        assert!(reason.contains("no rate for 2018"), "{reason}");
    }

    #[test]
    fn a_malformed_book_is_refused_with_the_file_and_the_reason() {
        let err = RuleBook::from_toml_str("broken.toml", "region = [").unwrap_err();
        assert!(matches!(err, RuleBookError::Parse { .. }));
        assert!(err.to_string().starts_with("broken.toml: "), "{err}");
        let err = RuleBook::from_toml_str(
            "typo.toml",
            &format!("{HEAD}{}", rule("pension", 201905, None, "16%"))
                .replace("personal_rate", "personal_rat"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("personal_rat"), "{err}");
        let (key, _) = invalid(&format!("{HEAD}{}", rule("pensions", 201905, None, "16%")));
        assert_eq!(key, "region[350100].rule[0].insurance");
        let (key, reason) = invalid(&format!("{HEAD}{}", rule("pension", 201913, None, "16%")));
        assert_eq!(key, "region[350100].rule[0].from");
        assert!(reason.contains("201913"), "{reason}");
        let (key, _) = invalid("default_region = \"350100\"\n[[region]]\ncode = \"35010\"\n");
        assert_eq!(key, "region[0].code");
    }

    #[test]
    fn a_yaml_book_loads_like_a_toml_one() {
        let yaml = r#"
default_region: "350100"
region:
  - code: "350100"
    interest: { 2019: "7.61%", 2020: "6.04%" }
    rule:
      - insurance: pension
        from: 201905
        average_wage: "8000.00"
        base_floor: "60%"
        base_ceiling: "300%"
        employer_rate: "16%"
        personal_rate: "8%"
        account_rate: "8%"
"#;
        let book = RuleBook::from_yaml_str("book.yaml", yaml).unwrap();
        let a = book
            .assess(&fuzhou(), m(202001), Fen::new(300_000))
            .unwrap();
        assert_eq!(a.employer_total(), Fen::new(76_800));
        let err =
            RuleBook::from_yaml_str("book.yaml", &yaml.replace("\"16%\"", "0.16")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("book.yaml: region[350100].rule[0].employer_rate: "),
            "{err}"
        );
    }

    #[test]
    fn a_rule_book_file_is_read_by_its_extension() {
        let dir = std::env::temp_dir().join(format!("shebao-rules-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("book.toml");
        std::fs::write(&path, DEFAULT_BOOK_TOML).unwrap();
        assert!(RuleBook::load_file(&path).is_ok());
        let bad = dir.join("book.json");
        assert!(matches!(
            RuleBook::load_file(&bad),
            Err(RuleBookError::Format { .. })
        ));
        let missing = dir.join("missing.yaml");
        assert!(matches!(
            RuleBook::load_file(&missing),
            Err(RuleBookError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_region_may_round_contributions_to_the_jiao() {
        let text = format!("{HEAD}{}", rule("pension", 201905, None, "16.01%")).replace(
            "code = \"350100\"",
            "code = \"350100\"\nrounding = \"half_up_jiao\"",
        );
        let book = RuleBook::from_toml_str("jiao.toml", &text).unwrap();
        let a = book
            .assess(&fuzhou(), m(202001), Fen::new(500_000))
            .unwrap();
        // 5000 × 16.01 % = 800.50 → 800.50; 5001.23 × 16.01 % = 800.69693 → 800.70
        assert_eq!(a.lines[0].employer, Fen::new(80_050));
        let a = book
            .assess(&fuzhou(), m(202001), Fen::new(500_123))
            .unwrap();
        assert_eq!(a.lines[0].employer, Fen::new(80_070));
    }
}
