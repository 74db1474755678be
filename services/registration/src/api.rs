//! The gRPC face of registration: converts requests, checks the caller,
//! calls the store, converts back.

use std::sync::Arc;

use shebao_api::common::v1::Sex as ProtoSex;
use shebao_api::registration::v1 as registration_v1;
use shebao_kernel::clock::to_timestamp;
use shebao_kernel::{Caller, Clock};
use shebao_rules::Sex;
use tonic::{Request, Response, Status};

use crate::domain::{self, Employer, Employment, Person};
use crate::error::RegistrationError;
use crate::storage::RegistrationStore;

/// Peers that may write registration facts: the gateway, which forwards
/// the staff or system principal it has authorised.
const WRITERS: &[&str] = &["gateway"];
/// Peers that may read: the gateway and the services that build on registration.
const READERS: &[&str] = &["gateway", "query", "contribution"];

/// The `RegistrationService` implementation.
#[derive(Debug, Clone)]
pub struct RegistrationApi {
    store: Arc<dyn RegistrationStore>,
    clock: Arc<dyn Clock>,
}

impl RegistrationApi {
    /// The API over `store`, stamping facts with `clock`.
    pub fn new(store: Arc<dyn RegistrationStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

fn person_to_proto(p: &Person) -> registration_v1::Person {
    registration_v1::Person {
        citizen_id: p.citizen_id.as_str().to_string(),
        name: p.name.clone(),
        birth_date: p.birth_date().format("%Y-%m-%d").to_string(),
        sex: match p.sex() {
            Sex::Male => ProtoSex::Male,
            Sex::Female => ProtoSex::Female,
        }
        .into(),
        registered_at: Some(to_timestamp(p.registered_at)),
        registered_by: p.registered_by.clone(),
    }
}

fn employer_to_proto(e: &Employer) -> registration_v1::Employer {
    registration_v1::Employer {
        credit_code: e.credit_code.as_str().to_string(),
        name: e.name.clone(),
        registered_at: Some(to_timestamp(e.registered_at)),
        registered_by: e.registered_by.clone(),
    }
}

fn employment_to_proto(e: &Employment) -> registration_v1::Employment {
    registration_v1::Employment {
        citizen_id: e.citizen_id.as_str().to_string(),
        credit_code: e.credit_code.as_str().to_string(),
        start_month: e.start_month.yyyymm(),
        recorded_at: Some(to_timestamp(e.recorded_at)),
        recorded_by: e.recorded_by.clone(),
    }
}

fn caller<T>(request: &Request<T>, allowed: &[&str]) -> Result<Caller, RegistrationError> {
    let caller = Caller::of(request)?;
    caller.require_peer(allowed)?;
    Ok(caller)
}

#[tonic::async_trait]
impl registration_v1::registration_service_server::RegistrationService for RegistrationApi {
    #[tracing::instrument(skip_all)]
    async fn register_person(
        &self,
        request: Request<registration_v1::RegisterPersonRequest>,
    ) -> Result<Response<registration_v1::RegisterPersonResponse>, Status> {
        let caller = caller(&request, WRITERS)?;
        let req = request.into_inner();
        let person = Person {
            citizen_id: domain::parse_citizen_id("citizen_id", &req.citizen_id)?,
            name: domain::parse_name("name", &req.name, 64)?,
            registered_at: self.clock.now(),
            registered_by: caller.actor(),
        };
        self.store.insert_person(&person).await?;
        tracing::info!(actor = %person.registered_by, "person registered");
        Ok(Response::new(registration_v1::RegisterPersonResponse {
            person: Some(person_to_proto(&person)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_person(
        &self,
        request: Request<registration_v1::GetPersonRequest>,
    ) -> Result<Response<registration_v1::GetPersonResponse>, Status> {
        caller(&request, READERS)?;
        let id = domain::parse_citizen_id("citizen_id", &request.get_ref().citizen_id)?;
        let person = self
            .store
            .person(&id)
            .await?
            .ok_or_else(|| RegistrationError::NotFound(format!("person {}", id.as_str())))?;
        Ok(Response::new(registration_v1::GetPersonResponse {
            person: Some(person_to_proto(&person)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn register_employer(
        &self,
        request: Request<registration_v1::RegisterEmployerRequest>,
    ) -> Result<Response<registration_v1::RegisterEmployerResponse>, Status> {
        let caller = caller(&request, WRITERS)?;
        let req = request.into_inner();
        let employer = Employer {
            credit_code: domain::parse_credit_code("credit_code", &req.credit_code)?,
            name: domain::parse_name("name", &req.name, 128)?,
            registered_at: self.clock.now(),
            registered_by: caller.actor(),
        };
        self.store.insert_employer(&employer).await?;
        Ok(Response::new(registration_v1::RegisterEmployerResponse {
            employer: Some(employer_to_proto(&employer)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_employer(
        &self,
        request: Request<registration_v1::GetEmployerRequest>,
    ) -> Result<Response<registration_v1::GetEmployerResponse>, Status> {
        caller(&request, READERS)?;
        let code = domain::parse_credit_code("credit_code", &request.get_ref().credit_code)?;
        let employer =
            self.store.employer(&code).await?.ok_or_else(|| {
                RegistrationError::NotFound(format!("employer {}", code.as_str()))
            })?;
        Ok(Response::new(registration_v1::GetEmployerResponse {
            employer: Some(employer_to_proto(&employer)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn record_employment(
        &self,
        request: Request<registration_v1::RecordEmploymentRequest>,
    ) -> Result<Response<registration_v1::RecordEmploymentResponse>, Status> {
        let caller = caller(&request, WRITERS)?;
        let req = request.into_inner();
        let employment = Employment {
            citizen_id: domain::parse_citizen_id("citizen_id", &req.citizen_id)?,
            credit_code: domain::parse_credit_code("credit_code", &req.credit_code)?,
            start_month: domain::parse_month("start_month", req.start_month)?,
            recorded_at: self.clock.now(),
            recorded_by: caller.actor(),
        };
        let person = self.store.person(&employment.citizen_id).await?;
        let person = person.ok_or_else(|| {
            RegistrationError::NotFound(format!("person {}", employment.citizen_id.as_str()))
        })?;
        let birth = shebao_rules::Month::of_date(person.birth_date());
        if birth.is_ok_and(|birth| employment.start_month < birth) {
            return Err(RegistrationError::Invalid {
                field: "start_month",
                reason: format!("{} is before the person's birth", employment.start_month),
            }
            .into());
        }
        if self
            .store
            .employer(&employment.credit_code)
            .await?
            .is_none()
        {
            return Err(RegistrationError::NotFound(format!(
                "employer {}",
                employment.credit_code.as_str()
            ))
            .into());
        }
        self.store.insert_employment(&employment).await?;
        Ok(Response::new(registration_v1::RecordEmploymentResponse {
            employment: Some(employment_to_proto(&employment)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_employments(
        &self,
        request: Request<registration_v1::ListEmploymentsRequest>,
    ) -> Result<Response<registration_v1::ListEmploymentsResponse>, Status> {
        caller(&request, READERS)?;
        let id = domain::parse_citizen_id("citizen_id", &request.get_ref().citizen_id)?;
        let employments = self.store.employments(&id).await?;
        // an unknown person is not the same as a person without employments
        if employments.is_empty() && self.store.person(&id).await?.is_none() {
            return Err(RegistrationError::NotFound(format!("person {}", id.as_str())).into());
        }
        Ok(Response::new(registration_v1::ListEmploymentsResponse {
            employments: employments.iter().map(employment_to_proto).collect(),
        }))
    }
}
