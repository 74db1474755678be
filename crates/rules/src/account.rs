//! The pension individual account (个人账户) as a ledger computation (R2.4, R6.4).
//!
//! The balance is never typed in: it is recomputed from the credits, the
//! transfers and the yearly account interest rate (记账利率). Interest is
//! credited once a year, at the end of December, on the opening balance of the
//! year for the whole year and on each month's credit for the rest of the year,
//! by the crediting method of the rule set in force:
//!
//! - [`CreditingMethod::MonthProduct`] (月积数法, 劳办发〔1997〕116号): interest on
//!   the credits = Σ credit of month *m* × (13 − *m*) × rate / 12;
//! - [`CreditingMethod::AnnualFactor`]: interest on the credits = the year's
//!   credits × rate × 1.083 × ½, the simplified formula of the same circular.
//!
//! Interest of a year is computed exactly and rounded once. A transfer out
//! (R10.1) moves the whole balance, with the interest accrued from January to
//! the transfer month by the month-product method (the annual factor assumes
//! a whole year).

use serde::{Deserialize, Serialize};

use crate::error::{Result, RuleError};
use crate::money::{Fen, MILLION, Rate, Rounding};
use crate::period::Month;

/// How the interest on a year's credits is computed (a rule-set choice, R6.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditingMethod {
    /// The month-product method: each month's credit earns interest for
    /// (13 − month) / 12 of the year.
    #[default]
    MonthProduct,
    /// The "× 1.083 × ½" formula: the year's credits earn rate × 1.083 / 2.
    AnnualFactor,
}

impl CreditingMethod {
    /// Returns the stable name used in rule books.
    pub const fn as_str(self) -> &'static str {
        match self {
            CreditingMethod::MonthProduct => "month_product",
            CreditingMethod::AnnualFactor => "annual_factor",
        }
    }
}

/// A balance of the individual account, split into principal (credits and
/// transferred-in principal) and interest (R2.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalance {
    /// Credits and transferred-in principal.
    pub principal: Fen,
    /// Interest credited at year-ends, accrued at transfers, or transferred in.
    pub interest: Fen,
    /// `principal + interest`.
    pub balance: Fen,
}

impl AccountBalance {
    /// The empty account.
    pub const ZERO: AccountBalance = AccountBalance {
        principal: Fen::ZERO,
        interest: Fen::ZERO,
        balance: Fen::ZERO,
    };

    /// Builds a balance from its parts; `None` on overflow.
    pub fn new(principal: Fen, interest: Fen) -> Option<AccountBalance> {
        Some(AccountBalance {
            principal,
            interest,
            balance: principal.checked_add(interest)?,
        })
    }
}

/// One fact of the individual account ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountEntry {
    /// A monthly credit from contributions (R2.2).
    Credit {
        /// The contribution month.
        month: Month,
        /// The amount credited, never negative.
        amount: Fen,
    },
    /// An account received from another region (R10.1); it earns interest
    /// from its month like a credit.
    TransferIn {
        /// The month received.
        month: Month,
        /// The principal part of the amount received.
        principal: Fen,
        /// The interest part of the amount received.
        interest: Fen,
    },
    /// The whole account moved to another region at the end of `month` (R10.1).
    TransferOut {
        /// The month of the transfer.
        month: Month,
    },
}

impl AccountEntry {
    /// Returns the month of the entry.
    pub const fn month(&self) -> Month {
        match self {
            AccountEntry::Credit { month, .. }
            | AccountEntry::TransferIn { month, .. }
            | AccountEntry::TransferOut { month } => *month,
        }
    }

    // Within a month, credits come before a transfer out, which takes them along.
    const fn order(&self) -> u8 {
        match self {
            AccountEntry::Credit { .. } => 0,
            AccountEntry::TransferIn { .. } => 1,
            AccountEntry::TransferOut { .. } => 2,
        }
    }
}

/// The terms of one year's interest: the published rate and the rule set's
/// method and rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearTerms {
    /// The account interest rate of the year (记账利率).
    pub rate: Rate,
    /// True when the rate is not yet published and the book's policy
    /// supplied the latest published one.
    pub provisional: bool,
    /// The crediting method of the pension rule in force in December.
    pub method: CreditingMethod,
    /// The rounding of the pension rule in force in December.
    pub rounding: Rounding,
}

/// Computes the interest of a whole year at its end (R6.4): on the opening
/// balance for twelve months and on the monthly credits (`credits[0]` is
/// January) by the method of `terms`, rounded once. `None` on overflow.
#[inline]
pub fn year_end_interest(opening: Fen, credits: &[Fen; 12], terms: &YearTerms) -> Option<Fen> {
    let r = i128::from(terms.rate.millionths());
    let opening = i128::from(opening.fen());
    match terms.method {
        CreditingMethod::MonthProduct => {
            // Σ c_m × (13 − m), m = 1..=12
            let mut product: i128 = 0;
            for (i, c) in credits.iter().enumerate() {
                product += i128::from(c.fen()) * (12 - i as i128);
            }
            let numerator = (opening * 12 + product) * r;
            terms.rounding.divide(numerator, 12 * i128::from(MILLION))
        }
        CreditingMethod::AnnualFactor => {
            let total: i128 = credits.iter().map(|c| i128::from(c.fen())).sum();
            // opening × r + total × r × 1.083 / 2, over the denominator 2000 × 10^6
            let numerator = (opening * 2000 + total * 1083) * r;
            terms.rounding.divide(numerator, 2000 * i128::from(MILLION))
        }
    }
}

/// Computes the interest accrued from January to the end of month `through`
/// (1..=12) by the month-product method, rounded once: the interest a
/// transfer out takes along (R10.1). `None` on overflow or a bad month.
pub fn accrued_interest(
    opening: Fen,
    credits: &[Fen; 12],
    through: u32,
    terms: &YearTerms,
) -> Option<Fen> {
    if !(1..=12).contains(&through) {
        return None;
    }
    let r = i128::from(terms.rate.millionths());
    let k = i128::from(through);
    let mut product: i128 = i128::from(opening.fen()) * k;
    for (i, c) in credits.iter().take(through as usize).enumerate() {
        product += i128::from(c.fen()) * (k - i as i128);
    }
    terms.rounding.divide(product * r, 12 * i128::from(MILLION))
}

/// One year-end roll-over of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearEnd {
    /// The year.
    pub year: i32,
    /// The rate applied.
    pub rate_millionths: u32,
    /// True when the rate was provisional (not yet published).
    pub provisional: bool,
    /// The method applied.
    pub method: CreditingMethod,
    /// The balance on 1 January (or after a transfer out during the year).
    pub opening: AccountBalance,
    /// Credits and transfers in of the year.
    pub credits: Fen,
    /// Interest credited at the end of the year.
    pub interest: Fen,
    /// The balance on 31 December.
    pub closing: AccountBalance,
}

/// One transfer out of the whole account (R10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOutEntry {
    /// The month of the transfer.
    pub month: Month,
    /// The interest accrued in the year up to the transfer, included in `amount`.
    pub accrued_interest: Fen,
    /// The amount moved: the whole balance.
    pub amount: AccountBalance,
}

/// The recomputed ledger of an individual account up to a month (R2.4, R6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatement {
    /// The month the statement is as of (end of month).
    pub at: Month,
    /// Every completed year-end roll-over, in order.
    pub years: Vec<YearEnd>,
    /// Every transfer out, in order.
    pub transfers_out: Vec<TransferOutEntry>,
    /// The balance at the end of `at`: interest of the current year is
    /// credited only at its end.
    pub balance: AccountBalance,
}

fn overflow() -> RuleError {
    RuleError::Overflow("the individual account")
}

fn add(a: Fen, b: Fen) -> Result<Fen> {
    a.checked_add(b).ok_or_else(overflow)
}

/// Recomputes the account from its entries up to the end of month `at`
/// (R6.4). `terms` gives the rate, method and rounding of a year; it is only
/// asked for years in which the account holds money. Entries after `at` are
/// ignored; a negative credit is refused.
pub fn compute_statement(
    entries: &[AccountEntry],
    at: Month,
    mut terms: impl FnMut(i32) -> Result<YearTerms>,
) -> Result<AccountStatement> {
    let mut sorted: Vec<AccountEntry> = entries
        .iter()
        .copied()
        .filter(|e| e.month() <= at)
        .collect();
    for e in &sorted {
        match *e {
            AccountEntry::Credit { amount, .. } if amount.is_negative() => {
                return Err(RuleError::NegativeAmount {
                    what: "account credit",
                    amount,
                });
            }
            AccountEntry::TransferIn {
                principal,
                interest,
                ..
            } if principal.is_negative() || interest.is_negative() => {
                return Err(RuleError::NegativeAmount {
                    what: "transferred-in amount",
                    amount: if principal.is_negative() {
                        principal
                    } else {
                        interest
                    },
                });
            }
            _ => {}
        }
    }
    sorted.sort_by_key(|e| (e.month(), e.order()));

    let mut statement = AccountStatement {
        at,
        years: Vec::new(),
        transfers_out: Vec::new(),
        balance: AccountBalance::ZERO,
    };
    let Some(first) = sorted.first() else {
        return Ok(statement);
    };
    let mut principal = Fen::ZERO;
    let mut interest = Fen::ZERO;
    let mut next = 0usize;
    for year in first.month().year()..=at.year() {
        let opening = AccountBalance::new(principal, interest).ok_or_else(overflow)?;
        let mut year_opening = opening;
        let mut credits = [Fen::ZERO; 12];
        let mut year_terms: Option<YearTerms> = None;
        while let Some(e) = sorted.get(next) {
            if e.month().year() != year {
                break;
            }
            next += 1;
            let m = e.month().month() as usize - 1;
            match *e {
                AccountEntry::Credit { amount, .. } => {
                    credits[m] = add(credits[m], amount)?;
                    principal = add(principal, amount)?;
                }
                AccountEntry::TransferIn {
                    principal: p,
                    interest: i,
                    ..
                } => {
                    credits[m] = add(credits[m], add(p, i)?)?;
                    principal = add(principal, p)?;
                    interest = add(interest, i)?;
                }
                AccountEntry::TransferOut { month } => {
                    let holding = year_opening.balance != Fen::ZERO
                        || credits.iter().any(|c| *c != Fen::ZERO);
                    let accrued = if holding {
                        let t = match year_terms {
                            Some(t) => t,
                            None => *year_terms.insert(terms(year)?),
                        };
                        accrued_interest(year_opening.balance, &credits, month.month(), &t)
                            .ok_or_else(overflow)?
                    } else {
                        Fen::ZERO
                    };
                    interest = add(interest, accrued)?;
                    let amount = AccountBalance::new(principal, interest).ok_or_else(overflow)?;
                    statement.transfers_out.push(TransferOutEntry {
                        month,
                        accrued_interest: accrued,
                        amount,
                    });
                    principal = Fen::ZERO;
                    interest = Fen::ZERO;
                    year_opening = AccountBalance::ZERO;
                    credits = [Fen::ZERO; 12];
                }
            }
        }
        let year_complete =
            at >= Month::new(year, 12).map_err(|e| RuleError::InvalidInput(e.to_string()))?;
        let holding = year_opening.balance != Fen::ZERO || credits.iter().any(|c| *c != Fen::ZERO);
        if year_complete && holding {
            let t = match year_terms {
                Some(t) => t,
                None => terms(year)?,
            };
            let earned =
                year_end_interest(year_opening.balance, &credits, &t).ok_or_else(overflow)?;
            let credited = credits.iter().try_fold(Fen::ZERO, |acc, c| add(acc, *c))?;
            interest = add(interest, earned)?;
            statement.years.push(YearEnd {
                year,
                rate_millionths: t.rate.millionths(),
                provisional: t.provisional,
                method: t.method,
                opening: year_opening,
                credits: credited,
                interest: earned,
                closing: AccountBalance::new(principal, interest).ok_or_else(overflow)?,
            });
        }
    }
    statement.balance = AccountBalance::new(principal, interest).ok_or_else(overflow)?;
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(bp: u32, method: CreditingMethod) -> YearTerms {
        YearTerms {
            rate: Rate::from_basis_points(bp).unwrap(),
            provisional: false,
            method,
            rounding: Rounding::HalfUpFen,
        }
    }

    fn m(n: u32) -> Month {
        Month::from_yyyymm(n).unwrap()
    }

    #[test]
    fn the_two_crediting_methods_differ_by_cents_and_both_are_pinned() {
        // R6.4: the crediting method is a rule-set choice
        // 12 monthly credits of 384.00 yuan at 6.12 %, opening 10 000.00 yuan
        let credits = [Fen::new(38_400); 12];
        let opening = Fen::new(1_000_000);
        let mp = year_end_interest(
            opening,
            &credits,
            &terms(612, CreditingMethod::MonthProduct),
        );
        let af = year_end_interest(
            opening,
            &credits,
            &terms(612, CreditingMethod::AnnualFactor),
        );
        // opening: 10 000 × 6.12 % = 612.00
        // month product: 384 × 78 × 0.0612 / 12 = 152.7552 → 152.76; total 764.76
        assert_eq!(mp, Some(Fen::new(76_476)));
        // annual factor: 4608 × 0.0612 × 1.083 / 2 = 152.7058... → total 764.71
        assert_eq!(af, Some(Fen::new(76_471)));
    }

    #[test]
    fn a_credit_in_december_earns_one_month_and_in_january_twelve() {
        let t = terms(1200, CreditingMethod::MonthProduct);
        let mut credits = [Fen::ZERO; 12];
        credits[11] = Fen::new(120_000);
        assert_eq!(
            year_end_interest(Fen::ZERO, &credits, &t),
            Some(Fen::new(1_200))
        );
        let mut credits = [Fen::ZERO; 12];
        credits[0] = Fen::new(120_000);
        assert_eq!(
            year_end_interest(Fen::ZERO, &credits, &t),
            Some(Fen::new(14_400))
        );
    }

    #[test]
    fn interest_is_credited_only_at_a_completed_year_end() {
        // R2.4: balance at any month
        let entries = [
            AccountEntry::Credit {
                month: m(202401),
                amount: Fen::new(100_000),
            },
            AccountEntry::Credit {
                month: m(202501),
                amount: Fen::new(100_000),
            },
        ];
        let t = |_y: i32| Ok(terms(1200, CreditingMethod::MonthProduct));
        let s = compute_statement(&entries, m(202411), t).unwrap();
        assert_eq!(s.balance.balance, Fen::new(100_000));
        let s = compute_statement(&entries, m(202412), t).unwrap();
        assert_eq!(s.balance.interest, Fen::new(12_000));
        let s = compute_statement(&entries, m(202506), t).unwrap();
        assert_eq!(s.balance.principal, Fen::new(200_000));
        assert_eq!(s.balance.interest, Fen::new(12_000));
        assert_eq!(s.years.len(), 1);
    }

    #[test]
    fn a_transfer_out_takes_the_whole_balance_with_accrued_interest() {
        // R10.1: the individual account moves in full
        let entries = [
            AccountEntry::Credit {
                month: m(202301),
                amount: Fen::new(120_000),
            },
            AccountEntry::Credit {
                month: m(202406),
                amount: Fen::new(10_000),
            },
            AccountEntry::TransferOut { month: m(202406) },
            AccountEntry::TransferIn {
                month: m(202409),
                principal: Fen::new(50_000),
                interest: Fen::new(5_000),
            },
        ];
        let t = |_y: i32| Ok(terms(1200, CreditingMethod::MonthProduct));
        let s = compute_statement(&entries, m(202412), t).unwrap();
        assert_eq!(s.transfers_out.len(), 1);
        let out = s.transfers_out[0];
        // 2023: 1200 × 12 % × 12/12 = 144.00 → 1344.00 at the end of 2023
        // 2024 to June: 1344 × 12 % × 6/12 = 80.64, plus 100 × 12 % × 1/12 = 1.00
        assert_eq!(out.accrued_interest, Fen::new(8_164));
        assert_eq!(out.amount.balance, Fen::new(134_400 + 10_000 + 8_164));
        // after the transfer in of 550.00 in September: 550 × 12 % × 4/12 = 22.00
        assert_eq!(s.balance.principal, Fen::new(50_000));
        assert_eq!(s.balance.interest, Fen::new(5_000 + 2_200));
    }

    #[test]
    fn a_negative_credit_is_refused() {
        let entries = [AccountEntry::Credit {
            month: m(202401),
            amount: Fen::new(-1),
        }];
        let t = |_y: i32| Ok(terms(1200, CreditingMethod::MonthProduct));
        assert!(matches!(
            compute_statement(&entries, m(202412), t),
            Err(RuleError::NegativeAmount { .. })
        ));
    }
}
