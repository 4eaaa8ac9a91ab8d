//! Who the client is, behind reverse proxies.
//!
//! Behind a load balancer every connection comes from the proxy: the sign-in throttle would count every
//! user as one client (and lock every administrator out together), and the log would name the proxy.
//! `GAIA_TRUSTED_PROXIES` lists the proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed. The
//! client is then the right-most address of that header that is not itself a trusted proxy — the one the
//! first trusted proxy saw connect; anything to its left was written by the client and may be forged. A
//! connection from any other peer is its own client, whatever headers it sends.

use std::net::IpAddr;

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed; empty: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of CIDRs (`10.0.0.0/8`) or single addresses (`192.0.2.7`, `::1`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{item}' is not an address or CIDR like 10.0.0.0/8"))?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: `peer` itself, unless `peer` is a trusted proxy; then the right-most entry
    /// of the `X-Forwarded-For` values (in header order) that is not a trusted proxy. An unreadable entry
    /// ends the walk at the last address known good.
    pub fn client<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = forwarded_for
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:4711`, `[2001:db8::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, how a dual-stack socket reports IPv4 peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_sends() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(Some(ip("203.0.113.9")), ["1.2.3.4"].into_iter()),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        // Client 198.51.100.1 → proxy 192.0.2.7 → proxy 10.0.0.2 → us; a forged entry on the left.
        assert_eq!(
            t.client(
                Some(ip("10.0.0.2")),
                ["6.6.6.6, 198.51.100.1", "192.0.2.7"].into_iter()
            ),
            Some(ip("198.51.100.1"))
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            t.client(Some(ip("203.0.113.9")), ["198.51.100.1"].into_iter()),
            Some(ip("203.0.113.9"))
        );
        // No header: the proxy itself.
        assert_eq!(
            t.client(Some(ip("10.0.0.2")), std::iter::empty()),
            Some(ip("10.0.0.2"))
        );
        // Ports, IPv6, IPv4-mapped peers; garbage stops the walk.
        assert_eq!(
            t.client(
                Some(ip("::ffff:10.0.0.2")),
                ["[2001:db8::5]:443"].into_iter()
            ),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            t.client(Some(ip("10.0.0.2")), ["198.51.100.1, nonsense"].into_iter()),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let e = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(e.contains("proxy.local"), "{e}");
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
