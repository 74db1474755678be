//! Transfer amounts of the pension insurance relationship (转移接续, R10.1).
//!
//! When a person moves to work in another region (国办发〔2009〕66号), the
//! individual account moves in full, and the pooled fund moves 12 % of the
//! actual contribution base of every month paid since 1998-01. The result is
//! itemised by year so that the receiving region can check it to the fen.

use serde::{Deserialize, Serialize};

use crate::account::{AccountBalance, AccountEntry};
use crate::error::{Result, RuleError};
use crate::id::RegionCode;
use crate::insurance::InsuranceType;
use crate::money::{Fen, Rate};
use crate::period::Month;
use crate::rulebook::RuleBook;

/// The pooled-fund amount of one year of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PooledItem {
    /// The year.
    pub year: i32,
    /// The months of the year that count.
    pub months: u32,
    /// The sum of the actual contribution bases of those months.
    pub base_total: Fen,
    /// `base_total` × the pooled rate, rounded once.
    pub amount: Fen,
}

/// The amounts of a pension transfer out, itemised (R10.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PensionTransfer {
    /// The month of the transfer.
    pub month: Month,
    /// The id of the benefit rules that fixed the rate.
    pub benefit_rule_id: String,
    /// The individual account, moved in full (with the interest accrued in
    /// the year up to the transfer).
    pub account: AccountBalance,
    /// The pooled rate applied (12 %).
    pub pooled_rate: Rate,
    /// The first month counted (1998-01).
    pub pooled_since: Month,
    /// One item per year with counted months.
    pub pooled_items: Vec<PooledItem>,
    /// The sum of the items.
    pub pooled_total: Fen,
    /// Account balance plus pooled total.
    pub total: Fen,
}

impl RuleBook {
    /// Computes the amounts of a pension transfer out at the end of
    /// `transfer_month` (R10.1): the individual account in full from its
    /// ledger entries, and the pooled fund at the rate of the benefit rules in
    /// force times the actual contribution base of each month since the
    /// rules' start month (1998-01), itemised per year. Several bases of one
    /// month are added; a negative base is refused.
    pub fn pension_transfer(
        &self,
        region: &RegionCode,
        account_entries: &[AccountEntry],
        bases: &[(Month, Fen)],
        transfer_month: Month,
    ) -> Result<PensionTransfer> {
        let rules = self.benefit_rules_in_force(region, transfer_month)?;
        let rounding = self
            .rule_in_force(region, InsuranceType::Pension, transfer_month)?
            .rounding();
        let mut entries: Vec<AccountEntry> = account_entries.to_vec();
        entries.push(AccountEntry::TransferOut {
            month: transfer_month,
        });
        let statement = self.account_statement(region, &entries, transfer_month)?;
        let account = statement
            .transfers_out
            .last()
            .map_or(AccountBalance::ZERO, |t| t.amount);

        let since = rules.pooled_transfer_since();
        let mut counted: Vec<(Month, Fen)> = Vec::with_capacity(bases.len());
        for (month, base) in bases {
            if base.is_negative() {
                return Err(RuleError::NegativeAmount {
                    what: "contribution base",
                    amount: *base,
                });
            }
            if *month >= since && *month <= transfer_month {
                counted.push((*month, *base));
            }
        }
        counted.sort_by_key(|(m, _)| *m);
        let overflow = || RuleError::Overflow("a pooled transfer");
        let mut items: Vec<PooledItem> = Vec::new();
        let mut last_month: Option<Month> = None;
        for (month, base) in counted {
            let new_month = last_month != Some(month);
            last_month = Some(month);
            match items.last_mut() {
                Some(item) if item.year == month.year() => {
                    item.base_total = item.base_total.checked_add(base).ok_or_else(overflow)?;
                    if new_month {
                        item.months += 1;
                    }
                }
                _ => items.push(PooledItem {
                    year: month.year(),
                    months: 1,
                    base_total: base,
                    amount: Fen::ZERO,
                }),
            }
        }
        let rate = rules.pooled_transfer_rate();
        let mut pooled_total = Fen::ZERO;
        for item in &mut items {
            item.amount = rate.apply(item.base_total, rounding).ok_or_else(overflow)?;
            pooled_total = pooled_total.checked_add(item.amount).ok_or_else(overflow)?;
        }
        Ok(PensionTransfer {
            month: transfer_month,
            benefit_rule_id: rules.id().to_owned(),
            account,
            pooled_rate: rate,
            pooled_since: since,
            pooled_items: items,
            pooled_total,
            total: account
                .balance
                .checked_add(pooled_total)
                .ok_or_else(overflow)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u32) -> Month {
        Month::from_yyyymm(n).unwrap()
    }

    #[test]
    fn the_pooled_fund_moves_twelve_percent_of_each_base_since_1998() {
        // R10.1: amounts transferred are itemised so the receiving region can check them
        let book = RuleBook::default_book();
        let region = RegionCode::parse("350100").unwrap();
        let mut bases = vec![(m(199712), Fen::new(80_000))];
        bases.extend((1..=12).map(|mm| (m(199800 + mm), Fen::new(80_000))));
        bases.push((m(202406), Fen::new(480_000)));
        bases.push((m(202406), Fen::new(20_000))); // two employers in one month
        bases.push((m(202601), Fen::new(480_000))); // after the transfer
        let entries = [AccountEntry::Credit {
            month: m(202406),
            amount: Fen::new(38_400),
        }];
        let t = book
            .pension_transfer(&region, &entries, &bases, m(202412))
            .unwrap();
        assert_eq!(t.pooled_since, m(199801));
        assert_eq!(t.pooled_items.len(), 2);
        assert_eq!(
            t.pooled_items[0],
            PooledItem {
                year: 1998,
                months: 12,
                base_total: Fen::new(960_000),
                amount: Fen::new(115_200)
            }
        );
        assert_eq!(
            t.pooled_items[1],
            PooledItem {
                year: 2024,
                months: 1,
                base_total: Fen::new(500_000),
                amount: Fen::new(60_000)
            }
        );
        assert_eq!(t.pooled_total, Fen::new(175_200));
        // 384.00 credited in June, 2.62 % for 7 months: 5.869 → 5.87
        assert_eq!(t.account.balance, Fen::new(38_400 + 587));
        assert_eq!(t.total, Fen::new(175_200 + 38_987));
    }
}
