//! `GET /kalender/{token}.ics`: a user's deadlines and own Wiedervorlagen as an iCalendar feed
//! for groupware, which cannot log in; the personal address is the credential (see
//! `service::calendar`).
//!
//! An unknown, revoked or malformed address and a deactivated user all get the same 404, so the
//! answer never tells whether an address once existed.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::api::{ApiState, blocking};
use super::problem::Problem;
use crate::auth::Principal;
use crate::db::Database;
use crate::service::calendar::{self, FeedMeta};

/// Registers the feed route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/kalender/{file}").route(web::get().to(feed)));
}

fn not_found() -> Problem {
    Problem::not_found().with_detail("Diesen Kalender gibt es nicht (mehr).")
}

async fn feed(
    file: web::Path<String>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let Some(secret) = file.strip_suffix(".ics").map(str::to_string) else {
        return Err(not_found());
    };
    let api = api.into_inner();
    let body = blocking(&db, move |conn| {
        let Some(user) = calendar::resolve(conn, &secret)? else {
            return Ok(None);
        };
        let Some((principal, organisation)) = Principal::load_with_organisation(conn, user, None)?
        else {
            return Ok(None);
        };
        let clock = crate::service::clock::now();
        let deadlines = calendar::visible_deadlines(conn, &api.registry, &principal, clock.today)?;
        let follow_ups = crate::service::follow_ups::open_for(conn, &principal, clock.today)?;
        let name = format!(
            "Fristen und Wiedervorlagen – {}",
            organisation.designation()
        );
        Ok(Some(calendar::ics(
            &deadlines,
            &follow_ups,
            &FeedMeta {
                name: &name,
                public_url: api.outgoing.public_url.as_str(),
                uid_domain: &api.outgoing.mail_domain,
                now: clock.now,
            },
        )))
    })
    .await?;
    let body = body.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"fristen.ics\"",
        ))
        .body(body))
}
