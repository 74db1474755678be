//! The gRPC face of the audit log: converts requests, checks the caller,
//! calls the log, converts back.

use std::sync::Arc;

use shebao_api::audit::v1 as audit_v1;
use shebao_kernel::clock::parse_timestamp;
use shebao_kernel::{Caller, Clock};
use tonic::{Request, Response, Status};

use crate::domain::{self, Decision, Entry, Lookup};
use crate::error::AuditError;
use crate::storage::{self, AuditLog};

/// Peers that may write and read the log: only the gateway, which audits
/// every external lookup (R21.1) and serves the listings to the people and
/// supervisors entitled to them.
const CALLERS: &[&str] = &["gateway"];

/// Entries read per page while verifying the chain.
pub const VERIFY_PAGE: u64 = 1000;

/// The `AuditService` implementation.
#[derive(Debug, Clone)]
pub struct AuditApi {
    log: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

impl AuditApi {
    /// The API over `log`, stamping entries with `clock`.
    pub fn new(log: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock }
    }
}

impl TryFrom<audit_v1::AppendEntryRequest> for Lookup {
    type Error = AuditError;

    fn try_from(req: audit_v1::AppendEntryRequest) -> Result<Self, Self::Error> {
        let decision = match audit_v1::Decision::try_from(req.decision) {
            Ok(audit_v1::Decision::Allowed) => Decision::Allowed,
            Ok(audit_v1::Decision::Denied) => Decision::Denied,
            Ok(audit_v1::Decision::Unspecified) | Err(_) => {
                return Err(AuditError::Invalid {
                    field: "decision",
                    reason: "must be DECISION_ALLOWED or DECISION_DENIED".into(),
                });
            }
        };
        Lookup {
            actor: req.actor,
            action: req.action,
            subject: req.subject,
            purpose_code: req.purpose_code,
            legal_basis: req.legal_basis,
            case_reference: req.case_reference,
            decision,
            detail: req.detail,
        }
        .checked()
    }
}

fn entry_to_proto(entry: Entry) -> audit_v1::AuditEntry {
    let l = entry.lookup;
    audit_v1::AuditEntry {
        sequence: entry.sequence,
        recorded_at: Some(parse_timestamp(&entry.recorded_at)),
        actor: l.actor,
        action: l.action,
        subject: l.subject,
        purpose_code: l.purpose_code,
        legal_basis: l.legal_basis,
        case_reference: l.case_reference,
        decision: match l.decision {
            Decision::Allowed => audit_v1::Decision::Allowed,
            Decision::Denied => audit_v1::Decision::Denied,
        }
        .into(),
        detail: l.detail,
        previous_hash: entry.previous_hash,
        entry_hash: entry.entry_hash,
    }
}

fn caller<T>(request: &Request<T>) -> Result<Caller, AuditError> {
    let caller = Caller::of(request)?;
    caller.require_peer(CALLERS)?;
    Ok(caller)
}

#[tonic::async_trait]
impl audit_v1::audit_service_server::AuditService for AuditApi {
    #[tracing::instrument(skip_all)]
    async fn append_entry(
        &self,
        request: Request<audit_v1::AppendEntryRequest>,
    ) -> Result<Response<audit_v1::AppendEntryResponse>, Status> {
        caller(&request)?;
        let lookup = Lookup::try_from(request.into_inner())?;
        let entry = self.log.append(&lookup, self.clock.now()).await?;
        tracing::info!(sequence = entry.sequence, actor = %entry.lookup.actor, "lookup audited");
        Ok(Response::new(audit_v1::AppendEntryResponse {
            entry: Some(entry_to_proto(entry)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_entries_by_subject(
        &self,
        request: Request<audit_v1::ListEntriesBySubjectRequest>,
    ) -> Result<Response<audit_v1::ListEntriesBySubjectResponse>, Status> {
        caller(&request)?;
        let subject = domain::parse_subject("subject", &request.get_ref().subject)?;
        let entries = self.log.by_subject(&subject).await?;
        Ok(Response::new(audit_v1::ListEntriesBySubjectResponse {
            entries: entries.into_iter().map(entry_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn verify_chain(
        &self,
        request: Request<audit_v1::VerifyChainRequest>,
    ) -> Result<Response<audit_v1::VerifyChainResponse>, Status> {
        caller(&request)?;
        let outcome = storage::verify_log(self.log.as_ref(), VERIFY_PAGE).await?;
        if let Some(broken) = &outcome.first_break {
            // R28.3: a broken chain is an incident, not only an answer.
            tracing::error!(sequence = broken.sequence, reason = %broken.reason, "audit chain does not verify");
        }
        let intact = outcome.intact();
        let (first_broken_sequence, reason) = outcome
            .first_break
            .map_or((0, String::new()), |b| (b.sequence, b.reason));
        Ok(Response::new(audit_v1::VerifyChainResponse {
            intact,
            entries_checked: outcome.entries_checked,
            first_broken_sequence,
            reason,
            head_hash: outcome.head_hash,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(decision: i32) -> audit_v1::AppendEntryRequest {
        audit_v1::AppendEntryRequest {
            actor: "org/court-demo".into(),
            action: "/shebao.gateway.v1.GatewayService/LookupPerson".into(),
            subject: "11010519491231002X".into(),
            decision,
            ..Default::default()
        }
    }

    fn field_of(result: Result<Lookup, AuditError>) -> &'static str {
        match result {
            Err(AuditError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn an_unspecified_or_unknown_decision_is_rejected_naming_the_field() {
        assert_eq!(field_of(Lookup::try_from(request(0))), "decision");
        assert_eq!(field_of(Lookup::try_from(request(7))), "decision");
        let denied = Lookup::try_from(request(audit_v1::Decision::Denied.into())).expect("valid");
        assert_eq!(denied.decision, Decision::Denied);
    }

    #[test]
    fn a_request_without_an_actor_is_rejected_naming_the_field() {
        let mut req = request(audit_v1::Decision::Allowed.into());
        req.actor.clear();
        assert_eq!(field_of(Lookup::try_from(req)), "actor");
    }
}
