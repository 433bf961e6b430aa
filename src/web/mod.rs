//! HTTP: routes, middleware and the error shape shared by every endpoint.

pub mod api;
pub mod beteiligung;
pub mod health;
pub mod kalender;
pub mod openapi;
pub mod problem;
pub mod request_id;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};

use crate::auth::{self, Auth};
use crate::db::Database;

/// Registers every route; shared by the server and by in-process tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            web::resource(auth::login::TOKEN_PATH)
                .app_data(auth::login::json_config())
                .route(web::post().to(auth::login::issue_token))
                .default_service(web::to(auth::login::method_not_allowed)),
        )
        .service(web::resource(openapi::PATH).route(web::get().to(openapi::serve)))
        .configure(api::configure)
        .configure(beteiligung::configure)
        .configure(kalender::configure)
        .default_service(web::to(|| async {
            HttpResponse::from_error(problem::Problem::not_found())
        }));
}

/// The application with its middleware, as served; tests build it the same way.
///
/// `auth` and `api` are created once and shared by every worker (the login limits must be process-wide).
pub fn app(
    db: Database,
    auth: web::Data<Auth>,
    api: web::Data<api::ApiState>,
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
        .app_data(auth)
        .app_data(api)
        .configure(configure)
        .wrap(from_fn(request_id::assign_request_id))
}
