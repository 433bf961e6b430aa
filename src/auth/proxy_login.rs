//! Anmeldung über den vorgeschalteten Proxy: single sign-on where the reverse proxy in front of
//! vorgang already knows who the user is (Windows login through Kerberos, a Keycloak with
//! oauth2-proxy, Shibboleth) and names the user's e-mail address in a header of its own.
//!
//! The header is believed only from a request whose direct peer is one of the
//! `trusted_proxies`: from anyone else it is whatever a client wrote, and is ignored with a
//! warning. The proxy must set the header on every request, replacing what a client sent;
//! vorgang cannot tell the difference. Who may work, with which roles, stays vorgang's: the
//! address must belong to an active account.
//!
//! A session started this way belongs to the user the proxy names: when the proxy names
//! someone else in the same browser, the session ends (`web::ui::session::load`).

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;

use crate::web::client_addr::TrustedProxies;

/// Longest address taken from the header (RFC 5321 allows 254).
const MAX_ADDRESS_CHARS: usize = 254;

/// Headers that mean something else and must never name a user.
const RESERVED: &[&str] = &[
    "authorization",
    "cookie",
    "host",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "user-agent",
    "referer",
    "origin",
    "content-type",
    "content-length",
];

/// The header the trusted proxies name the logged-in user in (`proxy_login_header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyLogin {
    header: HeaderName,
}

/// What a request says about its user through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vouched {
    /// No header (or an empty one): the user logs in with a password.
    Nobody,
    /// The header came from a peer that is no trusted proxy: ignored.
    Untrusted,
    /// The e-mail address the proxy names, lower case.
    Email(String),
}

impl ProxyLogin {
    /// Reads the header's name (`X-Remote-User`); a German reason for a name that is no
    /// header name or one with another meaning.
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.trim();
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("„{name}“ ist kein gültiger Name eines HTTP-Headers"))?;
        if RESERVED.contains(&header.as_str()) {
            return Err(format!(
                "„{name}“ hat in HTTP eine eigene Bedeutung; nennen Sie einen eigenen Header, \
                 z. B. X-Remote-User"
            ));
        }
        Ok(Self { header })
    }

    /// The header's name, lower case.
    pub fn header(&self) -> &str {
        self.header.as_str()
    }

    /// Who `req` is, as far as a trusted proxy says so.
    pub fn vouched(&self, req: &HttpRequest, proxies: &TrustedProxies) -> Vouched {
        let Some(value) = req.headers().get(&self.header) else {
            return Vouched::Nobody;
        };
        let from_proxy = req
            .peer_addr()
            .is_some_and(|peer| proxies.contains(peer.ip()));
        if !from_proxy {
            tracing::warn!(
                header = %self.header,
                "login header from a client that is no trusted proxy ignored"
            );
            return Vouched::Untrusted;
        }
        let address = value.to_str().map(str::trim).unwrap_or_default();
        if address.is_empty() || address.chars().count() > MAX_ADDRESS_CHARS {
            return Vouched::Nobody;
        }
        Vouched::Email(super::normalise_email(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse("10.0.0.1").unwrap()
    }

    #[test]
    fn only_a_header_name_of_its_own_is_accepted() {
        assert_eq!(
            ProxyLogin::parse(" X-Remote-User ").unwrap().header(),
            "x-remote-user"
        );
        assert!(
            ProxyLogin::parse("X Remote")
                .unwrap_err()
                .contains("kein gültiger Name")
        );
        assert!(ProxyLogin::parse("").is_err());
        for reserved in ["Authorization", "Cookie", "X-Forwarded-For", "Host"] {
            let error = ProxyLogin::parse(reserved).unwrap_err();
            assert!(error.contains("eigene Bedeutung"), "{reserved}: {error}");
        }
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let login = ProxyLogin::parse("X-Remote-User").unwrap();
        let request = |peer: &str, value: Option<&str>| {
            let mut request = TestRequest::get().peer_addr(peer.parse().unwrap());
            if let Some(value) = value {
                request = request.insert_header(("X-Remote-User", value));
            }
            request.to_http_request()
        };
        assert_eq!(
            login.vouched(
                &request("10.0.0.1:4000", Some(" Anna@Kreis-Kleve.de ")),
                &proxies()
            ),
            Vouched::Email("anna@kreis-kleve.de".into())
        );
        assert_eq!(
            login.vouched(
                &request("10.0.0.9:4000", Some("anna@kreis-kleve.de")),
                &proxies()
            ),
            Vouched::Untrusted
        );
        assert_eq!(
            login.vouched(&request("10.0.0.1:4000", None), &proxies()),
            Vouched::Nobody
        );
        assert_eq!(
            login.vouched(&request("10.0.0.1:4000", Some("  ")), &proxies()),
            Vouched::Nobody
        );
        let long = format!("{}@kreis-kleve.de", "a".repeat(250));
        assert_eq!(
            login.vouched(&request("10.0.0.1:4000", Some(&long)), &proxies()),
            Vouched::Nobody
        );
    }
}
