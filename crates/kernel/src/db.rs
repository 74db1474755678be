//! The database connection: a SQLite file (the embedded default) or
//! PostgreSQL, with migrations run at start, and the append-only guard on
//! fact tables (R6.3, R28.4): triggers make the database itself refuse
//! UPDATE and DELETE, so even a stray statement by a DBA fails loudly.

use std::time::Duration;

use sea_orm::TransactionTrait;
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr,
};
use serde::{Deserialize, Serialize};

use crate::error::KernelError;

/// Where a service keeps its data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host:5432/db`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
}

impl DatabaseSettings {
    /// A SQLite file at `path`.
    pub fn sqlite(path: &str) -> Self {
        Self {
            url: format!("sqlite://{path}"),
            max_connections: 8,
        }
    }

    /// Checks the URL scheme and pool size.
    pub fn validate(&self) -> Result<(), KernelError> {
        let known = ["sqlite:", "postgres://", "postgresql://"];
        if !known.iter().any(|scheme| self.url.starts_with(scheme)) {
            return Err(KernelError::Config(format!(
                "database.url must start with sqlite:// or postgres://, got {:?}",
                self.url.split(':').next().unwrap_or_default()
            )));
        }
        if self.max_connections == 0 {
            return Err(KernelError::Config(
                "database.max_connections must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Opens the database, creating a SQLite file and its folder when missing.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, KernelError> {
    settings.validate()?;
    let mut url = settings.url.clone();
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or_default();
        if let Some(parent) = std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                KernelError::Database(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        if !url.contains('?') && !path.starts_with(":memory:") {
            url.push_str("?mode=rwc");
        }
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.max_connections)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    Database::connect(options)
        .await
        .map_err(|e| KernelError::Database(format!("cannot connect: {e}")))
}

/// The statements that make `table` append-only on `backend` (R6.3, R28.4).
pub fn append_only_statements(backend: DbBackend, table: &str) -> Vec<String> {
    match backend {
        DbBackend::Postgres => vec![
            "CREATE OR REPLACE FUNCTION shebao_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION '% is append-only (R6.3, R28.4): % refused; record a correcting fact instead', \
             TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$"
                .to_string(),
            format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION shebao_refuse_change()"
            ),
            format!(
                "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION shebao_refuse_change()"
            ),
        ],
        _ => vec![
            format!(
                "CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} BEGIN \
                 SELECT RAISE(ABORT, '{table} is append-only (R6.3): UPDATE refused; record a correcting fact instead'); END"
            ),
            format!(
                "CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table} BEGIN \
                 SELECT RAISE(ABORT, '{table} is append-only (R28.4): DELETE refused'); END"
            ),
        ],
    }
}

/// Runs `statements` in order on `db`; used by migrations.
pub async fn execute_all<C: ConnectionTrait>(db: &C, statements: &[String]) -> Result<(), DbErr> {
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// True when `error` is a unique-key violation: the storage layer maps it to
/// "already exists".
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A migration written as SQL statements per backend; each service lists
/// its migrations in order and never edits one that has shipped.
#[derive(Debug, Clone, Copy)]
pub struct SqlMigration {
    /// Unique, ordered name, e.g. `m0001_registration`.
    pub name: &'static str,
    /// The statements to run on the given backend.
    pub statements: fn(DbBackend) -> Vec<String>,
}

impl sea_orm_migration::MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for SqlMigration {
    async fn up(&self, manager: &sea_orm_migration::SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        execute_all(db, &(self.statements)(db.get_database_backend())).await
    }
}

/// Applies the pending migrations of `M`. On PostgreSQL the migrations run
/// in one transaction under an advisory lock, so replicas starting together
/// migrate once and never see a half-migrated schema.
pub async fn migrate<M: sea_orm_migration::MigratorTrait>(
    db: &DatabaseConnection,
) -> Result<(), KernelError> {
    let failed = |e: DbErr| KernelError::Database(format!("migration failed: {e}"));
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await.map_err(failed)?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7318246501)")
            .await
            .map_err(failed)?;
        M::up(&txn, None).await.map_err(failed)?;
        txn.commit().await.map_err(failed)
    } else {
        M::up(db, None).await.map_err(failed)
    }
}

/// Connects and migrates: what every service does at start.
pub async fn open<M: sea_orm_migration::MigratorTrait>(
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, KernelError> {
    let db = connect(settings).await?;
    migrate::<M>(&db).await?;
    Ok(db)
}

/// Runs one statement about database `name` (CREATE or DROP) through
/// `admin_url`, on a connection of its own.
async fn administer(admin_url: &str, name: &str, statement: String) -> Result<(), KernelError> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(KernelError::Database(format!(
            "database name {name:?} must be [a-z0-9_]"
        )));
    }
    let admin = Database::connect(admin_url)
        .await
        .map_err(|e| KernelError::Database(format!("cannot connect to {admin_url}: {e}")))?;
    let result = admin
        .execute_unprepared(&statement)
        .await
        .map_err(|e| KernelError::Database(format!("{statement}: {e}")));
    let _ = admin.close().await;
    result.map(drop)
}

/// Creates a new, empty PostgreSQL database `name` through `admin_url`
/// (a URL of an existing database with CREATE DATABASE rights) and returns
/// the URL of the new one. Used to give each test and each service of a
/// test mesh a database of its own.
pub async fn create_postgres_database(admin_url: &str, name: &str) -> Result<String, KernelError> {
    administer(admin_url, name, format!("CREATE DATABASE {name}")).await?;
    let query = admin_url
        .find('?')
        .map(|i| &admin_url[i..])
        .unwrap_or_default();
    let scheme_end = admin_url.find("://").map(|i| i + 3).unwrap_or(0);
    let without_query = &admin_url[..admin_url.len() - query.len()];
    let server = match without_query[scheme_end..].find('/') {
        Some(i) => &without_query[..scheme_end + i],
        None => without_query,
    };
    Ok(format!("{server}/{name}{query}"))
}

/// Drops a PostgreSQL database created by [`create_postgres_database`],
/// closing its remaining connections first; for tests and throw-away meshes.
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), KernelError> {
    administer(
        admin_url,
        name,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

/// Reads an RFC 3339 instant this system stored; one that does not parse
/// is a storage fault, never the caller's.
pub fn stored_instant(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, DbErr> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|e| DbErr::Type(format!("stored instant {raw:?} does not parse: {e}")))
}

/// Re-parses a value this system stored (an ID number, a month) through
/// its domain parser; a value that no longer parses is a storage fault.
pub fn stored<T, E: std::fmt::Display>(value: Result<T, E>) -> Result<T, DbErr> {
    value.map_err(|e| DbErr::Type(format!("stored value does not parse: {e}")))
}
