//! The query service assembles a person's record (R2.1, R2.2, R2.4) from
//! the services that own its parts, over gRPC. It keeps no data: the
//! registration and contribution services remain the only owners.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;

use std::future::Future;
use std::net::SocketAddr;

use shebao_api::query::v1 as query_v1;
use shebao_kernel::KernelError;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::QuerySettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "query";

/// A built query server, bound and ready to run.
#[derive(Debug)]
pub struct QueryServer {
    server: GrpcServer,
}

impl QueryServer {
    /// Connects (lazily) to registration and contribution and binds
    /// `listener` (or the configured address when `None`).
    pub async fn build(
        settings: &QuerySettings,
        listener: Option<TcpListener>,
    ) -> Result<Self, KernelError> {
        let tls = &settings.server.tls;
        let service = api::QueryApi::new(
            shebao_kernel::client::channel(&settings.registration_url, tls)?,
            shebao_kernel::client::channel(&settings.contribution_url, tls)?,
        );
        let listener = match listener {
            Some(l) => l,
            None => shebao_kernel::server::bind(settings.server.listen).await?,
        };
        let server = query_v1::query_service_server::QueryServiceServer::new(service)
            .max_decoding_message_size(MAX_REQUEST_BYTES);
        let names = vec![<query_v1::query_service_server::QueryServiceServer<api::QueryApi> as NamedService>::NAME];
        Ok(Self {
            server: GrpcServer::new(SERVICE, listener, tls.clone(), Routes::new(server), names),
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
