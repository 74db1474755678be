//! The walking skeleton, end to end: the mesh on ephemeral ports over real
//! mTLS, called as outside callers would, through the gateway. Every
//! scenario runs on SQLite, and on PostgreSQL when its URL is set.

use shebao::mesh::{
    DEMO_COLLECTION_AGENCY, DEMO_COURT, DEMO_OPERATOR, DEMO_PURPOSE, DEMO_SUPERVISOR,
};
use shebao_api::audit::v1 as audit_v1;
use shebao_api::contribution::v1 as contribution_v1;
use shebao_api::gateway::v1 as gateway_v1;
use shebao_api::registration::v1 as registration_v1;
use shebao_gateway::config::{Grant, RecordItem};
use shebao_integration_tests::{Backend, Sandbox, violated_field};
use tonic::Code;

use audit_v1::audit_service_client::AuditServiceClient;
use contribution_v1::contribution_service_client::ContributionServiceClient;
use gateway_v1::gateway_service_client::GatewayServiceClient;
use registration_v1::registration_service_client::RegistrationServiceClient;

const EMPLOYER: &str = "91350100M000100Y43";
const PERSON: &str = "11010519491231002X";
const OTHER_PERSON: &str = "350102198503120018";

fn lookup(subject: &str) -> gateway_v1::LookupPersonRequest {
    gateway_v1::LookupPersonRequest {
        purpose_code: DEMO_PURPOSE.into(),
        legal_basis: "Civil Procedure Law art. 253".into(),
        case_reference: "(2026)闽0102执1号".into(),
        subject_citizen_id: subject.into(),
    }
}

/// Registers the employer and person, records the employment and declares
/// one month's wage of 3000 yuan, all through the gateway.
async fn register_and_declare(sandbox: &Sandbox) {
    let mut desk = RegistrationServiceClient::new(sandbox.gateway_as(DEMO_OPERATOR));
    desk.register_employer(registration_v1::RegisterEmployerRequest {
        credit_code: EMPLOYER.into(),
        name: "福州闽江软件有限公司".into(),
    })
    .await
    .expect("employer registered");
    let person = desk
        .register_person(registration_v1::RegisterPersonRequest {
            citizen_id: PERSON.into(),
            name: "张三".into(),
        })
        .await
        .expect("person registered")
        .into_inner()
        .person
        .expect("person");
    // birth date and sex derived from the ID number (GB 11643)
    assert_eq!(person.birth_date, "1949-12-31");
    assert_eq!(person.sex, shebao_api::common::v1::Sex::Female as i32);
    assert_eq!(person.registered_by, DEMO_OPERATOR);
    desk.record_employment(registration_v1::RecordEmploymentRequest {
        citizen_id: PERSON.into(),
        credit_code: EMPLOYER.into(),
        start_month: 202601,
    })
    .await
    .expect("employment recorded");
    let mut feed = ContributionServiceClient::new(sandbox.gateway_as(DEMO_COLLECTION_AGENCY));
    let contribution = feed
        .declare_wage(contribution_v1::DeclareWageRequest {
            credit_code: EMPLOYER.into(),
            citizen_id: PERSON.into(),
            month: 202602,
            declared_wage_fen: 300_000,
            ..Default::default()
        })
        .await
        .expect("wage declared")
        .into_inner()
        .contribution
        .expect("contribution");
    // R6.4: computed by the rule in force, clamped to the floor of 4800 yuan
    let pension = &contribution.lines[0];
    assert_eq!(
        pension.insurance_type,
        shebao_api::common::v1::InsuranceType::Pension as i32
    );
    assert_eq!(pension.base_fen, 480_000);
    assert_eq!(pension.employer_fen, 76_800);
    assert_eq!(pension.personal_fen, 38_400);
    assert_eq!(pension.account_credit_fen, 38_400);
}

async fn audit_entries(sandbox: &Sandbox, subject: &str) -> Vec<audit_v1::AuditEntry> {
    AuditServiceClient::new(sandbox.gateway_as(DEMO_SUPERVISOR))
        .list_entries_by_subject(audit_v1::ListEntriesBySubjectRequest {
            subject: subject.into(),
        })
        .await
        .expect("supervisor reads the audit log")
        .into_inner()
        .entries
}

async fn a_court_looks_up_a_registered_person_and_the_lookup_is_audited(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    register_and_declare(&sandbox).await;

    // R18.1, R24.1: a purpose-bound lookup under a grant
    let answer = GatewayServiceClient::new(sandbox.gateway_as(DEMO_COURT))
        .lookup_person(lookup(PERSON))
        .await
        .expect("lookup answered")
        .into_inner();
    let record = answer.record.expect("record");
    // R2.1, R2.2, R2.4: the record assembled from its owners
    assert_eq!(record.person.expect("person").name, "张三");
    assert_eq!(record.employments.len(), 1);
    assert_eq!(record.contributions.len(), 1);
    assert_eq!(
        record.contributions[0].employer_total_fen,
        record.contributions[0]
            .lines
            .iter()
            .map(|l| l.employer_fen)
            .sum::<i64>()
    );
    let account = record.account.expect("account");
    assert_eq!(account.principal_fen, 38_400);
    assert_eq!(account.pension_paid_months, 1);

    // R21.1: the lookup was registered before the answer came back
    let entries = audit_entries(&sandbox, PERSON).await;
    let entry = entries
        .iter()
        .find(|e| e.sequence == answer.audit_sequence)
        .expect("the lookup's audit entry");
    assert_eq!(entry.actor, DEMO_COURT);
    assert_eq!(entry.purpose_code, DEMO_PURPOSE);
    assert_eq!(entry.case_reference, "(2026)闽0102执1号");
    assert_eq!(entry.decision, audit_v1::Decision::Allowed as i32);

    // R28.3: the chain verifies
    let verified = AuditServiceClient::new(sandbox.gateway_as(DEMO_SUPERVISOR))
        .verify_chain(audit_v1::VerifyChainRequest {})
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{}", verified.reason);
    assert!(verified.entries_checked >= 1);
    sandbox.mesh.stop().await;
}

async fn a_lookup_without_purpose_or_grant_is_refused_and_audited(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    let mut court = GatewayServiceClient::new(sandbox.gateway_as(DEMO_COURT));

    // R19.1, R24.1: no stated purpose, no lookup
    let mut no_purpose = lookup(OTHER_PERSON);
    no_purpose.purpose_code.clear();
    let refused = court.lookup_person(no_purpose).await.expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // a purpose the court holds no grant for
    let mut other_purpose = lookup(OTHER_PERSON);
    other_purpose.purpose_code = "marketing".into();
    let refused = court
        .lookup_person(other_purpose)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // an organisation with no grant at all
    let refused = GatewayServiceClient::new(sandbox.gateway_as("org/insurance-broker"))
        .lookup_person(lookup(OTHER_PERSON))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // R21.1: refusals are registered too
    let entries = audit_entries(&sandbox, OTHER_PERSON).await;
    assert_eq!(entries.len(), 3);
    assert!(
        entries
            .iter()
            .all(|e| e.decision == audit_v1::Decision::Denied as i32)
    );
    assert!(entries.iter().any(|e| e.actor == "org/insurance-broker"));
    sandbox.mesh.stop().await;
}

async fn malformed_input_is_refused_naming_the_field(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    register_and_declare(&sandbox).await;
    let mut desk = RegistrationServiceClient::new(sandbox.gateway_as(DEMO_OPERATOR));
    let bad_id = desk
        .register_person(registration_v1::RegisterPersonRequest {
            citizen_id: "110105194912310021".into(),
            name: "李四".into(),
        })
        .await
        .expect_err("wrong check character");
    assert_eq!(bad_id.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&bad_id).as_deref(), Some("citizen_id"));

    let bad_code = desk
        .register_employer(registration_v1::RegisterEmployerRequest {
            credit_code: "91350100M000100Y4Z".into(),
            name: "某公司".into(),
        })
        .await
        .expect_err("wrong check character");
    assert_eq!(violated_field(&bad_code).as_deref(), Some("credit_code"));

    let duplicate = desk
        .register_person(registration_v1::RegisterPersonRequest {
            citizen_id: PERSON.into(),
            name: "张三".into(),
        })
        .await
        .expect_err("registered twice");
    assert_eq!(duplicate.code(), Code::AlreadyExists);

    let oversized = desk
        .register_person(registration_v1::RegisterPersonRequest {
            citizen_id: PERSON.into(),
            name: "张".repeat(40_000),
        })
        .await
        .expect_err("oversized request");
    assert_eq!(oversized.code(), Code::InvalidArgument, "{oversized:?}");
    assert_eq!(violated_field(&oversized).as_deref(), Some("request"));
    let overlong = desk
        .register_person(registration_v1::RegisterPersonRequest {
            citizen_id: "350102198503120018".into(),
            name: "张".repeat(65),
        })
        .await
        .expect_err("overlong name");
    assert_eq!(violated_field(&overlong).as_deref(), Some("name"));

    let mut feed = ContributionServiceClient::new(sandbox.gateway_as(DEMO_COLLECTION_AGENCY));
    let declaration = |f: &dyn Fn(&mut contribution_v1::DeclareWageRequest)| {
        let mut request = contribution_v1::DeclareWageRequest {
            credit_code: EMPLOYER.into(),
            citizen_id: PERSON.into(),
            month: 202603,
            declared_wage_fen: 500_000,
            ..Default::default()
        };
        f(&mut request);
        request
    };
    for (request, field) in [
        (
            declaration(&|r| r.declared_wage_fen = -1),
            "declared_wage_fen",
        ),
        (declaration(&|r| r.month = 202613), "month"),
        (
            declaration(&|r| r.citizen_id = "12345".into()),
            "citizen_id",
        ),
        // R6.4: amounts are computed, never typed in
        (
            declaration(&|r| r.employer_amount_fen = Some(76_800)),
            "employer_amount_fen",
        ),
        (declaration(&|r| r.base_fen = Some(480_000)), "base_fen"),
    ] {
        let refused = feed.declare_wage(request).await.expect_err(field);
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{field}: {refused:?}"
        );
        assert_eq!(violated_field(&refused).as_deref(), Some(field));
    }

    // a well-formed but unregistered person is not found, not a bad request
    let unknown = feed
        .declare_wage(declaration(&|r| r.citizen_id = OTHER_PERSON.into()))
        .await
        .expect_err("unregistered person");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    let mut court = GatewayServiceClient::new(sandbox.gateway_as(DEMO_COURT));
    let refused = court
        .lookup_person(lookup("not-an-id"))
        .await
        .expect_err("malformed subject");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_field(&refused).as_deref(),
        Some("subject_citizen_id")
    );

    // nothing half-written: the refused declarations left no trace
    let listed = ContributionServiceClient::new(sandbox.gateway_as(DEMO_OPERATOR))
        .list_contributions(contribution_v1::ListContributionsRequest {
            citizen_id: PERSON.into(),
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.contributions.len(), 1);
    sandbox.mesh.stop().await;
}

async fn callers_without_a_mesh_certificate_are_refused(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    let ca = sandbox.mesh.client_tls(DEMO_COURT).expect("tls").ca_cert;

    // R6.2, R26.1: no client certificate, no connection
    let anonymous = tonic::transport::Endpoint::from_shared(sandbox.mesh.gateway_url())
        .expect("endpoint")
        .tls_config(tonic::transport::ClientTlsConfig::new().ca_certificate(
            tonic::transport::Certificate::from_pem(std::fs::read(&ca).expect("ca")),
        ))
        .expect("tls")
        .connect_lazy();
    let refused = GatewayServiceClient::new(anonymous)
        .lookup_person(lookup(PERSON))
        .await
        .expect_err("no certificate");
    assert_ne!(refused.code(), Code::Ok);

    // a certificate from another CA
    let foreign = tempfile::tempdir().expect("dir");
    let rogue = shebao_kernel::dev_pki::DevPki::open_or_create(foreign.path()).expect("rogue ca");
    let mut rogue_tls = rogue
        .identity(&DEMO_COURT.parse().expect("principal"))
        .expect("rogue cert");
    rogue_tls.ca_cert = ca;
    let channel =
        shebao_kernel::client::channel(&sandbox.mesh.gateway_url(), &rogue_tls).expect("channel");
    let refused = GatewayServiceClient::new(channel)
        .lookup_person(lookup(PERSON))
        .await
        .expect_err("foreign certificate");
    assert_ne!(refused.code(), Code::Ok);

    // an outside caller's own certificate does not open a backend service
    let refused = RegistrationServiceClient::new(sandbox.service_as("registration", DEMO_OPERATOR))
        .get_person(registration_v1::GetPersonRequest {
            citizen_id: PERSON.into(),
        })
        .await
        .expect_err("backend is not a door");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // only the gateway may forward a principal
    let mut forged = tonic::Request::new(registration_v1::RegisterPersonRequest {
        citizen_id: PERSON.into(),
        name: "张三".into(),
    });
    forged.metadata_mut().insert(
        "x-shebao-principal",
        "staff/operator-demo".parse().expect("ascii"),
    );
    let refused =
        RegistrationServiceClient::new(sandbox.service_as("registration", "service/query"))
            .register_person(forged)
            .await
            .expect_err("forged principal");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // R26.1: an operator may not read the audit log; nobody outside may write it
    let refused = AuditServiceClient::new(sandbox.gateway_as(DEMO_OPERATOR))
        .verify_chain(audit_v1::VerifyChainRequest {})
        .await
        .expect_err("operator is no supervisor");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = AuditServiceClient::new(sandbox.gateway_as(DEMO_SUPERVISOR))
        .append_entry(audit_v1::AppendEntryRequest::default())
        .await
        .expect_err("the log is the gateway's to write");
    assert_eq!(refused.code(), Code::PermissionDenied);
    sandbox.mesh.stop().await;
}

async fn a_lookup_is_refused_when_the_audit_log_cannot_be_written(backend: Backend) {
    let Some(mut sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    register_and_declare(&sandbox).await;
    sandbox.mesh.stop_service("audit").await;
    // R21.1: fail closed
    let refused = GatewayServiceClient::new(sandbox.gateway_as(DEMO_COURT))
        .lookup_person(lookup(PERSON))
        .await
        .expect_err("no audit, no answer");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    sandbox.mesh.stop().await;
}

async fn lookups_past_the_limit_are_refused(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |options| options.lookups_per_minute = 2).await
    else {
        return;
    };
    register_and_declare(&sandbox).await;
    // R22.1: no bulk extraction by repeated lookups
    let mut court = GatewayServiceClient::new(sandbox.gateway_as(DEMO_COURT));
    court.lookup_person(lookup(PERSON)).await.expect("first");
    court.lookup_person(lookup(PERSON)).await.expect("second");
    let refused = court
        .lookup_person(lookup(PERSON))
        .await
        .expect_err("third");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    sandbox.mesh.stop().await;
}

async fn staff_reads_of_a_person_are_audited_too(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    register_and_declare(&sandbox).await;
    let before = audit_entries(&sandbox, PERSON).await.len();
    let mut desk = RegistrationServiceClient::new(sandbox.gateway_as(DEMO_OPERATOR));
    desk.get_person(registration_v1::GetPersonRequest {
        citizen_id: PERSON.into(),
    })
    .await
    .expect("operator reads the person");
    ContributionServiceClient::new(sandbox.gateway_as(DEMO_OPERATOR))
        .get_account_balance(contribution_v1::GetAccountBalanceRequest {
            citizen_id: PERSON.into(),
            as_of_month: 0,
        })
        .await
        .expect("operator reads the account");
    // every lookup of a person through the gateway is registered (R21.1)
    let entries = audit_entries(&sandbox, PERSON).await;
    assert_eq!(entries.len(), before + 2);
    assert!(
        entries[before..]
            .iter()
            .all(|e| e.actor == DEMO_OPERATOR && e.decision == audit_v1::Decision::Allowed as i32)
    );

    // a court's certificate opens no staff method (R26.1)
    let refused = RegistrationServiceClient::new(sandbox.gateway_as(DEMO_COURT))
        .get_person(registration_v1::GetPersonRequest {
            citizen_id: PERSON.into(),
        })
        .await
        .expect_err("courts use LookupPerson with a purpose");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let entries = audit_entries(&sandbox, PERSON).await;
    assert_eq!(
        entries.last().map(|e| e.decision),
        Some(audit_v1::Decision::Denied as i32)
    );
    sandbox.mesh.stop().await;
}

async fn an_employer_declares_only_for_itself(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |_| {}).await else {
        return;
    };
    register_and_declare(&sandbox).await;
    let declaration = |credit_code: &str| contribution_v1::DeclareWageRequest {
        credit_code: credit_code.into(),
        citizen_id: PERSON.into(),
        month: 202603,
        declared_wage_fen: 3_000_000,
        ..Default::default()
    };
    let mut employer =
        ContributionServiceClient::new(sandbox.gateway_as(&format!("employer/{EMPLOYER}")));
    // R15.4: an employer acts for its own staff only
    let refused = employer
        .declare_wage(declaration("91350102MA2XN00016"))
        .await
        .expect_err("another employer's code");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let contribution = employer
        .declare_wage(declaration(EMPLOYER))
        .await
        .expect("own declaration")
        .into_inner()
        .contribution
        .expect("contribution");
    // R6.4: clamped to the ceiling of 24000 yuan
    assert_eq!(contribution.lines[0].base_fen, 2_400_000);
    assert_eq!(contribution.lines[0].employer_fen, 384_000);
    assert_eq!(contribution.lines[0].personal_fen, 192_000);
    assert_eq!(contribution.declared_by, format!("employer/{EMPLOYER}"));
    let twice = employer
        .declare_wage(declaration(EMPLOYER))
        .await
        .expect_err("declared twice");
    assert_eq!(twice.code(), Code::AlreadyExists);
    sandbox.mesh.stop().await;
}

async fn a_grant_releases_only_its_record_items(backend: Backend) {
    let Some(sandbox) = Sandbox::start(backend, |options| {
        options.grants.push(Grant {
            org: "police-demo".into(),
            purpose: "identity-check".into(),
            legal_basis: "Public Security Administration Punishment Law".into(),
            items: [RecordItem::Registration].into(),
            valid_from: None,
            valid_until: None,
        });
    })
    .await
    else {
        return;
    };
    register_and_declare(&sandbox).await;
    let mut request = lookup(PERSON);
    request.purpose_code = "identity-check".into();
    let answer = GatewayServiceClient::new(sandbox.gateway_as("org/police-demo"))
        .lookup_person(request)
        .await
        .expect("lookup answered")
        .into_inner();
    // R18.1, R22.1: only the prescribed items leave the gateway
    assert_eq!(answer.released_items, vec!["registration".to_string()]);
    let record = answer.record.expect("record");
    assert!(record.person.is_some());
    assert_eq!(record.employments.len(), 1);
    assert!(record.contributions.is_empty());
    assert!(record.account.is_none());
    let entries = audit_entries(&sandbox, PERSON).await;
    let entry = entries.last().expect("audited");
    assert_eq!(entry.actor, "org/police-demo");
    assert_eq!(entry.detail, "released: registration");

    // the court's grant is for its own purpose only (R24.1)
    let mut borrowed = lookup(PERSON);
    borrowed.purpose_code = "identity-check".into();
    let refused = GatewayServiceClient::new(sandbox.gateway_as(DEMO_COURT))
        .lookup_person(borrowed)
        .await
        .expect_err("another organisation's purpose");
    assert_eq!(refused.code(), Code::PermissionDenied);
    sandbox.mesh.stop().await;
}

macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(shebao_integration_tests::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if shebao_integration_tests::postgres_url().is_none() {
                        eprintln!("SHEBAO_TEST_POSTGRES_URL not set: this scenario runs on SQLite only here");
                        return;
                    }
                    super::$scenario(shebao_integration_tests::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_every_backend!(
    a_court_looks_up_a_registered_person_and_the_lookup_is_audited,
    a_lookup_without_purpose_or_grant_is_refused_and_audited,
    malformed_input_is_refused_naming_the_field,
    callers_without_a_mesh_certificate_are_refused,
    a_lookup_is_refused_when_the_audit_log_cannot_be_written,
    lookups_past_the_limit_are_refused,
    staff_reads_of_a_person_are_audited_too,
    an_employer_declares_only_for_itself,
    a_grant_releases_only_its_record_items,
);
