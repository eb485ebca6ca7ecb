//! Human-readable bounce notices, read by their shape: most MTAs write a line that names the
//! failed recipient, followed by the error the remote host gave (qmail, Exim, Sendmail's address
//! list, Gmail, Yahoo, Courier, Exchange, Domino, …). This reader finds those recipient lines and
//! collects the lines under each.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use super::codes::{clean_address, sweep};

#[cfg(test)]
thread_local! {
    /// How many times a transcript was read (parsed or indexed), for the tests that check a
    /// message reads each once, whatever its number of recipients.
    pub static TRANSCRIPT_READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Count one read of a transcript (tests only).
fn count_read() {
    #[cfg(test)]
    TRANSCRIPT_READS.with(|c| c.set(c.get() + 1));
}

#[derive(Debug, Default, Clone)]
pub struct TextHit {
    pub recipient: String,
    /// Address the recipient was expanded from (`(expanded from <x>)`, `generated from x`).
    pub alias: Option<String>,
    /// The error lines under the recipient, joined on one line.
    pub diagnostic: String,
}

#[derive(Debug, Default, Clone)]
pub struct TextScan {
    /// Text before the first recipient line.
    pub intro: String,
    pub hits: Vec<TextHit>,
}

/// Labels that may stand before a recipient address at the start of a line.
const LABELS: &[&str] = &[
    "final-recipient:",
    "original-recipient:",
    "failed recipient:",
    "failed recipients:",
    "recipient address:",
    "recipient:",
    "recipients:",
    "rcpt to:",
    "rcpt:",
    "address:",
    "e-mail address:",
    "email address:",
    "mailbox:",
    "user:",
    "for ",
    "unknown user:",
    "invalid recipient:",
    "destinataire :",
    "destinataire:",
    "empfänger:",
];

/// Sentences that name the failed recipient in the middle of a line.
const INTRODUCERS: &[&str] = &[
    "error delivering your mail to ",
    "error delivering your message to ",
    "could not be delivered to ",
    "could not be delivered to: ",
    "undeliverable to ",
    "duplicated message-id in ",
    "couldn't be delivered to ",
    "could not deliver the message to ",
    "was not delivered to ",
    "unable to deliver message to ",
    "unable to deliver your message to ",
    "failed to deliver to ",
    "delivery to the following recipient failed",
    "your message to ",
    "delivery failed for ",
    "delivery has failed to these recipients or groups:",
    "mail to the following recipients could not be delivered",
];

/// Lines that name the sender, not a recipient.
const SENDER_CONTEXT: &[&str] = &[
    "sent by",
    "message from",
    "sender:",
    "from:",
    "reply-to:",
    "return-path:",
];

/// Split a line into (address, rest) when the line starts with a recipient address.
fn recipient_line(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    if t.is_empty() || !t.contains('@') {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let ac = AC.get_or_init(|| aho_corasick::AhoCorasick::new(INTRODUCERS).expect("static list"));
    for m in ac.find_iter(&lower) {
        let after = &t[m.end()..];
        let after_l = after.trim_start();
        if after_l.starts_with('<')
            || after_l
                .split_whitespace()
                .next()
                .is_some_and(|w| w.contains('@'))
        {
            let rest_of = recipient_line_plain(after_l);
            if rest_of.is_some() {
                return rest_of;
            }
        }
    }
    // Sendmail v5: "554 <kijitora@example.org>... Remote protocol error"
    let b = t.as_bytes();
    if b.len() > 6
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[3] == b' '
        && b[4] == b'<'
        && t.contains(">...")
    {
        return recipient_line_plain(&t[4..]);
    }
    if let Some(hit) = recipient_line_plain_labels(t, &lower) {
        return Some(hit);
    }
    // "Invalid final delivery userid: kijitora@example.jp": a short label, then only the address.
    if let Some((label, value)) = t.split_once(": ")
        && label.len() < 60
        && !label.contains('@')
        && !value.trim().contains(' ')
        && value.contains('@')
    {
        let l = label.to_ascii_lowercase();
        if !SENDER_CONTEXT
            .iter()
            .any(|s| l.ends_with(s.trim_end_matches(':')))
            && !matches!(
                l.trim(),
                "to" | "cc" | "bcc" | "subject" | "date" | "sent" | "message-id" | "from"
            )
        {
            return clean_address(value.trim()).map(|a| (a, label.trim().to_string()));
        }
    }
    None
}

fn recipient_line_plain(t: &str) -> Option<(String, String)> {
    let lower = t.to_ascii_lowercase();
    recipient_line_plain_labels(t, &lower)
}

fn recipient_line_plain_labels(line: &str, lower: &str) -> Option<(String, String)> {
    let mut t = line;
    for l in LABELS {
        if lower.starts_with(l) {
            t = t[l.len()..].trim_start();
            break;
        }
    }
    let t = t.trim_start_matches(['*', '-', '•', '>']).trim_start();
    let t = t.strip_prefix("rfc822;").map(str::trim_start).unwrap_or(t);
    // The address token: up to '>' when bracketed, else up to whitespace or ':' after the domain.
    let (token, rest) = if let Some(stripped) = t.strip_prefix('<') {
        let end = stripped.find('>')?;
        (&stripped[..end], &stripped[end + 1..])
    } else if let Some(stripped) = t.strip_prefix('"') {
        // "local"@domain or "Name" <addr>
        let q = stripped.find('"')?;
        let after = &stripped[q + 1..];
        if let Some(after) = after.trim_start().strip_prefix('<') {
            let end = after.find('>')?;
            (&after[..end], &after[end + 1..])
        } else {
            let end = t.find(|c: char| c.is_whitespace()).unwrap_or(t.len());
            (&t[..end], &t[end..])
        }
    } else {
        let end = t
            .find(|c: char| c.is_whitespace() || c == '<' || c == '(' || c == ',' || c == ';')
            .unwrap_or(t.len());
        (&t[..end], &t[end..])
    };
    let token = token.trim_end_matches([':', '.', ',', ';']);
    if !token.contains('@') {
        return None;
    }
    // "kijitora@example.com <neko@example.net>: ..." names the bracketed address.
    let (token, rest) = match rest.trim_start().strip_prefix('<') {
        Some(r) if r.contains('>') && r[..r.find('>').unwrap_or(0)].contains('@') => {
            let end = r.find('>').unwrap_or(0);
            (&r[..end], &r[end + 1..])
        }
        _ => (token, rest),
    };
    let addr = clean_address(token)?;
    let rest = rest.trim_start_matches(['>', ':', '.', ',', ';']).trim();
    Some((addr, rest.to_string()))
}

fn alias_of(rest: &str) -> Option<String> {
    let lower = rest.to_ascii_lowercase();
    for key in [
        "(expanded from",
        "(generated from",
        "ultimately generated from",
        "(originally addressed to",
        "original recipient",
    ] {
        if let Some(p) = lower.find(key) {
            return super::codes::first_address(&rest[p..]);
        }
    }
    None
}

/// Is this line a recipient line, rather than an address mentioned in a sentence?
fn accept(line: &str, rest: &str, prev: &str) -> bool {
    let prev = prev.to_ascii_lowercase();
    if SENDER_CONTEXT
        .iter()
        .any(|s| prev.trim_end().ends_with(s.trim_end_matches(':')) || prev.trim_end().ends_with(s))
    {
        return false;
    }
    let lower = line.trim().to_ascii_lowercase();
    if SENDER_CONTEXT.iter().any(|s| lower.starts_with(s)) {
        return false;
    }
    if lower.starts_with("to:") || lower.starts_with("cc:") || lower.starts_with("bcc:") {
        // A summary of the original's headers ("To: a@b") does not name the failed recipient.
        return false;
    }
    let _ = rest;
    true
}

/// Scan a notice. `exclude` holds addresses that are not recipients (the sender, the daemon).
pub fn scan(notice: &str, exclude: &[String]) -> TextScan {
    let lines: Vec<&str> = notice.lines().collect();
    let mut scan = TextScan::default();
    let mut current: Option<(TextHit, Vec<String>)> = None;
    let mut intro: Vec<&str> = Vec::new();
    let mut prev_nonempty = "";
    for line in &lines {
        let mut is_rcpt = None;
        if let Some((addr, rest)) = recipient_line(line)
            && !exclude.iter().any(|e| e.eq_ignore_ascii_case(&addr))
            && accept(line, &rest, prev_nonempty)
        {
            is_rcpt = Some((addr, rest));
        }
        if let Some((addr, rest)) = is_rcpt {
            let alias = alias_of(&rest);
            let rest_clean = if alias.is_some() && rest.starts_with('(') {
                rest.find(')')
                    .map(|p| {
                        rest[p + 1..]
                            .trim()
                            .trim_start_matches(':')
                            .trim()
                            .to_string()
                    })
                    .unwrap_or_default()
            } else {
                rest
            };
            // The same address again right after (e.g. "RCPT TO:<a>" inside its own block):
            // keep collecting into the current block.
            if let Some((hit, buf)) = current.as_mut()
                && hit.recipient.eq_ignore_ascii_case(&addr)
            {
                buf.push(line.trim().to_string());
                prev_nonempty = line;
                continue;
            }
            if let Some((mut hit, buf)) = current.take() {
                hit.diagnostic = sweep(&buf.join(" "));
                scan.hits.push(hit);
            }
            let mut buf = Vec::new();
            if !rest_clean.is_empty() && !rest_clean.to_ascii_lowercase().starts_with("on ") {
                buf.push(rest_clean);
            }
            current = Some((
                TextHit {
                    recipient: addr,
                    alias,
                    diagnostic: String::new(),
                },
                buf,
            ));
        } else if let Some((hit, buf)) = current.as_mut() {
            let t = line.trim();
            if t.starts_with('(')
                && hit.alias.is_none()
                && buf.is_empty()
                && let Some(a) = alias_of(t)
            {
                hit.alias = Some(a);
                prev_nonempty = line;
                continue;
            }
            if !t.is_empty() {
                buf.push(t.to_string());
            }
        } else {
            intro.push(line);
        }
        if !line.trim().is_empty() {
            prev_nonempty = line;
        }
    }
    if let Some((mut hit, buf)) = current.take() {
        hit.diagnostic = sweep(&buf.join(" "));
        scan.hits.push(hit);
    }
    // One address listed twice (summary then details): merge.
    // Indexed by lower-cased address: a scan over `merged` per hit was quadratic in the
    // number of addresses, which a crafted message can make large.
    let mut merged: Vec<TextHit> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for h in scan.hits {
        let key = h.recipient.to_ascii_lowercase();
        if let Some(m) = index.get(&key).map(|&i| &mut merged[i]) {
            if !h.diagnostic.is_empty() {
                if !m.diagnostic.is_empty() {
                    m.diagnostic.push(' ');
                }
                m.diagnostic.push_str(&h.diagnostic);
            }
            if m.alias.is_none() {
                m.alias = h.alias;
            }
        } else {
            index.insert(key, merged.len());
            merged.push(h);
        }
    }
    scan.hits = merged;
    scan.intro = sweep(&intro.join(" "));
    for h in &mut scan.hits {
        if h.diagnostic.len() > 4000 {
            let mut cut = 4000;
            while !h.diagnostic.is_char_boundary(cut) {
                cut -= 1;
            }
            h.diagnostic.truncate(cut);
        }
    }
    scan
}

/// One recipient's part of a Sendmail session transcript.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    pub recipient: String,
    /// The command the remote host answered (the last `>>>` line before its reply).
    pub command: Option<&'static str>,
    /// The host's reply (the `<<<` lines) and Sendmail's own line for the address, on one line.
    pub diagnostic: String,
}

/// A message's Sendmail transcript ([`sendmail_transcript`]), read once and looked up by
/// recipient: a report may list thousands of recipients.
#[derive(Debug, Default)]
pub struct Transcript {
    entries: Vec<TranscriptEntry>,
    /// Lower-cased recipient -> its first entry.
    first_entry: HashMap<String, usize>,
}

impl Transcript {
    pub fn read(text: &str) -> Self {
        let entries = sendmail_transcript(text);
        let mut first_entry = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            first_entry
                .entry(e.recipient.to_ascii_lowercase())
                .or_insert(i);
        }
        Transcript {
            entries,
            first_entry,
        }
    }

    /// The first entry about any of `addresses` (compared without case), in transcript order.
    pub fn first_about<'s>(
        &self,
        addresses: impl IntoIterator<Item = &'s str>,
    ) -> Option<&TranscriptEntry> {
        addresses
            .into_iter()
            .filter_map(|a| self.first_entry.get(&a.to_ascii_lowercase()))
            .min()
            .map(|&i| &self.entries[i])
    }
}

/// "550 <a@b>... User unknown" / "554 5.0.0 <a@b>... Service unavailable": Sendmail's line for
/// one address, as (address, text after "...").
fn sendmail_address_line(line: &str) -> Option<(String, &str)> {
    let b = line.as_bytes();
    if b.len() < 6 || !b[..3].iter().all(u8::is_ascii_digit) || b[3] != b' ' {
        return None;
    }
    let open = line.find('<')?;
    // Only a status code may stand between the reply code and the address.
    if line[4..open].trim().contains(' ') {
        return None;
    }
    let close = open + line[open..].find(">...")?;
    let addr = clean_address(&line[open + 1..close])?;
    Some((addr, line[close + 4..].trim()))
}

/// Read Sendmail's session transcript ("... while talking to mx.example.test.:",
/// ">>> RCPT To:<a@b>", "<<< 550 5.1.1 <a@b>... User unknown", then one "NNN <a@b>... text"
/// line per address) wherever it is: in the notice, or in a wrapper's copy of the notice
/// (InterScan forwards Sendmail's notice inside the returned message). Sendmail's own text on an
/// address line is often generic ("Remote protocol error", "Service unavailable"); the host's
/// reply above it, and the command that reply answered, say what happened.
fn sendmail_transcript(text: &str) -> Vec<TranscriptEntry> {
    count_read();
    let mut out: Vec<TranscriptEntry> = Vec::new();
    let mut inside = false;
    let mut command: Option<&'static str> = None;
    // Reply lines (and local delivery agents' lines, "mail.local: unknown user: x") not yet
    // claimed by an address line.
    let mut replies: Vec<String> = Vec::new();
    // ">>> RCPT To:<a>" names the address its reply is about, even with no address line after.
    let mut rcpt: Option<String> = None;
    // Every address given in RCPT this session: with PIPELINING the refusal of a RCPT comes
    // after ">>> DATA", and is still about the RCPT.
    let mut rcpts: HashSet<String> = HashSet::new();
    let flush_rcpt = |rcpt: &mut Option<String>,
                      replies: &mut Vec<String>,
                      command: Option<&'static str>,
                      out: &mut Vec<TranscriptEntry>| {
        let failing = failing_replies(replies);
        if let Some(a) = rcpt.take()
            && !failing.is_empty()
        {
            out.push(TranscriptEntry {
                recipient: a,
                command,
                diagnostic: sweep(&failing.join(" ")),
            });
        }
        replies.clear();
    };
    for raw in text.lines() {
        let line = raw.trim();
        let lower = line.to_ascii_lowercase();
        if lower.contains("session follows") && lower.contains("transcript of") {
            inside = true;
            continue;
        }
        if lower.starts_with("while talking to") || lower.starts_with("... while talking to") {
            inside = true;
            flush_rcpt(&mut rcpt, &mut replies, command, &mut out);
            command = None;
            rcpts.clear();
            continue;
        }
        if !inside {
            continue;
        }
        if line.starts_with("-----") || lower.starts_with("reporting-mta:") {
            // "----- Unsent message follows -----", or the DSN fields: the transcript ended.
            flush_rcpt(&mut rcpt, &mut replies, command, &mut out);
            inside = false;
            continue;
        }
        if let Some(cmd) = line.strip_prefix(">>>") {
            flush_rcpt(&mut rcpt, &mut replies, command, &mut out);
            command = super::codes::find_command(cmd);
            if command == Some("RCPT") {
                rcpt = super::codes::first_address(cmd);
                rcpts.extend(rcpt.as_deref().map(str::to_ascii_lowercase));
            }
            continue;
        }
        if let Some(reply) = line.strip_prefix("<<<") {
            replies.push(reply.trim().to_string());
            continue;
        }
        if let Some((addr, own)) = sendmail_address_line(line) {
            // Sendmail's own words carry a reply code when they quote the host ("554 <a>...
            // 550 Host unknown"); otherwise the reply above is the reason.
            let quotes_host = own
                .split_whitespace()
                .next()
                .is_some_and(|w| w.len() == 3 && w.bytes().all(|c| c.is_ascii_digit()));
            // Acceptances (the 250 to MAIL, to another RCPT, the 354 to DATA) say nothing
            // about this address.
            let failing = failing_replies(&replies);
            let diagnostic = if quotes_host || failing.is_empty() {
                line.to_string()
            } else {
                format!("{} {line}", failing.join(" "))
            };
            // A pipelined session answers RCPT after DATA was sent: an address given in
            // RCPT whose refusal names it was refused at RCPT.
            let lower_addr = addr.to_ascii_lowercase();
            let command = if command == Some("DATA")
                && rcpts.contains(&lower_addr)
                && failing
                    .iter()
                    .any(|r| r.to_ascii_lowercase().contains(&lower_addr))
            {
                Some("RCPT")
            } else {
                command
            };
            if rcpt
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(&addr))
            {
                rcpt = None;
            }
            replies.clear();
            out.push(TranscriptEntry {
                recipient: addr,
                command,
                diagnostic: sweep(&diagnostic),
            });
            continue;
        }
        if !line.is_empty() {
            replies.push(line.to_string());
        }
    }
    flush_rcpt(&mut rcpt, &mut replies, command, &mut out);
    out
}

/// The replies that are not acceptances (2xx, 3xx): refusals, and the other lines (a local
/// delivery agent's "mail.local: unknown user: x").
fn failing_replies(replies: &[String]) -> Vec<&str> {
    replies
        .iter()
        .map(String::as_str)
        .filter(|r| !(r.starts_with('2') || r.starts_with('3')))
        .collect()
}

/// Sendmail puts only the first line of a multi-line reply in the DSN's Diagnostic-Code
/// ("550-5.7.1 This message does not have authentication information or fails to pass"); its
/// transcript has every line ("<<< 550-5.7.1 …", …, "<<< 550 5.7.1 …"). The reply lines of a
/// text, indexed the first time a reply is asked for, so that a report with thousands of
/// recipients reads its text once.
pub struct Replies<'a> {
    text: &'a str,
    index: OnceCell<ReplyIndex<'a>>,
}

struct ReplyIndex<'a> {
    /// Every "<<<" line: its line number and the text after "<<<".
    lines: Vec<(usize, &'a str)>,
    /// A reply line, swept -> its first position in `lines`.
    first: HashMap<String, usize>,
}

impl<'a> Replies<'a> {
    pub fn new(text: &'a str) -> Self {
        Replies {
            text,
            index: OnceCell::new(),
        }
    }

    fn index(&self) -> &ReplyIndex<'a> {
        self.index.get_or_init(|| {
            count_read();
            let lines: Vec<(usize, &str)> = self
                .text
                .lines()
                .enumerate()
                .filter_map(|(n, l)| l.trim().strip_prefix("<<<").map(|r| (n, r)))
                .collect();
            let mut first = HashMap::with_capacity(lines.len());
            for (i, (_, r)) in lines.iter().enumerate() {
                first.entry(sweep(r)).or_insert(i);
            }
            ReplyIndex { lines, first }
        })
    }

    /// The whole reply, on one line, when `first` opens a multi-line one in the text.
    pub fn whole(&self, first: &str) -> Option<String> {
        let first = sweep(first);
        if first.len() < 8 {
            return None;
        }
        let code = first.get(..3)?.to_string();
        if !code.bytes().all(|c| c.is_ascii_digit()) || first.as_bytes()[3] != b'-' {
            return None;
        }
        let index = self.index();
        let at = *index.first.get(&first)?;
        let mut line_no = index.lines[at].0;
        let mut reply = vec![first];
        for &(n, r) in &index.lines[at + 1..] {
            // The reply goes on over consecutive "<<<" lines only.
            if n != line_no + 1 {
                break;
            }
            line_no = n;
            let r = r.trim();
            if !r.starts_with(&code) {
                break;
            }
            reply.push(r.to_string());
            // "550 5.7.1 …" (a space after the code) is the reply's last line.
            if r.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        (reply.len() > 1).then(|| sweep(&reply.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With PIPELINING the RCPT's refusal comes after ">>> DATA": it is still about the RCPT,
    /// and the acceptances around it (MAIL's 250, the other RCPT's, DATA's 354) are no part of
    /// any address's diagnostic; an accepted RCPT gets no entry.
    #[test]
    fn a_pipelined_refusal_is_about_its_rcpt() {
        let t = "----- Transcript of session follows -----\n\
                 ... while talking to mx.example.test.:\n\
                 >>> MAIL From:<claire@sender.test>\n\
                 >>> RCPT To:<ann@example.test>\n\
                 >>> RCPT To:<bob@example.test>\n\
                 >>> DATA\n\
                 <<< 250 2.1.0 Ok\n\
                 <<< 550 5.1.1 <ann@example.test>... User unknown\n\
                 <<< 250 2.1.5 Ok\n\
                 <<< 354 Go ahead\n\
                 550 5.1.1 <ann@example.test>... User unknown\n";
        let entries = sendmail_transcript(t);
        assert_eq!(entries.len(), 1, "{entries:?}");
        let e = &entries[0];
        assert_eq!(e.recipient, "ann@example.test");
        assert_eq!(e.command, Some("RCPT"));
        assert!(
            !e.diagnostic.contains("250") && !e.diagnostic.contains("354"),
            "{}",
            e.diagnostic
        );
        assert!(e.diagnostic.contains("User unknown"), "{}", e.diagnostic);
    }

    #[test]
    fn qmail_style() {
        let t = "Hi. This is the qmail-send program at x.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n<kijitora@example.org>:\nConnected to 192.0.2.225 but sender was rejected.\nRemote host said: 550 5.7.1 <root@nijo.example.jp>... Access denied\n";
        let s = scan(t, &["root@nijo.example.jp".to_string()]);
        assert_eq!(s.hits.len(), 1);
        assert_eq!(s.hits[0].recipient, "kijitora@example.org");
        assert!(s.hits[0].diagnostic.contains("sender was rejected"));
        assert!(s.intro.contains("qmail-send"));
    }

    #[test]
    fn exim_style_two_recipients_and_sender_excluded() {
        let t = "A message sent by\n\n  <shironeko@email.example.com>\n\ncould not be delivered. The following address(es) failed:\n\n  kijitora@example.jp\n    SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:\n    host mx.example.jp [192.0.2.153]: 550 5.1.1 User Unknown\n  sabatora@example.jp\n    (ultimately generated from nekochan@example.org)\n    all hosts have been failing\n";
        let s = scan(t, &[]);
        assert_eq!(s.hits.len(), 2, "{s:?}");
        assert_eq!(s.hits[0].recipient, "kijitora@example.jp");
        assert!(s.hits[0].diagnostic.contains("550 5.1.1"));
        assert_eq!(s.hits[1].recipient, "sabatora@example.jp");
        assert_eq!(s.hits[1].alias.as_deref(), Some("nekochan@example.org"));
    }

    #[test]
    fn postfix_style_with_expansion() {
        let t = "<r@example.ne.jp> (expanded from <kijitora@example.org>): user unknown\n";
        let s = scan(t, &[]);
        assert_eq!(s.hits[0].recipient, "r@example.ne.jp");
        assert_eq!(s.hits[0].alias.as_deref(), Some("kijitora@example.org"));
        assert_eq!(s.hits[0].diagnostic, "user unknown");
    }

    #[test]
    fn sendmail_transcript_gives_each_address_the_reply_above_it() {
        let t = "   ----- Transcript of session follows -----\n\
                 While talking to mx.example.test:\n\
                 >>> MAIL From:<me@sender.test>\n\
                 <<< 550 Insecure Mail Relay\n\
                 554 <ann@example.test>... Remote protocol error\n\
                 554 <bob@example.test>... 550 Host unknown (Authoritative answer from name server)\n\
                 While talking to mx.other.test:\n\
                 >>> RCPT To:<cat@other.test>\n\
                 <<< 550 <cat@other.test>... User unknown\n\
                 550 <cat@other.test>... User unknown\n\
                 >>> RCPT TO:<dan@other.test>\n\
                 <<< 553 Invalid recipient dan@other.test\n\
                 \n   ----- Unsent message follows -----\n\
                 554 <eve@other.test>... Remote protocol error\n";
        let e = sendmail_transcript(t);
        let got: Vec<(&str, Option<&str>, &str)> = e
            .iter()
            .map(|e| (e.recipient.as_str(), e.command, e.diagnostic.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ann@example.test",
                    Some("MAIL"),
                    "550 Insecure Mail Relay 554 <ann@example.test>... Remote protocol error"
                ),
                (
                    "bob@example.test",
                    Some("MAIL"),
                    "554 <bob@example.test>... 550 Host unknown (Authoritative answer from name server)"
                ),
                (
                    "cat@other.test",
                    Some("RCPT"),
                    "550 <cat@other.test>... User unknown 550 <cat@other.test>... User unknown"
                ),
                (
                    "dan@other.test",
                    Some("RCPT"),
                    "553 Invalid recipient dan@other.test"
                ),
            ]
        );
        assert!(sendmail_transcript("554 <eve@other.test>... Remote protocol error").is_empty());
    }

    #[test]
    fn a_multi_line_reply_is_read_whole_from_the_transcript() {
        let t = ">>> DATA\n<<< 550-5.7.1 First line of the\n<<< 550-5.7.1 reply, and the\n\
                 <<< 550 5.7.1 last line.\n554 5.0.0 Service unavailable\n";
        let replies = Replies::new(t);
        assert_eq!(
            replies.whole("550-5.7.1 First line of the").as_deref(),
            Some("550-5.7.1 First line of the 550-5.7.1 reply, and the 550 5.7.1 last line.")
        );
        assert_eq!(replies.whole("550-5.7.1 Another reply"), None);
        assert_eq!(replies.whole("550 5.7.1 last line."), None);
    }
}
