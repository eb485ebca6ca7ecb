//! Find emails: the company's domain, the addresses its site publishes, and the address
//! pattern inferred from them, with a confidence and the evidence behind it.
//!
//! `run` works company by company, `concurrency` at a time. Network work happens in async
//! tasks that never touch the database; the caller's task reads the caches first and writes
//! results as each company finishes, so a cancelled run keeps everything done so far.

pub mod choice;
pub mod domain;
pub mod extract;
pub mod names;
pub mod pattern;
pub mod search;
pub mod site;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use rusqlite::Connection;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::store::{self, StoreError, suggestions as db};
use domain::{DnsResolver, MailDns};
use pattern::{KnownPerson, Name, Seen};
use site::{Http, HttpOptions, SiteReport};

#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("no company named {0:?} (by name or key; `hailer export prospects` lists them)")]
    NoCompany(String),
    #[error("cannot set up the network clients: {0}")]
    Setup(String),
}

/// What to do.
#[derive(Debug, Clone)]
pub struct FindIn {
    pub company: Option<String>,
    pub concurrency: usize,
    pub refresh: bool,
}

/// How to do it (from `[search]`, `[dns]` and `[tls]`).
#[derive(Debug, Clone)]
pub struct FindSettings {
    pub search_url: String,
    pub skip_domains: Vec<String>,
    pub tlds: Vec<String>,
    pub max_pages: usize,
    pub cache_ttl: Duration,
    pub nameservers: Vec<SocketAddr>,
    pub dns_timeout: Duration,
    pub http: HttpOptions,
}

impl FindSettings {
    pub fn from_config(c: &Config) -> Result<FindSettings, String> {
        let mut http = HttpOptions {
            timeout: Duration::from_secs(c.search.timeout_secs),
            max_bytes: c.search.max_page_bytes,
            host_delay: Duration::from_millis(c.search.host_delay_ms),
            ..HttpOptions::default()
        };
        if let Some(ca) = &c.tls.ca_file {
            http.extra_ca = crate::net::tls::load_ca_file(ca)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|d| d.to_vec())
                .collect();
        }
        Ok(FindSettings {
            search_url: c.search.url.clone(),
            skip_domains: c.search.skip_domains.clone(),
            tlds: c.search.tlds.clone(),
            max_pages: c.search.max_pages as usize,
            cache_ttl: Duration::from_secs(u64::from(c.search.cache_days) * 86_400),
            nameservers: c
                .dns
                .nameservers
                .iter()
                .filter_map(|n| crate::config::parse_nameserver(n))
                .collect(),
            dns_timeout: Duration::from_secs(c.search.timeout_secs.min(5)),
            http,
        })
    }
}

/// What was done.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FindOut {
    pub companies: u64,
    /// Companies with a domain that takes mail or answers DNS: `domains_given` plus
    /// `domains_found`.
    pub with_domain: u64,
    /// Of `with_domain`, those given in the import (or by hand).
    pub domains_given: u64,
    /// Of `with_domain`, those found by web search or guess.
    pub domains_found: u64,
    /// Companies whose pattern rests on at least one personal address (published or imported).
    pub patterns_found: u64,
    pub suggestions: u64,
    pub no_domain: u64,
    pub no_mail: u64,
    /// Companies answered from the caches (their domain lookup, their site, or both).
    pub from_cache: u64,
    /// Companies with a domain (imported or found) whose MX/A lookup failed (timeout,
    /// SERVFAIL, refused): not counted in `with_domain`, tried again by the next run.
    pub dns_failed: u64,
    /// The search engine refused to answer (captcha, HTTP 403/429/202).
    pub search_blocked: bool,
    /// The search engine could not be reached or failed (connection refused, timeout, 5xx).
    pub search_unreachable: bool,
    /// What the search engine did, with its host (never the whole URL, which may hold a key):
    /// set with `search_blocked` or `search_unreachable`.
    pub search_error: Option<String>,
    pub cancelled: bool,
}

impl std::fmt::Display for FindOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::text::count;
        write!(
            f,
            "{}: {} with a domain ({} given, {} found){}, {} from published or imported addresses, {}; {} without a domain, {} without mail; {} from cache{}{}",
            count(self.companies, "company", "companies"),
            self.with_domain,
            self.domains_given,
            self.domains_found,
            if self.dns_failed > 0 {
                format!("; {} more not checked: DNS failed", self.dns_failed)
            } else {
                String::new()
            },
            count(self.patterns_found, "pattern", "patterns"),
            count(self.suggestions, "suggestion", "suggestions"),
            self.no_domain,
            self.no_mail,
            self.from_cache,
            match (
                &self.search_error,
                self.search_blocked || self.search_unreachable
            ) {
                (Some(e), _) => format!("; {e}; guesses used"),
                (None, true) => "; web search failed, guesses used".into(),
                (None, false) => String::new(),
            },
            if self.cancelled { "; cancelled" } else { "" }
        )
    }
}

struct Person {
    id: i64,
    first: String,
    last: String,
    /// The address the import gave (or, without one, the address the user typed in), if
    /// any: evidence of the company's pattern.
    email: Option<String>,
    /// `email` was typed in by the user, not imported.
    typed: bool,
    /// The person's LinkedIn profile from an imported column (header, URL): shown with the
    /// suggestion so the user can check who the person is. Never fetched.
    linkedin: Option<(String, String)>,
}

/// A LinkedIn profile among a prospect's extra columns: the first column whose header names
/// LinkedIn (`LinkedIn`, `Profil LinkedIn`, `URL LinkedIn`…) or whose value is a
/// linkedin.com address, with that value.
fn linkedin_profile(extra: &str) -> Option<(String, String)> {
    let columns: serde_json::Map<String, serde_json::Value> = serde_json::from_str(extra).ok()?;
    let is_profile = |v: &str| {
        let host = v
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        host == "linkedin.com" || host.ends_with(".linkedin.com")
    };
    let named = |h: &str| crate::engine::import::normalize::header_key(h).contains("linkedin");
    columns
        .iter()
        .filter_map(|(h, v)| Some((h, v.as_str()?.trim())))
        .filter(|(_, v)| !v.is_empty())
        .find(|(h, v)| named(h) || is_profile(v))
        .map(|(h, v)| (h.clone(), v.to_string()))
}

struct Work {
    key: String,
    name: String,
    /// Domain the user gave (import or manual), with its source.
    given: Option<(String, String)>,
    /// The domain most of the company's imported addresses are at (not a personal mail
    /// provider's), how many, and one of them: tried before any search.
    email_domain: Option<(String, usize, String)>,
    cached: Option<db::CachedDomain>,
    /// From the bundled sample data: fictional, so no web search and only `.test` guesses.
    sample: bool,
}

struct Done {
    key: String,
    domain: db::CachedDomain,
    /// DNS and the web search answered for sure (a transient failure is not cached).
    cacheable: bool,
    /// The domain lookup came from the cache.
    domain_from_cache: bool,
    site: Option<SiteReport>,
    site_is_new: bool,
}

/// Shared by the company tasks.
struct Ctx {
    http: Http,
    dns: DnsResolver,
    settings: FindSettings,
    sites: HashMap<String, SiteReport>,
    /// Set once the search engine blocked or failed: the rest of the run backs off.
    search_off: std::sync::Mutex<Option<SearchFailure>>,
    /// Searches that failed in a row without an answer (timeouts, refused connections, 5xx):
    /// one may be a blip, so the run backs off only after [`SEARCH_MISSES_BEFORE_BACKOFF`].
    search_misses: std::sync::atomic::AtomicU32,
    /// The rest of the run does without the search engine (it blocked us, or kept failing).
    search_backoff: std::sync::atomic::AtomicBool,
    searches: AtomicU64,
}

/// Why a company from the bundled sample data is looked up only under `.test`.
const SAMPLE_NOTE: &str =
    "a fictional company from the sample data (hailer demo): only .test domains are guessed";

/// Run the find engine. `progress(done, total, note)` is called after each company.
pub async fn run(
    conn: &Connection,
    input: &FindIn,
    settings: FindSettings,
    token: &CancellationToken,
    mut progress: impl FnMut(u64, u64, &str),
) -> Result<FindOut, FindError> {
    let now = store::now_ts();
    let fresh_after = if input.refresh {
        i64::MAX
    } else {
        now - settings.cache_ttl.as_secs() as i64
    };
    let mut companies = store::companies::list(conn)?;
    if let Some(k) = &input.company {
        // The key, or the name as the user sees it ("Acme Corp" has key "acme").
        let key = crate::engine::import::normalize::company_key(k);
        companies.retain(|c| c.key == *k || c.key == key);
        if companies.is_empty() {
            return Err(FindError::NoCompany(k.clone()));
        }
    }
    let mut people: HashMap<String, Vec<Person>> = HashMap::new();
    let mut prospect_domains: HashMap<String, String> = HashMap::new();
    // company → domain of its imported addresses → (count, first address)
    let mut address_domains: HashMap<String, HashMap<String, (usize, String)>> = HashMap::new();
    let mut typed = db::typed_addresses(conn)?;
    for mut p in store::prospects::list(conn)? {
        let typed_in = p.email.is_none() && typed.contains_key(&p.id);
        if typed_in {
            p.email = typed.remove(&p.id);
        }
        if let Some(d) = &p.domain {
            prospect_domains
                .entry(p.company_key.clone())
                .or_insert(d.clone());
        }
        if let Some(email) = &p.email
            && let Some((_, d)) = email.rsplit_once('@')
            && !domain::is_personal_mail(d)
        {
            let seen = address_domains
                .entry(p.company_key.clone())
                .or_default()
                .entry(d.to_ascii_lowercase())
                .or_insert((0, email.to_ascii_lowercase()));
            seen.0 += 1;
        }
        people
            .entry(p.company_key.clone())
            .or_default()
            .push(Person {
                id: p.id,
                first: p.firstname,
                last: p.lastname,
                email: p.email,
                typed: typed_in,
                linkedin: linkedin_profile(&p.extra),
            });
    }
    let mut work = Vec::new();
    let mut sites = HashMap::new();
    for c in &companies {
        let given = match (&c.domain, c.domain_source.as_deref()) {
            (Some(d), Some(src @ ("import" | "manual"))) => Some((d.clone(), src.to_string())),
            _ => prospect_domains
                .get(&c.key)
                .map(|d| (d.clone(), "import".to_string())),
        };
        // Most addresses first, then by name, so a run is repeatable.
        let email_domain = address_domains.remove(&c.key).and_then(|m| {
            m.into_iter()
                .map(|(d, (n, example))| (d, n, example))
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        });
        let cached = db::cached_domain(conn, &c.key, fresh_after)?.filter(|cd| {
            given
                .as_ref()
                .is_none_or(|(g, _)| cd.domain.as_deref() == Some(g))
                // "No domain" was cached before the addresses that name one came in.
                && (cd.domain.is_some() || email_domain.is_none())
        });
        // The company's last found domain too: a domain guessed while the search was down is
        // not cached, but its site is, and the search will likely land on it again.
        let domain = cached
            .as_ref()
            .and_then(|cd| cd.domain.clone())
            .or_else(|| given.as_ref().map(|g| g.0.clone()))
            .or_else(|| c.domain.clone());
        if let Some(d) = domain
            && let Some(json) = db::cached_site(conn, &d, fresh_after)?
            && let Ok(r) = serde_json::from_str::<SiteReport>(&json)
        {
            sites.insert(d, r);
        }
        work.push(Work {
            key: c.key.clone(),
            name: c.name.clone(),
            given,
            email_domain,
            cached,
            sample: c.sample,
        });
    }
    let dns =
        domain::resolver(&settings.nameservers, settings.dns_timeout).map_err(FindError::Setup)?;
    // Site names go through the configured nameservers too (the same resolver and cache).
    let site_dns = (!settings.nameservers.is_empty()).then(|| dns.clone());
    let http = Http::new(settings.http.clone(), site_dns).map_err(FindError::Setup)?;
    let ctx = Arc::new(Ctx {
        http,
        dns,
        settings,
        sites,
        search_off: std::sync::Mutex::new(None),
        search_misses: std::sync::atomic::AtomicU32::new(0),
        search_backoff: std::sync::atomic::AtomicBool::new(false),
        searches: AtomicU64::new(0),
    });
    let total = work.len() as u64;
    let mut out = FindOut {
        companies: total,
        ..FindOut::default()
    };
    let names: HashMap<String, String> = work
        .iter()
        .map(|w| (w.key.clone(), w.name.clone()))
        .collect();
    let mut stream = futures::stream::iter(work.into_iter().map(|w| {
        let ctx = ctx.clone();
        let token = token.clone();
        async move { company(&ctx, w, &token).await }
    }))
    .buffer_unordered(input.concurrency.max(1));
    let mut done_count = 0u64;
    loop {
        let next = tokio::select! {
            n = stream.next() => n,
            _ = token.cancelled() => None,
        };
        let Some(d) = next else { break };
        // A company that ends once the run is stopped may have been cut short by the stop (its
        // search or DNS query answered "cancelled"): it is not stored, not even as "no
        // domain", and the next run does it again.
        if token.is_cancelled() {
            break;
        }
        done_count += 1;
        let pp = people.get(&d.key).map(Vec::as_slice).unwrap_or_default();
        save(conn, &d, pp, fresh_after, &mut out)?;
        let name = names.get(&d.key).cloned().unwrap_or_default();
        progress(done_count, total, &name);
    }
    out.cancelled = token.is_cancelled();
    if let Ok(off) = ctx.search_off.lock() {
        out.search_blocked = matches!(*off, Some(SearchFailure::Blocked(_)));
        out.search_unreachable = matches!(*off, Some(SearchFailure::Unreachable(_)));
        if let Some(SearchFailure::Blocked(w) | SearchFailure::Unreachable(w)) = &*off {
            out.search_error = Some(format!("{w} at {}", search_host(&ctx.settings.search_url)));
        }
    }
    Ok(out)
}

/// A suggestion the user accepted or edited is theirs: no run, not even `--refresh` (which
/// only bypasses the caches), replaces it.
const OVERWRITE_DECISIONS: bool = false;

/// Write one company's results: caches, the company's domain, a suggestion per prospect.
fn save(
    conn: &Connection,
    d: &Done,
    people: &[Person],
    fresh_after: i64,
    out: &mut FindOut,
) -> Result<(), FindError> {
    let now = store::now_ts();
    if d.cacheable {
        db::put_domain(conn, &d.key, &d.domain, now)?;
    }
    if !d.domain_from_cache {
        db::set_company_domain(conn, &d.key, &d.domain, now)?;
    }
    if d.site_is_new
        && let (Some(dom), Some(site)) = (&d.domain.domain, &d.site)
        && site.error.as_deref() != Some("cancelled")
        && !site.transient
    {
        db::put_site(
            conn,
            dom,
            &serde_json::to_string(site).unwrap_or_default(),
            now,
        )?;
    }
    if d.domain_from_cache || (!d.site_is_new && d.site.is_some()) {
        out.from_cache += 1;
    }
    let Some(dom) = &d.domain.domain else {
        out.no_domain += 1;
        for p in people {
            let ev = vec![d.domain.note.clone()];
            db::upsert(
                conn,
                &db::NewSuggestion {
                    prospect_id: p.id,
                    email: None,
                    alternatives: &[],
                    pattern: None,
                    confidence: 0,
                    evidence: &ev,
                    status: "no-domain",
                    reason: Some(&d.domain.note),
                },
                OVERWRITE_DECISIONS,
                now,
            )?;
        }
        return Ok(());
    };
    // A domain whose MX/A lookup failed is not found yet: counted apart (`dns_failed`).
    if !domain::describes_dns_failure(&d.domain.mail_dns) {
        out.with_domain += 1;
        if matches!(d.domain.source.as_deref(), Some("import" | "manual")) {
            out.domains_given += 1;
        } else {
            out.domains_found += 1;
        }
    }
    let mut head = vec![format!(
        "domain {dom} ({}): {}; DNS: {}",
        d.domain.source.as_deref().unwrap_or("?"),
        d.domain.note,
        d.domain.mail_dns
    )];
    if !d.domain.accepts_mail {
        // A DNS failure says nothing about the domain's mail: "failed" (try again), not
        // "no-mail" (null MX, does not resolve).
        let dns_failed = domain::describes_dns_failure(&d.domain.mail_dns);
        let status = if dns_failed { "failed" } else { "no-mail" };
        if dns_failed {
            out.dns_failed += 1;
        } else {
            out.no_mail += 1;
        }
        let reason = format!("{dom}: {}", d.domain.mail_dns);
        for p in people {
            // A passing DNS failure does not erase an address an earlier run found.
            if dns_failed && db::has_address(conn, p.id)? {
                continue;
            }
            db::upsert(
                conn,
                &db::NewSuggestion {
                    prospect_id: p.id,
                    email: None,
                    alternatives: &[],
                    pattern: None,
                    confidence: 0,
                    evidence: &head,
                    status,
                    reason: Some(&reason),
                },
                OVERWRITE_DECISIONS,
                now,
            )?;
        }
        return Ok(());
    }
    let mut seen = Vec::new();
    let mut reason = None;
    if let Some(site) = &d.site {
        for p in &site.pages {
            head.push(match &p.error {
                Some(e) => format!("page {}: {e}", p.url),
                None if p.found.is_empty() => format!("page {}: no address", p.url),
                None => format!(
                    "page {}: {}{}",
                    p.url,
                    p.found.join(", "),
                    if p.truncated {
                        " (page cut at the byte limit)"
                    } else {
                        ""
                    }
                ),
            });
        }
        if let Some(e) = &site.error {
            reason = Some(e.clone());
        }
        for (email, how, page) in &site.addresses {
            seen.push(Seen {
                email: email.clone(),
                source: format!("{how} on {page}"),
            });
        }
    }
    // Addresses the import gave for people at this domain are as good as published ones:
    // the pattern is read from them too.
    for p in people {
        let Some(email) = &p.email else { continue };
        let at_domain = email
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(dom));
        if at_domain && !seen.iter().any(|s| s.email.eq_ignore_ascii_case(email)) {
            seen.push(Seen {
                email: email.to_lowercase(),
                source: format!(
                    "{} for {} {}",
                    if p.typed { "typed in" } else { "imported" },
                    p.first,
                    p.last
                ),
            });
        }
    }
    let inputs = pattern_inputs(&seen, people);
    let cached = db::cached_pattern(conn, dom, &inputs, fresh_after)?
        .and_then(|j| serde_json::from_str::<pattern::Inference>(&j).ok());
    let inf = match cached {
        Some(inf) => inf,
        None => {
            let known: Vec<KnownPerson> = people
                .iter()
                .filter_map(|p| Name::new(&p.first, &p.last))
                .map(|name| KnownPerson { name })
                .collect();
            let inf = pattern::infer(&seen, &known);
            db::put_pattern(
                conn,
                &db::PatternRow {
                    domain: dom,
                    pattern: inf.pattern.name(),
                    confidence: inf.confidence,
                    evidence: &inf.evidence,
                    inputs: &inputs,
                    inference_json: &serde_json::to_string(&inf).unwrap_or_default(),
                },
                now,
            )?;
            inf
        }
    };
    if inf.votes > 0.0 {
        out.patterns_found += 1;
    }
    for p in people {
        let Some(name) = Name::new(&p.first, &p.last) else {
            db::upsert(
                conn,
                &db::NewSuggestion {
                    prospect_id: p.id,
                    email: None,
                    alternatives: &[],
                    pattern: None,
                    confidence: 0,
                    evidence: &head,
                    status: "failed",
                    reason: Some("the name has no letters"),
                },
                OVERWRITE_DECISIONS,
                now,
            )?;
            continue;
        };
        let own = p
            .email
            .as_deref()
            .and_then(|email| seen.iter().find(|s| s.email.eq_ignore_ascii_case(email)));
        let s = match own {
            Some(own) => pattern::own_address(&name, &own.email, &inf, own),
            None => pattern::suggest(&name, dom, &inf, &seen),
        };
        let mut evidence = head.clone();
        if let Some((column, url)) = &p.linkedin {
            evidence.push(format!(
                "LinkedIn profile (imported column {column:?}, not fetched): {url}"
            ));
        }
        evidence.extend(s.evidence.iter().cloned());
        db::upsert(
            conn,
            &db::NewSuggestion {
                prospect_id: p.id,
                email: Some(&s.email),
                alternatives: &s.alternatives,
                pattern: Some(&s.pattern),
                confidence: s.confidence,
                evidence: &evidence,
                status: "suggested",
                reason: reason.as_deref(),
            },
            OVERWRITE_DECISIONS,
            now,
        )?;
        out.suggestions += 1;
    }
    Ok(())
}

/// Fingerprint of what a pattern is learned from: the addresses seen (in order, with where)
/// and the company's prospects' names. Another prospect or another address relearns it.
fn pattern_inputs(seen: &[Seen], people: &[Person]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // Bumped when `pattern::infer` changes what it concludes, so cached patterns are relearned.
    h.update(b"infer-v3\0");
    for s in seen {
        h.update(s.email.as_bytes());
        h.update([0]);
        h.update(s.source.as_bytes());
        h.update([1]);
    }
    h.update([2]);
    for p in people {
        h.update(p.first.as_bytes());
        h.update([0]);
        h.update(p.last.as_bytes());
        h.update([1]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Network work for one company: domain (given, cached, searched or guessed), then its site.
async fn company(ctx: &Ctx, w: Work, token: &CancellationToken) -> Done {
    let domain_from_cache = w.cached.is_some();
    let (domain, cacheable) = match w.cached {
        Some(c) => (c, false),
        // A sample company's answer is not cached: imported again for real, it is looked
        // up in full at once.
        None => {
            let (domain, cacheable) = find_domain(ctx, &w, token).await;
            (domain, cacheable && !w.sample)
        }
    };
    let (site, site_is_new) = match &domain.domain {
        Some(d) if domain.accepts_mail => match ctx.sites.get(d) {
            Some(s) => (Some(s.clone()), false),
            None if token.is_cancelled() => (None, false),
            None => (
                Some(site::crawl(&ctx.http, d, ctx.settings.max_pages, token).await),
                true,
            ),
        },
        _ => (None, false),
    };
    Done {
        key: w.key,
        domain,
        cacheable,
        domain_from_cache,
        site,
        site_is_new,
    }
}

async fn dns_check(ctx: &Ctx, domain: &str, token: &CancellationToken) -> MailDns {
    tokio::select! {
        r = domain::check(&ctx.dns, domain) => r,
        _ = token.cancelled() => MailDns::Failed("cancelled".into()),
    }
}

async fn find_domain(ctx: &Ctx, w: &Work, token: &CancellationToken) -> (db::CachedDomain, bool) {
    let found = |domain: &str, source: &str, note: String, dns: &MailDns| db::CachedDomain {
        domain: Some(domain.to_string()),
        source: Some(source.to_string()),
        note,
        mail_dns: dns.describe(),
        accepts_mail: dns.accepts_mail(),
    };
    if let Some((d, src)) = &w.given {
        let dns = dns_check(ctx, d, token).await;
        let transient = matches!(dns, MailDns::Failed(_));
        return (
            found(d, src, "given in the imported file".into(), &dns),
            !transient,
        );
    }
    let mut notes: Vec<String> = Vec::new();
    let mut transient = false;
    // 1. The domain the company's imported addresses are at: the company's own mail says
    // more than a search result, when several people write from it or it looks like the
    // company's name. One address at an unlike domain may be someone's own mailbox at a
    // provider no list names: then it comes last, after the search and the guesses.
    let mut weak_email_domain = None;
    if let Some((d, n, example)) = &w.email_domain {
        let dns = dns_check(ctx, d, token).await;
        let strong = *n >= 2 || domain::name_similarity(&w.name, d) >= 0.5;
        match dns {
            MailDns::Mx(_) | MailDns::AOnly if !strong => {
                weak_email_domain = Some((d.clone(), example.clone(), dns));
            }
            MailDns::Mx(_) | MailDns::AOnly => {
                let note = if *n == 1 {
                    format!("the domain of an imported address ({example})")
                } else {
                    format!("the domain of {n} imported addresses ({example}, …)")
                };
                return (found(d, "email", note, &dns), !transient);
            }
            MailDns::Failed(_) => {
                transient = true;
                notes.push(format!("{d} (of imported addresses): {}", dns.describe()));
            }
            MailDns::Missing | MailDns::NullMx => {
                notes.push(format!("{d} (of imported addresses): {}", dns.describe()))
            }
        }
    }
    // 2. Web search, unless it was blocked or unreachable earlier in this run (back off).
    let off = ctx
        .search_backoff
        .load(Ordering::Relaxed)
        .then(|| ctx.search_off.lock().ok().and_then(|o| o.clone()))
        .flatten();
    if w.sample {
        notes.push(format!("web search skipped: {SAMPLE_NOTE}"));
    } else if ctx.settings.search_url.is_empty() {
        notes.push("web search off ([search] url is empty)".into());
    } else if let Some(off) = off {
        let (what, why) = match &off {
            SearchFailure::Blocked(w) => ("blocked", w),
            SearchFailure::Unreachable(w) => ("unreachable", w),
        };
        notes.push(format!(
            "web search skipped: {what} earlier in this run ({why})"
        ));
        // Not cached: the next run asks the search engine again.
        transient = true;
    } else {
        let answer = web_search(ctx, &w.name, token).await;
        if answer.is_ok() {
            ctx.search_misses.store(0, Ordering::Relaxed);
        }
        match answer {
            Ok(cands) if cands.is_empty() => notes.push("web search: no matching result".into()),
            Ok(cands) => {
                for c in cands.iter().take(3) {
                    let dns = dns_check(ctx, &c.domain, token).await;
                    match dns {
                        MailDns::Mx(_) | MailDns::AOnly | MailDns::NullMx => {
                            let note = format!(
                                "web search result #{} (name match {:.0}%)",
                                c.rank,
                                c.score.clamp(0.0, 1.0) * 100.0
                            );
                            // Not cached when a DNS lookup before it failed (the domain
                            // of imported addresses, an earlier result): next run asks again.
                            return (found(&c.domain, "search", note, &dns), !transient);
                        }
                        MailDns::Failed(_) => transient = true,
                        MailDns::Missing => {}
                    }
                    notes.push(format!("search result {}: {}", c.domain, dns.describe()));
                }
            }
            Err(e) => {
                let text = match &e {
                    SearchFailure::Blocked(w) | SearchFailure::Unreachable(w) => w.clone(),
                };
                notes.push(format!("{text}; falling back to guesses"));
                transient = true;
                // A search cut short by a stop says nothing about the engine. A block is
                // heeded at once (asking again makes it worse); failures after several in a
                // row (one timeout may be a blip).
                if !token.is_cancelled() {
                    let back_off = match &e {
                        SearchFailure::Blocked(_) => true,
                        SearchFailure::Unreachable(_) => {
                            ctx.search_misses.fetch_add(1, Ordering::Relaxed) + 1
                                >= SEARCH_MISSES_BEFORE_BACKOFF
                        }
                    };
                    if let Ok(mut off) = ctx.search_off.lock()
                        && (off.is_none() || back_off)
                    {
                        *off = Some(e);
                    }
                    if back_off {
                        ctx.search_backoff.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
    }
    // 3. Guesses from the name.
    let sample_tlds = ["test".to_string()];
    let tlds = if w.sample {
        &sample_tlds[..]
    } else {
        &ctx.settings.tlds[..]
    };
    // Which domains were tried, and what DNS said of each: "no guessed domain resolves"
    // alone leaves the user to wonder whether the right one was even asked.
    let mut tried: Vec<String> = Vec::new();
    for g in domain::guesses(&w.name, tlds) {
        if token.is_cancelled() {
            break;
        }
        let dns = dns_check(ctx, &g, token).await;
        match dns {
            MailDns::Mx(_) | MailDns::AOnly | MailDns::NullMx => {
                notes.push(format!("guessed from the company name: {g}"));
                return (found(&g, "guess", notes.join("; "), &dns), !transient);
            }
            MailDns::Failed(e) => {
                transient = true;
                tried.push(format!("{g} DNS failed: {e}"));
            }
            MailDns::Missing => tried.push(format!("{g} NXDOMAIN or no records")),
        }
    }
    if tried.is_empty() {
        notes.push("no domain could be guessed from the company name".into());
    } else {
        notes.push(format!(
            "no guessed domain resolves (guessed {})",
            tried.join(", ")
        ));
    }
    if let Some((d, example, dns)) = weak_email_domain {
        notes.push(format!(
            "so the domain of an imported address ({example}), though it does not look like \
             the company's name: check it"
        ));
        return (found(&d, "email", notes.join("; "), &dns), !transient);
    }
    (
        db::CachedDomain {
            domain: None,
            source: None,
            note: notes.join("; "),
            mail_dns: "-".into(),
            accepts_mail: false,
        },
        !transient && !token.is_cancelled(),
    )
}

/// The search URL's host and port, to name the engine: the URL itself may carry a key.
fn search_host(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "(search url)".into(),
        },
        Err(_) => "(search url)".into(),
    }
}

/// Why the web search gave nothing, with the text for the company's note.
#[derive(Debug, Clone)]
enum SearchFailure {
    /// The engine refused to answer: a challenge page, HTTP 202/403/429.
    Blocked(String),
    /// It could not be reached or failed: connection refused, timeout, an HTTP error.
    Unreachable(String),
}

/// Failed searches in a row after which a run stops asking the search engine.
const SEARCH_MISSES_BEFORE_BACKOFF: u32 = 3;

/// Search the web for the company; `Err` when the engine blocked us or failed.
async fn web_search(
    ctx: &Ctx,
    name: &str,
    token: &CancellationToken,
) -> Result<Vec<search::Scored>, SearchFailure> {
    use SearchFailure::{Blocked, Unreachable};
    let q: String =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    let url = ctx.settings.search_url.replace("{query}", &q);
    let url = reqwest::Url::parse(&url).map_err(|e| Unreachable(format!("search url: {e}")))?;
    ctx.searches.fetch_add(1, Ordering::Relaxed);
    let r = tokio::select! {
        r = ctx.http.get(&url) => r,
        _ = token.cancelled() => return Err(Unreachable("cancelled".into())),
    };
    let page = match r {
        Ok(f) if matches!(f.status, 202 | 403 | 429) => {
            return Err(Blocked(format!("web search blocked (HTTP {})", f.status)));
        }
        Ok(f) if f.status >= 400 => {
            return Err(Unreachable(format!(
                "web search failed (HTTP {})",
                f.status
            )));
        }
        Ok(f) => f,
        Err(e) => return Err(Unreachable(format!("web search unreachable ({e})"))),
    };
    match search::parse(&page.body) {
        search::Page::Results(hits) => {
            Ok(search::candidates(&hits, name, &ctx.settings.skip_domains))
        }
        search::Page::NoResults => Ok(Vec::new()),
        search::Page::Blocked(why) => Err(Blocked(format!("web search blocked ({why})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::linkedin_profile;

    #[test]
    fn a_linkedin_column_is_found_by_its_header_or_its_value() {
        for (extra, want) in [
            (
                r#"{"Ville":"Paris","Profil LinkedIn":"https://www.linkedin.com/in/jdupont"}"#,
                Some(("Profil LinkedIn", "https://www.linkedin.com/in/jdupont")),
            ),
            (
                r#"{"URL":"fr.linkedin.com/in/jdupont/"}"#,
                Some(("URL", "fr.linkedin.com/in/jdupont/")),
            ),
            (r#"{"linkedin":"  "}"#, None),
            (
                r#"{"URL":"https://notlinkedin.com/in/x","Site":"acme.test"}"#,
                None,
            ),
            ("not json", None),
        ] {
            let got = linkedin_profile(extra);
            assert_eq!(
                got.as_ref().map(|(h, v)| (h.as_str(), v.as_str())),
                want,
                "{extra}"
            );
        }
    }
}
