//! Errors of the audit service and their one mapping to API errors.

use shebao_kernel::ApiError;

/// What can go wrong in the audit service.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A request field is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The proto field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Other writers kept taking the next sequence number; the entry was
    /// not written and the caller may retry.
    #[error("the audit log is busy: no sequence number after {attempts} attempts")]
    Contention {
        /// How many times the append was tried.
        attempts: u32,
    },
    /// The caller may not do this.
    #[error(transparent)]
    Access(#[from] ApiError),
    /// The database failed, or holds a row that does not read back.
    #[error("storage")]
    Storage(#[source] sea_orm::DbErr),
}

/// Results of the audit service.
pub type Result<T, E = AuditError> = std::result::Result<T, E>;

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Invalid { field, reason } => ApiError::invalid(field, reason),
            contention @ AuditError::Contention { .. } => {
                ApiError::Unavailable(contention.to_string())
            }
            AuditError::Access(api) => api,
            AuditError::Storage(e) => ApiError::internal(e),
        }
    }
}

impl From<AuditError> for tonic::Status {
    fn from(error: AuditError) -> Self {
        ApiError::from(error).into()
    }
}
