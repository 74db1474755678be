//! The demo region: a few employers and persons in Fuzhou (350100), months
//! of wage declarations, and a court holding a grant. Everything is loaded
//! through the gateway as the demo operator and collection agency would,
//! so the demo exercises the same checks as real use; loading twice is
//! harmless (facts already recorded are skipped).

use shebao_api::contribution::v1 as contribution_v1;
use shebao_api::registration::v1 as registration_v1;
use shebao_kernel::client::channel;
use shebao_rules::Month;
use tonic::Code;

use crate::mesh::{DEMO_COLLECTION_AGENCY, DEMO_COURT, DEMO_OPERATOR, DEMO_PURPOSE, Mesh};

use contribution_v1::contribution_service_client::ContributionServiceClient;
use registration_v1::registration_service_client::RegistrationServiceClient;

/// Employers of the demo region: credit code and name.
pub const EMPLOYERS: [(&str, &str); 3] = [
    ("91350100M000100Y43", "福州闽江软件有限公司"),
    ("91350102MA2XN00016", "福州鼓楼茶业有限公司"),
    ("91350103MA31K0002E", "福州台江建设工程有限公司"),
];

/// Persons of the demo region: citizen ID, name, employer index, first
/// month of employment, declared monthly wage in fen.
pub const PERSONS: [(&str, &str, usize, u32, i64); 5] = [
    ("350102198503120018", "林志强", 0, 202501, 1_250_000),
    ("350102199007250029", "陈美玲", 0, 202503, 300_000),
    ("350103197811040038", "黄建华", 1, 202501, 850_000),
    ("350104199502180040", "郑晓燕", 2, 202506, 3_000_000),
    ("350102196809300055", "王德明", 2, 202501, 620_000),
];

/// The subject of the printed example lookup.
pub const EXAMPLE_SUBJECT: &str = "350102198503120018";

/// What loading the demo did.
#[derive(Debug, Default, Clone, Copy)]
pub struct DemoSummary {
    /// Facts newly recorded.
    pub recorded: usize,
    /// Facts found already recorded.
    pub skipped: usize,
}

fn tally<T>(summary: &mut DemoSummary, result: Result<T, tonic::Status>) -> anyhow::Result<()> {
    match result {
        Ok(_) => summary.recorded += 1,
        Err(status) if status.code() == Code::AlreadyExists => summary.skipped += 1,
        Err(status) => anyhow::bail!(
            "demo data refused: {:?} {}",
            status.code(),
            status.message()
        ),
    }
    Ok(())
}

/// Loads the demo region through the gateway, declaring wages for every
/// month of employment up to `last_month`.
pub async fn load(mesh: &Mesh, last_month: Month) -> anyhow::Result<DemoSummary> {
    let gateway = mesh.gateway_url();
    let mut desk =
        RegistrationServiceClient::new(channel(&gateway, &mesh.client_tls(DEMO_OPERATOR)?)?);
    let mut feed = ContributionServiceClient::new(channel(
        &gateway,
        &mesh.client_tls(DEMO_COLLECTION_AGENCY)?,
    )?);
    let mut summary = DemoSummary::default();
    for (credit_code, name) in EMPLOYERS {
        let result = desk
            .register_employer(registration_v1::RegisterEmployerRequest {
                credit_code: credit_code.into(),
                name: name.into(),
            })
            .await;
        tally(&mut summary, result)?;
    }
    for (citizen_id, name, employer, start, wage) in PERSONS {
        let result = desk
            .register_person(registration_v1::RegisterPersonRequest {
                citizen_id: citizen_id.into(),
                name: name.into(),
            })
            .await;
        tally(&mut summary, result)?;
        let credit_code = EMPLOYERS[employer].0;
        let result = desk
            .record_employment(registration_v1::RecordEmploymentRequest {
                citizen_id: citizen_id.into(),
                credit_code: credit_code.into(),
                start_month: start,
            })
            .await;
        tally(&mut summary, result)?;
        let mut month = Month::from_yyyymm(start)?;
        while month <= last_month {
            let result = feed
                .declare_wage(contribution_v1::DeclareWageRequest {
                    credit_code: credit_code.into(),
                    citizen_id: citizen_id.into(),
                    month: month.yyyymm(),
                    declared_wage_fen: wage,
                    ..Default::default()
                })
                .await;
            tally(&mut summary, result)?;
            month = month.next();
        }
    }
    Ok(summary)
}

/// A grpcurl command line with which the demo court looks up the example person.
pub fn grpcurl_line(mesh: &Mesh) -> anyhow::Result<String> {
    let tls = mesh.client_tls(DEMO_COURT)?;
    let body = format!(
        r#"{{"purpose_code":"{DEMO_PURPOSE}","legal_basis":"Civil Procedure Law art. 253","case_reference":"(2026)闽0102执1234号","subject_citizen_id":"{EXAMPLE_SUBJECT}"}}"#
    );
    Ok(format!(
        "grpcurl -cacert {} -cert {} -key {} -d '{body}' {} shebao.gateway.v1.GatewayService/LookupPerson",
        tls.ca_cert.display(),
        tls.cert.display(),
        tls.key.display(),
        mesh.endpoints.gateway,
    ))
}
