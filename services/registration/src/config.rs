//! Settings of the registration service.

use serde::{Deserialize, Serialize};
use shebao_kernel::KernelError;
use shebao_kernel::config::Validate;
use shebao_kernel::db::DatabaseSettings;
use shebao_kernel::server::ServerSettings;

/// Everything the registration service needs to start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSettings {
    /// Listener, certificate identity, telemetry.
    pub server: ServerSettings,
    /// Where persons, employers and employments are kept.
    pub database: DatabaseSettings,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            server: ServerSettings::on_port(50051),
            database: DatabaseSettings::sqlite("data/registration.db"),
        }
    }
}

impl Validate for RegistrationSettings {
    fn validate(&self) -> Result<(), KernelError> {
        self.server.tls.validate()?;
        self.database.validate()
    }
}
