//! Human-readable bounce notices, read by their shape: most MTAs write a line that names the
//! failed recipient, followed by the error the remote host gave (qmail, Exim, Sendmail's address
//! list, Gmail, Yahoo, Courier, Exchange, Domino, …). This reader finds those recipient lines and
//! collects the lines under each.

use super::codes::{clean_address, sweep};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
