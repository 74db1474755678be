//! Storage of contribution facts: sea-orm entities over SQLite or
//! PostgreSQL, the migrations that create them append-only (R6.3, R28.4),
//! and the [`ContributionStore`] contract the API layer uses.
//!
//! A contribution is stored with the values its rules computed and the id
//! of each rule (R6.4), so that what was assessed can always be shown and
//! traced; nothing here computes an amount.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use shebao_kernel::db::{SqlMigration, append_only_statements, is_unique_violation};
use shebao_rules::{Assessment, AssessmentLine, CitizenId, CreditCode, Fen, InsuranceType, Month};

use crate::domain::Contribution;
use crate::error::{ContributionError, Result};

/// The contribution facts, as a storage contract.
#[async_trait]
pub trait ContributionStore: Send + Sync + std::fmt::Debug {
    /// Inserts a contribution with all its lines, atomically: either the
    /// contribution and every line are stored or nothing is.
    /// `AlreadyExists` when a contribution of the same person, employer and
    /// month is stored. The caller has computed the lines by the rules.
    async fn insert(&self, contribution: &Contribution) -> Result<()>;
    /// Lists a person's contributions with their lines, oldest month first
    /// (then by employer code); empty when there are none.
    async fn contributions_of(&self, citizen_id: &CitizenId) -> Result<Vec<Contribution>>;
    /// Reads a person's pension individual-account credits, one per
    /// contribution with a pension line, oldest month first; empty when
    /// none. Credits of several employers in one month stay separate
    /// entries: the rule book's ledger adds them up (R2.4, R6.4).
    async fn pension_credits_of(&self, citizen_id: &CitizenId) -> Result<Vec<(Month, Fen)>>;
}

/// The sea-orm entities of contribution.
pub mod entity {
    /// Declared and assessed monthly contributions.
    pub mod contribution {
        use sea_orm::entity::prelude::*;

        /// One row of `contributions`.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "contributions")]
        pub struct Model {
            /// Person.
            #[sea_orm(primary_key, auto_increment = false)]
            pub citizen_id: String,
            /// Employer.
            #[sea_orm(primary_key, auto_increment = false)]
            pub credit_code: String,
            /// YYYYMM.
            #[sea_orm(primary_key, auto_increment = false)]
            pub month: i32,
            /// Declared monthly wage in fen.
            pub declared_wage_fen: i64,
            /// RFC 3339 instant.
            pub declared_at: String,
            /// Principal.
            pub declared_by: String,
        }

        /// No relations are navigated.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    /// The computed lines of a contribution, one per insurance type.
    pub mod contribution_line {
        use sea_orm::entity::prelude::*;

        /// One row of `contribution_lines`.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "contribution_lines")]
        pub struct Model {
            /// Person.
            #[sea_orm(primary_key, auto_increment = false)]
            pub citizen_id: String,
            /// Employer.
            #[sea_orm(primary_key, auto_increment = false)]
            pub credit_code: String,
            /// YYYYMM.
            #[sea_orm(primary_key, auto_increment = false)]
            pub month: i32,
            /// Insurance type, as named in rule books (`pension`, `work_injury`).
            #[sea_orm(primary_key, auto_increment = false)]
            pub insurance_type: String,
            /// Id of the rule set applied.
            pub rule_id: String,
            /// Contribution base in fen.
            pub base_fen: i64,
            /// Employer's part in fen.
            pub employer_fen: i64,
            /// Person's part in fen.
            pub personal_fen: i64,
            /// Individual-account credit in fen.
            pub account_credit_fen: i64,
        }

        /// No relations are navigated.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entity::{contribution, contribution_line};

fn m0001_contribution(backend: DbBackend) -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE contributions (citizen_id VARCHAR(18) NOT NULL, credit_code VARCHAR(18) NOT NULL, \
         month INTEGER NOT NULL, declared_wage_fen BIGINT NOT NULL CHECK (declared_wage_fen >= 0), \
         declared_at VARCHAR(40) NOT NULL, declared_by VARCHAR(160) NOT NULL, \
         PRIMARY KEY (citizen_id, credit_code, month))"
            .to_string(),
        "CREATE TABLE contribution_lines (citizen_id VARCHAR(18) NOT NULL, credit_code VARCHAR(18) NOT NULL, \
         month INTEGER NOT NULL, insurance_type VARCHAR(16) NOT NULL, rule_id VARCHAR(128) NOT NULL, \
         base_fen BIGINT NOT NULL, employer_fen BIGINT NOT NULL, personal_fen BIGINT NOT NULL, \
         account_credit_fen BIGINT NOT NULL, \
         PRIMARY KEY (citizen_id, credit_code, month, insurance_type), \
         FOREIGN KEY (citizen_id, credit_code, month) REFERENCES contributions (citizen_id, credit_code, month))"
            .to_string(),
    ];
    for table in ["contributions", "contribution_lines"] {
        statements.extend(append_only_statements(backend, table));
    }
    statements
}

/// The migrations of the contribution database, in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(SqlMigration {
            name: "m0001_contribution",
            statements: m0001_contribution,
        })]
    }
}

/// [`ContributionStore`] over a sea-orm connection (SQLite or PostgreSQL).
#[derive(Debug, Clone)]
pub struct SqlContributionStore {
    db: DatabaseConnection,
}

impl SqlContributionStore {
    /// A store over `db`, which must be migrated.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn insert_error(what: String) -> impl FnOnce(DbErr) -> ContributionError {
    move |e| {
        if is_unique_violation(&e) {
            ContributionError::AlreadyExists(what)
        } else {
            ContributionError::Storage(e)
        }
    }
}

fn instant(raw: &str) -> Result<DateTime<Utc>> {
    shebao_kernel::db::stored_instant(raw).map_err(ContributionError::Storage)
}

fn stored<T, E: std::fmt::Display>(value: std::result::Result<T, E>) -> Result<T> {
    shebao_kernel::db::stored(value).map_err(ContributionError::Storage)
}

fn month_column(month: Month) -> i32 {
    // YYYYMM of years up to 9999 fits an i32.
    i32::try_from(month.yyyymm()).unwrap_or(i32::MAX)
}

fn stored_month(raw: i32) -> Result<Month> {
    stored(Month::from_yyyymm(u32::try_from(raw).unwrap_or(0)))
}

fn line_row(c: &Contribution, line: &AssessmentLine) -> contribution_line::ActiveModel {
    contribution_line::ActiveModel {
        citizen_id: Set(c.citizen_id.as_str().to_string()),
        credit_code: Set(c.credit_code.as_str().to_string()),
        month: Set(month_column(c.month())),
        insurance_type: Set(line.insurance.as_str().to_string()),
        rule_id: Set(line.rule_id.to_string()),
        base_fen: Set(line.base.fen()),
        employer_fen: Set(line.employer.fen()),
        personal_fen: Set(line.personal.fen()),
        account_credit_fen: Set(line.account_credit.fen()),
    }
}

fn line_from_row(row: contribution_line::Model) -> Result<AssessmentLine> {
    Ok(AssessmentLine {
        insurance: stored(row.insurance_type.parse::<InsuranceType>())?,
        rule_id: row.rule_id.into(),
        base: Fen::new(row.base_fen),
        employer: Fen::new(row.employer_fen),
        personal: Fen::new(row.personal_fen),
        account_credit: Fen::new(row.account_credit_fen),
    })
}

type Key = (String, i32);

#[async_trait]
impl ContributionStore for SqlContributionStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, c: &Contribution) -> Result<()> {
        let what = format!(
            "contribution of {} at {} for {}",
            c.citizen_id.as_str(),
            c.credit_code.as_str(),
            c.month()
        );
        let row = contribution::ActiveModel {
            citizen_id: Set(c.citizen_id.as_str().to_string()),
            credit_code: Set(c.credit_code.as_str().to_string()),
            month: Set(month_column(c.month())),
            declared_wage_fen: Set(c.assessment.declared_wage.fen()),
            declared_at: Set(c.declared_at.to_rfc3339()),
            declared_by: Set(c.declared_by.clone()),
        };
        let lines: Vec<_> = c
            .assessment
            .lines
            .iter()
            .map(|line| line_row(c, line))
            .collect();
        // One transaction: a contribution is never visible without its lines.
        // Dropping it uncommitted on an error rolls everything back.
        let txn = self.db.begin().await.map_err(ContributionError::Storage)?;
        contribution::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(insert_error(what.clone()))?;
        contribution_line::Entity::insert_many(lines)
            .exec_without_returning(&txn)
            .await
            .map_err(insert_error(format!("a line of the {what}")))?;
        txn.commit().await.map_err(ContributionError::Storage)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn contributions_of(&self, citizen_id: &CitizenId) -> Result<Vec<Contribution>> {
        // Both reads in one transaction, so lines and headers agree.
        let txn = self.db.begin().await.map_err(ContributionError::Storage)?;
        let rows = contribution::Entity::find()
            .filter(contribution::Column::CitizenId.eq(citizen_id.as_str()))
            .order_by_asc(contribution::Column::Month)
            .order_by_asc(contribution::Column::CreditCode)
            .all(&txn)
            .await
            .map_err(ContributionError::Storage)?;
        let line_rows = contribution_line::Entity::find()
            .filter(contribution_line::Column::CitizenId.eq(citizen_id.as_str()))
            .all(&txn)
            .await
            .map_err(ContributionError::Storage)?;
        txn.commit().await.map_err(ContributionError::Storage)?;

        let mut lines: HashMap<Key, Vec<AssessmentLine>> = HashMap::new();
        for row in line_rows {
            let key = (row.credit_code.clone(), row.month);
            lines.entry(key).or_default().push(line_from_row(row)?);
        }
        rows.into_iter()
            .map(|row| {
                let mut own = lines
                    .remove(&(row.credit_code.clone(), row.month))
                    .unwrap_or_default();
                // The order of the record: pension, medical, unemployment, work injury, maternity.
                own.sort_by_key(|line| line.insurance);
                Ok(Contribution {
                    citizen_id: stored(CitizenId::parse(&row.citizen_id))?,
                    credit_code: stored(CreditCode::parse(&row.credit_code))?,
                    assessment: Assessment {
                        month: stored_month(row.month)?,
                        declared_wage: Fen::new(row.declared_wage_fen),
                        lines: own,
                    },
                    declared_at: instant(&row.declared_at)?,
                    declared_by: row.declared_by,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn pension_credits_of(&self, citizen_id: &CitizenId) -> Result<Vec<(Month, Fen)>> {
        // Only the pension lines' credits: a fifth of the rows of the whole
        // record, and no header rows.
        let rows: Vec<(i32, i64)> = contribution_line::Entity::find()
            .select_only()
            .column(contribution_line::Column::Month)
            .column(contribution_line::Column::AccountCreditFen)
            .filter(contribution_line::Column::CitizenId.eq(citizen_id.as_str()))
            .filter(contribution_line::Column::InsuranceType.eq(InsuranceType::Pension.as_str()))
            .order_by_asc(contribution_line::Column::Month)
            .order_by_asc(contribution_line::Column::CreditCode)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(ContributionError::Storage)?;
        rows.into_iter()
            .map(|(month, credit)| Ok((stored_month(month)?, Fen::new(credit))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    //! One suite, every backend (STYLE 18): each test runs on SQLite, and on
    //! PostgreSQL when `SHEBAO_TEST_POSTGRES_URL` names an admin URL (e.g.
    //! `postgres://postgres@127.0.0.1:5432/postgres`); every test gets a
    //! fresh database.

    use chrono::TimeZone;
    use sea_orm::ConnectionTrait;

    use super::*;

    const PERSON: &str = "350102198001010011";
    const EMPLOYER_A: &str = "91350100M000100Y43";
    const EMPLOYER_B: &str = "91350100M000200X5W";

    use shebao_kernel::testing::TestDatabase as TestDb;

    fn store(t: &TestDb) -> SqlContributionStore {
        SqlContributionStore::new(t.db.clone())
    }

    fn month(n: u32) -> Month {
        Month::from_yyyymm(n).expect("month")
    }

    fn line(
        insurance: InsuranceType,
        base: i64,
        employer: i64,
        personal: i64,
        credit: i64,
    ) -> AssessmentLine {
        AssessmentLine {
            insurance,
            rule_id: format!("350100/{insurance}/201905").into(),
            base: Fen::new(base),
            employer: Fen::new(employer),
            personal: Fen::new(personal),
            account_credit: Fen::new(credit),
        }
    }

    // Stored values stand for what the rules computed; the store never
    // computes, so any consistent-looking numbers do for its tests.
    fn contribution(employer: &str, yyyymm: u32, lines: Vec<AssessmentLine>) -> Contribution {
        Contribution {
            citizen_id: CitizenId::parse(PERSON).expect("id"),
            credit_code: CreditCode::parse(employer).expect("code"),
            assessment: Assessment {
                month: month(yyyymm),
                declared_wage: Fen::new(500_000),
                lines,
            },
            declared_at: Utc
                .with_ymd_and_hms(2026, 2, 3, 4, 5, 6)
                .single()
                .expect("instant"),
            declared_by: format!("employer/{employer}"),
        }
    }

    fn full_lines() -> Vec<AssessmentLine> {
        vec![
            line(InsuranceType::Pension, 500_000, 80_000, 40_000, 40_000),
            line(InsuranceType::Medical, 500_000, 35_000, 10_000, 0),
            line(InsuranceType::Unemployment, 500_000, 2_500, 2_500, 0),
            line(InsuranceType::WorkInjury, 500_000, 1_000, 0, 0),
        ]
    }

    async fn pension_credits_are_read_per_contribution_oldest_month_first(t: &TestDb) {
        // R2.4: the account is recomputed from the credits of every employer
        let store = store(t);
        let medical_only = vec![line(InsuranceType::Medical, 500_000, 35_000, 10_000, 0)];
        for c in [
            contribution(EMPLOYER_A, 202602, full_lines()),
            contribution(EMPLOYER_B, 202601, full_lines()),
            contribution(EMPLOYER_A, 202601, full_lines()),
            contribution(EMPLOYER_A, 202603, medical_only),
        ] {
            store.insert(&c).await.expect("insert");
        }
        let id = CitizenId::parse(PERSON).expect("id");
        let credits = store.pension_credits_of(&id).await.expect("read");
        assert_eq!(
            credits,
            vec![
                (month(202601), Fen::new(40_000)),
                (month(202601), Fen::new(40_000)),
                (month(202602), Fen::new(40_000)),
            ]
        );
        let nobody = CitizenId::parse("11010519491231002X").expect("id");
        assert!(
            store
                .pension_credits_of(&nobody)
                .await
                .expect("read")
                .is_empty()
        );
    }

    async fn a_contribution_round_trips_with_its_lines_oldest_month_first(t: &TestDb) {
        // R2.2: contributions with their computed lines are kept
        let store = store(t);
        let later = contribution(EMPLOYER_A, 202602, full_lines());
        let earlier_b = contribution(EMPLOYER_B, 202601, full_lines()[..1].to_vec());
        let earlier_a = contribution(EMPLOYER_A, 202601, full_lines());
        for c in [&later, &earlier_b, &earlier_a] {
            store.insert(c).await.expect("insert");
        }
        let read = store
            .contributions_of(&later.citizen_id)
            .await
            .expect("read");
        assert_eq!(read, vec![earlier_a, earlier_b, later]);
        let stranger = CitizenId::parse("350102199006150026").expect("id");
        assert!(
            store
                .contributions_of(&stranger)
                .await
                .expect("read")
                .is_empty()
        );
    }

    async fn a_second_declaration_for_the_same_person_employer_and_month_is_refused(t: &TestDb) {
        let store = store(t);
        let first = contribution(EMPLOYER_A, 202601, full_lines());
        store.insert(&first).await.expect("insert");
        let mut second = contribution(EMPLOYER_A, 202601, full_lines()[..2].to_vec());
        second.declared_by = "staff/op-1".into();
        match store.insert(&second).await {
            Err(ContributionError::AlreadyExists(what)) => assert!(what.contains(PERSON), "{what}"),
            other => panic!("expected already exists, got {other:?}"),
        }
        let read = store
            .contributions_of(&first.citizen_id)
            .await
            .expect("read");
        assert_eq!(read, vec![first]);
    }

    async fn a_contribution_whose_lines_fail_is_not_half_written(t: &TestDb) {
        // R4.1: records are complete; no contribution without its lines
        let store = store(t);
        let mut lines = full_lines();
        lines.push(lines[0].clone());
        let broken = contribution(EMPLOYER_A, 202601, lines);
        assert!(store.insert(&broken).await.is_err());
        assert!(
            store
                .contributions_of(&broken.citizen_id)
                .await
                .expect("read")
                .is_empty()
        );
        let good = contribution(EMPLOYER_A, 202601, full_lines());
        store
            .insert(&good)
            .await
            .expect("the same key is free after the rollback");
    }

    async fn the_database_refuses_to_update_or_delete_contributions(t: &TestDb) {
        // R6.3: no changes behind the business system; R28.4: nothing deleted
        let store = store(t);
        let c = contribution(EMPLOYER_A, 202601, full_lines());
        store.insert(&c).await.expect("insert");
        for statement in [
            "UPDATE contributions SET declared_wage_fen = 1",
            "DELETE FROM contributions",
            "UPDATE contribution_lines SET employer_fen = 0",
            "DELETE FROM contribution_lines",
        ] {
            let error =
                t.db.execute_unprepared(statement)
                    .await
                    .expect_err(statement);
            assert!(
                error.to_string().contains("append-only"),
                "{statement}: {error}"
            );
        }
        let read = store.contributions_of(&c.citizen_id).await.expect("read");
        assert_eq!(read, vec![c]);
    }

    macro_rules! storage_suite {
        ($($test:ident),* $(,)?) => {
            mod sqlite {
                $(
                    #[tokio::test]
                    async fn $test() {
                        let t = super::TestDb::sqlite::<super::Migrator>().await;
                        super::$test(&t).await;
                        t.finish().await;
                    }
                )*
            }

            mod postgres {
                $(
                    #[tokio::test]
                    async fn $test() {
                        let Some(t) = super::TestDb::postgres::<super::Migrator>().await else {
                            eprintln!("SHEBAO_TEST_POSTGRES_URL is not set; skipped");
                            return;
                        };
                        super::$test(&t).await;
                        t.finish().await;
                    }
                )*
            }
        };
    }

    storage_suite!(
        pension_credits_are_read_per_contribution_oldest_month_first,
        a_contribution_round_trips_with_its_lines_oldest_month_first,
        a_second_declaration_for_the_same_person_employer_and_month_is_refused,
        a_contribution_whose_lines_fail_is_not_half_written,
        the_database_refuses_to_update_or_delete_contributions,
    );
}
