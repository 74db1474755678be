//! The development CA: on first start of `shebao dev` (and in tests) a CA
//! and one certificate per identity are generated into a folder and reused
//! afterwards. Production takes certificates from the cluster's issuer.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::error::KernelError;
use crate::principal::Principal;
use crate::tls::TlsSettings;

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";

/// A development certificate authority kept in a folder.
#[derive(Debug)]
pub struct DevPki {
    dir: PathBuf,
    ca_cert_pem: String,
    ca_key: KeyPair,
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> KernelError {
    KernelError::Tls(format!("{what}: {e}"))
}

fn write(path: &Path, contents: &str) -> Result<(), KernelError> {
    std::fs::write(path, contents)
        .map_err(|e| tls_err(&format!("cannot write {}", path.display()), e))
}

impl DevPki {
    /// Loads the CA from `dir`, or creates it there on first use.
    pub fn open_or_create(dir: &Path) -> Result<Self, KernelError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| tls_err(&format!("cannot create {}", dir.display()), e))?;
        let cert_path = dir.join(CA_CERT);
        let key_path = dir.join(CA_KEY);
        if cert_path.exists() && key_path.exists() {
            let ca_cert_pem =
                std::fs::read_to_string(&cert_path).map_err(|e| tls_err("read ca", e))?;
            let key_pem =
                std::fs::read_to_string(&key_path).map_err(|e| tls_err("read ca key", e))?;
            let ca_key = KeyPair::from_pem(&key_pem).map_err(|e| tls_err("parse ca key", e))?;
            return Ok(Self {
                dir: dir.to_path_buf(),
                ca_cert_pem,
                ca_key,
            });
        }
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| tls_err("ca params", e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "shebao development CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "shebao");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(|e| tls_err("ca key", e))?;
        let cert = params
            .self_signed(&ca_key)
            .map_err(|e| tls_err("ca cert", e))?;
        let ca_cert_pem = cert.pem();
        write(&cert_path, &ca_cert_pem)?;
        write(&key_path, &ca_key.serialize_pem())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            ca_cert_pem,
            ca_key,
        })
    }

    /// The folder the CA and certificates are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the CA certificate.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join(CA_CERT)
    }

    /// Returns the TLS settings of `principal`, issuing its certificate if
    /// it does not exist yet. The certificate is valid for `localhost`,
    /// `127.0.0.1` and, for services, the service name as a DNS name.
    pub fn identity(&self, principal: &Principal) -> Result<TlsSettings, KernelError> {
        let stem = format!("{}-{}", principal.kind.as_str(), principal.id);
        let cert_path = self.dir.join(format!("{stem}.pem"));
        let key_path = self.dir.join(format!("{stem}.key"));
        if !(cert_path.exists() && key_path.exists()) {
            let (cert, key) = self.issue(principal)?;
            write(&cert_path, &cert)?;
            write(&key_path, &key)?;
        }
        Ok(TlsSettings {
            ca_cert: self.ca_cert_path(),
            cert: cert_path,
            key: key_path,
        })
    }

    /// Issues a certificate for `principal` signed by this CA, returned as
    /// PEM certificate and PEM key; nothing is written.
    pub fn issue(&self, principal: &Principal) -> Result<(String, String), KernelError> {
        let mut names = vec!["localhost".to_string()];
        if principal.kind == crate::principal::PrincipalKind::Service {
            names.push(principal.id.clone());
        }
        let mut params = CertificateParams::new(names).map_err(|e| tls_err("leaf params", e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, principal.to_string());
        params
            .distinguished_name
            .push(DnType::OrganizationName, "shebao");
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.subject_alt_names.push(SanType::URI(
            principal
                .spiffe_uri()
                .try_into()
                .map_err(|e| tls_err("uri san", e))?,
        ));
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::from_ca_cert_pem(&self.ca_cert_pem, &self.ca_key)
            .map_err(|e| tls_err("ca", e))?;
        let key = KeyPair::generate().map_err(|e| tls_err("leaf key", e))?;
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| tls_err("leaf cert", e))?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::{PrincipalKind, identity_of_certificate};

    #[test]
    fn an_issued_certificate_carries_its_identity_and_the_ca_is_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = DevPki::open_or_create(dir.path()).expect("pki");
        let principal = Principal::new(PrincipalKind::Org, "court-demo");
        let tls = pki.identity(&principal).expect("identity");
        let pem = std::fs::read(&tls.cert).expect("read");
        let der = x509_parser::pem::parse_x509_pem(&pem)
            .expect("pem")
            .1
            .contents;
        assert_eq!(identity_of_certificate(&der), Some(principal));
        let again = DevPki::open_or_create(dir.path()).expect("reopen");
        assert_eq!(again.ca_cert_pem, pki.ca_cert_pem);
    }
}
