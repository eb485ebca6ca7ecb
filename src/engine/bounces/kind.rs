//! What a message is (bounce, auto-reply, complaint, reply, other), and the bounce records.

use std::collections::HashMap;

use super::codes::{
    self, clean_address, find_command, find_reply, find_status, first_address, prefer, sweep,
};
use super::mime::Flat;
use super::reason::{self, Facts, Reason};
use super::{Action, BounceRecord, Feedback, ParsedMessage, dsn, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A delivery failure or delay report.
    Bounce,
    /// An automatic reply (out of office, vacation, ticket acknowledgement).
    AutoReply,
    /// An ARF complaint (feedback loop report).
    Feedback,
    /// A person's reply (it refers to earlier messages).
    Reply,
    /// Anything else, including success DSNs.
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bounce => "bounce",
            Kind::AutoReply => "autoreply",
            Kind::Feedback => "feedback",
            Kind::Reply => "reply",
            Kind::Other => "other",
        }
    }
}

fn msgid(v: &str) -> Option<String> {
    let v = v.trim();
    let inner = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    let inner = inner.trim();
    (!inner.is_empty() && !inner.contains(char::is_whitespace)).then(|| inner.to_string())
}

fn msgids(v: &str) -> Vec<String> {
    v.split('<')
        .filter_map(|p| p.split_once('>').map(|(id, _)| id.trim().to_string()))
        .filter(|id| !id.is_empty())
        .collect()
}

fn lower(s: Option<&str>) -> String {
    s.unwrap_or("").to_ascii_lowercase()
}

/// Whether a text-only notice's subject says the message is delayed (still being retried)
/// rather than refused. Many servers repeat the original subject in theirs ("Undeliverable:
/// Reduce delays in your supply chain"): that part is the sender's words, so it is cut out
/// first, and a subject that also says the message failed is a failure.
fn subject_says_delay(subject: Option<&str>, original_subject: Option<&str>) -> bool {
    let mut s = subject.unwrap_or("").to_lowercase();
    if let Some(o) = original_subject.map(str::trim).filter(|o| !o.is_empty()) {
        s = s.replace(&o.to_lowercase(), " ");
    }
    let failed = [
        "undeliver",
        "failure",
        "failed",
        "returned",
        "rejected",
        "not delivered",
        "non remis",
        "unzustellbar",
    ];
    if failed.iter().any(|f| s.contains(f)) {
        return false;
    }
    s.contains("delay") || s.contains("warning") || s.contains("retard")
}

/// Subject words of delivery failure notices.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "undelivered",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "failure notice",
    "failure delivery",
    "failed delivery",
    "returned mail",
    "returned to sender",
    "mail delivery",
    "delivery notification",
    "delivery problem",
    "could not be delivered",
    "not delivered",
    "nondeliverable",
    "non-deliverable",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "no se puede entregar",
    "warning: could not send",
    "message delayed",
    "delivery delayed",
    "delayed mail",
    "mail system error",
    "mail failure",
    "message frozen",
    "postmaster notify",
    "delivery report",
    "returned message",
    "message not delivered",
    "delivery has failed",
    "there was an error sending your mail",
    "mail could not be delivered",
    "error sending message",
    "loop alert",
    "warning: message",
    "message delivery",
    "mail delivery system",
    // KDDI (au one net, ezweb): "mail error notice".
    "メールエラー通知",
];

/// Local parts of bounce senders.
const DAEMONS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "post_master",
    "mail-daemon",
    "maildaemon",
    "mailerdaemon",
    "mdaemon",
    "bounce",
    "bounces",
    "mail.daemon",
    "double-bounce",
    "nobody",
    "noreply-dmarc",
];

fn looks_like_bounce(flat: &Flat) -> bool {
    if flat.report_type == "delivery-status" || !flat.dsn.is_empty() {
        return true;
    }
    if flat.header("x-failed-recipients").is_some() {
        return true;
    }
    let from = lower(flat.header("from"));
    let from_addr = first_address(&from).unwrap_or_default();
    let local = from_addr.split('@').next().unwrap_or("");
    if DAEMONS.iter().any(|d| {
        local == *d || local.starts_with("mailer-daemon") || local.starts_with("postmaster")
    }) || from.contains("mailer-daemon")
        || from.contains("mail delivery")
    {
        return true;
    }
    let (subject, replied) = strip_reply_prefixes(flat.header("subject").unwrap_or(""));
    if BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s)) && !replied {
        return true;
    }
    false
}

/// Addresses that are not failed recipients: the sender of the original, the bounce's own parties.
fn senders(flat: &Flat) -> Vec<String> {
    let mut out = Vec::new();
    for h in ["message-id", "references", "in-reply-to"] {
        for v in flat.headers_named(h) {
            out.extend(codes::find_addresses(v));
        }
        if let Some(v) = flat.original_header(h) {
            out.extend(codes::find_addresses(v));
        }
    }
    for h in ["from", "return-path", "sender", "reply-to"] {
        if let Some(v) = flat.original_header(h) {
            out.extend(codes::find_addresses(v));
        }
    }
    for h in ["from"] {
        for v in flat.headers_named(h) {
            out.extend(codes::find_addresses(v));
        }
    }
    out
}

fn domain_of(addr: &str) -> &str {
    addr.rsplit_once('@').map(|x| x.1).unwrap_or("")
}

/// "host mx.example.jp[192.0.2.1] said:" / "host mx.example.jp [192.0.2.1]:" / "while talking to mx.:"
fn remote_host_in(diag: &str) -> Option<String> {
    let lower = diag.to_ascii_lowercase();
    for key in [
        "host ",
        "while talking to ",
        "remote host ",
        "server ",
        "connected to ",
        "connect to ",
    ] {
        let mut from = 0;
        while let Some(p) = lower[from..].find(key) {
            let at = from + p + key.len();
            from = at;
            let word: String = diag[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            let word = word.trim_end_matches('.');
            if word.contains('.')
                && word.chars().any(|c| c.is_ascii_alphabetic())
                && !word.contains('@')
                && word.len() > 3
            {
                return Some(word.to_ascii_lowercase());
            }
        }
    }
    None
}

#[derive(Clone)]
struct Draft {
    recipient: String,
    original: Option<String>,
    action: Action,
    status_field: Option<String>,
    diagnostic_type: String,
    diagnostic: String,
    context: String,
    remote_mta: Option<String>,
    /// The command the remote host answered, as a session transcript shows it.
    command: Option<&'static str>,
}

/// What every record of one message shares, read once for the message: a report can list
/// thousands of recipients, and reading its notice again for each one is quadratic.
struct Shared {
    notice: super::text_rules::Notice,
    reporting_mta: String,
    original_id: Option<String>,
    /// The Sendmail transcript inside the returned message, if any.
    returned_transcript: text::Transcript,
}

impl Shared {
    fn new(flat: &Flat, reporting_mta: String, original_id: Option<String>) -> Self {
        Shared {
            notice: super::text_rules::Notice::read(flat),
            reporting_mta,
            original_id,
            returned_transcript: if flat.original.is_empty() {
                text::Transcript::default()
            } else {
                text::Transcript::read(&flat.original)
            },
        }
    }
}

fn finish(d: Draft, shared: &Shared) -> BounceRecord {
    let mut diag = sweep(&d.diagnostic);
    let in_text = find_status(&diag, None);
    let reply0 = find_reply(&diag, in_text.as_deref()).or_else(|| find_reply(&diag, None));
    let mut status = match (&d.status_field, &in_text) {
        (Some(f), Some(t)) => Some(prefer(f, t, reply0)),
        (Some(f), None) => Some(f.clone()),
        (None, Some(t)) => Some(t.clone()),
        (None, None) => find_status(&d.context, None),
    };
    if status.as_deref().is_some_and(|s| !codes::is_status(s)) {
        status = None;
    }
    let mut reply = find_reply(&diag, status.as_deref());
    if reply.is_none() && status.is_none() {
        reply = find_reply(&d.context, None);
    }
    // A reply code of another class than the status is not this failure's.
    if let (Some(r), Some(s)) = (reply, status.as_deref())
        && (b'0' + (r / 100) as u8) != s.as_bytes()[0]
    {
        reply = None;
    }
    // Multi-line replies ("550-5.2.1 The user ... 550-5.2.1 prevents ...") read as one sentence.
    if let (Some(r), Some(s)) = (reply, status.as_deref())
        && diag.contains(&format!("{r}-"))
    {
        let mut t = diag.clone();
        for sep in ["-", " "] {
            t = t.replace(&format!("{r}{sep}{s}"), "");
            t = t.replace(&format!("{r}{sep}"), "");
        }
        diag = sweep(&format!("{r} {s} {t}"));
    }
    let mut command = d
        .command
        .or_else(|| find_command(&diag))
        .or_else(|| find_command(&d.context));
    if command.is_none() && diag.contains("refused to talk to me") {
        command = Some("HELO");
    }
    let remote = d.remote_mta.clone().or_else(|| remote_host_in(&diag));
    let local = shared.reporting_mta.clone();
    let full_text = if diag.is_empty() {
        d.context.clone()
    } else {
        diag.clone()
    };
    let pre = super::text_rules::preset(&diag, &d.context, &shared.notice);
    let command = pre.command.or(command);
    let facts = Facts {
        preset: pre.reason,
        status: status.as_deref(),
        reply,
        command,
        diagnostic: &full_text,
        diagnostic_type: &d.diagnostic_type,
        delayed: d.action == Action::Delayed,
        domain: domain_of(&d.recipient),
        remote_host: remote.as_deref().unwrap_or(""),
        local_host: &local,
    };
    let mut r = reason::decide(&facts);
    if !matches!(r, Reason::OnHold | Reason::Undefined) || d.context.is_empty() || diag.is_empty() {
        // decided
    } else {
        // The recipient's own lines said nothing telling: look at the whole notice.
        let ctx = format!("{} {}", diag, d.context);
        let facts2 = Facts {
            diagnostic: &ctx,
            ..facts.clone()
        };
        let r2 = reason::decide(&facts2);
        if r2.explicit() {
            r = r2;
        }
    }
    let hard = reason::is_hard(r, status.as_deref(), reply, &diag);
    BounceRecord {
        recipient: d.recipient,
        original_recipient: d.original,
        action: d.action,
        status,
        reply_code: reply,
        command,
        diagnostic: if diag.is_empty() {
            sweep(&d.context).chars().take(1000).collect()
        } else {
            diag
        },
        remote_mta: remote,
        original_message_id: shared.original_id.clone(),
        reason: r,
        hard,
    }
}

/// [`finish`], but when the notice decides nothing, the returned part's own transcript may:
/// a wrapper (InterScan, a forwarding gateway) writes only "Unable to deliver message to <a>"
/// and returns the MTA's notice, with its Sendmail session transcript, as the original.
fn finish_or_returned_transcript(d: Draft, shared: &Shared) -> BounceRecord {
    let Some(entry) = shared
        .returned_transcript
        .first_about([d.recipient.as_str()])
    else {
        return finish(d, shared);
    };
    let from_transcript = Draft {
        diagnostic: entry.diagnostic.clone(),
        command: entry.command,
        context: String::new(),
        ..d.clone()
    };
    let record = finish(d, shared);
    if record.reason.explicit() {
        return record;
    }
    let second = finish(from_transcript, shared);
    if second.reason.explicit() {
        second
    } else {
        record
    }
}

/// Amazon SES notifications delivered by e-mail (SNS): a JSON document in the body.
fn ses_json(flat: &Flat) -> Option<Vec<Draft>> {
    if !flat.notice.contains("\"notificationType\"") {
        return None;
    }
    let start = flat.notice.find('{')?;
    let end = flat.notice.rfind('}')?;
    if end <= start {
        return None;
    }
    let raw = &flat.notice[start..=end];
    let v: serde_json::Value = serde_json::from_str(raw)
        .or_else(|_| serde_json::from_str(&raw.replace(['\n', '\r'], "")))
        .ok()?;
    let v = if v.get("Message").and_then(|m| m.as_str()).is_some() {
        serde_json::from_str(v["Message"].as_str().unwrap_or("")).ok()?
    } else {
        v
    };
    if v.get("notificationType").and_then(|t| t.as_str()) != Some("Bounce") {
        return Some(Vec::new());
    }
    let bounce = v.get("bounce")?;
    let transient = bounce.get("bounceType").and_then(|t| t.as_str()) == Some("Transient");
    let mut out = Vec::new();
    for r in bounce
        .get("bouncedRecipients")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
    {
        let Some(addr) = r
            .get("emailAddress")
            .and_then(|a| a.as_str())
            .and_then(clean_address)
        else {
            continue;
        };
        let status = r
            .get("status")
            .and_then(|s| s.as_str())
            .filter(|s| codes::is_status(s))
            .map(str::to_string);
        let diag = r
            .get("diagnosticCode")
            .and_then(|s| s.as_str())
            .unwrap_or("");
        let (dtype, dtext) = match diag.split_once(';') {
            Some((t, rest)) if t.len() < 12 => (t.trim().to_string(), rest.trim().to_string()),
            _ => (String::new(), diag.to_string()),
        };
        out.push(Draft {
            recipient: addr,
            original: None,
            action: if transient && status.as_deref().is_none_or(|s| s.starts_with('4')) {
                Action::Delayed
            } else {
                Action::Failed
            },
            status_field: status,
            diagnostic_type: dtype,
            diagnostic: dtext,
            context: String::new(),
            remote_mta: bounce
                .get("remoteMtaIp")
                .and_then(|s| s.as_str())
                .map(str::to_string),
            command: None,
        });
    }
    Some(out)
}

fn bounce_records(flat: &Flat) -> (Vec<BounceRecord>, usize) {
    bounce_records_at(flat, 0)
}

fn bounce_records_at(flat: &Flat, depth: u8) -> (Vec<BounceRecord>, usize) {
    if let Some(drafts) = ses_json(flat) {
        let id = flat.original_header("message-id").and_then(msgid);
        let shared = Shared::new(flat, String::new(), id);
        return (drafts.into_iter().map(|d| finish(d, &shared)).collect(), 0);
    }
    let exclude = senders(flat);
    let original_id = flat.original_header("message-id").and_then(msgid);
    let mut dsn_texts: Vec<&str> = flat.dsn.iter().map(String::as_str).collect();
    if dsn_texts.is_empty() && dsn::has_fields(&flat.notice) {
        dsn_texts.push(&flat.notice);
    }
    let mut report = dsn::DsnReport::default();
    for t in &dsn_texts {
        let r = dsn::parse(t);
        if report.reporting_mta.is_none() {
            report.reporting_mta = r.reporting_mta;
        }
        report.recipients.extend(r.recipients);
    }
    let notice_for_scan = if flat.dsn.is_empty() && !dsn_texts.is_empty() {
        // The notice carries the fields itself: read the text before them only.
        let lower = flat.notice.to_ascii_lowercase();
        let cut = [
            "\nreporting-mta:",
            "\nfinal-recipient:",
            "\noriginal-recipient:",
            "\narrival-date:",
        ]
        .iter()
        .filter_map(|k| lower.find(k))
        .min()
        .unwrap_or(flat.notice.len());
        &flat.notice[..cut]
    } else {
        flat.notice.as_str()
    };
    let mut scan = text::scan(notice_for_scan, &exclude);
    let transcript = text::Transcript::read(notice_for_scan);
    let replies = text::Replies::new(notice_for_scan);
    if scan.hits.is_empty() {
        // The sender may have written to itself: only the bounce's own From is not a recipient.
        let own: Vec<String> = flat
            .header("from")
            .map(codes::find_addresses)
            .unwrap_or_default();
        scan = text::scan(notice_for_scan, &own);
    }
    let hit_index = HitIndex::new(&scan.hits);
    let reporting = report.reporting_mta.clone().unwrap_or_default();
    let delayed_notice = {
        let i = scan.intro.to_ascii_lowercase();
        subject_says_delay(flat.header("subject"), flat.original_header("subject"))
            || i.contains("has been delayed")
            || i.contains("this is a warning")
            || i.contains("will be retried")
            || i.contains("still trying")
            || i.contains("not yet been delivered")
    };
    let mut drafts: Vec<Draft> = Vec::new();
    let mut delivered = 0usize;
    let single = report.recipients.len() == 1;
    for r in &report.recipients {
        let Some(recipient) = r
            .final_recipient
            .clone()
            .or_else(|| r.original_recipient.clone())
            .or_else(|| r.actual_recipient.clone())
        else {
            continue;
        };
        let action = match r.action {
            Some(a) => a,
            None => match r.status.as_deref().and_then(|s| s.bytes().next()) {
                Some(b'2') => Action::Delivered,
                _ => Action::Failed,
            },
        };
        if matches!(
            action,
            Action::Delivered | Action::Relayed | Action::Expanded
        ) || r.status.as_deref().is_some_and(|s| s.starts_with("2."))
        {
            delivered += 1;
            continue;
        }
        let hit = hit_index
            .first_about(&recipient, r.original_recipient.as_deref())
            .map(|i| &scan.hits[i]);
        let hit = hit.or_else(|| {
            if single && scan.hits.len() == 1 {
                scan.hits.first()
            } else {
                None
            }
        });
        let mut diagnostic = r.diagnostic.clone();
        let weak = diagnostic.trim().is_empty()
            || diagnostic.chars().all(|c| {
                c.is_ascii_digit()
                    || c.is_whitespace()
                    || c == '.'
                    || c == '#'
                    || c == '('
                    || c == ')'
            });
        // The notice's text for this recipient replaces a missing diagnostic, or one it repeats
        // with more detail.
        if let Some(h) = hit
            && (weak
                || (h.diagnostic.len() > diagnostic.len()
                    && h.diagnostic.contains(diagnostic.trim())
                    && !h.diagnostic.contains("Transcript of session")))
        {
            diagnostic = h.diagnostic.clone();
        }
        if !r.status_comment.is_empty() && diagnostic.trim().is_empty() {
            diagnostic = r.status_comment.clone();
        }
        if let Some(whole) = replies.whole(&diagnostic) {
            diagnostic = whole;
        }
        let command = transcript
            .first_about(
                [
                    Some(recipient.as_str()),
                    r.original_recipient.as_deref(),
                    r.actual_recipient.as_deref(),
                ]
                .into_iter()
                .flatten(),
            )
            .and_then(|e| e.command);
        let original = r
            .original_recipient
            .clone()
            .filter(|o| !o.eq_ignore_ascii_case(&recipient))
            .or_else(|| {
                r.actual_recipient
                    .clone()
                    .filter(|o| !o.eq_ignore_ascii_case(&recipient))
            });
        let context = if single || report.recipients.len() == 1 {
            scan.intro.clone()
        } else {
            String::new()
        };
        drafts.push(Draft {
            recipient,
            original,
            action,
            status_field: r.status.clone(),
            diagnostic_type: r.diagnostic_type.clone(),
            diagnostic,
            context,
            remote_mta: r.remote_mta.clone(),
            command,
        });
    }
    if report.recipients.is_empty() && looks_like_bounce(flat) {
        let x_failed: Vec<String> = flat
            .headers_named("x-failed-recipients")
            .flat_map(codes::find_addresses)
            .collect();
        let mut hits = scan.hits.clone();
        if !x_failed.is_empty() {
            // The header names the failed recipients; the text only explains.
            let whole = sweep(&format!(
                "{} {}",
                scan.intro,
                scan.hits
                    .iter()
                    .map(|h| h.diagnostic.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            hits = x_failed
                .iter()
                .map(|x| {
                    hit_index
                        .first_named(x)
                        .map(|i| scan.hits[i].clone())
                        .unwrap_or_else(|| text::TextHit {
                            recipient: x.clone(),
                            alias: None,
                            diagnostic: whole.clone(),
                        })
                })
                .collect();
        }
        if hits.is_empty()
            && depth == 0
            && (flat
                .original
                .to_ascii_lowercase()
                .contains("\nfinal-recipient:")
                || flat
                    .original_header("content-type")
                    .is_some_and(|c| c.to_ascii_lowercase().contains("multipart/report")))
        {
            // The real bounce came back inside the returned message (a bounce of a bounce).
            let inner = super::mime::flatten(flat.original.as_bytes());
            let (records, delivered) = bounce_records_at(&inner, depth + 1);
            if !records.is_empty() {
                return (records, delivered);
            }
        }
        for h in hits {
            // A Sendmail transcript says more than the address list's line, and which command
            // the host refused.
            let entry = transcript.first_about([h.recipient.as_str()]);
            let h_command = entry.and_then(|e| e.command);
            drafts.push(Draft {
                recipient: h.recipient.clone(),
                original: h.alias.clone(),
                action: if delayed_notice {
                    Action::Delayed
                } else {
                    Action::Failed
                },
                status_field: None,
                diagnostic_type: String::new(),
                diagnostic: entry.map_or_else(|| h.diagnostic.clone(), |e| e.diagnostic.clone()),
                context: scan.intro.clone(),
                remote_mta: None,
                command: h_command,
            });
        }
        if drafts.is_empty() {
            // No recipient line: the failed address may only be in X-Failed-Recipients or in the
            // returned message's To.
            let fallback = x_failed
                .into_iter()
                .next()
                .or_else(|| flat.original_header("to").and_then(first_address));
            if let Some(rcpt) = fallback
                && !scan.intro.is_empty()
            {
                drafts.push(Draft {
                    recipient: rcpt,
                    original: None,
                    action: if delayed_notice {
                        Action::Delayed
                    } else {
                        Action::Failed
                    },
                    status_field: None,
                    diagnostic_type: String::new(),
                    diagnostic: scan.intro.clone(),
                    context: String::new(),
                    remote_mta: None,
                    command: None,
                });
            }
        }
    }
    if drafts.is_empty() {
        return (Vec::new(), delivered);
    }
    let shared = Shared::new(flat, reporting, original_id);
    let records = drafts
        .into_iter()
        .map(|d| finish_or_returned_transcript(d, &shared))
        .collect();
    (records, delivered)
}

/// The notice's recipient lines, looked up by address: a report may list thousands.
struct HitIndex {
    /// Lower-cased recipient -> its first hit.
    by_recipient: HashMap<String, usize>,
    /// Lower-cased alias (the address a recipient was expanded from) -> its first hit.
    by_alias: HashMap<String, usize>,
}

impl HitIndex {
    fn new(hits: &[text::TextHit]) -> Self {
        let mut by_recipient = HashMap::with_capacity(hits.len());
        let mut by_alias = HashMap::new();
        for (i, h) in hits.iter().enumerate() {
            by_recipient
                .entry(h.recipient.to_ascii_lowercase())
                .or_insert(i);
            if let Some(a) = &h.alias {
                by_alias.entry(a.to_ascii_lowercase()).or_insert(i);
            }
        }
        HitIndex {
            by_recipient,
            by_alias,
        }
    }

    /// The first hit (in notice order) naming `recipient` itself, not as an alias: an address
    /// the header lists as failed is that address's own line, even when an earlier line was
    /// generated from it.
    fn first_named(&self, recipient: &str) -> Option<usize> {
        self.by_recipient
            .get(&recipient.to_ascii_lowercase())
            .copied()
    }

    /// The first hit (in notice order) naming `recipient`, having it as alias, or naming
    /// `original` (the recipient's address before the MTA rewrote it).
    fn first_about(&self, recipient: &str, original: Option<&str>) -> Option<usize> {
        let recipient = recipient.to_ascii_lowercase();
        [
            self.by_recipient.get(&recipient),
            self.by_alias.get(&recipient),
            original.and_then(|o| self.by_recipient.get(&o.to_ascii_lowercase())),
        ]
        .into_iter()
        .flatten()
        .min()
        .copied()
    }
}

/// A subject without its reply and forward prefixes (`Re:`, `AW:`, `SV:`, `TR:`, `RV:`, …, as
/// mail clients write them in several languages, also `Re[2]:`), and whether it had any: a
/// person answering our subject is not an automatic message, whatever words the subject has.
pub fn strip_reply_prefixes(subject: &str) -> (String, bool) {
    const PREFIXES: &[&str] = &[
        "re", "aw", "sv", "vs", "tr", "rv", "fw", "fwd", "wg", "antw", "odp", "ynt", "réf", "ref",
        "r",
    ];
    let mut s = subject.trim().to_lowercase();
    let mut replied = false;
    while let Some((head, rest)) = s.split_once(':') {
        let head = head.trim();
        // "Re[2]" and "Re(3)" number the round of replies.
        let word = head.split(['[', '(']).next().unwrap_or(head).trim();
        if !PREFIXES.contains(&word) {
            break;
        }
        replied = true;
        s = rest.trim().to_string();
    }
    (s, replied)
}

const OOO_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "auto:",
    "autosvar",
    "abwesenheit",
    "automatische antwort",
    "réponse automatique",
    "reponse automatique",
    "absence",
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "vacation",
    "away until",
    "away from",
    "on leave",
    "congés",
];

const OOO_BODY: &[&str] = &[
    "out of the office",
    "out of office",
    "i am away",
    "i'm away",
    "i am currently away",
    "i am on vacation",
    "i'm on vacation",
    "on annual leave",
    "limited access to email",
    "will respond to you upon my return",
    "will reply when i return",
    "je suis absent",
    "je suis actuellement absent",
    "en congés",
    "ich bin abwesend",
    "ich bin bis",
    "nicht im büro",
    "außer haus",
    "estoy fuera de la oficina",
    "estoy de vacaciones",
    "fuera de la oficina",
    "this is an automatic reply",
    "this is an automated reply",
    "this is an auto-reply",
    "automatically generated response",
];

/// Words with which a robot says it is one: enough, even in a message threaded to ours.
const AUTOMATED_BODY: &[&str] = &[
    "this is an automated message",
    "this is an automatic message",
    "this is an automated reply",
    "this is an automatic reply",
    "this is an auto-reply",
    "this is an automated response",
    "this is an automatic response",
    "this message was automatically generated",
    "this message has been automatically generated",
    "automatically generated response",
    "do not reply to this automated",
];

/// The text a message's writer added: the lines before the first quoted line or the header
/// of a quoted or forwarded message (`On … wrote:` and its French, German, Spanish, Italian
/// and Dutch forms, `-----Original Message-----`, Outlook's `From:`/`De :`/`Von:` block).
/// Lower-cased input.
fn fresh_text(body: &str) -> &str {
    let mut at = 0;
    for line in body.split_inclusive('\n') {
        let l = line.trim();
        let quoted = l.starts_with('>')
            || l.starts_with("-----original message-----")
            || l.starts_with("---------- forwarded message")
            || l.starts_with("________________")
            // Outlook's header block of the message answered, in the writer's language.
            || at > 0
                && ["from:", "de :", "de:", "von:", "da:", "van:", "envoyé :", "gesendet:"]
                    .iter()
                    .any(|h| l.starts_with(h))
            || (l.starts_with("on ") && l.ends_with("wrote:"))
            || (l.starts_with("le ") && (l.ends_with("a écrit :") || l.ends_with("a écrit:")))
            || (l.starts_with("am ") && l.contains(" schrieb ") && l.ends_with(':'))
            || (l.starts_with("el ") && l.ends_with("escribió:"))
            || (l.starts_with("il ") && l.ends_with("ha scritto:"))
            || (l.starts_with("op ") && l.contains(" schreef ") && l.ends_with(':'));
        if quoted {
            break;
        }
        at += line.len();
    }
    &body[..at]
}

/// The text a reply's writer added, as written: [`fresh_text`] (found on the lower-cased
/// text, whose byte offsets are the same: only ASCII letters change), then cut at a signature
/// (`-- `), trimmed.
pub fn reply_text(notice: &str) -> String {
    let lower = notice.to_ascii_lowercase();
    let fresh = &notice[..fresh_text(&lower).len()];
    let mut at = 0;
    for line in fresh.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "-- " || line.trim() == "--" {
            break;
        }
        at += line.len();
    }
    fresh[..at].trim().to_string()
}

fn is_autoreply(flat: &Flat) -> bool {
    // RFC 3834: any value but "no" (auto-replied, auto-generated, auto-notified, ...) marks
    // a message no person wrote.
    let auto = lower(flat.header("auto-submitted"));
    let auto = auto.split(';').next().unwrap_or_default().trim();
    if !auto.is_empty() && auto != "no" {
        return true;
    }
    // Exchange sets `X-Auto-Response-Suppress: All` on its automatic replies, but bulk and
    // sales tools set it on mail a person wrote too: with Exchange's subject only.
    if flat.header("x-autoreply").is_some()
        || flat.header("x-autorespond").is_some()
        || flat.header("x-autoresponder").is_some()
        || flat
            .header("x-auto-response-suppress")
            .is_some_and(|v| v.to_ascii_lowercase().contains("all"))
            && lower(flat.header("subject")).starts_with("automatic reply")
    {
        return true;
    }
    // `Precedence: junk` (and auto_reply) is set by robots. `bulk` and `list` also come on a
    // person's answer through a mailing list or a group address (sales@ as a Google Group):
    // with words of a robot only.
    let prec = lower(flat.header("precedence"));
    if ["auto_reply", "auto-reply", "junk"]
        .iter()
        .any(|p| prec.contains(p))
    {
        return true;
    }
    let (subject, replied) = strip_reply_prefixes(flat.header("subject").unwrap_or(""));
    let body = flat.notice.to_ascii_lowercase();
    if OOO_SUBJECTS.iter().any(|s| subject.contains(s)) && !replied {
        return true;
    }
    // A robot that says so, threaded or not ("… no longer works at Acme. This is an
    // automated message."): in the text it wrote, not in what it quotes.
    let fresh = fresh_text(&body);
    if fresh
        .lines()
        .any(|l| AUTOMATED_BODY.iter().any(|s| l.contains(s)))
    {
        return true;
    }
    if (prec.contains("bulk") || prec.contains("list"))
        && (OOO_BODY.iter().any(|s| fresh.contains(s)) || reason::is_vacation_text(fresh))
    {
        return true;
    }
    // The body of a short message says so.
    body.len() < 4000
        && (reason::is_vacation_text(&body) || OOO_BODY.iter().any(|s| body.contains(s)))
        && flat.header("in-reply-to").is_none()
}

fn feedback(flat: &Flat) -> Option<Feedback> {
    let text = flat.feedback.as_deref().or_else(|| {
        if !flat.notice.contains("eedback-") && !flat.notice.contains("EEDBACK-") {
            return None;
        }
        let l = flat.notice.to_ascii_lowercase();
        (l.contains("feedback-type:") && (l.contains("user-agent:") || l.contains("version:")))
            .then_some(flat.notice.as_str())
    });
    if text.is_none() && flat.report_type != "feedback-report" {
        return None;
    }
    let mut fb = Feedback::default();
    if let Some(t) = text {
        for line in t.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "feedback-type" => fb.feedback_type = v.trim().to_ascii_lowercase(),
                "original-rcpt-to" | "removal-recipient" => fb.recipients.extend(clean_address(v)),
                _ => {}
            }
        }
    }
    if fb.recipients.is_empty()
        && let Some(to) = flat.original_header("to")
    {
        fb.recipients.extend(codes::find_addresses(to));
    }
    fb.original_message_id = flat.original_header("message-id").and_then(msgid);
    Some(fb)
}

/// The display name of an address header (`"Doe, Jane" <j@x.test>` → `Doe, Jane`), if any.
fn display_name(value: &str) -> Option<String> {
    let (name, _) = value.split_once('<')?;
    let name = name.trim().trim_matches('"').trim();
    (!name.is_empty() && !name.contains('@')).then(|| name.to_string())
}

/// Decide the kind of a flattened message and build the result.
pub fn classify(flat: &Flat) -> ParsedMessage {
    let from = flat.header("from").and_then(first_address);
    let mut references: Vec<String> = Vec::new();
    for h in ["in-reply-to", "references"] {
        for v in flat.headers_named(h) {
            for id in msgids(v) {
                if !references.contains(&id) {
                    references.push(id);
                }
            }
        }
    }
    let mut out = ParsedMessage {
        kind: Kind::Other,
        records: Vec::new(),
        feedback: None,
        from,
        subject: flat.header("subject").unwrap_or("").to_string(),
        message_id: flat.header("message-id").and_then(msgid),
        references,
        original_message_id: flat.original_header("message-id").and_then(msgid),
        unreadable_report: false,
        delivery_report: false,
        fresh_text: reply_text(&flat.notice),
        from_name: flat.header("from").and_then(display_name),
        full_text: format!("{}\n{}", flat.notice, flat.original),
    };
    if let Some(fb) = feedback(flat) {
        out.kind = Kind::Feedback;
        out.feedback = Some(fb);
        return out;
    }
    let (records, _delivered) = bounce_records(flat);
    if !records.is_empty() {
        out.kind = Kind::Bounce;
        out.records = records;
        return out;
    }
    if !flat.dsn.is_empty() || flat.report_type == "delivery-status" {
        // A DSN that reports only successful deliveries, or one whose failure names no
        // recipient that could be read.
        out.kind = Kind::Other;
        out.delivery_report = true;
        out.unreadable_report = flat.dsn.iter().any(|d| {
            d.lines().any(|l| {
                let l = l.trim().to_ascii_lowercase();
                l.strip_prefix("action:")
                    .is_some_and(|a| matches!(a.trim(), "failed" | "delayed"))
            })
        });
        return out;
    }
    if is_autoreply(flat) {
        out.kind = Kind::AutoReply;
        return out;
    }
    if !out.references.is_empty() || out.subject.to_ascii_lowercase().starts_with("re:") {
        out.kind = Kind::Reply;
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::engine::bounces::{Action, Kind, parse};

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!(
            "From: Someone <someone@acme.test>\r\nTo: claire@sender.test\r\n{headers}\
             Message-ID: <x1@acme.test>\r\n\r\n{body}\r\n"
        )
        .into_bytes()
    }

    /// A text-only bounce whose subject repeats the original subject ("Reduce delays …") is
    /// a failure, not a delay notice; a subject that says the message is delayed still is one.
    #[test]
    fn the_original_subject_does_not_make_a_bounce_a_delay() {
        let qmail = String::from_utf8_lossy(include_bytes!(
            "../../../tests/data/bounces/dev/lhost-qmail-15.eml"
        ))
        .replace(
            "Subject: Nyaan?",
            "Subject: Reduce delays in your supply chain",
        );
        let action = |subject: &str| {
            let m = qmail.replace("Subject: failure notice", &format!("Subject: {subject}"));
            let p = parse(m.as_bytes());
            assert_eq!(p.kind, Kind::Bounce, "{subject}");
            assert_eq!(p.records.len(), 1, "{subject}");
            p.records[0].action
        };
        for failed in [
            "failure notice",
            "Undeliverable: Reduce delays in your supply chain",
            "Mail delivery notice: Reduce delays in your supply chain",
            "Returned mail: Warning signs",
        ] {
            assert_eq!(action(failed), Action::Failed, "{failed}");
        }
        for delayed in [
            "Warning: could not send message for past 4 hours",
            "Delivery delayed: Reduce delays in your supply chain",
            "Delayed Mail (still being retried)",
        ] {
            assert_eq!(action(delayed), Action::Delayed, "{delayed}");
        }
    }

    #[test]
    fn auto_submitted_other_than_no_is_automatic() {
        for value in [
            "auto-replied",
            "auto-generated",
            "auto-notified",
            "auto-generated; x=1",
        ] {
            let m = mail(
                &format!(
                    "Subject: Re: your message\r\nAuto-Submitted: {value}\r\n\
                     In-Reply-To: <1.abc@sender.test>\r\n"
                ),
                "Your request has been received (ticket #42).",
            );
            assert_eq!(parse(&m).kind, Kind::AutoReply, "{value}");
        }
        let m = mail(
            "Subject: Re: your message\r\nAuto-Submitted: no\r\nIn-Reply-To: <1.abc@sender.test>\r\n",
            "Thanks, let's talk on Monday.",
        );
        assert_eq!(parse(&m).kind, Kind::Reply);
    }

    /// Robot-only signals, or a body that says it is automated, make a threaded `Re:` an
    /// auto-reply; signals a person's answer can also carry (a mailing list's Precedence,
    /// a sales tool's X-Auto-Response-Suppress) do not on their own.
    #[test]
    fn threaded_auto_replies_by_header_or_wording() {
        let threaded = "Subject: Re: Hello Pat7\r\nIn-Reply-To: <19.abc@sender.test>\r\n";
        let human = "Sounds good, call me Tuesday.";
        for header in [
            "Precedence: junk\r\n",
            "X-Autoreply: yes\r\n",
            "X-Autorespond: yes\r\n",
        ] {
            let m = mail(&format!("{threaded}{header}"), human);
            assert_eq!(parse(&m).kind, Kind::AutoReply, "{header}");
        }
        for header in [
            "Precedence: list\r\n",
            "Precedence: bulk\r\n",
            "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\r\n",
            "X-Auto-Response-Suppress: All\r\n",
        ] {
            let m = mail(&format!("{threaded}{header}"), human);
            assert_eq!(parse(&m).kind, Kind::Reply, "{header}");
        }
        let m = mail(
            &format!("{threaded}Precedence: bulk\r\n"),
            "I am out of the office until Monday with limited access to email.",
        );
        assert_eq!(parse(&m).kind, Kind::AutoReply);
        let m = mail(
            threaded,
            "Pat no longer works at Acme. Please contact sales@acme.test instead.\r\n\
             This is an automated message.",
        );
        assert_eq!(parse(&m).kind, Kind::AutoReply);
        // A person quoting such words is still a reply, quoted with `>` or under a header.
        for quote in [
            "> This is an automated message.",
            "On Mon, 7 Dec 2026, Acme Desk <desk@acme.test> wrote:\r\nThis is an automated message.",
            "-----Original Message-----\r\nFrom: desk@acme.test\r\nThis is an automated message.",
        ] {
            let m = mail(threaded, &format!("{human}\r\n\r\n{quote}"));
            assert_eq!(parse(&m).kind, Kind::Reply, "{quote}");
        }
    }

    #[test]
    fn out_of_office_in_four_languages() {
        for body in [
            "I am out of the office until Monday with limited access to email.",
            "Je suis absent du bureau jusqu'au 12 mai.",
            "Ich bin bis zum 12. Mai nicht im Büro.",
            "Estoy fuera de la oficina hasta el lunes.",
        ] {
            let m = mail("Subject: Your message\r\n", body);
            assert_eq!(parse(&m).kind, Kind::AutoReply, "{body}");
        }
        // A person answering in the same words is still a reply when they quote our thread.
        let m = mail(
            "Subject: Re: your offer\r\nIn-Reply-To: <1.abc@sender.test>\r\n",
            "Interesting, can we meet next week?",
        );
        assert_eq!(parse(&m).kind, Kind::Reply);
    }

    use super::text;
    use crate::engine::bounces::Reason;

    /// A Sendmail DSN: notice text, delivery-status fields, returned headers.
    fn sendmail_dsn(notice: &str, fields: &str) -> Vec<u8> {
        format!(
            "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.test>\n\
             To: claire@sender.test\nSubject: Returned mail: see transcript for details\n\
             MIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
             --B\n\n{notice}\n--B\nContent-Type: message/delivery-status\n\n\
             Reporting-MTA: dns; mx.sender.test\n\n{fields}\n\
             --B\nContent-Type: text/rfc822-headers\n\n\
             From: claire@sender.test\nTo: ann@example.test\nSubject: Hello\n\n--B--\n"
        )
        .into_bytes()
    }

    /// An address X-Failed-Recipients lists gets its own line of the notice, not an earlier
    /// line generated from it: here b@y.test was generated from a@x.test, which also failed
    /// on its own, mailbox full.
    #[test]
    fn x_failed_recipients_take_their_own_line_not_an_alias() {
        let m = concat!(
            "From: Mail Delivery System <Mailer-Daemon@mx.sender.test>\r\n\
             To: claire@sender.test\r\nSubject: Mail delivery failed: returning message to sender\r\n\
             X-Failed-Recipients: b@y.test, a@x.test\r\nMessage-ID: <x2@mx.sender.test>\r\n\r\n",
            "This message was created automatically by mail delivery software.\r\n\r\n\
             A message that you sent could not be delivered to one or more of its\r\n\
             recipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
             \x20 b@y.test\r\n\
             \x20   (generated from a@x.test)\r\n\
             \x20   SMTP error from remote mail server after RCPT TO:<b@y.test>:\r\n\
             \x20   host mx.y.test [192.0.2.1]: 550 5.1.1 User unknown\r\n\
             \x20 a@x.test\r\n\
             \x20   SMTP error from remote mail server after RCPT TO:<a@x.test>:\r\n\
             \x20   host mx.x.test [192.0.2.2]: 552 5.2.2 Mailbox full\r\n",
        );
        let p = parse(m.as_bytes());
        let got: Vec<(&str, Reason)> = p
            .records
            .iter()
            .map(|r| (r.recipient.as_str(), r.reason))
            .collect();
        assert_eq!(
            got,
            [
                ("b@y.test", Reason::UserUnknown),
                ("a@x.test", Reason::MailboxFull)
            ],
            "{:?}",
            p.records
        );
    }

    /// A report listing thousands of recipients, with a large returned message: every
    /// recipient keeps its own reply, and the transcripts are read once per message, not once
    /// per recipient (which made such a report quadratic).
    #[test]
    fn thousands_of_recipients_read_the_transcripts_once() {
        const N: usize = 5_000;
        let mut notice = String::from(
            "----- Transcript of session follows -----\n... while talking to mx.example.test.:\n",
        );
        let mut fields = String::new();
        let mut returned = String::from(
            "From: claire@sender.test\nTo: list@example.test\nSubject: Hello\n\n\
             ----- Transcript of session follows -----\n... while talking to 192.0.2.1:\n",
        );
        for i in 0..N {
            let a = format!("u{i}@example.test");
            if i % 2 == 0 {
                // A multi-line reply: the DSN has its first line, the notice all of it.
                notice.push_str(&format!(
                    ">>> RCPT To:<{a}>\n<<< 550-5.1.1 <{a}> The account you tried to reach\n\
                     <<< 550 5.1.1 does not exist (ref {i})\n550 5.1.1 <{a}>... User unknown\n"
                ));
                fields.push_str(&format!(
                    "Final-Recipient: RFC822; {a}\nAction: failed\nStatus: 5.1.1\n\
                     Diagnostic-Code: SMTP; 550-5.1.1 <{a}> The account you tried to reach\n\n"
                ));
            } else {
                // The notice decides nothing; the returned message's transcript does.
                returned.push_str(&format!(
                    ">>> RCPT To:<{a}>\n<<< 550 5.1.1 <{a}>... Invalid recipient (ref {i})\n"
                ));
                fields.push_str(&format!(
                    "Final-Recipient: RFC822; {a}\nAction: failed\nStatus: 5.0.0\n\n"
                ));
            }
        }
        returned.push('\n');
        returned.push_str(&"Lorem ipsum dolor sit amet, consectetur adipiscing.\n".repeat(20_000));
        let m = format!(
            "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.test>\n\
             To: claire@sender.test\nSubject: Returned mail: see transcript for details\n\
             MIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
             --B\n\n{notice}\n--B\nContent-Type: message/delivery-status\n\n\
             Reporting-MTA: dns; mx.sender.test\n\n{fields}\
             --B\nContent-Type: message/rfc822\n\n{returned}\n--B--\n"
        );
        text::TRANSCRIPT_READS.with(|c| c.set(0));
        let p = parse(m.as_bytes());
        let reads = text::TRANSCRIPT_READS.with(std::cell::Cell::get);
        assert_eq!(p.records.len(), N);
        for (i, r) in p.records.iter().enumerate() {
            assert_eq!(r.recipient, format!("u{i}@example.test"));
            assert!(r.diagnostic.contains(&format!("(ref {i})")), "{r:?}");
            assert_eq!(r.reason, Reason::UserUnknown, "{r:?}");
            assert!(r.hard, "{r:?}");
            if i % 2 == 0 {
                assert_eq!(r.command, Some("RCPT"), "{r:?}");
            }
        }
        // The notice's transcript, its reply lines, the returned message's transcript.
        assert!(reads <= 3, "{reads} transcript reads for one message");
    }

    /// Yahoo names the refused command in brackets ("[RCPT_TO]"): a 5.2.1 status whose text
    /// says the user is unknown, in reply to RCPT, is an unknown user (hard), not a filter.
    #[test]
    fn yahoo_bracketed_rcpt_to_makes_user_unknown_at_rcpt() {
        let body = "Sorry, we were unable to deliver your message to the following address.\n\n\
                    <ann@example.test>:\nRemote host said:\n\
                    550 5.2.1 <ann@example.test>... User Unknown\n[RCPT_TO]\n\n\
                    --- Below this line is a copy of the message.\n\n\
                    From: claire@sender.test\nTo: ann@example.test\nSubject: Hello\n\nHi\n";
        let m = format!(
            "From: MAILER-DAEMON@yahoo.test\nTo: claire@sender.test\n\
             Subject: Failure Notice\n\n{body}"
        );
        let p = parse(m.as_bytes());
        assert_eq!(p.records.len(), 1, "{p:?}");
        let r = &p.records[0];
        assert_eq!(r.command, Some("RCPT"));
        assert_eq!(r.reason, Reason::UserUnknown);
        assert!(r.hard);
    }

    /// The DSN gives the reply but not the command; the transcript's ">>> RCPT TO" does.
    #[test]
    fn the_transcript_tells_the_command_a_dsn_leaves_out() {
        let m = sendmail_dsn(
            "----- The following addresses had permanent fatal errors -----\n<ann@example.test>\n\n\
             ----- Transcript of session follows -----\n>>> RCPT TO:<ann@example.test>\n\
             <<< 553 Invalid recipient ann@example.test (Mode: normal)\n",
            "Final-Recipient: RFC822; <ann@example.test>\nAction: failed\nStatus: 5.7.1\n\
             Diagnostic-Code: SMTP; 553 Invalid recipient ann@example.test (Mode: normal)\n",
        );
        let p = parse(&m);
        let r = &p.records[0];
        assert_eq!(r.command, Some("RCPT"));
        assert_eq!(r.reason, Reason::UserUnknown);
        assert!(r.hard);
    }

    /// Sendmail cuts a multi-line reply to its first line in Diagnostic-Code; the transcript
    /// has the rest, which is what says DMARC.
    #[test]
    fn a_reply_cut_to_its_first_line_is_read_whole_from_the_transcript() {
        let m = sendmail_dsn(
            "----- Transcript of session follows -----\n... while talking to mx.example.test.:\n\
             >>> DATA\n\
             <<< 550-5.7.1 Unauthenticated email from sender.test is not accepted due to domain's\n\
             <<< 550-5.7.1 DMARC policy. Please contact the administrator of sender.test\n\
             <<< 550 5.7.1 domain if this was a legitimate mail.\n\
             554 5.0.0 Service unavailable\n",
            "Final-Recipient: RFC822; ann@example.test\nAction: failed\nStatus: 5.7.1\n\
             Diagnostic-Code: SMTP; 550-5.7.1 Unauthenticated email from sender.test is not accepted due to domain's\n",
        );
        let r = &parse(&m).records[0];
        assert!(r.diagnostic.contains("DMARC policy"), "{}", r.diagnostic);
        assert_eq!(r.reason, Reason::AuthFailure);
    }

    /// Sendmail V5 has no DSN: each address line follows the reply it failed on.
    #[test]
    fn sendmail_v5_transcript_gives_each_address_its_reply() {
        let m = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.test>\n\
                 To: claire@sender.test\nSubject: Returned mail: User unknown\n\n\
                 ----- Transcript of session follows -----\n\
                 While talking to mx.example.test:\n>>> MAIL From:<claire@sender.test>\n\
                 <<< 550 Insecure Mail Relay\n\
                 554 <ann@example.test>... Remote protocol error\n\
                 While talking to mx.other.test:\n>>> RCPT To:<bob@other.test>\n\
                 <<< 550 <bob@other.test>, User Unknown\n\
                 550 <bob@other.test>... User unknown\n\
                 421 other.test (smtp)... Deferred: Connection timed out during user open\n\n\
                 ----- Unsent message follows -----\n\
                 From: claire@sender.test\nTo: ann@example.test\nSubject: Hello\n\nHi\n";
        let p = parse(m.as_bytes());
        let by = |a: &str| p.records.iter().find(|r| r.recipient == a).expect(a);
        assert_eq!(by("ann@example.test").reason, Reason::NoRelaying);
        assert!(!by("ann@example.test").hard);
        let bob = by("bob@other.test");
        assert_eq!(bob.reason, Reason::UserUnknown);
        assert_eq!(bob.reply_code, Some(550));
        assert!(bob.hard);
    }

    /// InterScan's notice says only that delivery failed; the Sendmail notice it returns says
    /// the recipient is unknown.
    #[test]
    fn a_transcript_in_the_returned_part_decides_what_the_wrapper_does_not() {
        let m = "From: postmaster@gw.example.test\nTo: claire@sender.test\n\
                 Subject: Mail could not be delivered\nMIME-Version: 1.0\n\
                 Content-Type: multipart/mixed; boundary=\"W\"\n\n--W\nContent-type: text/plain\n\n\
                 ****** Message from InterScan Messaging Security Suite ******\n\n\
                 The following mail could not be delivered.\n\
                 Reason:  Unable to deliver message to <ann@example.test> (and other recipients in the same domain).\n\n\
                 --W\nContent-type: message/rfc822\n\n\
                 From: claire@sender.test\nTo: ann@example.test\nSubject: Hello\n\n\
                 ----- The following addresses had permanent fatal errors -----\n<ann@example.test>\n\n\
                 ----- Transcript of the session follows -----\n... while talking to 192.0.2.1:\n\
                 >>> RCPT To:<ann@example.test>\n<<< 550 5.1.1 <ann@example.test>... Invalid recipient\n\n\
                 --W--\n";
        let p = parse(m.as_bytes());
        assert_eq!(p.records.len(), 1, "{p:?}");
        let r = &p.records[0];
        assert_eq!(r.reason, Reason::UserUnknown, "{r:?}");
        assert!(r.hard);
        // Without the transcript the wrapper's words decide nothing.
        let bare = m.replace("<<< 550 5.1.1 <ann@example.test>... Invalid recipient", "");
        assert!(!parse(bare.as_bytes()).records[0].hard);
    }

    /// Lotus Notes writes the reason above the address it is about.
    #[test]
    fn notes_failure_reason_above_the_address() {
        let m = "From: POSTMASTER@gw.example.test\nTo: claire@sender.test\n\
                 Subject: Undeliverable message\n\n\
                 ------- Failure Reasons  --------\n\n\
                 User  not listed in public Name & Address Book\nann@example.test\n\n\n\
                 ------- Returned Message --------\n\
                 From: claire@sender.test\nTo: ann@example.test\nSubject: Hello\n\nHi\n";
        let p = parse(m.as_bytes());
        let r = &p.records[0];
        assert_eq!(r.recipient, "ann@example.test");
        assert_eq!(r.reason, Reason::UserUnknown);
        assert!(r.hard);
    }

    /// mail.local's "unknown user" above Sendmail's generic "Service unavailable".
    #[test]
    fn mail_local_unknown_user_is_an_unknown_user() {
        let m = sendmail_dsn(
            "----- The following addresses had permanent fatal errors -----\n<ann@example.test>\n\n\
             ----- Transcript of session follows -----\nmail.local: unknown user: ann\n\
             554 <ann@example.test>... Service unavailable\n",
            "Final-Recipient: RFC822; <ann@example.test>\nAction: failed\nStatus: 5.5.0\n",
        );
        let r = &parse(&m).records[0];
        assert_eq!(r.reason, Reason::UserUnknown, "{r:?}");
        assert!(r.hard);
    }

    /// KDDI's notices come from a no-reply address; their subject says "mail error notice".
    #[test]
    fn kddi_mail_error_notice_is_a_bounce() {
        let notice = |subject: &str| {
            format!(
                "From: no-reply@au.example.test\nTo: claire@sender.test\nSubject: {subject}\n\n\
                 Your mail sent on: Thu, 29 Apr 2013 23:45:22 +0900\n\
                 \x20    Could not be delivered to: <ann@au.example.test>\n\
                 \x20    As their mailbox is full.\n"
            )
        };
        let p = parse(notice("=?UTF-8?B?44Oh44O844Or44Ko44Op44O86YCa55+l?=").as_bytes());
        assert_eq!(p.kind, Kind::Bounce);
        assert_eq!(p.records[0].recipient, "ann@au.example.test");
        assert_eq!(p.records[0].reason, Reason::MailboxFull);
    }
}
