//! `shebao`: run the whole mesh on the embedded default (`shebao dev`), one
//! service from its config file (`shebao serve <service>`), or ask a service
//! over mTLS whether it is serving (`shebao probe`, for Kubernetes exec
//! probes, since the kubelet's own gRPC probe cannot present a certificate).
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use shebao::demo;
use shebao::mesh::{
    DEMO_COLLECTION_AGENCY, DEMO_COURT, DEMO_OPERATOR, DEMO_SUPERVISOR, Mesh, MeshOptions, Ports,
};
use shebao_kernel::config::load;
use shebao_kernel::server::shutdown_signal;
use shebao_kernel::telemetry::{self, TelemetrySettings};
use shebao_kernel::tls::TlsSettings;
use shebao_kernel::{Clock, KernelError, SystemClock};
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long a probe may take in all: connect, handshake and the call.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Parser)]
#[command(
    name = "shebao",
    version,
    about = "Social insurance personal rights records: the mesh and its tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every service and the gateway in one process on the embedded
    /// default: SQLite files and a development CA under the data folder.
    Dev {
        /// Folder for the CA, certificates and databases.
        #[arg(long, default_value = ".shebao")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// The gateway's port; the services listen on the next four.
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Loads the demo region through the gateway after start.
        #[arg(long)]
        demo: bool,
        /// OTLP/gRPC collector endpoint, e.g. http://127.0.0.1:4317.
        #[arg(long)]
        otlp_endpoint: Option<String>,
    },
    /// Runs one service from its config file (defaults < file < SHEBAO_* env).
    Serve {
        /// The service to run.
        service: Service,
        /// TOML or YAML config file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Calls grpc.health.v1 Check over mTLS; exits 0 when the answer is
    /// SERVING, 1 otherwise (including no answer within 3 s).
    Probe {
        /// The server to ask, e.g. https://127.0.0.1:50051.
        #[arg(long)]
        url: String,
        /// The service to ask about; empty asks about the server as a whole.
        #[arg(long, default_value = "")]
        service: String,
        /// Name to check the server certificate against, when the URL's
        /// host is not in it (e.g. `registration` when dialling 127.0.0.1).
        #[arg(long)]
        tls_server_name: Option<String>,
        /// PEM file of the mesh CA.
        #[arg(long, env = "SHEBAO_SERVER__TLS__CA_CERT")]
        ca_cert: PathBuf,
        /// PEM file of the certificate to present.
        #[arg(long, env = "SHEBAO_SERVER__TLS__CERT")]
        cert: PathBuf,
        /// PEM file of its private key.
        #[arg(long, env = "SHEBAO_SERVER__TLS__KEY")]
        key: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Service {
    Registration,
    Contribution,
    Query,
    Audit,
    Gateway,
}

#[tokio::main]
async fn main() -> ExitCode {
    shebao_kernel::tls::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev {
            data_dir,
            host,
            port,
            demo,
            otlp_endpoint,
        } => dev(data_dir, host, port, demo, otlp_endpoint).await,
        Command::Serve { service, config } => serve(service, config.as_deref()).await,
        Command::Probe {
            url,
            service,
            tls_server_name,
            ca_cert,
            cert,
            key,
        } => {
            let tls = TlsSettings { ca_cert, cert, key };
            return probe(&url, &service, tls_server_name, &tls).await;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shebao: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dev(
    data_dir: PathBuf,
    host: IpAddr,
    port: u16,
    load_demo: bool,
    otlp_endpoint: Option<String>,
) -> anyhow::Result<()> {
    let telemetry_settings = TelemetrySettings {
        otlp_endpoint,
        log_filter: None,
    };
    let guard = telemetry::init("shebao-dev", &telemetry_settings)?;
    let mut options = MeshOptions::embedded(&data_dir, Ports::Fixed { host, base: port });
    options.telemetry = telemetry_settings;
    let mesh = Mesh::start(options).await?;
    if load_demo {
        let last = shebao_rules::Month::of_date(SystemClock.now().date_naive())?.prev();
        let summary = demo::load(&mesh, last).await?;
        println!(
            "demo region loaded: {} facts recorded, {} already there",
            summary.recorded, summary.skipped
        );
    }
    println!("shebao dev is running (ctrl-c to stop)");
    println!("endpoints (mTLS; only the gateway is for outside callers):");
    for (name, addr) in mesh.endpoints.all() {
        println!("  {name:<13} {addr}");
    }
    let ca = mesh.pki().ca_cert_path();
    println!("CA certificate: {}", ca.display());
    println!("client certificates (cert .pem, key .key):");
    for principal in [
        DEMO_COURT,
        DEMO_OPERATOR,
        DEMO_SUPERVISOR,
        DEMO_COLLECTION_AGENCY,
    ] {
        let tls = mesh.client_tls(principal)?;
        println!(
            "  {principal:<26} {} {}",
            tls.cert.display(),
            tls.key.display()
        );
    }
    println!("look up a person as the demo court:");
    println!("  {}", demo::grpcurl_line(&mesh)?);
    shutdown_signal().await;
    mesh.stop().await;
    guard.shutdown().await;
    Ok(())
}

async fn serve(service: Service, config: Option<&Path>) -> anyhow::Result<()> {
    macro_rules! run {
        ($settings:ty, $name:expr, |$s:ident| $build:expr) => {{
            let settings: $settings = load(config)?;
            let guard = telemetry::init($name, &settings.server.telemetry)?;
            let $s = &settings;
            let server = $build.await?;
            tracing::info!(addr = %server.local_addr()?, "{} listening", $name);
            let result: Result<(), KernelError> = server.run_until(shutdown_signal()).await;
            guard.shutdown().await;
            result?;
        }};
    }
    let clock = || -> Arc<dyn Clock> { Arc::new(SystemClock) };
    match service {
        Service::Registration => run!(
            shebao_registration::RegistrationSettings,
            "registration",
            |s| { shebao_registration::build(s, None, clock()) }
        ),
        Service::Contribution => run!(
            shebao_contribution::ContributionSettings,
            "contribution",
            |s| { shebao_contribution::build(s, None, clock()) }
        ),
        Service::Query => run!(shebao_query::QuerySettings, "query", |s| {
            shebao_query::build(s, None)
        }),
        Service::Audit => run!(shebao_audit::AuditSettings, "audit", |s| {
            shebao_audit::build(s, None, clock())
        }),
        Service::Gateway => run!(shebao_gateway::GatewaySettings, "gateway", |s| {
            shebao_gateway::build(s, None, clock())
        }),
    }
    Ok(())
}

/// Asks `url` for the health of `service` and prints one line: the status,
/// or why there was none. SERVING is success; anything else is failure.
async fn probe(
    url: &str,
    service: &str,
    tls_server_name: Option<String>,
    tls: &TlsSettings,
) -> ExitCode {
    let check = async {
        let mut client_tls = tls.client_config()?;
        if let Some(name) = tls_server_name {
            client_tls = client_tls.domain_name(name);
        }
        let channel = Endpoint::from_shared(url.to_string())?
            .tls_config(client_tls)?
            .connect_timeout(PROBE_TIMEOUT)
            .timeout(PROBE_TIMEOUT)
            .connect()
            .await?;
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await
            .map_err(|status| {
                let head = format!("{:?}: {}", status.code(), status.message());
                let causes =
                    std::iter::successors(std::error::Error::source(&status), |e| e.source());
                anyhow::anyhow!(
                    "{}",
                    one_line(std::iter::once(head).chain(causes.map(ToString::to_string)))
                )
            })?;
        anyhow::Ok(response.into_inner().status())
    };
    let target = if service.is_empty() {
        url.to_string()
    } else {
        format!("{url} {service}")
    };
    match tokio::time::timeout(PROBE_TIMEOUT, check).await {
        Ok(Ok(ServingStatus::Serving)) => {
            println!("{target}: SERVING");
            ExitCode::SUCCESS
        }
        Ok(Ok(status)) => {
            println!("{target}: {}", status.as_str_name());
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            println!(
                "{target}: not serving: {}",
                one_line(e.chain().map(ToString::to_string))
            );
            ExitCode::FAILURE
        }
        Err(_) => {
            println!("{target}: not serving: no answer within {PROBE_TIMEOUT:?}");
            ExitCode::FAILURE
        }
    }
}

/// Causes joined on one line, leaving out those that an outer message
/// already quotes (tonic and rustls repeat their sources).
fn one_line(causes: impl Iterator<Item = String>) -> String {
    let mut line = String::new();
    for cause in causes {
        if line.contains(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    line.replace('\n', " ")
}
