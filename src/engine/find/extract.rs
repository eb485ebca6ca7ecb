//! Addresses published in a page: mailto links, plain text, obfuscations (`jean [at] acme
//! [dot] fr`, `(at)`, ` at `), HTML entities, percent-encoding, Cloudflare email protection
//! (`data-cfemail` and `/cdn-cgi/l/email-protection#…`) and JSON-LD `email` fields.

use std::sync::OnceLock;

use regex::Regex;
use scraper::{Html, Selector};
use serde::Serialize;

use unicode_normalization::char::is_combining_mark;

use super::pattern::is_role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub email: String,
    /// mailto | text | obfuscated | cloudflare | json-ld
    pub how: &'static str,
    pub role: bool,
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

/// A local part may hold any letter (`josé.dupont`): with ASCII letters only, the match
/// could start in the middle of the local part and record `dupont@` for `josé.dupont@`.
fn email_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)[\p{L}\p{N}][\p{L}\p{N}\p{M}._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b")
            .unwrap()
    })
}

/// A character that can be part of a local part.
fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c) || "._%+-".contains(c)
}

/// The addresses in `text`, each whole: a match that starts right after a local-part
/// character (a local part longer than 64, or one starting with `.`) is dropped, not cut.
fn addresses(text: &str) -> impl Iterator<Item = &str> {
    email_re()
        .find_iter(text)
        .filter(|m| {
            !text[..m.start()]
                .chars()
                .next_back()
                .is_some_and(is_local_char)
        })
        .map(|m| m.as_str())
}

/// `jean [at] acme [dot] fr`, `jean(at)acme(point)fr`, `jean at acme dot fr` → `jean@acme.fr`;
/// `jean.dupont at acme.fr` → `jean.dupont@acme.fr`.
pub fn deobfuscate(text: &str) -> String {
    static AT: OnceLock<Regex> = OnceLock::new();
    static DOT: OnceLock<Regex> = OnceLock::new();
    static WORDS: OnceLock<Regex> = OnceLock::new();
    static DOT_WORD: OnceLock<Regex> = OnceLock::new();
    let at = AT
        .get_or_init(|| Regex::new(r"(?i)\s*[\[\(\{<]\s*(?:at|arobase|@)\s*[\]\)\}>]\s*").unwrap());
    let dot = DOT
        .get_or_init(|| Regex::new(r"(?i)\s*[\[\(\{<]\s*(?:dot|point|\.)\s*[\]\)\}>]\s*").unwrap());
    // Bare words only in an address-shaped run: "jean at acme dot fr", "jean at acme.fr".
    let words = WORDS.get_or_init(|| {
        Regex::new(r"(?i)\b([\p{L}\p{N}][\p{L}\p{N}\p{M}._-]*)\s+(?:at|arobase)\s+([a-z0-9-]+(?:(?:\s+(?:dot|point)\s+|\.)[a-z0-9-]+)+)\b")
            .unwrap()
    });
    let dot_word = DOT_WORD.get_or_init(|| Regex::new(r"(?i)\s+(?:dot|point)\s+").unwrap());
    let s = at.replace_all(text, "@");
    let s = dot.replace_all(&s, ".");
    words
        .replace_all(&s, |c: &regex::Captures<'_>| {
            // "Find us at acme.fr" or "Jean Dupont at acme.fr" is a sentence, not an address:
            // with a real dot in the domain, only a local part with a separator
            // (jean.dupont at acme.fr) is read as one.
            let real_dots = c[2].contains('.');
            if NOT_LOCAL_PARTS.contains(&c[1].to_ascii_lowercase().as_str())
                || (real_dots && !c[1].contains(['.', '_', '-']))
            {
                return c[0].to_string();
            }
            format!("{}@{}", &c[1], dot_word.replace_all(&c[2], "."))
        })
        .into_owned()
}

/// Words that precede " at example.com" in prose and are never the obfuscated local part.
const NOT_LOCAL_PARTS: &[&str] = &[
    "us",
    "me",
    "you",
    "him",
    "her",
    "them",
    "we",
    "it",
    "online",
    "here",
    "there",
    "home",
    "office",
    "work",
    "visit",
    "apply",
    "now",
    "today",
    "available",
    "nous",
    "moi",
];

/// Cloudflare's encoding: hex pairs, the first one the XOR key for the rest.
pub fn cloudflare_decode(hex: &str) -> Option<String> {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let (key, rest) = bytes.split_first()?;
    let decoded: Vec<u8> = rest.iter().map(|b| b ^ key).collect();
    String::from_utf8(decoded).ok()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn clean(candidate: &str) -> Option<String> {
    let s = candidate
        .trim()
        .trim_start_matches("mailto:")
        .trim_matches(|c: char| c == '.' || c == ',' || c == ';' || c.is_whitespace());
    let m = addresses(s).next()?;
    Some(m.to_lowercase())
}

fn json_emails(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k.eq_ignore_ascii_case("email") {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    json_emails(v, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_emails(v, out)),
        _ => {}
    }
}

/// Every address in a page, deduplicated, in order of first appearance.
pub fn extract(html: &str) -> Vec<Found> {
    let doc = Html::parse_document(html);
    let mut raw: Vec<(String, &'static str)> = Vec::new();
    for a in doc.select(&sel("a[href]")) {
        let href = a.value().attr("href").unwrap_or_default();
        if let Some(rest) = href
            .strip_prefix("mailto:")
            .or_else(|| href.strip_prefix("MAILTO:"))
        {
            let addr = percent_decode(rest.split('?').next().unwrap_or_default());
            for one in addr.split(',') {
                raw.push((one.to_string(), "mailto"));
            }
        } else if let Some(pos) = href.find("/cdn-cgi/l/email-protection#") {
            let hex = &href[pos + "/cdn-cgi/l/email-protection#".len()..];
            if let Some(e) = cloudflare_decode(hex) {
                raw.push((e, "cloudflare"));
            }
        }
    }
    for el in doc.select(&sel("[data-cfemail]")) {
        if let Some(e) = el.value().attr("data-cfemail").and_then(cloudflare_decode) {
            raw.push((e, "cloudflare"));
        }
    }
    for script in doc.select(&sel(r#"script[type="application/ld+json"]"#)) {
        let text: String = script.text().collect();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let mut emails = Vec::new();
            json_emails(&v, &mut emails);
            raw.extend(emails.into_iter().map(|e| (e, "json-ld")));
        }
    }
    // Visible text (entities already decoded by the parser), scripts and styles left out.
    let skip = sel("script, style, noscript");
    let skipped: Vec<_> = doc.select(&skip).map(|e| e.id()).collect();
    let mut text = String::new();
    for node in doc.tree.nodes() {
        if let Some(t) = node.value().as_text()
            && !node.ancestors().any(|a| skipped.contains(&a.id()))
        {
            text.push_str(t);
            text.push(' ');
        }
    }
    for m in addresses(&text) {
        raw.push((m.to_string(), "text"));
    }
    let plain = percent_decode(&text);
    let deob = deobfuscate(&plain);
    for m in addresses(&deob) {
        raw.push((m.to_string(), "obfuscated"));
    }
    let mut out: Vec<Found> = Vec::new();
    for (cand, how) in raw {
        if let Some(email) = clean(&cand)
            && !out.iter().any(|f| f.email == email)
        {
            let local = email.split('@').next().unwrap_or_default();
            out.push(Found {
                role: is_role(local),
                email,
                how,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(html: &str) -> Vec<(String, &'static str)> {
        extract(html)
            .into_iter()
            .map(|f| (f.email, f.how))
            .collect()
    }

    #[test]
    fn mailto_with_percent_encoding_and_query() {
        let got = emails(r#"<a href="mailto:jean%2Edupont%40acme.fr?subject=Hi">write</a>"#);
        assert_eq!(got, vec![("jean.dupont@acme.fr".into(), "mailto")]);
    }

    #[test]
    fn entities_in_text() {
        let got = emails("<p>marie&#46;curie&#64;acme&#x2E;fr</p>");
        assert_eq!(got, vec![("marie.curie@acme.fr".into(), "text")]);
    }

    #[test]
    fn obfuscations() {
        for (html, want) in [
            ("<p>jean [at] acme [dot] fr</p>", "jean@acme.fr"),
            ("<p>jean(at)acme(dot)fr</p>", "jean@acme.fr"),
            ("<p>jean {at} acme {point} fr</p>", "jean@acme.fr"),
            ("<p>Write to jean at acme dot fr today</p>", "jean@acme.fr"),
            ("<p>p.durand [arobase] acme [.] fr</p>", "p.durand@acme.fr"),
            (
                "<p>Sophie : sophie.garnier at acme.fr</p>",
                "sophie.garnier@acme.fr",
            ),
        ] {
            let got = emails(html);
            assert_eq!(
                got.first().map(|g| g.0.as_str()),
                Some(want),
                "{html}: {got:?}"
            );
        }
        assert!(emails("<p>We meet at noon at the office</p>").is_empty());
        assert!(emails("<p>Find us at acme.fr or visit us online</p>").is_empty());
        assert!(emails("<p>Jean Dupont at acme.fr since 2019</p>").is_empty());
    }

    #[test]
    fn cloudflare_both_forms() {
        // key 0x42 XOR "a@b.fr"
        let hex: String = std::iter::once(0x42u8)
            .chain(b"jdupont@acme.fr".iter().map(|b| b ^ 0x42))
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(cloudflare_decode(&hex).unwrap(), "jdupont@acme.fr");
        let html = format!(
            r#"<a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="{hex}">[email&#160;protected]</a>
               <a href="/cdn-cgi/l/email-protection#{hex}">mail</a>"#
        );
        assert_eq!(
            emails(&html),
            vec![("jdupont@acme.fr".into(), "cloudflare")]
        );
        assert!(cloudflare_decode("zz").is_none());
    }

    #[test]
    fn json_ld_and_roles() {
        let html = r#"<script type="application/ld+json">{"@type":"Organization","email":"contact@acme.fr",
            "employee":[{"@type":"Person","name":"Léa Petit","email":"mailto:lea.petit@acme.fr"}]}</script>"#;
        let got = extract(html);
        assert_eq!(got.len(), 2);
        assert!(got[0].role && got[0].email == "contact@acme.fr");
        assert!(!got[1].role && got[1].email == "lea.petit@acme.fr");
    }

    #[test]
    fn a_non_ascii_local_part_is_kept_whole_never_cut() {
        let got = emails(
            r#"<a href="mailto:jos%C3%A9.dupont@acme.test">José</a><a href="mailto:josé.dupont@acme.test">x</a>
               <p>Hélène : hélène.martin@acme.test ; Zoë: zoë@acme.test</p><p>andré.roux [at] acme [dot] test</p>"#,
        );
        let all: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        for cut in ["dupont@acme.test", "martin@acme.test", "roux@acme.test"] {
            assert!(
                !all.contains(&cut),
                "{cut} cut out of a longer address: {all:?}"
            );
        }
        assert_eq!(
            all,
            vec![
                "josé.dupont@acme.test",
                "hélène.martin@acme.test",
                "zoë@acme.test",
                "andré.roux@acme.test"
            ]
        );
        // A run too long to be a local part is dropped, not cut to its last 64 characters.
        let long = format!("<p>{}@acme.test</p>", "a".repeat(80));
        assert!(emails(&long).is_empty(), "{:?}", emails(&long));
    }

    #[test]
    fn scripts_are_not_text_and_broken_html_is_fine() {
        assert!(emails("<script>var x='a@b.fr'</script>").is_empty());
        assert_eq!(emails("<div><p>x@acme.fr<td></span>").len(), 1);
    }
}
