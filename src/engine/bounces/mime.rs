//! Flatten a message into what the bounce readers need: top headers, the human-readable notice,
//! the delivery-status and feedback-report fields, and the returned (original) message.

use mailparse::{MailHeaderMap, ParsedMail};

#[derive(Debug, Default)]
pub struct Flat {
    /// Top-level headers: lower-case name, decoded value (unfolded).
    pub headers: Vec<(String, String)>,
    /// Top-level `Content-Type` mimetype, lower-case.
    pub mimetype: String,
    /// `report-type` parameter of a multipart/report.
    pub report_type: String,
    /// Human-readable text of the notice (before the returned message), LF line endings.
    pub notice: String,
    /// Bodies of `message/delivery-status` parts.
    pub dsn: Vec<String>,
    /// Body of a `message/feedback-report` part.
    pub feedback: Option<String>,
    /// The returned message (or its headers), as text.
    pub original: String,
    /// Headers of the returned message: lower-case name, value.
    pub original_headers: Vec<(String, String)>,
    /// True when the original came in its own MIME part (not cut out of the text).
    pub original_in_part: bool,
}

impl Flat {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn original_header(&self, name: &str) -> Option<&str> {
        self.original_headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// CRLF and lone CR to LF.
fn to_lf(bytes: &[u8]) -> Vec<u8> {
    if memchr::memchr(b'\r', bytes).is_none() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\r' {
            out.push(b'\n');
            if i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
                i += 1;
            }
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn body_text(part: &ParsedMail) -> String {
    match part.get_body() {
        Ok(s) => s,
        Err(_) => part.get_body_raw().map(|b| lossy(&b)).unwrap_or_default(),
    }
}

/// Remove tags and decode the few entities bounce notices use.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let lower = html.to_ascii_lowercase();
    let b = html.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let end = html[i..].find('>').map(|e| i + e + 1).unwrap_or(b.len());
            let tag = &lower[i..end];
            if tag.starts_with("<br")
                || tag.starts_with("</p")
                || tag.starts_with("</div")
                || tag.starts_with("</tr")
                || tag.starts_with("<p")
                || tag.starts_with("</h")
                || tag.starts_with("</li")
            {
                out.push('\n');
            } else if tag.starts_with("</td") {
                out.push(' ');
            }
            if tag.starts_with("<style") || tag.starts_with("<script") || tag.starts_with("<head") {
                let close = if tag.starts_with("<style") {
                    "</style"
                } else if tag.starts_with("<script") {
                    "</script"
                } else {
                    "</head"
                };
                i = lower[end..].find(close).map(|p| end + p).unwrap_or(b.len());
                continue;
            }
            i = end;
            continue;
        }
        let ch = html[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[derive(Default)]
struct Walk {
    notice: String,
    html: String,
    dsn: Vec<String>,
    feedback: Option<String>,
    original: String,
    original_in_part: bool,
}

fn push_text(buf: &mut String, text: &str) {
    if !buf.is_empty() && !buf.ends_with('\n') {
        buf.push('\n');
    }
    buf.push_str(text);
}

fn looks_like_message(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let Some((name, _)) = first.split_once(':') else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "return-path"
            | "received"
            | "from"
            | "to"
            | "date"
            | "subject"
            | "message-id"
            | "dkim-signature"
            | "x-received"
            | "mime-version"
            | "delivered-to"
            | "reply-to"
            | "content-type"
            | "sender"
            | "authentication-results"
            | "arc-seal"
    )
}

fn walk(part: &ParsedMail, w: &mut Walk, depth: u32) {
    let mt = part.ctype.mimetype.to_ascii_lowercase();
    if mt.starts_with("multipart/") && !part.subparts.is_empty() && depth < 16 {
        for sp in &part.subparts {
            walk(sp, w, depth + 1);
        }
        return;
    }
    match mt.as_str() {
        "message/delivery-status" | "message/global-delivery-status" => {
            let t = body_text(part);
            w.dsn.push(t);
        }
        "message/feedback-report" => {
            w.feedback = Some(body_text(part));
        }
        "message/rfc822"
        | "message/global"
        | "text/rfc822-headers"
        | "message/partial"
        | "message/global-headers"
        | "text/rfc822-header" => {
            // The returned message: keep the raw part (its own headers decide its encoding).
            let raw = part.get_body_raw().map(|b| lossy(&b)).unwrap_or_default();
            if w.original.is_empty() {
                w.original = raw;
                w.original_in_part = true;
            } else {
                push_text(&mut w.original, &raw);
            }
        }
        "text/html" => {
            let t = html_to_text(&body_text(part));
            push_text(&mut w.html, &t);
        }
        m if m.starts_with("text/") || m.is_empty() || m.starts_with("multipart/") => {
            let t = if m.starts_with("multipart/") {
                // A multipart whose boundary never appears: its body is plain text.
                let raw = part.raw_bytes;
                let start = raw
                    .windows(2)
                    .position(|w| w == b"\n\n")
                    .map(|p| p + 2)
                    .unwrap_or(raw.len());
                lossy(&raw[start..])
            } else {
                body_text(part)
            };
            let attachment = part.get_content_disposition().disposition
                == mailparse::DispositionType::Attachment;
            if !w.notice.trim().is_empty()
                && (attachment || w.original_in_part)
                && looks_like_message(&t)
            {
                if w.original.is_empty() {
                    w.original = t;
                    w.original_in_part = true;
                }
            } else if w.original_in_part && !w.notice.trim().is_empty() {
                // Text after the returned message (footers): not part of the notice.
            } else {
                push_text(&mut w.notice, &t);
            }
        }
        _ => {}
    }
}

fn header_pairs(headers: &[mailparse::MailHeader]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.get_key().to_ascii_lowercase(), h.get_value()))
        .collect()
}

/// Parse headers leniently: mailparse first, then a line-based fallback.
pub fn parse_header_block(text: &str) -> Vec<(String, String)> {
    let trimmed = text.trim_start_matches(['\n', ' ', '\t']);
    if let Ok((hs, _)) = mailparse::parse_headers(trimmed.as_bytes()) {
        let v = header_pairs(&hs);
        if !v.is_empty() {
            return v;
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for line in trimmed.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':')
            && !k.is_empty()
            && !k.contains(' ')
        {
            out.push((k.to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

/// Phrases of a line that introduces the returned message inside a text notice.
const DELIMITERS: &[&str] = &[
    "original message",
    "copy of the message",
    "copy of your message",
    "unsent message",
    "returned message",
    "message headers follow",
    "headers of the original",
    "original headers",
    "returned mail",
    "message follows",
    "copy of the original",
    "original mail",
    "undelivered message",
    "message header follows",
    "rfc822 headers",
    "header of the original",
    "your message reads",
    "included below",
];

/// Find where the returned message starts inside a text notice: (start of delimiter line,
/// start of the returned text).
fn find_original_in_text(text: &str) -> Option<(usize, usize)> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let quick_fence = t.starts_with(['-', '=', '*', '_', '[', '#']);
        let could_introduce =
            t.len() < 90 && (t.ends_with(':') || t.ends_with('.') || t.starts_with(['B', 'b']));
        if !quick_fence && !could_introduce {
            pos += line.len();
            continue;
        }
        let lower = t.to_ascii_lowercase();
        let fenced = t.starts_with("--")
            || t.starts_with("==")
            || t.starts_with("**")
            || t.starts_with("__")
            || t.starts_with("[")
            || t.starts_with("##");
        let transcript = lower.contains("transcript")
            || lower.contains("following address")
            || lower.contains("error")
            || lower.contains("reason");
        if fenced && !transcript && DELIMITERS.iter().any(|d| lower.contains(d)) {
            return Some((pos, pos + line.len()));
        }
        let introduces = !fenced
            && t.len() < 90
            && (t.ends_with(':') || t.ends_with('.'))
            && [
                "original mail",
                "original message",
                "copy of the message",
                "message header follows",
                "message headers follow",
            ]
            .iter()
            .any(|d| lower.contains(d))
            && !lower.contains("was received")
            && !lower.contains("could not");
        if introduces {
            return Some((pos, pos + line.len()));
        }
        if !fenced
            && (lower == "original message headers:"
                || lower == "original message follows."
                || lower == "original message follows:"
                || lower == "------ original message ------"
                || lower.starts_with("below this line is a copy of the message"))
        {
            return Some((pos, pos + line.len()));
        }
        pos += line.len();
    }
    // A header block of the returned message right after a blank line.
    for marker in [
        "\n\nReturn-Path:",
        "\n\nReturn-path:",
        "\n\nReceived: from",
        "\n\nDKIM-Signature:",
    ] {
        if let Some(p) = text.find(marker) {
            return Some((p + 2, p + 2));
        }
    }
    None
}

/// Flatten one message. Never fails: unparseable input becomes plain text.
pub fn flatten(bytes: &[u8]) -> Flat {
    let mut data = to_lf(bytes);
    // An mbox "From " separator line before the headers.
    if data.starts_with(b"From ") {
        let eol = data
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| p + 1)
            .unwrap_or(data.len());
        if !data[..eol].contains(&b':')
            || data[..eol].windows(2).any(|w| w == b"  ")
            || eol < data.len()
                && data[eol..]
                    .iter()
                    .take_while(|&&b| b != b'\n')
                    .any(|&b| b == b':')
        {
            data.drain(..eol);
        }
    }
    let mut flat = Flat::default();
    let mut w = Walk::default();
    match mailparse::parse_mail(&data) {
        Ok(mail) => {
            flat.headers = header_pairs(&mail.headers);
            flat.mimetype = mail.ctype.mimetype.to_ascii_lowercase();
            flat.report_type = mail
                .ctype
                .params
                .get("report-type")
                .map(|s| s.to_ascii_lowercase())
                .unwrap_or_default();
            let _ = mail.headers.get_first_value("Subject");
            walk(&mail, &mut w, 0);
        }
        Err(_) => {
            let text = lossy(&data);
            let (head, body) = match text.find("\n\n") {
                Some(p) => (&text[..p + 1], &text[p + 2..]),
                None => ("", text.as_str()),
            };
            flat.headers = parse_header_block(head);
            w.notice = body.to_string();
        }
    }
    if w.notice.trim().is_empty() && !w.html.is_empty() {
        w.notice = std::mem::take(&mut w.html);
    }
    // The returned message inside the text itself.
    if let Some((cut, start)) = find_original_in_text(&w.notice) {
        let rest = w.notice[start..].to_string();
        w.notice.truncate(cut);
        if w.original.is_empty() {
            w.original = rest;
        }
    }
    flat.notice = w.notice.replace('\t', " ");
    flat.dsn = w.dsn;
    flat.feedback = w.feedback;
    flat.original_in_part = w.original_in_part;
    // The returned message may itself start with a blank line or with an mbox "From " line.
    let orig = w.original.trim_start_matches(['\n', ' ']);
    let orig = if orig.starts_with("From ") {
        orig.split_once('\n').map(|x| x.1).unwrap_or("")
    } else {
        orig
    };
    flat.original_headers = parse_header_block(orig);
    flat.original = orig.to_string();
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_report_is_split() {
        let m = b"From: MAILER-DAEMON@x.test\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b.test\r\nAction: failed\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <id@x.test>\r\nTo: a@b.test\r\n--b--\r\n";
        let f = flatten(m);
        assert_eq!(f.report_type, "delivery-status");
        assert_eq!(f.notice.trim(), "hello");
        assert_eq!(f.dsn.len(), 1);
        assert!(f.dsn[0].contains("Final-Recipient: rfc822; a@b.test"));
        assert_eq!(f.original_header("message-id"), Some("<id@x.test>"));
    }

    #[test]
    fn text_notice_with_copy_is_split() {
        let m = b"From: MAILER-DAEMON@x.test\nSubject: failure notice\n\nHi.\n\n<a@b.test>:\nSorry.\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <s@x.test>\nMessage-ID: <m@x.test>\n\nbody\n";
        let f = flatten(m);
        assert!(f.notice.contains("Sorry."));
        assert!(!f.notice.contains("Return-Path"));
        assert_eq!(f.original_header("message-id"), Some("<m@x.test>"));
    }

    #[test]
    fn html_is_stripped() {
        assert_eq!(html_to_text("<p>a&amp;b</p><br>c").trim(), "a&b\n\nc");
    }
}
