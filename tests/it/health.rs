//! Readiness in-process: it reports the database's real state.

use actix_web::test;
use diesel::connection::SimpleConnection;
use vorgang::db::Database;

use crate::support::db::postgres_available;
use crate::support::{Backend, TestDatabase};

async fn readyz_status(db: Database) -> (u16, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let api = crate::support::api::state(&db, dir.path());
    let app = test::init_service(vorgang::web::app(
        db,
        crate::support::auth::test_auth(),
        api,
    ))
    .await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = test::read_body_json(response).await;
    (status, body)
}

both_backends! {
    async fn not_ready_while_migrations_are_pending(backend) {
        let db = TestDatabase::empty(backend);
        let (status, body) = readyz_status(db.pool(2)).await;
        assert_eq!(status, 503);
        assert_eq!(body["type"], "urn:vorgang:problem:not-ready");
        assert!(body["detail"].as_str().unwrap().contains("Migrationen"), "{body}");
    }
}

both_backends! {
    async fn ready_when_migrated(backend) {
        let db = TestDatabase::migrated(backend);
        let (status, body) = readyz_status(db.pool(2)).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[actix_web::test]
async fn not_ready_when_the_database_goes_away() {
    if !postgres_available() {
        return;
    }
    let db = TestDatabase::migrated(Backend::Postgres);
    let pool = db.pool(2);
    let vorgang::db::DatabaseUrl::Postgres(url) = &db.url else {
        unreachable!()
    };
    let name = url.rsplit('/').next().unwrap().to_string();
    // Drop the database under the running pool (terminating its connections).
    let mut admin = <diesel::pg::PgConnection as diesel::Connection>::establish(
        &std::env::var("VORGANG_TEST_PG_URL").unwrap(),
    )
    .unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    let (status, body) = readyz_status(pool).await;
    assert_eq!(status, 503);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("nicht erreichbar"),
        "{body}"
    );
}
