//! rustls mTLS for every server and client: each process presents its own
//! certificate and requires one from its peer, signed by the mesh CA.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::error::KernelError;

/// Installs the ring crypto provider for rustls, once per process (STYLE 15).
/// Calling it again is harmless.
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

/// Where a process finds its certificate, key and the CA it trusts.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file of the CA that signs every certificate of the mesh and its clients.
    pub ca_cert: PathBuf,
    /// PEM file of this process's certificate.
    pub cert: PathBuf,
    /// PEM file of this process's private key.
    pub key: PathBuf,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, KernelError> {
    std::fs::read(path)
        .map_err(|e| KernelError::Tls(format!("cannot read {what} {}: {e}", path.display())))
}

impl TlsSettings {
    /// Checks that the three files exist and are readable.
    pub fn validate(&self) -> Result<(), KernelError> {
        read(&self.ca_cert, "tls.ca_cert")?;
        read(&self.cert, "tls.cert")?;
        read(&self.key, "tls.key")?;
        Ok(())
    }

    /// Server side: present our identity, require a client certificate signed by the CA.
    pub fn server_config(&self) -> Result<ServerTlsConfig, KernelError> {
        let identity =
            Identity::from_pem(read(&self.cert, "tls.cert")?, read(&self.key, "tls.key")?);
        Ok(ServerTlsConfig::new()
            .identity(identity)
            .client_ca_root(Certificate::from_pem(read(&self.ca_cert, "tls.ca_cert")?))
            .client_auth_optional(false))
    }

    /// Client side: trust only the mesh CA and present our identity.
    pub fn client_config(&self) -> Result<ClientTlsConfig, KernelError> {
        let identity =
            Identity::from_pem(read(&self.cert, "tls.cert")?, read(&self.key, "tls.key")?);
        Ok(ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&self.ca_cert, "tls.ca_cert")?))
            .identity(identity))
    }
}
