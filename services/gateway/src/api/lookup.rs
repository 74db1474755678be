//! `GatewayService.LookupPerson`: the purpose-bound lookup of one named
//! person by a third party (R18.1-R22.1, R24.1).

use std::collections::BTreeSet;

use shebao_api::audit::v1 as audit_v1;
use shebao_api::gateway::v1 as gateway_v1;
use shebao_api::query::v1 as query_v1;
use shebao_kernel::principal::{forward, peer_principal};
use shebao_kernel::{ApiError, Principal};
use shebao_rules::CitizenId;
use tonic::{Code, Request, Response, Status};

use super::{Gateway, Stated};
use crate::config::RecordItem;

const ACTION: &str = "/shebao.gateway.v1.GatewayService/LookupPerson";

/// Keeps only the record items the grant releases (R18.1, R22.1): the
/// rest never leaves the gateway.
fn scope(
    mut record: query_v1::PersonRecord,
    items: &BTreeSet<RecordItem>,
) -> query_v1::PersonRecord {
    if !items.contains(&RecordItem::Registration) {
        record.person = None;
        record.employments.clear();
    }
    if !items.contains(&RecordItem::Contributions) {
        record.contributions.clear();
    }
    if !items.contains(&RecordItem::Account) {
        record.account = None;
    }
    record
}

impl Gateway {
    async fn refuse(
        &self,
        principal: &Principal,
        subject: &str,
        stated: &Stated,
        error: ApiError,
    ) -> Status {
        self.audit_refusal(principal, ACTION, subject, stated, &error)
            .await;
        error.into()
    }
}

#[tonic::async_trait]
impl gateway_v1::gateway_service_server::GatewayService for Gateway {
    #[tracing::instrument(skip_all, fields(actor))]
    async fn lookup_person(
        &self,
        request: Request<gateway_v1::LookupPersonRequest>,
    ) -> Result<Response<gateway_v1::LookupPersonResponse>, Status> {
        let principal = peer_principal(&request)?;
        tracing::Span::current().record("actor", principal.to_string());
        let req = request.into_inner();
        let stated = Stated {
            purpose_code: req.purpose_code.trim().to_string(),
            legal_basis: req.legal_basis.trim().to_string(),
            case_reference: req.case_reference.trim().to_string(),
        };
        let subject = req.subject_citizen_id.trim();
        // R19.1, R24.1: every lookup states its purpose, legal basis and case
        for (field, value) in [
            ("purpose_code", &stated.purpose_code),
            ("legal_basis", &stated.legal_basis),
            ("case_reference", &stated.case_reference),
        ] {
            if value.is_empty() {
                let error = ApiError::PermissionDenied(format!(
                    "a lookup must state its {field} (R19.1, R24.1)"
                ));
                return Err(self.refuse(&principal, subject, &stated, error).await);
            }
        }
        let grant = match self
            .policy
            .grant_for(&principal, &stated.purpose_code, self.today())
        {
            Ok(grant) => grant.clone(),
            Err(reason) => {
                return Err(self
                    .refuse(
                        &principal,
                        subject,
                        &stated,
                        ApiError::PermissionDenied(reason),
                    )
                    .await);
            }
        };
        let citizen_id = match CitizenId::parse(subject) {
            Ok(id) => id,
            Err(e) => {
                let error = ApiError::invalid("subject_citizen_id", e.to_string());
                return Err(self.refuse(&principal, subject, &stated, error).await);
            }
        };
        if let Err(error) = self.limit(&principal).await {
            return Err(self
                .refuse(&principal, citizen_id.as_str(), &stated, error)
                .await);
        }
        let mut query = Request::new(query_v1::GetPersonRecordRequest {
            citizen_id: citizen_id.as_str().to_string(),
        });
        forward(&mut query, &principal)?;
        let record = match self.query.clone().get_person_record(query).await {
            Ok(response) => response.into_inner().record.unwrap_or_default(),
            Err(status) if status.code() == Code::NotFound => {
                // a lawful lookup of an unknown person is registered too (R21.1)
                self.audit(
                    &principal,
                    ACTION,
                    citizen_id.as_str(),
                    &stated,
                    audit_v1::Decision::Allowed,
                    "not found".into(),
                )
                .await?;
                return Err(status);
            }
            Err(status) => return Err(status),
        };
        let released: Vec<String> = grant
            .items
            .iter()
            .map(|item| item.as_str().to_string())
            .collect();
        // R21.1: registered before the answer goes back, or not answered at all
        let sequence = self
            .audit(
                &principal,
                ACTION,
                citizen_id.as_str(),
                &stated,
                audit_v1::Decision::Allowed,
                format!("released: {}", released.join(",")),
            )
            .await?;
        tracing::info!(actor = %principal, purpose = stated.purpose_code, sequence, "lookup answered");
        Ok(Response::new(gateway_v1::LookupPersonResponse {
            record: Some(scope(record, &grant.items)),
            released_items: released,
            audit_sequence: sequence,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_outside_the_grant_never_leave_the_gateway() {
        // R22.1: nothing beyond the permitted query scope
        let record = query_v1::PersonRecord {
            person: Some(Default::default()),
            employments: vec![Default::default()],
            contributions: vec![Default::default()],
            account: Some(Default::default()),
        };
        let scoped = scope(record, &[RecordItem::Registration].into());
        assert!(scoped.person.is_some());
        assert_eq!(scoped.employments.len(), 1);
        assert!(scoped.contributions.is_empty());
        assert!(scoped.account.is_none());
    }
}
