//! Reading and writing the few cookies of the web interface, by hand: actix-web's cookie support
//! would pull in the `cookie` and `time` crates for two names and fixed attributes.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

/// The browser session (id of a row of `ui_sessions`).
pub const SESSION: &str = "vorgang_session";

/// The nonce the login form's CSRF token is bound to (see `csrf::login_token`).
pub const LOGIN: &str = "vorgang_anmeldung";

/// The value of cookie `name` sent with the request; the first one if sent more than once.
pub fn read(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_string())
}

/// How long a cookie lives in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until the browser is closed (no `Max-Age`).
    Browser,
    /// This many seconds.
    Seconds(i64),
    /// Delete it now.
    Remove,
}

/// A `Set-Cookie` value: always `HttpOnly`, `Secure` when the interface is served over https.
///
/// `value` must be a cookie token (the callers only pass hex); anything else is dropped rather
/// than sent half-quoted.
pub fn set(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    lifetime: Lifetime,
    secure: bool,
) -> HeaderValue {
    let value = if value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        value
    } else {
        ""
    };
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    match lifetime {
        Lifetime::Browser => {}
        Lifetime::Seconds(seconds) => cookie.push_str(&format!("; Max-Age={seconds}")),
        Lifetime::Remove => cookie.push_str("; Max-Age=0"),
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn reads_the_named_cookie_among_others() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; vorgang_session=abc ; b=2"))
            .to_http_request();
        assert_eq!(read(&req, SESSION).as_deref(), Some("abc"));
        assert_eq!(read(&req, "b").as_deref(), Some("2"));
        assert_eq!(read(&req, LOGIN), None);
    }

    #[test]
    fn writes_the_attributes() {
        let value = set(SESSION, "ab12", "/", "Lax", Lifetime::Browser, true);
        assert_eq!(
            value.to_str().unwrap(),
            "vorgang_session=ab12; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let removed = set(SESSION, "", "/", "Lax", Lifetime::Remove, false);
        assert_eq!(
            removed.to_str().unwrap(),
            "vorgang_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        let odd = set(
            LOGIN,
            "a;b",
            "/login",
            "Strict",
            Lifetime::Seconds(60),
            false,
        );
        assert_eq!(
            odd.to_str().unwrap(),
            "vorgang_anmeldung=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=60"
        );
    }
}
