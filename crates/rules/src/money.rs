//! Money as integer fen (分), exact ratios, and the one rounding rule.
//!
//! Amounts of the record are never floating point (DESIGN "Principles of the
//! record" 2): an amount is a whole number of fen in an `i64`, a rate is a whole
//! number of millionths, and every product of the two is rounded exactly once
//! by the [`Rounding`] of the rule set in force (R6.4).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of money in fen (分, 1/100 yuan), with checked arithmetic.
///
/// Displays as yuan with two decimals: `Fen::new(76800)` is `768.00`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// Zero fen.
    pub const ZERO: Fen = Fen(0);

    /// Wraps a number of fen.
    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    /// Returns the number of fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Returns the amount of `yuan` whole yuan, or `None` on overflow.
    pub const fn from_yuan(yuan: i64) -> Option<Fen> {
        match yuan.checked_mul(100) {
            Some(f) => Some(Fen(f)),
            None => None,
        }
    }

    /// Adds, returning `None` on overflow.
    pub const fn checked_add(self, other: Fen) -> Option<Fen> {
        match self.0.checked_add(other.0) {
            Some(f) => Some(Fen(f)),
            None => None,
        }
    }

    /// Subtracts, returning `None` on overflow.
    pub const fn checked_sub(self, other: Fen) -> Option<Fen> {
        match self.0.checked_sub(other.0) {
            Some(f) => Some(Fen(f)),
            None => None,
        }
    }

    /// Multiplies by a whole number, returning `None` on overflow.
    pub const fn checked_mul(self, factor: i64) -> Option<Fen> {
        match self.0.checked_mul(factor) {
            Some(f) => Some(Fen(f)),
            None => None,
        }
    }

    /// Returns true when the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses an amount written in yuan with at most two decimals
    /// (`"8000"`, `"8000.5"`, `"768.00"`, `"-3.10"`).
    pub fn parse_yuan(text: &str) -> Result<Fen, AmountError> {
        let scaled = parse_decimal(text.trim(), 2).ok_or_else(|| {
            AmountError::new(text, "not an amount in yuan with at most two decimals")
        })?;
        i64::try_from(scaled)
            .map(Fen)
            .map_err(|_| AmountError::new(text, "amount out of range"))
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Fen {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fen::parse_yuan(s)
    }
}

/// A text could not be read as an amount or a rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {reason}")]
pub struct AmountError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl AmountError {
    fn new(text: &str, reason: &'static str) -> AmountError {
        AmountError {
            text: text.to_owned(),
            reason,
        }
    }
}

/// Parses a decimal number with at most `scale` decimals into an integer
/// scaled by 10^scale. No exponent, no thousands separators.
pub(crate) fn parse_decimal(text: &str, scale: u32) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if frac.len() > scale as usize {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if whole.len() > 30 {
        return None;
    }
    let mut value: i128 = 0;
    for b in whole.bytes() {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let mut frac_digits = 0;
    for b in frac.bytes() {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        frac_digits += 1;
    }
    for _ in frac_digits..scale {
        value = value.checked_mul(10)?;
    }
    Some(if negative { -value } else { value })
}

/// How a computed amount is rounded: the one rounding rule of a rule set (R6.4).
///
/// Every amount is computed exactly as a fraction of fen and rounded once,
/// half away from zero ("四舍五入") to the unit of the rule. Most regions round
/// to the fen; some round contributions to the jiao (角).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half-up to the fen (0.01 yuan), the default.
    #[default]
    HalfUpFen,
    /// Half-up to the jiao (0.10 yuan).
    HalfUpJiao,
    /// Half-up to the whole yuan.
    HalfUpYuan,
}

impl Rounding {
    /// Returns the unit the rule rounds to, in fen.
    pub const fn unit(self) -> i64 {
        match self {
            Rounding::HalfUpFen => 1,
            Rounding::HalfUpJiao => 10,
            Rounding::HalfUpYuan => 100,
        }
    }

    /// Returns the stable name used in rule books.
    pub const fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUpFen => "half_up_fen",
            Rounding::HalfUpJiao => "half_up_jiao",
            Rounding::HalfUpYuan => "half_up_yuan",
        }
    }

    /// Rounds the exact quotient `numerator / denominator` (in fen) to the
    /// unit of the rule, half away from zero. `None` on overflow or a
    /// non-positive denominator.
    pub fn divide(self, numerator: i128, denominator: i128) -> Option<Fen> {
        if denominator <= 0 {
            return None;
        }
        let d = denominator.checked_mul(i128::from(self.unit()))?;
        let mut q = numerator / d;
        let r = (numerator % d).unsigned_abs();
        if r.checked_mul(2)? >= d.unsigned_abs() {
            q += numerator.signum();
        }
        let fen = q.checked_mul(i128::from(self.unit()))?;
        i64::try_from(fen).ok().map(Fen)
    }

    /// Like [`Rounding::divide`] on `i64`, the fast path of assessments.
    #[inline]
    pub fn divide_i64(self, numerator: i64, denominator: i64) -> Option<Fen> {
        if denominator <= 0 {
            return None;
        }
        let d = denominator.checked_mul(self.unit())?;
        let mut q = numerator / d;
        let r = (numerator % d).unsigned_abs();
        if r.checked_mul(2)? >= d.unsigned_abs() {
            q += numerator.signum();
        }
        q.checked_mul(self.unit()).map(Fen)
    }

    /// Rounds an exact amount of fen to the unit of the rule.
    pub fn round(self, amount: Fen) -> Option<Fen> {
        self.divide_i64(amount.0, 1)
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact non-negative ratio in millionths: a contribution rate, an
/// interest rate, a contribution index.
///
/// Written in rule books as a decimal string, either a percentage (`"16%"`,
/// `"8.31%"`, at most four decimals) or a fraction (`"0.16"`, at most six
/// decimals); never a float (DESIGN "Principles of the record" 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// The ratio 0.
    pub const ZERO: Rate = Rate(0);
    /// The ratio 1 (100 %).
    pub const ONE: Rate = Rate(MILLION as u32);

    /// Builds a rate from millionths (`160_000` is 16 %).
    pub const fn from_millionths(millionths: u32) -> Rate {
        Rate(millionths)
    }

    /// Builds a rate from basis points (`831` is 8.31 %).
    pub const fn from_basis_points(bp: u32) -> Option<Rate> {
        match bp.checked_mul(100) {
            Some(m) => Some(Rate(m)),
            None => None,
        }
    }

    /// Returns the rate in millionths.
    pub const fn millionths(self) -> u32 {
        self.0
    }

    /// Parses `"16%"`, `"8.31%"`, `"0.16"` or `"1"`.
    pub fn parse(text: &str) -> Result<Rate, AmountError> {
        let t = text.trim();
        let scaled = match t.strip_suffix('%') {
            Some(pct) => parse_decimal(pct.trim(), 4),
            None => parse_decimal(t, 6),
        }
        .ok_or_else(|| {
            AmountError::new(
                text,
                "not a rate (write a percentage with at most four decimals such as \"8.31%\" or a fraction with at most six such as \"0.0831\")",
            )
        })?;
        if scaled < 0 {
            return Err(AmountError::new(text, "a rate cannot be negative"));
        }
        u32::try_from(scaled)
            .map(Rate)
            .map_err(|_| AmountError::new(text, "rate out of range"))
    }

    /// Applies the rate to an amount, rounding once with `rounding`.
    /// `None` on overflow.
    #[inline]
    pub fn apply(self, amount: Fen, rounding: Rounding) -> Option<Fen> {
        match amount.0.checked_mul(i64::from(self.0)) {
            Some(n) => rounding.divide_i64(n, MILLION),
            None => rounding.divide(
                i128::from(amount.0) * i128::from(self.0),
                i128::from(MILLION),
            ),
        }
    }
}

/// One million, the denominator of [`Rate`].
pub(crate) const MILLION: i64 = 1_000_000;

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // millionths → percent with up to four decimals
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let s = format!("{frac:04}");
            write!(f, "{whole}.{}%", s.trim_end_matches('0'))
        }
    }
}

impl FromStr for Rate {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rate::parse(s)
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Rate::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_displays_as_yuan_with_two_decimals() {
        assert_eq!(Fen::new(76800).to_string(), "768.00");
        assert_eq!(Fen::new(5).to_string(), "0.05");
        assert_eq!(Fen::new(-150).to_string(), "-1.50");
        assert_eq!(Fen::new(i64::MIN).to_string(), "-92233720368547758.08");
    }

    #[test]
    fn an_amount_in_yuan_parses_to_exact_fen() {
        assert_eq!("8000".parse::<Fen>(), Ok(Fen::new(800_000)));
        assert_eq!("8000.5".parse::<Fen>(), Ok(Fen::new(800_050)));
        assert_eq!("768.00".parse::<Fen>(), Ok(Fen::new(76_800)));
        assert_eq!("-3.10".parse::<Fen>(), Ok(Fen::new(-310)));
        assert_eq!(".5".parse::<Fen>(), Ok(Fen::new(50)));
        for bad in [
            "",
            ".",
            "1.234",
            "1,000",
            "1e3",
            "12a",
            "--1",
            "99999999999999999999999",
        ] {
            assert!(bad.parse::<Fen>().is_err(), "{bad}");
        }
    }

    #[test]
    fn checked_arithmetic_refuses_overflow() {
        assert_eq!(Fen::new(i64::MAX).checked_add(Fen::new(1)), None);
        assert_eq!(Fen::new(i64::MIN).checked_sub(Fen::new(1)), None);
        assert_eq!(Fen::new(3).checked_add(Fen::new(4)), Some(Fen::new(7)));
    }

    #[test]
    fn rates_parse_from_percentages_and_fractions_exactly() {
        assert_eq!(Rate::parse("16%").map(Rate::millionths), Ok(160_000));
        assert_eq!(Rate::parse("8.31%").map(Rate::millionths), Ok(83_100));
        assert_eq!(Rate::parse("0.0831").map(Rate::millionths), Ok(83_100));
        assert_eq!(Rate::parse("1").map(Rate::millionths), Ok(1_000_000));
        assert!(Rate::parse("-1%").is_err());
        assert!(Rate::parse("8.31234%").is_err());
        assert!(Rate::parse("0.16f").is_err());
        assert_eq!(Rate::from_millionths(83_100).to_string(), "8.31%");
        assert_eq!(Rate::from_millionths(160_000).to_string(), "16%");
        assert_eq!(Rate::from_millionths(5_000).to_string(), "0.5%");
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_the_unit_of_the_rule() {
        // R6.4: one rounding rule per rule set
        assert_eq!(Rounding::HalfUpFen.divide(5, 10), Some(Fen::new(1)));
        assert_eq!(Rounding::HalfUpFen.divide(4, 10), Some(Fen::new(0)));
        assert_eq!(Rounding::HalfUpFen.divide(-5, 10), Some(Fen::new(-1)));
        assert_eq!(
            Rounding::HalfUpJiao.round(Fen::new(76_845)),
            Some(Fen::new(76_850))
        );
        assert_eq!(
            Rounding::HalfUpJiao.round(Fen::new(76_844)),
            Some(Fen::new(76_840))
        );
        assert_eq!(
            Rounding::HalfUpYuan.round(Fen::new(76_850)),
            Some(Fen::new(76_900))
        );
        assert_eq!(Rounding::HalfUpFen.divide(1, 0), None);
    }

    #[test]
    fn a_rate_applied_to_an_amount_is_rounded_once() {
        let r = Rate::parse("8%").ok();
        assert_eq!(
            r.and_then(|r| r.apply(Fen::new(480_000), Rounding::HalfUpFen)),
            Some(Fen::new(38_400))
        );
        // 0.5 % of 0.99 yuan = 0.495 fen → 0 fen; 0.5 % of 1.00 = 0.5 fen → 1 fen
        let half = Rate::from_millionths(5_000);
        assert_eq!(
            half.apply(Fen::new(99), Rounding::HalfUpFen),
            Some(Fen::new(0))
        );
        assert_eq!(
            half.apply(Fen::new(100), Rounding::HalfUpFen),
            Some(Fen::new(1))
        );
        // the i128 path agrees with the i64 path
        assert!(
            Rate::ONE
                .apply(Fen::new(i64::MAX), Rounding::HalfUpFen)
                .is_some()
        );
    }
}
