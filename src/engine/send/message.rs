//! From an outbox row and a mailbox to the exact bytes that go out: headers (Message-ID that
//! bounces and replies are matched on later, Date, From with display name, Reply-To,
//! List-Unsubscribe, with List-Unsubscribe-Post when tracking gives it an https URL), the text part,
//! the HTML part when `[sending] html = true` (with tracking on: unsubscribe footer in both
//! parts, pixel and click links in HTML only), and a DKIM signature when the mailbox has
//! `dkim_selector` and `dkim_key_file`.

use std::time::SystemTime;

use lettre::Address;
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::config::{Config, MailboxConfig};
use crate::engine::outbox::compose::{markdown_to_html, markdown_to_text};
use crate::engine::tracking::links::Tracker;
use crate::store::outbox::OutboxRow;

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    // From, ReplyTo and Dkim are the mailbox's problems; To, NoAddress and Build the row's.
    #[error("mailbox from = {0:?} is not a valid address")]
    From(String),
    #[error("reply_to = {0:?} is not a valid address")]
    ReplyTo(String),
    #[error("recipient {0:?} is not a valid address")]
    To(String),
    #[error("row has no address")]
    NoAddress,
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("DKIM key {path}: {cause}")]
    Dkim { path: String, cause: String },
    /// `[tracking] base_url` is set but its signing key is not usable.
    #[error("tracking: {0}")]
    Tracking(String),
}

/// The bare address in `"Name <a@b>"` or `"a@b"`.
pub fn address_of(from: &str) -> Option<String> {
    from.parse::<Mailbox>().ok().map(|m| m.email.to_string())
}

/// The domain part of the sender's address (Message-ID right-hand side, DKIM d=).
pub fn sender_domain(mb: &MailboxConfig) -> String {
    address_of(&mb.from)
        .and_then(|a| a.rsplit_once('@').map(|(_, d)| d.to_string()))
        .unwrap_or_else(|| "localhost".into())
}

/// `<{outbox id}.{random}@{sender domain}>` (stored without the angle brackets).
pub fn new_message_id(row_id: i64, mb: &MailboxConfig) -> String {
    format!("{row_id}.{:016x}@{}", fastrand::u64(..), sender_domain(mb))
}

/// The message, with its envelope sender and recipient.
pub struct Outgoing {
    pub message: Message,
    pub from: Address,
    pub to: Address,
}

impl Outgoing {
    pub fn formatted(&self) -> Vec<u8> {
        self.message.formatted()
    }
}

pub fn build(
    row: &OutboxRow,
    mb: &MailboxConfig,
    config: &Config,
    message_id: &str,
    date: SystemTime,
) -> Result<Outgoing, MessageError> {
    // Tracking on: signed pixel, click and unsubscribe URLs (engine::tracking::links).
    let tracker = Tracker::from_config(config).map_err(MessageError::Tracking)?;
    build_with(row, mb, config, tracker.as_ref(), message_id, date)
}

/// `jean@café.test` → `jean@xn--caf-dma.test`: the domain in its ASCII (IDNA) form, which
/// every server accepts in RCPT TO and in headers, converted as the syntax check converts it.
/// The local part is kept (the outbox build refuses a non-ASCII one).
fn ascii_address(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    if domain.is_ascii() {
        return Some(email.to_string());
    }
    let domain = crate::engine::verify::syntax::ascii_domain(domain)?;
    Some(format!("{local}@{domain}"))
}

/// A header value on one line: a line break, tab or other control character (a name
/// imported from a quoted CSV cell may hold "Ann\nMarie") becomes one space, and the ends
/// are trimmed; other spacing is the user's. lettre refuses to write a display name with a
/// line break (it panicked the run), and a subject is one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`build`] with the tracker given (`None`: no tracking), for callers that hold one.
pub fn build_with(
    row: &OutboxRow,
    mb: &MailboxConfig,
    config: &Config,
    tracker: Option<&Tracker>,
    message_id: &str,
    date: SystemTime,
) -> Result<Outgoing, MessageError> {
    let from: Mailbox = mb
        .from
        .parse()
        .map_err(|_| MessageError::From(mb.from.clone()))?;
    let email = row.email.as_deref().ok_or(MessageError::NoAddress)?;
    let to_addr: Address = ascii_address(email)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| MessageError::To(email.to_string()))?;
    let name = one_line(&format!("{} {}", row.firstname, row.lastname));
    let to = Mailbox::new((!name.is_empty()).then_some(name), to_addr.clone());
    let mut b = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .date(date)
        .from(from.clone())
        .to(to)
        .subject(one_line(&row.subject));
    if let Some(rt) = &mb.reply_to {
        let rt: Mailbox = rt.parse().map_err(|_| MessageError::ReplyTo(rt.clone()))?;
        b = b.reply_to(rt);
    }
    let unsub_url = tracker.map(|t| t.unsubscribe_url(row.id, email));
    // RFC 8058 §3.1: the URI a one-click POST goes to must be https. An http base_url (local
    // use) keeps the footer link, but the header is the mailto alone.
    let one_click_url = unsub_url
        .as_ref()
        .filter(|u| crate::engine::tracking::links::is_https(u));
    let mut unsub = format!("<mailto:{}?subject=unsubscribe>", from.email);
    if let Some(url) = one_click_url {
        unsub.push_str(&format!(", <{url}>"));
    }
    b = b.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe"),
        unsub,
    ));
    // RFC 8058: the one-click header only beside an https URL to POST to. With a mailto alone
    // it would promise receivers (Gmail, Yahoo) a one-click unsubscribe that does not exist.
    if one_click_url.is_some() {
        b = b.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
    }
    let mut text = markdown_to_text(&row.body);
    if let (Some(t), Some(url)) = (tracker, &unsub_url) {
        text = t.text_part(&text, url);
    }
    let mut message = if config.sending.html {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{}</body></html>\n",
            markdown_to_html(&row.body)
        );
        if let (Some(t), Some(url)) = (tracker, &unsub_url) {
            html = t.html_part(&html, row.id, url);
        }
        b.multipart(MultiPart::alternative_plain_html(text, html))
    } else {
        b.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        )
    }
    .map_err(|e| MessageError::Build(e.to_string()))?;
    if let (Some(selector), Some(path)) = (&mb.dkim_selector, &mb.dkim_key_file) {
        message.sign(&dkim_config(selector, &sender_domain(mb), path)?);
    }
    Ok(Outgoing {
        message,
        from: from.email,
        to: to_addr,
    })
}

impl MessageError {
    /// A problem with the mailbox's settings: no message from it can be built.
    pub fn is_mailbox_problem(&self) -> bool {
        matches!(
            self,
            MessageError::From(_)
                | MessageError::ReplyTo(_)
                | MessageError::Dkim { .. }
                | MessageError::Tracking(_)
        )
    }
}

/// Whether the mailbox's DKIM key (when it has one) can be read and parsed, as `build` reads
/// it: `config check` asks before a send finds out. The error names the file, not the key.
pub fn check_dkim_key(mb: &MailboxConfig) -> Result<(), String> {
    let (Some(selector), Some(path)) = (&mb.dkim_selector, &mb.dkim_key_file) else {
        return Ok(());
    };
    match dkim_config(selector, &sender_domain(mb), path) {
        Ok(_) => Ok(()),
        Err(MessageError::Dkim { path, cause }) => Err(format!("dkim_key_file {path:?}: {cause}")),
        Err(e) => Err(e.to_string()),
    }
}

fn dkim_config(
    selector: &str,
    domain: &str,
    path: &std::path::Path,
) -> Result<DkimConfig, MessageError> {
    let err = |cause: String| MessageError::Dkim {
        path: path.display().to_string(),
        cause,
    };
    let pem = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
        DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa)
    } else if pem.contains("BEGIN PRIVATE KEY") {
        // PKCS#8, as `openssl genpkey` writes it; lettre reads RSA keys as PKCS#1 only.
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
            .map_err(|e| err(format!("not an RSA PKCS#8 key: {e}")))?;
        let pkcs1 = rsa
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| err(e.to_string()))?;
        DkimSigningKey::new(&pkcs1, DkimSigningAlgorithm::Rsa)
    } else {
        // A bare base64 Ed25519 seed, as lettre expects it.
        DkimSigningKey::new(pem.trim(), DkimSigningAlgorithm::Ed25519)
    }
    .map_err(|e| err(e.to_string()))?;
    // lettre's default covers From, Subject, To and Date only. RFC 8058 needs both
    // List-Unsubscribe headers signed for mailbox providers to offer one-click unsubscribe, and
    // a signed Message-ID and Reply-To cannot be swapped in transit. Every name here is in
    // h=; one the message does not have (Reply-To) is signed as absent, so it cannot be added.
    //
    // Not Content-Type or Content-Transfer-Encoding: lettre signs the message's own headers,
    // and those two belong to the MIME part, written after signing. Listed, they were signed
    // as absent, and every message failed DKIM (and DMARC) where it arrived.
    let headers = [
        "From",
        "Reply-To",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
    ]
    .into_iter()
    .map(HeaderName::new_from_ascii_str)
    .collect();
    Ok(DkimConfig::new(
        selector.to_string(),
        domain.to_string(),
        key,
        headers,
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::Status;

    fn row() -> OutboxRow {
        OutboxRow {
            id: 42,
            prospect_id: 1,
            firstname: "Élodie".into(),
            lastname: "Durand".into(),
            company: "Acme".into(),
            company_key: "acme".into(),
            email: Some("elodie@acme.test".into()),
            subject: "Bonjour Élodie".into(),
            body: "Hi **there**, see [site](https://a.test/)".into(),
            status: Status::Ready,
            reason: None,
            approved: true,
            edited: false,
            mailbox: None,
            header_message_id: None,
            attempts: 0,
            smtp_reply: None,
            sent_at: None,
        }
    }

    fn config(html: bool, base: Option<&str>) -> (Config, MailboxConfig) {
        let text = format!(
            "[sending]\nhtml = {html}\n{}[mailboxes.a]\nfrom = \"Sam Sender <sam@sender.test>\"\nreply_to = \"replies@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n",
            base.map(|b| format!("[tracking]\nbase_url = \"{b}\"\nsecret_env = \"X\"\n"))
                .unwrap_or_default()
        );
        let c = Config::from_toml(&text, std::path::Path::new("t.toml")).unwrap();
        let mb = c.mailboxes["a"].clone();
        (c, mb)
    }

    #[test]
    fn headers_and_text_only() {
        let (c, mb) = config(false, None);
        let id = new_message_id(42, &mb);
        assert!(
            id.starts_with("42.") && id.ends_with("@sender.test"),
            "{id}"
        );
        let out = build(&row(), &mb, &c, &id, SystemTime::now()).unwrap();
        let raw = String::from_utf8(out.formatted()).unwrap();
        assert!(raw.contains(&format!("Message-ID: <{id}>")), "{raw}");
        assert!(
            raw.contains("From: \"Sam Sender\" <sam@sender.test>"),
            "{raw}"
        );
        assert!(raw.contains("Reply-To: replies@sender.test"), "{raw}");
        assert!(raw.contains("Date: "), "{raw}");
        assert!(
            raw.contains("List-Unsubscribe: <mailto:sam@sender.test?subject=unsubscribe>\r\n"),
            "{raw}"
        );
        assert!(
            !raw.contains("List-Unsubscribe-Post"),
            "no one-click promise without a URL to POST to: {raw}"
        );
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(!raw.contains("text/html"), "{raw}");
        assert_eq!(out.to.to_string(), "elodie@acme.test");
        let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
        assert_eq!(
            parsed.get_body().unwrap().trim_end(),
            "Hi there, see site (https://a.test/)"
        );
    }

    #[test]
    fn an_accented_domain_goes_out_in_its_ascii_form() {
        let (c, mb) = config(false, None);
        let mut r = row();
        r.email = Some("jean@café.test".into());
        let out = build(&r, &mb, &c, "42.x@sender.test", SystemTime::now()).unwrap();
        assert_eq!(out.to.to_string(), "jean@xn--caf-dma.test");
        let raw = String::from_utf8(out.formatted()).unwrap();
        assert!(raw.contains("<jean@xn--caf-dma.test>"), "{raw}");
        assert!(raw.is_ascii(), "{raw}");
    }

    /// A name with a line break (a quoted CSV cell) made lettre's header writer panic and
    /// took the whole run down; it is one line now, in To and in the subject.
    #[test]
    fn line_breaks_in_names_and_subject_become_spaces() {
        let (c, mb) = config(false, None);
        let mut r = row();
        r.firstname = "Ann\nMarie".into();
        r.lastname = "Du\r\nrand\t".into();
        r.subject = "QA Ann\nMarie\u{2028}end".into();
        let out = build(&r, &mb, &c, "42.x@sender.test", SystemTime::now()).unwrap();
        let raw = String::from_utf8(out.formatted()).unwrap();
        let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
                .unwrap()
        };
        assert_eq!(
            header("To"),
            "\"Ann Marie Du rand\" <elodie@acme.test>",
            "{raw}"
        );
        assert_eq!(header("Subject"), "QA Ann Marie end", "{raw}");
        assert_eq!(one_line("  Hello  there "), "Hello  there");
    }

    #[test]
    fn the_preview_is_the_built_message_decoded() {
        use crate::engine::outbox::compose::preview;
        let (c, mb) = config(false, None);
        let mut r = row();
        r.firstname = "  ".into();
        r.lastname = "Durand".into();
        let shown = preview(&r, &c);
        let built = build(&r, &mb, &c, "42.x@sender.test", SystemTime::now())
            .unwrap()
            .formatted();
        let parsed = mailparse::parse_mail(&built).unwrap();
        // Every header the sender writes is in the preview, decoded (Date and the Message-ID's
        // random part aside).
        for h in parsed.get_headers() {
            let key = h.get_key();
            if key == "Date" || key == "Message-ID" {
                assert!(shown.contains(&format!("{key}: ")), "{key} in {shown}");
                continue;
            }
            let line = format!("{key}: {}", h.get_value());
            assert!(shown.contains(&line), "{line:?} in {shown}");
        }
        assert!(shown.contains("Subject: Bonjour Élodie\n"), "{shown}");
        assert!(shown.contains("To: Durand <elodie@acme.test>\n"), "{shown}");
        assert!(shown.contains("Reply-To: replies@sender.test\n"), "{shown}");
        assert!(
            shown.ends_with(&format!(
                "\n\n{}",
                parsed.get_body().unwrap().replace("\r\n", "\n")
            )),
            "{shown}"
        );
        let (c, _) = config(true, None);
        assert!(preview(&r, &c).contains("(and a text/html part"));
    }

    const SECRET: &[u8] = b"0123456789abcdef-secret";

    fn tracked_config(html: bool, clicks: bool) -> (Config, MailboxConfig, Tracker) {
        let text = format!(
            "[sending]\nhtml = {html}\n[tracking]\nbase_url = \"https://t.example/\"\nsecret_env = \"UNUSED_IN_TEST\"\nclicks = {clicks}\n[mailboxes.a]\nfrom = \"Sam Sender <sam@sender.test>\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n"
        );
        let c = Config::from_toml(&text, std::path::Path::new("t.toml")).unwrap();
        let mb = c.mailboxes["a"].clone();
        let t = Tracker::new("https://t.example/", SECRET, clicks);
        (c, mb, t)
    }

    /// RFC 8058 §3.1: the one-click URI must be https. With an http base_url the header is
    /// the mailto alone and there is no one-click promise; the footer keeps its link.
    #[test]
    fn an_http_base_url_gets_no_one_click_header() {
        let (c, mb, _) = tracked_config(false, false);
        let t = Tracker::new("http://t.example/", SECRET, false);
        let out = build_with(
            &row(),
            &mb,
            &c,
            Some(&t),
            "42.ab@sender.test",
            SystemTime::now(),
        )
        .unwrap();
        let raw = String::from_utf8(out.formatted()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <mailto:sam@sender.test?subject=unsubscribe>\r\n"),
            "{raw}"
        );
        assert!(!raw.contains("List-Unsubscribe-Post"), "{raw}");
        assert!(raw.contains("Unsubscribe: http://t.example/u/"), "{raw}");
    }

    fn verify(url: &str, prefix: &str) -> crate::engine::tracking::token::Claims {
        let token = url
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{url} starts with {prefix}"));
        let token = token.strip_suffix(".gif").unwrap_or(token);
        crate::engine::tracking::token::Signer::new(SECRET)
            .verify(token)
            .unwrap_or_else(|| panic!("{url} carries a genuine token"))
    }

    /// Every `attr="…"` value in `html` that starts with `prefix`.
    fn attrs(html: &str, attr: &str, prefix: &str) -> Vec<String> {
        html.split(&format!("{attr}=\""))
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|v| v.starts_with(prefix))
            .map(|v| v.replace("&amp;", "&"))
            .collect()
    }

    #[test]
    fn html_tracked_message_has_pixel_clicks_footer_and_one_click_header() {
        use crate::engine::tracking::token::TokenKind;
        use mailparse::MailHeaderMap;
        let (c, mb, t) = tracked_config(true, true);
        let mut r = row();
        r.body = "Hi, see [site](https://a.test/p?x=1&y=2) and [mail](mailto:m@a.test)".into();
        let out = build_with(
            &r,
            &mb,
            &c,
            Some(&t),
            "42.ab@sender.test",
            SystemTime::now(),
        )
        .unwrap();
        let raw = out.formatted();
        let parsed = mailparse::parse_mail(&raw).unwrap();
        let header = parsed.headers.get_first_value("List-Unsubscribe").unwrap();
        let (mailto, https) = header.split_once(", ").unwrap();
        assert_eq!(mailto, "<mailto:sam@sender.test?subject=unsubscribe>");
        let https = https.trim_start_matches('<').trim_end_matches('>');
        let claims = verify(https, "https://t.example/u/");
        assert_eq!(
            (claims.kind, claims.outbox_id),
            (TokenKind::Unsubscribe, 42)
        );
        assert_eq!(
            parsed
                .headers
                .get_first_value("List-Unsubscribe-Post")
                .as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let types: Vec<String> = parsed
            .subparts
            .iter()
            .map(|p| p.ctype.mimetype.clone())
            .collect();
        assert_eq!(types, ["text/plain", "text/html"]);

        let text = parsed.subparts[0].get_body().unwrap();
        assert!(text.contains(&format!("Unsubscribe: {https}")), "{text}");
        assert!(!text.contains("/o/"), "no pixel in text: {text}");
        // The text part keeps the original link (only HTML links are rewritten).
        assert!(text.contains("(https://a.test/p?x=1&y=2)"), "{text}");

        let html = parsed.subparts[1].get_body().unwrap();
        let pixels = attrs(&html, "src", "https://t.example/o/");
        assert_eq!(pixels.len(), 1, "{html}");
        let claims = verify(&pixels[0], "https://t.example/o/");
        assert_eq!((claims.kind, claims.outbox_id), (TokenKind::Open, 42));
        let clicks = attrs(&html, "href", "https://t.example/c/");
        assert_eq!(clicks.len(), 1, "{html}");
        let claims = verify(&clicks[0], "https://t.example/c/");
        assert_eq!(claims.kind, TokenKind::Click);
        assert_eq!(claims.outbox_id, 42);
        assert_eq!(claims.url.as_deref(), Some("https://a.test/p?x=1&y=2"));
        // No untracked http link is left, except the footer's unsubscribe link.
        assert!(!html.contains("href=\"https://a.test"), "{html}");
        assert!(html.contains("href=\"mailto:m@a.test\""), "{html}");
        let footer = attrs(&html, "href", "https://t.example/u/");
        assert_eq!(footer.len(), 1, "{html}");
        assert_eq!(
            verify(&footer[0], "https://t.example/u/").kind,
            TokenKind::Unsubscribe
        );
    }

    #[test]
    fn clicks_off_keeps_links_and_text_only_has_no_pixel() {
        let (c, mb, t) = tracked_config(true, false);
        let out = build_with(
            &row(),
            &mb,
            &c,
            Some(&t),
            "42.ab@sender.test",
            SystemTime::now(),
        )
        .unwrap();
        let raw = out.formatted();
        let parsed = mailparse::parse_mail(&raw).unwrap();
        let html = parsed.subparts[1].get_body().unwrap();
        assert!(html.contains("href=\"https://a.test/\""), "{html}");
        assert!(attrs(&html, "href", "https://t.example/c/").is_empty());
        assert_eq!(attrs(&html, "src", "https://t.example/o/").len(), 1);

        let (c, mb, t) = tracked_config(false, true);
        let out = build_with(
            &row(),
            &mb,
            &c,
            Some(&t),
            "42.ab@sender.test",
            SystemTime::now(),
        )
        .unwrap();
        let raw = String::from_utf8(out.formatted()).unwrap();
        let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
        assert_eq!(parsed.ctype.mimetype, "text/plain");
        let body = parsed.get_body().unwrap();
        assert!(body.contains("Unsubscribe: https://t.example/u/"), "{body}");
        assert!(!raw.contains("/o/") && !raw.contains("<img"), "{raw}");
    }

    #[test]
    fn tracking_without_its_key_is_a_mailbox_wide_error() {
        let text = "[tracking]\nbase_url = \"https://t.example\"\nsecret_env = \"HAILER_TEST_SURELY_UNSET_VAR\"\n[mailboxes.a]\nfrom = \"a@sender.test\"\nsmtp_host = \"h\"\npassword_env = \"X\"\n";
        let c = Config::from_toml(text, std::path::Path::new("t.toml")).unwrap();
        let err = build(
            &row(),
            &c.mailboxes["a"],
            &c,
            "42.ab@sender.test",
            SystemTime::now(),
        )
        .err()
        .unwrap();
        assert!(err.is_mailbox_problem());
        assert!(
            err.to_string().contains("HAILER_TEST_SURELY_UNSET_VAR"),
            "{err}"
        );
    }

    #[test]
    fn html_without_tracking_has_two_plain_parts() {
        let (c, mb) = config(true, None);
        let out = build(&row(), &mb, &c, "42.ab@sender.test", SystemTime::now()).unwrap();
        let raw = String::from_utf8(out.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
        let text = parsed.subparts[0].get_body().unwrap();
        assert!(!text.contains("Unsubscribe:"), "{text}");
        assert!(!parsed.subparts[1].get_body().unwrap().contains("<img"));
        assert!(
            parsed.subparts[1]
                .get_body()
                .unwrap()
                .contains("<strong>there</strong>")
        );
    }
}
