//! Fetching: one HTTP client for the search page and company sites, with timeouts, a byte
//! limit per page, a redirect limit (loops stop), a politeness delay per host, robots.txt,
//! and decoding of non-UTF-8 pages. Then site discovery: the home page and the likely pages.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use scraper::{Html, Selector};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::domain::same_company;
use super::extract::{self, Found};

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub timeout: Duration,
    pub max_bytes: u64,
    pub host_delay: Duration,
    pub max_redirects: usize,
    pub user_agent: String,
    /// Company sites are fetched over this scheme (`https`; tests use `http`).
    pub scheme: String,
    /// Port added to company-site URLs (tests: the fixture server's).
    pub port: Option<u16>,
    /// Every host name resolves to this address (tests: 127.0.0.1), so nothing leaves loopback.
    pub resolve_to: Option<IpAddr>,
    /// Extra CA certificates (DER) trusted on top of the public roots.
    pub extra_ca: Vec<Vec<u8>>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_bytes: 1_000_000,
            host_delay: Duration::from_millis(500),
            max_redirects: 5,
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
                .into(),
            scheme: "https".into(),
            port: None,
            resolve_to: None,
            extra_ca: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FetchError {
    #[error("timed out")]
    Timeout,
    #[error("redirect loop or too many redirects")]
    Redirects,
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("disallowed by robots.txt")]
    Robots,
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// Worth trying again on a later run.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout | FetchError::Connect(_) => true,
            FetchError::Status(code) => *code == 429 || *code >= 500,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: Url,
    pub status: u16,
    pub body: String,
    pub truncated: bool,
}

struct FixedResolver(IpAddr);

impl reqwest::dns::Resolve for FixedResolver {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = SocketAddr::new(self.0, 0);
        Box::pin(async move {
            Ok(Box::new(std::iter::once(addr)) as Box<dyn Iterator<Item = SocketAddr> + Send>)
        })
    }
}

/// Site names looked up on the configured nameservers (A and AAAA).
struct ConfiguredResolver(super::domain::DnsResolver);

impl reqwest::dns::Resolve for ConfiguredResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        Box::pin(async move {
            let fqdn = format!("{}.", name.as_str().trim_end_matches('.'));
            // hickory's own text quotes its query struct (`Query { name: Name("…") … }`): the
            // find engine's notes get words instead.
            let ips = resolver.lookup_ip(fqdn.as_str()).await.map_err(|e| {
                let why = if e.is_no_records_found() || e.is_nx_domain() {
                    format!("{} has no address (no A or AAAA record)", name.as_str())
                } else {
                    format!(
                        "looking up {}: {}",
                        name.as_str(),
                        crate::engine::verify::dns::failure_text(&e)
                    )
                };
                Box::new(std::io::Error::other(why)) as Box<dyn std::error::Error + Send + Sync>
            })?;
            let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as Box<dyn Iterator<Item = SocketAddr> + Send>)
        })
    }
}

#[derive(Default)]
struct Robots {
    /// (allow, path prefix)
    rules: Vec<(bool, String)>,
}

impl Robots {
    /// The group for `*` (or one naming hailer), `Allow`/`Disallow` prefixes, longest wins.
    fn parse(text: &str) -> Robots {
        let mut rules = Vec::new();
        let mut in_group = false;
        let mut last_was_agent = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "user-agent" => {
                    let me = v == "*" || v.eq_ignore_ascii_case("hailer");
                    in_group = if last_was_agent { in_group || me } else { me };
                    last_was_agent = true;
                }
                "allow" | "disallow" => {
                    last_was_agent = false;
                    if in_group && !v.is_empty() {
                        rules.push((k == "allow", v.to_string()));
                    }
                }
                _ => last_was_agent = false,
            }
        }
        Robots { rules }
    }

    fn allows(&self, path: &str) -> bool {
        self.rules
            .iter()
            .filter(|(_, p)| path.starts_with(p.trim_end_matches('*')))
            .max_by_key(|(allow, p)| (p.len(), *allow))
            .is_none_or(|(allow, _)| *allow)
    }
}

pub struct Http {
    client: reqwest::Client,
    pub opts: HttpOptions,
    next_slot: Mutex<HashMap<String, Instant>>,
    robots: Mutex<HashMap<String, Arc<Robots>>>,
}

impl Http {
    /// `site_dns`: the resolver on `[dns] nameservers` that find looks MX records up with,
    /// for site names too (a split or private DNS must answer both the same way); `None`:
    /// the system resolver.
    pub fn new(
        opts: HttpOptions,
        site_dns: Option<super::domain::DnsResolver>,
    ) -> Result<Http, String> {
        let max = opts.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                attempt.error("too many redirects")
            } else if attempt.previous().contains(attempt.url()) {
                attempt.error("redirect loop")
            } else {
                attempt.follow()
            }
        });
        let mut b = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .redirect(policy);
        if let Some(ip) = opts.resolve_to {
            b = b.dns_resolver(FixedResolver(ip));
        } else if let Some(resolver) = site_dns {
            b = b.dns_resolver(ConfiguredResolver(resolver));
        }
        let mut certs = Vec::new();
        for der in &opts.extra_ca {
            certs.push(reqwest::Certificate::from_der(der).map_err(|e| e.to_string())?);
        }
        if !certs.is_empty() {
            b = b.tls_certs_merge(certs);
        }
        Ok(Http {
            client: b.build().map_err(|e| e.to_string())?,
            opts,
            next_slot: Mutex::new(HashMap::new()),
            robots: Mutex::new(HashMap::new()),
        })
    }

    /// The home-page URL of a domain on the configured scheme and port.
    pub fn site_url(&self, host: &str, path: &str) -> Option<Url> {
        let port = self.opts.port.map(|p| format!(":{p}")).unwrap_or_default();
        Url::parse(&format!("{}://{host}{port}{path}", self.opts.scheme)).ok()
    }

    /// Wait for this host's politeness slot.
    async fn polite(&self, host: &str) {
        let wait = {
            let mut slots = self.next_slot.lock().await;
            let now = Instant::now();
            let at = slots.get(host).copied().unwrap_or(now).max(now);
            slots.insert(host.to_string(), at + self.opts.host_delay);
            at - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// GET with every limit applied; the body is decoded to text.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        let host = url.host_str().unwrap_or_default().to_string();
        self.polite(&host).await;
        let mut resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status().as_u16();
        let final_url = resp.url().clone();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut bytes: Vec<u8> = Vec::new();
        let mut truncated = false;
        let limit = self.opts.max_bytes as usize;
        loop {
            match tokio::time::timeout(self.opts.timeout, resp.chunk()).await {
                Err(_) => return Err(FetchError::Timeout),
                Ok(Err(e)) => return Err(classify(e)),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    let room = limit - bytes.len();
                    if chunk.len() >= room {
                        bytes.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
        }
        Ok(Fetched {
            url: final_url,
            status,
            body: decode(&bytes, &content_type),
            truncated,
        })
    }

    /// GET unless robots.txt of the URL's origin disallows it.
    pub async fn get_polite(&self, url: &Url) -> Result<Fetched, FetchError> {
        let origin = url.origin().ascii_serialization();
        let robots = {
            let cached = self.robots.lock().await.get(&origin).cloned();
            match cached {
                Some(r) => r,
                None => {
                    let r = match url.join("/robots.txt") {
                        Ok(ru) => match self.get(&ru).await {
                            Ok(f) if f.status == 200 => Robots::parse(&f.body),
                            _ => Robots::default(),
                        },
                        Err(_) => Robots::default(),
                    };
                    let r = Arc::new(r);
                    self.robots.lock().await.insert(origin, r.clone());
                    r
                }
            }
        };
        if !robots.allows(url.path()) {
            return Err(FetchError::Robots);
        }
        let f = self.get(url).await?;
        if f.status >= 400 {
            return Err(FetchError::Status(f.status));
        }
        Ok(f)
    }
}

fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_redirect() {
        FetchError::Redirects
    } else if e.is_connect() {
        FetchError::Connect(root_cause(&e))
    } else {
        FetchError::Other(root_cause(&e))
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

/// Charset from the Content-Type header, else a `<meta charset>` in the first 2 KB, else
/// UTF-8 when valid, else windows-1252 (the WHATWG default for Latin-1 labels).
pub fn decode(bytes: &[u8], content_type: &str) -> String {
    let label = charset_of(content_type).or_else(|| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_ascii_lowercase();
        let pos = head.find("charset=")?;
        let rest = head[pos + 8..].trim_start_matches(['"', '\'']);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    });
    let enc = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    if enc == encoding_rs::UTF_8 && std::str::from_utf8(bytes).is_err() {
        return encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned();
    }
    enc.decode(bytes).0.into_owned()
}

fn charset_of(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    let pos = lower.find("charset=")?;
    Some(
        lower[pos + 8..]
            .trim_matches(|c: char| c == '"' || c.is_whitespace())
            .split(';')
            .next()?
            .to_string(),
    )
}

/// Words in a link's text or href that point at pages listing people or addresses.
pub const LIKELY: &[&str] = &[
    "contact",
    "about",
    "a-propos",
    "apropos",
    "qui-sommes-nous",
    "team",
    "equipe",
    "équipe",
    "notre-equipe",
    "mentions",
    "mentions-legales",
    "legal",
    "impressum",
    "imprint",
    "press",
    "presse",
    "careers",
    "carrieres",
    "recrutement",
    "jobs",
    "people",
    "leadership",
    "direction",
];

/// Links of a page to likely pages at the company's domain (see [`same_company`]), most
/// likely first.
pub fn likely_links(html: &str, base: &Url, domain: &str) -> Vec<Url> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("a[href]").expect("static selector");
    let mut scored: Vec<(usize, Url)> = Vec::new();
    for a in doc.select(&sel) {
        let href = a.value().attr("href").unwrap_or_default();
        let Ok(mut url) = base.join(href) else {
            continue;
        };
        url.set_fragment(None);
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let same = url.host_str().is_some_and(|h| same_company(h, domain));
        if !same || url.path() == base.path() {
            continue;
        }
        let text = format!(
            "{} {}",
            a.text().collect::<String>().to_lowercase(),
            url.path().to_lowercase()
        );
        let text = super::names::fold(&text).replace(' ', "-") + &text;
        if let Some(rank) = LIKELY.iter().position(|w| text.contains(w))
            && !scored.iter().any(|(_, u)| *u == url)
        {
            scored.push((rank, url));
        }
    }
    scored.sort_by_key(|(r, _)| *r);
    scored.into_iter().map(|(_, u)| u).collect()
}

/// One fetched page and what it gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageReport {
    pub url: String,
    pub found: Vec<String>,
    pub error: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteReport {
    pub pages: Vec<PageReport>,
    /// (address, how, page) at the company's domain.
    pub addresses: Vec<(String, String, String)>,
    /// Why nothing could be read, when the home page failed.
    pub error: Option<String>,
    /// A page failed in a way that may pass (timeout, refused connection, HTTP 429 or 5xx):
    /// such a report is used for this run but not cached, so the next run tries again.
    #[serde(default)]
    pub transient: bool,
}

impl SiteReport {
    /// A page that could not be read: listed with why, and whether a later run may do better.
    fn page_failed(&mut self, url: &str, e: &FetchError) {
        self.transient |= e.is_transient();
        self.pages.push(PageReport {
            url: url.to_string(),
            found: vec![],
            error: Some(e.to_string()),
            truncated: false,
        });
    }
}

/// Fetch the home page and up to `max_pages` likely pages; keep addresses at `domain`, in
/// Unicode or A-label form, its subdomains and its registrable domain.
pub async fn crawl(
    http: &Http,
    domain: &str,
    max_pages: usize,
    token: &tokio_util::sync::CancellationToken,
) -> SiteReport {
    let mut report = SiteReport::default();
    let mut home = None;
    let mut first_err = None;
    for host in [domain.to_string(), format!("www.{domain}")] {
        let Some(url) = http.site_url(&host, "/") else {
            continue;
        };
        let r = tokio::select! {
            r = http.get_polite(&url) => r,
            _ = token.cancelled() => { report.error = Some("cancelled".into()); return report; }
        };
        match r {
            Ok(f) => {
                // The bare domain failing while www answers is how the site is, not a
                // passing failure: the report may be cached.
                report.transient = false;
                home = Some(f);
                break;
            }
            Err(e) => {
                report.page_failed(url.as_str(), &e);
                first_err.get_or_insert(e.to_string());
            }
        }
    }
    let Some(home) = home else {
        report.error = Some(format!(
            "site unreachable: {}",
            first_err.unwrap_or_default()
        ));
        return report;
    };
    let mut queue = likely_links(&home.body, &home.url, domain);
    queue.truncate(max_pages);
    let mut pages = vec![(home.url.clone(), Ok(home))];
    for url in queue {
        if token.is_cancelled() {
            break;
        }
        let r = tokio::select! {
            r = http.get_polite(&url) => r,
            _ = token.cancelled() => break,
        };
        pages.push((url, r));
    }
    for (url, r) in pages {
        match r {
            Ok(f) => {
                let found: Vec<Found> = extract::extract(&f.body);
                let mut kept = Vec::new();
                for x in found {
                    let at_domain = x
                        .email
                        .rsplit_once('@')
                        .is_some_and(|(_, d)| same_company(d, domain));
                    if at_domain {
                        kept.push(x.email.clone());
                        if !report.addresses.iter().any(|(e, _, _)| *e == x.email) {
                            report
                                .addresses
                                .push((x.email, x.how.to_string(), f.url.to_string()));
                        }
                    }
                }
                report.pages.push(PageReport {
                    url: f.url.to_string(),
                    found: kept,
                    error: None,
                    truncated: f.truncated,
                });
            }
            Err(e) => report.page_failed(url.as_str(), &e),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules() {
        let r = Robots::parse(
            "User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\nAllow: /private/ok\n",
        );
        assert!(r.allows("/contact"));
        assert!(!r.allows("/private/team"));
        assert!(r.allows("/private/ok/x"));
        assert!(Robots::parse("").allows("/anything"));
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"caf\xe9", "text/html; charset=ISO-8859-1"), "café");
        assert_eq!(
            decode(b"<meta charset=\"latin1\">caf\xe9", ""),
            "<meta charset=\"latin1\">café"
        );
        assert_eq!(decode(b"caf\xe9", ""), "café");
        assert_eq!(decode("café".as_bytes(), ""), "café");
    }

    #[test]
    fn likely_links_stay_on_the_domain() {
        let base = Url::parse("https://www.acme.fr/").unwrap();
        let html = r#"<a href="/produits">Produits</a><a href="/nous-contacter">Nous contacter</a>
            <a href="https://acme.fr/mentions-legales">Mentions légales</a><a href="https://www.linkedin.com/company/acme">About us</a>
            <a href="/a-propos#top">À propos</a><a href="mailto:x@acme.fr">mail</a><a href="/equipe">Notre équipe</a>"#;
        let got: Vec<String> = likely_links(html, &base, "acme.fr")
            .into_iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            got,
            vec![
                "https://www.acme.fr/nous-contacter",
                "https://www.acme.fr/a-propos",
                "https://www.acme.fr/equipe",
                "https://acme.fr/mentions-legales",
            ]
        );
    }
}
