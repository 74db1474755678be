//! The database itself refuses UPDATE and DELETE on fact tables (R6.3,
//! R28.4), on SQLite and on PostgreSQL: a raw statement, as a DBA might
//! type it, fails.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use shebao_kernel::testing::TestDatabase;
use shebao_registration::storage::Migrator;

async fn raw_changes_to_registration_facts_fail(db: DatabaseConnection) {
    for insert in [
        "INSERT INTO persons (citizen_id, name, registered_at, registered_by) \
         VALUES ('11010519491231002X', '张三', '2026-01-01T00:00:00Z', 'staff/operator-demo')",
        "INSERT INTO employers (credit_code, name, registered_at, registered_by) \
         VALUES ('91350100M000100Y43', '福州闽江软件有限公司', '2026-01-01T00:00:00Z', 'staff/operator-demo')",
        "INSERT INTO employments (citizen_id, credit_code, start_month, recorded_at, recorded_by) \
         VALUES ('11010519491231002X', '91350100M000100Y43', 202601, '2026-01-01T00:00:00Z', 'staff/operator-demo')",
    ] {
        db.execute_unprepared(insert)
            .await
            .expect("facts are inserted");
    }
    for (table, column) in [
        ("persons", "name"),
        ("employers", "name"),
        ("employments", "recorded_by"),
    ] {
        // R6.3: no change behind the business system's back
        let update = db
            .execute_unprepared(&format!("UPDATE {table} SET {column} = 'changed'"))
            .await
            .expect_err("update refused");
        assert!(
            update.to_string().contains("append-only"),
            "{table}: {update}"
        );
    }
    for table in ["employments", "employers", "persons"] {
        // R28.4: nothing is deleted
        let delete = db
            .execute_unprepared(&format!("DELETE FROM {table}"))
            .await
            .expect_err("delete refused");
        assert!(
            delete.to_string().contains("append-only"),
            "{table}: {delete}"
        );
    }
}

#[tokio::test]
async fn raw_sql_update_and_delete_fail_on_sqlite() {
    let t = TestDatabase::sqlite::<Migrator>().await;
    raw_changes_to_registration_facts_fail(t.db.clone()).await;
    t.finish().await;
}

#[tokio::test]
async fn raw_sql_update_and_delete_fail_on_postgres() {
    let Some(t) = TestDatabase::postgres::<Migrator>().await else {
        return;
    };
    raw_changes_to_registration_facts_fail(t.db.clone()).await;
    t.finish().await;
}
