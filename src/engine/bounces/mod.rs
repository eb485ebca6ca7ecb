//! Bounce parsing: pure functions over the bytes of one message.
//!
//! [`parse`] tells what a message is ([`Kind`]: a bounce, an auto-reply, a complaint, a reply or
//! something else) and, for a bounce, returns one [`BounceRecord`] per failed (or delayed)
//! recipient with the SMTP reply code, the RFC 3463 enhanced status code, the diagnostic text, the
//! remote MTA, the Message-ID of the returned message, a Sisimai-style [`Reason`] and hard/soft.
//!
//! How it works:
//! - `mime` flattens the message (mailparse does the MIME work; malformed input falls back to the
//!   raw text): the notification text, the `message/delivery-status` fields, the returned headers.
//! - `dsn` reads RFC 3464 delivery-status fields, wherever they are.
//! - `text` reads the human-readable notices non-standard MTAs send (qmail, Exim, Sendmail,
//!   Exchange, Gmail, Yahoo, Courier, Domino, …) by their shape: a recipient line followed by
//!   its error lines.
//! - `codes` finds reply codes, status codes and SMTP commands in free text.
//! - `reason` maps status, reply code, command and text to the taxonomy; `rhost` holds the rules of
//!   big receivers (Google, Microsoft, Orange, …) keyed by the remote host or the domain.
//! - `kind` tells bounces from auto-replies, ARF complaints, replies and other mail.
//!
//! Nothing here does IO, and nothing panics on any input (see the proptest in
//! `tests/bounce_fuzz.rs`).

mod codes;
mod dsn;
mod kind;
pub use kind::{reply_text, strip_reply_prefixes};
mod mime;
mod reason;
mod rhost;
mod text;
mod text_rules;

pub use kind::Kind;

pub use reason::Reason;

/// What a DSN says happened to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
        }
    }

    fn parse(value: &str) -> Option<Action> {
        let v = value.trim().to_ascii_lowercase();
        let word = v
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        match word {
            "failed" | "failure" | "fail" => Some(Action::Failed),
            "delayed" | "delay" => Some(Action::Delayed),
            "delivered" | "deliverable" => Some(Action::Delivered),
            "relayed" => Some(Action::Relayed),
            "expanded" => Some(Action::Expanded),
            _ => None,
        }
    }
}

/// One recipient the bounce reports on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceRecord {
    /// The failed address (the DSN `Final-Recipient`, or what the notice names), lower-cased domain.
    pub recipient: String,
    /// The DSN `Original-Recipient` (or the address a forward was expanded from) when it differs.
    pub original_recipient: Option<String>,
    pub action: Action,
    /// RFC 3463 enhanced status code as found in the message (`5.1.1`); `None` when absent.
    pub status: Option<String>,
    /// SMTP reply code (`550`) when the message has one.
    pub reply_code: Option<u16>,
    /// The SMTP command the remote host answered (`RCPT`, `DATA`, …) when known.
    pub command: Option<&'static str>,
    /// Diagnostic text, on one line.
    pub diagnostic: String,
    /// The remote MTA that refused the message, when named.
    pub remote_mta: Option<String>,
    /// Message-ID of the returned message, without angle brackets, when it came back.
    pub original_message_id: Option<String>,
    pub reason: Reason,
    /// Hard bounce: retrying will not help (the address or its domain does not exist).
    pub hard: bool,
}

/// An ARF (RFC 5965) complaint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feedback {
    /// `Feedback-Type` (`abuse`, `fraud`, …).
    pub feedback_type: String,
    /// The complaining recipient(s): `Original-Rcpt-To`, else the returned message's `To`.
    pub recipients: Vec<String>,
    pub original_message_id: Option<String>,
}

/// Everything [`parse`] learns from one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMessage {
    pub kind: Kind,
    /// For a bounce: one record per failed or delayed recipient (never empty for a bounce).
    pub records: Vec<BounceRecord>,
    /// For a complaint.
    pub feedback: Option<Feedback>,
    /// Address in the message's `From` (for an auto-reply, the person who is away).
    pub from: Option<String>,
    /// The display name in the message's `From` (`Jane Doe` of `"Jane Doe" <j@x.test>`).
    pub from_name: Option<String>,
    pub subject: String,
    /// The message's own Message-ID.
    pub message_id: Option<String>,
    /// Message-IDs this message refers to (`In-Reply-To`, then `References`), to match replies.
    pub references: Vec<String>,
    /// Message-ID of the returned (original) message, for bounces and complaints.
    pub original_message_id: Option<String>,
    /// A delivery report whose fields say a delivery failed or is delayed, but that names no
    /// recipient that could be read (`Final-Recipient: rfc822; not an address`): kind
    /// `Other`, yet a report someone should look at, not mail to pass over.
    pub unreadable_report: bool,
    /// A delivery status report (DSN) with no failure hailer could read: kind `Other`, and
    /// never a person's reply, even when threaded to our message.
    pub delivery_report: bool,
    /// The text the message's writer added (before quoted text, a forwarded message or a
    /// signature), as written: what a reply says, for the unsubscribe check and the snippet.
    pub fresh_text: String,
    /// All of the message's text, quoted text and an attached original included: where an
    /// answer from an address we never wrote to may quote our subject.
    pub full_text: String,
}

impl ParsedMessage {
    /// True when at least one recipient failed for good or for now.
    pub fn is_bounce(&self) -> bool {
        self.kind == Kind::Bounce
    }
}

/// Parse one message (CRLF or LF line endings). Never panics.
pub fn parse(bytes: &[u8]) -> ParsedMessage {
    let flat = mime::flatten(bytes);
    kind::classify(&flat)
}

/// [`parse`], plus the machine-readable report part as text: the `message/delivery-status`
/// fields of a DSN or the `message/feedback-report` of a complaint; for a notice without one,
/// the start of its human-readable text. Stored with each bounce for display.
pub fn parse_with_report(bytes: &[u8]) -> (ParsedMessage, String) {
    const MAX: usize = 8000;
    let flat = mime::flatten(bytes);
    let parsed = kind::classify(&flat);
    let report = if !flat.dsn.is_empty() {
        flat.dsn.join("\n")
    } else if let Some(f) = &flat.feedback {
        f.clone()
    } else {
        flat.notice.clone()
    };
    let report = match report.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}\n[…]", &report[..cut]),
        None => report,
    };
    (parsed, report)
}

/// Normalise an address for comparison: trimmed, without angle brackets, lower-cased.
pub fn normalize_address(addr: &str) -> String {
    codes::clean_address(addr)
        .unwrap_or_else(|| addr.trim().to_string())
        .to_ascii_lowercase()
}

/// A human-readable account of how a message was read (headers, notice, delivery-status
/// fields, returned headers, result), for debugging parser misses.
pub fn explain(bytes: &[u8]) -> String {
    let flat = mime::flatten(bytes);
    let parsed = kind::classify(&flat);
    let mut out = String::new();
    out.push_str(&format!(
        "mimetype: {} report-type: {}\n",
        flat.mimetype, flat.report_type
    ));
    out.push_str(&format!(
        "subject: {:?}\nfrom: {:?}\n",
        flat.header("subject"),
        flat.header("from")
    ));
    out.push_str(&format!(
        "--- notice ({} bytes)\n{}\n",
        flat.notice.len(),
        flat.notice.chars().take(3000).collect::<String>()
    ));
    for (i, d) in flat.dsn.iter().enumerate() {
        out.push_str(&format!("--- dsn[{i}]\n{d}\n"));
    }
    out.push_str(&format!(
        "--- original headers: {:?}\n",
        flat.original_headers
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "from" | "to" | "message-id"))
            .collect::<Vec<_>>()
    ));
    out.push_str(&format!("--- result: {:?}\n", parsed.kind));
    for r in &parsed.records {
        out.push_str(&format!("{r:#?}\n"));
    }
    out
}
