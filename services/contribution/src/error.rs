//! Errors of the contribution service and their one mapping to API errors.

use shebao_kernel::ApiError;
use shebao_rules::{PeriodError, RuleError};

/// What can go wrong in contribution.
#[derive(Debug, thiserror::Error)]
pub enum ContributionError {
    /// A request field is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The proto field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A contribution for the same person, employer and month exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The person is not registered.
    #[error("{0} not found")]
    NotFound(String),
    /// The record is not in a state to accept the request: no employment,
    /// no rule in force for the month.
    #[error("{0}")]
    Precondition(String),
    /// The external principal may not act on this record (R15.4).
    #[error("{0}")]
    NotPermitted(String),
    /// A rule could not be applied to the facts (R6.4).
    #[error("rule: {0}")]
    Rule(#[source] RuleError),
    /// The registration service could not be reached; the caller may retry.
    #[error("registration unavailable")]
    RegistrationUnavailable(#[source] tonic::Status),
    /// The registration service failed or answered something unreadable.
    #[error("registration")]
    Registration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The clock gave an instant outside the months of the record.
    #[error("clock")]
    Clock(#[source] PeriodError),
    /// The caller may not do this.
    #[error(transparent)]
    Access(#[from] ApiError),
    /// The database failed.
    #[error("storage")]
    Storage(#[source] sea_orm::DbErr),
}

/// Results of the contribution service.
pub type Result<T, E = ContributionError> = std::result::Result<T, E>;

impl From<RuleError> for ContributionError {
    fn from(error: RuleError) -> Self {
        match error {
            // Checked before the rules are asked; kept so the mapping is total.
            RuleError::NegativeWage(wage) => ContributionError::Invalid {
                field: "declared_wage_fen",
                reason: format!("declared wage {wage} is negative"),
            },
            // The facts are fine but the rule book has nothing in force for
            // them: a state of the record, not a fault of the service.
            RuleError::UnknownRegion { .. }
            | RuleError::NoRuleInForce { .. }
            | RuleError::NoBenefitRulesInForce { .. }
            | RuleError::NoInterestRate { .. } => {
                ContributionError::Precondition(error.to_string())
            }
            other => ContributionError::Rule(other),
        }
    }
}

impl From<ContributionError> for ApiError {
    fn from(error: ContributionError) -> Self {
        match error {
            ContributionError::Invalid { field, reason } => ApiError::invalid(field, reason),
            ContributionError::AlreadyExists(what) => ApiError::AlreadyExists(what),
            ContributionError::NotFound(what) => ApiError::NotFound(what),
            ContributionError::Precondition(why) => ApiError::FailedPrecondition(why),
            ContributionError::NotPermitted(why) => ApiError::PermissionDenied(why),
            ContributionError::RegistrationUnavailable(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "registration unavailable");
                ApiError::Unavailable("registration service unavailable".into())
            }
            ContributionError::Access(api) => api,
            e @ (ContributionError::Rule(_)
            | ContributionError::Registration(_)
            | ContributionError::Clock(_)
            | ContributionError::Storage(_)) => ApiError::internal(e),
        }
    }
}

impl From<ContributionError> for tonic::Status {
    fn from(error: ContributionError) -> Self {
        ApiError::from(error).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shebao_rules::{InsuranceType, Month};
    use tonic::Code;

    #[test]
    fn no_rule_in_force_is_a_failed_precondition_not_an_internal_error() {
        let month = Month::from_yyyymm(190001).expect("month");
        let error = ContributionError::from(RuleError::NoRuleInForce {
            region: "350100".into(),
            insurance: InsuranceType::Pension,
            month,
        });
        let status = tonic::Status::from(error);
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(
            status.message().contains("no pension rule in force"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn an_overflow_in_a_rule_is_internal_and_hides_its_cause() {
        let status = tonic::Status::from(ContributionError::from(RuleError::Overflow(
            "a contribution amount",
        )));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("overflow"));
    }
}
