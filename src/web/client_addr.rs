//! The client's address behind a reverse proxy.
//!
//! An installation usually sits behind a proxy that terminates TLS; then every request comes
//! from the proxy's address, and the per-address login limit would lock everybody out after
//! five typing errors anywhere. Requests from the proxies named in `trusted_proxies` are
//! taken at their word about the client; from anyone else the header is ignored, since a client
//! could write any address into it to escape the limit.
//!
//! Which header the proxies write is a setting (`forwarded_header`): `X-Forwarded-For`, what
//! nginx and most proxies send, or RFC 7239's `Forwarded` (`for=` of each element). Only that
//! one is read: a proxy that writes one passes the other on as the client sent it, so reading
//! both would believe the client.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The header a trusted proxy names the client in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    XForwardedFor,
    /// RFC 7239: `Forwarded: for=client, for="[2001:db8::1]:4711";proto=https`.
    Forwarded,
}

impl ForwardedHeader {
    /// Reads the header's name (any case); a German reason otherwise.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!(
                "„{}“ ist keiner der unterstützten Header (X-Forwarded-For oder Forwarded)",
                text.trim()
            )),
        }
    }

    /// The hops `req` names in this header, in header order (the client first); an element
    /// of `Forwarded` without `for=` is an empty hop, which ends the walk there.
    fn hops(self, req: &HttpRequest) -> Vec<String> {
        let name = match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        };
        let elements = req
            .headers()
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim);
        match self {
            Self::XForwardedFor => elements.map(str::to_string).collect(),
            Self::Forwarded => elements.map(forwarded_for).collect(),
        }
    }
}

/// The `for=` value of one `Forwarded` element, unquoted (`""` if it has none).
fn forwarded_for(element: &str) -> String {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map(|(_, value)| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .to_string()
        })
        .unwrap_or_default()
}

/// The proxies whose forwarding header is believed: addresses or networks, and the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Reads `10.0.0.5, 192.168.0.0/16, ::1` (separated by commas or spaces); an empty text
    /// trusts nobody. A German reason names the first entry that is no address or network.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "„{entry}“ ist keine IP-Adresse und kein Netz (z. B. 10.0.0.5 oder \
                             10.0.0.0/8)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| Self {
                nets,
                header: ForwardedHeader::default(),
            })
    }

    /// The same proxies, naming the client in `header`.
    pub fn with_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether requests from `ip` may say who the client is.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with these forwarded hops (in header
    /// order): walking from the nearest hop outwards, the first address that is not a trusted
    /// proxy. An entry that is no address (`unknown`, an obfuscated `_name`) ends the walk at
    /// the hop that wrote it.
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Option<IpAddr> {
        let mut client = peer?.to_canonical();
        for entry in forwarded_for.iter().rev() {
            if !self.contains(client) {
                break;
            }
            match parse_entry(entry) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        Some(client)
    }

    /// The client of `req` (see [`Self::client`]).
    pub fn client_of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr().map(|addr| addr.ip());
        if self.nets.is_empty() {
            return peer;
        }
        let hops = self.header.hops(req);
        let hops: Vec<&str> = hops.iter().map(String::as_str).collect();
        self.client(peer, &hops)
    }
}

/// One hop: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, with or without a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<IpAddr>().ok())
        })
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks_are_read_and_bad_entries_named() {
        let proxies = TrustedProxies::parse("10.0.0.5, 192.168.0.0/16 ::1\n2001:db8::/32").unwrap();
        assert!(proxies.contains(ip("10.0.0.5")));
        assert!(!proxies.contains(ip("10.0.0.6")));
        assert!(proxies.contains(ip("192.168.17.3")));
        assert!(proxies.contains(ip("::1")));
        assert!(proxies.contains(ip("2001:db8:1::7")));
        // An IPv4 peer on a dual-stack socket.
        assert!(proxies.contains(ip("::ffff:10.0.0.5")));
        assert_eq!(
            TrustedProxies::parse("  ").unwrap(),
            TrustedProxies::default()
        );
        let bad = TrustedProxies::parse("10.0.0.5, proxy.kreis.de").unwrap_err();
        assert!(
            bad.contains("„proxy.kreis.de“ ist keine IP-Adresse"),
            "{bad}"
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_proxy_outwards() {
        let proxies = TrustedProxies::parse("10.0.0.5, 10.1.0.0/16").unwrap();
        let peer = Some(ip("10.0.0.5"));
        // One proxy.
        assert_eq!(
            proxies.client(peer, &["198.51.100.7"]),
            Some(ip("198.51.100.7"))
        );
        // Two proxies; what the client itself wrote in front is not believed.
        assert_eq!(
            proxies.client(peer, &["203.0.113.66", "198.51.100.7", "10.1.2.3"]),
            Some(ip("198.51.100.7"))
        );
        // Ports and brackets.
        assert_eq!(
            proxies.client(peer, &["198.51.100.7:52311"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            proxies.client(peer, &["[2001:db8::9]:443"]),
            Some(ip("2001:db8::9"))
        );
        assert_eq!(
            proxies.client(peer, &["[2001:db8::9]"]),
            Some(ip("2001:db8::9"))
        );
        // Garbage stops at the hop that wrote it.
        assert_eq!(
            proxies.client(peer, &["unbekannt", "10.1.2.3"]),
            Some(ip("10.1.2.3"))
        );
        assert_eq!(proxies.client(peer, &["unbekannt"]), Some(ip("10.0.0.5")));
        // No header: the proxy itself.
        assert_eq!(proxies.client(peer, &[]), Some(ip("10.0.0.5")));
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(
            proxies.client(Some(ip("198.51.100.7")), &["10.9.9.9"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(proxies.client(None, &["198.51.100.7"]), None);
    }

    fn request(header: &str, value: &str) -> HttpRequest {
        actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.5:40000".parse().unwrap())
            .insert_header((header, value))
            .to_http_request()
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let xff = TrustedProxies::parse("10.0.0.5").unwrap();
        let rfc = xff.clone().with_header(ForwardedHeader::Forwarded);
        let named = request("X-Forwarded-For", "198.51.100.7");
        assert_eq!(xff.client_of(&named), Some(ip("198.51.100.7")));
        assert_eq!(rfc.client_of(&named), Some(ip("10.0.0.5")), "not believed");
        let named = request("Forwarded", "for=198.51.100.7;proto=https");
        assert_eq!(rfc.client_of(&named), Some(ip("198.51.100.7")));
        assert_eq!(xff.client_of(&named), Some(ip("10.0.0.5")), "not believed");
    }

    #[test]
    fn forwarded_elements_are_read_as_rfc_7239_writes_them() {
        let proxies = TrustedProxies::parse("10.0.0.5, 10.1.0.0/16")
            .unwrap()
            .with_header(ForwardedHeader::Forwarded);
        for (value, client) in [
            ("for=198.51.100.7", "198.51.100.7"),
            (
                "For=\"198.51.100.7:4711\";proto=https;by=10.0.0.5",
                "198.51.100.7",
            ),
            ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("proto=https; for=198.51.100.7", "198.51.100.7"),
            // Two proxies; what the client wrote in front is not believed.
            (
                "for=203.0.113.66, for=198.51.100.7, for=10.1.2.3",
                "198.51.100.7",
            ),
            // Unknown and obfuscated hops, and elements without `for`, end the walk.
            ("for=unknown", "10.0.0.5"),
            ("for=_hidden, for=10.1.2.3", "10.1.2.3"),
            ("proto=https", "10.0.0.5"),
        ] {
            assert_eq!(
                proxies.client_of(&request("Forwarded", value)),
                Some(ip(client)),
                "{value}"
            );
        }
    }

    #[test]
    fn the_header_setting_names_one_of_the_two() {
        assert_eq!(
            ForwardedHeader::parse("Forwarded"),
            Ok(ForwardedHeader::Forwarded)
        );
        assert_eq!(
            ForwardedHeader::parse(" x-forwarded-for "),
            Ok(ForwardedHeader::XForwardedFor)
        );
        let bad = ForwardedHeader::parse("X-Real-IP").unwrap_err();
        assert!(bad.contains("„X-Real-IP“ ist keiner"), "{bad}");
    }
}
