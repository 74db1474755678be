//! Group commit: appends that arrive while the log is writing wait for the
//! next transaction together, so that one durable commit serves many
//! lookups. The chain stays one line (each entry links the one before it)
//! and every caller still gets its answer only after its entry is
//! committed (R21.1). Across replicas the database lock of
//! [`crate::storage::SqlAuditLog`] still orders the batches.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{Entry, Lookup};
use crate::error::{AuditError, Result};
use crate::storage::AuditLog;

/// Most appends written in one transaction.
pub const MAX_BATCH: usize = 256;

type Waiter = oneshot::Sender<Result<Entry>>;

/// An [`AuditLog`] that batches concurrent appends into one transaction of
/// the log behind it; reads go straight through.
#[derive(Debug, Clone)]
pub struct GroupCommitLog {
    inner: Arc<dyn AuditLog>,
    queue: mpsc::Sender<(Lookup, DateTime<Utc>, Waiter)>,
}

impl GroupCommitLog {
    /// Starts the writer task over `inner`; it ends when the last handle is
    /// dropped. Must be called inside a Tokio runtime.
    pub fn spawn(inner: Arc<dyn AuditLog>) -> Self {
        let (queue, pending) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(Arc::clone(&inner), pending));
        Self { inner, queue }
    }
}

fn unavailable() -> AuditError {
    AuditError::Storage(DbErr::Custom("the audit writer has stopped".into()))
}

/// The error of a failed batch, once for each waiter of it.
fn for_each_waiter(error: &AuditError) -> AuditError {
    match error {
        AuditError::Contention { attempts } => AuditError::Contention {
            attempts: *attempts,
        },
        other => AuditError::Storage(DbErr::Custom(format!("group commit failed: {other}"))),
    }
}

async fn write_batches(
    log: Arc<dyn AuditLog>,
    mut pending: mpsc::Receiver<(Lookup, DateTime<Utc>, Waiter)>,
) {
    while let Some(first) = pending.recv().await {
        let mut waiters = vec![first.2];
        let mut batch = vec![(first.0, first.1)];
        while batch.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok((lookup, at, waiter)) => {
                    batch.push((lookup, at));
                    waiters.push(waiter);
                }
                Err(_) => break,
            }
        }
        match log.append_batch(&batch).await {
            Ok(entries) if entries.len() == waiters.len() => {
                for (waiter, entry) in waiters.into_iter().zip(entries) {
                    // a caller that gave up still has its entry written
                    let _ = waiter.send(Ok(entry));
                }
            }
            Ok(entries) => {
                let error = DbErr::Custom(format!(
                    "{} entries written for {} appends",
                    entries.len(),
                    waiters.len()
                ));
                tracing::error!(%error, "audit batch mismatch");
                for waiter in waiters {
                    let _ = waiter.send(Err(AuditError::Storage(DbErr::Custom(error.to_string()))));
                }
            }
            Err(error) => {
                tracing::warn!(%error, entries = batch.len(), "audit batch not written");
                for waiter in waiters {
                    let _ = waiter.send(Err(for_each_waiter(&error)));
                }
            }
        }
    }
}

#[async_trait]
impl AuditLog for GroupCommitLog {
    async fn append(&self, lookup: &Lookup, at: DateTime<Utc>) -> Result<Entry> {
        let (waiter, answer) = oneshot::channel();
        self.queue
            .send((lookup.clone(), at, waiter))
            .await
            .map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }

    async fn append_batch(&self, batch: &[(Lookup, DateTime<Utc>)]) -> Result<Vec<Entry>> {
        self.inner.append_batch(batch).await
    }

    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>> {
        self.inner.by_subject(subject).await
    }

    async fn page(&self, after: u64, limit: u64) -> Result<Vec<Entry>> {
        self.inner.page(after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use shebao_kernel::testing::TestDatabase;

    use super::*;
    use crate::domain::Decision;
    use crate::storage::{Migrator, SqlAuditLog, verify_log};

    fn lookup(i: usize) -> Lookup {
        Lookup {
            actor: "org/court-demo".into(),
            action: "/shebao.gateway.v1.GatewayService/LookupPerson".into(),
            subject: format!("subject-{i}"),
            purpose_code: "judicial-enforcement".into(),
            legal_basis: "Civil Procedure Law art. 253".into(),
            case_reference: format!("case-{i}"),
            decision: Decision::Allowed,
            detail: "released: registration".into(),
        }
    }

    async fn concurrent_appends_share_commits_and_keep_one_chain(t: &TestDatabase) {
        // R21.1, R28.3: every caller's entry is committed and chained
        let log = GroupCommitLog::spawn(Arc::new(SqlAuditLog::new(t.db.clone())));
        let at = Utc
            .with_ymd_and_hms(2026, 12, 4, 8, 0, 0)
            .single()
            .expect("instant");
        let mut tasks = Vec::new();
        for i in 0..200 {
            let log = log.clone();
            tasks.push(tokio::spawn(
                async move { log.append(&lookup(i), at).await },
            ));
        }
        let mut sequences = Vec::new();
        for task in tasks {
            let entry = task.await.expect("task").expect("appended");
            sequences.push(entry.sequence);
        }
        sequences.sort_unstable();
        assert_eq!(sequences, (1..=200).collect::<Vec<u64>>());
        let verified = verify_log(&log, 64).await.expect("verify");
        assert_eq!(verified.entries_checked, 200);
        assert!(verified.first_break.is_none(), "{verified:?}");
        let mine = log.by_subject("subject-7").await.expect("by subject");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].lookup.case_reference, "case-7");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_commits_on_sqlite() {
        let t = TestDatabase::sqlite::<Migrator>().await;
        concurrent_appends_share_commits_and_keep_one_chain(&t).await;
        t.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_commits_on_postgres() {
        let Some(t) = TestDatabase::postgres::<Migrator>().await else {
            return;
        };
        concurrent_appends_share_commits_and_keep_one_chain(&t).await;
        t.finish().await;
    }
}
