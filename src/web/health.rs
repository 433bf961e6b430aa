//! Liveness and readiness probes for load balancers and orchestrators.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

use super::problem::Problem;
use crate::db::{Database, DbError, migrations};

/// How long readiness waits for a pooled connection before reporting "not ready".
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is alive and serving HTTP; says nothing about the database.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready for traffic: the database answers and every embedded migration is applied.
#[get("/readyz")]
pub async fn readyz(db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    let backend = db.url().backend_name();
    let database = db.get_ref().clone();
    let checked = web::block(move || -> Result<bool, DbError> {
        let mut conn = database.get_timeout(READY_TIMEOUT)?;
        migrations::has_pending(&mut conn)
    })
    .await;
    let not_ready = |detail: String| {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Nicht bereit")
            .with_detail(detail)
    };
    match checked {
        Ok(Ok(false)) => {
            Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": backend })))
        }
        Ok(Ok(true)) => Err(not_ready(
            "Die Datenbank ist nicht auf dem Stand dieser Version (ausstehende Migrationen)."
                .into(),
        )),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness check failed");
            Err(not_ready("Die Datenbank ist nicht erreichbar.".into()))
        }
        Err(error) => Err(not_ready(format!("Prüfung nicht möglich: {error}"))),
    }
}
