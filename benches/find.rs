//! Find benchmark: 1,000 companies against local fixtures at concurrency 16.
//!
//! Everything runs on loopback: a fixture HTTP server (search results page and company sites,
//! every host name resolved to 127.0.0.1) and a small DNS responder that answers MX for
//! `coN.test` and NXDOMAIN for anything else. A third of the companies come with a domain, a
//! third are found by the search page, a third by guesses; sites publish 3 addresses in one of
//! four patterns, 10% publish none, 5% answer HTTP 500. Run with benches/find_bench.sh.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hailer::engine::find::site::HttpOptions;
use hailer::engine::find::{self, FindIn, FindSettings};
use hailer::engine::import::normalize::{company_key, person_key};
use hailer::store::{self, Store, prospects::NewProspect};
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

const N: usize = 1000;
const FIRST: &[&str] = &["marie", "jean", "paul", "lea", "hugo", "claire"];
const LAST: &[&str] = &["curie", "dupont", "martin", "petit", "roux", "blanc"];

fn company_index(host: &str) -> Option<usize> {
    let h = host.trim_end_matches('.');
    let h = h
        .strip_prefix("www.")
        .or(h.strip_prefix("mx."))
        .unwrap_or(h);
    h.strip_suffix(".test")?.strip_prefix("co")?.parse().ok()
}

async fn dns() -> std::net::SocketAddr {
    let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(req) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
            resp.metadata.authoritative = true;
            resp.metadata.recursion_desired = req.metadata.recursion_desired;
            resp.queries = req.queries.clone();
            if let Some(q) = req.queries.first() {
                let name = q.name().to_ascii().to_ascii_lowercase();
                match company_index(&name) {
                    Some(i) if i < N => match q.query_type() {
                        RecordType::MX if !name.starts_with("mx.") => {
                            let mx = Name::from_ascii(format!("mx.co{i}.test.")).unwrap();
                            resp.answers.push(Record::from_rdata(
                                q.name().clone(),
                                0,
                                RData::MX(MX::new(10, mx)),
                            ));
                        }
                        RecordType::A => resp.answers.push(Record::from_rdata(
                            q.name().clone(),
                            0,
                            RData::A(A(Ipv4Addr::LOCALHOST)),
                        )),
                        _ => {}
                    },
                    _ => resp.metadata.response_code = ResponseCode::NXDomain,
                }
            }
            if let Ok(bytes) = resp.to_vec() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

fn route(host: &str, path: &str) -> (u16, String) {
    let host = host.split(':').next().unwrap_or_default();
    if host == "127.0.0.1" {
        let q = path.split("q=").nth(1).unwrap_or_default();
        let i: usize = q
            .trim_start_matches("Co")
            .split('%')
            .next()
            .unwrap_or("x")
            .parse()
            .unwrap_or(usize::MAX);
        if i % 3 == 1 {
            let href = format!("//duckduckgo.com/l/?uddg=http%3A%2F%2Fwww.co{i}.test%2F&amp;rut=x");
            return (
                200,
                format!(
                    r#"<div class="result results_links web-result"><h2 class="result__title"><a class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.linkedin.com%2Fcompany%2Fco{i}&amp;rut=x">Co{i} | LinkedIn</a></h2></div>
<div class="result results_links web-result"><h2 class="result__title"><a class="result__a" href="{href}">Co{i} Industries</a></h2></div>"#
                ),
            );
        }
        return (200, r#"<div class="no-results">No results.</div>"#.into());
    }
    let Some(i) = company_index(host) else {
        return (404, String::new());
    };
    if i % 20 == 7 {
        return (500, "error".into());
    }
    match path {
        "/" => (
            200,
            format!("<h1>Co{i}</h1><a href='/produits'>Produits</a><a href='/contact'>Contact</a>"),
        ),
        "/contact" => {
            if i % 10 == 9 {
                return (200, "<p>contact@co.test form only</p>".into());
            }
            let mut s = format!("<p><a href='mailto:contact@co{i}.test'>contact</a></p>");
            for k in 0..3 {
                let (f, l) = (FIRST[(i + k) % 6], LAST[(i + 2 * k + 1) % 6]);
                let local = match i % 4 {
                    0 => format!("{f}.{l}"),
                    1 => format!("{}{l}", &f[..1]),
                    2 => format!("{}.{l}", &f[..1]),
                    _ => f.to_string(),
                };
                s.push_str(&format!("<p>{local} [at] co{i} [dot] test</p>"));
            }
            (200, s)
        }
        "/robots.txt" => (200, "User-agent: *\nDisallow: /private\n".into()),
        _ => (404, String::new()),
    }
}

async fn http() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
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
                let (status, body) = route(&host, &path);
                let resp = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

fn seed(store: &mut Store) {
    let now = store::now_ts();
    let tx = store.write_tx().unwrap();
    tx.execute("INSERT INTO imports (id, kind, file, imported, duplicates, rejected, created_at) VALUES (1, 'prospects', 'bench', 0, 0, 0, 0)", []).unwrap();
    for i in 0..N {
        let company = format!("Co{i} Industries");
        let key = company_key(&company);
        let domain = (i % 3 == 0).then(|| format!("co{i}.test"));
        store::companies::upsert(&tx, &key, &company, domain.as_deref(), false, now).unwrap();
        for k in 0..2 {
            let (f, l) = (FIRST[(i + k + 3) % 6], LAST[(i + k) % 6]);
            let p = NewProspect {
                firstname: f.into(),
                lastname: l.into(),
                company: company.clone(),
                company_key: key.clone(),
                person_key: person_key(f, l),
                email: None,
                title: None,
                domain: domain.clone(),
                extra: "{}".into(),
                source_row: (2 * i + k) as i64,
            };
            store::prospects::insert(&tx, &p, 1, now).unwrap();
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let concurrency: usize = std::env::var("FIND_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ns = dns().await;
        let port = http().await;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        seed(&mut store);
        let settings = FindSettings {
            search_url: format!("http://127.0.0.1:{port}/html/?q={{query}}"),
            skip_domains: hailer::config::SearchConfig::default().skip_domains,
            tlds: vec!["test".into()],
            max_pages: 6,
            cache_ttl: Duration::from_secs(3600),
            nameservers: vec![ns],
            dns_timeout: Duration::from_secs(2),
            http: HttpOptions {
                timeout: Duration::from_secs(5),
                host_delay: Duration::ZERO,
                scheme: "http".into(),
                port: Some(port),
                resolve_to: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                ..HttpOptions::default()
            },
        };
        let input = FindIn {
            company: None,
            concurrency,
            refresh: false,
        };
        let token = CancellationToken::new();
        let t = Instant::now();
        let out = find::run(store.conn(), &input, settings.clone(), &token, |_, _, _| {})
            .await
            .unwrap();
        let cold = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let warm_out = find::run(store.conn(), &input, settings, &token, |_, _, _| {})
            .await
            .unwrap();
        let warm = t.elapsed().as_secs_f64();
        let n = out.companies as f64;
        println!("companies          {}", out.companies);
        println!("concurrency        {concurrency}");
        println!(
            "cold run           {cold:.2} s  ({:.1} companies/s)",
            n / cold
        );
        println!(
            "domain found       {:.1}%",
            100.0 * out.domains_found as f64 / n
        );
        println!(
            "pattern found      {:.1}%  (from published personal addresses)",
            100.0 * out.patterns_found as f64 / n
        );
        // A third of the companies come with a domain from the import; the share that matters
        // for discovery is over the other two thirds.
        let by_source: Vec<(String, i64)> = store
            .conn()
            .prepare(
                "SELECT COALESCE(domain_source, 'none'), COUNT(*) FROM companies
                 GROUP BY 1 ORDER BY 1",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let given: i64 = by_source
            .iter()
            .filter(|(s, _)| s == "import")
            .map(|(_, n)| n)
            .sum();
        let discovered: i64 = by_source
            .iter()
            .filter(|(s, _)| s == "search" || s == "guess")
            .map(|(_, n)| n)
            .sum();
        println!("domain sources     {by_source:?}");
        println!(
            "discovered         {:.1}%  ({discovered} of the {} companies without a domain)",
            100.0 * discovered as f64 / (n - given as f64),
            n as i64 - given
        );
        println!("suggestions        {}", out.suggestions);
        println!(
            "re-run (cached)    {warm:.2} s  ({:.1} companies/s, {} from cache)",
            n / warm,
            warm_out.from_cache
        );
        // By construction every domain resolves and 85% of sites publish a pattern; a few DNS
        // answers lost under load (UDP, one attempt, 2 s timeout) leave a company without a domain.
        println!(
            "without domain     {} (reasons stored on their rows)",
            out.no_domain
        );
        // Say why, so a miss is explained rather than guessed at. Expected misses: Co2, Co5 and
        // Co8 Industries have no search result and a first word shorter than the 4 characters
        // the first-word guess requires (a guard against short generic words), so no guess fits.
        let mut stmt = store
            .conn()
            .prepare(
                "SELECT company, reason FROM prospects p JOIN suggestions s ON s.prospect_id = p.id
                 WHERE s.status = 'no-domain' GROUP BY company_key LIMIT 10",
            )
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .unwrap();
        for row in rows {
            let (company, reason) = row.unwrap();
            println!("  {company}: {}", reason.unwrap_or_default());
        }
        assert!(out.domains_found as f64 >= 0.99 * n, "{out:?}");
    });
}
