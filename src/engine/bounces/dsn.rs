//! RFC 3464 delivery-status fields: per-message and per-recipient blocks.

use super::Action;
use super::codes::{clean_address, sweep};

#[derive(Debug, Default, Clone)]
pub struct DsnRecipient {
    pub final_recipient: Option<String>,
    pub original_recipient: Option<String>,
    /// `X-Actual-Recipient` (Sendmail) and similar.
    pub actual_recipient: Option<String>,
    pub action: Option<Action>,
    pub status: Option<String>,
    /// Comment after the status (`5.0.0 (permanent failure)`).
    pub status_comment: String,
    pub remote_mta: Option<String>,
    pub diagnostic_type: String,
    pub diagnostic: String,
}

#[derive(Debug, Default, Clone)]
pub struct DsnReport {
    pub reporting_mta: Option<String>,
    pub recipients: Vec<DsnRecipient>,
}

/// Unfold continuation lines: (field name lower-case, value).
fn fields(text: &str) -> Vec<Option<(String, String)>> {
    // `None` marks a blank line (a block separator).
    let mut out: Vec<Option<(String, String)>> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            out.push(None);
            continue;
        }
        if line.starts_with([' ', '\t'])
            && let Some(Some((_, v))) = out.last_mut()
        {
            v.push(' ');
            v.push_str(line.trim());
            continue;
        }
        match line.split_once(':') {
            Some((k, v))
                if !k.is_empty()
                    && k.len() < 40
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                out.push(Some((k.to_ascii_lowercase(), v.trim().to_string())));
            }
            _ => {
                // Free text inside a delivery-status part: continuation of a diagnostic, if any.
                if let Some(Some((k, v))) = out.last_mut()
                    && k == "diagnostic-code"
                {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            }
        }
    }
    out
}

fn strip_type(value: &str) -> (String, String) {
    match value.split_once(';') {
        Some((t, rest)) if !t.trim().is_empty() && t.trim().len() < 20 && !t.contains(' ') => {
            (t.trim().to_string(), rest.trim().to_string())
        }
        _ => (String::new(), value.trim().to_string()),
    }
}

/// Parse delivery-status text. Lenient: blank lines are optional between recipients.
pub fn parse(text: &str) -> DsnReport {
    let mut report = DsnReport::default();
    let mut cur: Option<DsnRecipient> = None;
    let flush = |cur: &mut Option<DsnRecipient>, report: &mut DsnReport| {
        if let Some(r) = cur.take()
            && (r.final_recipient.is_some()
                || r.original_recipient.is_some()
                || r.actual_recipient.is_some())
        {
            report.recipients.push(r);
        }
    };
    for item in fields(text) {
        let Some((k, v)) = item else {
            // A blank line ends a recipient block only once it has a recipient.
            if cur.as_ref().is_some_and(|c| {
                c.final_recipient.is_some() && (c.action.is_some() || c.status.is_some())
            }) {
                flush(&mut cur, &mut report);
            }
            continue;
        };
        match k.as_str() {
            "reporting-mta" if report.reporting_mta.is_none() => {
                report.reporting_mta = Some(strip_type(&v).1);
            }
            "final-recipient" | "original-recipient" | "x-actual-recipient" => {
                let (_, addr) = strip_type(&v);
                let addr = clean_address(&addr).or_else(|| clean_address(&v));
                let c = cur.get_or_insert_with(DsnRecipient::default);
                let slot_taken = match k.as_str() {
                    "final-recipient" => c.final_recipient.is_some(),
                    "original-recipient" => {
                        c.original_recipient.is_some()
                            || c.final_recipient.is_some()
                                && (c.status.is_some() || !c.diagnostic.is_empty())
                    }
                    _ => c.actual_recipient.is_some(),
                };
                if slot_taken {
                    flush(&mut cur, &mut report);
                }
                let c = cur.get_or_insert_with(DsnRecipient::default);
                match k.as_str() {
                    "final-recipient" => {
                        c.final_recipient = addr
                            .or_else(|| Some(String::new()))
                            .filter(|a| !a.is_empty())
                    }
                    "original-recipient" => c.original_recipient = addr,
                    _ => c.actual_recipient = addr,
                }
            }
            "action" => {
                let c = cur.get_or_insert_with(DsnRecipient::default);
                if c.action.is_some() && c.final_recipient.is_some() {
                    // a second Action in the same block: keep the first
                } else {
                    c.action = Action::parse(&v);
                }
            }
            "status" => {
                let c = cur.get_or_insert_with(DsnRecipient::default);
                let mut parts = v.splitn(2, |ch: char| ch.is_whitespace() || ch == '(');
                let code = parts
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(['.', ',', ';'])
                    .to_string();
                let rest = v[code.len().min(v.len())..]
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_string();
                if super::codes::is_status(&code) {
                    c.status = Some(code);
                } else if let Some(s) = super::codes::find_status(&v, None) {
                    c.status = Some(s);
                }
                c.status_comment = rest;
            }
            "remote-mta" => {
                let c = cur.get_or_insert_with(DsnRecipient::default);
                let host = strip_type(&v).1;
                if !host.is_empty() {
                    c.remote_mta = Some(host);
                }
            }
            "diagnostic-code" => {
                let c = cur.get_or_insert_with(DsnRecipient::default);
                let (t, d) = strip_type(&v);
                c.diagnostic_type = t;
                if c.diagnostic.is_empty() {
                    c.diagnostic = sweep(&d);
                } else {
                    c.diagnostic.push(' ');
                    c.diagnostic.push_str(&sweep(&d));
                }
            }
            _ => {}
        }
    }
    flush(&mut cur, &mut report);
    report
}

/// Does free text carry delivery-status fields (a DSN pasted into a text part)?
pub fn has_fields(text: &str) -> bool {
    fn starts(l: &str, p: &str) -> bool {
        l.len() >= p.len() && l.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    }
    // One pass: looking for "action:" again at each Original-Recipient line was quadratic,
    // and a message of such lines stalled the watcher inside its write transaction.
    let (mut original, mut action) = (false, false);
    for l in text.lines() {
        if starts(l.trim_start(), "final-recipient:") {
            return true;
        }
        original |= starts(l.trim_start(), "original-recipient:");
        action |= starts(l, "action:");
    }
    original && action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_recipients_and_folded_diagnostic() {
        let t = "Reporting-MTA: dns; mx.test\n\nFinal-Recipient: rfc822; a@b.test\nOriginal-Recipient: rfc822;alias@b.test\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.b.test\nDiagnostic-Code: smtp; 550 5.1.1 <a@b.test>: Recipient\n    address rejected\n\nFinal-Recipient: RFC822; <C@d.test>\nAction: delayed\nStatus: 4.4.1 (no answer)\n";
        let r = parse(t);
        assert_eq!(r.reporting_mta.as_deref(), Some("mx.test"));
        assert_eq!(r.recipients.len(), 2);
        assert_eq!(r.recipients[0].final_recipient.as_deref(), Some("a@b.test"));
        assert_eq!(
            r.recipients[0].original_recipient.as_deref(),
            Some("alias@b.test")
        );
        assert_eq!(
            r.recipients[0].diagnostic,
            "550 5.1.1 <a@b.test>: Recipient address rejected"
        );
        assert_eq!(r.recipients[0].remote_mta.as_deref(), Some("mx.b.test"));
        assert_eq!(r.recipients[1].final_recipient.as_deref(), Some("C@d.test"));
        assert_eq!(r.recipients[1].action, Some(Action::Delayed));
        assert_eq!(r.recipients[1].status.as_deref(), Some("4.4.1"));
    }

    #[test]
    fn no_blank_line_between_recipients() {
        let t = "Final-Recipient: rfc822; a@b.test\nAction: failed\nStatus: 5.0.0\nFinal-Recipient: rfc822; c@d.test\nAction: failed\nStatus: 5.1.1\n";
        let r = parse(t);
        assert_eq!(r.recipients.len(), 2);
        assert_eq!(r.recipients[1].status.as_deref(), Some("5.1.1"));
    }
}
