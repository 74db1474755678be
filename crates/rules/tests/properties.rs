//! Property tests of the rules library (R6.4): no input panics, clamping is
//! monotone, amounts are never negative, ledger sums are conserved, and
//! recomputing any month gives the same answer.

// A test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use shebao_rules::account::{
    AccountEntry, CreditingMethod, YearTerms, compute_statement, year_end_interest,
};
use shebao_rules::{
    CitizenId, CreditCode, Fen, InsuranceType, Month, Rate, RegionCode, Rounding, RuleBook,
};

fn book() -> &'static RuleBook {
    use std::sync::OnceLock;
    static BOOK: OnceLock<RuleBook> = OnceLock::new();
    BOOK.get_or_init(RuleBook::default_book)
}

fn region() -> RegionCode {
    *book().default_region()
}

/// Any month the default book covers.
fn month() -> impl Strategy<Value = Month> {
    (1998i32..=2026, 1u32..=12).prop_map(|(y, m)| Month::new(y, m).unwrap())
}

fn wage() -> impl Strategy<Value = Fen> {
    prop_oneof![0i64..10_000_000, 0i64..100_000_000_000].prop_map(Fen::new)
}

fn entry() -> impl Strategy<Value = AccountEntry> {
    prop_oneof![
        8 => (month(), 0i64..500_000).prop_map(|(month, a)| AccountEntry::Credit { month, amount: Fen::new(a) }),
        1 => (month(), 0i64..50_000_000, 0i64..5_000_000).prop_map(|(month, p, i)| AccountEntry::TransferIn {
            month,
            principal: Fen::new(p),
            interest: Fen::new(i)
        }),
        1 => month().prop_map(|month| AccountEntry::TransferOut { month }),
    ]
}

fn citizen_check(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_text_makes_a_parser_panic(s in "\\PC{0,40}") {
        let _ = CitizenId::parse(&s);
        let _ = CreditCode::parse(&s);
        let _ = RegionCode::parse(&s);
        let _ = s.parse::<Month>();
        let _ = s.parse::<Fen>();
        let _ = Rate::parse(&s);
    }

    #[test]
    fn no_id_shaped_text_makes_a_parser_panic(s in "[0-9Xx０-９ｘ]{14,19}") {
        let _ = CitizenId::parse(&s);
        let _ = CreditCode::parse(&s);
    }

    #[test]
    fn no_text_makes_the_rule_book_loader_panic(s in "\\PC{0,200}") {
        let _ = RuleBook::from_toml_str("fuzz.toml", &s);
        let _ = RuleBook::from_yaml_str("fuzz.yaml", &s);
    }

    #[test]
    fn no_number_makes_month_arithmetic_panic(n in any::<u32>(), k in any::<i32>()) {
        if let Ok(m) = Month::from_yyyymm(n) {
            prop_assert_eq!(m.yyyymm(), n);
            let _ = m.checked_add_months(k);
            let _ = (m.next(), m.prev());
        }
    }

    #[test]
    fn a_valid_citizen_id_round_trips(
        area in 110000u32..=659999,
        days in 0i64..80_000,
        seq in 0u32..1000,
        lower in any::<bool>(),
    ) {
        let birth = chrono::NaiveDate::from_ymd_opt(1850, 1, 1).unwrap() + chrono::Duration::days(days);
        let body = format!("{area}{}{seq:03}", birth.format("%Y%m%d"));
        let check = citizen_check(&body);
        let text = format!("{body}{check}");
        let typed = if lower { text.to_lowercase() } else { text.clone() };
        let id = CitizenId::parse(&typed).unwrap();
        prop_assert_eq!(id.as_str(), text.as_str());
        prop_assert_eq!(id.birth_date(), birth);
        let wrong = if check == '0' { '1' } else { '0' };
        let tampered = format!("{body}{wrong}");
        prop_assert!(CitizenId::parse(&tampered).is_err());
    }

    #[test]
    fn clamping_is_monotone(a in wage(), b in wage(), month in month()) {
        // R6.4: a higher declared wage never yields a lower base or amount
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let x = book().assess(&region(), month, lo).unwrap();
        let y = book().assess(&region(), month, hi).unwrap();
        for (l, h) in x.lines.iter().zip(&y.lines) {
            prop_assert!(l.base <= h.base);
            prop_assert!(l.employer <= h.employer);
            prop_assert!(l.personal <= h.personal);
            prop_assert!(l.account_credit <= h.account_credit);
        }
    }

    #[test]
    fn amounts_are_never_negative_and_stay_within_the_limits(w in wage(), month in month()) {
        let a = book().assess(&region(), month, w).unwrap();
        prop_assert_eq!(a.lines.len(), 5);
        for line in &a.lines {
            let rule = book().rule_in_force(&region(), line.insurance, month).unwrap();
            prop_assert!(line.base >= rule.base_floor() && line.base <= rule.base_ceiling());
            prop_assert!(line.employer >= Fen::ZERO && line.personal >= Fen::ZERO && line.account_credit >= Fen::ZERO);
            prop_assert!(line.employer <= line.base && line.personal <= line.base);
        }
        prop_assert!(a.employer_total() >= Fen::ZERO);
    }

    #[test]
    fn a_negative_wage_is_always_refused(w in i64::MIN..0, month in month()) {
        prop_assert!(book().assess(&region(), month, Fen::new(w)).is_err());
    }

    #[test]
    fn year_end_interest_is_never_negative_and_grows_with_the_rate(
        opening in 0i64..1_000_000_000,
        credits in proptest::array::uniform12(0i64..1_000_000),
        bp in 0u32..2000,
        annual in any::<bool>(),
    ) {
        let method = if annual { CreditingMethod::AnnualFactor } else { CreditingMethod::MonthProduct };
        let credits = credits.map(Fen::new);
        let t = |bp| YearTerms { rate: Rate::from_basis_points(bp).unwrap(), provisional: false, method, rounding: Rounding::HalfUpFen };
        let i1 = year_end_interest(Fen::new(opening), &credits, &t(bp)).unwrap();
        let i2 = year_end_interest(Fen::new(opening), &credits, &t(bp + 1)).unwrap();
        prop_assert!(i1 >= Fen::ZERO && i1 <= i2);
    }

    #[test]
    fn ledger_sums_are_conserved(entries in proptest::collection::vec(entry(), 0..40), at in month()) {
        // R10.1: amounts moved equal amounts held, to the fen
        let s = book().account_statement(&region(), &entries, at).unwrap();
        let mut put_in: i64 = 0;
        for e in entries.iter().filter(|e| e.month() <= at) {
            match e {
                AccountEntry::Credit { amount, .. } => put_in += amount.fen(),
                AccountEntry::TransferIn { principal, interest, .. } => put_in += principal.fen() + interest.fen(),
                AccountEntry::TransferOut { .. } => {}
            }
        }
        let earned: i64 = s.years.iter().map(|y| y.interest.fen()).sum::<i64>()
            + s.transfers_out.iter().map(|t| t.accrued_interest.fen()).sum::<i64>();
        let out: i64 = s.transfers_out.iter().map(|t| t.amount.balance.fen()).sum();
        prop_assert_eq!(put_in + earned, out + s.balance.balance.fen());
        prop_assert_eq!(s.balance.balance.fen(), s.balance.principal.fen() + s.balance.interest.fen());
        prop_assert!(s.balance.interest >= Fen::ZERO);
        for y in &s.years {
            prop_assert_eq!(y.closing.balance.fen(), y.opening.balance.fen() + y.credits.fen() + y.interest.fen());
        }
    }

    #[test]
    fn recomputing_a_month_gives_the_same_answer(
        credits in proptest::collection::vec((month(), 0i64..500_000), 0..60),
        at in month(),
    ) {
        // R6.4: any past month is recomputable, whatever came later and in whatever order
        let credits: Vec<(Month, Fen)> = credits.into_iter().map(|(m, a)| (m, Fen::new(a))).collect();
        let once = book().account_balance(&region(), &credits, at).unwrap();
        let again = book().account_balance(&region(), &credits, at).unwrap();
        prop_assert_eq!(once, again);
        let mut earlier: Vec<(Month, Fen)> = credits.iter().copied().filter(|(m, _)| *m <= at).collect();
        earlier.reverse();
        prop_assert_eq!(book().account_balance(&region(), &earlier, at).unwrap(), once);
        let principal: i64 = earlier.iter().map(|(_, a)| a.fen()).sum();
        prop_assert_eq!(once.principal.fen(), principal);
    }

    #[test]
    fn a_statement_never_panics_on_any_amount(
        entries in proptest::collection::vec((month(), any::<i64>()), 0..10),
        at in month(),
    ) {
        let entries: Vec<AccountEntry> = entries.into_iter().map(|(month, a)| AccountEntry::Credit { month, amount: Fen::new(a) }).collect();
        let terms = |_y: i32| Ok(YearTerms { rate: Rate::ONE, provisional: false, method: CreditingMethod::MonthProduct, rounding: Rounding::HalfUpYuan });
        let _ = compute_statement(&entries, at, terms);
    }

    #[test]
    fn every_insurance_type_is_in_force_in_every_covered_month(month in month()) {
        for ty in InsuranceType::ALL {
            prop_assert!(book().rule_in_force(&region(), ty, month).is_ok());
        }
    }
}
