//! Domains: registrable domain (public-suffix aware), guesses from the company name, and the
//! DNS check every candidate goes through (MX, else A; a null MX means no mail).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use super::names;
use crate::engine::import::normalize::LEGAL_FORMS;

/// `www.shop.acme.co.uk` → `acme.co.uk`. Unknown TLDs (`.test`) count as one-label suffixes.
pub fn registrable(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&host).map(str::to_string)
}

/// A domain in its lower-case ASCII (A-label) form: `Bücher.test` → `xn--bcher-kva.test`.
/// A name IDNA refuses is only lower-cased (it then matches nothing found on a page).
pub fn ascii(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    crate::engine::verify::syntax::ascii_domain(&d).unwrap_or(d)
}

/// Whether a host or mail domain found on the company's site is the company's: the company
/// domain itself, a subdomain of it, or one sharing its registrable domain (`acme.test` and
/// `www.acme.test` for `fr.acme.test`). Both sides are compared in their A-label form.
pub fn same_company(found: &str, company: &str) -> bool {
    let (f, c) = (ascii(found), ascii(company));
    if f.is_empty() || c.is_empty() {
        return false;
    }
    if f == c || f.ends_with(&format!(".{c}")) {
        return true;
    }
    matches!((registrable(&f), registrable(&c)), (Some(a), Some(b)) if a == b)
}

/// The label(s) before the public suffix: `acme-industries.co.uk` → `acme-industries`.
fn stem(domain: &str) -> String {
    let suffix = psl::suffix_str(domain).unwrap_or_default();
    domain
        .strip_suffix(suffix)
        .unwrap_or(domain)
        .trim_end_matches('.')
        .to_string()
}

/// Company-name words without legal forms: "ACME Industries S.A." → ["acme", "industries"].
fn company_words(name: &str) -> Vec<String> {
    let words: Vec<String> = names::fold(&name.replace('.', ""))
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let kept: Vec<String> = words
        .iter()
        .filter(|w| !LEGAL_FORMS.contains(&w.as_str()))
        .cloned()
        .collect();
    if kept.is_empty() { words } else { kept }
}

/// Slug variants: joined, hyphenated, acronym, first word.
pub fn slugs(name: &str) -> Vec<String> {
    let words = company_words(name);
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if s.len() >= 2 && !out.contains(&s) {
            out.push(s);
        }
    };
    push(words.concat());
    push(words.join("-"));
    if words.len() >= 2 {
        push(words.iter().filter_map(|w| w.chars().next()).collect());
        if words[0].len() >= 4 {
            push(words[0].clone());
        }
    }
    out
}

/// Guessed domains: slugs × TLDs, in that order.
pub fn guesses(name: &str, tlds: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for s in slugs(name) {
        for t in tlds {
            out.push(format!("{s}.{}", t.trim_start_matches('.')));
        }
    }
    out
}

/// How much a domain looks like the company's (0..1): its stem against the name's slugs.
pub fn name_similarity(company: &str, domain: &str) -> f64 {
    let stem = stem(domain).replace(['-', '.'], "");
    if stem.is_empty() {
        return 0.0;
    }
    let words = company_words(company);
    let joined = words.concat();
    if joined.is_empty() {
        return 0.0;
    }
    if stem == joined {
        return 1.0;
    }
    let acronym: String = words.iter().filter_map(|w| w.chars().next()).collect();
    if words.len() >= 2 && stem == acronym {
        return 0.8;
    }
    if stem.contains(&joined) || joined.contains(&stem) && stem.len() >= 3 {
        let (a, b) = (stem.len().min(joined.len()), stem.len().max(joined.len()));
        return 0.6 + 0.3 * a as f64 / b as f64;
    }
    if words[0].len() >= 3 && stem.starts_with(&words[0]) {
        return 0.6;
    }
    // Bigram overlap (Dice) for near misses.
    let bigrams = |s: &str| -> Vec<(char, char)> {
        let c: Vec<char> = s.chars().collect();
        c.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, y) = (bigrams(&stem), bigrams(&joined));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let common = x.iter().filter(|b| y.contains(b)).count();
    0.9 * 2.0 * common as f64 / (x.len() + y.len()) as f64
}

/// What DNS says about a candidate domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailDns {
    /// MX hosts, by preference.
    Mx(Vec<String>),
    /// No MX but an address record: mail goes to the A host (RFC 5321 §5.1).
    AOnly,
    /// RFC 7505 null MX: the domain accepts no mail.
    NullMx,
    /// NXDOMAIN or no records at all.
    Missing,
    /// SERVFAIL, timeout, refused: unknown, try again later.
    Failed(String),
}

impl MailDns {
    pub fn accepts_mail(&self) -> bool {
        matches!(self, MailDns::Mx(_) | MailDns::AOnly)
    }

    pub fn describe(&self) -> String {
        match self {
            MailDns::Mx(h) => format!("MX {}", h.join(", ")),
            MailDns::AOnly => "no MX, A record (mail to the host)".into(),
            MailDns::NullMx => "null MX (RFC 7505): accepts no mail".into(),
            MailDns::Missing => "does not resolve".into(),
            MailDns::Failed(e) => format!("{DNS_FAILED}: {e}"),
        }
    }
}

/// Mail providers for people, not companies: an imported address there says nothing of the
/// company's domain. The big international ones and the French and German ISPs' mail.
#[rustfmt::skip]
const PERSONAL_MAIL: &[&str] = &[
    "gmail.com", "googlemail.com", "ymail.com", "rocketmail.com", "aol.com", "aim.com",
    "msn.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me",
    "tutanota.com", "tuta.io", "gmx.com", "gmx.net", "web.de", "t-online.de", "freenet.de",
    "arcor.de", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net",
    "bbox.fr", "numericable.fr", "club-internet.fr", "aliceadsl.fr", "yandex.com", "yandex.ru",
    "mail.ru", "zoho.com", "fastmail.com", "fastmail.fm", "hey.com", "libero.it", "virgilio.it",
    "tiscali.it", "alice.it", "qq.com", "163.com", "126.com", "sina.com", "naver.com",
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "cox.net", "charter.net",
    "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com", "talktalk.net",
    "bluewin.ch", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "telenet.be",
    "skynet.be", "ziggo.nl", "kpnmail.nl", "xs4all.nl", "shaw.ca", "rogers.com",
    "bigpond.com", "optusnet.com.au", "terra.com.br", "uol.com.br", "bol.com.br",
];

/// Providers present under many country domains: `hotmail.de`, `yahoo.co.jp`. Only brands
/// that are nothing but mail providers: `live` and `orange` are words many companies use
/// (orange.com is Orange's own staff domain), so their mail domains are listed one by one.
const PERSONAL_MAIL_ANY_TLD: &[&str] = &[
    "hotmail",
    "outlook",
    "yahoo",
    "gmx",
    "yandex",
    "windowslive",
];

/// Microsoft's `live` and Orange's consumer mail domains.
#[rustfmt::skip]
const PERSONAL_MAIL_LIVE_ORANGE: &[&str] = &[
    "live.com", "live.fr", "live.be", "live.ca", "live.de", "live.at", "live.ch", "live.nl",
    "live.it", "live.se", "live.dk", "live.no", "live.fi", "live.ie", "live.co.uk", "live.com.au",
    "live.com.mx", "live.com.ar", "live.com.pt", "live.cl", "live.in", "live.jp", "live.cn",
    "live.ru", "live.co.za",
    "orange.fr", "orange.net", "orange.es", "orange.pl", "orange.ro", "orangemail.es",
    "orangehome.co.uk",
];

/// Special-use top-level domains (RFC 2606, 6761): never a mail provider's.
const SPECIAL_USE_TLDS: &[&str] = &["test", "example", "invalid", "localhost", "local"];

/// `domain` belongs to a mail provider for people (gmail.com, hotmail.de, orange.fr, …).
pub fn is_personal_mail(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if PERSONAL_MAIL.contains(&domain.as_str())
        || PERSONAL_MAIL_LIVE_ORANGE.contains(&domain.as_str())
    {
        return true;
    }
    let tld = domain.rsplit('.').next().unwrap_or_default();
    if SPECIAL_USE_TLDS.contains(&tld) {
        return false;
    }
    // The name right before the public suffix: `hotmail` in hotmail.co.uk.
    PERSONAL_MAIL_ANY_TLD.contains(&stem(&domain).as_str())
}

const DNS_FAILED: &str = "DNS failed";

/// A [`MailDns::describe`] text (as stored with a domain) that says the lookup failed, which
/// says nothing about the domain's mail.
pub fn describes_dns_failure(text: &str) -> bool {
    text.starts_with(DNS_FAILED)
}

pub type DnsResolver = Resolver<TokioRuntimeProvider>;

/// A resolver on the configured nameservers (`IP:port`), or the system's.
pub fn resolver(nameservers: &[SocketAddr], timeout: Duration) -> Result<DnsResolver, String> {
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 1;
    let builder = if nameservers.is_empty() {
        Resolver::builder_tokio().map_err(|e| e.to_string())?
    } else {
        let servers = nameservers
            .iter()
            .map(|ns| {
                let mut c = NameServerConfig::udp_and_tcp(ns.ip());
                for conn in &mut c.connections {
                    conn.port = ns.port();
                }
                c
            })
            .collect();
        Resolver::builder_with_config(
            ResolverConfig::from_parts(None, vec![], servers),
            TokioRuntimeProvider::default(),
        )
    };
    builder
        .with_options(opts)
        .build()
        .map_err(|e| e.to_string())
}

fn is_not_found(e: &hickory_resolver::net::NetError) -> bool {
    e.is_no_records_found() || e.is_nx_domain()
}

/// MX, else A/AAAA.
pub async fn check(resolver: &DnsResolver, domain: &str) -> MailDns {
    let fqdn = format!("{}.", domain.trim_end_matches('.'));
    match resolver.mx_lookup(fqdn.as_str()).await {
        Ok(mx) => {
            let mut hosts: Vec<(u16, String)> = mx
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    hickory_resolver::proto::rr::RData::MX(m) => {
                        Some((m.preference, m.exchange.to_string()))
                    }
                    _ => None,
                })
                .collect();
            hosts.sort();
            if hosts.len() == 1 && (hosts[0].1 == "." || hosts[0].1.is_empty()) {
                return MailDns::NullMx;
            }
            if !hosts.is_empty() {
                return MailDns::Mx(
                    hosts
                        .into_iter()
                        .map(|(_, h)| h.trim_end_matches('.').to_string())
                        .collect(),
                );
            }
        }
        Err(e) if is_not_found(&e) => {}
        Err(e) => return MailDns::Failed(crate::engine::verify::dns::failure_text(&e)),
    }
    match resolver.lookup_ip(fqdn.as_str()).await {
        Ok(ips) if ips.iter().next().is_some() => MailDns::AOnly,
        Ok(_) => MailDns::Missing,
        Err(e) if is_not_found(&e) => MailDns::Missing,
        Err(e) => MailDns::Failed(crate::engine::verify::dns::failure_text(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_company_domains() {
        assert!(same_company("xn--bcher-kva.test", "Bücher.test"));
        assert!(same_company("bücher.test", "xn--bcher-kva.test"));
        assert!(same_company("acme.test", "fr.acme.test"));
        assert!(same_company("www.acme.test", "fr.acme.test"));
        assert!(same_company("mail.fr.acme.test", "fr.acme.test"));
        assert!(same_company("www.acme.co.uk", "acme.co.uk"));
        assert!(!same_company("other.test", "acme.test"));
        assert!(!same_company("notacme.test", "acme.test"));
        assert!(!same_company("other.co.uk", "acme.co.uk"));
    }

    #[test]
    fn personal_mail_providers_are_known_under_any_country_domain() {
        for d in [
            "gmail.com",
            "hotmail.de",
            "yahoo.co.jp",
            "Outlook.fr.",
            "bluewin.ch",
        ] {
            assert!(is_personal_mail(d), "{d}");
        }
        for d in [
            "acme.test",
            "orange-business.test",
            "livenation.test",
            "pp-hq.test",
            // A company's own domain under a brand word, and test data.
            "live.test",
            "orange.test",
            "hotmail.test",
            "orange.com",
            "orange-business.com",
            "live.events",
        ] {
            assert!(!is_personal_mail(d), "{d}");
        }
        for d in [
            "live.com",
            "live.fr",
            "Live.co.uk",
            "orange.fr",
            "wanadoo.fr",
        ] {
            assert!(is_personal_mail(d), "{d}");
        }
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("www.acme.co.uk").unwrap(), "acme.co.uk");
        assert_eq!(registrable("shop.acme.fr.").unwrap(), "acme.fr");
        assert_eq!(registrable("www.acme.test").unwrap(), "acme.test");
        assert_eq!(registrable("fr.linkedin.com").unwrap(), "linkedin.com");
    }

    #[test]
    fn slug_variants_and_guesses() {
        assert_eq!(
            slugs("ACME Industries S.A."),
            vec!["acmeindustries", "acme-industries", "ai", "acme"]
        );
        assert_eq!(slugs("L'Étoile SARL"), vec!["letoile"]);
        let g = guesses("Acme", &["com".into(), "co.uk".into()]);
        assert_eq!(g, vec!["acme.com", "acme.co.uk"]);
    }

    #[test]
    fn similarity() {
        assert_eq!(
            name_similarity("Acme Industries SA", "acme-industries.co.uk"),
            1.0
        );
        assert!(name_similarity("Acme Industries", "ai.fr") >= 0.8);
        assert!(name_similarity("Acme", "acmegroup.com") > 0.6);
        assert!(name_similarity("Acme", "unrelated.fr") < 0.5);
    }
}
