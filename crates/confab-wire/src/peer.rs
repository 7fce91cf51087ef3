//! Who is at the other end of a connection: the peer's address, or, when
//! the peer is a proxy on the trusted networks, the address it relays for.

use std::net::{IpAddr, SocketAddr};

/// A caller's address as the limits and the trusted-network checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    pub ip: IpAddr,
    /// The caller itself is on the trusted networks (not relayed).
    pub trusted: bool,
}

/// The headers a proxy names its client in.
const RELAY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// The address of the caller behind `peer`. A request relayed by a proxy
/// (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) is never trusted by
/// address; when the proxy itself is trusted, the client it names last
/// (`X-Forwarded-For`'s rightmost entry, which that proxy added, or
/// `X-Real-IP`) is the caller. An untrusted peer's headers are ignored:
/// anyone can write them.
pub fn client_address<'h>(
    peer: SocketAddr,
    header: impl Fn(&str) -> Option<&'h str>,
    trusted_networks: &[ipnet::IpNet],
) -> ClientAddress {
    let ip = peer.ip().to_canonical();
    let peer_trusted = trusted_networks.iter().any(|n| n.contains(&ip));
    let relayed = RELAY_HEADERS.iter().any(|h| header(h).is_some());
    if !relayed {
        return ClientAddress {
            ip,
            trusted: peer_trusted,
        };
    }
    let named = peer_trusted
        .then(|| {
            let forwarded = header("x-forwarded-for").and_then(|v| v.rsplit(',').next());
            forwarded.or_else(|| header("x-real-ip"))
        })
        .flatten()
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    ClientAddress {
        ip: named.map_or(ip, |ip| ip.to_canonical()),
        trusted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets() -> Vec<ipnet::IpNet> {
        vec!["127.0.0.0/8".parse().unwrap()]
    }

    fn at(peer: &str, headers: &[(&'static str, &'static str)]) -> ClientAddress {
        let peer: SocketAddr = peer.parse().unwrap();
        let header = |name: &str| headers.iter().find(|(h, _)| *h == name).map(|(_, v)| *v);
        client_address(peer, header, &nets())
    }

    #[test]
    fn a_direct_caller_is_its_peer() {
        assert_eq!(
            at("127.0.0.1:5", &[]),
            ClientAddress {
                ip: "127.0.0.1".parse().unwrap(),
                trusted: true
            }
        );
        assert_eq!(
            at("10.1.1.1:5", &[]),
            ClientAddress {
                ip: "10.1.1.1".parse().unwrap(),
                trusted: false
            }
        );
        // An IPv4 peer on an IPv6 socket is its IPv4 address.
        assert!(at("[::ffff:127.0.0.1]:5", &[]).trusted);
    }

    #[test]
    fn a_trusted_proxy_names_its_client_and_an_untrusted_one_does_not() {
        let via_proxy = at("127.0.0.1:5", &[("x-forwarded-for", "1.2.3.4, 5.6.7.8")]);
        assert_eq!(
            via_proxy,
            ClientAddress {
                ip: "5.6.7.8".parse().unwrap(),
                trusted: false
            }
        );
        let real_ip = at("127.0.0.1:5", &[("x-real-ip", "9.9.9.9")]);
        assert_eq!(real_ip.ip, "9.9.9.9".parse::<IpAddr>().unwrap());
        let forged = at("10.1.1.1:5", &[("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(
            forged,
            ClientAddress {
                ip: "10.1.1.1".parse().unwrap(),
                trusted: false
            }
        );
        let garbage = at("127.0.0.1:5", &[("x-forwarded-for", "not an address")]);
        assert_eq!(
            garbage,
            ClientAddress {
                ip: "127.0.0.1".parse().unwrap(),
                trusted: false
            }
        );
    }
}
