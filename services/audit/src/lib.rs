//! The audit service keeps the tamper-evident log of every external lookup
//! (R21.1): each entry carries the hash of the one before it (R28.3), and
//! the database refuses to change or remove an entry (R28.4). Only the
//! gateway writes and reads it.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod group_commit;
pub mod storage;

use std::sync::Arc;

use shebao_api::audit::v1 as audit_v1;
use shebao_kernel::server::{GrpcServer, MAX_REQUEST_BYTES};
use shebao_kernel::{Clock, KernelError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

pub use config::AuditSettings;

/// The name of this service in certificates and metrics.
pub const SERVICE: &str = "audit";

/// Builds the audit server: opens the database, runs migrations, starts
/// the group-commit writer and binds `listener` (or the configured address
/// when `None`).
pub async fn build(
    settings: &AuditSettings,
    listener: Option<TcpListener>,
    clock: Arc<dyn Clock>,
) -> Result<GrpcServer, KernelError> {
    let db = shebao_kernel::db::open::<storage::Migrator>(&settings.database).await?;
    // one durable commit serves every append that queued meanwhile
    let log = Arc::new(group_commit::GroupCommitLog::spawn(Arc::new(
        storage::SqlAuditLog::new(db),
    )));
    let service = api::AuditApi::new(log, clock);
    let server = audit_v1::audit_service_server::AuditServiceServer::new(service)
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    let names = vec![
        <audit_v1::audit_service_server::AuditServiceServer<api::AuditApi> as NamedService>::NAME,
    ];
    GrpcServer::bind(
        SERVICE,
        listener,
        &settings.server,
        Routes::new(server),
        names,
    )
    .await
}

#[cfg(test)]
mod tests {
    //! The service end to end over mTLS, with certificates from a
    //! development CA in a temporary folder.

    use std::net::{Ipv4Addr, SocketAddr};

    use chrono::TimeZone;
    use shebao_kernel::clock::FixedClock;
    use shebao_kernel::db::DatabaseSettings;
    use shebao_kernel::dev_pki::DevPki;
    use shebao_kernel::server::ServerSettings;
    use shebao_kernel::telemetry::TelemetrySettings;
    use shebao_kernel::{Principal, client, tls};
    use tonic::Code;
    use tonic::transport::Channel;
    use tonic_types::StatusExt;

    use super::*;
    use audit_v1::audit_service_client::AuditServiceClient;

    struct Running {
        pki: DevPki,
        addr: SocketAddr,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        _dir: tempfile::TempDir,
    }

    impl Running {
        async fn start() -> Self {
            tls::install_crypto_provider();
            let dir = tempfile::tempdir().expect("tempdir");
            let pki = DevPki::open_or_create(&dir.path().join("pki")).expect("pki");
            let settings = AuditSettings {
                server: ServerSettings {
                    listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    tls: pki
                        .identity(&Principal::service(SERVICE))
                        .expect("identity"),
                    telemetry: TelemetrySettings::default(),
                },
                database: DatabaseSettings::sqlite(
                    &dir.path().join("audit.db").display().to_string(),
                ),
            };
            let listener = shebao_kernel::server::bind(settings.server.listen)
                .await
                .expect("bind");
            let at = chrono::Utc
                .with_ymd_and_hms(2025, 3, 1, 8, 0, 0)
                .single()
                .expect("instant");
            let server = build(&settings, Some(listener), Arc::new(FixedClock(at)))
                .await
                .expect("build");
            let addr = server.local_addr().expect("addr");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(server.run_until(async move {
                let _ = stopped.await;
            }));
            Self {
                pki,
                addr,
                stop: Some(stop),
                _dir: dir,
            }
        }

        fn client_as(&self, service: &str) -> AuditServiceClient<Channel> {
            let tls = self
                .pki
                .identity(&Principal::service(service))
                .expect("identity");
            let url = format!("https://localhost:{}", self.addr.port());
            AuditServiceClient::new(client::channel(&url, &tls).expect("channel"))
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
        }
    }

    fn request(subject: &str, decision: audit_v1::Decision) -> audit_v1::AppendEntryRequest {
        audit_v1::AppendEntryRequest {
            actor: "org/court-demo".into(),
            action: "/shebao.gateway.v1.GatewayService/LookupPerson".into(),
            subject: subject.into(),
            purpose_code: "litigation".into(),
            legal_basis: "civil procedure law art. 67".into(),
            case_reference: "(2025) 京0105民初123号".into(),
            decision: decision.into(),
            detail: "contribution_history".into(),
        }
    }

    #[tokio::test]
    async fn the_gateway_appends_lists_and_verifies_over_mtls() {
        // R21.1, R28.3
        let running = Running::start().await;
        let mut gateway = running.client_as("gateway");
        let mut entries = Vec::new();
        for (subject, decision) in [
            ("11010519491231002X", audit_v1::Decision::Allowed),
            ("110105194912310021", audit_v1::Decision::Denied),
            ("11010519491231002X", audit_v1::Decision::Allowed),
        ] {
            let response = gateway
                .append_entry(request(subject, decision))
                .await
                .expect("append");
            entries.push(response.into_inner().entry.expect("entry"));
        }
        assert_eq!(
            entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(entries[0].previous_hash, domain::GENESIS_HASH);
        assert_eq!(entries[1].previous_hash, entries[0].entry_hash);
        assert_eq!(
            entries[0].recorded_at.map(|t| t.seconds),
            Some(1_740_816_000)
        );

        let listed = gateway
            .list_entries_by_subject(audit_v1::ListEntriesBySubjectRequest {
                subject: "11010519491231002X".into(),
            })
            .await
            .expect("list")
            .into_inner()
            .entries;
        assert_eq!(listed, vec![entries[0].clone(), entries[2].clone()]);

        let verified = gateway
            .verify_chain(audit_v1::VerifyChainRequest {})
            .await
            .expect("verify")
            .into_inner();
        assert!(verified.intact);
        assert_eq!(verified.entries_checked, 3);
        assert_eq!(verified.first_broken_sequence, 0);
        assert!(verified.reason.is_empty());
        assert_eq!(verified.head_hash, entries[2].entry_hash);
    }

    #[tokio::test]
    async fn a_request_with_an_unspecified_decision_is_refused_naming_the_field() {
        let running = Running::start().await;
        let mut gateway = running.client_as("gateway");
        let status = gateway
            .append_entry(request("x", audit_v1::Decision::Unspecified))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violation = &details.bad_request().expect("bad request").field_violations[0];
        assert_eq!(violation.field, "decision");
        let status = gateway
            .list_entries_by_subject(audit_v1::ListEntriesBySubjectRequest::default())
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
    }

    #[tokio::test]
    async fn services_other_than_the_gateway_are_refused() {
        // R21.1: only the gateway, which authorises and audits, reaches the log
        let running = Running::start().await;
        let mut query = running.client_as("query");
        let status = query
            .append_entry(request("x", audit_v1::Decision::Allowed))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied);
        let status = query
            .verify_chain(audit_v1::VerifyChainRequest {})
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied);
    }
}
