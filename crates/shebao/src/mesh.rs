//! The whole mesh in one process: each service on its own port over mTLS
//! with its own certificate identity and its own database, exactly as in
//! production, only started together. `shebao dev` runs it on fixed ports
//! with SQLite files; the integration tests on ephemeral ports, on SQLite
//! or PostgreSQL, with Redis or the in-process limiter.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use shebao_audit::AuditSettings;
use shebao_contribution::ContributionSettings;
use shebao_gateway::GatewaySettings;
use shebao_gateway::config::{Grant, PrincipalRoles, RecordItem, Role};
use shebao_kernel::db::{DatabaseSettings, create_postgres_database, drop_postgres_database};
use shebao_kernel::dev_pki::DevPki;
use shebao_kernel::server::{ServerSettings, bind};
use shebao_kernel::telemetry::TelemetrySettings;
use shebao_kernel::tls::TlsSettings;
use shebao_kernel::{Clock, KernelError, Principal, SystemClock};
use shebao_query::QuerySettings;
use shebao_registration::RegistrationSettings;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The services of the mesh, in start order.
pub const SERVICES: [&str; 5] = ["registration", "contribution", "query", "audit", "gateway"];

/// Which ports the mesh listens on.
#[derive(Debug, Clone, Copy)]
pub enum Ports {
    /// `127.0.0.1:0` for every service: the OS picks (tests).
    Ephemeral,
    /// The gateway on `base`, the services on `base + 1 ..= base + 4`, on `host`.
    Fixed {
        /// Address to bind.
        host: std::net::IpAddr,
        /// Gateway port.
        base: u16,
    },
}

/// Where the services keep their data.
#[derive(Debug, Clone)]
pub enum Storage {
    /// One SQLite file per service under the data folder (the embedded default).
    Sqlite,
    /// One new PostgreSQL database per service, created through this admin URL.
    Postgres {
        /// URL of an existing database with CREATE DATABASE rights.
        admin_url: String,
    },
}

/// How to start a mesh.
#[derive(Debug, Clone)]
pub struct MeshOptions {
    /// Folder for the development CA, certificates and SQLite files.
    pub data_dir: PathBuf,
    /// Ports to listen on.
    pub ports: Ports,
    /// Databases.
    pub storage: Storage,
    /// Redis for the gateway's limiter; `None` for the in-process limiter.
    pub redis_url: Option<String>,
    /// Lookups per principal per minute.
    pub lookups_per_minute: u32,
    /// Roles of staff and system principals.
    pub principals: Vec<PrincipalRoles>,
    /// Grants of third parties.
    pub grants: Vec<Grant>,
    /// Log filter and OTLP endpoint, shared by every service.
    pub telemetry: TelemetrySettings,
    /// The clock every service uses.
    pub clock: Arc<dyn Clock>,
}

/// The demo front-desk operator.
pub const DEMO_OPERATOR: &str = "staff/operator-demo";
/// The demo supervisor of the administrative department.
pub const DEMO_SUPERVISOR: &str = "staff/supervisor-demo";
/// The demo collection agency, which feeds wage declarations.
pub const DEMO_COLLECTION_AGENCY: &str = "system/collection-agency";
/// The demo court, holding a grant for judicial enforcement.
pub const DEMO_COURT: &str = "org/court-demo";
/// The purpose of the demo court's grant.
pub const DEMO_PURPOSE: &str = "judicial-enforcement";

impl MeshOptions {
    /// The embedded default: SQLite under `data_dir`, the in-process
    /// limiter, the demo principals and the demo court's grant.
    pub fn embedded(data_dir: impl Into<PathBuf>, ports: Ports) -> Self {
        let roles = |principal: &str, roles: &[Role]| PrincipalRoles {
            principal: principal.into(),
            roles: roles.iter().copied().collect(),
        };
        Self {
            data_dir: data_dir.into(),
            ports,
            storage: Storage::Sqlite,
            redis_url: None,
            lookups_per_minute: 120,
            principals: vec![
                roles(DEMO_OPERATOR, &[Role::Operator]),
                roles(DEMO_SUPERVISOR, &[Role::Supervisor]),
                roles(DEMO_COLLECTION_AGENCY, &[Role::Declarant]),
            ],
            grants: vec![Grant {
                org: "court-demo".into(),
                purpose: DEMO_PURPOSE.into(),
                legal_basis: "Civil Procedure Law of the PRC, art. 253 (inquiry into the property of a judgment debtor)".into(),
                items: [RecordItem::Registration, RecordItem::Contributions, RecordItem::Account].into(),
                valid_from: NaiveDate::from_ymd_opt(2026, 1, 1),
                valid_until: NaiveDate::from_ymd_opt(2030, 12, 31),
            }],
            telemetry: TelemetrySettings::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The addresses of a running mesh.
#[derive(Debug, Clone, Copy)]
pub struct Endpoints {
    /// The only door for outside callers.
    pub gateway: SocketAddr,
    /// Registration service.
    pub registration: SocketAddr,
    /// Contribution service.
    pub contribution: SocketAddr,
    /// Query service.
    pub query: SocketAddr,
    /// Audit service.
    pub audit: SocketAddr,
}

impl Endpoints {
    /// `(name, address)` of every endpoint, gateway first.
    pub fn all(&self) -> [(&'static str, SocketAddr); 5] {
        [
            ("gateway", self.gateway),
            ("registration", self.registration),
            ("contribution", self.contribution),
            ("query", self.query),
            ("audit", self.audit),
        ]
    }
}

type Running = (
    &'static str,
    oneshot::Sender<()>,
    JoinHandle<Result<(), KernelError>>,
);

/// A running mesh.
#[derive(Debug)]
pub struct Mesh {
    /// Where each service listens.
    pub endpoints: Endpoints,
    pki: DevPki,
    running: Vec<Running>,
    /// PostgreSQL databases created for this mesh, dropped by [`Mesh::stop`].
    created: Option<(String, Vec<String>)>,
}

fn url(addr: SocketAddr) -> String {
    format!("https://{addr}")
}

impl Mesh {
    /// Starts every service and the gateway.
    pub async fn start(options: MeshOptions) -> Result<Self, KernelError> {
        let pki = DevPki::open_or_create(&options.data_dir.join("pki"))?;
        let mut listeners = Vec::new();
        for (i, _) in SERVICES.iter().enumerate() {
            let addr = match options.ports {
                Ports::Ephemeral => SocketAddr::from(([127, 0, 0, 1], 0)),
                Ports::Fixed { host, base } => {
                    // gateway on base, the others after it
                    let offset = if i == 4 { 0 } else { i as u16 + 1 };
                    SocketAddr::new(host, base + offset)
                }
            };
            listeners.push(bind(addr).await?);
        }
        let addr = |i: usize| {
            listeners[i]
                .local_addr()
                .map_err(|e| KernelError::Server(e.to_string()))
        };
        let endpoints = Endpoints {
            registration: addr(0)?,
            contribution: addr(1)?,
            query: addr(2)?,
            audit: addr(3)?,
            gateway: addr(4)?,
        };
        let tag = format!("{:016x}", rand::random::<u64>());
        let mut databases = Vec::new();
        let mut created = match &options.storage {
            Storage::Sqlite => None,
            Storage::Postgres { admin_url } => Some((admin_url.clone(), Vec::new())),
        };
        for name in ["registration", "contribution", "audit"] {
            databases.push(match &mut created {
                None => DatabaseSettings::sqlite(
                    &options
                        .data_dir
                        .join(format!("{name}.db"))
                        .to_string_lossy(),
                ),
                Some((admin_url, names)) => {
                    let database = format!("shebao_{tag}_{name}");
                    let url = create_postgres_database(admin_url, &database).await?;
                    names.push(database);
                    DatabaseSettings {
                        url,
                        max_connections: 8,
                    }
                }
            });
        }
        let server = |name: &str, addr: SocketAddr| -> Result<ServerSettings, KernelError> {
            Ok(ServerSettings {
                listen: addr,
                tls: pki.identity(&Principal::service(name))?,
                telemetry: options.telemetry.clone(),
            })
        };
        let registration = RegistrationSettings {
            server: server("registration", endpoints.registration)?,
            database: databases[0].clone(),
        };
        let contribution = ContributionSettings {
            server: server("contribution", endpoints.contribution)?,
            database: databases[1].clone(),
            registration_url: url(endpoints.registration),
            ..ContributionSettings::default()
        };
        let query = QuerySettings {
            server: server("query", endpoints.query)?,
            registration_url: url(endpoints.registration),
            contribution_url: url(endpoints.contribution),
        };
        let audit = AuditSettings {
            server: server("audit", endpoints.audit)?,
            database: databases[2].clone(),
        };
        let mut gateway = GatewaySettings {
            server: server("gateway", endpoints.gateway)?,
            registration_url: url(endpoints.registration),
            contribution_url: url(endpoints.contribution),
            query_url: url(endpoints.query),
            audit_url: url(endpoints.audit),
            principals: options.principals.clone(),
            grants: options.grants.clone(),
            ..GatewaySettings::default()
        };
        gateway.rate_limit.redis_url = options.redis_url.clone();
        gateway.rate_limit.lookups_per_window = options.lookups_per_minute;
        gateway.rate_limit.window_seconds = 60;
        gateway.rate_limit.namespace = format!("shebao-{tag}");

        let mut listeners = listeners.into_iter();
        let mut next = || {
            listeners
                .next()
                .ok_or_else(|| KernelError::Server("listener missing".into()))
        };
        let clock = options.clock.clone();
        let registration =
            shebao_registration::build(&registration, Some(next()?), clock.clone()).await?;
        let contribution =
            shebao_contribution::build(&contribution, Some(next()?), clock.clone()).await?;
        let query = shebao_query::build(&query, Some(next()?)).await?;
        let audit = shebao_audit::build(&audit, Some(next()?), clock.clone()).await?;
        let gateway = shebao_gateway::build(&gateway, Some(next()?), clock).await?;

        let mut running = Vec::new();
        macro_rules! spawn {
            ($name:literal, $server:expr) => {{
                let (stop, stopped) = oneshot::channel::<()>();
                let server = $server;
                let handle = tokio::spawn(async move {
                    server
                        .run_until(async {
                            let _ = stopped.await;
                        })
                        .await
                });
                running.push(($name, stop, handle));
            }};
        }
        spawn!("registration", registration);
        spawn!("contribution", contribution);
        spawn!("query", query);
        spawn!("audit", audit);
        spawn!("gateway", gateway);
        Ok(Self {
            endpoints,
            pki,
            running,
            created,
        })
    }

    /// The development CA.
    pub fn pki(&self) -> &DevPki {
        &self.pki
    }

    /// The TLS settings of a client acting as `principal` (`org/court-demo`),
    /// issuing its certificate on first use.
    pub fn client_tls(&self, principal: &str) -> Result<TlsSettings, KernelError> {
        let principal: Principal = principal.parse().map_err(KernelError::Config)?;
        self.pki.identity(&principal)
    }

    /// The gateway's URL.
    pub fn gateway_url(&self) -> String {
        url(self.endpoints.gateway)
    }

    /// The URL of one service, by name.
    pub fn url_of(&self, service: &str) -> Option<String> {
        self.endpoints
            .all()
            .iter()
            .find(|(n, _)| *n == service)
            .map(|(_, a)| url(*a))
    }

    /// Stops one service and waits for it to drain; the others keep running.
    pub async fn stop_service(&mut self, service: &str) {
        if let Some(i) = self.running.iter().position(|(n, _, _)| *n == service) {
            let (_, stop, handle) = self.running.remove(i);
            let _ = stop.send(());
            let _ = handle.await;
        }
    }

    /// Stops everything, and drops the PostgreSQL databases the mesh created.
    pub async fn stop(mut self) {
        for service in SERVICES.iter().rev() {
            self.stop_service(service).await;
        }
        if let Some((admin_url, names)) = self.created.take() {
            for name in names {
                if let Err(e) = drop_postgres_database(&admin_url, &name).await {
                    tracing::warn!(error = %e, "test database left behind");
                }
            }
        }
    }
}
