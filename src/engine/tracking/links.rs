//! What the sender puts in a message when tracking is on: the pixel, the one-click
//! unsubscribe URL (header and footer) and, with `[tracking] clicks = true`, every HTML link
//! rewritten to `/c/{token}`. Each URL carries a signed token (see [`super::token`]); the click
//! token binds the row and the original URL, so `/c/` can only redirect where the message linked.

use super::token::{Claims, Signer, TokenKind};
use crate::config::Config;

/// Tracking URLs for messages, from `[tracking] base_url` and the key in `secret_env`.
#[derive(Debug, Clone)]
pub struct Tracker {
    base: String,
    signer: Signer,
    clicks: bool,
}

/// The shortest signing key accepted (`hailer serve` applies the same rule).
pub const MIN_SECRET_LEN: usize = 16;

/// The tracking secret from the environment variable named by `[tracking] secret_env`.
/// The error names the variable, never the value.
pub fn secret_from_env(config: &Config) -> Result<Vec<u8>, String> {
    let var = config.tracking.secret_env.as_deref().ok_or_else(|| {
        "[tracking] secret_env is not set: tracking tokens need a signing key".to_string()
    })?;
    match std::env::var(var) {
        Ok(s) if s.len() >= MIN_SECRET_LEN => Ok(s.into_bytes()),
        Ok(s) if s.is_empty() => Err(format!(
            "${var} (tracking secret) is set but empty: it needs at least {MIN_SECRET_LEN} characters"
        )),
        Ok(_) => Err(format!(
            "${var} (tracking secret) must be at least {MIN_SECRET_LEN} characters"
        )),
        Err(_) => Err(format!("${var} (tracking secret) is not set")),
    }
}

/// The API token from the variable `[api] token_env` names, trimmed (a header's value is, so
/// a token pasted with a space could never match): `Ok(None)` when no variable is named or
/// it is unset or blank (the API stays off); `Err` when it is shorter than
/// [`MIN_SECRET_LEN`]: the token lets a caller start SMTP probes from this machine, so it is
/// as hard to guess as the tracking key at least. `serve` and `config check` ask here.
pub fn api_token_from_env(config: &Config) -> Result<Option<String>, String> {
    let Some(var) = config.api.token_env.as_deref() else {
        return Ok(None);
    };
    match std::env::var(var).map(|t| t.trim().to_string()) {
        Ok(t) if t.is_empty() => Ok(None),
        Ok(t) if t.len() < MIN_SECRET_LEN => Err(format!(
            "${var} (API token, [api] token_env) must be at least {MIN_SECRET_LEN} characters"
        )),
        Ok(t) => Ok(Some(t)),
        Err(_) => Ok(None),
    }
}

impl Tracker {
    pub fn new(base_url: &str, secret: &[u8], clicks: bool) -> Tracker {
        Tracker {
            base: base_url.trim_end_matches('/').to_string(),
            signer: Signer::new(secret),
            clicks,
        }
    }

    /// `None` when `[tracking] base_url` is unset (tracking off); an error when it is set
    /// but the signing key is missing or too short.
    pub fn from_config(config: &Config) -> Result<Option<Tracker>, String> {
        let Some(base) = config.tracking.base_url.as_deref() else {
            return Ok(None);
        };
        let secret = secret_from_env(config)?;
        Ok(Some(Tracker::new(base, &secret, config.tracking.clicks)))
    }

    fn token(&self, kind: TokenKind, outbox_id: i64, url: Option<&str>) -> String {
        self.signer.issue(&Claims {
            kind,
            outbox_id,
            url: url.map(str::to_string),
            recipient: None,
        })
    }

    pub fn open_url(&self, outbox_id: i64) -> String {
        format!(
            "{}/o/{}.gif",
            self.base,
            self.token(TokenKind::Open, outbox_id, None)
        )
    }

    /// The link that takes `recipient` (the address the message goes to) off the list.
    pub fn unsubscribe_url(&self, outbox_id: i64, recipient: &str) -> String {
        let token = self.signer.issue(&Claims {
            kind: TokenKind::Unsubscribe,
            outbox_id,
            url: None,
            recipient: Some(recipient.to_string()),
        });
        format!("{}/u/{token}", self.base)
    }

    pub fn click_url(&self, outbox_id: i64, url: &str) -> String {
        format!(
            "{}/c/{}",
            self.base,
            self.token(TokenKind::Click, outbox_id, Some(url))
        )
    }

    /// The plain-text part with its unsubscribe footer (never a pixel: text has none).
    pub fn text_part(&self, text: &str, unsubscribe: &str) -> String {
        let mut out = text.trim_end().to_string();
        out.push_str(&format!("\n\n--\nUnsubscribe: {unsubscribe}\n"));
        out
    }

    /// The HTML body: links rewritten when clicks are tracked, then the unsubscribe footer
    /// (never rewritten) and the pixel, just before `</body>` (or at the end).
    pub fn html_part(&self, html: &str, outbox_id: i64, unsubscribe: &str) -> String {
        let mut out = if self.clicks {
            rewrite_links(html, |url| self.click_url(outbox_id, url))
        } else {
            html.to_string()
        };
        let tail = format!(
            "<p style=\"font-size:12px;color:#777777\"><a href=\"{}\">Unsubscribe</a></p>\n\
             <img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">\n",
            escape_attr(unsubscribe),
            escape_attr(&self.open_url(outbox_id))
        );
        match out.rfind("</body>") {
            Some(at) => out.insert_str(at, &tail),
            None => out.push_str(&tail),
        }
        out
    }
}

/// Whether `url` is https (the scheme in any case): RFC 8058 §3.1 allows a one-click
/// unsubscribe only to an https URI. The sender and `config check` both ask this.
pub fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Rewrite the target of every `href="http(s)://…"` (double or single quoted) with `f`, which
/// gets the unescaped URL. Other links (mailto:, anchors) are left alone.
pub fn rewrite_links(html: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = find_href(rest) {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        // `after` starts with `href=` and a quote.
        let quote = after.as_bytes()[5] as char;
        let value_start = 6;
        let Some(len) = after[value_start..].find(quote) else {
            out.push_str(after);
            return out;
        };
        let raw = &after[value_start..value_start + len];
        let url = unescape_attr(raw);
        let lower = url.to_ascii_lowercase();
        out.push_str(&after[..value_start]);
        if lower.starts_with("http://") || lower.starts_with("https://") {
            out.push_str(&escape_attr(&f(&url)));
        } else {
            out.push_str(raw);
        }
        out.push(quote);
        rest = &after[value_start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Byte offset of the next `href="` or `href='` (ASCII case-insensitive).
fn find_href(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(5))
        .find(|&i| b[i..i + 5].eq_ignore_ascii_case(b"href=") && matches!(b[i + 5], b'"' | b'\''))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Decode the character references of an attribute value in one left-to-right pass (so
/// `&amp;#39;` gives `&#39;`, not `'`): every numeric one (`&#39;`, `&#x27;`; as browsers do,
/// the `;` may be missing) and the named ones a URL plausibly holds. Invalid code points and
/// unknown names stay as written.
fn unescape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match decode_reference(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of the reference at the start of `s` (which starts with `&`) and its length.
fn decode_reference(s: &str) -> Option<(char, usize)> {
    const NAMED: &[(&str, char)] = &[
        ("amp;", '&'),
        ("AMP;", '&'),
        ("lt;", '<'),
        ("LT;", '<'),
        ("gt;", '>'),
        ("GT;", '>'),
        ("quot;", '"'),
        ("QUOT;", '"'),
        ("apos;", '\''),
        ("nbsp;", '\u{a0}'),
    ];
    let body = &s[1..];
    let Some(num) = body.strip_prefix('#') else {
        return NAMED
            .iter()
            .find(|(name, _)| body.starts_with(name))
            .map(|&(name, c)| (c, 1 + name.len()));
    };
    let (digits, radix, prefix) = match num.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16, 3),
        None => (num, 10, 2),
    };
    let n = digits
        .bytes()
        .take_while(|b| match radix {
            16 => b.is_ascii_hexdigit(),
            _ => b.is_ascii_digit(),
        })
        .count();
    let code = u32::from_str_radix(digits.get(..n).filter(|d| !d.is_empty())?, radix).ok()?;
    let c = char::from_u32(code).filter(|&c| c != '\0')?;
    let semicolon = usize::from(digits[n..].starts_with(';'));
    Some((c, prefix + n + semicolon))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Behind a proxy under a path, tokens go after the path; a trailing slash is dropped.
    #[test]
    fn tokens_go_after_a_base_path() {
        for base in [
            "https://t.sender.test/hailer",
            "https://t.sender.test/hailer/",
        ] {
            let t = Tracker::new(base, b"0123456789abcdef", false);
            let u = t.unsubscribe_url(7, "jane@acme.test");
            assert!(u.starts_with("https://t.sender.test/hailer/u/"), "{u}");
            assert!(!u.contains("//u/"), "{u}");
        }
    }

    #[test]
    fn links_are_rewritten_and_unescaped_before_signing() {
        let html = "<p><a href=\"https://a.test/x?a=1&amp;b=2\">A</a> \
                    <a HREF='http://b.test/'>B</a> <a href=\"mailto:x@y.test\">m</a> \
                    <a href=\"#top\">t</a></p>";
        let out = rewrite_links(html, |u| format!("https://t.test/c/[{u}]"));
        assert!(
            out.contains("href=\"https://t.test/c/[https://a.test/x?a=1&amp;b=2]\""),
            "{out}"
        );
        assert!(
            out.contains("HREF='https://t.test/c/[http://b.test/]'"),
            "{out}"
        );
        assert!(out.contains("href=\"mailto:x@y.test\""), "{out}");
        assert!(out.contains("href=\"#top\""), "{out}");
        assert!(out.ends_with("</p>"));
    }

    #[test]
    fn character_references_in_hrefs_are_decoded_before_signing() {
        use crate::engine::outbox::compose::markdown_to_html;
        let seen = |html: &str| {
            let urls = std::cell::RefCell::new(Vec::new());
            rewrite_links(html, |u| {
                urls.borrow_mut().push(u.to_string());
                "X".into()
            });
            urls.into_inner()
        };
        // pulldown-cmark writes ' as &#x27; and & as &amp;.
        let html = markdown_to_html("[a](https://a.test/it's?x=1&y=2)");
        assert_eq!(seen(&html), ["https://a.test/it's?x=1&y=2"], "{html}");
        // Raw HTML: decimal, hex, named, and an escaped ampersand decoded only once.
        let raw = "<a href=\"https://a.test/p?x=1&#38;y=2&#x26;z=&apos;&nbsp;&QUOT;\">a</a>\
                   <a href='https://a.test/?q=&amp;#39;&#X27;&#39'>b</a>";
        assert_eq!(
            seen(raw),
            [
                "https://a.test/p?x=1&y=2&z='\u{a0}\"",
                "https://a.test/?q=&#39;''"
            ]
        );
        // Invalid or unknown references stay as written.
        let raw = "<a href=\"https://a.test/?a=&#0;&#x110000;&#xZ;&#;&bogus;&amp\">a</a>";
        assert_eq!(
            seen(raw),
            ["https://a.test/?a=&#0;&#x110000;&#xZ;&#;&bogus;&amp"]
        );
    }

    #[test]
    fn unterminated_attribute_is_left_as_is() {
        let html = "<a href=\"https://a.test/";
        assert_eq!(rewrite_links(html, |_| "X".into()), html);
    }

    #[test]
    fn click_tokens_bind_row_and_url() {
        let t = Tracker::new("https://t.test/", b"0123456789abcdef", true);
        let url = t.click_url(9, "https://a.test/p?q=1&r=2");
        let token = url.strip_prefix("https://t.test/c/").unwrap();
        let claims = Signer::new(b"0123456789abcdef").verify(token).unwrap();
        assert_eq!(claims.kind, TokenKind::Click);
        assert_eq!(claims.outbox_id, 9);
        assert_eq!(claims.url.as_deref(), Some("https://a.test/p?q=1&r=2"));
    }

    #[test]
    fn html_gets_footer_and_pixel_before_body_end() {
        let t = Tracker::new("https://t.test", b"0123456789abcdef", false);
        let html = t.html_part(
            "<html><body><a href=\"https://a.test/\">a</a></body></html>",
            3,
            "https://t.test/u/TOKEN",
        );
        // clicks = false: the original link stays.
        assert!(html.contains("href=\"https://a.test/\""), "{html}");
        let pixel = html.find("<img src=\"https://t.test/o/").unwrap();
        let footer = html.find("href=\"https://t.test/u/TOKEN\"").unwrap();
        assert!(footer < pixel && pixel < html.find("</body>").unwrap());
    }
}
