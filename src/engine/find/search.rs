//! The web-search results page (DuckDuckGo's HTML endpoint, see ../shared/SEARCH.md): organic
//! results in rank order, ads dropped, redirect links (`uddg=`) unwrapped, blocks detected.

use scraper::{Html, Selector};

use super::domain::{name_similarity, registrable};

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub rank: usize,
    pub url: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    Results(Vec<Hit>),
    NoResults,
    /// A challenge ("anomaly") page, captcha or throttling: fall back to guesses.
    Blocked(String),
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

/// The real target of a result link: `//duckduckgo.com/l/?uddg=https%3A%2F%2F…&rut=…` or direct.
pub fn unwrap_link(href: &str) -> Option<String> {
    let query = href.split_once('?').map(|(_, q)| q).unwrap_or_default();
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("uddg=") {
            return Some(
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
    }
    if href.starts_with("http://") || href.starts_with("https://") {
        return Some(href.to_string());
    }
    None
}

pub fn parse(html: &str) -> Page {
    let doc = Html::parse_document(html);
    let mut hits = Vec::new();
    for result in doc.select(&sel("div.result")) {
        let classes: Vec<&str> = result.value().classes().collect();
        if classes.iter().any(|c| c.contains("result--ad")) {
            continue;
        }
        let Some(a) = result.select(&sel("a.result__a")).next() else {
            continue;
        };
        let Some(url) = a.value().attr("href").and_then(unwrap_link) else {
            continue;
        };
        hits.push(Hit {
            rank: hits.len() + 1,
            url,
            title: a.text().collect::<String>().trim().to_string(),
        });
    }
    if !hits.is_empty() {
        return Page::Results(hits);
    }
    if doc.select(&sel("div.no-results")).next().is_some() {
        return Page::NoResults;
    }
    let lower = html.to_ascii_lowercase();
    if lower.contains("anomaly") || lower.contains("captcha") || lower.contains("challenge") {
        return Page::Blocked("the search engine answered with a challenge page".into());
    }
    Page::NoResults
}

/// A result's registrable domain scored against the company: name similarity, minus rank.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub domain: String,
    pub score: f64,
    pub rank: usize,
}

/// `host` is `site` or one of its subdomains: `x.com` skips `mobile.x.com`, not `fedex.com`.
fn is_under(host: &str, site: &str) -> bool {
    let site = site.trim_start_matches('.');
    host.eq_ignore_ascii_case(site)
        || (host.len() > site.len()
            && host.as_bytes()[host.len() - site.len() - 1] == b'.'
            && host[host.len() - site.len()..].eq_ignore_ascii_case(site))
}

/// Results whose registrable domain resembles the company name, best first, directories dropped.
pub fn candidates(hits: &[Hit], company: &str, skip: &[String]) -> Vec<Scored> {
    let mut out: Vec<Scored> = Vec::new();
    for h in hits {
        let Some(host) = url_host(&h.url) else {
            continue;
        };
        let Some(domain) = registrable(&host) else {
            continue;
        };
        if skip
            .iter()
            .any(|s| is_under(&host, s) || is_under(&domain, s))
        {
            continue;
        }
        if out.iter().any(|o| o.domain == domain) {
            continue;
        }
        let sim = name_similarity(company, &domain);
        let score = sim - 0.03 * (h.rank as f64 - 1.0);
        if sim >= 0.5 {
            out.push(Scored {
                domain,
                score,
                rank: h.rank,
            });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

pub fn url_host(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const PAGE: &str = r#"<html><body><div class="serp__results"><div id="links" class="results">
<div class="result results_links results_links_deep result--ad ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a class="result__a" rel="nofollow" href="//duckduckgo.com/y.js?ad_domain=acme-ads.test&amp;u3=x">Acme deals</a></h2>
  </div></div>
<div class="result results_links results_links_deep web-result ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a class="result__a" rel="nofollow" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Ffr.linkedin.com%2Fcompany%2Facme&amp;rut=abc">Acme | LinkedIn</a></h2>
    <a class="result__url" href="//duckduckgo.com/l/?uddg=x">fr.linkedin.com</a>
    <a class="result__snippet" href="x">Acme <b>SA</b></a>
  </div></div>
<div class="result results_links results_links_deep web-result ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a class="result__a" rel="nofollow" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.societe.com%2Fsociete%2Facme.html&amp;rut=abc">ACME SA - societe.com</a></h2>
  </div></div>
<div class="result results_links results_links_deep web-result ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a class="result__a" rel="nofollow" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.acme-industries.co.uk%2Fen%2F&amp;rut=abc">Acme <b>Industries</b></a></h2>
  </div></div>
<div class="result results_links results_links_deep web-result ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a class="result__a" href="https://blog.unrelated.fr/acme">Unrelated</a></h2>
  </div></div>
</div></div></body></html>"#;

    #[test]
    fn parses_results_skipping_ads_and_unwrapping_links() {
        let Page::Results(hits) = parse(PAGE) else {
            panic!("no results")
        };
        assert_eq!(hits.len(), 4);
        assert_eq!(hits[0].url, "https://fr.linkedin.com/company/acme");
        assert_eq!(hits[2].url, "https://www.acme-industries.co.uk/en/");
        assert_eq!(hits[2].title, "Acme Industries");
        assert_eq!(hits[3].url, "https://blog.unrelated.fr/acme");
    }

    #[test]
    fn candidates_drop_directories_and_unrelated_sites() {
        let Page::Results(hits) = parse(PAGE) else {
            panic!()
        };
        let skip = crate::config::SearchConfig::default().skip_domains;
        let c = candidates(&hits, "Acme Industries SA", &skip);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].domain, "acme-industries.co.uk");
        assert_eq!(c[0].rank, 3);
    }

    #[test]
    fn skip_list_matches_whole_labels_only() {
        let skip = crate::config::SearchConfig::default().skip_domains;
        let hits: Vec<Hit> = [
            "https://www.fedex.com/",
            "https://x.com/fedex",
            "https://mobile.x.com/fedex",
        ]
        .iter()
        .enumerate()
        .map(|(i, u)| Hit {
            url: u.to_string(),
            title: "FedEx".into(),
            rank: i + 1,
        })
        .collect();
        let c = candidates(&hits, "FedEx", &skip);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].domain, "fedex.com");
        assert!(is_under("fr.linkedin.com", "linkedin.com"));
        assert!(!is_under("xlinkedin.com", "linkedin.com"));
    }

    #[test]
    fn blocked_and_empty_pages() {
        assert_eq!(
            parse(r#"<div class="no-results">No results.</div>"#),
            Page::NoResults
        );
        assert!(matches!(
            parse(r#"<form id="challenge-form" action="//duckduckgo.com/anomaly.js"></form>"#),
            Page::Blocked(_)
        ));
    }
}
