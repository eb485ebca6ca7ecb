//! The DSNs the project's mail rig (real Postfix) produces, parsed as delivered over IMAP (CRLF)
//! and as stored (LF).

use std::path::Path;

use hailer::engine::bounces::{self, Action, Kind, ParsedMessage, Reason};

fn rig(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/rig-dsn")
            .join(name),
    )
    .unwrap()
}

fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Parse both ways and check they agree; return the LF result.
fn parse_both(name: &str) -> ParsedMessage {
    let lf = bounces::parse(&rig(name));
    let cr = bounces::parse(&crlf(&rig(name)));
    assert_eq!(lf, cr, "{name}: CRLF and LF differ");
    assert_eq!(lf.kind, Kind::Bounce, "{name}");
    assert_eq!(lf.records.len(), 1, "{name}: {:?}", lf.records);
    lf
}

#[test]
fn unknown_user_in_virtual_mailbox_table() {
    let p = parse_both("dsn-unknown-user.eml");
    let r = &p.records[0];
    assert_eq!(r.recipient, "nobody@acme.test");
    assert_eq!(r.action, Action::Failed);
    assert_eq!(r.status.as_deref(), Some("5.1.1"));
    assert_eq!(r.reply_code, Some(550));
    assert_eq!(r.command, Some("RCPT"));
    assert_eq!(r.reason, Reason::UserUnknown);
    assert!(r.hard);
    assert_eq!(r.remote_mta.as_deref(), Some("127.0.0.1"));
    assert!(
        r.diagnostic
            .contains("User unknown in virtual mailbox table"),
        "{}",
        r.diagnostic
    );
    assert_eq!(
        r.original_message_id.as_deref(),
        Some("a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test")
    );
    assert_eq!(
        p.original_message_id.as_deref(),
        Some("a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test")
    );
    assert_eq!(
        p.message_id.as_deref(),
        Some("20261122015955.86C8E99C194@mail.sender.test")
    );
}

#[test]
fn unknown_user_refused_by_lmtp() {
    let r = &parse_both("dsn-unknown-user-lmtp.eml").records[0];
    assert_eq!(r.recipient, "nobody@acme.test");
    assert_eq!(r.status.as_deref(), Some("5.1.1"));
    assert_eq!(r.reason, Reason::UserUnknown);
    assert!(r.hard);
    assert_eq!(r.remote_mta.as_deref(), Some("mail.sender.test"));
    assert_eq!(
        r.original_message_id.as_deref(),
        Some("a759b4cd-6678-4223-a5e6-5f78c4a8efd3@sender.test")
    );
}

#[test]
fn delay_warning_is_a_soft_delayed_record() {
    let r = &parse_both("dsn-delayed-warning.eml").records[0];
    assert_eq!(r.recipient, "someone@deadmx.test");
    assert_eq!(r.action, Action::Delayed);
    assert_eq!(r.status.as_deref(), Some("4.4.1"));
    assert_eq!(r.reply_code, None);
    assert_eq!(r.reason, Reason::Expired);
    assert!(!r.hard);
    assert!(r.diagnostic.contains("Connection refused"));
    // The warning returned headers only (text/rfc822-headers).
    assert_eq!(
        r.original_message_id.as_deref(),
        Some("20261122015232.768C399A480@mail.sender.test")
    );
}

#[test]
fn unreachable_mx_gives_up_soft() {
    let r = &parse_both("dsn-mx-connection-refused.eml").records[0];
    assert_eq!(r.recipient, "someone@deadmx.test");
    assert_eq!(r.action, Action::Failed);
    assert_eq!(r.status.as_deref(), Some("4.4.1"));
    assert_eq!(r.reason, Reason::Expired);
    assert!(!r.hard);
}

#[test]
fn unknown_domain_is_hard() {
    let r = &parse_both("dsn-external-domain.eml").records[0];
    assert_eq!(r.recipient, "someone@example.com");
    assert_eq!(r.status.as_deref(), Some("5.4.4"));
    assert_eq!(r.reason, Reason::HostUnknown);
    assert!(r.hard);
    assert_eq!(
        r.original_message_id.as_deref(),
        Some("5c353868-5577-4925-835b-4d43a8a5bf04@sender.test")
    );
}

#[test]
fn relay_denied() {
    let r = &parse_both("dsn-relay-denied.eml").records[0];
    assert_eq!(r.recipient, "someone@nomx.test");
    assert_eq!(r.status.as_deref(), Some("5.7.1"));
    assert_eq!(r.reply_code, Some(554));
    assert_eq!(r.reason, Reason::NoRelaying);
    assert!(!r.hard);
}

#[test]
fn greylisting_until_expiry_is_soft() {
    let r = &parse_both("dsn-greylisted-expired.eml").records[0];
    assert_eq!(r.recipient, "someone@greylist.test");
    assert_eq!(r.action, Action::Failed);
    assert_eq!(r.status.as_deref(), Some("4.7.1"));
    assert_eq!(r.reply_code, Some(450));
    assert_eq!(r.reason, Reason::Blocked);
    assert!(!r.hard);
}

#[test]
fn lone_cr_line_endings_parse_too() {
    let cr: Vec<u8> = rig("dsn-unknown-user.eml")
        .iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect();
    let p = bounces::parse(&cr);
    assert_eq!(p.kind, Kind::Bounce);
    assert_eq!(p.records[0].recipient, "nobody@acme.test");
    assert_eq!(p.records[0].reason, Reason::UserUnknown);
}
