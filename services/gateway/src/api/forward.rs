//! The registration, contribution and audit services as served by the
//! gateway: each method names its operation (checked against the caller's
//! roles), whether it reads a person's record (then it is limited and
//! audited), and forwards to the owning service.

use shebao_api::audit::v1 as audit_v1;
use shebao_api::contribution::v1 as contribution_v1;
use shebao_api::registration::v1 as registration_v1;
use shebao_kernel::ApiError;
use shebao_kernel::principal::peer_principal;
use tonic::{Request, Response, Status};

use super::Gateway;
use crate::access::Operation;

#[tonic::async_trait]
impl registration_v1::registration_service_server::RegistrationService for Gateway {
    async fn register_person(
        &self,
        request: Request<registration_v1::RegisterPersonRequest>,
    ) -> Result<Response<registration_v1::RegisterPersonResponse>, Status> {
        let client = self.registration.clone();
        self.forward(
            request,
            Operation::RegisterFacts,
            "/shebao.registration.v1.RegistrationService/RegisterPerson",
            None,
            None,
            |r| async move { client.clone().register_person(r).await },
        )
        .await
    }

    async fn get_person(
        &self,
        request: Request<registration_v1::GetPersonRequest>,
    ) -> Result<Response<registration_v1::GetPersonResponse>, Status> {
        let client = self.registration.clone();
        let subject = request.get_ref().citizen_id.clone();
        self.forward(
            request,
            Operation::ReadRegistration,
            "/shebao.registration.v1.RegistrationService/GetPerson",
            Some(subject),
            None,
            |r| async move { client.clone().get_person(r).await },
        )
        .await
    }

    async fn register_employer(
        &self,
        request: Request<registration_v1::RegisterEmployerRequest>,
    ) -> Result<Response<registration_v1::RegisterEmployerResponse>, Status> {
        let client = self.registration.clone();
        self.forward(
            request,
            Operation::RegisterFacts,
            "/shebao.registration.v1.RegistrationService/RegisterEmployer",
            None,
            None,
            |r| async move { client.clone().register_employer(r).await },
        )
        .await
    }

    async fn get_employer(
        &self,
        request: Request<registration_v1::GetEmployerRequest>,
    ) -> Result<Response<registration_v1::GetEmployerResponse>, Status> {
        let client = self.registration.clone();
        self.forward(
            request,
            Operation::ReadRegistration,
            "/shebao.registration.v1.RegistrationService/GetEmployer",
            None,
            None,
            |r| async move { client.clone().get_employer(r).await },
        )
        .await
    }

    async fn record_employment(
        &self,
        request: Request<registration_v1::RecordEmploymentRequest>,
    ) -> Result<Response<registration_v1::RecordEmploymentResponse>, Status> {
        let client = self.registration.clone();
        self.forward(
            request,
            Operation::RegisterFacts,
            "/shebao.registration.v1.RegistrationService/RecordEmployment",
            None,
            None,
            |r| async move { client.clone().record_employment(r).await },
        )
        .await
    }

    async fn list_employments(
        &self,
        request: Request<registration_v1::ListEmploymentsRequest>,
    ) -> Result<Response<registration_v1::ListEmploymentsResponse>, Status> {
        let client = self.registration.clone();
        let subject = request.get_ref().citizen_id.clone();
        self.forward(
            request,
            Operation::ReadRegistration,
            "/shebao.registration.v1.RegistrationService/ListEmployments",
            Some(subject),
            None,
            |r| async move { client.clone().list_employments(r).await },
        )
        .await
    }
}

#[tonic::async_trait]
impl contribution_v1::contribution_service_server::ContributionService for Gateway {
    async fn declare_wage(
        &self,
        request: Request<contribution_v1::DeclareWageRequest>,
    ) -> Result<Response<contribution_v1::DeclareWageResponse>, Status> {
        let client = self.contribution.clone();
        let credit_code = request.get_ref().credit_code.clone();
        self.forward(
            request,
            Operation::DeclareWage,
            "/shebao.contribution.v1.ContributionService/DeclareWage",
            None,
            Some(credit_code),
            |r| async move { client.clone().declare_wage(r).await },
        )
        .await
    }

    async fn list_contributions(
        &self,
        request: Request<contribution_v1::ListContributionsRequest>,
    ) -> Result<Response<contribution_v1::ListContributionsResponse>, Status> {
        let client = self.contribution.clone();
        let subject = request.get_ref().citizen_id.clone();
        self.forward(
            request,
            Operation::ReadContributions,
            "/shebao.contribution.v1.ContributionService/ListContributions",
            Some(subject),
            None,
            |r| async move { client.clone().list_contributions(r).await },
        )
        .await
    }

    async fn get_account_balance(
        &self,
        request: Request<contribution_v1::GetAccountBalanceRequest>,
    ) -> Result<Response<contribution_v1::GetAccountBalanceResponse>, Status> {
        let client = self.contribution.clone();
        let subject = request.get_ref().citizen_id.clone();
        self.forward(
            request,
            Operation::ReadContributions,
            "/shebao.contribution.v1.ContributionService/GetAccountBalance",
            Some(subject),
            None,
            |r| async move { client.clone().get_account_balance(r).await },
        )
        .await
    }
}

#[tonic::async_trait]
impl audit_v1::audit_service_server::AuditService for Gateway {
    async fn append_entry(
        &self,
        request: Request<audit_v1::AppendEntryRequest>,
    ) -> Result<Response<audit_v1::AppendEntryResponse>, Status> {
        // the log is written only by the gateway itself, never on a caller's word
        let principal = peer_principal(&request)?;
        Err(ApiError::PermissionDenied(format!("{principal} may not write the audit log")).into())
    }

    async fn list_entries_by_subject(
        &self,
        request: Request<audit_v1::ListEntriesBySubjectRequest>,
    ) -> Result<Response<audit_v1::ListEntriesBySubjectResponse>, Status> {
        let client = self.audit.clone();
        self.forward(
            request,
            Operation::ReadAudit,
            "/shebao.audit.v1.AuditService/ListEntriesBySubject",
            None,
            None,
            |r| async move { client.clone().list_entries_by_subject(r).await },
        )
        .await
    }

    async fn verify_chain(
        &self,
        request: Request<audit_v1::VerifyChainRequest>,
    ) -> Result<Response<audit_v1::VerifyChainResponse>, Status> {
        let client = self.audit.clone();
        self.forward(
            request,
            Operation::ReadAudit,
            "/shebao.audit.v1.AuditService/VerifyChain",
            None,
            None,
            |r| async move { client.clone().verify_chain(r).await },
        )
        .await
    }
}
