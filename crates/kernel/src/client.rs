//! Clients to other mesh services: mTLS channels that connect lazily, so
//! services may start in any order.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::error::KernelError;
use crate::tls::TlsSettings;

/// A lazily connecting mTLS channel to `url` (`https://host:port`).
pub fn channel(url: &str, tls: &TlsSettings) -> Result<Channel, KernelError> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| KernelError::Config(format!("endpoint {url:?}: {e}")))?
        .tls_config(tls.client_config()?)
        .map_err(|e| KernelError::Tls(format!("client tls for {url}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}
