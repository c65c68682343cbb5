//! Name resolution in-process: every host name the HTTP client connects to is
//! looked up here, by hickory's resolver, never by the C library's
//! `getaddrinfo`. The harness ships as a static glibc binary in a `scratch`
//! image, where what `getaddrinfo` can do depends on the glibc it was linked
//! with and on the container's `nsswitch.conf` (the glibc 2.36 the images are
//! built with here has its `files` and `dns` look-ups built in, and resolved a
//! container name on `scratch`; told `hosts: files`, it could not). Hickory
//! depends on neither: it reads `/etc/resolv.conf` and `/etc/hosts` itself
//! (Docker mounts both into every container, `scratch` included; on a
//! user-defined network the nameserver is Docker's own, `127.0.0.11`, which
//! knows the other containers by name) and speaks DNS itself, inside each
//! request's deadline.
//!
//! One [`Resolver`] serves a whole client: reqwest's connector asks it (it is
//! the client's `dns_resolver`) and so does the raw path, so both see the same
//! answers from one cache. A target given by IP address never reaches it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfigGroup, ResolveHosts, ResolverConfig,
};
use hickory_resolver::name_server::TokioConnectionProvider;

use super::exchange::chain;

/// Why a host name has no address to connect to. Renders as one line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    /// The system's resolver configuration could not be read (no
    /// `/etc/resolv.conf`, or none that names a nameserver).
    #[error("cannot resolve the host name {host}: cannot read the system's DNS configuration")]
    NoConfig {
        host: String,
        #[source]
        source: Arc<hickory_resolver::ResolveError>,
    },
    /// The hosts file and the nameservers know no address for the name.
    #[error("cannot resolve the host name {host}: no such host")]
    NoAddress { host: String },
    /// The look-up itself failed: no nameserver answered, or not in time.
    #[error("cannot resolve the host name {host}")]
    Failed {
        host: String,
        #[source]
        source: hickory_resolver::ResolveError,
    },
}

/// IPv4 addresses, and IPv6 ones only for a name that has none: what hickory
/// does by default, set here because reqwest's own hickory resolver asks for
/// both families at once, and that waits for the slower of the two answers. A
/// name from `/etc/hosts` (`docker run --add-host`) with an IPv4 address then
/// had its IPv6 question sent on to Docker's DNS, which asks the host's
/// nameserver about names it does not know, on every new connection: on the
/// machine this was found on, the suite's raw probes (a connection each) ran
/// out of their 5 s deadline.
const STRATEGY: LookupIpStrategy = LookupIpStrategy::Ipv4thenIpv6;

/// The in-process resolver of one client; clones share it, and its cache.
#[derive(Clone)]
pub struct Resolver {
    /// The resolver, or why none could be configured: kept, not raised, so that
    /// a run against an IP address works where no DNS is configured at all.
    dns: Arc<Result<TokioResolver, Arc<hickory_resolver::ResolveError>>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.dns.as_ref() {
            Ok(dns) => f
                .debug_struct("Resolver")
                .field("nameservers", &dns.config().name_servers().len())
                .finish(),
            Err(err) => f
                .debug_struct("Resolver")
                .field("unconfigured", &err.to_string())
                .finish(),
        }
    }
}

impl Resolver {
    /// The system's resolver: the nameservers, search domains and options of
    /// `/etc/resolv.conf` (the registry on Windows), and `/etc/hosts`.
    pub fn system() -> Self {
        let dns = TokioResolver::builder_tokio()
            .map(|mut builder| {
                builder.options_mut().ip_strategy = STRATEGY;
                builder.build()
            })
            .map_err(Arc::new);
        Self { dns: Arc::new(dns) }
    }

    /// A resolver that asks the nameserver at `addr` (UDP, then TCP) and
    /// nothing else: no hosts file, no search domains. A name it resolves can
    /// only have come from that server, which is how the tests prove that
    /// names are resolved in-process.
    pub fn with_nameserver(addr: SocketAddr) -> Self {
        let servers = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), servers);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default());
        let options = builder.options_mut();
        options.ip_strategy = STRATEGY;
        options.use_hosts_file = ResolveHosts::Never;
        Self {
            dns: Arc::new(Ok(builder.build())),
        }
    }

    /// The addresses of `host`: its IPv4 ones, or its IPv6 ones if it has no
    /// IPv4 one. `host` is a URL's host: a name, an IPv4 address, or an IPv6
    /// address in brackets; an address is returned as it is, without a look-up.
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let dns = self
            .dns
            .as_ref()
            .as_ref()
            .map_err(|source| ResolveError::NoConfig {
                host: host.to_owned(),
                source: Arc::clone(source),
            })?;
        let found = dns.lookup_ip(host).await.map_err(|source| {
            if source.is_no_records_found() || source.is_nx_domain() {
                ResolveError::NoAddress {
                    host: host.to_owned(),
                }
            } else {
                ResolveError::Failed {
                    host: host.to_owned(),
                    source,
                }
            }
        })?;
        let ips: Vec<IpAddr> = found.iter().collect();
        if ips.is_empty() {
            return Err(ResolveError::NoAddress {
                host: host.to_owned(),
            });
        }
        Ok(ips)
    }

    /// A TCP connection to `host:port`: its addresses from [`Self::lookup`],
    /// tried in turn until one accepts (the raw path's connector; reqwest's
    /// tries the addresses [`reqwest::dns::Resolve`] gives it the same way).
    pub async fn connect(&self, host: &str, port: u16) -> Result<tokio::net::TcpStream, String> {
        let ips = self
            .lookup(host)
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {}", chain(&e)))?;
        let mut failures = Vec::new();
        for ip in ips {
            let addr = SocketAddr::new(ip, port);
            match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => failures.push(format!("{addr}: {e}")),
            }
        }
        Err(format!(
            "cannot connect to {host}:{port} ({})",
            failures.join("; ")
        ))
    }
}

/// reqwest's connector resolves through the same resolver as the raw path.
impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let ips = resolver.lookup(name.as_str()).await?;
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn addresses_are_not_looked_up() {
        // A nameserver that cannot answer: an address must not need one.
        let resolver = Resolver::with_nameserver("127.0.0.1:9".parse().expect("addr"));
        let rt = runtime();
        assert_eq!(
            rt.block_on(resolver.lookup("10.1.2.3")).expect("v4"),
            vec!["10.1.2.3".parse::<IpAddr>().expect("ip")]
        );
        assert_eq!(
            rt.block_on(resolver.lookup("[::1]")).expect("v6"),
            vec!["::1".parse::<IpAddr>().expect("ip")]
        );
    }

    #[test]
    fn localhost_resolves_to_its_ipv4_loopback() {
        // RFC 6761: the resolver knows `localhost` itself, without a nameserver
        // (here one that cannot answer) or a hosts file.
        let resolver = Resolver::with_nameserver("127.0.0.1:9".parse().expect("addr"));
        let ips = runtime()
            .block_on(resolver.lookup("localhost"))
            .expect("localhost resolves");
        assert_eq!(ips, vec![IpAddr::from([127, 0, 0, 1])]);
    }

    #[test]
    fn a_name_under_invalid_has_no_address_at_once() {
        // RFC 6761: `.invalid` never resolves, and the resolver answers so
        // without asking a nameserver (here one that cannot answer).
        let resolver = Resolver::with_nameserver("127.0.0.1:9".parse().expect("addr"));
        let err = runtime()
            .block_on(resolver.lookup("no-such-host.invalid"))
            .expect_err("no address");
        assert!(matches!(err, ResolveError::NoAddress { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "cannot resolve the host name no-such-host.invalid: no such host"
        );
    }
}
