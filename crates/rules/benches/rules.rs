//! Throughput of the two hottest computations of the record (R6.4): contribution
//! assessments and year-end roll-overs of individual accounts.
//!
//! A plain `main` timed with `std::time::Instant`, single-threaded, so the
//! rates printed are per core. Run with
//! `cargo bench -p shebao-rules --bench rules`.

use std::hint::black_box;
use std::time::Instant;

use shebao_rules::account::{CreditingMethod, YearTerms, year_end_interest};
use shebao_rules::{Fen, InsuranceType, Month, Rate, Rounding, RuleBook, RuleError};

const ROWS: usize = 1_000_000;

/// A small deterministic generator, so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn report(what: &str, rows: usize, seconds: f64) {
    println!(
        "{what:<48} {rows:>9} rows in {:>8.1} ms = {:>12.0} rows/s/core",
        seconds * 1e3,
        rows as f64 / seconds
    );
}

fn main() -> Result<(), RuleError> {
    let book = RuleBook::default_book();
    let region = *book.default_region();
    let mut rng = Lcg(42);
    // declared wages from 0 to 40 000.00 yuan, months from 2016 to 2026
    let wages: Vec<Fen> = (0..ROWS)
        .map(|_| Fen::new((rng.next() % 4_000_000) as i64))
        .collect();
    let months: Vec<Month> = (0..ROWS)
        .map(|_| {
            Month::new(
                2016 + (rng.next() % 11) as i32,
                1 + (rng.next() % 12) as u32,
            )
        })
        .collect::<Result<_, _>>()
        .map_err(|e| RuleError::InvalidInput(e.to_string()))?;

    // 1. Full assessments through the public API: five lines with rule ids.
    let start = Instant::now();
    let mut employer = 0i64;
    for (w, m) in wages.iter().zip(&months) {
        let a = book.assess(&region, *m, *w)?;
        employer = employer.wrapping_add(a.employer_total().fen());
    }
    report(
        "assess (5 insurance types, public API)",
        ROWS,
        start.elapsed().as_secs_f64(),
    );
    black_box(employer);

    // 2. The allocation-free core: the pension line of one rule in force.
    let start = Instant::now();
    let mut personal = 0i64;
    for (w, m) in wages.iter().zip(&months) {
        let rule = book.rule_in_force(&region, InsuranceType::Pension, *m)?;
        personal = personal.wrapping_add(rule.amounts(*w)?.personal.fen());
    }
    report(
        "rule_in_force + amounts (pension line)",
        ROWS,
        start.elapsed().as_secs_f64(),
    );
    black_box(personal);

    // 3. Year-end roll-overs: opening balance and twelve monthly credits.
    let openings: Vec<Fen> = (0..ROWS)
        .map(|_| Fen::new((rng.next() % 50_000_000) as i64))
        .collect();
    let credits: Vec<[Fen; 12]> = (0..ROWS)
        .map(|_| {
            let base = (rng.next() % 200_000) as i64;
            std::array::from_fn(|i| Fen::new(base + (i as i64 % 3) * 100))
        })
        .collect();
    let rate = Rate::from_basis_points(262).ok_or(RuleError::Overflow("rate"))?;
    for (name, method) in [
        (
            "year-end roll-over (month product)",
            CreditingMethod::MonthProduct,
        ),
        (
            "year-end roll-over (x 1.083 x 1/2)",
            CreditingMethod::AnnualFactor,
        ),
    ] {
        let terms = YearTerms {
            rate,
            provisional: false,
            method,
            rounding: Rounding::HalfUpFen,
        };
        let start = Instant::now();
        let mut total = 0i64;
        for (o, c) in openings.iter().zip(&credits) {
            let interest =
                year_end_interest(*o, c, &terms).ok_or(RuleError::Overflow("interest"))?;
            total = total.wrapping_add(interest.fen());
        }
        report(name, ROWS, start.elapsed().as_secs_f64());
        black_box(total);
    }

    // 4. Whole ledgers through the public API: 12 credits, one roll-over each.
    let n = ROWS / 10;
    let ledgers: Vec<Vec<(Month, Fen)>> = (0..n)
        .map(|i| {
            (1..=12)
                .map(|mm| {
                    (
                        Month::new(2024, mm).unwrap_or(Month::MIN),
                        credits[i][mm as usize - 1],
                    )
                })
                .collect()
        })
        .collect();
    let at = Month::new(2024, 12).map_err(|e| RuleError::InvalidInput(e.to_string()))?;
    let start = Instant::now();
    let mut total = 0i64;
    for l in &ledgers {
        total = total.wrapping_add(book.account_balance(&region, l, at)?.balance.fen());
    }
    report(
        "account_balance (1 year, 12 credits, public API)",
        n,
        start.elapsed().as_secs_f64(),
    );
    black_box(total);
    Ok(())
}
