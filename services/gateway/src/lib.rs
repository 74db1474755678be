//! The gateway is the only door from outside (DESIGN "The mesh"): it
//! authenticates every caller by its client certificate, authorises per
//! method and per purpose-bound grant, limits lookups, audits every lookup
//! of a person before answering (R21.1), scopes record items to the grant
//! (R22.1), and forwards to the services behind it with the caller's
//! principal.
#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod config;
pub mod limiter;

use std::sync::Arc;

use shebao_api::audit::v1::audit_service_server::AuditServiceServer;
use shebao_api::contribution::v1::contribution_service_server::ContributionServiceServer;
use shebao_api::gateway::v1::gateway_service_server::GatewayServiceServer;
use shebao_api::registration::v1::registration_service_server::RegistrationServiceServer;
use shebao_kernel::client::channel;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use shebao_kernel::{Clock, KernelError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::GatewaySettings;

use crate::api::{Backends, Gateway};
use crate::limiter::{InProcessLimiter, Limit, RateLimiter, RedisLimiter};

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "gateway";

/// Builds the gateway: connects the limiter (Redis when configured) and the
/// backends, and binds `listener` (or the configured address when `None`).
pub async fn build(
    settings: &GatewaySettings,
    listener: Option<TcpListener>,
    clock: Arc<dyn Clock>,
) -> Result<GrpcServer, KernelError> {
    let limit = Limit {
        per_window: settings.rate_limit.lookups_per_window,
        window_seconds: settings.rate_limit.window_seconds,
    };
    let limiter: Arc<dyn RateLimiter> = match &settings.rate_limit.redis_url {
        Some(url) => Arc::new(
            RedisLimiter::connect(url, &settings.rate_limit.namespace, limit)
                .await
                .map_err(|e| {
                    KernelError::Config(format!("rate_limit.redis_url: cannot connect: {e}"))
                })?,
        ),
        None => Arc::new(InProcessLimiter::new(limit)),
    };
    let tls = &settings.server.tls;
    let backends = Backends {
        registration: channel(&settings.registration_url, tls)?,
        contribution: channel(&settings.contribution_url, tls)?,
        query: channel(&settings.query_url, tls)?,
        audit: channel(&settings.audit_url, tls)?,
    };
    let gateway = Gateway::new(
        access::AccessPolicy::from_settings(settings),
        limiter,
        clock,
        backends,
    );
    let routes = Routes::new(
        GatewayServiceServer::new(gateway.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        RegistrationServiceServer::new(gateway.clone())
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        ContributionServiceServer::new(gateway.clone())
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(AuditServiceServer::new(gateway).max_decoding_message_size(MAX_REQUEST_BYTES));
    let names = vec![
        <GatewayServiceServer<Gateway> as NamedService>::NAME,
        <RegistrationServiceServer<Gateway> as NamedService>::NAME,
        <ContributionServiceServer<Gateway> as NamedService>::NAME,
        <AuditServiceServer<Gateway> as NamedService>::NAME,
    ];
    GrpcServer::bind(SERVICE, listener, &settings.server, routes, names).await
}
