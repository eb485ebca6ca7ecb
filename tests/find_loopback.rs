//! The find engine against real local servers: an HTTP server started here on 127.0.0.1:0
//! serves a search results page shaped like DuckDuckGo's HTML endpoint and the fixture
//! company sites (obfuscations, Cloudflare encoding, robots.txt, redirects, a redirect loop,
//! an oversized page, a Latin-1 page, a slow page, a server error); MX answers come from the
//! mail rig's dnsmasq. Every host name resolves to 127.0.0.1: nothing leaves loopback.

mod common;
#[path = "common/fake_dns.rs"]
mod fake_dns;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::rig::Rig;
use hailer::engine::find::site::HttpOptions;
use hailer::engine::find::{self, FindIn, FindSettings};
use hailer::engine::import::normalize::{company_key, person_key};
use hailer::store::{self, Store, prospects::NewProspect, suggestions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

fn cf(email: &str) -> String {
    std::iter::once(0x5au8)
        .chain(email.bytes().map(|b| b ^ 0x5a))
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn uddg(url: &str) -> String {
    format!(
        "//duckduckgo.com/l/?uddg={}&amp;rut=f00",
        percent_encoding::utf8_percent_encode(url, percent_encoding::NON_ALPHANUMERIC)
    )
}

fn result(href: &str, title: &str, ad: bool) -> String {
    format!(
        r#"<div class="result results_links results_links_deep {} ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a class="result__a" rel="nofollow" href="{href}">{title}</a></h2>
    <a class="result__url" href="{href}">x</a>
    <a class="result__snippet" href="{href}">snippet <b>{title}</b></a>
  </div>
</div>"#,
        if ad { "result--ad" } else { "web-result" }
    )
}

/// (status, extra headers, body) for a request.
fn route(host: &str, path: &str) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    let html = |s: String| {
        (
            200,
            vec![("Content-Type", "text/html; charset=utf-8".to_string())],
            s.into_bytes(),
        )
    };
    let port = host.split(':').nth(1).unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    match (host, path) {
        ("127.0.0.1", p) if p.starts_with("/html/") => {
            let q = p.split("q=").nth(1).unwrap_or_default();
            if q.starts_with("Deadmx") {
                return (403, vec![], b"<html>Forbidden</html>".to_vec());
            }
            if q.contains("Ratelimit") {
                return (429, vec![("Retry-After", "60".into())], b"<html>Too Many Requests</html>".to_vec());
            }
            if q.contains("Captcha") {
                return html(r#"<html><body><form id="challenge-form" action="//duckduckgo.com/anomaly.js?sv=html"></form></body></html>"#.into());
            }
            if q.starts_with("Fallback") {
                let body = [
                    result("//duckduckgo.com/y.js?ad_domain=fallbackdeals.test", "Fallback deals", true),
                    result(&uddg("https://fr.linkedin.com/company/fallback"), "Fallback | LinkedIn", false),
                    result(&uddg("https://www.societe.com/societe/fallback-123.html"), "FALLBACK INDUSTRIES (societe.com)", false),
                    result(&uddg("http://www.fallback.test/"), "Fallback <b>Industries</b>", false),
                ]
                .concat();
                return html(format!(r#"<html><body><div id="links" class="results">{body}</div></body></html>"#));
            }
            html(r#"<html><body><div class="no-results">No results.</div></body></html>"#.into())
        }
        (_, "/robots.txt") if host.ends_with("acme.test") => (200, vec![], b"User-agent: *\nDisallow: /private\n".to_vec()),
        (_, "/robots.txt") => (404, vec![], vec![]),
        ("acme.test", "/") => html(r#"<html><body><h1>Acme</h1>
            <a href="/produits">Produits</a> <a href="/contact">Contact</a> <a href="/equipe">Notre équipe</a>
            <a href="/mentions-legales">Mentions légales</a> <a href="/private/team">Team (internal)</a>
            <a href="https://www.linkedin.com/company/acme">About us on LinkedIn</a></body></html>"#.into()),
        ("acme.test", "/contact") => html(r#"<html><body>
            <a href="mailto:contact@acme.test">contact@acme.test</a>
            <p>Ventes : <a href="mailto:sales%40acme.test?subject=Devis">écrire</a></p>
            <p>Jane Doe: jane [dot] doe [at] acme [dot] test</p>
            <p>John Smith : john&#46;smith&#64;acme&#46;test</p>
            <p>Sophie Garnier : sophie.garnier at acme.test</p></body></html>"#.into()),
        ("acme.test", "/equipe") => html(format!(r#"<html><body>
            <p>Paul Martin <a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="{}">[email&#160;protected]</a></p>
            <p>Léa Petit <a href="/cdn-cgi/l/email-protection#{}">écrire</a></p></body></html>"#, cf("paul.martin@acme.test"), cf("lea.petit@acme.test"))),
        ("acme.test", "/mentions-legales") => html(r#"<html><head><script type="application/ld+json">
            {"@context":"https://schema.org","@type":"Organization","name":"Acme","email":"dpo@acme.test"}</script></head>
            <body><p>Directeur de la publication : marc.leroy(at)acme(dot)test</p><p>Hébergeur : someone@hosting.example</p></body></html>"#.into()),
        // A company whose domain is given in Unicode (bücher.test) and one whose domain is a
        // subdomain (fr.acme.test) of the registrable domain its people's addresses use.
        ("xn--bcher-kva.test", "/") => html(r#"<p>anna.weber@xn--bcher-kva.test</p><a href="/impressum">Impressum</a>"#.into()),
        ("xn--bcher-kva.test", "/impressum") => html(r#"<a href="mailto:max.mueller@xn--bcher-kva.test">Max</a>"#.into()),
        ("fr.acme.test", "/") => html(format!(r#"<p>julie.dupont@acme.test, paul.roux@fr.acme.test, x.y@other.test</p>
            <a href="http://www.acme.test:{port}/equipe-fr">Notre équipe</a><a href="http://other.test:{port}/contact">Contact</a>"#)),
        ("www.acme.test", "/equipe-fr") => html("<p>marc.leroy@acme.test</p>".into()),
        ("acme.test", "/private/team") => html("<p>secret.person@acme.test</p>".into()),
        ("catchall.test", "/") => (301, vec![("Location", "/fr/".into())], vec![]),
        ("catchall.test", "/fr/") => {
            let mut body = b"<html><head><title>Soci\xe9t\xe9 Catchall</title></head><body><p>\xc9crivez \xe0 H\xe9l\xe8ne G\xe9rard : helene.gerard@catchall.test</p>".to_vec();
            body.extend_from_slice(b"<a href=\"/fr/qui-sommes-nous\">Qui sommes-nous ?</a></body></html>");
            (200, vec![("Content-Type", "text/html; charset=ISO-8859-1".into())], body)
        }
        ("catchall.test", "/fr/qui-sommes-nous") => html("<p>Marc Leroy — marc.leroy@catchall.test</p>".into()),
        ("greylist.test", "/") => {
            let mut s = String::from(r#"<html><body><p>early.bird@greylist.test</p><a href="/contact">Contact</a><a href="/about">About</a>"#);
            while s.len() < 3_000_000 {
                s.push_str("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n");
            }
            s.push_str("<p>late.comer@greylist.test</p></body></html>");
            html(s)
        }
        ("greylist.test", "/contact") => (302, vec![("Location", "/contact-us".into())], vec![]),
        ("greylist.test", "/contact-us") => (302, vec![("Location", "/contact".into())], vec![]),
        ("nomx.test", _) => (500, vec![], b"<h1>Internal Server Error</h1>".to_vec()),
        ("fallback.test" | "www.fallback.test", "/") => html(r#"<a href="/contact">Contact us</a>"#.into()),
        ("fallback.test" | "www.fallback.test", "/contact") => html("<p>a.bernard@fallback.test, c.dubois@fallback.test, info@fallback.test</p>".into()),
        ("deadmx.test", "/") => html("<p>Welcome. <a href='/contact'>Contact</a></p>".into()),
        ("deadmx.test", "/contact") => html("<form>Use the form</form>".into()),
        _ => (404, vec![], b"not found".to_vec()),
    }
}

struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
    /// The Host of every request, in arrival order.
    hosts: Arc<Mutex<Vec<String>>>,
}

async fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    let hosts = Arc::new(Mutex::new(Vec::new()));
    let host_log = hosts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            let host_log = host_log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let host = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("host: ")
                            .or_else(|| l.strip_prefix("Host: "))
                    })
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                let bare = host.split(':').next().unwrap_or_default().to_string();
                host_log.lock().unwrap().push(bare);
                if path == "/about" || path.contains("Slowsearch") {
                    // A server that never answers.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
                let (status, headers, body) = route(&host, &path);
                let mut resp = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    resp.push_str(&format!("{k}: {v}\r\n"));
                }
                resp.push_str("\r\n");
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Server {
        port,
        requests,
        hosts,
    }
}

fn settings(rig: &Rig, port: u16) -> FindSettings {
    FindSettings {
        nameservers: vec![rig.dns()],
        ..settings_with_dns(port)
    }
}

/// Settings for the fixture server on `port`; the caller sets the nameservers.
fn settings_with_dns(port: u16) -> FindSettings {
    FindSettings {
        search_url: format!("http://127.0.0.1:{port}/html/?q={{query}}"),
        skip_domains: hailer::config::SearchConfig::default().skip_domains,
        tlds: vec!["test".into()],
        max_pages: 6,
        cache_ttl: Duration::from_secs(3600),
        nameservers: vec![],
        dns_timeout: Duration::from_secs(2),
        http: HttpOptions {
            timeout: Duration::from_secs(1),
            max_bytes: 200_000,
            host_delay: Duration::from_millis(5),
            scheme: "http".into(),
            port: Some(port),
            resolve_to: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ..HttpOptions::default()
        },
    }
}

fn seed(store: &mut Store, rows: &[(&str, &str, &str, Option<&str>)]) {
    let now = store::now_ts();
    let tx = store.write_tx().unwrap();
    tx.execute(
        "INSERT INTO imports (id, kind, file, imported, duplicates, rejected, created_at) VALUES (1, 'prospects', 't', 0, 0, 0, 0)",
        [],
    )
    .unwrap();
    for (i, (first, last, company, domain)) in rows.iter().enumerate() {
        let key = company_key(company);
        store::companies::upsert(&tx, &key, company, *domain, false, now).unwrap();
        let p = NewProspect {
            firstname: first.to_string(),
            lastname: last.to_string(),
            company: company.to_string(),
            company_key: key,
            person_key: person_key(first, last),
            email: None,
            title: None,
            domain: domain.map(str::to_string),
            extra: "{}".into(),
            source_row: i as i64 + 2,
        };
        store::prospects::insert(&tx, &p, 1, now).unwrap();
    }
    tx.commit().unwrap();
}

/// (domain, updated_at) of every cached pattern.
fn pattern_rows(store: &Store) -> Vec<(String, i64)> {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT domain, updated_at FROM find_patterns WHERE inference != '' ORDER BY domain",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn row<'a>(rows: &'a [suggestions::SuggestionRow], first: &str) -> &'a suggestions::SuggestionRow {
    rows.iter()
        .find(|r| r.firstname == first)
        .unwrap_or_else(|| panic!("no row for {first}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_domains_addresses_and_patterns_over_loopback() {
    let Some(rig) = Rig::get() else { return };
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    seed(
        &mut store,
        &[
            ("Jean", "Dupont", "Acme SA", Some("acme.test")),
            ("Jane", "Doe", "Acme SA", Some("acme.test")),
            ("Hélène", "Gérard", "Catchall SARL", Some("catchall.test")),
            (
                "Jean-Marc",
                "de la Fontaine",
                "Catchall SARL",
                Some("catchall.test"),
            ),
            ("Paul", "Petit", "Greylist", Some("greylist.test")),
            ("Aïssa", "N'Diaye", "Nomx", Some("nomx.test")),
            ("Zoé", "Martin", "Nullmx", Some("nullmx.test")),
            ("Luc", "Moreau", "Fallback Industries", None),
            ("Anne", "Roux", "Deadmx", None),
            ("Eve", "Blanc", "Zzq Nowhere", None),
        ],
    );
    let token = CancellationToken::new();
    let s = settings(&rig, server.port);

    // The search finds Fallback's site past an ad, LinkedIn and societe.com.
    let input = FindIn {
        company: Some("fallback industries".into()),
        concurrency: 4,
        refresh: false,
    };
    let out = find::run(store.conn(), &input, s.clone(), &token, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(out.domains_found, 1, "{out:?}");
    assert_eq!(out.domains_given, 0, "found by search: {out:?}");
    let c = store::companies::get(store.conn(), "fallback industries")
        .unwrap()
        .unwrap();
    assert_eq!(c.domain.as_deref(), Some("fallback.test"));
    assert_eq!(c.domain_source.as_deref(), Some("search"));

    // Everything else, 4 at a time.
    let input = FindIn {
        company: None,
        concurrency: 4,
        refresh: false,
    };
    let mut ticks = 0;
    let out = find::run(store.conn(), &input, s.clone(), &token, |_, _, _| {
        ticks += 1
    })
    .await
    .unwrap();
    assert_eq!(ticks, 8);
    assert_eq!(out.companies, 8);
    assert!(out.search_blocked, "{out:?}");
    // Acme, Catchall, Greylist, Nomx and Nullmx came with their domain.
    assert_eq!(out.domains_given, 5, "{out:?}");
    let rows = suggestions::list(store.conn()).unwrap();

    // acme.test: every obfuscation and encoding read, robots.txt honoured, roles apart.
    let jane = row(&rows, "Jane");
    assert_eq!(jane.email.as_deref(), Some("jane.doe@acme.test"));
    assert_eq!(jane.confidence, 97);
    let jean = row(&rows, "Jean");
    assert_eq!(
        jean.email.as_deref(),
        Some("jean.dupont@acme.test"),
        "{:#?}",
        jean.evidence
    );
    assert_eq!(jean.pattern.as_deref(), Some("first.last"));
    assert!(jean.confidence >= 90, "{}", jean.confidence);
    let ev = jean.evidence.join("\n");
    for needle in [
        "jane.doe@acme.test (obfuscated",
        "john.smith@acme.test (text",
        "paul.martin@acme.test (cloudflare",
        "lea.petit@acme.test (cloudflare",
        "marc.leroy@acme.test (obfuscated",
        "sophie.garnier@acme.test (obfuscated",
        "role addresses ignored: contact@acme.test, sales@acme.test, dpo@acme.test",
    ] {
        assert!(ev.contains(needle), "missing {needle:?} in\n{ev}");
    }
    assert!(
        ev.contains("private/team: disallowed by robots.txt"),
        "{ev}"
    );
    assert!(!ev.contains("secret.person"), "{ev}");
    assert!(!ev.contains("someone@hosting.example"), "{ev}");
    assert_eq!(jean.alternatives.len(), 3);

    // catchall.test: redirect to /fr/, Latin-1 page, compound first name and particle.
    let jm = row(&rows, "Jean-Marc");
    assert_eq!(
        jm.email.as_deref(),
        Some("jean-marc.delafontaine@catchall.test"),
        "{:#?}",
        jm.evidence
    );
    let ev = jm.evidence.join("\n");
    assert!(
        ev.contains("http://catchall.test:") && ev.contains("/fr/: helene.gerard@catchall.test"),
        "{ev}"
    );
    assert_eq!(
        row(&rows, "Hélène").email.as_deref(),
        Some("helene.gerard@catchall.test")
    );

    // greylist.test: oversized page cut, redirect loop and a silent server give reasons.
    let paul = row(&rows, "Paul");
    let ev = paul.evidence.join("\n");
    assert!(
        ev.contains("early.bird@greylist.test (page cut at the byte limit)"),
        "{ev}"
    );
    assert!(!ev.contains("late.comer"), "{ev}");
    assert!(ev.contains("/contact: redirect loop"), "{ev}");
    assert!(ev.contains("/about: timed out"), "{ev}");
    assert_eq!(paul.email.as_deref(), Some("paul.petit@greylist.test"));

    // nomx.test: A record only, site answers 500: a prior guess with the reason on the row.
    let aissa = row(&rows, "Aïssa");
    assert_eq!(aissa.email.as_deref(), Some("aissa.ndiaye@nomx.test"));
    assert!(aissa.confidence <= 40);
    assert!(
        aissa
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{aissa:?}"
    );

    // nullmx.test: RFC 7505, no mail.
    let zoe = row(&rows, "Zoé");
    assert_eq!(zoe.status, "no-mail");
    assert!(
        zoe.reason
            .as_deref()
            .unwrap_or_default()
            .contains("null MX"),
        "{zoe:?}"
    );
    assert!(zoe.email.is_none());

    // Fallback (from the cache): f.last learnt from its contact page.
    let luc = row(&rows, "Luc");
    assert_eq!(
        luc.email.as_deref(),
        Some("l.moreau@fallback.test"),
        "{:#?}",
        luc.evidence
    );
    assert_eq!(luc.pattern.as_deref(), Some("f.last"));

    // Deadmx: search blocked (403), the guess deadmx.test resolves, no address: the prior.
    let anne = row(&rows, "Anne");
    assert_eq!(anne.email.as_deref(), Some("anne.roux@deadmx.test"));
    assert!(anne.confidence <= 40);
    let ev = anne.evidence.join("\n");
    assert!(
        ev.contains("web search blocked (HTTP 403)") || ev.contains("blocked earlier"),
        "{ev}"
    );
    let c = store::companies::get(store.conn(), "deadmx")
        .unwrap()
        .unwrap();
    assert_eq!(c.domain_source.as_deref(), Some("guess"));

    // Nowhere: no domain at all, said so.
    let eve = row(&rows, "Eve");
    assert_eq!(eve.status, "no-domain");
    assert!(
        eve.reason.as_deref().unwrap_or_default().contains(
            "no guessed domain resolves (guessed zzqnowhere.test NXDOMAIN or no records, "
        ),
        "{eve:?}"
    );
    // Each domain guessed is named with DNS's answer.
    assert!(
        eve.reason
            .as_deref()
            .unwrap_or_default()
            .contains("NXDOMAIN or no records"),
        "{eve:?}"
    );

    // A re-run with fresh caches gives the same rows and asks the network again only for the
    // sites whose failure may pass (a timed-out page on greylist.test, HTTP 500 on nomx.test):
    // those were not cached. The learned patterns come from the cache too.
    let learned: Vec<(String, i64)> = pattern_rows(&store);
    assert!(learned.iter().any(|(d, _)| d == "acme.test"), "{learned:?}");
    let seen_before = server.hosts.lock().unwrap().len();
    let out2 = find::run(store.conn(), &input, s.clone(), &token, |_, _, _| {})
        .await
        .unwrap();
    let again: Vec<String> = server.hosts.lock().unwrap()[seen_before..].to_vec();
    assert!(!again.is_empty(), "{out2:?}");
    for host in &again {
        assert!(
            host.ends_with("greylist.test")
                || host.ends_with("nomx.test")
                || host.starts_with("127.0.0.1"),
            "a cached site was fetched again: {again:?}"
        );
    }
    // The companies whose domain rested on a blocked search were not cached: the search was
    // asked again (and blocked again). The six others came from the cache.
    assert!(out2.search_blocked, "{out2:?}");
    assert!(
        out2.search_error
            .as_deref()
            .is_some_and(|e| e.contains("web search blocked (HTTP 403) at 127.0.0.1:")),
        "{out2:?}"
    );
    assert!(out2.from_cache >= 6, "{out2:?}");
    // The same rows, but for Eve's evidence: the search was asked again for her company (in
    // either order with Deadmx's, so "no matching result" or "skipped: blocked").
    let again = suggestions::list(store.conn()).unwrap();
    let but_eve = |rows: &[suggestions::SuggestionRow]| {
        rows.iter()
            .filter(|r| r.firstname != "Eve")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(but_eve(&again), but_eve(&rows));
    assert_eq!(row(&again, "Eve").status, "no-domain");
    assert_eq!(pattern_rows(&store), learned, "patterns were relearned");
    let before = server.requests.load(Ordering::SeqCst);

    // An accepted suggestion survives a re-run, also --refresh, which fetches again.
    suggestions::accept(store.conn(), jean.prospect_id, 0).unwrap();
    let refresh = FindIn {
        company: Some("acme".into()),
        concurrency: 2,
        refresh: false,
    };
    find::run(store.conn(), &refresh, s.clone(), &token, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(
        row(&suggestions::list(store.conn()).unwrap(), "Jean").status,
        "accepted"
    );
    let refresh = FindIn {
        refresh: true,
        ..refresh
    };
    find::run(store.conn(), &refresh, s, &token, |_, _, _| {})
        .await
        .unwrap();
    assert!(server.requests.load(Ordering::SeqCst) > before);
    // The network was asked again, and the user's decision still stands.
    assert_eq!(
        row(&suggestions::list(store.conn()).unwrap(), "Jean").status,
        "accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_a_run_stuck_on_a_silent_server() {
    let Some(rig) = Rig::get() else { return };
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    seed(
        &mut store,
        &[("Paul", "Petit", "Greylist", Some("greylist.test"))],
    );
    let mut s = settings(&rig, server.port);
    s.http.timeout = Duration::from_secs(30);
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        t.cancel();
    });
    let started = Instant::now();
    let input = FindIn {
        company: None,
        concurrency: 1,
        refresh: false,
    };
    let out = find::run(store.conn(), &input, s, &token, |_, _, _| {})
        .await
        .unwrap();
    assert!(out.cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let _: SocketAddr = rig.dns();
}

/// DNS that fails (SERVFAIL) or never answers, for an imported domain and for a company whose
/// domain must be guessed: each row gets a reason naming the failure, the run ends, and
/// nothing transient is cached (a re-run asks DNS again). Runs without the rig: the
/// scripted responder answers everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_servfail_and_timeouts_give_a_reason_on_the_row() {
    use fake_dns::Answer;
    use hickory_resolver::proto::op::ResponseCode;
    use hickory_resolver::proto::rr::RecordType;
    let servfail = || Answer::Code(ResponseCode::ServFail);
    let dns = fake_dns::serve(vec![
        ("servfail.test", RecordType::MX, servfail()),
        ("servfail.test", RecordType::A, servfail()),
        ("servfail.test", RecordType::AAAA, servfail()),
        ("silent.test", RecordType::MX, Answer::Silence),
        ("silent.test", RecordType::A, Answer::Silence),
        ("silent.test", RecordType::AAAA, Answer::Silence),
        ("quux.test", RecordType::MX, servfail()),
        ("quux.test", RecordType::A, servfail()),
        ("quux.test", RecordType::AAAA, servfail()),
    ])
    .await;
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    seed(
        &mut store,
        &[
            ("Anna", "Alpha", "Servfail Corp", Some("servfail.test")),
            ("Bruno", "Beta", "Silent Corp", Some("silent.test")),
            // No domain given: the search page has no result for it, and the guess
            // quux.test gets SERVFAIL.
            ("Chloé", "Gamma", "Quux", None),
        ],
    );
    let mut s = FindSettings {
        nameservers: vec![dns],
        dns_timeout: Duration::from_millis(300),
        ..settings_with_dns(server.port)
    };
    s.tlds = vec!["test".into()];
    let input = FindIn {
        company: None,
        concurrency: 4,
        refresh: false,
    };
    let token = CancellationToken::new();
    let out = find::run(store.conn(), &input, s.clone(), &token, |_, _, _| {})
        .await
        .unwrap();
    assert!(!out.cancelled);
    let rows = suggestions::list(store.conn()).unwrap();
    let text =
        |r: &suggestions::SuggestionRow| format!("{:?} {}", r.reason, r.evidence.join(" | "));
    for (first, expected) in [
        ("Anna", "SERVFAIL"),
        ("Bruno", "timed out"),
        ("Chloé", "SERVFAIL"),
    ] {
        let r = row(&rows, first);
        assert_eq!(r.email, None, "{first}: {r:?}");
        // Not "no-mail": a failed lookup says nothing about the domain's mail.
        let status = if first == "Chloé" {
            "no-domain"
        } else {
            "failed"
        };
        assert_eq!(r.status, status, "{first}: {r:?}");
        let said = text(r);
        assert!(said.contains("DNS failed"), "{first}: {said}");
        assert!(
            said.to_lowercase().contains(&expected.to_lowercase()),
            "{first}: expected {expected:?} in {said}"
        );
    }
    // A transient failure is not cached: the next run asks DNS again.
    let cached: i64 = store
        .conn()
        .query_row("SELECT COUNT(*) FROM find_domains", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cached, 0);
}

/// A search engine that rate-limits (429), shows a captcha page or never answers: each run
/// falls back to the name guesses and says why on the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_captcha_or_silent_search_falls_back_to_guesses() {
    let Some(rig) = Rig::get() else { return };
    let server = serve().await;
    let s = settings(&rig, server.port);
    let token = CancellationToken::new();
    for (company, why) in [
        ("Acme Ratelimit", "web search blocked (HTTP 429)"),
        (
            "Acme Captcha",
            "web search blocked (the search engine answered with a challenge page",
        ),
        ("Acme Slowsearch", "web search unreachable (timed out)"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        seed(&mut store, &[("Jean", "Dupont", company, None)]);
        let input = FindIn {
            company: None,
            concurrency: 1,
            refresh: false,
        };
        let out = find::run(store.conn(), &input, s.clone(), &token, |_, _, _| {})
            .await
            .unwrap();
        assert!(
            out.search_blocked || out.domains_found == 1,
            "{company}: {out:?}"
        );
        let c = store::companies::get(store.conn(), &company_key(company))
            .unwrap()
            .unwrap();
        assert_eq!(c.domain.as_deref(), Some("acme.test"), "{company}");
        assert_eq!(c.domain_source.as_deref(), Some("guess"), "{company}");
        let rows = suggestions::list(store.conn()).unwrap();
        let ev = row(&rows, "Jean").evidence.join("\n");
        assert!(ev.contains(why), "{company}: missing {why:?} in\n{ev}");
    }
}

/// The crawl keeps addresses and follows links at the company's domain however it is given:
/// in Unicode (bücher.test, found as xn--bcher-kva.test), or as a subdomain (fr.acme.test,
/// whose people write from acme.test and link to www.acme.test). Other domains stay out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_keeps_idn_and_subdomain_company_addresses() {
    let server = serve().await;
    let http =
        hailer::engine::find::site::Http::new(settings_with_dns(server.port).http, None).unwrap();
    let token = CancellationToken::new();
    let emails = |r: &hailer::engine::find::site::SiteReport| -> Vec<String> {
        r.addresses.iter().map(|(e, _, _)| e.clone()).collect()
    };
    let idn = hailer::engine::find::site::crawl(&http, "bücher.test", 6, &token).await;
    assert_eq!(
        emails(&idn),
        [
            "anna.weber@xn--bcher-kva.test",
            "max.mueller@xn--bcher-kva.test"
        ],
        "{idn:#?}"
    );
    let sub = hailer::engine::find::site::crawl(&http, "fr.acme.test", 6, &token).await;
    assert_eq!(
        emails(&sub),
        [
            "julie.dupont@acme.test",
            "paul.roux@fr.acme.test",
            "marc.leroy@acme.test"
        ],
        "{sub:#?}"
    );
    assert!(
        !server
            .hosts
            .lock()
            .unwrap()
            .iter()
            .any(|h| h == "other.test")
    );
}

/// Company sites are looked up on `[dns] nameservers` as MX records are, not on the system
/// resolver: here only the scripted responder knows fallback.test (and its A record points to
/// the fixture server), so the pattern learnt from its contact page proves the page came
/// through the configured DNS. Runs without the rig.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_names_are_looked_up_on_the_configured_nameservers() {
    use fake_dns::Answer;
    use hickory_resolver::proto::rr::RecordType;
    let dns = fake_dns::serve(vec![
        (
            "fallback.test",
            RecordType::MX,
            Answer::Mx(vec![(10, "mx.fallback.test")]),
        ),
        (
            "fallback.test",
            RecordType::A,
            Answer::A(Ipv4Addr::LOCALHOST),
        ),
        (
            "www.fallback.test",
            RecordType::A,
            Answer::A(Ipv4Addr::LOCALHOST),
        ),
        (
            "mx.fallback.test",
            RecordType::A,
            Answer::A(Ipv4Addr::LOCALHOST),
        ),
        // Mail but no web site: no A or AAAA record.
        (
            "nosite.test",
            RecordType::MX,
            Answer::Mx(vec![(10, "mx.fallback.test")]),
        ),
    ])
    .await;
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    seed(
        &mut store,
        &[
            ("Luc", "Moreau", "Fallback SA", Some("fallback.test")),
            ("Ana", "Blanc", "Nosite SA", Some("nosite.test")),
        ],
    );
    let mut s = FindSettings {
        nameservers: vec![dns],
        ..settings_with_dns(server.port)
    };
    // No fixed address: every site name goes through DNS.
    s.http.resolve_to = None;
    let input = FindIn {
        company: None,
        concurrency: 1,
        refresh: false,
    };
    let token = CancellationToken::new();
    find::run(store.conn(), &input, s, &token, |_, _, _| {})
        .await
        .unwrap();
    let rows = suggestions::list(store.conn()).unwrap();
    let luc = row(&rows, "Luc");
    assert_eq!(
        (luc.email.as_deref(), luc.pattern.as_deref()),
        (Some("l.moreau@fallback.test"), Some("f.last")),
        "{luc:#?}"
    );
    // A site name without an address is said in words, not as the resolver's query struct.
    let ana = row(&rows, "Ana");
    let said = format!("{:?} {:?}", ana.reason, ana.evidence);
    assert!(
        said.contains("nosite.test has no address (no A or AAAA record)"),
        "{said}"
    );
    assert!(!said.contains("Query {"), "{said}");
    assert!(
        server
            .hosts
            .lock()
            .unwrap()
            .iter()
            .any(|h| h.starts_with("fallback.test")),
        "the site was fetched"
    );
}

/// Addresses the import gave for people at the company are read for its pattern, as the
/// site's published ones are: deadmx.test publishes none, but two imported f.last addresses
/// make the third person's suggestion f.last, with the evidence saying where it came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_addresses_teach_the_company_pattern() {
    let Some(rig) = Rig::get() else { return };
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    seed(
        &mut store,
        &[
            ("Anne", "Roux", "Deadmx", Some("deadmx.test")),
            ("Paul", "Martin", "Deadmx", Some("deadmx.test")),
            ("Léa", "Petit", "Deadmx", Some("deadmx.test")),
        ],
    );
    store
        .conn()
        .execute_batch(
            "UPDATE prospects SET email = 'p.martin@deadmx.test' WHERE firstname = 'Paul';
             UPDATE prospects SET email = 'l.petit@deadmx.test' WHERE firstname = 'Léa';",
        )
        .unwrap();
    let input = FindIn {
        company: None,
        concurrency: 1,
        refresh: false,
    };
    let out = find::run(
        store.conn(),
        &input,
        settings(&rig, server.port),
        &CancellationToken::new(),
        |_, _, _| {},
    )
    .await
    .unwrap();
    assert_eq!(out.patterns_found, 1, "{out:?}");
    let rows = suggestions::list(store.conn()).unwrap();
    let anne = row(&rows, "Anne");
    assert_eq!(
        anne.email.as_deref(),
        Some("a.roux@deadmx.test"),
        "{anne:#?}"
    );
    assert_eq!(anne.pattern.as_deref(), Some("f.last"));
    assert!(
        anne.evidence
            .iter()
            .any(|e| e.contains("p.martin@deadmx.test (imported for Paul Martin)")),
        "{:#?}",
        anne.evidence
    );
    // Said as imported, never as published on a page.
    let paul = row(&rows, "Paul");
    assert!(
        paul.evidence.iter().all(|e| !e.contains("published")),
        "{:#?}",
        paul.evidence
    );
    // His own address, though it spells only initials: never a namesake's.
    assert_eq!(paul.email.as_deref(), Some("p.martin@deadmx.test"));
    assert_eq!(paul.confidence, 97);
    assert!(
        paul.evidence.iter().any(|e| e
            == "p.martin@deadmx.test is imported for Paul Martin: the address the import gave for this person"),
        "{:#?}",
        paul.evidence
    );
    assert!(
        paul.evidence.iter().all(|e| !e.contains("someone else")),
        "{:#?}",
        paul.evidence
    );
}

/// A company with no website whose imported addresses are at its domain (the common CRM
/// export: some contacts have an email, none a website) gets that domain before any search,
/// and its other people suggestions there. A personal mail provider's domain says nothing of
/// the company and is never taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_domain_of_imported_addresses_is_the_company_domain() {
    let Some(rig) = Rig::get() else { return };
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    seed(
        &mut store,
        &[
            ("Richard", "Hendricks", "Pied Piper", None),
            ("Jared", "Dunn", "Pied Piper", None),
            ("Dinesh", "Chugtai", "Pied Piper", None),
            ("Gil", "Free", "Zzyzx Unfindable", None),
            ("Monica", "Hall", "Raviga Capital", None),
        ],
    );
    store
        .conn()
        .execute_batch(
            "UPDATE prospects SET email = 'richard.hendricks@acme.test' WHERE firstname = 'Richard';
             UPDATE prospects SET email = 'jared.dunn@acme.test' WHERE firstname = 'Jared';
             UPDATE prospects SET email = 'gil.free@gmail.com' WHERE firstname = 'Gil';
             UPDATE prospects SET email = 'monica@catchall.test' WHERE firstname = 'Monica';",
        )
        .unwrap();
    let input = FindIn {
        company: None,
        concurrency: 1,
        refresh: false,
    };
    let out = find::run(
        store.conn(),
        &input,
        settings(&rig, server.port),
        &CancellationToken::new(),
        |_, _, _| {},
    )
    .await
    .unwrap();
    let rows = suggestions::list(store.conn()).unwrap();
    let dinesh = row(&rows, "Dinesh");
    assert_eq!(dinesh.domain.as_deref(), Some("acme.test"), "{dinesh:#?}");
    assert_eq!(
        dinesh.email.as_deref(),
        Some("dinesh.chugtai@acme.test"),
        "{dinesh:#?}"
    );
    let company = store::companies::get(store.conn(), &company_key("Pied Piper"))
        .unwrap()
        .unwrap();
    assert_eq!(company.domain_source.as_deref(), Some("email"));
    let note = company.domain_note.unwrap();
    assert!(
        note.starts_with("the domain of 2 imported addresses (") && note.contains("@acme.test"),
        "{note}"
    );
    let gil = row(&rows, "Gil");
    assert_ne!(gil.domain.as_deref(), Some("gmail.com"), "{gil:#?}");
    // One address at a domain unlike the company's name may be someone's own mailbox: taken
    // only when the search and the guesses find nothing, and said so.
    let raviga = store::companies::get(store.conn(), &company_key("Raviga Capital"))
        .unwrap()
        .unwrap();
    assert_eq!(
        raviga.domain.as_deref(),
        Some("catchall.test"),
        "{raviga:?}"
    );
    let note = raviga.domain_note.unwrap();
    assert!(note.contains("web search"), "{note}");
    assert!(
        note.ends_with(
            "so the domain of an imported address (monica@catchall.test), though it does not \
             look like the company's name: check it"
        ),
        "{note}"
    );
    assert!(out.domains_found >= 1, "{out:?}");
}

/// One search that times out is a blip, not a reason to give up the search engine for the
/// rest of the run: the next company is still searched (it used to go to guesses with "web
/// search skipped: unreachable earlier in this run"). A block is heeded at once (above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_search_timeout_does_not_turn_the_search_off_for_the_run() {
    let Some(rig) = Rig::get() else { return };
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    // Companies are worked on in key order: the timeout comes first.
    seed(
        &mut store,
        &[
            ("Jean", "Dupont", "Acme Slowsearch", None),
            ("Anne", "Roux", "Fallback Industries", None),
        ],
    );
    let input = FindIn {
        company: None,
        concurrency: 1,
        refresh: false,
    };
    let out = find::run(
        store.conn(),
        &input,
        settings(&rig, server.port),
        &CancellationToken::new(),
        |_, _, _| {},
    )
    .await
    .unwrap();
    assert!(
        out.search_unreachable,
        "the timeout is still reported: {out:?}"
    );
    let c = store::companies::get(store.conn(), &company_key("Fallback Industries"))
        .unwrap()
        .unwrap();
    assert_eq!(c.domain_source.as_deref(), Some("search"), "{c:?}");
    assert_eq!(c.domain.as_deref(), Some("fallback.test"), "{c:?}");
}
