//! HTTP: routes, middleware and the error shape shared by every endpoint.

pub mod health;
pub mod problem;
pub mod request_id;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};

use crate::db::Database;

/// Registers every route; shared by the server and by in-process tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .default_service(web::to(|| async {
            HttpResponse::from_error(problem::Problem::not_found())
        }));
}

/// The application with its middleware, as served; tests build it the same way.
pub fn app(
    db: Database,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(db))
        .configure(configure)
        .wrap(from_fn(request_id::assign_request_id))
}
