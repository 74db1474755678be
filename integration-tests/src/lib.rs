//! The sandbox the integration tests start: the whole mesh on ephemeral
//! ports over real mTLS, on SQLite or (when `SHEBAO_TEST_POSTGRES_URL` is
//! set) PostgreSQL, with the in-process limiter or (when
//! `SHEBAO_TEST_REDIS_URL` is set) Redis.
#![forbid(unsafe_code)]

use shebao::mesh::{Mesh, MeshOptions, Ports, Storage};
use shebao_kernel::client::channel;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// Which database backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files in a temporary folder.
    Sqlite,
    /// Fresh PostgreSQL databases, when `SHEBAO_TEST_POSTGRES_URL` is set.
    Postgres,
}

/// A running mesh and the folder it lives in.
#[derive(Debug)]
pub struct Sandbox {
    /// The mesh.
    pub mesh: Mesh,
    _dir: tempfile::TempDir,
}

/// The PostgreSQL admin URL of the test environment, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("SHEBAO_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The Redis URL of the test environment, if any.
pub fn redis_url() -> Option<String> {
    std::env::var("SHEBAO_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

impl Sandbox {
    /// Starts the mesh on `backend`; `None` when that backend is not
    /// configured in this environment (PostgreSQL without its URL).
    pub async fn start(backend: Backend, configure: impl FnOnce(&mut MeshOptions)) -> Option<Self> {
        shebao_kernel::tls::install_crypto_provider();
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut options = MeshOptions::embedded(dir.path(), Ports::Ephemeral);
        options.storage = match backend {
            Backend::Sqlite => Storage::Sqlite,
            Backend::Postgres => Storage::Postgres {
                admin_url: postgres_url()?,
            },
        };
        options.redis_url = redis_url();
        configure(&mut options);
        let mesh = Mesh::start(options).await.expect("mesh starts");
        Some(Self { mesh, _dir: dir })
    }

    /// A channel to the gateway as `principal`, e.g. `org/court-demo`.
    pub fn gateway_as(&self, principal: &str) -> Channel {
        let tls = self.mesh.client_tls(principal).expect("client certificate");
        channel(&self.mesh.gateway_url(), &tls).expect("channel")
    }

    /// A channel straight to one service as `principal`, bypassing the gateway.
    pub fn service_as(&self, service: &str, principal: &str) -> Channel {
        let tls = self.mesh.client_tls(principal).expect("client certificate");
        channel(&self.mesh.url_of(service).expect("service"), &tls).expect("channel")
    }
}

/// The field named by the google.rpc.BadRequest details of `status`.
pub fn violated_field(status: &tonic::Status) -> Option<String> {
    let details = status.get_error_details();
    details
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
}
