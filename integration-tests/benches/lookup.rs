//! Lookup latency and throughput through the gateway, against the baseline
//! of calling the query service directly (no authentication of the outside
//! caller, no grant check, no rate limit, no audit write), measured in the
//! same run on the same mesh.
//!
//! `cargo bench -p shebao-integration-tests --bench lookup` runs on SQLite;
//! with `SHEBAO_TEST_POSTGRES_URL` set it runs on PostgreSQL, and with
//! `SHEBAO_TEST_REDIS_URL` the limiter counts in Redis.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use shebao::mesh::{DEMO_COLLECTION_AGENCY, DEMO_COURT, DEMO_OPERATOR, DEMO_PURPOSE};
use shebao_api::contribution::v1 as contribution_v1;
use shebao_api::gateway::v1 as gateway_v1;
use shebao_api::query::v1 as query_v1;
use shebao_api::registration::v1 as registration_v1;
use shebao_integration_tests::{Backend, Sandbox, postgres_url};

const PERSON: &str = "11010519491231002X";
const EMPLOYER: &str = "91350100M000100Y43";
const CONCURRENCY: usize = 16;
const PER_TASK: usize = 250;

struct Run {
    histogram: Histogram<u64>,
    elapsed: Duration,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.histogram.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, name: &str) {
        let ms = |q: f64| self.histogram.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{name:<28} {:>7} calls {:>9.0}/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms",
            self.histogram.len(),
            self.throughput(),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            self.histogram.max() as f64 / 1000.0,
        );
    }
}

/// Runs `CONCURRENCY` closed-loop callers of `call`, each `PER_TASK` times.
async fn measure<F, Fut>(call: F) -> Run
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut histogram =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            for _ in 0..PER_TASK {
                let sent = Instant::now();
                call().await.expect("call succeeds");
                histogram.saturating_record(
                    u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX),
                );
            }
            histogram
        }));
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for task in tasks {
        histogram.add(task.await.expect("task")).expect("merge");
    }
    Run {
        histogram,
        elapsed: started.elapsed(),
    }
}

#[tokio::main]
async fn main() {
    let backend = if postgres_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let sandbox = Sandbox::start(backend, |options| options.lookups_per_minute = u32::MAX)
        .await
        .expect("mesh");
    let mut desk = registration_v1::registration_service_client::RegistrationServiceClient::new(
        sandbox.gateway_as(DEMO_OPERATOR),
    );
    desk.register_employer(registration_v1::RegisterEmployerRequest {
        credit_code: EMPLOYER.into(),
        name: "福州闽江软件有限公司".into(),
    })
    .await
    .expect("employer");
    desk.register_person(registration_v1::RegisterPersonRequest {
        citizen_id: PERSON.into(),
        name: "张三".into(),
    })
    .await
    .expect("person");
    desk.record_employment(registration_v1::RecordEmploymentRequest {
        citizen_id: PERSON.into(),
        credit_code: EMPLOYER.into(),
        start_month: 202501,
    })
    .await
    .expect("employment");
    let mut feed = contribution_v1::contribution_service_client::ContributionServiceClient::new(
        sandbox.gateway_as(DEMO_COLLECTION_AGENCY),
    );
    for month in (202501..=202512).chain(202601..=202610) {
        feed.declare_wage(contribution_v1::DeclareWageRequest {
            credit_code: EMPLOYER.into(),
            citizen_id: PERSON.into(),
            month,
            declared_wage_fen: 850_000,
            ..Default::default()
        })
        .await
        .expect("declaration");
    }

    let direct = query_v1::query_service_client::QueryServiceClient::new(
        sandbox.service_as("query", "service/gateway"),
    );
    let gateway = gateway_v1::gateway_service_client::GatewayServiceClient::new(
        sandbox.gateway_as(DEMO_COURT),
    );
    let direct_call = move || {
        let mut client = direct.clone();
        async move {
            client
                .get_person_record(query_v1::GetPersonRecordRequest {
                    citizen_id: PERSON.into(),
                })
                .await
                .map(drop)
        }
    };
    let gateway_call = move || {
        let mut client = gateway.clone();
        async move {
            client
                .lookup_person(gateway_v1::LookupPersonRequest {
                    purpose_code: DEMO_PURPOSE.into(),
                    legal_basis: "Civil Procedure Law art. 253".into(),
                    case_reference: "(2026)闽0102执1号".into(),
                    subject_citizen_id: PERSON.into(),
                })
                .await
                .map(drop)
        }
    };
    // the parts of the baseline: one call to each owner of the record
    let registration = registration_v1::registration_service_client::RegistrationServiceClient::new(
        sandbox.service_as("registration", "service/query"),
    );
    let person_call = move || {
        let mut client = registration.clone();
        async move {
            client
                .get_person(registration_v1::GetPersonRequest {
                    citizen_id: PERSON.into(),
                })
                .await
                .map(drop)
        }
    };
    let contribution = contribution_v1::contribution_service_client::ContributionServiceClient::new(
        sandbox.service_as("contribution", "service/query"),
    );
    let contributions_call = move || {
        let mut client = contribution.clone();
        async move {
            client
                .list_contributions(contribution_v1::ListContributionsRequest {
                    citizen_id: PERSON.into(),
                })
                .await
                .map(drop)
        }
    };
    // warm connections and caches
    measure(direct_call.clone()).await;
    measure(gateway_call.clone()).await;

    println!(
        "lookup of one person (22 months of contributions), {CONCURRENCY} concurrent callers, {:?}, {} cores",
        backend,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    measure(person_call).await.print("  registration GetPerson");
    measure(contributions_call)
        .await
        .print("  contribution ListContrib.");
    let baseline = measure(direct_call).await;
    baseline.print("direct query (baseline)");
    let through = measure(gateway_call).await;
    through.print("gateway LookupPerson");
    println!(
        "gateway / direct: throughput {:.2}x, p50 latency {:.2}x (the gateway adds mTLS authn, grant check, limiter and a durable audit append per lookup)",
        through.throughput() / baseline.throughput(),
        through.histogram.value_at_quantile(0.5) as f64
            / baseline.histogram.value_at_quantile(0.5).max(1) as f64,
    );
    sandbox.mesh.stop().await;
}
