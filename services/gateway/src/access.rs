//! Who may call what through the gateway (R26.1): the caller is identified
//! by its client certificate; staff and system principals hold roles from
//! configuration; employers act only for themselves (R15.4); third parties
//! act only under a grant for a stated purpose (R18.1, R19.1, R24.1).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use shebao_kernel::{ApiError, Principal, PrincipalKind};

use crate::config::{GatewaySettings, Grant, Role};

/// An operation reachable through the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Register a person or an employer, or record an employment.
    RegisterFacts,
    /// Read registration facts of a person or employer.
    ReadRegistration,
    /// Declare a wage.
    DeclareWage,
    /// Read contributions or the account of a person.
    ReadContributions,
    /// Read the audit log.
    ReadAudit,
    /// Append to the audit log: only the gateway itself does this.
    AppendAudit,
}

impl Operation {
    fn allowed_roles(self) -> &'static [Role] {
        match self {
            Self::RegisterFacts | Self::ReadRegistration | Self::ReadContributions => {
                &[Role::Operator]
            }
            Self::DeclareWage => &[Role::Operator, Role::Declarant],
            Self::ReadAudit => &[Role::Supervisor],
            Self::AppendAudit => &[],
        }
    }
}

/// The access rules, built once from settings.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    roles: HashMap<Principal, BTreeSet<Role>>,
    grants: Vec<Grant>,
}

impl AccessPolicy {
    /// Builds the policy from validated settings.
    pub fn from_settings(settings: &GatewaySettings) -> Self {
        let roles = settings
            .principals
            .iter()
            .filter_map(|entry| Some((entry.principal.parse().ok()?, entry.roles.clone())))
            .collect();
        Self {
            roles,
            grants: settings.grants.clone(),
        }
    }

    /// Allows `principal` to perform `operation`, or says why not. An
    /// employer may declare wages only under its own credit code.
    pub fn authorize(
        &self,
        principal: &Principal,
        operation: Operation,
        credit_code: Option<&str>,
    ) -> Result<(), ApiError> {
        if principal.kind == PrincipalKind::Employer && operation == Operation::DeclareWage {
            // R15.4: an employer acts only for itself
            return match credit_code {
                Some(code) if code.trim().eq_ignore_ascii_case(&principal.id) => Ok(()),
                _ => Err(ApiError::PermissionDenied(format!(
                    "{principal} may declare wages only under its own credit code"
                ))),
            };
        }
        let held = self.roles.get(principal);
        let allowed = operation.allowed_roles();
        if held.is_some_and(|roles| allowed.iter().any(|r| roles.contains(r))) {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied(format!(
                "{principal} holds no role allowed to {operation:?}"
            )))
        }
    }

    /// The grant under which `principal` may look up a person for
    /// `purpose` on `day`, or why there is none.
    pub fn grant_for(
        &self,
        principal: &Principal,
        purpose: &str,
        day: NaiveDate,
    ) -> Result<&Grant, String> {
        if principal.kind != PrincipalKind::Org {
            return Err(format!(
                "{principal} is not a third-party organisation; purpose-bound lookups are for org/ principals"
            ));
        }
        let mut held = self
            .grants
            .iter()
            .filter(|g| g.org == principal.id && g.purpose == purpose);
        match held.clone().find(|g| g.in_force_on(day)) {
            Some(grant) => Ok(grant),
            None if held.next().is_some() => Err(format!(
                "the grant of {principal} for purpose {purpose:?} is not in force on {day}"
            )),
            None => Err(format!(
                "{principal} holds no grant for purpose {purpose:?}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{PrincipalRoles, RecordItem};

    fn policy() -> AccessPolicy {
        let mut settings = GatewaySettings::default();
        settings.principals.push(PrincipalRoles {
            principal: "staff/alice".into(),
            roles: [Role::Operator].into(),
        });
        settings.principals.push(PrincipalRoles {
            principal: "staff/sam".into(),
            roles: [Role::Supervisor].into(),
        });
        settings.grants.push(Grant {
            org: "court".into(),
            purpose: "judicial-enforcement".into(),
            legal_basis: "Civil Procedure Law art. 251".into(),
            items: [RecordItem::Registration].into(),
            valid_from: None,
            valid_until: NaiveDate::from_ymd_opt(2026, 12, 31),
        });
        AccessPolicy::from_settings(&settings)
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn an_operator_may_register_but_not_read_the_audit_log() {
        // R26.1: permission control for every user
        let alice: Principal = "staff/alice".parse().expect("principal");
        assert!(
            policy()
                .authorize(&alice, Operation::RegisterFacts, None)
                .is_ok()
        );
        assert!(
            policy()
                .authorize(&alice, Operation::ReadAudit, None)
                .is_err()
        );
        assert!(
            policy()
                .authorize(&alice, Operation::AppendAudit, None)
                .is_err()
        );
    }

    #[test]
    fn an_unknown_staff_member_may_do_nothing() {
        let eve = Principal::new(PrincipalKind::Staff, "eve");
        assert!(
            policy()
                .authorize(&eve, Operation::ReadRegistration, None)
                .is_err()
        );
    }

    #[test]
    fn an_employer_declares_only_under_its_own_code() {
        // R15.4
        let employer = Principal::new(PrincipalKind::Employer, "91350100M000100Y43");
        let p = policy();
        assert!(
            p.authorize(
                &employer,
                Operation::DeclareWage,
                Some("91350100M000100Y43")
            )
            .is_ok()
        );
        assert!(
            p.authorize(
                &employer,
                Operation::DeclareWage,
                Some("91110000600037341L")
            )
            .is_err()
        );
        assert!(
            p.authorize(&employer, Operation::ReadRegistration, None)
                .is_err()
        );
    }

    #[test]
    fn a_lookup_needs_a_grant_for_the_stated_purpose_in_force() {
        // R18.1, R24.1: purpose-bound access
        let court = Principal::new(PrincipalKind::Org, "court");
        let p = policy();
        assert!(
            p.grant_for(&court, "judicial-enforcement", day(2026, 6, 1))
                .is_ok()
        );
        assert!(p.grant_for(&court, "marketing", day(2026, 6, 1)).is_err());
        assert!(
            p.grant_for(&court, "judicial-enforcement", day(2027, 1, 1))
                .is_err()
        );
        let staff = Principal::new(PrincipalKind::Staff, "alice");
        assert!(
            p.grant_for(&staff, "judicial-enforcement", day(2026, 6, 1))
                .is_err()
        );
    }
}
