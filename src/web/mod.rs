//! HTTP: routes, middleware and the error shape shared by every endpoint.

pub mod api;
pub mod assets;
pub mod beteiligung;
pub mod case_file;
pub mod client_addr;
mod fallback;
pub mod health;
pub mod kalender;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod request_id;
pub mod ui;

use actix_web::middleware::from_fn;
use actix_web::{App, web};

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
                .route(web::delete().to(auth::login::revoke_own_tokens))
                .default_service(web::to(auth::login::method_not_allowed)),
        )
        .service(web::resource(openapi::PATH).route(web::get().to(openapi::serve)))
        .service(web::resource(metrics::PATH).route(web::get().to(metrics::serve)))
        .configure(api::configure)
        .configure(assets::configure)
        .configure(beteiligung::configure)
        .configure(kalender::configure)
        .configure(ui::configure)
        .default_service(web::to(fallback::not_found));
}

/// The application with its middleware, as tests build it: the web interface with the built-in
/// legal texts and cookie settings that follow the API state's `public_url`.
///
/// `auth` and `api` are created once and shared by every worker.
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
    let ui = web::Data::new(ui::UiState::new(
        &api.outgoing.public_url,
        ui::LegalTexts::builtin(),
    ));
    app_with_ui(db, auth, api, ui)
}

/// The application with its middleware, as served: like [`app`], with the web interface's
/// settings (`legal_dir`, secure cookies) given.
pub fn app_with_ui(
    db: Database,
    auth: web::Data<Auth>,
    api: web::Data<api::ApiState>,
    ui: web::Data<ui::UiState>,
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
        .app_data(ui)
        .app_data(fallback::path_config())
        .app_data(fallback::query_config())
        .configure(configure)
        .wrap(from_fn(fallback::answer_in_kind))
        .wrap(from_fn(request_id::assign_request_id))
}
