//! What contribution needs from the registration service: a person's
//! employments, asked over mTLS as `service/contribution`. Registration owns
//! those facts; this service never reads its tables (DESIGN "The mesh").

use async_trait::async_trait;
use shebao_api::registration::v1 as registration_v1;
use shebao_rules::CitizenId;
use tonic::Code;
use tonic::transport::Channel;

use crate::domain::{self, Employment};
use crate::error::{ContributionError, Result};

/// The employments of persons, as a contract.
#[async_trait]
pub trait EmploymentDirectory: Send + Sync + std::fmt::Debug {
    /// Lists the employments recorded for a person, oldest first; empty
    /// when none. `NotFound` when the person is not registered,
    /// `RegistrationUnavailable` when the answer cannot be had now.
    async fn employments(&self, citizen_id: &CitizenId) -> Result<Vec<Employment>>;
}

/// [`EmploymentDirectory`] over the registration service's gRPC API.
#[derive(Debug, Clone)]
pub struct RegistrationDirectory {
    client: registration_v1::registration_service_client::RegistrationServiceClient<Channel>,
}

impl RegistrationDirectory {
    /// A directory asking registration over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            client: registration_v1::registration_service_client::RegistrationServiceClient::new(
                channel,
            ),
        }
    }
}

fn employment_from_proto(e: registration_v1::Employment) -> Result<Employment> {
    let unreadable = |field: &str, reason: String| {
        ContributionError::Registration(
            format!("registration sent an employment with a bad {field}: {reason}").into(),
        )
    };
    Ok(Employment {
        credit_code: domain::parse_credit_code("credit_code", &e.credit_code)
            .map_err(|err| unreadable("credit_code", err.to_string()))?,
        start_month: domain::parse_month("start_month", e.start_month)
            .map_err(|err| unreadable("start_month", err.to_string()))?,
    })
}

#[async_trait]
impl EmploymentDirectory for RegistrationDirectory {
    #[tracing::instrument(skip_all)]
    async fn employments(&self, citizen_id: &CitizenId) -> Result<Vec<Employment>> {
        let request = registration_v1::ListEmploymentsRequest {
            citizen_id: citizen_id.as_str().to_string(),
        };
        // The tonic client needs `&mut self`; clones share one channel.
        let mut client = self.client.clone();
        let response =
            client
                .list_employments(request)
                .await
                .map_err(|status| match status.code() {
                    Code::NotFound => {
                        ContributionError::NotFound(format!("person {}", citizen_id.as_str()))
                    }
                    Code::Unavailable
                    | Code::DeadlineExceeded
                    | Code::Cancelled
                    | Code::ResourceExhausted => ContributionError::RegistrationUnavailable(status),
                    _ => ContributionError::Registration(Box::new(status)),
                })?;
        response
            .into_inner()
            .employments
            .into_iter()
            .map(employment_from_proto)
            .collect()
    }
}
