//! The contribution service takes employers' wage declarations and records
//! the contributions and individual-account credits that the versioned rule
//! book computes for them (R2.2, R2.4). Amounts are computed, never typed in
//! (R6.4); every fact is append-only (R6.3). Who works where is asked of the
//! registration service over mTLS.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod registration;
pub mod storage;

use std::sync::Arc;

use shebao_api::contribution::v1 as contribution_v1;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use shebao_kernel::{Clock, KernelError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::ContributionSettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "contribution";

/// Builds the contribution server: loads the rule book, opens the
/// database, runs migrations, prepares the channel to registration and binds
/// `listener` (or the configured address when `None`).
pub async fn build(
    settings: &ContributionSettings,
    listener: Option<TcpListener>,
    clock: Arc<dyn Clock>,
) -> Result<GrpcServer, KernelError> {
    // A malformed book stops start-up before anything is opened (R6.4).
    let rules = Arc::new(settings.region_rules()?);
    let db = shebao_kernel::db::open::<storage::Migrator>(&settings.database).await?;
    let store = Arc::new(storage::SqlContributionStore::new(db));
    let channel = shebao_kernel::client::channel(&settings.registration_url, &settings.server.tls)?;
    let employments = Arc::new(registration::RegistrationDirectory::new(channel));
    let service = api::ContributionApi::new(store, employments, rules, clock);
    let server =
        contribution_v1::contribution_service_server::ContributionServiceServer::new(service)
            .max_decoding_message_size(MAX_REQUEST_BYTES);
    let names = vec![
        <contribution_v1::contribution_service_server::ContributionServiceServer<
            api::ContributionApi,
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
