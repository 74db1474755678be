//! `shebao`: run the whole mesh on the embedded default (`shebao dev`), or
//! one service from its config file (`shebao serve <service>`).
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use shebao::demo;
use shebao::mesh::{
    DEMO_COLLECTION_AGENCY, DEMO_COURT, DEMO_OPERATOR, DEMO_SUPERVISOR, Mesh, MeshOptions, Ports,
};
use shebao_kernel::config::load;
use shebao_kernel::server::shutdown_signal;
use shebao_kernel::telemetry::{self, TelemetrySettings};
use shebao_kernel::{Clock, KernelError, SystemClock};

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
        ($settings:ty, $server:ty, $name:expr) => {{
            let settings: $settings = load(config)?;
            let guard = telemetry::init($name, &settings.server.telemetry)?;
            let server = <$server>::build(&settings, None).await?;
            tracing::info!(addr = %server.local_addr()?, "{} listening", $name);
            let result: Result<(), KernelError> = server.run_until(shutdown_signal()).await;
            guard.shutdown().await;
            result?;
        }};
    }
    match service {
        Service::Registration => run!(
            shebao_registration::RegistrationSettings,
            shebao_registration::RegistrationServer,
            "registration"
        ),
        Service::Contribution => run!(
            shebao_contribution::ContributionSettings,
            shebao_contribution::ContributionServer,
            "contribution"
        ),
        Service::Query => run!(
            shebao_query::QuerySettings,
            shebao_query::QueryServer,
            "query"
        ),
        Service::Audit => run!(
            shebao_audit::AuditSettings,
            shebao_audit::AuditServer,
            "audit"
        ),
        Service::Gateway => run!(
            shebao_gateway::GatewaySettings,
            shebao_gateway::GatewayServer,
            "gateway"
        ),
    }
    Ok(())
}
