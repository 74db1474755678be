//! Settings of the gateway: where the services are, who may do what, which
//! third parties hold which grants, and the lookup limits.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shebao_kernel::config::Validate;
use shebao_kernel::server::ServerSettings;
use shebao_kernel::{KernelError, Principal, PrincipalKind};

/// A business role of a staff or system principal (R26.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Front-desk operator: registers, records employments, declares, reads records.
    Operator,
    /// A system feeding wage declarations, e.g. the collection agency (R5.1).
    Declarant,
    /// The administrative department: reads the audit log (R3.1).
    Supervisor,
}

/// A record item a grant may release (R18.1: limited to prescribed items).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordItem {
    /// Registration and employments (R2.1).
    Registration,
    /// Contributions (R2.2).
    Contributions,
    /// Individual account and contribution years (R2.4).
    Account,
}

impl RecordItem {
    /// The item as named in responses and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Contributions => "contributions",
            Self::Account => "account",
        }
    }
}

/// The roles of one staff or system principal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PrincipalRoles {
    /// `staff/<id>` or `system/<id>`, as in the client certificate.
    pub principal: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
}

/// A third party's grant: what it may look up, why, and until when
/// (R18.1, R19.1, R20.1, R24.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The organisation id, as in its certificate `org/<id>`.
    pub org: String,
    /// The purpose code a lookup must state, e.g. `judicial-enforcement`.
    pub purpose: String,
    /// The legal basis on which the grant was given.
    pub legal_basis: String,
    /// Record items released under this grant.
    pub items: BTreeSet<RecordItem>,
    /// First valid day; unset means valid from the start.
    pub valid_from: Option<NaiveDate>,
    /// Last valid day; unset means until revoked.
    pub valid_until: Option<NaiveDate>,
}

impl Grant {
    /// Whether the grant is in force on `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day)
            && self.valid_until.is_none_or(|until| day <= until)
    }
}

/// Lookup limits per principal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Lookups one principal may make per window.
    pub lookups_per_window: u32,
    /// Window length in seconds.
    pub window_seconds: u64,
    /// Prefix of the counters' keys: one per deployment (region), so that
    /// meshes sharing a Redis never share counts.
    pub namespace: String,
    /// `redis://host:6379`: share counters across gateway replicas; unset
    /// means an in-process limiter (one replica, the embedded default).
    pub redis_url: Option<String>,
}

/// Everything the gateway needs to start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Listener, certificate identity, telemetry.
    pub server: ServerSettings,
    /// The registration service.
    pub registration_url: String,
    /// The contribution service.
    pub contribution_url: String,
    /// The query service.
    pub query_url: String,
    /// The audit service.
    pub audit_url: String,
    /// Lookup limits.
    pub rate_limit: RateLimitSettings,
    /// Roles of staff and system principals.
    #[serde(default)]
    pub principals: Vec<PrincipalRoles>,
    /// Grants of third parties.
    #[serde(default)]
    pub grants: Vec<Grant>,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            server: ServerSettings::on_port(50050),
            registration_url: "https://127.0.0.1:50051".into(),
            contribution_url: "https://127.0.0.1:50052".into(),
            query_url: "https://127.0.0.1:50053".into(),
            audit_url: "https://127.0.0.1:50054".into(),
            rate_limit: RateLimitSettings {
                lookups_per_window: 120,
                window_seconds: 60,
                namespace: "shebao".into(),
                redis_url: None,
            },
            principals: Vec::new(),
            grants: Vec::new(),
        }
    }
}

fn config_error(message: String) -> KernelError {
    KernelError::Config(message)
}

impl Validate for GatewaySettings {
    fn validate(&self) -> Result<(), KernelError> {
        self.server.tls.validate()?;
        for (key, url) in [
            ("registration_url", &self.registration_url),
            ("contribution_url", &self.contribution_url),
            ("query_url", &self.query_url),
            ("audit_url", &self.audit_url),
        ] {
            if !url.starts_with("https://") {
                return Err(config_error(format!(
                    "{key} must be an https:// url (mTLS), got {url:?}"
                )));
            }
        }
        if self.rate_limit.lookups_per_window == 0 || self.rate_limit.window_seconds == 0 {
            return Err(config_error(
                "rate_limit.lookups_per_window and window_seconds must be positive".into(),
            ));
        }
        if self.rate_limit.namespace.is_empty()
            || self.rate_limit.namespace.contains(char::is_whitespace)
        {
            return Err(config_error(
                "rate_limit.namespace must be a non-empty word".into(),
            ));
        }
        if let Some(url) = &self.rate_limit.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(config_error(format!(
                "rate_limit.redis_url must start with redis://, got {url:?}"
            )));
        }
        for entry in &self.principals {
            let principal: Principal = entry
                .principal
                .parse()
                .map_err(|e| config_error(format!("principals: {e}")))?;
            if !matches!(principal.kind, PrincipalKind::Staff | PrincipalKind::System) {
                return Err(config_error(format!(
                    "principals: roles are for staff/ and system/ principals, not {principal}"
                )));
            }
        }
        for grant in &self.grants {
            let org = format!("org/{}", grant.org);
            org.parse::<Principal>()
                .map_err(|e| config_error(format!("grants: {e}")))?;
            if grant.purpose.trim().is_empty() || grant.legal_basis.trim().is_empty() {
                return Err(config_error(format!(
                    "grants: the grant of {org} needs a purpose and a legal_basis"
                )));
            }
            if grant.items.is_empty() {
                return Err(config_error(format!(
                    "grants: the grant of {org} for {} releases no items",
                    grant.purpose
                )));
            }
            if let (Some(from), Some(until)) = (grant.valid_from, grant.valid_until)
                && from > until
            {
                return Err(config_error(format!(
                    "grants: the grant of {org} ends before it starts"
                )));
            }
        }
        Ok(())
    }
}
