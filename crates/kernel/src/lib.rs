//! The kernel every shebao service is built on: layered configuration,
//! telemetry, rustls mTLS with certificate identities, server start-up with
//! health and reflection, the database connection with append-only fact
//! tables, principal propagation from the gateway, and the one mapping from
//! errors to `tonic::Status`.
#![forbid(unsafe_code)]

pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod dev_pki;
pub mod error;
pub mod oversize;
pub mod principal;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

pub use clock::{Clock, SystemClock};
pub use error::{ApiError, KernelError};
pub use principal::{Caller, Principal, PrincipalKind};
