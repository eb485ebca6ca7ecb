//! From an outbox row and a mailbox to the exact bytes that go out: headers (Message-ID that
//! bounces and replies are matched on later, Date, From with display name, Reply-To,
//! List-Unsubscribe + One-Click), the text part, the HTML part when `[sending] html = true`,
//! and a DKIM signature when the mailbox has `dkim_selector` and `dkim_key_file`.

use std::time::SystemTime;

use lettre::Address;
use lettre::Message;
use lettre::message::dkim::{DkimConfig, DkimSigningAlgorithm, DkimSigningKey};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::config::{Config, MailboxConfig};
use crate::engine::outbox::compose::{markdown_to_html, markdown_to_text};
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

/// The https one-click unsubscribe URL when `[tracking] base_url` is set.
///
/// Hook for the tracking issue: it replaces this token (today the Message-ID's random part,
/// which is unguessable and stored on the row) with its signed token.
pub fn https_unsubscribe(config: &Config, message_id: &str) -> Option<String> {
    let base = config.tracking.base_url.as_deref()?.trim_end_matches('/');
    let token = message_id.split('@').next().unwrap_or(message_id);
    Some(format!("{base}/u/{token}"))
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
    let from: Mailbox = mb
        .from
        .parse()
        .map_err(|_| MessageError::From(mb.from.clone()))?;
    let email = row.email.as_deref().ok_or(MessageError::NoAddress)?;
    let to_addr: Address = email
        .parse()
        .map_err(|_| MessageError::To(email.to_string()))?;
    let name = format!("{} {}", row.firstname.trim(), row.lastname.trim());
    let name = name.trim();
    let to = Mailbox::new(
        (!name.is_empty()).then(|| name.to_string()),
        to_addr.clone(),
    );
    let mut b = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .date(date)
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone());
    if let Some(rt) = &mb.reply_to {
        let rt: Mailbox = rt.parse().map_err(|_| MessageError::ReplyTo(rt.clone()))?;
        b = b.reply_to(rt);
    }
    let mut unsub = format!("<mailto:{}?subject=unsubscribe>", from.email);
    if let Some(url) = https_unsubscribe(config, message_id) {
        unsub.push_str(&format!(", <{url}>"));
    }
    b = b
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            unsub,
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
    let text = markdown_to_text(&row.body);
    let mut message = if config.sending.html {
        let html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{}</body></html>\n",
            markdown_to_html(&row.body)
        );
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
            MessageError::From(_) | MessageError::ReplyTo(_) | MessageError::Dkim { .. }
        )
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
    Ok(DkimConfig::default_config(
        selector.to_string(),
        domain.to_string(),
        key,
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
            base.map(|b| format!("[tracking]\nbase_url = \"{b}\"\n"))
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
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
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
    fn html_gives_two_parts_and_https_unsubscribe() {
        let (c, mb) = config(true, Some("https://t.example/"));
        let out = build(&row(), &mb, &c, "42.ab@sender.test", SystemTime::now()).unwrap();
        let raw = String::from_utf8(out.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
        use mailparse::MailHeaderMap;
        assert_eq!(
            parsed.headers.get_first_value("List-Unsubscribe").unwrap(),
            "<mailto:sam@sender.test?subject=unsubscribe>, <https://t.example/u/42.ab>"
        );
        let types: Vec<String> = parsed
            .subparts
            .iter()
            .map(|p| p.ctype.mimetype.clone())
            .collect();
        assert_eq!(types, ["text/plain", "text/html"]);
        assert!(
            parsed.subparts[1]
                .get_body()
                .unwrap()
                .contains("<strong>there</strong>")
        );
    }
}
