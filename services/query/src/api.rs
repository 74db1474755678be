//! The gRPC face of query: checks the caller, fetches the parts of the
//! record concurrently from their owners, assembles them.

use shebao_api::contribution::v1 as contribution_v1;
use shebao_api::query::v1 as query_v1;
use shebao_api::registration::v1 as registration_v1;
use shebao_kernel::{ApiError, Caller};
use shebao_rules::period::MonthRange;
use shebao_rules::{CitizenId, Month};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use contribution_v1::contribution_service_client::ContributionServiceClient;
use registration_v1::registration_service_client::RegistrationServiceClient;

/// Only the gateway asks for whole records; it scopes them to the caller.
const READERS: &[&str] = &["gateway"];

/// The `QueryService` implementation.
#[derive(Debug, Clone)]
pub struct QueryApi {
    registration: RegistrationServiceClient<Channel>,
    contribution: ContributionServiceClient<Channel>,
}

impl QueryApi {
    /// The API over channels to the owning services.
    pub fn new(registration: Channel, contribution: Channel) -> Self {
        Self {
            registration: RegistrationServiceClient::new(registration),
            contribution: ContributionServiceClient::new(contribution),
        }
    }
}

/// Counts the distinct months with a pension contribution (R2.4): a month
/// paid at two employers is one month of contribution years.
fn pension_paid_months(contributions: &[contribution_v1::Contribution]) -> u32 {
    let pension = shebao_api::common::v1::InsuranceType::Pension as i32;
    let months: Vec<MonthRange> = contributions
        .iter()
        .filter(|c| c.lines.iter().any(|l| l.insurance_type == pension))
        .filter_map(|c| Month::from_yyyymm(c.month).ok())
        .filter_map(|m| MonthRange::new(m, m).ok())
        .collect();
    shebao_rules::period::distinct_months(&months)
}

#[tonic::async_trait]
impl query_v1::query_service_server::QueryService for QueryApi {
    #[tracing::instrument(skip_all)]
    async fn get_person_record(
        &self,
        request: Request<query_v1::GetPersonRecordRequest>,
    ) -> Result<Response<query_v1::GetPersonRecordResponse>, Status> {
        Caller::of(&request)?.require_peer(READERS)?;
        let id = CitizenId::parse(&request.get_ref().citizen_id)
            .map_err(|e| ApiError::invalid("citizen_id", e.to_string()))?;
        let citizen_id = id.as_str().to_string();
        let mut registration = self.registration.clone();
        let mut registration2 = self.registration.clone();
        let mut contribution = self.contribution.clone();
        let mut contribution2 = self.contribution.clone();
        let (person, employments, contributions, balance) = tokio::try_join!(
            registration.get_person(registration_v1::GetPersonRequest {
                citizen_id: citizen_id.clone()
            }),
            registration2.list_employments(registration_v1::ListEmploymentsRequest {
                citizen_id: citizen_id.clone()
            }),
            contribution.list_contributions(contribution_v1::ListContributionsRequest {
                citizen_id: citizen_id.clone()
            }),
            contribution2.get_account_balance(contribution_v1::GetAccountBalanceRequest {
                citizen_id: citizen_id.clone(),
                as_of_month: 0,
            }),
        )?;
        let contributions = contributions.into_inner().contributions;
        let balance = balance.into_inner();
        let account = query_v1::AccountSummary {
            as_of_month: balance.as_of_month,
            principal_fen: balance.principal_fen,
            interest_fen: balance.interest_fen,
            balance_fen: balance.balance_fen,
            pension_paid_months: pension_paid_months(&contributions),
        };
        Ok(Response::new(query_v1::GetPersonRecordResponse {
            record: Some(query_v1::PersonRecord {
                person: person.into_inner().person,
                employments: employments.into_inner().employments,
                contributions,
                account: Some(account),
            }),
        }))
    }
}
