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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use shebao_api::contribution::v1 as contribution_v1;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use shebao_kernel::{Clock, KernelError, SystemClock};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::ContributionSettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "contribution";

/// A built contribution server, bound and ready to run.
#[derive(Debug)]
pub struct ContributionServer {
    server: GrpcServer,
}

impl ContributionServer {
    /// Loads the rule book, opens the database, runs migrations, prepares
    /// the channel to registration and binds `listener` (or the configured
    /// address when `None`).
    pub async fn build(
        settings: &ContributionSettings,
        listener: Option<TcpListener>,
    ) -> Result<Self, KernelError> {
        Self::build_with_clock(settings, listener, Arc::new(SystemClock)).await
    }

    /// Like [`Self::build`] with an injected clock.
    pub async fn build_with_clock(
        settings: &ContributionSettings,
        listener: Option<TcpListener>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, KernelError> {
        // A malformed book stops start-up before anything is opened (R6.4).
        let rules = Arc::new(settings.region_rules()?);
        let db = shebao_kernel::db::open::<storage::Migrator>(&settings.database).await?;
        let store = Arc::new(storage::SqlContributionStore::new(db));
        let channel =
            shebao_kernel::client::channel(&settings.registration_url, &settings.server.tls)?;
        let employments = Arc::new(registration::RegistrationDirectory::new(channel));
        let service = api::ContributionApi::new(store, employments, rules, clock);
        let listener = match listener {
            Some(l) => l,
            None => shebao_kernel::server::bind(settings.server.listen).await?,
        };
        let server =
            contribution_v1::contribution_service_server::ContributionServiceServer::new(service)
                .max_decoding_message_size(MAX_REQUEST_BYTES);
        let names = vec![
            <contribution_v1::contribution_service_server::ContributionServiceServer<
                api::ContributionApi,
            > as NamedService>::NAME,
        ];
        Ok(Self {
            server: GrpcServer::new(
                SERVICE,
                listener,
                settings.server.tls.clone(),
                Routes::new(server),
                names,
            ),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, KernelError> {
        self.server.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), KernelError> {
        self.server.run_until(shutdown).await
    }
}
