//! The files every page loads from the server itself (the Content-Security-Policy allows no
//! other origin): the stylesheet and the icon, compiled in so that a deployment is one binary.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// The stylesheet of every page.
const STYLESHEET: &str = include_str!("../../assets/vorgang.css");

/// The icon browsers show in the tab and the bookmarks.
const ICON: &str = include_str!("../../assets/vorgang.svg");

/// Where the pages link the icon from.
const ICON_PATH: &str = "/static/vorgang.svg";

/// Registers the stylesheet and the icon, the latter also at `/favicon.ico`, which browsers ask
/// for on their own (for a PDF or a JSON document opened in the browser, say).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/vorgang.css").route(web::get().to(stylesheet)))
        .service(web::resource(ICON_PATH).route(web::get().to(icon)))
        .service(web::resource("/favicon.ico").route(web::get().to(icon)));
}

async fn stylesheet() -> HttpResponse {
    cached("text/css; charset=utf-8", STYLESHEET)
}

async fn icon() -> HttpResponse {
    cached("image/svg+xml", ICON)
}

/// A compiled-in file: cached for an hour, never sniffed as anything else.
fn cached(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
