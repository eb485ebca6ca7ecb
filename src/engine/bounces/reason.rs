//! Bounce reasons: the taxonomy Sisimai uses, and how a reason follows from the status code, the
//! reply code, the SMTP command and the wording of the diagnostic.
//!
//! The phrase lists are error messages real servers send, as collected by Sisimai (BSD-2-Clause);
//! the decision order follows Sisimai's: explicit reason from the notice's own format, then the
//! rules of the receiving provider (`rhost`), then status-code-led probes, then wording alone.

use super::codes::{aligned, contains_any};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    UserUnknown,
    HostUnknown,
    HasMoved,
    NotAccept,
    MailboxFull,
    SystemFull,
    MesgTooBig,
    ExceedLimit,
    Suspend,
    Filtered,
    Blocked,
    BadReputation,
    RequirePtr,
    AuthFailure,
    PolicyViolation,
    Rejected,
    SpamDetected,
    VirusDetected,
    ContentError,
    NotCompliantRfc,
    SecurityError,
    FailedStartTls,
    NoRelaying,
    SyntaxError,
    TooManyConn,
    Speeding,
    NetworkError,
    SystemError,
    MailerError,
    Expired,
    Suppressed,
    OnHold,
    Undefined,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[
        Reason::UserUnknown,
        Reason::HostUnknown,
        Reason::HasMoved,
        Reason::NotAccept,
        Reason::MailboxFull,
        Reason::SystemFull,
        Reason::MesgTooBig,
        Reason::ExceedLimit,
        Reason::Suspend,
        Reason::Filtered,
        Reason::Blocked,
        Reason::BadReputation,
        Reason::RequirePtr,
        Reason::AuthFailure,
        Reason::PolicyViolation,
        Reason::Rejected,
        Reason::SpamDetected,
        Reason::VirusDetected,
        Reason::ContentError,
        Reason::NotCompliantRfc,
        Reason::SecurityError,
        Reason::FailedStartTls,
        Reason::NoRelaying,
        Reason::SyntaxError,
        Reason::TooManyConn,
        Reason::Speeding,
        Reason::NetworkError,
        Reason::SystemError,
        Reason::MailerError,
        Reason::Expired,
        Reason::Suppressed,
        Reason::OnHold,
        Reason::Undefined,
    ];

    /// A soft bounce for this reason is about our side, not the recipient's address: our IP
    /// or domain blocked or with a bad reputation, our rate, our authentication or PTR, our
    /// sender address refused (`rejected`), our content, TLS or syntax. It never counts
    /// toward suppressing the address, and sending again once the cause is fixed is normal
    /// (a greylisting that outlived the queue is `blocked`).
    pub fn is_about_sender(self) -> bool {
        use Reason::*;
        matches!(
            self,
            Blocked
                | BadReputation
                | Speeding
                | TooManyConn
                | AuthFailure
                | RequirePtr
                | Rejected
                | SpamDetected
                | VirusDetected
                | ContentError
                | MesgTooBig
                | PolicyViolation
                | SecurityError
                | FailedStartTls
                | NotCompliantRfc
                | SyntaxError
                | MailerError
        )
    }

    /// The state of the recipient's mailbox (full, over a limit, suspended): it may clear at
    /// any time, so a message sent again after it is no repeated mistake.
    pub fn is_mailbox_state(self) -> bool {
        matches!(
            self,
            Reason::MailboxFull | Reason::ExceedLimit | Reason::Suspend
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UserUnknown => "userunknown",
            Reason::HostUnknown => "hostunknown",
            Reason::HasMoved => "hasmoved",
            Reason::NotAccept => "notaccept",
            Reason::MailboxFull => "mailboxfull",
            Reason::SystemFull => "systemfull",
            Reason::MesgTooBig => "mesgtoobig",
            Reason::ExceedLimit => "exceedlimit",
            Reason::Suspend => "suspend",
            Reason::Filtered => "filtered",
            Reason::Blocked => "blocked",
            Reason::BadReputation => "badreputation",
            Reason::RequirePtr => "requireptr",
            Reason::AuthFailure => "authfailure",
            Reason::PolicyViolation => "policyviolation",
            Reason::Rejected => "rejected",
            Reason::SpamDetected => "spamdetected",
            Reason::VirusDetected => "virusdetected",
            Reason::ContentError => "contenterror",
            Reason::NotCompliantRfc => "notcompliantrfc",
            Reason::SecurityError => "securityerror",
            Reason::FailedStartTls => "failedstarttls",
            Reason::NoRelaying => "norelaying",
            Reason::SyntaxError => "syntaxerror",
            Reason::TooManyConn => "toomanyconn",
            Reason::Speeding => "speeding",
            Reason::NetworkError => "networkerror",
            Reason::SystemError => "systemerror",
            Reason::MailerError => "mailererror",
            Reason::Expired => "expired",
            Reason::Suppressed => "suppressed",
            Reason::OnHold => "onhold",
            Reason::Undefined => "undefined",
        }
    }

    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.as_str() == name)
    }

    /// A short human description.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::UserUnknown => "the mailbox does not exist",
            Reason::HostUnknown => "the recipient's domain does not exist",
            Reason::HasMoved => "the mailbox has moved and is not forwarded",
            Reason::NotAccept => "the destination accepts no mail (null MX)",
            Reason::MailboxFull => "the mailbox is full",
            Reason::SystemFull => "the destination server's disk is full",
            Reason::MesgTooBig => "the message is too big for the destination",
            Reason::ExceedLimit => "the message exceeds a limit of the mailbox",
            Reason::Suspend => "the account is disabled or suspended",
            Reason::Filtered => "refused by a filter of the recipient",
            Reason::Blocked => "the sending IP address or host is blocked",
            Reason::BadReputation => "refused for the sender's reputation",
            Reason::RequirePtr => "the sending IP address lacks a valid PTR record",
            Reason::AuthFailure => "SPF, DKIM or DMARC failed",
            Reason::PolicyViolation => "refused by a policy of the destination",
            Reason::Rejected => "the sender address was refused",
            Reason::SpamDetected => "the message was taken for spam",
            Reason::VirusDetected => "a virus was found in the message",
            Reason::ContentError => "the message's headers or format were refused",
            Reason::NotCompliantRfc => "the message does not comply with the RFCs",
            Reason::SecurityError => "refused for a security reason (authentication, TLS)",
            Reason::FailedStartTls => "STARTTLS failed",
            Reason::NoRelaying => "the host does not relay for the recipient's domain",
            Reason::SyntaxError => "an SMTP command was refused as malformed",
            Reason::TooManyConn => "too many connections or recipients",
            Reason::Speeding => "sending too fast (rate limited)",
            Reason::NetworkError => "DNS or network failure",
            Reason::SystemError => "the destination had a system error",
            Reason::MailerError => "a local delivery program failed",
            Reason::Expired => "delivery timed out after retries",
            Reason::Suppressed => "the address is on a suppression list",
            Reason::OnHold => "the reason could not be decided",
            Reason::Undefined => "no reason given",
        }
    }

    /// Reasons a decoder may set that still get a second look (Sisimai's "retried" set).
    fn retried(self) -> bool {
        matches!(
            self,
            Reason::Undefined
                | Reason::OnHold
                | Reason::SystemError
                | Reason::SecurityError
                | Reason::Expired
                | Reason::NetworkError
                | Reason::HostUnknown
                | Reason::UserUnknown
        )
    }

    pub(crate) fn explicit(self) -> bool {
        !matches!(self, Reason::Undefined | Reason::OnHold)
    }
}

/// Hard bounce per Sisimai: the address (or domain) is gone; `notaccept` only when permanent.
/// A 4.x.x status (or 4xx reply) is temporary by definition, whatever the wording: Postfix
/// answers "450 4.1.1 User unknown in relay recipient table" while its lookup table is
/// unavailable, and suppressing the address or pausing the mailbox for it would be wrong.
pub fn is_hard(reason: Reason, status: Option<&str>, reply: Option<u16>, diagnostic: &str) -> bool {
    let class = status
        .and_then(|s| s.bytes().next())
        .or_else(|| reply.map(|r| b'0' + (r / 100) as u8));
    if class == Some(b'4') {
        return false;
    }
    match reason {
        Reason::UserUnknown | Reason::HostUnknown | Reason::HasMoved => true,
        Reason::NotAccept => match class {
            Some(b'5') => true,
            Some(b'4') => false,
            _ => {
                let d = diagnostic.to_ascii_lowercase();
                !(d.contains(" temporar") || d.contains(" persistent"))
            }
        },
        _ => false,
    }
}

/// The reason an RFC 3463 status code stands for, when it stands for one.
pub fn status_name(status: &str) -> Option<Reason> {
    use Reason::*;
    Some(match status {
        "4.1.6" | "5.1.6" => HasMoved,
        "4.1.7" | "4.1.8" | "5.1.7" | "5.1.8" => Rejected,
        "4.1.9" | "5.1.9" => SystemError,
        "4.2.1" => Blocked,
        "4.2.2" | "5.2.2" => MailboxFull,
        "4.2.3" | "5.2.3" => ExceedLimit,
        "4.2.4" | "5.2.4" => Filtered,
        "4.3.1" | "5.3.1" => SystemFull,
        "4.3.2" | "5.3.2" => NotAccept,
        "4.3.3" | "4.3.5" | "5.3.0" | "5.3.3" | "5.3.5" => SystemError,
        "4.4.1" | "4.4.7" => Expired,
        "4.4.2" | "4.4.4" | "4.4.6" | "4.4.8" | "5.4.0" => NetworkError,
        "4.4.3" | "5.4.3" => SystemError,
        "4.4.5" => SystemFull,
        "4.5.3" | "4.5.5" | "5.5.4" | "5.5.5" => SystemError,
        "4.6.0" | "4.6.2" | "4.6.5" => ContentError,
        "4.7.1" | "4.7.2" => Blocked,
        "4.7.5" | "4.7.6" | "4.7.7" | "4.7.12" | "4.7.15" => SecurityError,
        "4.7.16" | "5.7.16" => MesgTooBig,
        "4.7.24" | "4.7.26" => AuthFailure,
        "4.7.25" | "5.7.25" => RequirePtr,
        "5.1.0" | "5.1.1" | "5.1.3" => UserUnknown,
        "5.1.2" => HostUnknown,
        "5.1.4" | "5.2.0" | "5.2.1" => Filtered,
        "5.1.10" | "5.7.27" => NotAccept,
        "5.3.4" => MesgTooBig,
        "5.4.4" => HostUnknown,
        "5.5.2" | "5.5.6" => SyntaxError,
        "5.5.3" => TooManyConn,
        "5.6.0" | "5.6.1" | "5.6.2" | "5.6.3" | "5.6.5" | "5.6.6" | "5.6.7" | "5.6.8" | "5.6.9" => {
            ContentError
        }
        "5.7.0" | "5.7.1" | "5.7.2" | "5.7.3" | "5.7.4" | "5.7.5" | "5.7.6" | "5.7.7" | "5.7.8"
        | "5.7.9" | "5.7.10" | "5.7.11" | "5.7.14" | "5.7.15" | "5.7.19" => SecurityError,
        "5.7.13" => Suspend,
        "5.7.17" | "5.7.18" => HasMoved,
        "5.7.20" | "5.7.21" | "5.7.22" | "5.7.23" | "5.7.24" | "5.7.26" | "5.7.29" => AuthFailure,
        "5.7.28" => SpamDetected,
        "5.7.30" => FailedStartTls,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Wording of each reason (lower-case).

const USER: &[&str] = &[
    "#5.1.1 bad address",
    "550 address invalid",
    "5.1.0 address rejected.",
    "address does not exist",
    "address not present in directory",
    "address unknown",
    "can't accept user",
    "does not exist.",
    "destination addresses were unknown",
    "destination server rejected recipients",
    "email address does not exist",
    "email address could not be found",
    "invalid address",
    "invalid mailbox",
    "invalid mailbox path",
    "invalid recipient",
    "is not a known user",
    "is not a valid mailbox",
    "is not an active address at this host",
    "mailbox does not exist",
    "mailbox invalid",
    "mailbox is inactive",
    "mailbox is unavailable",
    "mailbox not present",
    "mailbox not found",
    "mailbox unavaiable",
    "nessun utente simile in questo indirizzo",
    "no account by that name here",
    "no existe dicha persona",
    "no existe ese usuario ",
    "no mail box available for this user",
    "no mailbox by that name is currently available",
    "no mailbox found",
    "no such address here",
    "no such mailbox",
    "no such person at this address",
    "no such recipient",
    "no such user",
    "no thank you rejected: account unavailable",
    "no valid recipients, bye",
    "not a valid recipient",
    "not a valid user here",
    "not a local address",
    "not email addresses",
    "recipient address rejected. (in reply to rcpt to command)",
    "recipient address rejected: access denied",
    "recipient address rejected: invalid user",
    "recipient address rejected: invalid-recipient",
    "recipient address rejected: unknown user",
    "recipient address rejected: userunknown",
    "recipient does not exist",
    "recipient is not accepted",
    "recipient is not local",
    "recipient not exist",
    "recipient not found",
    "recipient not ok",
    "recipient refuses to accept your mail",
    "recipient unknown",
    "requested action not taken: mailbox unavailable",
    "resolver.adr.recipient notfound",
    "sorry, user unknown",
    "sorry, badrcptto",
    "sorry, no mailbox here by that name",
    "sorry, your envelope recipient has been denied",
    "that domain or user isn't in my list of allowed rcpthosts",
    "the email account that you tried to reach does not exist",
    "the following recipients was undeliverable",
    "the user's email name is not found",
    "there is no one at this address",
    "this address no longer accepts mail",
    "this email address is wrong or no longer valid",
    "this recipient is in my badrecipientto list",
    "this recipient is not in my validrcptto list",
    "this spectator does not exist",
    "unknown mailbox",
    "unknown recipient",
    "unknown user",
    "user does not exist",
    "user missing home directory",
    "user not active",
    "user not exist",
    "user not found",
    "user not known",
    "user unknown",
    "utilisateur inconnu !",
    "vdeliver: invalid or unknown virtual user",
    "weil die adresse nicht gefunden wurde oder keine e-mails empfangen kann",
    "your envelope recipient is in my badrcptto list",
];
const USER_ALIGNED: &[&[&str]] = &[
    &["<", "> not found"],
    &["<", ">... blocked by "],
    &["account ", " does not exist at the organization"],
    &[
        "adresse d au moins un destinataire invalide. invalid recipient.",
        "416",
    ],
    &[
        "adresse d au moins un destinataire invalide. invalid recipient.",
        "418",
    ],
    &["bad", "recipient"],
    &["mailbox ", "does not exist"],
    &["mailbox ", "unavailable or access denied"],
    &["no ", " in name directory"],
    &["non", "existent user"],
    &["rcpt <", " does not exist"],
    &["rcpt (", "t exist "],
    &["recipient ", " was not found in"],
    &["recipient address rejected: user ", "  does not exist"],
    &["recipient address rejected: user unknown in ", "  table"],
    &["said: 550", "5.1.1 ", " user unknown "],
    &["this user doesn't have a ", " account"],
    &["unknown e", "mail address"],
    &["unknown local", "part"],
    &["user ", " was not found"],
    &["user ", " does not exist"],
    &["user (", ") unknown"],
];

const FULL: &[&str] = &[
    "452 insufficient disk space",
    "account disabled temporarly for exceeding receiving limits",
    "boite du destinataire pleine",
    "exceeded storage allocation",
    "full mailbox",
    "mailbox exceeds allowed size",
    "mailbox size limit exceeded",
    "mailbox would exceed maximum allowed storage",
    "mailfolder is full",
    "no space left on device",
    "not sufficient disk space",
    "quota violation for",
    "too much mail data",
    "user has exceeded quota, bouncing mail",
    "user has too many messages on the server",
    "user's space has been used up",
    "mailbox is full",
    "over quota",
    "quota exceeded",
];
const FULL_ALIGNED: &[&[&str]] = &[
    &["account is ", " quota"],
    &["disk", "quota"],
    &["enough ", " space"],
    &["mailbox ", "exceeded", " limit"],
    &["mailbox ", "full"],
    &["mailbox ", "quota"],
    &["maildir ", "quota"],
    &["over ", "quota"],
    &["quota ", "exceeded"],
];

const FILTERED: &[&str] = &[
    "account is protected by",
    "bounced address",
    "has restricted sms e-mail",
    "is not accepting any mail",
    "message filtered",
    "message rejected due to user rules",
    "not found recipient account",
    "recipient id refuse to receive mail",
    "recipient is only accepting mail from specific email addresses",
    "refused due to recipient preferences",
    "user not found",
    "user refuses to receive this mail",
    "user reject",
    "you have been blocked by the recipient",
];

const REJECTED_NOT: &[&str] = &[
    "5.1.0 address rejected",
    "recipient address rejected",
    "sender ip address rejected",
];
const REJECTED: &[&str] = &[
    "access denied (in reply to mail from command)",
    "access denied (sender blacklisted)",
    "address rejected",
    "administrative prohibition",
    "batv failed to verify",
    "batv validation failure",
    "backscatter protection detected an invalid or expired email address",
    "because the sender isn't on the recipient's list of senders to accept mail from",
    "bogus mail from",
    "can't determine purported responsible address",
    "connections not accepted from servers without a valid sender domain",
    "denied [bouncedeny]",
    "denied by secumail valid-address-filter",
    "delivery not authorized, message refused",
    "does not exist e2110",
    "domain of sender address ",
    "email address is on senderfilterconfig list",
    "emetteur invalide",
    "empty envelope senders not allowed",
    "envelope blocked - ",
    "error: no third-party dsns",
    "from: domain is invalid. please provide a valid from:",
    "fully qualified email address required",
    "invalid domain, see <url:",
    "invalid sender",
    "is not a registered gateway user",
    "mail from not owned by user",
    "message rejected: email address is not verified",
    "mx records for ",
    "null sender is not allowed",
    "recipient addresses rejected : access denied",
    "recipient not accepted. (batv: no tag",
    "returned mail not accepted here",
    "rfc 1035 violation: recursive cname records for",
    "rule imposed mailbox access for",
    "sending this from a different address or alias using the ",
    "sender address has been blacklisted",
    "sender email address rejected",
    "sender is in my black list",
    "sender is spammer",
    "sender not pre-approved",
    "sender rejected",
    "sender domain is empty",
    "sender verify failed",
    "sender was rejected",
    "spam reporting address",
    "syntax error: empty email address",
    "the message has been rejected by batv defense",
    "this server does not accept mail from",
    "transaction failed unsigned dsn for",
    "unroutable sender address",
    "you are not allowed to post to this mailing list",
    "you are sending to/from an address that has been blacklisted",
    "your access to submit messages to this e-mail system has been rejected",
    "your email address has been blacklisted",
];

const BLOCKED: &[&str] = &[
    " said: 550 blocked",
    "//www.spamcop.net/bl.",
    "bad sender ip address",
    "banned sending ip",
    "blacklisted by",
    "blocked using ",
    "blocked - see http",
    "dnsbl:attrbl",
    "client host rejected: abus detecte gu_eib_02",
    "client host rejected: abus detecte gu_eib_04",
    "client host rejected: may not be mail exchanger",
    "client host rejected: was not authenticated",
    "confirm this mail server",
    "connection dropped",
    "connection refused by",
    "connection reset by peer",
    "connection was dropped by remote host",
    "connections not accepted from ip addresses on spamhaus xbl",
    "currently sending spam see: ",
    "domain does not exist:",
    "dynamic/zombied/spam ips blocked",
    "error: no valid recipients from ",
    "esmtp not accepting connections",
    "extreme bad ip profile",
    "go away",
    "helo command rejected:",
    "host network not allowed",
    "hosts with dynamic ip",
    "invalid ip for sending mail of domain",
    "is in a black list",
    "is not allowed to send mail from",
    "mailfrom domain is listed in spamhaus",
    "no access from mail server",
    "no matches to nameserver query",
    "not currently accepting mail from your ip",
    "part of their network is on our block list",
    "please use the smtp server of your isp",
    "refused - see http",
    "rejected - multi-blacklist",
    "rejected because the sending mta or the sender has not passed validation",
    "rejecting open proxy",
    "sender ip address rejected",
    "server access forbidden by your ip ",
    "service not available, closing transmission channel",
    "smtp error from remote mail server after initial connection:",
    "sorry, that domain isn't in my list of allowed rcpthosts",
    "sorry, your remotehost looks suspiciously like spammer",
    "temporarily deferred due to unexpected volume or user complaints",
    "to submit messages to this e-mail system has been rejected",
    "too many spams from your ip",
    "too many unwanted messages have been sent from the following ip address above",
    "was blocked by ",
    "we do not accept mail from dynamic ips",
    "you are not allowed to connect",
    "you are sending spam",
    "your ip address is listed in the rbl",
    "your network is temporary blacklisted",
    "your server requires confirmation",
];
const BLOCKED_ALIGNED: &[&[&str]] = &[
    &["(", "@", ":blocked)"],
    &["access from ip address ", " blocked"],
    &["client host ", " blocked using"],
    &[
        "connections will not be accepted from ",
        " because the ip is in spamhaus's list",
    ],
    &["dnsbl:rbl ", ">_is_blocked"],
    &["email blocked by ", ".barracudacentral.org"],
    &["email blocked by ", "spamhaus"],
    &["host ", " refused to talk to me: ", " blocked"],
    &["ip ", " is blocked by earthlink"],
    &["is in an ", "rbl on "],
    &["mail server at ", " is blocked"],
    &["mail from ", " refused:"],
    &["mail from ", " refused, see ", "orbs"],
    &["message from ", " rejected based on blacklist"],
    &[
        "messages from ",
        " temporarily deferred due to user complaints",
    ],
    &["server ip ", " listed as abusive"],
    &["sorry! your ip address", " is blocked by rbl"],
    &["the domain ", " is blacklisted"],
    &["the email ", " is blacklisted"],
    &["the ip", " is blacklisted"],
    &[
        "veuillez essayer plus tard. service refused, please try later. ",
        "103",
    ],
    &[
        "veuillez essayer plus tard. service refused, please try later. ",
        "510",
    ],
    &["your access ip", " has been rejected"],
    &["your sender's ip address is listed at ", ".abuseat.org"],
];

const EXPIRED: &[&str] = &[
    "connection timed out",
    "could not find a gateway for",
    "delivery attempts will continue to be",
    "delivery expired",
    "delivery time expired",
    "failed to deliver to domain ",
    "giving up on",
    "have been failing for a long time",
    "has been delayed",
    "it has not been collected after",
    "message expired after sitting in queue for",
    "message expired, cannot connect to remote server",
    "message expired, connection refulsed",
    "message timed out",
    "retry time not reached for any host after a long failure period",
    "server did not respond",
    "this message has been in the queue too long",
    "unable to deliver message after multiple retries",
    "was not reachable within the allowed queue period",
    "your message could not be delivered for more than",
];
const EXPIRED_ALIGNED: &[&[&str]] = &[&["could not be delivered for", " days"]];

const HOSTUNKNOWN: &[&str] = &[
    "domain does not exist",
    "domain is not reachable",
    "domain must exist",
    "host or domain name not found",
    "host unknown",
    "host unreachable",
    "mail domain mentioned in email address is unknown",
    "name or service not known",
    "no such domain",
    "recipient address rejected: unknown domain name",
    "recipient domain must exist",
    "the account or domain may not exist",
    "unknown host",
    "unroutable address",
    "unrouteable address",
];
const HOSTUNKNOWN_ALIGNED: &[&[&str]] = &[&["553 ", " does not exist"]];

const SUSPEND: &[&str] = &[
    " is currently suspended",
    " temporary locked",
    "account is disabled",
    "archived recipient",
    "boite du destinataire archivee",
    "email account that you tried to reach is disabled",
    "has been suspended",
    "inactive account",
    "invalid/inactive user",
    "is a deactivated mailbox",
    "is unavailable: user is terminated",
    "mailbox currently suspended",
    "mailbox disabled",
    "mailbox is frozen",
    "mailbox unavailable or access denied",
    "recipient rejected: temporarily inactive",
    "recipient suspend the service",
    "the email account that you tried to reach is inactive",
    "this account has been disabled or discontinued",
    "this account has been temporarily suspended",
    "this address no longer accepts mail",
    "this mailbox is disabled",
    "user or domain is disabled",
    "user suspended",
    "vdelivermail: account is locked email bounced",
];

const AUTHFAILURE: &[&str] = &[
    "//spf.pobox.com",
    "bad spf records for",
    "dmarc policy",
    "doesn't meet the required authentication level",
    "please inspect your spf settings",
    "sender policy framework (spf) fail",
    "sender policy framework violation",
    "spf (sender policy framework) domain authentication fail",
    "spf check: fail",
    "the 5322.from address doesn't meet the authentication requirements defined for the sender",
];
const AUTHFAILURE_ALIGNED: &[&[&str]] = &[
    &[" is not allowed to send mail.", "_401"],
    &["is not allowed to send from <", " per it's spf record"],
];

const BADREPUTATION: &[&str] = &[
    "a poor email reputation score",
    "has been temporarily rate limited due to ip reputation",
    "ip/domain reputation problems",
    "likely suspicious due to the very low reputation",
    "none/bad reputation",
    "temporarily deferred due to unexpected volume or user complaints",
    "the sending mta's poor reputation",
];

const CONTENTERROR: &[&str] = &[
    "duplicate header",
    "header size exceeds maximum permitted",
    "improper use of 8-bit data in message header",
    "message header size, or recipient list, exceeds policy limit",
    "message mime complexity exceeds the policy maximum",
    "routing loop detected -- too many received: headers",
    "this message contain invalid mime headers",
    "this message contain improperly-formatted binary content",
    "this message contain text that uses unnecessary base64 encoding",
];

const EXCEEDLIMIT: &[&str] = &["message header size exceeds limit", "message too large"];

const MESGTOOBIG: &[&str] = &[
    "exceeded maximum inbound message size",
    "exceeded the maximum incoming message size",
    "line limit exceeded",
    "max message size exceeded",
    "message file too big",
    "message length exceeds administrative limit",
    "message size exceeds fixed limit",
    "message size exceeds fixed maximum message size",
    "message size exceeds maximum value",
    "message too big",
    "message too large for this ",
    "size limit",
    "taille limite du message atteinte",
];

const FAILEDSTARTTLS: &[&str] = &[
    "starttls is required to send mail",
    "tls required but not supported",
];

const HASMOVED: &[&str] = &[" has been replaced by "];

const MAILERERROR: &[&str] = &[
    " || exit ",
    "procmail: ",
    "bin/procmail",
    "bin/maidrop",
    "command failed: ",
    "command died with status ",
    "command output:",
    "mailer error",
    "pipe to |/",
    "x-unix; ",
];

const NETWORKERROR: &[&str] = &[
    "could not connect and send the mail to",
    "dns records for the destination computer could not be found",
    "hop count exceeded - possible mail loop",
    "host is unreachable",
    "host name lookup failure",
    "host not found, try again",
    "mail forwarding loop for ",
    "malformed name server reply",
    "malformed or unexpected name server reply",
    "maximum forwarding loop count exceeded",
    "message looping",
    "message probably in a routing loop",
    "no route to host",
    "too many hops",
    "unable to resolve route ",
    "unrouteable mail domain",
];

const NORELAYING: &[&str] = &[
    "as a relay",
    "email address is not verified.",
    "insecure mail relay",
    "is not permitted to relay through this server without authentication",
    "mail server requires authentication when attempting to send to a non-local e-mail address",
    "no relaying",
    "not a gateway",
    "not allowed to relay through this machine",
    "not an open relay, so get lost",
    "not local host",
    "relay access denied",
    "relay denied",
    "relay not permitted",
    "relaying denied",
    "relaying mail to ",
    "specified domain is not allowed",
    "that domain isn't in my list of allowed rcpthost",
    "this system is not configured to relay mail",
    "unable to relay ",
    "we don't handle mail for",
];

const NOTACCEPT: &[&str] = &[
    "does not accept mail (nullmx)",
    "host/domain does not accept mail",
    "host does not accept mail",
    "mail receiving disabled",
    "name server: .: host not found",
    "no mx record found for domain=",
    "no route for current request",
    "smtp protocol returned a permanent error",
];

const NOTCOMPLIANTRFC: &[&str] = &[
    "duplicate header",
    "this message is not rfc 5322 compliant",
    "https://support.google.com/mail/?p=rfcmessagenoncompliant",
];
const NOTCOMPLIANTRFC_ALIGNED: &[&[&str]] = &[&[" multiple ", " header"]];

const POLICYVIOLATION: &[&str] = &[
    "an illegal attachment on your message",
    "because the recipient is not accepting mail with ",
    "by non-member to a members-only list",
    "closed mailing list",
    "denied by policy",
    "email not accepted for policy reasons",
    "email rejected due to security policies",
    "header are not accepted",
    "header error",
    "local policy violation",
    "message bounced due to organizational settings",
    "message given low priority",
    "message not accepted for policy reasons",
    "message rejected due to local policy",
    "messages with multiple addresses",
    "rejected for policy reasons",
    "protocol violation",
    "the email address used to send your message is not subscribed to this group",
    "the message was rejected by organization policy",
    "this message was blocked because its content presents a potential",
    "we do not accept messages containing images or other attachments",
    "you're using a mass mailer",
];
const POLICYVIOLATION_ALIGNED: &[&[&str]] = &[&[
    "you have exceeded the",
    "allowable number of posts without solving a captcha",
]];

const REQUIREPTR: &[&str] = &[
    "access denied. ip name lookup failed",
    "all mail servers must have a ptr record with a valid reverse dns entry",
    "bad dns ptr resource record",
    "cannot find your hostname",
    "cannot resolve your address.",
    "client host rejected: cannot find your hostname",
    "fix reverse dns for ",
    "ips with missing ptr records",
    "no ptr record found.",
    "please get a custom reverse dns name from your isp for your host",
    "ptr record setup",
    "reverse dns failed",
    "reverse dns required",
    "sender ip reverse lookup rejected",
    "the ip address sending this message does not have a ptr record setup",
    "the corresponding forward dns entry does not point to the sending ip",
    "this system will not accept messages from servers/devices with no reverse dns",
    "unresolvable relay host name",
    "we do not accept mail from hosts with dynamic ip or generic dns ptr-records",
];
const REQUIREPTR_ALIGNED: &[&[&str]] = &[
    &["domain ", " mismatches client ip"],
    &["dns lookup failure: ", " try again later"],
    &["reverse dns lookup for host ", " failed permanently"],
    &[
        "server access ",
        " forbidden by invalid rdns record of your mail server",
    ],
    &["service permits ", " unverifyable sending ips"],
];

const SECURITYERROR: &[&str] = &[
    "account not subscribed to ses",
    "authentication credentials invalid",
    "authentication failure",
    "authentication required",
    "authentication turned on in your email client",
    "executable files are not allowed in compressed files",
    "insecure mail relay",
    "recipient address rejected: access denied",
    "sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts",
    "unauthenticated senders not allowed",
    "verification failure",
    "you are not authorized to send mail, authentication is required",
];
const SECURITYERROR_ALIGNED: &[&[&str]] = &[
    &["authentication failed; server ", " said: "],
    &["authentification invalide", "305"],
    &["authentification requise", "402"],
    &["domain ", " is a dead domain"],
    &[
        "user ",
        " is not authorized to perform ses:sendrawemail on resource",
    ],
];

const SPAMDETECTED: &[&str] = &[
    " - spam",
    "//www.spamhaus.org/help/help_spam_16.htm",
    "//dsbl.org/help/help_spam_16.htm",
    "//mail.163.com/help/help_spam_16.htm",
    "554 5.7.0 reject, id=",
    "appears to be unsolicited",
    "blacklisted url in message",
    "block for spam",
    "blocked by policy: no spam please",
    "blocked by spamassassin",
    "blocked for abuse. see http://att.net/blocks",
    "cannot be forwarded because it was detected as spam",
    "considered unsolicited bulk e-mail (spam) by our mail filters",
    "content filter rejection",
    "cyberoam anti spam engine has identified this email as a bulk email",
    "denied due to spam list",
    "high probability of spam",
    "is classified as spam and is rejected",
    "listed in work.drbl.imedia.ru",
    "the mail server detected your message as spam and has prevented delivery.",
    "mail appears to be unsolicited",
    "mail content denied",
    "may consider spam",
    "message considered as spam or virus",
    "message contains spam or virus",
    "message content rejected",
    "message detected as spam",
    "message filtered",
    "message filtered. please see the faqs section on spam",
    "message filtered. refer to the troubleshooting page at ",
    "message looks like spam",
    "message is being rejected as it seems to be a spam",
    "message refused by mailmarshal spamprofiler",
    "message refused by trustwave seg spamprofiler",
    "message rejected as spam",
    "message rejected because of unacceptable content",
    "message rejected due to suspected spam content",
    "message rejected for policy reasons",
    "message was rejected for possible spam/virus content",
    "our email server thinks this email is spam",
    "our system has detected that this message is ",
    "probable spam",
    "reject bulk.advertising",
    "rejected: spamassassin score ",
    "rejected - bulk email",
    "rejecting banned content",
    "rejecting mail content",
    "related to content with spam-like characteristics",
    "sender domain listed at ",
    "sending address not accepted due to spam filter",
    "spam blocked",
    "spam check",
    "spam content matched",
    "spam detected",
    "spam email",
    "spam email not accepted",
    "spam message rejected.",
    "spam not accepted",
    "spam refused",
    "spam rejection",
    "spam score ",
    "spambouncer identified spam",
    "spamming not allowed",
    "too many spam complaints",
    "too much spam.",
    "the email message was detected as spam",
    "the message has been rejected by spam filtering engine",
    "the message was rejected due to classification as bulk mail",
    "the content of this message looked like spam",
    "this message appears to be spam",
    "this message has been identified as spam",
    "this message has been scored as spam with a probability",
    "this message was classified as spam",
    "this message was rejected by recurrent pattern detection system",
    "transaction failed spam message not queued",
    "we dont accept spam",
    "your email appears similar to spam we have received before",
    "your email breaches local uribl policy",
    "your email had spam-like ",
    "your email is considered spam",
    "your email is probably spam",
    "your email was detected as spam",
    "your message as spam and has prevented delivery",
    "your message has been temporarily blocked by our filter",
    "your message has been rejected because it appears to be spam",
    "your message has triggered a spam block",
    "your message may contain the spam contents",
    "your message failed several antispam checks",
];
const SPAMDETECTED_ALIGNED: &[&[&str]] = &[
    &["greylisted", " please try again in"],
    &["mail score (", " over "],
    &["mail rejete. mail rejected. ", "506"],
    &[
        "our filters rate at and above ",
        " percent probability of being spam",
    ],
    &["rejected by ", " (spam)"],
    &["rejected due to spam ", "classification"],
    &["rejected due to spam ", "content"],
    &["rule imposed as ", " is blacklisted on"],
    &["spam ", " exceeded"],
    &["this message scored ", " spam points"],
];

const SPEEDING: &[&str] = &[
    "mail sent from your ip address has been temporarily rate limited",
    "please try again slower",
    "receiving mail at a rate that prevents additional messages from being delivered",
];

const SYSTEMERROR: &[&str] = &[
    "aliasing/forwarding loop broken",
    "can't create user output file",
    "could not load drd for domain",
    "internal error reading data",
    "internal server error: operation now in progress",
    "interrupted system call",
    "it encountered an error while being processed",
    "it would create a mail loop",
    "local configuration error",
    "local error in processing",
    "loop was found in the mail exchanger",
    "loops back to myself",
    "mail system configuration error",
    "queue file write error",
    "recipient deferred because there is no mdb",
    "remote server is misconfigured",
    "server configuration error",
    "service currently unavailable",
    "system config error",
    "temporary local problem",
    "timeout waiting for input",
    "transaction failed ",
];
const SYSTEMERROR_ALIGNED: &[&[&str]] = &[&["unable to connect ", "daemon"]];

const SYSTEMFULL: &[&str] = &[
    "mail system full",
    "requested mail action aborted: exceeded storage allocation",
];

const TOOMANYCONN: &[&str] = &[
    "all available ips are at maximum connection limit",
    "connection rate limit exceeded",
    "exceeds per-domain connection limit for",
    "has exceeded the max emails per hour ",
    "throttling failure: daily message quota exceeded",
    "throttling failure: maximum sending rate exceeded",
    "too many connections",
    "too many connections from your host.",
    "too many concurrent smtp connections",
    "too many errors from your ip",
    "too many recipients",
    "too many smtp sessions for this host",
    "trop de connexions, ",
    "we have already made numerous attempts to deliver this message",
];

const VIRUSDETECTED: &[&str] = &[
    "it has a potentially executable attachment",
    "the message was rejected because it contains prohibited virus or spam content",
    "this form of attachment has been used by recent viruses or other malware",
    "virus detected",
    "virus phishing/malicious_url detected",
    "your message was infected with a virus",
];

const VACATION: &[&str] = &[
    "i am away on vacation",
    "i am away until",
    "i am out of the office",
    "i will be traveling for work on",
];

fn any_aligned(hay: &str, sets: &[&[&str]]) -> bool {
    sets.iter().any(|p| aligned(hay, p))
}

/// Index of a reason in a wording bit mask; `REJECTED_NOT_BIT` marks the "not rejected" phrases.
fn bit(r: Reason) -> u64 {
    1u64 << (Reason::ALL.iter().position(|x| *x == r).unwrap_or(63) as u64)
}
const REJECTED_NOT_BIT: u64 = 1 << 62;

fn phrase_table() -> Vec<(&'static str, u64)> {
    use Reason::*;
    let lists: &[(u64, &[&'static str])] = &[
        (bit(UserUnknown), USER),
        (bit(MailboxFull), FULL),
        (bit(Filtered), FILTERED),
        (REJECTED_NOT_BIT, REJECTED_NOT),
        (bit(Rejected), REJECTED),
        (bit(Blocked), BLOCKED),
        (bit(Expired), EXPIRED),
        (bit(HostUnknown), HOSTUNKNOWN),
        (bit(Suspend), SUSPEND),
        (bit(AuthFailure), AUTHFAILURE),
        (bit(BadReputation), BADREPUTATION),
        (bit(ContentError), CONTENTERROR),
        (bit(ExceedLimit), EXCEEDLIMIT),
        (bit(MesgTooBig), MESGTOOBIG),
        (bit(FailedStartTls), FAILEDSTARTTLS),
        (bit(HasMoved), HASMOVED),
        (bit(MailerError), MAILERERROR),
        (bit(NetworkError), NETWORKERROR),
        (bit(NoRelaying), NORELAYING),
        (bit(NotAccept), NOTACCEPT),
        (bit(NotCompliantRfc), NOTCOMPLIANTRFC),
        (bit(PolicyViolation), POLICYVIOLATION),
        (bit(RequirePtr), REQUIREPTR),
        (bit(SecurityError), SECURITYERROR),
        (bit(SpamDetected), SPAMDETECTED),
        (bit(Speeding), SPEEDING),
        (bit(SystemError), SYSTEMERROR),
        (bit(SystemFull), SYSTEMFULL),
        (bit(TooManyConn), TOOMANYCONN),
        (bit(VirusDetected), VIRUSDETECTED),
    ];
    let mut out: Vec<(&'static str, u64)> = Vec::new();
    for (b, words) in lists {
        for w in *words {
            match out.iter_mut().find(|(p, _)| p == w) {
                Some(e) => e.1 |= b,
                None => out.push((w, *b)),
            }
        }
    }
    out
}

struct Phrases {
    ac: aho_corasick::AhoCorasick,
    bits: Vec<u64>,
}

fn phrases() -> &'static Phrases {
    static P: std::sync::OnceLock<Phrases> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let table = phrase_table();
        let ac = aho_corasick::AhoCorasick::new(table.iter().map(|(p, _)| *p))
            .expect("static phrase list");
        Phrases {
            ac,
            bits: table.iter().map(|(_, b)| *b).collect(),
        }
    })
}

/// Which reasons' wording the (lower-cased) text uses, as a bit mask (one pass over the text).
pub fn wording(d: &str) -> u64 {
    if d.is_empty() {
        return 0;
    }
    use Reason::*;
    let p = phrases();
    let mut mask = 0u64;
    for m in p.ac.find_overlapping_iter(d) {
        mask |= p.bits[m.pattern().as_usize()];
    }
    let aligned_sets: &[(Reason, &[&[&str]])] = &[
        (UserUnknown, USER_ALIGNED),
        (MailboxFull, FULL_ALIGNED),
        (Blocked, BLOCKED_ALIGNED),
        (Expired, EXPIRED_ALIGNED),
        (HostUnknown, HOSTUNKNOWN_ALIGNED),
        (AuthFailure, AUTHFAILURE_ALIGNED),
        (NotCompliantRfc, NOTCOMPLIANTRFC_ALIGNED),
        (PolicyViolation, POLICYVIOLATION_ALIGNED),
        (RequirePtr, REQUIREPTR_ALIGNED),
        (SecurityError, SECURITYERROR_ALIGNED),
        (SpamDetected, SPAMDETECTED_ALIGNED),
        (SystemError, SYSTEMERROR_ALIGNED),
    ];
    for (r, sets) in aligned_sets {
        if mask & bit(*r) == 0 && any_aligned(d, sets) {
            mask |= bit(*r);
        }
    }
    if mask & REJECTED_NOT_BIT != 0 {
        mask &= !bit(Rejected);
    }
    mask
}

fn has(mask: u64, r: Reason) -> bool {
    mask & bit(r) != 0
}

/// Is the (lower-cased) text an out-of-office notice?
pub fn is_vacation_text(d: &str) -> bool {
    contains_any(d, VACATION)
}

/// What is known about one failed recipient when the reason is decided.
#[derive(Debug, Default, Clone)]
pub struct Facts<'a> {
    /// Reason the notice's own format already tells (e.g. qmail "sender was rejected").
    pub preset: Option<Reason>,
    pub status: Option<&'a str>,
    pub reply: Option<u16>,
    pub command: Option<&'a str>,
    /// Diagnostic text (any case).
    pub diagnostic: &'a str,
    /// `SMTP`, `X-Unix`, … from `Diagnostic-Code: TYPE; …` (empty = SMTP).
    pub diagnostic_type: &'a str,
    pub delayed: bool,
    /// Recipient's domain, remote MTA, reporting MTA (for provider rules).
    pub domain: &'a str,
    pub remote_host: &'a str,
    pub local_host: &'a str,
}

/// A status whose subject and detail are both 0 (`5.0.0`, `4.0.0`): the class and nothing more.
/// RFC 5321's default text for a 550, which servers give whatever the refusal's cause.
const STOCK_550_TEXT: &str = "requested action not taken: mailbox unavailable";

fn generic(status: &str) -> bool {
    status.get(1..) == Some(".0.0")
}

const EXCEPT_DATA: &[&str] = &["CONN", "EHLO", "HELO", "MAIL", "RCPT"];

fn except_data(cmd: Option<&str>) -> bool {
    cmd.is_some_and(|c| EXCEPT_DATA.contains(&c))
}

/// Status-led probes, in Sisimai's order.
fn probe(r: Reason, f: &Facts, w: u64, sn: Option<Reason>) -> bool {
    use Reason::*;
    if f.preset == Some(r) {
        return true;
    }
    match r {
        MailboxFull => sn == Some(MailboxFull) || has(w, MailboxFull),
        MesgTooBig => {
            if sn == Some(MesgTooBig) {
                return true;
            }
            if sn == Some(ExceedLimit) || f.status == Some("5.2.3") {
                return false;
            }
            has(w, MesgTooBig)
        }
        ExceedLimit => sn == Some(ExceedLimit) || has(w, ExceedLimit),
        Suspend => f.reply == Some(525) || has(w, Suspend),
        HasMoved => has(w, HasMoved),
        NoRelaying => {
            if matches!(f.command, Some("CONN" | "EHLO" | "HELO")) {
                return false;
            }
            has(w, NoRelaying)
        }
        AuthFailure => sn == Some(AuthFailure) || has(w, AuthFailure),
        UserUnknown => {
            if sn == Some(Suspend) {
                return false;
            }
            if sn == Some(UserUnknown) {
                !(has(w, NoRelaying)
                    || has(w, Blocked)
                    || has(w, MailboxFull)
                    || has(w, HasMoved)
                    || has(w, Rejected)
                    || has(w, NotAccept))
            } else {
                // A generic status (5.0.0) decides nothing, and Microsoft's 5.1.10 is
                // RESOLVER.ADR.RecipientNotFound (RFC 7505's null MX reads otherwise): with
                // no command known, the text that says the mailbox does not exist decides.
                let text_decides =
                    f.command.is_none() && f.status.is_some_and(|s| generic(s) || s == "5.1.10");
                if text_decides && f.command != Some("RCPT") {
                    // Only words that name the mailbox decide: RFC 5321's stock "mailbox
                    // unavailable" comes with every kind of refusal, and a block, a policy or
                    // a full mailbox said in the same text is no unknown user.
                    let specific = wording(
                        &f.diagnostic
                            .to_ascii_lowercase()
                            .replace(STOCK_550_TEXT, ""),
                    );
                    return has(specific, UserUnknown)
                        && ![
                            NoRelaying,
                            Blocked,
                            MailboxFull,
                            HasMoved,
                            Rejected,
                            NotAccept,
                            SpamDetected,
                            BadReputation,
                            PolicyViolation,
                        ]
                        .into_iter()
                        .any(|r| has(w, r));
                }
                f.command == Some("RCPT") && has(w, UserUnknown)
            }
        }
        Filtered => {
            if sn == Some(Suspend) {
                return false;
            }
            if sn == Some(Filtered) {
                has(w, UserUnknown) || has(w, Filtered)
            } else {
                if except_data(f.command) {
                    return false;
                }
                has(w, Filtered) || has(w, UserUnknown)
            }
        }
        RequirePtr => sn == Some(RequirePtr) || has(w, RequirePtr),
        NotCompliantRfc => has(w, NotCompliantRfc),
        BadReputation => has(w, BadReputation),
        ContentError => {
            if probe(SpamDetected, f, w, sn) {
                return false;
            }
            sn == Some(ContentError) || has(w, ContentError)
        }
        Rejected => {
            if sn == Some(Rejected) {
                return true;
            }
            // The wording counts after MAIL, after DATA (unless the code says the user is
            // unknown), or when the status code decides nothing.
            let applies = f.command == Some("MAIL")
                || (f.command == Some("DATA") && sn != Some(UserUnknown))
                || sn.is_none_or(|s| !s.explicit())
                || matches!(sn, Some(SecurityError | SystemError));
            applies && has(w, Rejected)
        }
        HostUnknown => {
            if sn == Some(HostUnknown) {
                !has(w, NetworkError)
            } else {
                has(w, HostUnknown)
            }
        }
        SpamDetected => {
            if f.status.is_none() {
                return false;
            }
            if sn == Some(SpamDetected) {
                return true;
            }
            if except_data(f.command) {
                return false;
            }
            has(w, SpamDetected)
        }
        Speeding => has(w, Speeding),
        TooManyConn => sn == Some(TooManyConn) || has(w, TooManyConn),
        Blocked => sn == Some(Blocked) || has(w, Blocked),
        _ => false,
    }
}

const PROBE_ORDER: &[Reason] = &[
    Reason::MailboxFull,
    Reason::MesgTooBig,
    Reason::ExceedLimit,
    Reason::Suspend,
    Reason::HasMoved,
    Reason::NoRelaying,
    Reason::AuthFailure,
    Reason::UserUnknown,
    Reason::Filtered,
    Reason::RequirePtr,
    Reason::NotCompliantRfc,
    Reason::BadReputation,
    Reason::ContentError,
    Reason::Rejected,
    Reason::HostUnknown,
    Reason::SpamDetected,
    Reason::Speeding,
    Reason::TooManyConn,
    Reason::Blocked,
];

const WORDING_ORDER: &[Reason] = &[
    Reason::MailboxFull,
    Reason::AuthFailure,
    Reason::BadReputation,
    Reason::Speeding,
    Reason::SpamDetected,
    Reason::VirusDetected,
    Reason::PolicyViolation,
    Reason::NoRelaying,
    Reason::SystemError,
    Reason::NetworkError,
    Reason::Suspend,
    Reason::ContentError,
    Reason::SystemFull,
    Reason::NotAccept,
    Reason::Expired,
    Reason::FailedStartTls,
    Reason::SecurityError,
    Reason::MailerError,
];

fn is_smtp(diagnostic_type: &str) -> bool {
    diagnostic_type.is_empty() || diagnostic_type.eq_ignore_ascii_case("smtp")
}

/// Decide the reason of one failed recipient.
pub fn decide(f: &Facts) -> Reason {
    if let Some(p) = f.preset
        && p.explicit()
        && !p.retried()
    {
        return p;
    }
    if f.status.is_some_and(|s| s.starts_with("2.")) {
        // A success code for a recipient the notice reports as failed: judge by the words.
    }
    let d = f.diagnostic.to_ascii_lowercase();
    if let Some(r) = super::rhost::find(f, &d)
        && r.explicit()
    {
        return r;
    }
    let sn = f.status.and_then(status_name);
    let w = wording(&d);

    if is_smtp(f.diagnostic_type) {
        for &r in PROBE_ORDER {
            if probe(r, f, w, sn) {
                return r;
            }
        }
    }
    // Preset reasons that probes did not confirm still count (e.g. "expired" from the format).
    if let Some(p) = f.preset
        && p.explicit()
    {
        return p;
    }
    if let Some(r) = by_wording(f, w, sn) {
        return r;
    }
    if f.delayed {
        return Reason::Expired;
    }
    if d.trim().is_empty() {
        Reason::Undefined
    } else {
        Reason::OnHold
    }
}

fn by_wording(f: &Facts, w: u64, sn: Option<Reason>) -> Option<Reason> {
    let retry = sn.is_none_or(|s| s.retried());
    if !retry && is_smtp(f.diagnostic_type) {
        return sn;
    }
    for &r in WORDING_ORDER {
        if has(w, r) {
            return Some(r);
        }
    }
    if sn.is_some() {
        return sn;
    }
    if let Some(s) = f.status
        && s.len() > 3
    {
        match &s[..3] {
            "5.6" | "4.6" => return Some(Reason::ContentError),
            "5.7" | "4.7" => return Some(Reason::SecurityError),
            _ => {}
        }
    }
    if f.diagnostic_type.to_ascii_uppercase().starts_with("X-UNIX") {
        return Some(Reason::MailerError);
    }
    if let Some(r) = f.reply
        && ((401..408).contains(&r) || (501..508).contains(&r))
    {
        return Some(Reason::SyntaxError);
    }
    if f.delayed {
        return Some(Reason::Expired);
    }
    if matches!(f.command, Some("EHLO" | "HELO")) {
        return Some(Reason::Blocked);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        status: Option<&'a str>,
        reply: Option<u16>,
        cmd: Option<&'a str>,
        d: &'a str,
    ) -> Facts<'a> {
        Facts {
            status,
            reply,
            command: cmd,
            diagnostic: d,
            ..Default::default()
        }
    }

    #[test]
    fn messagelabs_542_rejected_is_an_unknown_address() {
        let f = Facts {
            status: Some("5.0.0"),
            reply: Some(542),
            diagnostic: "Reason: 542 ann@example.test Rejected",
            local_host: "server-1.bemta-2.messagelabs.com",
            ..Default::default()
        };
        assert_eq!(decide(&f), Reason::UserUnknown);
        // Elsewhere the same words decide nothing of the kind.
        let f = Facts {
            local_host: "mx.example.test",
            ..f
        };
        assert_ne!(decide(&f), Reason::UserUnknown);
    }

    #[test]
    fn an_account_that_is_disabled_is_suspended() {
        assert_eq!(
            decide(&facts(None, None, None, "The user(s) account is disabled.")),
            Reason::Suspend
        );
    }

    #[test]
    fn common_reasons() {
        assert_eq!(
            decide(&facts(
                Some("5.1.1"),
                Some(550),
                Some("RCPT"),
                "550 5.1.1 <a@b.c>... User Unknown"
            )),
            Reason::UserUnknown
        );
        assert_eq!(
            decide(&facts(Some("5.2.2"), Some(552), None, "Mailbox full")),
            Reason::MailboxFull
        );
        assert_eq!(
            decide(&facts(
                Some("4.4.1"),
                None,
                None,
                "connect to x: Connection refused"
            )),
            Reason::Expired
        );
        assert_eq!(
            decide(&facts(
                Some("5.7.1"),
                Some(554),
                Some("RCPT"),
                "554 5.7.1 <a@b.c>: Relay access denied"
            )),
            Reason::NoRelaying
        );
        assert_eq!(decide(&facts(None, None, None, "")), Reason::Undefined);
        assert_eq!(
            decide(&facts(Some("5.0.0"), None, None, "some unknown thing")),
            Reason::OnHold
        );
    }

    /// "550 User unknown" under a generic 5.0.0 (Postfix relaying a Sendmail answer) or
    /// Microsoft's 5.1.10 is a mailbox that does not exist, not a filter.
    #[test]
    fn a_generic_status_lets_the_text_decide() {
        for (status, d) in [
            ("5.0.0", "550 User unknown"),
            ("5.0.0", "550 No such user here"),
            ("5.0.0", "550 Mailbox does not exist"),
            ("5.0.0", "550 Invalid recipient"),
            ("5.0.0", "550 unknown user account"),
            ("5.0.0", "550 5.0.0 <x@catchall.test>... User unknown"),
            (
                "5.0.0",
                "550 5.0.0 Requested action not taken: mailbox unavailable (no such user)",
            ),
            ("5.1.10", "550 5.1.10 Recipient not found"),
            (
                "5.1.10",
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            ),
        ] {
            let r = decide(&facts(Some(status), Some(550), None, d));
            assert_eq!(r, Reason::UserUnknown, "{status} {d}");
            assert!(is_hard(r, Some(status), Some(550), d), "{status} {d}");
        }
        // RFC 5321's stock 550 text alone, or with a block, names no missing mailbox: a
        // blocklisting must not suppress a whole batch for good.
        for d in [
            "550 5.0.0 Requested action not taken: mailbox unavailable",
            "550 5.0.0 Requested action not taken: mailbox unavailable (client host \
             203.0.113.5 blocked using zen.spamhaus.org)",
        ] {
            let r = decide(&facts(Some("5.0.0"), Some(550), None, d));
            assert_ne!(r, Reason::UserUnknown, "{d}");
            assert!(!is_hard(r, Some("5.0.0"), Some(550), d), "{d}: {r:?}");
        }
        // After DATA the same words may be a content filter's (Sisimai's reading), and a
        // 5.1.10 that says the domain takes no mail is RFC 7505's null MX.
        assert_eq!(
            decide(&facts(
                Some("5.0.0"),
                Some(550),
                Some("DATA"),
                "550 User unknown"
            )),
            Reason::Filtered
        );
        assert_eq!(
            decide(&facts(
                Some("5.1.10"),
                None,
                None,
                "host/domain does not accept mail"
            )),
            Reason::NotAccept
        );
    }

    #[test]
    fn hard_and_soft() {
        assert!(is_hard(Reason::UserUnknown, Some("5.1.1"), Some(550), ""));
        assert!(is_hard(Reason::HostUnknown, None, None, ""));
        assert!(!is_hard(Reason::MailboxFull, Some("5.2.2"), None, ""));
        assert!(is_hard(Reason::NotAccept, Some("5.1.10"), None, ""));
        assert!(!is_hard(Reason::NotAccept, Some("4.3.2"), None, ""));
        assert!(!is_hard(Reason::Blocked, Some("5.7.1"), None, ""));
        // Temporary by its class, whatever the wording: "450 4.1.1 User unknown in relay
        // recipient table" while Postfix's lookup table is down.
        assert!(!is_hard(Reason::UserUnknown, Some("4.1.1"), Some(450), ""));
        assert!(!is_hard(Reason::HostUnknown, None, Some(451), ""));
    }

    #[test]
    fn names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_name(r.as_str()), Some(*r));
        }
    }
}
