//! The registration service keeps who is insured and who employs them
//! (R2.1): insured persons by citizen ID number, employers by unified social
//! credit code, and employments. Every fact is append-only (R6.3).
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod storage;

use std::sync::Arc;

use shebao_api::registration::v1 as registration_v1;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use shebao_kernel::{Clock, KernelError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::RegistrationSettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "registration";

/// Builds the registration server: opens the database, runs migrations and
/// binds `listener` (or the configured address when `None`). The result
/// answers `local_addr` and `run_until`.
pub async fn build(
    settings: &RegistrationSettings,
    listener: Option<TcpListener>,
    clock: Arc<dyn Clock>,
) -> Result<GrpcServer, KernelError> {
    let db = shebao_kernel::db::open::<storage::Migrator>(&settings.database).await?;
    let store = Arc::new(storage::SqlRegistrationStore::new(db));
    let service = api::RegistrationApi::new(store, clock);
    let server =
        registration_v1::registration_service_server::RegistrationServiceServer::new(service)
            .max_decoding_message_size(MAX_REQUEST_BYTES);
    let names = vec![
        <registration_v1::registration_service_server::RegistrationServiceServer<
            api::RegistrationApi,
        > as NamedService>::NAME,
    ];
    GrpcServer::bind(
        SERVICE,
        listener,
        &settings.server,
        Routes::new(server),
        names,
    )
    .await
}
