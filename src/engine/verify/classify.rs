//! From an SMTP reply to a verdict class.
//!
//! The enhanced status code decides first (RFC 3463: 5.1.1 and 5.1.10 no such mailbox, 5.2.1
//! disabled, 5.2.2 full), then the reply text for servers that send no useful enhanced code
//! or a misleading one (major providers' wording, qmail, Exchange), then the reply class
//! (4xx temporary; a 4xx is a full mailbox only with 4.2.2 or, without an enhanced code, a
//! clear full-mailbox phrase). A permanent refusal that is about us rather than the mailbox (relay
//! denied, blocklists, policy) is UNKNOWN: it says nothing about the address.

use super::Status;
use super::smtp::Reply;

/// Phrases (lower-case) that mean "this mailbox does not exist".
const NOT_FOUND: &[&str] = &[
    "user unknown",
    "unknown user",
    "no such user",
    "no such mailbox",
    "no such recipient",
    "no such person",
    "recipient unknown",
    "unknown recipient",
    "unknown local part",
    "invalid recipient",
    "recipient invalid",
    "invalid mailbox",
    "not a valid mailbox",
    "mailbox not found",
    "mailbox unavailable",
    "mailbox is unavailable",
    "no mailbox here",
    "mailbox does not exist",
    "account does not exist",
    "address does not exist",
    "user does not exist",
    "recipient does not exist",
    "does not exist",
    "doesn't exist",
    "doesn't have a",
    "does not have an account",
    "user not found",
    "recipient not found",
    "address not found",
    "could not be found",
    "unrouteable address",
    "undeliverable address",
    "address rejected: user unknown",
    // Exchange Online directory-based edge blocking: the recipient is not in the directory.
    "as(201806281)",
];

/// Phrases that mean "the mailbox exists but is switched off".
const DISABLED: &[&str] = &[
    "disabled",
    "deactivated",
    "inactive",
    "discontinued",
    "suspended",
    "no longer active",
    "account has been closed",
    "mailbox is frozen",
];

/// Phrases that clearly mean "the mailbox is full".
const FULL: &[&str] = &[
    "over quota",
    "quota exceeded",
    "exceeded its quota",
    "exceeds quota",
    "mailbox full",
    "mailbox is full",
    "insufficient storage",
    "out of storage",
];

/// Phrases that mean a full mailbox only in a permanent refusal: in a 4xx, "too many
/// messages" is as often rate limiting ("451 Too many messages, slow down").
const FULL_IF_PERMANENT: &[&str] = &["too many messages"];

/// Phrases of a refusal aimed at the sender (blocklists, reputation, relaying, policy):
/// checked before NOT_FOUND so "blocked ... user unknown"-style mixtures stay UNKNOWN.
const ABOUT_US: &[&str] = &[
    "relay access denied",
    "relaying denied",
    "relay not permitted",
    "blocklist",
    "block list",
    "blacklist",
    "black list",
    "spamhaus",
    "dnsbl",
    "poor reputation",
    "client host rejected",
    "sender address rejected",
    "your ip",
    "reverse dns",
    "reverse hostname",
];

fn contains_any(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| text.contains(p))
}

/// The class of the reply to `RCPT TO:<address>`.
pub fn rcpt(reply: &Reply) -> Status {
    if reply.is_positive() {
        return Status::Valid;
    }
    let text = reply.text().to_lowercase();
    match reply.enhanced.as_deref() {
        Some("5.1.1" | "5.1.10" | "5.1.6") => return Status::MailboxNotFound,
        Some("5.2.1") => return Status::Disabled,
        Some("5.2.2" | "4.2.2") => return Status::MailboxFull,
        Some("5.1.3") => return Status::InvalidSyntax,
        _ => {}
    }
    if reply.is_transient() {
        // Only a clear phrase without an enhanced code: any enhanced code other than 4.2.2
        // (handled above) says what the deferral is about, e.g. 4.7.1 rate limiting. A full
        // mailbox is final and never retried, so a mere deferral must not become one.
        return if reply.enhanced.is_none() && contains_any(&text, FULL) {
            Status::MailboxFull
        } else {
            Status::Temporary
        };
    }
    if !reply.is_permanent() {
        return Status::Unknown;
    }
    if contains_any(&text, ABOUT_US) {
        return Status::Unknown;
    }
    if contains_any(&text, FULL) || contains_any(&text, FULL_IF_PERMANENT) {
        Status::MailboxFull
    } else if contains_any(&text, DISABLED) {
        Status::Disabled
    } else if contains_any(&text, NOT_FOUND) {
        Status::MailboxNotFound
    } else {
        Status::Unknown
    }
}

/// The class of a refusal before RCPT (banner, EHLO, MAIL FROM): 4xx is TEMPORARY, anything
/// else is UNKNOWN, because it is about the session, not the address.
pub fn session(reply: &Reply) -> Status {
    if reply.is_transient() {
        Status::Temporary
    } else {
        Status::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(line: &str) -> Reply {
        Reply::parse(&[line.to_string()]).unwrap()
    }

    fn class(line: &str) -> Status {
        rcpt(&reply(line))
    }

    #[test]
    fn rig_postfix_replies() {
        assert_eq!(class("250 2.1.5 Ok"), Status::Valid);
        assert_eq!(
            class(
                "550 5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown in virtual mailbox table"
            ),
            Status::MailboxNotFound
        );
        assert_eq!(
            class(
                "450 4.7.1 <x@greylist.test>: Recipient address rejected: Greylisted, please try again later"
            ),
            Status::Temporary
        );
        assert_eq!(
            class("554 5.7.1 <x@nomx.test>: Relay access denied"),
            Status::Unknown
        );
        assert_eq!(
            class(
                "550 5.1.10 <x@nullmx.test>: Recipient address rejected: Domain nullmx.test does not accept mail (nullMX)"
            ),
            Status::MailboxNotFound
        );
    }

    #[test]
    fn enhanced_codes_decide_first() {
        assert_eq!(
            class("550 5.2.1 The email account that you tried to reach is disabled."),
            Status::Disabled
        );
        assert_eq!(
            class("552 5.2.2 The email account that you tried to reach is over quota."),
            Status::MailboxFull
        );
        assert_eq!(
            class("452 4.2.2 The email account that you tried to reach is over quota."),
            Status::MailboxFull
        );
        assert_eq!(
            class("553 5.1.3 The recipient address <a b@x.com> is not a valid RFC-5321 address."),
            Status::InvalidSyntax
        );
        assert_eq!(
            class("550 5.1.1 The email account that you tried to reach does not exist."),
            Status::MailboxNotFound
        );
    }

    #[test]
    fn provider_texts_without_useful_enhanced_codes() {
        // Outlook.com / Hotmail
        assert_eq!(
            class("550 5.5.0 Requested action not taken: mailbox unavailable"),
            Status::MailboxNotFound
        );
        // Exchange Online directory-based edge blocking
        assert_eq!(
            class(
                "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [x.outlook.com]"
            ),
            Status::MailboxNotFound
        );
        // Yahoo
        assert_eq!(
            class(
                "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]"
            ),
            Status::MailboxNotFound
        );
        assert_eq!(
            class(
                "554 delivery error: dd Sorry your message to x@yahoo.com cannot be delivered. This mailbox is disabled (554.30)."
            ),
            Status::Disabled
        );
        // qmail
        assert_eq!(
            class("550 sorry, no mailbox here by that name. (#5.1.1)"),
            Status::MailboxNotFound
        );
        // Exim
        assert_eq!(class("550 Unrouteable address"), Status::MailboxNotFound);
        assert_eq!(class("552 Mailbox full"), Status::MailboxFull);
        assert_eq!(class("550 5.2.1 Mailbox is inactive"), Status::Disabled);
    }

    #[test]
    fn refusals_about_the_sender_say_nothing_about_the_address() {
        assert_eq!(
            class(
                "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
            ),
            Status::Unknown
        );
        assert_eq!(
            class("550 5.7.1 Recipient address rejected: Access denied"),
            Status::Unknown
        );
        assert_eq!(class("550 Administrative prohibition"), Status::Unknown);
    }

    #[test]
    fn a_4xx_full_phrase_needs_x_2_2_or_no_enhanced_code() {
        // Rate limiting, not a full mailbox: the enhanced code says policy (4.7.x).
        assert_eq!(
            class("451 4.7.1 Too many messages, slow down"),
            Status::Temporary
        );
        assert_eq!(
            class("452 4.3.1 Insufficient system storage"),
            Status::Temporary
        );
        assert_eq!(class("451 Too many messages, slow down"), Status::Temporary);
        assert_eq!(
            class("452 4.2.2 Mailbox full, try later"),
            Status::MailboxFull
        );
        assert_eq!(class("452 Mailbox full"), Status::MailboxFull);
        assert_eq!(
            class("452 User over quota, try again later"),
            Status::MailboxFull
        );
    }

    #[test]
    fn temporary_failures() {
        assert_eq!(
            class("421 4.7.0 Try again later, closing connection."),
            Status::Temporary
        );
        assert_eq!(
            class("451 4.3.0 Temporary lookup failure"),
            Status::Temporary
        );
        assert_eq!(
            session(&reply("421 4.3.2 Service not available")),
            Status::Temporary
        );
        assert_eq!(session(&reply("554 5.7.1 go away")), Status::Unknown);
    }
}
