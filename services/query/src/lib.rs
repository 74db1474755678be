//! The query service assembles a person's record (R2.1, R2.2, R2.4) from
//! the services that own its parts, over gRPC. It keeps no data: the
//! registration and contribution services remain the only owners.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;

use shebao_api::query::v1 as query_v1;
use shebao_kernel::KernelError;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::QuerySettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "query";

/// Builds the query server: connects (lazily) to registration and
/// contribution and binds `listener` (or the configured address when `None`).
pub async fn build(
    settings: &QuerySettings,
    listener: Option<TcpListener>,
) -> Result<GrpcServer, KernelError> {
    let tls = &settings.server.tls;
    let service = api::QueryApi::new(
        shebao_kernel::client::channel(&settings.registration_url, tls)?,
        shebao_kernel::client::channel(&settings.contribution_url, tls)?,
    );
    let server = query_v1::query_service_server::QueryServiceServer::new(service)
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    let names = vec![
        <query_v1::query_service_server::QueryServiceServer<api::QueryApi> as NamedService>::NAME,
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
