//! The five insurance types of the record (R2.2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the five insurance types of the record (R2.2): pension (养老),
/// medical (医疗), unemployment (失业), work injury (工伤) and maternity (生育).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsuranceType {
    /// Basic pension insurance for urban employees (养老保险).
    Pension,
    /// Basic medical insurance for employees (医疗保险).
    Medical,
    /// Unemployment insurance (失业保险).
    Unemployment,
    /// Work injury insurance (工伤保险).
    WorkInjury,
    /// Maternity insurance (生育保险).
    Maternity,
}

impl InsuranceType {
    /// All five types, in the order the record lists them.
    pub const ALL: [InsuranceType; 5] = [
        InsuranceType::Pension,
        InsuranceType::Medical,
        InsuranceType::Unemployment,
        InsuranceType::WorkInjury,
        InsuranceType::Maternity,
    ];

    /// Returns the stable lowercase name used in rule books, rule ids and APIs.
    pub const fn as_str(self) -> &'static str {
        match self {
            InsuranceType::Pension => "pension",
            InsuranceType::Medical => "medical",
            InsuranceType::Unemployment => "unemployment",
            InsuranceType::WorkInjury => "work_injury",
            InsuranceType::Maternity => "maternity",
        }
    }

    /// Returns the position of the type in [`InsuranceType::ALL`].
    pub const fn index(self) -> usize {
        match self {
            InsuranceType::Pension => 0,
            InsuranceType::Medical => 1,
            InsuranceType::Unemployment => 2,
            InsuranceType::WorkInjury => 3,
            InsuranceType::Maternity => 4,
        }
    }
}

impl fmt::Display for InsuranceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of an insurance type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an insurance type (pension, medical, unemployment, work_injury, maternity)")]
pub struct UnknownInsuranceType(pub String);

impl FromStr for InsuranceType {
    type Err = UnknownInsuranceType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InsuranceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownInsuranceType(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name() {
        // R2.2: the five types of the record
        for (i, t) in InsuranceType::ALL.into_iter().enumerate() {
            assert_eq!(t.as_str().parse::<InsuranceType>(), Ok(t));
            assert_eq!(t.index(), i);
        }
        assert!("injury".parse::<InsuranceType>().is_err());
    }
}
