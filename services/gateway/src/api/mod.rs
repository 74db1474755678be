//! The gateway's gRPC faces: its own purpose-bound `GatewayService`, and
//! the registration, contribution and audit services re-served to staff,
//! employers and supervisors, checked per method, limited, audited and
//! forwarded with the caller's principal.

mod forward;
mod lookup;

use std::future::Future;
use std::sync::Arc;

use chrono::NaiveDate;
use shebao_api::audit::v1 as audit_v1;
use shebao_api::contribution::v1::contribution_service_client::ContributionServiceClient;
use shebao_api::query::v1::query_service_client::QueryServiceClient;
use shebao_api::registration::v1::registration_service_client::RegistrationServiceClient;
use shebao_kernel::principal::{forward, peer_principal};
use shebao_kernel::{ApiError, Clock, Principal};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::access::{AccessPolicy, Operation};
use crate::limiter::RateLimiter;

use audit_v1::audit_service_client::AuditServiceClient;

/// The channels from the gateway to the services behind it.
#[derive(Debug, Clone)]
pub struct Backends {
    /// Registration service.
    pub registration: Channel,
    /// Contribution service.
    pub contribution: Channel,
    /// Query service.
    pub query: Channel,
    /// Audit service.
    pub audit: Channel,
}

/// The gateway: policy, limiter, clock and clients, shared by every face.
#[derive(Debug, Clone)]
pub struct Gateway {
    policy: Arc<AccessPolicy>,
    limiter: Arc<dyn RateLimiter>,
    clock: Arc<dyn Clock>,
    registration: RegistrationServiceClient<Channel>,
    contribution: ContributionServiceClient<Channel>,
    query: QueryServiceClient<Channel>,
    audit: AuditServiceClient<Channel>,
}

/// What a caller stated about a lookup, for the audit entry.
#[derive(Debug, Clone, Default)]
struct Stated {
    purpose_code: String,
    legal_basis: String,
    case_reference: String,
}

impl Gateway {
    /// A gateway over `backends`.
    pub fn new(
        policy: AccessPolicy,
        limiter: Arc<dyn RateLimiter>,
        clock: Arc<dyn Clock>,
        backends: Backends,
    ) -> Self {
        Self {
            policy: Arc::new(policy),
            limiter,
            clock,
            registration: RegistrationServiceClient::new(backends.registration),
            contribution: ContributionServiceClient::new(backends.contribution),
            query: QueryServiceClient::new(backends.query),
            audit: AuditServiceClient::new(backends.audit),
        }
    }

    /// Today in the agency's time zone, for grant validity.
    fn today(&self) -> NaiveDate {
        shebao_kernel::clock::agency_date(self.clock.now())
    }

    async fn limit(&self, principal: &Principal) -> Result<(), ApiError> {
        let now = u64::try_from(self.clock.now().timestamp()).unwrap_or(0);
        self.limiter.check(&principal.to_string(), now).await
    }

    /// Writes one audit entry and returns its sequence. Fails closed: an
    /// entry that cannot be written makes the lookup fail (R21.1).
    async fn audit(
        &self,
        principal: &Principal,
        action: &str,
        subject: &str,
        stated: &Stated,
        decision: audit_v1::Decision,
        detail: String,
    ) -> Result<u64, ApiError> {
        let mut request = Request::new(audit_v1::AppendEntryRequest {
            actor: principal.to_string(),
            action: action.to_string(),
            subject: subject.chars().take(64).collect(),
            purpose_code: stated.purpose_code.chars().take(128).collect(),
            legal_basis: stated.legal_basis.chars().take(512).collect(),
            case_reference: stated.case_reference.chars().take(256).collect(),
            decision: decision.into(),
            detail: detail.chars().take(512).collect(),
        });
        request.set_timeout(std::time::Duration::from_secs(10));
        match self.audit.clone().append_entry(request).await {
            Ok(response) => Ok(response
                .into_inner()
                .entry
                .map(|e| e.sequence)
                .unwrap_or_default()),
            Err(status) => {
                tracing::error!(code = ?status.code(), message = status.message(), action, "audit log unavailable; lookup refused");
                Err(ApiError::Unavailable(
                    "the lookup cannot be registered in the audit log, so it is refused (R21.1); try again later".into(),
                ))
            }
        }
    }

    /// Audits a refusal; the refusal stands whether or not the entry is written.
    async fn audit_refusal(
        &self,
        principal: &Principal,
        action: &str,
        subject: &str,
        stated: &Stated,
        reason: &ApiError,
    ) {
        let _refused_anyway = self
            .audit(
                principal,
                action,
                subject,
                stated,
                audit_v1::Decision::Denied,
                reason.to_string(),
            )
            .await;
    }

    /// Authorises, limits, forwards with the caller's principal and, for
    /// reads of a person's record (`subject` set), audits before answering.
    async fn forward<Req, Resp, Fut>(
        &self,
        request: Request<Req>,
        operation: Operation,
        action: &'static str,
        subject: Option<String>,
        credit_code: Option<String>,
        call: impl FnOnce(Request<Req>) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Response<Resp>, Status>>,
    {
        let principal = peer_principal(&request)?;
        if let Err(denied) = self
            .policy
            .authorize(&principal, operation, credit_code.as_deref())
        {
            if let Some(subject) = &subject {
                self.audit_refusal(&principal, action, subject, &Stated::default(), &denied)
                    .await;
            }
            return Err(denied.into());
        }
        if subject.is_some() {
            self.limit(&principal).await?;
        }
        // Only the message crosses: caller metadata (a forged principal
        // header, say) never reaches the services behind the gateway.
        let mut forwarded = Request::new(request.into_inner());
        forward(&mut forwarded, &principal)?;
        let response = call(forwarded).await?;
        if let Some(subject) = subject {
            self.audit(
                &principal,
                action,
                &subject,
                &Stated::default(),
                audit_v1::Decision::Allowed,
                "answered".into(),
            )
            .await?;
        }
        Ok(response)
    }
}
