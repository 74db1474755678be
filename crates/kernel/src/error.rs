//! The one mapping from errors to `tonic::Status` (STYLE 9): every service
//! turns its domain errors into [`ApiError`], and `From<ApiError> for Status`
//! picks the code and attaches google.rpc details.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// An error as the caller of an RPC sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller sent a value that cannot be accepted; `field` names it.
    #[error("{field}: {description}")]
    InvalidArgument {
        /// The request field at fault, in proto naming (e.g. `citizen_id`).
        field: String,
        /// What is wrong with it.
        description: String,
    },
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The named thing exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The request is well formed but the record is not in a state to accept it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller is known but not allowed.
    #[error("{0}")]
    PermissionDenied(String),
    /// The caller is not known.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller exceeded a limit.
    #[error("{0}")]
    ResourceExhausted(String),
    /// A dependency could not be reached; the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    /// A status returned by another service, passed on unchanged.
    #[error("upstream: {0}")]
    Upstream(Status),
    /// Anything else: logged with its cause chain, reported without detail.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// An invalid-argument error naming `field`.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            description: description.into(),
        }
    }

    /// An internal error keeping its cause.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> Self {
        Self::Upstream(status)
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::InvalidArgument { field, description } => Status::with_error_details(
                Code::InvalidArgument,
                format!("{field}: {description}"),
                ErrorDetails::with_bad_request_violation(field, description),
            ),
            ApiError::NotFound(what) => Status::not_found(format!("{what} not found")),
            ApiError::AlreadyExists(what) => {
                Status::already_exists(format!("{what} already exists"))
            }
            ApiError::FailedPrecondition(msg) => Status::failed_precondition(msg),
            ApiError::PermissionDenied(msg) => Status::permission_denied(msg),
            ApiError::Unauthenticated(msg) => Status::unauthenticated(msg),
            ApiError::ResourceExhausted(msg) => Status::resource_exhausted(msg),
            ApiError::Unavailable(msg) => Status::unavailable(msg),
            ApiError::Upstream(status) => status,
            ApiError::Internal(cause) => {
                // STYLE 10: the cause chain is logged once, the caller sees no detail.
                tracing::error!(error = format!("{cause:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// An error of start-up: bad configuration, unreadable certificates, an
/// unreachable database. Reported on one line and the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The configuration could not be read or does not validate.
    #[error("configuration: {0}")]
    Config(String),
    /// A certificate or key could not be read or used.
    #[error("tls: {0}")]
    Tls(String),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(String),
    /// Telemetry could not be set up.
    #[error("telemetry: {0}")]
    Telemetry(String),
    /// The server could not bind or serve.
    #[error("server: {0}")]
    Server(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_argument_names_the_field_in_error_details() {
        let status: Status = ApiError::invalid("citizen_id", "length must be 18").into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request details");
        assert_eq!(bad.field_violations[0].field, "citizen_id");
    }

    #[test]
    fn an_internal_error_hides_its_cause() {
        let status: Status = ApiError::internal(anyhow::anyhow!("disk on fire")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("disk"));
    }
}
