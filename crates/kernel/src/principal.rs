//! Principals: who is calling. Every certificate carries one identity as a
//! URI SAN `spiffe://shebao/<kind>/<id>`; services are `service/<name>`,
//! outside callers `org/..`, `staff/..`, `employer/..`, `system/..`.
//! A backend service accepts an external principal only as forwarded by the
//! gateway, whose certificate identity it checks.

use std::fmt;
use std::str::FromStr;

use tonic::Request;
use tonic::metadata::MetadataValue;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::error::ApiError;

/// The trust domain of every shebao certificate identity.
pub const TRUST_DOMAIN: &str = "shebao";
/// The metadata header in which the gateway forwards the external principal.
pub const FORWARDED_PRINCIPAL: &str = "x-shebao-principal";
/// The service name of the gateway, the only peer allowed to forward principals.
pub const GATEWAY: &str = "gateway";

/// The kind of a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A service of the mesh.
    Service,
    /// A third-party organisation: court, public security, another department (R18.1, R19.1).
    Org,
    /// Agency staff: operators, reviewers, supervisors (R26.1).
    Staff,
    /// An employer, identified by its unified social credit code (R15.4).
    Employer,
    /// Another government system feeding or pulling data (R5.1).
    System,
}

impl PrincipalKind {
    /// The kind as written in identities.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Org => "org",
            Self::Staff => "staff",
            Self::Employer => "employer",
            Self::System => "system",
        }
    }
}

impl FromStr for PrincipalKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "service" => Self::Service,
            "org" => Self::Org,
            "staff" => Self::Staff,
            "employer" => Self::Employer,
            "system" => Self::System,
            other => return Err(format!("unknown principal kind {other:?}")),
        })
    }
}

/// An authenticated identity: a kind and an id, written `kind/id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// What sort of caller.
    pub kind: PrincipalKind,
    /// Its id within the kind: a service name, an organisation id, a staff number.
    pub id: String,
}

impl Principal {
    /// Builds a principal.
    pub fn new(kind: PrincipalKind, id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
        }
    }

    /// A mesh service.
    pub fn service(name: &str) -> Self {
        Self::new(PrincipalKind::Service, name)
    }

    /// The URI SAN that carries this identity in a certificate.
    pub fn spiffe_uri(&self) -> String {
        format!("spiffe://{TRUST_DOMAIN}/{}/{}", self.kind.as_str(), self.id)
    }

    /// Reads an identity from a URI SAN; `None` for URIs of other trust domains.
    pub fn from_spiffe_uri(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix(&format!("spiffe://{TRUST_DOMAIN}/"))?;
        rest.parse().ok()
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.id)
    }
}

impl FromStr for Principal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, id) = s
            .split_once('/')
            .ok_or_else(|| format!("principal {s:?} is not kind/id"))?;
        let valid = !id.is_empty()
            && id.len() <= 128
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(format!(
                "principal id {id:?} is empty or has characters outside [A-Za-z0-9._-]"
            ));
        }
        Ok(Self::new(kind.parse()?, id))
    }
}

/// Reads the identity of the TLS peer from its client certificate.
pub fn peer_principal<T>(request: &Request<T>) -> Result<Principal, ApiError> {
    let certs = request
        .peer_certs()
        .ok_or_else(|| ApiError::Unauthenticated("a client certificate is required".into()))?;
    let leaf = certs
        .first()
        .ok_or_else(|| ApiError::Unauthenticated("a client certificate is required".into()))?;
    identity_of_certificate(leaf.as_ref()).ok_or_else(|| {
        ApiError::Unauthenticated("the client certificate carries no shebao identity".into())
    })
}

/// Reads the `spiffe://shebao/..` URI SAN of a DER certificate.
pub fn identity_of_certificate(der: &[u8]) -> Option<Principal> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::URI(uri) => Principal::from_spiffe_uri(uri),
        _ => None,
    })
}

/// Who called a backend service: the peer service, and the external
/// principal it forwards when the peer is the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The mesh service on the other end of the TLS connection.
    pub peer: String,
    /// The external principal, present only when forwarded by the gateway.
    pub external: Option<Principal>,
}

impl Caller {
    /// Identifies the caller of a request to a backend service. Only mesh
    /// services may connect; only the gateway may forward a principal.
    pub fn of<T>(request: &Request<T>) -> Result<Self, ApiError> {
        let peer = peer_principal(request)?;
        if peer.kind != PrincipalKind::Service {
            return Err(ApiError::PermissionDenied(format!(
                "{peer} may not call mesh services directly; use the gateway"
            )));
        }
        let forwarded = request.metadata().get(FORWARDED_PRINCIPAL);
        let external = match forwarded {
            None => None,
            Some(_) if peer.id != GATEWAY => {
                return Err(ApiError::PermissionDenied(format!(
                    "{peer} may not forward external principals; only the gateway may"
                )));
            }
            Some(value) => {
                let text = value.to_str().map_err(|_| {
                    ApiError::PermissionDenied("forwarded principal is not ascii".into())
                })?;
                Some(text.parse().map_err(ApiError::PermissionDenied)?)
            }
        };
        Ok(Self {
            peer: peer.id,
            external,
        })
    }

    /// Refuses the call unless the peer service is one of `allowed`.
    pub fn require_peer(&self, allowed: &[&str]) -> Result<(), ApiError> {
        if allowed.contains(&self.peer.as_str()) {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied(format!(
                "service/{} may not call this method",
                self.peer
            )))
        }
    }

    /// The principal to record as the actor of a fact: the external
    /// principal when forwarded, otherwise the calling service.
    pub fn actor(&self) -> String {
        match &self.external {
            Some(principal) => principal.to_string(),
            None => format!("service/{}", self.peer),
        }
    }
}

/// Adds the external principal to a request the gateway forwards.
pub fn forward<T>(request: &mut Request<T>, principal: &Principal) -> Result<(), ApiError> {
    let value = MetadataValue::try_from(principal.to_string())
        .map_err(|_| ApiError::PermissionDenied("principal cannot be forwarded".into()))?;
    request.metadata_mut().insert(FORWARDED_PRINCIPAL, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_round_trips_through_its_uri() {
        let p = Principal::new(PrincipalKind::Org, "court-demo");
        assert_eq!(p.spiffe_uri(), "spiffe://shebao/org/court-demo");
        assert_eq!(Principal::from_spiffe_uri(&p.spiffe_uri()), Some(p));
    }

    #[test]
    fn a_principal_with_an_unknown_kind_or_odd_id_is_refused() {
        assert!("robot/x".parse::<Principal>().is_err());
        assert!("org/a b".parse::<Principal>().is_err());
        assert!("org/".parse::<Principal>().is_err());
        assert!("spiffe://other/org/x".parse::<Principal>().is_err());
    }
}
