//! Test support shared by every service's storage suite (STYLE 18): a
//! fresh, migrated database per test, on SQLite always and on PostgreSQL
//! when `SHEBAO_TEST_POSTGRES_URL` names an admin URL (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`). Enabled by the
//! `testing` feature; never part of a service binary.

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use crate::db::{DatabaseSettings, create_postgres_database, drop_postgres_database, open};

/// The environment variable naming the PostgreSQL admin URL for tests.
pub const POSTGRES_URL_VAR: &str = "SHEBAO_TEST_POSTGRES_URL";

/// The PostgreSQL admin URL of the test environment, if set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// A migrated database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// The connection to it.
    pub db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A SQLite file in a temporary folder, migrated by `M`.
    pub async fn sqlite<M: MigratorTrait>() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("test.db");
        let settings = DatabaseSettings::sqlite(&path.to_string_lossy());
        let db = open::<M>(&settings).await.expect("open sqlite");
        Self {
            db,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new PostgreSQL database migrated by `M`; `None`, with a note on
    /// stderr, when no PostgreSQL is configured for tests.
    pub async fn postgres<M: MigratorTrait>() -> Option<Self> {
        let Some(admin_url) = postgres_url() else {
            eprintln!("{POSTGRES_URL_VAR} is not set: this test runs on SQLite only here");
            return None;
        };
        let name = format!("shebao_test_{:016x}", rand::random::<u64>());
        let url = create_postgres_database(&admin_url, &name)
            .await
            .expect("create test database");
        let settings = DatabaseSettings {
            url,
            max_connections: 8,
        };
        let db = open::<M>(&settings).await.expect("open postgres");
        Some(Self {
            db,
            _dir: None,
            postgres: Some((admin_url, name)),
        })
    }

    /// Closes the connection and removes the database.
    pub async fn finish(self) {
        let _ = self.db.close().await;
        if let Some((admin_url, name)) = self.postgres {
            drop_postgres_database(&admin_url, &name)
                .await
                .expect("drop test database");
        }
    }
}
