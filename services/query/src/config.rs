//! Settings of the query service.

use serde::{Deserialize, Serialize};
use shebao_kernel::KernelError;
use shebao_kernel::config::Validate;
use shebao_kernel::server::ServerSettings;

/// Everything the query service needs to start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuerySettings {
    /// Listener, certificate identity, telemetry.
    pub server: ServerSettings,
    /// The registration service, `https://host:port`.
    pub registration_url: String,
    /// The contribution service, `https://host:port`.
    pub contribution_url: String,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            server: ServerSettings::on_port(50053),
            registration_url: "https://127.0.0.1:50051".into(),
            contribution_url: "https://127.0.0.1:50052".into(),
        }
    }
}

impl Validate for QuerySettings {
    fn validate(&self) -> Result<(), KernelError> {
        self.server.tls.validate()?;
        for (key, url) in [
            ("registration_url", &self.registration_url),
            ("contribution_url", &self.contribution_url),
        ] {
            if !url.starts_with("https://") {
                return Err(KernelError::Config(format!(
                    "{key} must be an https:// url (mTLS), got {url:?}"
                )));
            }
        }
        Ok(())
    }
}
