//! The client's address behind a reverse proxy.
//!
//! An installation usually sits behind a proxy that terminates TLS; then every request comes
//! from the proxy's address, and the per-address login limit would lock everybody out after
//! five typing errors anywhere. Requests from the proxies named in `trusted_proxies` are
//! taken at their word about the client (`X-Forwarded-For`); from anyone else the header is
//! ignored, since a client could write any address into it to escape the limit.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed: addresses or networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

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
            .map(Self)
    }

    /// Whether requests from `ip` may say who the client is.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For` entries (in
    /// header order): walking from the nearest hop outwards, the first address that is not a
    /// trusted proxy. An entry that is no address ends the walk at the hop that wrote it.
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
        if self.0.is_empty() {
            return peer;
        }
        let entries: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        self.client(peer, &entries)
    }
}

/// One hop of `X-Forwarded-For`: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, with or without
/// a port.
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
}
