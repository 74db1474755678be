//! One telemetry module (STYLE 12): `tracing` to stderr with `RUST_LOG`
//! honoured, and OpenTelemetry traces and metrics over OTLP when an
//! endpoint is configured (off otherwise). Metric names are constants here.

use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, global};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::error::KernelError;

/// Histogram of server-side RPC durations in seconds, by method and code.
pub const RPC_SERVER_DURATION: &str = "shebao.rpc.server.duration";
/// Counter of server-side RPCs, by method and code.
pub const RPC_SERVER_CALLS: &str = "shebao.rpc.server.calls";

/// Telemetry settings of a process.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP/gRPC collector endpoint, e.g. `http://otel-collector:4317`; off when unset.
    pub otlp_endpoint: Option<String>,
    /// Log filter used when `RUST_LOG` is not set, e.g. `info,sqlx=warn`.
    pub log_filter: Option<String>,
}

/// Keeps the OTLP providers alive; `shutdown` flushes them.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl TelemetryGuard {
    /// Flushes and stops the OTLP exporters.
    pub async fn shutdown(self) {
        if let Some(tracer) = self.tracer {
            let _flushed = tokio::task::spawn_blocking(move || tracer.shutdown()).await;
        }
        if let Some(meter) = self.meter {
            let _flushed = tokio::task::spawn_blocking(move || meter.shutdown()).await;
        }
    }
}

/// Sets up logging and, when configured, OTLP export for `service_name`.
/// Only the first call in a process installs the subscriber; later calls
/// (tests, the all-in-one `shebao dev`) are harmless.
pub fn init(
    service_name: &str,
    settings: &TelemetrySettings,
) -> Result<TelemetryGuard, KernelError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            settings
                .log_filter
                .as_deref()
                .unwrap_or("info,sqlx=warn,sea_orm=warn,h2=warn,tower=warn,hyper=warn"),
        )
    });
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let Some(endpoint) = settings.otlp_endpoint.as_deref() else {
        let _ = tracing_subscriber::registry()
            .with(fmt.with_filter(filter))
            .try_init();
        return Ok(TelemetryGuard::default());
    };
    let resource = Resource::builder()
        .with_service_name(service_name.to_string())
        .build();
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| KernelError::Telemetry(format!("otlp span exporter: {e}")))?;
    let tracer = SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .with_resource(resource.clone())
        .build();
    let metrics = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| KernelError::Telemetry(format!("otlp metric exporter: {e}")))?;
    let meter = SdkMeterProvider::builder()
        .with_periodic_exporter(metrics)
        .with_resource(resource)
        .build();
    global::set_tracer_provider(tracer.clone());
    global::set_meter_provider(meter.clone());
    let otel = tracing_opentelemetry::layer().with_tracer(tracer.tracer(service_name.to_string()));
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otel)
        .try_init();
    Ok(TelemetryGuard {
        tracer: Some(tracer),
        meter: Some(meter),
    })
}

struct RpcInstruments {
    duration: Histogram<f64>,
    calls: Counter<u64>,
}

fn instruments() -> &'static RpcInstruments {
    static INSTRUMENTS: OnceLock<RpcInstruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = global::meter("shebao");
        RpcInstruments {
            duration: meter
                .f64_histogram(RPC_SERVER_DURATION)
                .with_unit("s")
                .with_description("server-side rpc duration")
                .build(),
            calls: meter
                .u64_counter(RPC_SERVER_CALLS)
                .with_description("server-side rpcs")
                .build(),
        }
    })
}

/// A tower layer that records the duration and count of every RPC.
#[derive(Debug, Clone)]
pub struct RpcMetricsLayer {
    service: &'static str,
}

impl RpcMetricsLayer {
    /// Metrics for the server of `service`.
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            service: self.service,
        }
    }
}

/// The service made by [`RpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    service: &'static str,
}

impl<S, B, R> tower::Service<http::Request<B>> for RpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_string();
        let service = self.service;
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            let code = match &result {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_string(),
                Err(_) => "transport".to_string(),
            };
            let attributes = [
                KeyValue::new("service", service),
                KeyValue::new("rpc.method", method),
                KeyValue::new("rpc.grpc.status_code", code),
            ];
            let m = instruments();
            m.duration
                .record(started.elapsed().as_secs_f64(), &attributes);
            m.calls.add(1, &attributes);
            result
        })
    }
}
