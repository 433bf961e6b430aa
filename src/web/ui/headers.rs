//! The security headers of every page of the web interface, set by one middleware that
//! [`super::page`] puts around each page's resource, so no page can be served without them.
//!
//! The partner pages (`/beteiligung/…`) keep their own, stricter set (`Referrer-Policy:
//! no-referrer`, because their address is the partner's credential).

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;

/// Content-Security-Policy of the web interface: scripts, styles and images only from here,
/// forms only to here, never framed. No page carries inline script or style (the templates have
/// no `<script>`, no `<style>` and no `style=` attribute).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Middleware: sets the security headers on the response of a page (also on redirects and
/// error pages). `Cache-Control: no-store` everywhere, because any page may show the logged-in
/// user and the CSRF token of the logout form.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    apply(response.headers_mut());
    Ok(response)
}

/// Sets the headers of [`security_headers`] on a response made outside a page's resource (the
/// page for an unknown address).
pub fn apply(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
