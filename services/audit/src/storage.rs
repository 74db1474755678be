//! Storage of the audit log: the sea-orm entity over SQLite or PostgreSQL,
//! the migration that creates it append-only (R28.4), and the [`AuditLog`]
//! contract the API layer uses.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use shebao_kernel::db::{SqlMigration, append_only_statements, is_unique_violation};

use crate::domain::{ChainVerifier, Decision, Entry, GENESIS_HASH, Lookup, Verification};
use crate::error::{AuditError, Result};

/// How many times an append is tried when other writers keep taking the
/// next sequence number.
pub const APPEND_ATTEMPTS: u32 = 20;

/// The PostgreSQL advisory lock that queues appends from every replica, so
/// they rarely race at all; the unique sequence is what keeps the chain
/// gap-free when they do.
const APPEND_LOCK: i64 = 0x7368_6562_616f_6175;

/// The tamper-evident log of external lookups (R21.1, R28.3), as a storage
/// contract. Entries are only ever appended (R28.4).
#[async_trait]
pub trait AuditLog: Send + Sync + std::fmt::Debug {
    /// Appends `lookup` as the next entry, recorded at `at` and chained to
    /// the current head, and returns it once the insert is committed, so an
    /// entry that was answered is durable. Never reports a conflict: when
    /// another writer (another replica) takes the next sequence number
    /// first, the append starts again from the new head; after
    /// [`APPEND_ATTEMPTS`] tries it gives up with `Contention` and nothing
    /// is written.
    async fn append(&self, lookup: &Lookup, at: DateTime<Utc>) -> Result<Entry>;

    /// Appends every lookup of `batch`, in order, as consecutive entries in
    /// one transaction (group commit): all are committed, or none is.
    /// Conflicts are retried as for [`AuditLog::append`].
    async fn append_batch(&self, batch: &[(Lookup, DateTime<Utc>)]) -> Result<Vec<Entry>>;

    /// Lists the entries whose subject is exactly `subject`, oldest first;
    /// empty when there are none.
    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>>;

    /// Reads up to `limit` entries with a sequence above `after`, in
    /// sequence order; empty past the end of the log.
    async fn page(&self, after: u64, limit: u64) -> Result<Vec<Entry>>;
}

/// Verifies the whole of `log`, reading `page_size` entries at a time so the
/// log is never held in memory (R28.3).
pub async fn verify_log(log: &dyn AuditLog, page_size: u64) -> Result<Verification> {
    let page_size = page_size.max(1);
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = log.page(after, page_size).await?;
        for entry in &page {
            verifier.check(entry);
        }
        match page.last() {
            Some(last) if page.len() as u64 == page_size => after = last.sequence,
            _ => break,
        }
    }
    Ok(verifier.finish())
}

/// The sea-orm entity of the audit log.
pub mod entity {
    /// Audit entries.
    pub mod audit_entry {
        use sea_orm::entity::prelude::*;

        /// One row of `audit_entries`.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "audit_entries")]
        pub struct Model {
            /// Position in the log, from 1.
            #[sea_orm(primary_key, auto_increment = false)]
            pub sequence: i64,
            /// RFC 3339 instant with microseconds, as hashed.
            pub recorded_at: String,
            /// External principal.
            pub actor: String,
            /// Gateway method.
            pub action: String,
            /// Person looked up.
            pub subject: String,
            /// Stated purpose code.
            pub purpose_code: String,
            /// Stated legal basis.
            pub legal_basis: String,
            /// Stated case reference.
            pub case_reference: String,
            /// `DECISION_ALLOWED` or `DECISION_DENIED`.
            pub decision: String,
            /// Reason or released items.
            pub detail: String,
            /// Hash of the entry before.
            pub previous_hash: String,
            /// Hash of this entry.
            pub entry_hash: String,
        }

        /// No relations are navigated.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entity::audit_entry;

fn m0001_audit(backend: DbBackend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE audit_entries (sequence BIGINT PRIMARY KEY CHECK (sequence > 0), \
         recorded_at VARCHAR(40) NOT NULL, actor VARCHAR(512) NOT NULL, action VARCHAR(512) NOT NULL, \
         subject VARCHAR(512) NOT NULL, purpose_code VARCHAR(512) NOT NULL, \
         legal_basis VARCHAR(512) NOT NULL, case_reference VARCHAR(512) NOT NULL, \
         decision VARCHAR(32) NOT NULL CHECK (decision IN ('DECISION_ALLOWED', 'DECISION_DENIED')), \
         detail VARCHAR(512) NOT NULL, previous_hash VARCHAR(64) NOT NULL, entry_hash VARCHAR(64) NOT NULL)"
            .to_string(),
        // A person lists who looked at their record (R21.1).
        "CREATE INDEX audit_entries_by_subject ON audit_entries (subject, sequence)".to_string(),
    ];
    statements.extend(append_only_statements(backend, "audit_entries"));
    statements
}

/// The migrations of the audit database, in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(SqlMigration {
            name: "m0001_audit",
            statements: m0001_audit,
        })]
    }
}

/// [`AuditLog`] over a sea-orm connection (SQLite or PostgreSQL).
#[derive(Debug, Clone)]
pub struct SqlAuditLog {
    db: DatabaseConnection,
}

impl SqlAuditLog {
    /// A log over `db`, which must be migrated.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// One attempt: read the head and insert the next entries in one
    /// transaction, committed before returning.
    async fn try_append_batch(
        &self,
        batch: &[(Lookup, DateTime<Utc>)],
    ) -> Result<Vec<Entry>, DbErr> {
        let options = TransactionOptions {
            // SQLite: take the write lock at BEGIN, so the head cannot move
            // between reading it and inserting after it.
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self.db.begin_with_options(options).await?;
        match append_in(&txn, batch).await {
            Ok(entries) => {
                txn.commit().await?;
                Ok(entries)
            }
            Err(e) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::debug!(error = %rollback, "rollback after a failed append failed");
                }
                Err(e)
            }
        }
    }
}

async fn append_in(
    txn: &DatabaseTransaction,
    batch: &[(Lookup, DateTime<Utc>)],
) -> Result<Vec<Entry>, DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({APPEND_LOCK})"))
            .await?;
    }
    let head = audit_entry::Entity::find()
        .order_by_desc(audit_entry::Column::Sequence)
        .one(txn)
        .await?;
    let (mut sequence, mut previous_hash) = match head {
        None => (1, GENESIS_HASH.to_string()),
        Some(row) => {
            let next = u64::try_from(row.sequence)
                .ok()
                .and_then(|s| s.checked_add(1))
                .ok_or_else(|| {
                    DbErr::Custom(format!("head sequence {} cannot be followed", row.sequence))
                })?;
            (next, row.entry_hash)
        }
    };
    let mut entries = Vec::with_capacity(batch.len());
    for (lookup, at) in batch {
        let entry = Entry::seal(sequence, *at, lookup.clone(), previous_hash);
        previous_hash = entry.entry_hash.clone();
        sequence = sequence
            .checked_add(1)
            .ok_or_else(|| DbErr::Custom("the log is full".into()))?;
        entries.push(entry);
    }
    if !entries.is_empty() {
        let rows = entries
            .iter()
            .map(row_of)
            .collect::<Result<Vec<_>, DbErr>>()?;
        audit_entry::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(entries)
}

fn row_of(entry: &Entry) -> Result<audit_entry::ActiveModel, DbErr> {
    let l = &entry.lookup;
    Ok(audit_entry::ActiveModel {
        sequence: Set(i64::try_from(entry.sequence)
            .map_err(|_| DbErr::Custom(format!("sequence {} is out of range", entry.sequence)))?),
        recorded_at: Set(entry.recorded_at.clone()),
        actor: Set(l.actor.clone()),
        action: Set(l.action.clone()),
        subject: Set(l.subject.clone()),
        purpose_code: Set(l.purpose_code.clone()),
        legal_basis: Set(l.legal_basis.clone()),
        case_reference: Set(l.case_reference.clone()),
        decision: Set(l.decision.as_str().to_string()),
        detail: Set(l.detail.clone()),
        previous_hash: Set(entry.previous_hash.clone()),
        entry_hash: Set(entry.entry_hash.clone()),
    })
}

fn entry_of(row: audit_entry::Model) -> Result<Entry> {
    let stored = row.sequence;
    let malformed =
        |what: &str| AuditError::Storage(DbErr::Type(format!("audit entry {stored}: {what}")));
    let sequence = u64::try_from(row.sequence).map_err(|_| malformed("sequence is negative"))?;
    let decision = Decision::from_name(&row.decision)
        .ok_or_else(|| malformed("decision is not a known decision"))?;
    Ok(Entry {
        sequence,
        recorded_at: row.recorded_at,
        lookup: Lookup {
            actor: row.actor,
            action: row.action,
            subject: row.subject,
            purpose_code: row.purpose_code,
            legal_basis: row.legal_basis,
            case_reference: row.case_reference,
            decision,
            detail: row.detail,
        },
        previous_hash: row.previous_hash,
        entry_hash: row.entry_hash,
    })
}

#[async_trait]
impl AuditLog for SqlAuditLog {
    #[tracing::instrument(skip_all)]
    async fn append(&self, lookup: &Lookup, at: DateTime<Utc>) -> Result<Entry> {
        let mut entries = self.append_batch(&[(lookup.clone(), at)]).await?;
        entries
            .pop()
            .ok_or_else(|| AuditError::Storage(DbErr::Custom("an append wrote no entry".into())))
    }

    #[tracing::instrument(skip_all, fields(entries = batch.len()))]
    async fn append_batch(&self, batch: &[(Lookup, DateTime<Utc>)]) -> Result<Vec<Entry>> {
        for attempt in 1..=APPEND_ATTEMPTS {
            match self.try_append_batch(batch).await {
                Ok(entries) => return Ok(entries),
                Err(e) if is_unique_violation(&e) => {
                    // Another writer took this sequence number; start again from the new head.
                    tracing::debug!(attempt, "sequence taken by another writer, retrying");
                    let pause = rand::random_range(1..=5) * u64::from(attempt);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                Err(e) => return Err(AuditError::Storage(e)),
            }
        }
        Err(AuditError::Contention {
            attempts: APPEND_ATTEMPTS,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>> {
        audit_entry::Entity::find()
            .filter(audit_entry::Column::Subject.eq(subject))
            .order_by_asc(audit_entry::Column::Sequence)
            .all(&self.db)
            .await
            .map_err(AuditError::Storage)?
            .into_iter()
            .map(entry_of)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(after = after, limit = limit))]
    async fn page(&self, after: u64, limit: u64) -> Result<Vec<Entry>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        audit_entry::Entity::find()
            .filter(audit_entry::Column::Sequence.gt(after))
            .order_by_asc(audit_entry::Column::Sequence)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(AuditError::Storage)?
            .into_iter()
            .map(entry_of)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    //! One suite, every backend (STYLE 18): each test body takes a migrated
    //! connection and runs on a SQLite file, and on a fresh PostgreSQL
    //! database when `SHEBAO_TEST_POSTGRES_URL` names an admin connection.

    use std::sync::Arc;

    use chrono::TimeZone;

    use super::*;

    use shebao_kernel::testing::TestDatabase as TestDb;

    macro_rules! storage_suite {
        ($($test:ident),* $(,)?) => {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() {
                        let db = super::TestDb::sqlite::<super::Migrator>().await;
                        super::$test(db.db.clone()).await;
                        db.finish().await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() {
                        let Some(db) = super::TestDb::postgres::<super::Migrator>().await else { return };
                        super::$test(db.db.clone()).await;
                        db.finish().await;
                    }
                )*
            }
        };
    }

    storage_suite!(
        appended_entries_form_a_chain_that_verifies,
        an_empty_log_verifies_with_the_genesis_head,
        entries_about_a_subject_are_listed_oldest_first,
        the_database_refuses_to_change_or_remove_an_entry,
        a_tampered_entry_is_detected_even_with_the_guard_removed,
        a_taken_sequence_number_is_recognised_as_a_race_to_retry,
        concurrent_appends_produce_a_gap_free_intact_chain,
    );

    fn lookup(subject: &str, detail: &str) -> Lookup {
        Lookup {
            actor: "org/court-demo".into(),
            action: "/shebao.gateway.v1.GatewayService/LookupPerson".into(),
            subject: subject.into(),
            purpose_code: "litigation".into(),
            legal_basis: "civil procedure law art. 67".into(),
            case_reference: "(2025) 京0105民初123号".into(),
            decision: Decision::Allowed,
            detail: detail.into(),
        }
    }

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, second)
            .single()
            .expect("valid instant")
            + chrono::Duration::nanoseconds(123_456_789)
    }

    async fn appended_entries_form_a_chain_that_verifies(db: DatabaseConnection) {
        // R28.3
        let log = SqlAuditLog::new(db);
        let mut appended = Vec::new();
        for n in 0..5 {
            appended.push(
                log.append(&lookup("subject-a", &format!("item {n}")), at(n))
                    .await
                    .expect("append"),
            );
        }
        let sequences: Vec<u64> = appended.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, [1, 2, 3, 4, 5]);
        assert_eq!(appended[0].previous_hash, GENESIS_HASH);
        assert_eq!(appended[0].recorded_at, "2025-03-01T08:00:00.123456Z");
        for pair in appended.windows(2) {
            assert_eq!(pair[1].previous_hash, pair[0].entry_hash);
        }
        assert_eq!(
            log.page(0, 100).await.expect("page"),
            appended,
            "entries read back as written"
        );
        assert_eq!(log.page(3, 1).await.expect("page"), appended[3..4]);
        let outcome = verify_log(&log, 2).await.expect("verify");
        assert!(outcome.intact(), "{outcome:?}");
        assert_eq!(outcome.entries_checked, 5);
        assert_eq!(outcome.head_hash, appended[4].entry_hash);
    }

    async fn an_empty_log_verifies_with_the_genesis_head(db: DatabaseConnection) {
        let outcome = verify_log(&SqlAuditLog::new(db), 1000)
            .await
            .expect("verify");
        assert!(outcome.intact());
        assert_eq!(outcome.entries_checked, 0);
        assert_eq!(outcome.head_hash, GENESIS_HASH);
    }

    async fn entries_about_a_subject_are_listed_oldest_first(db: DatabaseConnection) {
        // R21.1: a person can see who looked at their record
        let log = SqlAuditLog::new(db);
        for (n, subject) in ["a", "b", "a", "c", "a"].into_iter().enumerate() {
            log.append(&lookup(subject, &n.to_string()), at(0))
                .await
                .expect("append");
        }
        let listed = log.by_subject("a").await.expect("list");
        let sequences: Vec<u64> = listed.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, [1, 3, 5]);
        assert!(listed.iter().all(|e| e.lookup.subject == "a"));
        assert!(log.by_subject("nobody").await.expect("list").is_empty());
    }

    async fn the_database_refuses_to_change_or_remove_an_entry(db: DatabaseConnection) {
        // R28.4: nothing is deleted, not even by a stray statement
        let log = SqlAuditLog::new(db.clone());
        log.append(&lookup("a", "x"), at(0)).await.expect("append");
        let update = db
            .execute_unprepared(
                "UPDATE audit_entries SET detail = 'nothing to see' WHERE sequence = 1",
            )
            .await;
        assert!(update.is_err(), "UPDATE must fail");
        let delete = db.execute_unprepared("DELETE FROM audit_entries").await;
        assert!(delete.is_err(), "DELETE must fail");
        if db.get_database_backend() == DbBackend::Postgres {
            assert!(
                db.execute_unprepared("TRUNCATE audit_entries")
                    .await
                    .is_err(),
                "TRUNCATE must fail"
            );
        }
        let left = log.page(0, 10).await.expect("page");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].lookup.detail, "x");
    }

    async fn a_tampered_entry_is_detected_even_with_the_guard_removed(db: DatabaseConnection) {
        // R28.3: a DBA who drops the guard and edits a row is still caught
        let log = SqlAuditLog::new(db.clone());
        for n in 0..4 {
            log.append(&lookup("a", &n.to_string()), at(n))
                .await
                .expect("append");
        }
        let drop_guard = match db.get_database_backend() {
            DbBackend::Postgres => "DROP TRIGGER audit_entries_append_only ON audit_entries",
            _ => "DROP TRIGGER audit_entries_append_only_update",
        };
        db.execute_unprepared(drop_guard)
            .await
            .expect("drop the guard");
        db.execute_unprepared(
            "UPDATE audit_entries SET subject = 'someone else' WHERE sequence = 2",
        )
        .await
        .expect("tamper");
        let outcome = verify_log(&log, 3).await.expect("verify");
        let broken = outcome.first_break.expect("the tampering is detected");
        assert_eq!(broken.sequence, 2);
        assert_eq!(outcome.entries_checked, 4);
    }

    async fn a_taken_sequence_number_is_recognised_as_a_race_to_retry(db: DatabaseConnection) {
        // The retry in `append` hinges on this classification.
        let log = SqlAuditLog::new(db.clone());
        let first = log.append(&lookup("a", "x"), at(0)).await.expect("append");
        let rival = Entry::seal(1, at(1), lookup("b", "y"), GENESIS_HASH.to_string());
        let error = audit_entry::Entity::insert(row_of(&rival).expect("row"))
            .exec_without_returning(&db)
            .await
            .expect_err("sequence 1 is taken");
        assert!(is_unique_violation(&error), "{error}");
        assert_eq!(log.page(0, 10).await.expect("page"), [first]);
    }

    async fn concurrent_appends_produce_a_gap_free_intact_chain(db: DatabaseConnection) {
        // R21.1, R28.3: replicas appending at once never fork or skip
        let log = Arc::new(SqlAuditLog::new(db));
        let tasks: Vec<_> = (0..50u32)
            .map(|n| {
                let log = Arc::clone(&log);
                tokio::spawn(
                    async move { log.append(&lookup("a", &n.to_string()), at(n % 60)).await },
                )
            })
            .collect();
        let mut sequences = Vec::new();
        for task in tasks {
            sequences.push(task.await.expect("join").expect("append").sequence);
        }
        sequences.sort_unstable();
        assert_eq!(sequences, (1..=50).collect::<Vec<u64>>());
        let outcome = verify_log(log.as_ref(), 7).await.expect("verify");
        assert!(outcome.intact(), "{outcome:?}");
        assert_eq!(outcome.entries_checked, 50);
        let mut details: Vec<String> = log
            .page(0, 100)
            .await
            .expect("page")
            .into_iter()
            .map(|e| e.lookup.detail)
            .collect();
        details.sort_by_key(|d| d.parse::<u32>().unwrap_or(u32::MAX));
        assert_eq!(
            details,
            (0..50u32).map(|n| n.to_string()).collect::<Vec<_>>()
        );
    }
}
