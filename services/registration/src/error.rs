//! Errors of the registration service and their one mapping to API errors.

use shebao_kernel::ApiError;

/// What can go wrong in registration.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A request field is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The proto field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The person, employer or employment exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The person or employer is not registered.
    #[error("{0} not found")]
    NotFound(String),
    /// The caller may not do this.
    #[error(transparent)]
    Access(#[from] ApiError),
    /// The database failed.
    #[error("storage")]
    Storage(#[source] sea_orm::DbErr),
}

/// Results of the registration service.
pub type Result<T, E = RegistrationError> = std::result::Result<T, E>;

impl From<RegistrationError> for ApiError {
    fn from(error: RegistrationError) -> Self {
        match error {
            RegistrationError::Invalid { field, reason } => ApiError::invalid(field, reason),
            RegistrationError::AlreadyExists(what) => ApiError::AlreadyExists(what),
            RegistrationError::NotFound(what) => ApiError::NotFound(what),
            RegistrationError::Access(api) => api,
            RegistrationError::Storage(e) => ApiError::internal(e),
        }
    }
}

impl From<RegistrationError> for tonic::Status {
    fn from(error: RegistrationError) -> Self {
        ApiError::from(error).into()
    }
}
