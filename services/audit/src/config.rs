//! Settings of the audit service.

use serde::{Deserialize, Serialize};
use shebao_kernel::KernelError;
use shebao_kernel::config::Validate;
use shebao_kernel::db::DatabaseSettings;
use shebao_kernel::server::ServerSettings;

/// Everything the audit service needs to start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Listener, certificate identity, telemetry.
    pub server: ServerSettings,
    /// Where the audit log is kept.
    pub database: DatabaseSettings,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            server: ServerSettings::on_port(50054),
            database: DatabaseSettings::sqlite("data/audit.db"),
        }
    }
}

impl Validate for AuditSettings {
    fn validate(&self) -> Result<(), KernelError> {
        self.server.tls.validate()?;
        self.database.validate()
    }
}
