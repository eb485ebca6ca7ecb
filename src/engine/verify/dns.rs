//! Mail routing lookups: MX sorted by preference, the implicit MX of RFC 5321 §5.1 (A/AAAA of
//! the domain when it has no MX), null MX (RFC 7505), and resolver failures told apart.
//!
//! The resolver is hickory with our own nameservers (`[dns] nameservers`, `IP:port`) or the
//! system's, and short timeouts: every lookup is also capped as a whole, so a dead resolver
//! costs seconds, not the resolver library's retries.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;

#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// Empty: the system resolver (`/etc/resolv.conf`).
    pub nameservers: Vec<SocketAddr>,
    /// Per query attempt.
    pub timeout: Duration,
    pub attempts: usize,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(3),
            attempts: 2,
        }
    }
}

/// One mail exchanger to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxHost {
    pub preference: u16,
    /// Lower-case, without the trailing dot.
    pub name: String,
    /// The domain itself, used because it has no MX record (RFC 5321 §5.1).
    pub implicit: bool,
}

/// Where mail for a domain goes, when DNS answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// Hosts in the order to try them (preference ascending, then name).
    Hosts(Vec<MxHost>),
    /// `MX 0 .`: the domain declares it accepts no mail (RFC 7505).
    NullMx,
    /// The domain does not exist.
    NxDomain,
    /// The domain exists but has neither MX nor address records.
    NoMail,
}

/// DNS did not answer usefully; the verdict is TEMPORARY and the text says which case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("DNS server failure (SERVFAIL) for {query}")]
    ServFail { query: String },
    /// The resolver declines to answer (not configured to recurse for us, or an ACL).
    #[error("DNS query refused (REFUSED) by the resolver for {query}")]
    Refused { query: String },
    #[error("DNS timeout for {query}")]
    Timeout { query: String },
    #[error("DNS error for {query}: {reason}")]
    Other { query: String, reason: String },
    #[error("DNS resolver setup: {0}")]
    Setup(String),
}

impl DnsError {
    /// The resolver answered that it will not help (SERVFAIL, REFUSED): asking again in a
    /// minute gets the same answer, unlike a greylisting server or a lost packet.
    pub fn is_resolver_answer(&self) -> bool {
        matches!(self, DnsError::ServFail { .. } | DnsError::Refused { .. })
    }
}

pub struct Dns {
    resolver: TokioResolver,
    /// The cap on one whole lookup, retries and fallbacks included.
    cap: Duration,
}

impl Dns {
    pub fn new(settings: &DnsSettings) -> Result<Dns, DnsError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if settings.nameservers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| DnsError::Setup(e.to_string()))?
        } else {
            let servers = settings
                .nameservers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
        };
        let opts = builder.options_mut();
        opts.timeout = settings.timeout;
        opts.attempts = settings.attempts.max(1);
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        opts.ndots = 0;
        // hailer keeps its own short-lived cache of verdicts per domain; hickory's is bounded too.
        opts.cache_size = 1024;
        let resolver = builder
            .build()
            .map_err(|e| DnsError::Setup(e.to_string()))?;
        // Saturating: a huge timeout is a long cap, not an overflow panic.
        let attempts = u32::try_from(settings.attempts.max(1)).unwrap_or(u32::MAX);
        let servers = u32::try_from(settings.nameservers.len().max(1)).unwrap_or(u32::MAX);
        let cap = settings
            .timeout
            .saturating_mul(attempts)
            .saturating_mul(servers)
            .saturating_add(Duration::from_millis(500));
        Ok(Dns { resolver, cap })
    }

    /// The mail exchangers of `domain` (A-label form).
    pub async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let fqdn = fqdn(domain);
        let query = format!("MX {domain}");
        match self
            .capped(&query, self.resolver.mx_lookup(fqdn.as_str()))
            .await
        {
            Ok(lookup) => {
                let mut hosts = Vec::new();
                let mut null_mx = false;
                for record in lookup.answers() {
                    if let RData::MX(mx) = &record.data {
                        if mx.exchange.is_root() {
                            null_mx = true;
                            continue;
                        }
                        hosts.push(MxHost {
                            preference: mx.preference,
                            name: host_name(&mx.exchange.to_ascii()),
                            implicit: false,
                        });
                    }
                }
                if hosts.is_empty() {
                    return Ok(if null_mx {
                        MxAnswer::NullMx
                    } else {
                        self.implicit_mx(domain).await?
                    });
                }
                hosts.sort_by(|a, b| (a.preference, &a.name).cmp(&(b.preference, &b.name)));
                hosts.dedup_by(|a, b| a.name == b.name);
                Ok(MxAnswer::Hosts(hosts))
            }
            Err(Lookup::NxDomain) => Ok(MxAnswer::NxDomain),
            Err(Lookup::NoData) => self.implicit_mx(domain).await,
            Err(Lookup::Failed(e)) => Err(e),
        }
    }

    /// No MX: the domain itself is the mail host when it has an address (RFC 5321 §5.1).
    async fn implicit_mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        Ok(match self.addresses(domain).await? {
            Some(addrs) if !addrs.is_empty() => MxAnswer::Hosts(vec![MxHost {
                preference: 0,
                name: host_name(domain),
                implicit: true,
            }]),
            Some(_) => MxAnswer::NoMail,
            None => MxAnswer::NxDomain,
        })
    }

    /// Addresses of a host; `Ok(None)` when the name does not exist, `Ok(vec![])` when it has
    /// no A/AAAA records.
    pub async fn addresses(&self, host: &str) -> Result<Option<Vec<IpAddr>>, DnsError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Some(vec![ip]));
        }
        let query = format!("A/AAAA {host}");
        match self
            .capped(&query, self.resolver.lookup_ip(fqdn(host).as_str()))
            .await
        {
            Ok(ips) => Ok(Some(ips.iter().collect())),
            Err(Lookup::NxDomain) => Ok(None),
            Err(Lookup::NoData) => Ok(Some(Vec::new())),
            Err(Lookup::Failed(e)) => Err(e),
        }
    }

    async fn capped<T>(
        &self,
        query: &str,
        fut: impl Future<Output = Result<T, NetError>>,
    ) -> Result<T, Lookup> {
        match tokio::time::timeout(self.cap, fut).await {
            Err(_) => Err(Lookup::Failed(DnsError::Timeout {
                query: query.to_string(),
            })),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(query, &e)),
        }
    }
}

enum Lookup {
    NxDomain,
    NoData,
    Failed(DnsError),
}

fn classify(query: &str, e: &NetError) -> Lookup {
    if e.is_nx_domain() {
        return Lookup::NxDomain;
    }
    let query = query.to_string();
    match e {
        NetError::Dns(HickoryDnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NoError => Lookup::NoData,
            ResponseCode::NXDomain => Lookup::NxDomain,
            ResponseCode::ServFail => Lookup::Failed(DnsError::ServFail { query }),
            ResponseCode::Refused => Lookup::Failed(DnsError::Refused { query }),
            code => Lookup::Failed(DnsError::Other {
                query,
                reason: format!("response code {code}"),
            }),
        },
        NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::ServFail)) => {
            Lookup::Failed(DnsError::ServFail { query })
        }
        NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::Refused)) => {
            Lookup::Failed(DnsError::Refused { query })
        }
        NetError::Timeout => Lookup::Failed(DnsError::Timeout { query }),
        other => {
            let reason = other.to_string();
            if reason.contains("timed out") || reason.contains("timeout") {
                Lookup::Failed(DnsError::Timeout { query })
            } else if reason.contains("ServFail") || reason.contains("SERVFAIL") {
                Lookup::Failed(DnsError::ServFail { query })
            } else if reason.contains("Refused") || reason.contains("REFUSED") {
                Lookup::Failed(DnsError::Refused { query })
            } else {
                Lookup::Failed(DnsError::Other { query, reason })
            }
        }
    }
}

/// A failed lookup in a few words without the query name (`server failure (SERVFAIL)`,
/// `timed out`, …), for callers that say which name themselves (the find engine's notes).
pub fn failure_text(e: &NetError) -> String {
    match classify("", e) {
        Lookup::Failed(DnsError::ServFail { .. }) => "server failure (SERVFAIL)".into(),
        Lookup::Failed(DnsError::Refused { .. }) => "query refused (REFUSED)".into(),
        Lookup::Failed(DnsError::Timeout { .. }) => "timed out".into(),
        Lookup::Failed(DnsError::Other { reason, .. }) => reason,
        Lookup::Failed(DnsError::Setup(reason)) => reason,
        Lookup::NxDomain => "no such domain (NXDOMAIN)".into(),
        Lookup::NoData => "no records".into(),
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn host_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The scripted DNS responder the tests share (also used by `tests/verify_faults.rs`).
#[cfg(test)]
#[path = "../../../tests/common/fake_dns.rs"]
pub(crate) mod fake;

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Instant;

    use hickory_resolver::proto::rr::RecordType;

    use super::fake::{Answer, serve};
    use super::*;

    fn dns(addr: SocketAddr, timeout_ms: u64) -> Dns {
        Dns::new(&DnsSettings {
            nameservers: vec![addr],
            timeout: Duration::from_millis(timeout_ms),
            attempts: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_huge_timeout_makes_a_long_cap_not_an_overflow() {
        let settings = DnsSettings {
            nameservers: vec!["127.0.0.1:53".parse().unwrap(); 3],
            timeout: Duration::from_secs(10_000_000_000_000_000_000),
            attempts: 4,
        };
        let d = Dns::new(&settings).unwrap();
        assert_eq!(d.cap, Duration::MAX);
    }

    #[tokio::test]
    async fn mx_hosts_come_sorted_by_preference() {
        let addr = serve(vec![(
            "multi.example.com",
            RecordType::MX,
            Answer::Mx(vec![
                (30, "c.example.com"),
                (10, "B.example.com"),
                (20, "a.example.com"),
            ]),
        )])
        .await;
        let got = dns(addr, 1000).mx("multi.example.com").await.unwrap();
        let MxAnswer::Hosts(hosts) = got else {
            panic!("{got:?}")
        };
        let names: Vec<_> = hosts
            .iter()
            .map(|h| (h.preference, h.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (10, "b.example.com"),
                (20, "a.example.com"),
                (30, "c.example.com")
            ]
        );
        assert!(hosts.iter().all(|h| !h.implicit));
    }

    #[tokio::test]
    async fn no_mx_falls_back_to_the_domain_address() {
        let addr = serve(vec![(
            "nomx.example.com",
            RecordType::A,
            Answer::A(Ipv4Addr::new(127, 0, 0, 9)),
        )])
        .await;
        let d = dns(addr, 1000);
        assert_eq!(
            d.mx("nomx.example.com").await.unwrap(),
            MxAnswer::Hosts(vec![MxHost {
                preference: 0,
                name: "nomx.example.com".into(),
                implicit: true
            }])
        );
        assert_eq!(
            d.addresses("nomx.example.com").await.unwrap(),
            Some(vec![IpAddr::from([127, 0, 0, 9])])
        );
    }

    #[tokio::test]
    async fn null_mx_nxdomain_and_empty_domain() {
        let addr = serve(vec![
            (
                "nullmx.example.com",
                RecordType::MX,
                Answer::Mx(vec![(0, "")]),
            ),
            (
                "empty.example.com",
                RecordType::TXT,
                Answer::Code(ResponseCode::NoError),
            ),
        ])
        .await;
        let d = dns(addr, 1000);
        assert_eq!(d.mx("nullmx.example.com").await.unwrap(), MxAnswer::NullMx);
        assert_eq!(
            d.mx("nosuch.example.com").await.unwrap(),
            MxAnswer::NxDomain
        );
        assert_eq!(d.mx("empty.example.com").await.unwrap(), MxAnswer::NoMail);
    }

    #[tokio::test]
    async fn servfail_and_timeout_are_told_apart() {
        let addr = serve(vec![
            (
                "broken.example.com",
                RecordType::MX,
                Answer::Code(ResponseCode::ServFail),
            ),
            ("silent.example.com", RecordType::MX, Answer::Silence),
        ])
        .await;
        let d = dns(addr, 300);
        let e = d.mx("broken.example.com").await.unwrap_err();
        assert!(matches!(e, DnsError::ServFail { .. }), "{e:?}");
        let started = Instant::now();
        let e = d.mx("silent.example.com").await.unwrap_err();
        assert!(matches!(e, DnsError::Timeout { .. }), "{e:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
}
