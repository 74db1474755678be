//! The registration service keeps who is insured and who employs them
//! (R2.1): insured persons by citizen ID number, employers by unified social
//! credit code, and employments. Every fact is append-only (R6.3).
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod storage;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use shebao_api::registration::v1 as registration_v1;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use shebao_kernel::{Clock, KernelError, SystemClock};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::RegistrationSettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "registration";

/// A built registration server, bound and ready to run.
#[derive(Debug)]
pub struct RegistrationServer {
    server: GrpcServer,
}

impl RegistrationServer {
    /// Opens the database, runs migrations and binds `listener` (or the
    /// configured address when `None`).
    pub async fn build(
        settings: &RegistrationSettings,
        listener: Option<TcpListener>,
    ) -> Result<Self, KernelError> {
        Self::build_with_clock(settings, listener, Arc::new(SystemClock)).await
    }

    /// Like [`Self::build`] with an injected clock.
    pub async fn build_with_clock(
        settings: &RegistrationSettings,
        listener: Option<TcpListener>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, KernelError> {
        let db = shebao_kernel::db::open::<storage::Migrator>(&settings.database).await?;
        let store = Arc::new(storage::SqlRegistrationStore::new(db));
        let service = api::RegistrationApi::new(store, clock);
        let listener = match listener {
            Some(l) => l,
            None => shebao_kernel::server::bind(settings.server.listen).await?,
        };
        let server =
            registration_v1::registration_service_server::RegistrationServiceServer::new(service)
                .max_decoding_message_size(MAX_REQUEST_BYTES);
        let names = vec![
            <registration_v1::registration_service_server::RegistrationServiceServer<
                api::RegistrationApi,
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
