//! Storage of registration facts: sea-orm entities over SQLite or
//! PostgreSQL, the migrations that create them append-only (R6.3, R28.4),
//! and the [`RegistrationStore`] contract the API layer uses.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use shebao_kernel::db::{SqlMigration, append_only_statements, is_unique_violation};
use shebao_rules::{CitizenId, CreditCode, Month};

use crate::domain::{Employer, Employment, Person};
use crate::error::{RegistrationError, Result};

/// The registration facts, as a storage contract.
#[async_trait]
pub trait RegistrationStore: Send + Sync + std::fmt::Debug {
    /// Inserts a person; `AlreadyExists` when the ID number is registered.
    async fn insert_person(&self, person: &Person) -> Result<()>;
    /// Reads a person; `None` when not registered.
    async fn person(&self, citizen_id: &CitizenId) -> Result<Option<Person>>;
    /// Inserts an employer; `AlreadyExists` when the code is registered.
    async fn insert_employer(&self, employer: &Employer) -> Result<()>;
    /// Reads an employer; `None` when not registered.
    async fn employer(&self, credit_code: &CreditCode) -> Result<Option<Employer>>;
    /// Inserts an employment; `AlreadyExists` for the same person, employer
    /// and start month. The caller checks that both parties exist.
    async fn insert_employment(&self, employment: &Employment) -> Result<()>;
    /// Lists a person's employments by start month; empty when none.
    async fn employments(&self, citizen_id: &CitizenId) -> Result<Vec<Employment>>;
}

/// The sea-orm entities of registration.
pub mod entity {
    /// Registered persons.
    pub mod person {
        use sea_orm::entity::prelude::*;

        /// One row of `persons`.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "persons")]
        pub struct Model {
            /// Normalised citizen ID number.
            #[sea_orm(primary_key, auto_increment = false)]
            pub citizen_id: String,
            /// Name.
            pub name: String,
            /// RFC 3339 instant.
            pub registered_at: String,
            /// Principal.
            pub registered_by: String,
        }

        /// No relations are navigated.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    /// Registered employers.
    pub mod employer {
        use sea_orm::entity::prelude::*;

        /// One row of `employers`.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "employers")]
        pub struct Model {
            /// Unified social credit code.
            #[sea_orm(primary_key, auto_increment = false)]
            pub credit_code: String,
            /// Name.
            pub name: String,
            /// RFC 3339 instant.
            pub registered_at: String,
            /// Principal.
            pub registered_by: String,
        }

        /// No relations are navigated.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    /// Employments.
    pub mod employment {
        use sea_orm::entity::prelude::*;

        /// One row of `employments`.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "employments")]
        pub struct Model {
            /// Person.
            #[sea_orm(primary_key, auto_increment = false)]
            pub citizen_id: String,
            /// Employer.
            #[sea_orm(primary_key, auto_increment = false)]
            pub credit_code: String,
            /// YYYYMM.
            #[sea_orm(primary_key, auto_increment = false)]
            pub start_month: i32,
            /// RFC 3339 instant.
            pub recorded_at: String,
            /// Principal.
            pub recorded_by: String,
        }

        /// No relations are navigated.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entity::{employer, employment, person};

fn m0001_registration(backend: DbBackend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE persons (citizen_id VARCHAR(18) PRIMARY KEY, name VARCHAR(256) NOT NULL, \
         registered_at VARCHAR(40) NOT NULL, registered_by VARCHAR(160) NOT NULL)"
            .to_string(),
        "CREATE TABLE employers (credit_code VARCHAR(18) PRIMARY KEY, name VARCHAR(512) NOT NULL, \
         registered_at VARCHAR(40) NOT NULL, registered_by VARCHAR(160) NOT NULL)"
            .to_string(),
        "CREATE TABLE employments (citizen_id VARCHAR(18) NOT NULL REFERENCES persons (citizen_id), \
         credit_code VARCHAR(18) NOT NULL REFERENCES employers (credit_code), start_month INTEGER NOT NULL, \
         recorded_at VARCHAR(40) NOT NULL, recorded_by VARCHAR(160) NOT NULL, \
         PRIMARY KEY (citizen_id, credit_code, start_month))"
            .to_string(),
    ];
    for table in ["persons", "employers", "employments"] {
        statements.extend(append_only_statements(backend, table));
    }
    statements
}

/// The migrations of the registration database, in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(SqlMigration {
            name: "m0001_registration",
            statements: m0001_registration,
        })]
    }
}

/// [`RegistrationStore`] over a sea-orm connection (SQLite or PostgreSQL).
#[derive(Debug, Clone)]
pub struct SqlRegistrationStore {
    db: DatabaseConnection,
}

impl SqlRegistrationStore {
    /// A store over `db`, which must be migrated.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn insert_error(what: String) -> impl FnOnce(DbErr) -> RegistrationError {
    move |e| {
        if is_unique_violation(&e) {
            RegistrationError::AlreadyExists(what)
        } else {
            RegistrationError::Storage(e)
        }
    }
}

fn instant(raw: &str) -> Result<DateTime<Utc>> {
    shebao_kernel::db::stored_instant(raw).map_err(RegistrationError::Storage)
}

fn stored<T, E: std::fmt::Display>(value: std::result::Result<T, E>) -> Result<T> {
    shebao_kernel::db::stored(value).map_err(RegistrationError::Storage)
}

fn employment_from_row(row: employment::Model) -> Result<Employment> {
    Ok(Employment {
        citizen_id: stored(CitizenId::parse(&row.citizen_id))?,
        credit_code: stored(CreditCode::parse(&row.credit_code))?,
        start_month: stored(Month::from_yyyymm(
            u32::try_from(row.start_month).unwrap_or(0),
        ))?,
        recorded_at: instant(&row.recorded_at)?,
        recorded_by: row.recorded_by,
    })
}

#[async_trait]
impl RegistrationStore for SqlRegistrationStore {
    #[tracing::instrument(skip_all)]
    async fn insert_person(&self, p: &Person) -> Result<()> {
        let row = person::ActiveModel {
            citizen_id: Set(p.citizen_id.as_str().to_string()),
            name: Set(p.name.clone()),
            registered_at: Set(p.registered_at.to_rfc3339()),
            registered_by: Set(p.registered_by.clone()),
        };
        person::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(insert_error(format!("person {}", p.citizen_id.as_str())))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn person(&self, citizen_id: &CitizenId) -> Result<Option<Person>> {
        let row = person::Entity::find_by_id(citizen_id.as_str().to_string())
            .one(&self.db)
            .await
            .map_err(RegistrationError::Storage)?;
        row.map(|row| {
            Ok(Person {
                citizen_id: stored(CitizenId::parse(&row.citizen_id))?,
                name: row.name,
                registered_at: instant(&row.registered_at)?,
                registered_by: row.registered_by,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn insert_employer(&self, e: &Employer) -> Result<()> {
        let row = employer::ActiveModel {
            credit_code: Set(e.credit_code.as_str().to_string()),
            name: Set(e.name.clone()),
            registered_at: Set(e.registered_at.to_rfc3339()),
            registered_by: Set(e.registered_by.clone()),
        };
        employer::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(insert_error(format!("employer {}", e.credit_code.as_str())))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn employer(&self, credit_code: &CreditCode) -> Result<Option<Employer>> {
        let row = employer::Entity::find_by_id(credit_code.as_str().to_string())
            .one(&self.db)
            .await
            .map_err(RegistrationError::Storage)?;
        row.map(|row| {
            Ok(Employer {
                credit_code: stored(CreditCode::parse(&row.credit_code))?,
                name: row.name,
                registered_at: instant(&row.registered_at)?,
                registered_by: row.registered_by,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn insert_employment(&self, e: &Employment) -> Result<()> {
        let row = employment::ActiveModel {
            citizen_id: Set(e.citizen_id.as_str().to_string()),
            credit_code: Set(e.credit_code.as_str().to_string()),
            start_month: Set(i32::try_from(e.start_month.yyyymm()).unwrap_or(i32::MAX)),
            recorded_at: Set(e.recorded_at.to_rfc3339()),
            recorded_by: Set(e.recorded_by.clone()),
        };
        employment::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(insert_error(format!(
                "employment of {} at {} from {}",
                e.citizen_id.as_str(),
                e.credit_code.as_str(),
                e.start_month
            )))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn employments(&self, citizen_id: &CitizenId) -> Result<Vec<Employment>> {
        employment::Entity::find()
            .filter(employment::Column::CitizenId.eq(citizen_id.as_str()))
            .order_by_asc(employment::Column::StartMonth)
            .order_by_asc(employment::Column::CreditCode)
            .all(&self.db)
            .await
            .map_err(RegistrationError::Storage)?
            .into_iter()
            .map(employment_from_row)
            .collect()
    }
}
