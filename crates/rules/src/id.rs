//! Identifiers of the record: citizen ID numbers (GB 11643), unified social
//! credit codes (GB 32100) and region codes (GB/T 2260).
//!
//! Each identifier is built only by `parse`, which normalises what people
//! type (surrounding spaces, a lowercase `x`, full-width characters) and
//! refuses anything else with an [`IdError`] saying what is wrong (STYLE 6).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An identifier could not be parsed; the message says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The identifier has the wrong number of characters.
    #[error("{kind} must have {expected} characters, found {found}")]
    Length {
        /// Which identifier.
        kind: &'static str,
        /// The lengths allowed, as text.
        expected: &'static str,
        /// The number of characters found.
        found: usize,
    },
    /// A character is not allowed at its position (1-based).
    #[error("{kind}: character {position} `{found}` is not {expected}")]
    Character {
        /// Which identifier.
        kind: &'static str,
        /// The 1-based position in the normalised identifier.
        position: usize,
        /// The character found.
        found: char,
        /// What is allowed there.
        expected: &'static str,
    },
    /// The check character does not match the others.
    #[error("{kind}: check character expected {expected}, found {found}")]
    CheckCharacter {
        /// Which identifier.
        kind: &'static str,
        /// The check character computed from the others.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// The birth date part is not a calendar date from 1800 on.
    #[error("citizen ID number: birth date {0} is not a valid date from 1800 on")]
    BirthDate(String),
    /// The province part of a region code is not a GB/T 2260 province.
    #[error("region code: {0} is not a province code of GB/T 2260")]
    Province(String),
}

const CITIZEN: &str = "citizen ID number";
const CREDIT: &str = "unified social credit code";
const REGION: &str = "region code";

/// Normalises what people type: trims spaces (including the full-width
/// space), maps full-width digits and letters to ASCII and lowercase letters
/// to uppercase.
fn normalise(text: &str) -> Vec<char> {
    text.trim_matches(|c: char| c.is_whitespace())
        .chars()
        .map(|c| {
            let c = match c {
                '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                    char::from_u32(c as u32 - 0xFF10 + 0x30).unwrap_or(c)
                }
                _ => c,
            };
            c.to_ascii_uppercase()
        })
        .collect()
}

/// Sex as derived from a citizen ID number (GB 11643: odd sequence codes are men).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male (odd 17th digit).
    Male,
    /// Female (even 17th digit).
    Female,
}

impl Sex {
    /// Returns `"male"` or `"female"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Weights of the MOD 11-2 check of GB 11643: 2^(17-i) mod 11.
const CITIZEN_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by the weighted sum mod 11.
const CITIZEN_CHECK: [u8; 11] = *b"10X98765432";

/// Computes the GB 11643 check character of the first 17 digits.
fn citizen_check(body: &[u8; 17]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(CITIZEN_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CITIZEN_CHECK[(sum % 11) as usize]
}

/// A citizen ID number (公民身份号码, GB 11643-1999): 18 characters, the last a
/// MOD 11-2 check character; the key of an insured person (R2.1).
///
/// `parse` accepts a lowercase `x`, full-width characters and surrounding
/// spaces, and upgrades a 15-digit number of the first generation to 18
/// (born 19xx, or 18xx for the sequence codes 996–999 reserved for
/// centenarians).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CitizenId {
    text: [u8; 18],
    birth: NaiveDate,
}

impl CitizenId {
    /// Parses and normalises a citizen ID number (GB 11643).
    pub fn parse(text: &str) -> Result<CitizenId, IdError> {
        let chars = normalise(text);
        let mut bytes = [0u8; 18];
        match chars.len() {
            18 => {
                for (i, c) in chars.iter().enumerate() {
                    let ok = c.is_ascii_digit() || (i == 17 && *c == 'X');
                    if !ok {
                        return Err(IdError::Character {
                            kind: CITIZEN,
                            position: i + 1,
                            found: *c,
                            expected: if i == 17 { "a digit or X" } else { "a digit" },
                        });
                    }
                    bytes[i] = *c as u8;
                }
            }
            15 => {
                // GB 11643 upgrade of first-generation numbers: insert the century
                // before the two-digit year and append the check character.
                for (i, c) in chars.iter().enumerate() {
                    if !c.is_ascii_digit() {
                        return Err(IdError::Character {
                            kind: CITIZEN,
                            position: i + 1,
                            found: *c,
                            expected: "a digit",
                        });
                    }
                }
                let digits: Vec<u8> = chars.iter().map(|c| *c as u8).collect();
                let sequence = &digits[12..15];
                let century: &[u8; 2] = if sequence >= b"996".as_slice() {
                    b"18"
                } else {
                    b"19"
                };
                bytes[..6].copy_from_slice(&digits[..6]);
                bytes[6..8].copy_from_slice(century);
                bytes[8..17].copy_from_slice(&digits[6..15]);
                let mut body = [0u8; 17];
                body.copy_from_slice(&bytes[..17]);
                bytes[17] = citizen_check(&body);
            }
            found => {
                return Err(IdError::Length {
                    kind: CITIZEN,
                    expected: "18 (or 15 for a first-generation number)",
                    found,
                });
            }
        }
        let birth_text = std::str::from_utf8(&bytes[6..14]).unwrap_or_default();
        let birth = parse_birth(birth_text)?;
        let mut body = [0u8; 17];
        body.copy_from_slice(&bytes[..17]);
        let expected = citizen_check(&body);
        if expected != bytes[17] {
            return Err(IdError::CheckCharacter {
                kind: CITIZEN,
                expected: char::from(expected),
                found: char::from(bytes[17]),
            });
        }
        Ok(CitizenId { text: bytes, birth })
    }

    /// Returns the 18 characters, with an uppercase `X`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and X are ever stored.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// Returns the birth date encoded in characters 7–14.
    pub const fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// Returns the sex encoded in character 17 (odd: male).
    pub const fn sex(&self) -> Sex {
        if (self.text[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Returns the six-digit address code of the place of first registration.
    pub fn address_code(&self) -> &str {
        &self.as_str()[..6]
    }
}

fn parse_birth(text: &str) -> Result<NaiveDate, IdError> {
    let bad = || IdError::BirthDate(text.to_owned());
    let year: i32 = text[..4].parse().map_err(|_| bad())?;
    let month: u32 = text[4..6].parse().map_err(|_| bad())?;
    let day: u32 = text[6..8].parse().map_err(|_| bad())?;
    if year < 1800 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CitizenId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CitizenId::parse(s)
    }
}

impl Serialize for CitizenId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CitizenId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CitizenId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The 31 characters of GB 32100 (digits and capitals without I, O, S, V, Z).
const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights 3^i mod 31 of GB 32100.
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn credit_value(c: u8) -> Option<u32> {
    CREDIT_CHARSET
        .iter()
        .position(|x| *x == c)
        .map(|p| p as u32)
}

/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters
/// from a 31-character set, the last a MOD 31 check character; the key of an
/// employer (R2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CreditCode([u8; 18]);

impl CreditCode {
    /// Parses and normalises a unified social credit code (GB 32100).
    pub fn parse(text: &str) -> Result<CreditCode, IdError> {
        let chars = normalise(text);
        if chars.len() != 18 {
            return Err(IdError::Length {
                kind: CREDIT,
                expected: "18",
                found: chars.len(),
            });
        }
        let mut bytes = [0u8; 18];
        let mut sum = 0u32;
        for (i, c) in chars.iter().enumerate() {
            let value = if c.is_ascii() {
                credit_value(*c as u8)
            } else {
                None
            };
            let Some(value) = value else {
                return Err(IdError::Character {
                    kind: CREDIT,
                    position: i + 1,
                    found: *c,
                    expected: "a digit or a capital letter other than I, O, S, V, Z",
                });
            };
            if i < 17 {
                sum += value * CREDIT_WEIGHTS[i];
            }
            bytes[i] = *c as u8;
        }
        // GB 32100: check = 31 - (sum mod 31), where 31 is written 0.
        let check = (31 - sum % 31) % 31;
        let expected = CREDIT_CHARSET[check as usize];
        if expected != bytes[17] {
            return Err(IdError::CheckCharacter {
                kind: CREDIT,
                expected: char::from(expected),
                found: char::from(bytes[17]),
            });
        }
        Ok(CreditCode(bytes))
    }

    /// Returns the 18 characters.
    pub fn as_str(&self) -> &str {
        // Only ASCII characters of the charset are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Returns characters 3–8, the administrative division of registration.
    pub fn region_part(&self) -> &str {
        &self.as_str()[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CreditCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CreditCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Province codes (first two digits) of GB/T 2260.
const PROVINCES: [&[u8; 2]; 34] = [
    b"11", b"12", b"13", b"14", b"15", b"21", b"22", b"23", b"31", b"32", b"33", b"34", b"35",
    b"36", b"37", b"41", b"42", b"43", b"44", b"45", b"46", b"50", b"51", b"52", b"53", b"54",
    b"61", b"62", b"63", b"64", b"65", b"71", b"81", b"82",
];

/// A region code (行政区划代码, GB/T 2260): six digits, the first two a
/// province. One deployment serves one region; rule books are keyed by it
/// (R6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    /// Parses a six-digit region code (GB/T 2260).
    pub fn parse(text: &str) -> Result<RegionCode, IdError> {
        let chars = normalise(text);
        if chars.len() != 6 {
            return Err(IdError::Length {
                kind: REGION,
                expected: "6",
                found: chars.len(),
            });
        }
        let mut bytes = [0u8; 6];
        for (i, c) in chars.iter().enumerate() {
            if !c.is_ascii_digit() {
                return Err(IdError::Character {
                    kind: REGION,
                    position: i + 1,
                    found: *c,
                    expected: "a digit",
                });
            }
            bytes[i] = *c as u8;
        }
        if !PROVINCES.iter().any(|p| p[..] == bytes[..2]) {
            let code = std::str::from_utf8(&bytes[..2]).unwrap_or_default();
            return Err(IdError::Province(code.to_owned()));
        }
        Ok(RegionCode(bytes))
    }

    /// Returns the six digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RegionCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionCode::parse(s)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        RegionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example_id_is_valid_and_derives_birth_and_sex() {
        // GB 11643 published example
        let id = CitizenId::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.address_code(), "110105");
    }

    #[test]
    fn an_id_with_a_wrong_check_character_is_rejected() {
        assert_eq!(
            CitizenId::parse("110105194912310021"),
            Err(IdError::CheckCharacter {
                kind: CITIZEN,
                expected: 'X',
                found: '1'
            })
        );
        assert_eq!(
            CitizenId::parse("110105194912310021")
                .unwrap_err()
                .to_string(),
            "citizen ID number: check character expected X, found 1"
        );
    }

    #[test]
    fn a_person_born_in_1880_has_a_valid_id() {
        let id = CitizenId::parse("440524188001010014").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1880, 1, 1).unwrap()
        );
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn lowercase_x_full_width_characters_and_spaces_are_normalised() {
        let id = CitizenId::parse(" 11010519491231002x ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = CitizenId::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = CitizenId::parse("\u{3000}11010519491231002ｘ").unwrap();
        assert_eq!(id.to_string(), "11010519491231002X");
    }

    #[test]
    fn a_fifteen_digit_number_is_upgraded_to_eighteen() {
        let id = CitizenId::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        // sequence codes 996-999 are reserved for centenarians born in the 1800s
        let id = CitizenId::parse("440524800101996").unwrap();
        assert_eq!(&id.as_str()[..14], "44052418800101");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1880, 1, 1).unwrap()
        );
    }

    #[test]
    fn an_id_of_the_wrong_length_or_with_a_letter_says_where() {
        assert_eq!(
            CitizenId::parse("1101051949123100")
                .unwrap_err()
                .to_string(),
            "citizen ID number must have 18 (or 15 for a first-generation number) characters, found 16"
        );
        assert_eq!(
            CitizenId::parse("1101A519491231002X").unwrap_err(),
            IdError::Character {
                kind: CITIZEN,
                position: 5,
                found: 'A',
                expected: "a digit"
            }
        );
        assert!(matches!(
            CitizenId::parse("110105194913310021"),
            Err(IdError::BirthDate(_))
        ));
        assert!(matches!(
            CitizenId::parse("110105179901010021"),
            Err(IdError::BirthDate(_))
        ));
    }

    #[test]
    fn the_standard_example_credit_code_is_valid() {
        // GB 32100 published example
        let code = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert_eq!(code.region_part(), "350100");
        assert_eq!(
            CreditCode::parse("91350100m000100y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn a_credit_code_with_a_wrong_check_character_is_rejected() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y4Z").unwrap_err(),
            IdError::Character {
                kind: CREDIT,
                position: 18,
                found: 'Z',
                expected: "a digit or a capital letter other than I, O, S, V, Z"
            }
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y44").unwrap_err(),
            IdError::CheckCharacter {
                kind: CREDIT,
                expected: '3',
                found: '4'
            }
        );
        assert!(CreditCode::parse("91350100I000100Y43").is_err());
    }

    #[test]
    fn a_credit_code_whose_remainder_is_zero_has_check_character_zero() {
        // find a body whose weighted sum is a multiple of 31: then 31 - 0 = 31 maps to 0
        let body = b"91350100M00010";
        for tail in 0..31u32 * 31 * 31 {
            let t = [
                CREDIT_CHARSET[(tail % 31) as usize],
                CREDIT_CHARSET[(tail / 31 % 31) as usize],
                CREDIT_CHARSET[(tail / 961 % 31) as usize],
            ];
            let mut code = body.to_vec();
            code.extend_from_slice(&t);
            let sum: u32 = code
                .iter()
                .zip(CREDIT_WEIGHTS)
                .map(|(c, w)| credit_value(*c).unwrap() * w)
                .sum();
            if sum.is_multiple_of(31) {
                code.push(b'0');
                let text = String::from_utf8(code).unwrap();
                assert!(CreditCode::parse(&text).is_ok(), "{text}");
                return;
            }
        }
        panic!("no body with remainder zero found");
    }

    #[test]
    fn a_region_code_is_six_digits_in_a_known_province() {
        assert_eq!(RegionCode::parse("350100").unwrap().as_str(), "350100");
        assert!(matches!(
            RegionCode::parse("35010"),
            Err(IdError::Length { found: 5, .. })
        ));
        assert!(matches!(
            RegionCode::parse("3501a0"),
            Err(IdError::Character { position: 5, .. })
        ));
        assert_eq!(
            RegionCode::parse("990100").unwrap_err().to_string(),
            "region code: 99 is not a province code of GB/T 2260"
        );
    }
}
