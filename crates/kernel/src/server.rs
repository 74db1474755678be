//! Server start-up shared by every service: mTLS, grpc.health.v1, server
//! reflection (v1 and v1alpha, so grpcurl and Python clients work), per-RPC
//! spans and metrics, and graceful shutdown on SIGTERM or ctrl-c.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::error::KernelError;
use crate::telemetry::{RpcMetricsLayer, TelemetrySettings};
use crate::tls::TlsSettings;

/// Largest request message a service accepts; larger ones are refused
/// with OUT_OF_RANGE before any handler runs.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The settings every server shares.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on, e.g. `0.0.0.0:50051`.
    pub listen: SocketAddr,
    /// This server's certificate identity and the CA it trusts.
    pub tls: TlsSettings,
    /// Logging and OTLP export.
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

impl ServerSettings {
    /// Default settings listening on `port` of all interfaces.
    pub fn on_port(port: u16) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], port)),
            tls: TlsSettings::default(),
            telemetry: TelemetrySettings::default(),
        }
    }
}

/// Binds a listener; `127.0.0.1:0` picks an ephemeral port.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, KernelError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| KernelError::Server(format!("cannot listen on {addr}: {e}")))
}

/// A bound gRPC server, ready to run.
#[derive(Debug)]
pub struct GrpcServer {
    name: &'static str,
    listener: TcpListener,
    tls: TlsSettings,
    routes: Routes,
    service_names: Vec<&'static str>,
}

impl GrpcServer {
    /// A server named `name` (for metrics) serving `routes` on `listener`,
    /// or on a new listener bound to `settings.listen` when `None`, with the
    /// certificate identity of `settings`; `service_names` are the fully
    /// qualified names of the services in `routes`, for health and reflection.
    pub async fn bind(
        name: &'static str,
        listener: Option<TcpListener>,
        settings: &ServerSettings,
        routes: Routes,
        service_names: Vec<&'static str>,
    ) -> Result<Self, KernelError> {
        let listener = match listener {
            Some(listener) => listener,
            None => bind(settings.listen).await?,
        };
        Ok(Self {
            name,
            listener,
            tls: settings.tls.clone(),
            routes,
            service_names,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, KernelError> {
        self.listener
            .local_addr()
            .map_err(|e| KernelError::Server(e.to_string()))
    }

    /// Serves until `shutdown` completes, then drains in-flight calls.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), KernelError> {
        let (reporter, health) = tonic_health::server::health_reporter();
        for name in &self.service_names {
            reporter
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        let reflection = |names: &[&'static str]| {
            names.iter().fold(
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(shebao_api::FILE_DESCRIPTOR_SET)
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                    // google.rpc error details, so grpcurl can show field violations
                    .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
                    .with_service_name("grpc.health.v1.Health"),
                |builder, name| builder.with_service_name(*name),
            )
        };
        let name = self.name;
        let addr = self.local_addr()?;
        let reflect_err =
            |e: tonic_reflection::server::Error| KernelError::Server(format!("reflection: {e}"));
        let routes = self
            .routes
            .add_service(health)
            .add_service(
                reflection(&self.service_names)
                    .build_v1()
                    .map_err(reflect_err)?,
            )
            .add_service(
                reflection(&self.service_names)
                    .build_v1alpha()
                    .map_err(reflect_err)?,
            );
        let mut builder = Server::builder()
            .tls_config(self.tls.server_config()?)
            .map_err(|e| KernelError::Tls(format!("server tls: {e}")))?
            .timeout(Duration::from_secs(60))
            .concurrency_limit_per_connection(256)
            .trace_fn(move |request| {
                tracing::info_span!("grpc", service = name, rpc.method = %request.uri().path())
            })
            .layer(RpcMetricsLayer::new(name))
            // bad input is INVALID_ARGUMENT, oversized messages included
            .layer(crate::oversize::OversizeLayer);
        tracing::info!(service = name, %addr, "serving");
        builder
            .add_routes(routes)
            .serve_with_incoming_shutdown(TcpIncoming::from(self.listener), shutdown)
            .await
            .map_err(|e| KernelError::Server(format!("{name}: {e}")))
    }
}

/// Completes on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
