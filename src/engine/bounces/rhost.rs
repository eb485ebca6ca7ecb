//! Rules of big receiving providers: their documented error wording and codes mean a specific
//! reason, whatever the generic rules would say. Chosen by the recipient's domain, the remote MTA
//! or the reporting MTA. Wording from the providers' postmaster pages as collected by Sisimai.

use super::codes::{contains_any, is_status};
use super::reason::{Facts, Reason};
use Reason::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Provider {
    Aol,
    Apple,
    Cloudflare,
    Cox,
    Facebook,
    FrancePtt,
    GoDaddy,
    Google,
    GSuite,
    Iua,
    Kddi,
    MessageLabs,
    Microsoft,
    Mimecast,
    NttDocomo,
    Outlook,
    Spectrum,
    Tencent,
    YahooInc,
    Zoho,
}

const HOSTS: &[(Provider, &[&str])] = &[
    (Provider::Aol, &[".mail.aol.com", ".mx.aol.com"]),
    (
        Provider::Apple,
        &[".mail.icloud.com", ".apple.com", ".me.com"],
    ),
    (Provider::Cloudflare, &[".mx.cloudflare.net"]),
    (Provider::Cox, &["cox.net"]),
    (Provider::Facebook, &[".facebook.com"]),
    (
        Provider::FrancePtt,
        &[".laposte.net", ".orange.fr", ".wanadoo.fr"],
    ),
    (
        Provider::GoDaddy,
        &["smtp.secureserver.net", "mailstore1.secureserver.net"],
    ),
    (
        Provider::Google,
        &["aspmx.l.google.com", "gmail-smtp-in.l.google.com"],
    ),
    (Provider::GSuite, &["googlemail.com"]),
    (Provider::Iua, &[".email.ua"]),
    (Provider::Kddi, &[".ezweb.ne.jp", "msmx.au.com"]),
    (Provider::MessageLabs, &[".messagelabs.com"]),
    (
        Provider::Microsoft,
        &[
            ".prod.outlook.com",
            ".protection.outlook.com",
            ".onmicrosoft.com",
            ".exchangelabs.com",
        ],
    ),
    (Provider::Mimecast, &[".mimecast.com"]),
    (Provider::NttDocomo, &["mfsmax.docomo.ne.jp"]),
    (Provider::Outlook, &[".hotmail.com"]),
    (Provider::Spectrum, &["charter.net"]),
    (Provider::Tencent, &[".qq.com"]),
    (Provider::YahooInc, &[".yahoodns.net"]),
    (Provider::Zoho, &[".zoho.com", ".zohomail.com"]),
];

fn host_of(h: &str) -> String {
    let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
    let h = h.strip_prefix("dns;").unwrap_or(&h).trim().to_string();
    h.split([' ', '[', '('])
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string()
}

fn provider(f: &Facts) -> Option<Provider> {
    let domain = f.domain.to_ascii_lowercase();
    if !domain.is_empty() {
        for (p, pats) in HOSTS {
            // A provider's host pattern that ends with the recipient's domain ("aol.com" for
            // ".mail.aol.com"): the recipient is hosted there.
            if pats.iter().any(|pat| {
                pat.ends_with(&domain)
                    && (pat.len() == domain.len()
                        || pat.as_bytes()[pat.len() - domain.len() - 1] == b'.')
            }) {
                return Some(*p);
            }
        }
    }
    for host in [host_of(f.remote_host), host_of(f.local_host)] {
        if host.is_empty() {
            continue;
        }
        for (p, pats) in HOSTS {
            if pats.iter().any(|pat| host.ends_with(pat)) {
                return Some(*p);
            }
        }
    }
    // A provider's host named in the error text ("[XXX.prod.outlook.com ...]").
    let d = f.diagnostic.to_ascii_lowercase();
    for (p, pats) in HOSTS {
        if pats
            .iter()
            .any(|pat| pat.starts_with('.') && pat.len() > 10 && d.contains(pat))
        {
            return Some(*p);
        }
    }
    None
}

/// The provider's reason for this failure, if its rules decide one. `d` is the lower-cased text.
pub fn find(f: &Facts, d: &str) -> Option<Reason> {
    if d.is_empty() {
        return None;
    }
    match provider(f)? {
        Provider::Aol => words(
            d,
            &[
                (HostUnknown, &["host or domain name not found"]),
                (
                    NotAccept,
                    &["type=mx: malformed or unexpected name server reply"],
                ),
            ],
        ),
        Provider::Apple => words(
            d,
            &[
                (
                    AuthFailure,
                    &[
                        "s dmarc policy",
                        "blocked for failing both spf and dkim autentication checks",
                    ],
                ),
                (
                    Blocked,
                    &[
                        "rejected due to having a domain present in the spamhaus",
                        "rejected due to listing in spamhaus",
                        "blocked - see https://support.proofpoint.com/dnsbl-lookup",
                        "not accepting connections",
                    ],
                ),
                (HasMoved, &["recipient no longer on server"]),
                (MailboxFull, &["user is over quota"]),
                (NoRelaying, &["relay access denied"]),
                (NotAccept, &["host/domain does not accept mail"]),
                (PolicyViolation, &["due to local policy"]),
                (Rejected, &["sender address rejected"]),
                (Speeding, &["due to excessive volume"]),
                (
                    UserUnknown,
                    &[
                        "inactive email address",
                        "user does not exist",
                        "unknown or illegal alias",
                    ],
                ),
            ],
        ),
        Provider::Cloudflare => words(
            d,
            &[
                (Blocked, &["found on one or more dnsbls"]),
                (SystemError, &["upstream error"]),
            ],
        ),
        Provider::Cox => cox(d),
        Provider::Facebook => facebook(f.diagnostic),
        Provider::FrancePtt => france_ptt(d),
        Provider::GoDaddy => godaddy(f.diagnostic, d),
        Provider::Google => google(f, d),
        Provider::GSuite => gsuite(f, d),
        Provider::Iua => iua(d),
        Provider::Kddi => {
            if d.contains("550 : user unknown") {
                Some(Filtered)
            } else if d.contains(">: user unknown") {
                Some(UserUnknown)
            } else {
                None
            }
        }
        // MessageLabs' own answer for an unknown address: "542 <address> Rejected".
        Provider::MessageLabs if messagelabs_542(d) => Some(UserUnknown),
        Provider::MessageLabs => words(
            d,
            &[
                (AuthFailure, &["domain authentication fail"]),
                (BadReputation, &["connection rejected by policy"]),
                (
                    Blocked,
                    &[
                        "mail rejected because your ip is in the pbl",
                        "your ip address has been ",
                        "your ip address (ip-addr) has been blocked",
                        "your email address (addr) has been blocked",
                    ],
                ),
                (ContentError, &["stray linefeeds in message"]),
                (FailedStartTls, &["tls/sslv3 connection required"]),
                (NoRelaying, &[" as a relay, "]),
                (
                    NotCompliantRfc,
                    &[
                        "550 requested action aborted [4]",
                        "has detected that this message is not rfc 5322",
                    ],
                ),
                (
                    Rejected,
                    &[
                        "sender envelope domain not allowed for sender ip address",
                        "your domain has been blocked",
                        "your email address has been blocked",
                        "your envelope sender is in my badmailfrom list",
                        "your email address has been blacklisted",
                        "your domain has been blacklisted",
                    ],
                ),
                (
                    SecurityError,
                    &["please turn on smtp authentication in your mail client"],
                ),
                (
                    SpamDetected,
                    &["message filtered", "filtered by outbound scanning"],
                ),
                (
                    TooManyConn,
                    &[
                        "too many recipients received this hour",
                        "too many messages",
                    ],
                ),
                (
                    UserUnknown,
                    &[
                        "no such user",
                        "invalid recipient",
                        "mailbox is not allowed",
                        "recipient mailbox is not allowed",
                    ],
                ),
            ],
        ),
        Provider::Microsoft => microsoft(f, d),
        Provider::Mimecast => mimecast(f, d),
        Provider::NttDocomo => docomo(f, d),
        Provider::Outlook => words(
            d,
            &[
                (
                    HostUnknown,
                    &[
                        "the mail could not be delivered to the recipient because the domain is not reachable",
                    ],
                ),
                (
                    UserUnknown,
                    &["requested action not taken: mailbox unavailable"],
                ),
            ],
        ),
        Provider::Spectrum => spectrum(d),
        Provider::Tencent => words(
            d,
            &[
                (AuthFailure, &["spf check failed", "dmarc check failed"]),
                (
                    Blocked,
                    &[
                        "suspected bounce attacks",
                        "suspected spam ip",
                        "connection denied",
                    ],
                ),
                (MesgTooBig, &["message too large"]),
                (
                    Rejected,
                    &["suspected spam", "mail is rejected by recipients"],
                ),
                (
                    SpamDetected,
                    &["spam is embedded in the email", "mail content denied"],
                ),
                (
                    Speeding,
                    &[
                        "mailbox unavailable or access denined",
                        "frequency of receiving messages is limited",
                    ],
                ),
                (Suspend, &["is a deactivated mailbox"]),
                (SyntaxError, &["bad address syntax"]),
                (
                    TooManyConn,
                    &[
                        "ip frequency limited",
                        "domain frequency limited",
                        "sender frequency limited",
                        "connection frequency limited",
                    ],
                ),
                (UserUnknown, &["mailbox not found"]),
            ],
        ),
        Provider::YahooInc => words(
            d,
            &[
                (
                    AuthFailure,
                    &["yahoo requires all senders to authenticate with either spf or dkim"],
                ),
                (
                    Blocked,
                    &[
                        " because the ip is in spamhaus's list;",
                        "not accepted from ip addresses on spamhaus xbl",
                    ],
                ),
                (NoRelaying, &["relaying denied for "]),
                (NotCompliantRfc, &["headers are not rfc compliant"]),
                (PolicyViolation, &["not accepted for policy reasons"]),
                (
                    Rejected,
                    &[
                        "temporarily deferred due to unexpected volume or user complaints",
                        "due to unresolvable rfc.5321 domain",
                        " will be permanently deferred",
                    ],
                ),
                (Speeding, &["user is receiving mail too quickly"]),
                (
                    Suspend,
                    &[" is no longer valid.", "this mailbox is disabled"],
                ),
                (SyntaxError, &["syntax error in parameters or arguments"]),
                (TooManyConn, &["max message per connection reached"]),
                (
                    UserUnknown,
                    &["dd this user doesn't have a ", "mailbox not found"],
                ),
            ],
        ),
        Provider::Zoho => words(
            d,
            &[
                (AuthFailure, &["email rejected per dmarc policy"]),
                (Blocked, &["greylisted, try again after some time"]),
                (
                    Rejected,
                    &[
                        "email cannot be delivered. reason: email flagged as spam",
                        "mail rejected by destination domain",
                    ],
                ),
                (
                    PolicyViolation,
                    &[
                        "email policy violation detected",
                        "mailbox delivery restricted by policy error",
                    ],
                ),
                (SystemError, &["temporary system error"]),
                (UserUnknown, &["user does not exist"]),
                (VirusDetected, &[" detected by zoho mail"]),
            ],
        ),
    }
}

/// "542 kijitora@example.test rejected" (lower-cased): the reply code, the address, the word.
fn messagelabs_542(d: &str) -> bool {
    d.match_indices("542 ").any(|(i, _)| {
        let mut w = d[i + 4..].split_whitespace();
        w.next().is_some_and(|a| a.contains('@')) && w.next() == Some("rejected")
    })
}

fn words(d: &str, table: &[(Reason, &[&str])]) -> Option<Reason> {
    table
        .iter()
        .find(|(_, ws)| contains_any(d, ws))
        .map(|(r, _)| *r)
}

fn cox(d: &str) -> Option<Reason> {
    const CODES: &[(&str, Reason)] = &[
        ("cxbl", Blocked),
        ("cxdns", RequirePtr),
        ("cxsndr", AuthFailure),
        ("cxsmtp", Rejected),
        ("cxcnct", TooManyConn),
        ("cxmxrt", TooManyConn),
        ("cdrbl", Blocked),
        ("cxthrt", SecurityError),
        ("cxmj", SecurityError),
        ("urlbl", SpamDetected),
        ("ipbl", Blocked),
    ];
    if let Some(p) = d.find("aup#") {
        let code: String = d[p + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        for (k, r) in CODES {
            if code == *k || (matches!(*k, "urlbl" | "ipbl") && code.starts_with(k)) {
                return Some(*r);
            }
        }
    }
    words(
        d,
        &[
            (
                Blocked,
                &[
                    "cox too many bad commands from",
                    "too many invalid recipients",
                ],
            ),
            (
                RequirePtr,
                &["dns check failure - try again later", "rejected - no rdns"],
            ),
            (
                PolicyViolation,
                &[
                    "esmtp no data before greeting",
                    "attachment extension is forbidden",
                ],
            ),
            (Rejected, &["sender rejected"]),
            (SystemError, &["esmtp server temporarily not available"]),
            (
                TooManyConn,
                &[
                    "too many sessions from",
                    "requested action aborted: try again later",
                    "message threshold exceeded",
                ],
            ),
            (UserUnknown, &["recipient rejected"]),
        ],
    )
}

fn facebook(diag: &str) -> Option<Reason> {
    const CODES: &[(&str, Reason)] = &[
        ("POL-P7", AuthFailure),
        ("POL-P1", Blocked),
        ("POL-P2", Blocked),
        ("POL-P3", Blocked),
        ("POL-P4", Blocked),
        ("POL-T1", Blocked),
        ("POL-T2", Blocked),
        ("POL-T3", Blocked),
        ("MSG-P2", ContentError),
        ("RCP-P2", Filtered),
        ("RCP-P3", Filtered),
        ("MSG-P1", MesgTooBig),
        ("INT-P2", MesgTooBig),
        ("MSG-P3", NotCompliantRfc),
        ("DNS-P1", Rejected),
        ("DNS-P2", Rejected),
        ("DNS-T1", Rejected),
        ("DNS-P3", RequirePtr),
        ("DNS-T2", RequirePtr),
        ("POL-P6", SpamDetected),
        ("RCP-T4", Suspend),
        ("RCP-T1", SystemError),
        ("CON-T1", TooManyConn),
        ("CON-T2", TooManyConn),
        ("CON-T3", TooManyConn),
        ("CON-T4", TooManyConn),
        ("MSG-T1", TooManyConn),
        ("RCP-P1", UserUnknown),
        ("INT-P1", UserUnknown),
        ("INT-P3", UserUnknown),
        ("INT-P4", UserUnknown),
        ("POL-P5", VirusDetected),
    ];
    CODES
        .iter()
        .find(|(c, _)| diag.contains(c))
        .map(|(_, r)| *r)
}

fn france_ptt(d: &str) -> Option<Reason> {
    const CODES: &[(&str, Option<Reason>)] = &[
        ("101", Some(Blocked)),
        ("102", Some(Blocked)),
        ("103", Some(Blocked)),
        ("104", Some(TooManyConn)),
        ("105", None),
        ("107", None),
        ("108", None),
        ("109", None),
        ("201", None),
        ("305", Some(SecurityError)),
        ("401", Some(AuthFailure)),
        ("402", Some(SecurityError)),
        ("403", Some(Rejected)),
        ("405", Some(Rejected)),
        ("415", Some(Rejected)),
        ("416", Some(UserUnknown)),
        ("417", Some(MailboxFull)),
        ("420", Some(Suspend)),
        ("421", Some(Rejected)),
        ("423", None),
        ("424", None),
        ("426", Some(Suspend)),
        ("505", Some(SystemError)),
        ("506", Some(SpamDetected)),
        ("510", Some(Blocked)),
        ("513", None),
        ("514", Some(MesgTooBig)),
        ("517", Some(AuthFailure)),
        ("630", Some(PolicyViolation)),
        ("999", Some(Blocked)),
    ];
    let text = d.replace('_', "-");
    for label in ["lpnaaa", "lpn", "ofr", "ouk"] {
        if let Some(p) = text.rfind(label) {
            let rest = &text[p + label.len()..];
            let token: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            let digits: String = token.chars().filter(|c| c.is_ascii_digit()).collect();
            for (code, r) in CODES {
                if digits.ends_with(code) {
                    return *r;
                }
            }
            break;
        }
    }
    if d.contains("spf/dns de votre nom de domaine") {
        return Some(AuthFailure);
    }
    None
}

fn godaddy(diag: &str, d: &str) -> Option<Reason> {
    const CODES: &[(&str, Reason)] = &[
        ("IB401", SecurityError),
        ("IB501", NotCompliantRfc),
        ("IB502", NotCompliantRfc),
        ("IB506", Rejected),
        ("IB508", AuthFailure),
        ("IB108", RequirePtr),
        ("IB212", SpamDetected),
        ("IB705", VirusDetected),
        ("IB605", TooManyConn),
        ("IB007", TooManyConn),
        ("IB101", Speeding),
        ("IB110", Blocked),
        ("IB111", Blocked),
        ("IB112", Blocked),
        ("IB113", Blocked),
        ("IB504", Speeding),
        ("IB510", Speeding),
        ("IB607", Speeding),
        ("IB103", BadReputation),
        ("IB104", Blocked),
        ("IB105", Blocked),
        ("IB106", Blocked),
    ];
    if let Some((_, r)) = CODES.iter().find(|(c, _)| diag.contains(&format!(" {c}"))) {
        return Some(*r);
    }
    words(
        d,
        &[
            (Blocked, &["rbl reject", "www.spamhaus.org/query/bl?ip="]),
            (
                Expired,
                &["has been in the queue too long", "delivery timeout"],
            ),
            (MailboxFull, &["account storage limit"]),
            (
                SpamDetected,
                &["message rejected for spam or virus content"],
            ),
            (Suspend, &["account disabled"]),
            (SystemError, &["message is looping"]),
            (
                UserUnknown,
                &["recipient not found", "account does not exist"],
            ),
        ],
    )
}

/// Google: (reply, status, wording). Codes compare without their class digit.
fn google(f: &Facts, d: &str) -> Option<Reason> {
    let (Some(reply), Some(status)) = (f.reply, f.status) else {
        return None;
    };
    if !is_status(status) {
        return None;
    }
    const T: &[(Reason, u16, &str, &str)] = &[
        (
            AuthFailure,
            451,
            "4.7.24",
            "the spf record of the sending domain",
        ),
        (
            AuthFailure,
            550,
            "5.7.24",
            "the spf record of the sending domain",
        ),
        (
            AuthFailure,
            421,
            "4.7.26",
            "senders to authenticate with either spf or dkim",
        ),
        (
            AuthFailure,
            550,
            "5.7.26",
            "senders to authenticate with either spf or dkim",
        ),
        (
            AuthFailure,
            550,
            "5.7.26",
            "fails to pass spf checks for an spf record with a hard fail",
        ),
        (
            AuthFailure,
            550,
            "5.7.26",
            "has an spf record with a hard fail policy",
        ),
        (
            AuthFailure,
            451,
            "4.7.26",
            "is not accepted due to domain's dmarc policy",
        ),
        (
            AuthFailure,
            550,
            "5.7.26",
            "is not accepted due to domain's dmarc policy",
        ),
        (
            AuthFailure,
            550,
            "5.7.1",
            "fails to pass authentication checks",
        ),
        (
            AuthFailure,
            550,
            "5.7.26",
            "fails to pass authentication checks",
        ),
        (
            AuthFailure,
            421,
            "4.7.27",
            "senders to authenticate with spf",
        ),
        (
            AuthFailure,
            421,
            "4.7.27",
            "senders to authenticate their email with spf",
        ),
        (
            AuthFailure,
            550,
            "5.7.27",
            "senders to authenticate with spf",
        ),
        (
            AuthFailure,
            421,
            "4.7.30",
            "senders to authenticate their email with dkim",
        ),
        (
            AuthFailure,
            550,
            "5.7.30",
            "senders to authenticate with dkim",
        ),
        (
            AuthFailure,
            421,
            "4.7.32",
            "aligned with either the authenticated spf or dkim",
        ),
        (AuthFailure, 421, "4.7.40", "to add a dmarc record to "),
        (
            BadReputation,
            421,
            "4.7.0",
            "very low reputation of the sending ip address",
        ),
        (
            BadReputation,
            421,
            "4.7.0",
            "very low reputation of the sending domain",
        ),
        (
            BadReputation,
            550,
            "5.7.1",
            "due to the very low reputation of the sending ip address",
        ),
        (
            BadReputation,
            550,
            "5.7.1",
            "due to the very low reputation of the sending domain",
        ),
        (Blocked, 421, "4.7.0", "ip not in whitelist for rcpt domain"),
        (
            Blocked,
            421,
            "4.7.0",
            "try again later, closing connection.",
        ),
        (
            Blocked,
            501,
            "5.5.4",
            "empty helo/ehlo argument not allowed",
        ),
        (Blocked, 501, "5.5.4", "helo/ehlo argument is invalid"),
        (Blocked, 421, "4.7.0", "an unusual rate of unsolicited mail"),
        (Blocked, 421, "4.7.28", "an unusual rate of mail"),
        (Blocked, 550, "5.7.1", "an unusual rate of unsolicited mail"),
        (
            Blocked,
            550,
            "5.7.28",
            "an unusual rate of unsolicited mail",
        ),
        (
            ExceedLimit,
            552,
            "5.2.3",
            "exceeded google's message size limits",
        ),
        (
            ExceedLimit,
            552,
            "5.3.4",
            "exceeds google's limit of limit attachments.",
        ),
        (
            ExceedLimit,
            552,
            "5.3.4",
            "your message exceeded google's message header size limits",
        ),
        (
            ExceedLimit,
            552,
            "5.3.4",
            "bytes per individual header size",
        ),
        (Expired, 421, "4.7.0", "connection expired"),
        (Expired, 451, "4.4.2", "timeout - closing connection"),
        (
            FailedStartTls,
            530,
            "5.7.0",
            "must issue a starttls command first",
        ),
        (FailedStartTls, 454, "5.5.1", "starttls may not be repeated"),
        (FailedStartTls, 421, "4.7.0", "tls required for rcpt domain"),
        (
            FailedStartTls,
            421,
            "4.7.29",
            "senders to use tls/ssl for smtp",
        ),
        (MailboxFull, 452, "4.2.2", "inbox is out of storage space"),
        (
            MailboxFull,
            552,
            "5.2.2",
            "inbox is out of storage space and inactive",
        ),
        (MailboxFull, 452, "4.2.2", "is over quota"),
        (MailboxFull, 552, "5.2.2", "is over quota"),
        (MailboxFull, 550, "5.7.1", "email quota exceeded"),
        (
            MesgTooBig,
            552,
            "5.3.4",
            "exceeded google's message size limits",
        ),
        (
            MesgTooBig,
            552,
            "5.3.4",
            "exceeds google's message size limit of",
        ),
        (NetworkError, 554, "5.4.6", "message exceeded 50 hops"),
        (NetworkError, 554, "5.6.0", "message exceeded 50 hops"),
        (NoRelaying, 550, "5.7.0", "mail relay denied"),
        (NoRelaying, 550, "5.7.1", "invalid credentials for relay"),
        (
            NoRelaying,
            550,
            "5.7.1",
            "is not authorized to send email directly to our servers",
        ),
        (
            NotCompliantRfc,
            550,
            "5.7.1",
            "missing a valid address in the from: header",
        ),
        (
            NotCompliantRfc,
            550,
            "5.7.1",
            "multiple addresses in from: header are not accepted",
        ),
        (NotCompliantRfc, 550, "5.7.1", "is not rfc 5322 compliant"),
        (
            NotCompliantRfc,
            550,
            "5.7.1",
            "missing a valid message-id: header",
        ),
        (
            NotCompliantRfc,
            550,
            "5.7.1",
            "contains a unicode character in a disallowed header",
        ),
        (
            NotCompliantRfc,
            550,
            "5.7.1",
            "encoded-word syntax is not permitted",
        ),
        (
            NotCompliantRfc,
            553,
            "5.1.7",
            "is not a valid rfc 5321 address",
        ),
        (NotCompliantRfc, 554, "5.6.0", "mail message is malformed"),
        (
            PolicyViolation,
            552,
            "5.7.0",
            "illegal attachment on your message",
        ),
        (
            PolicyViolation,
            552,
            "5.7.0",
            "blocked because its content presents a potential security issue",
        ),
        (
            PolicyViolation,
            550,
            "5.7.1",
            "you are sending to (or from) has a policy that prohibited",
        ),
        (
            PolicyViolation,
            421,
            "4.7.28",
            "sending messages with the same message-id:",
        ),
        (Rejected, 550, "5.7.0", "mail sending denied"),
        (
            Rejected,
            550,
            "5.7.1",
            "unauthenticated email is not accepted",
        ),
        (RequirePtr, 421, "4.7.0", "does not have a ptr record"),
        (
            RequirePtr,
            421,
            "4.7.23",
            " have a ptr record, or the ptr record",
        ),
        (
            RequirePtr,
            550,
            "5.7.1",
            "does not meet ipv6 sending guidelines regarding ptr records and authentication",
        ),
        (RequirePtr, 550, "5.7.25", "does not have a ptr record"),
        (
            RequirePtr,
            550,
            "5.7.25",
            "does not match the ip address of the hostname",
        ),
        (SecurityError, 454, "4.7.0", "too many login attempts"),
        (SecurityError, 503, "5.7.0", "no identity changes permitted"),
        (SecurityError, 530, "5.5.1", "authentication required."),
        (SecurityError, 530, "5.7.0", "authentication required."),
        (
            SecurityError,
            535,
            "5.7.1",
            "application-specific password required",
        ),
        (
            SecurityError,
            535,
            "5.7.1",
            "please log in with your web browser",
        ),
        (
            SecurityError,
            534,
            "5.7.14",
            "please log in through your web browser",
        ),
        (
            SecurityError,
            535,
            "5.7.1",
            "username and password not accepted",
        ),
        (
            SecurityError,
            535,
            "5.7.8",
            "username and password not accepted",
        ),
        (
            SpamDetected,
            421,
            "4.7.0",
            "due to the nature of the content or the links within",
        ),
        (SpamDetected, 550, "5.7.1", "likely unsolicited mail"),
        (Speeding, 450, "4.2.1", "is receiving mail too quickly"),
        (
            Speeding,
            450,
            "4.2.1",
            "peak smtp relay limit exceeded for customer",
        ),
        (
            Speeding,
            450,
            "4.2.1",
            "rate that prevents additional messages from being delivered",
        ),
        (
            Speeding,
            550,
            "5.2.1",
            "rate that prevents additional messages from being delivered",
        ),
        (Speeding, 550, "5.4.5", "daily sending quota exceeded"),
        (Speeding, 550, "5.4.5", "daily user sending limit exceeded"),
        (
            Speeding,
            550,
            "5.4.5",
            "daily smtp relay limit exceeded for",
        ),
        (
            Speeding,
            550,
            "5.7.1",
            "daily smtp relay limit exceeded for",
        ),
        (Speeding, 550, "5.7.1", "this mail has been rate limited"),
        (
            Suspend,
            550,
            "5.2.1",
            "account that you tried to reach is disabled",
        ),
        (
            Suspend,
            550,
            "5.2.1",
            "account that you tried to reach is inactive",
        ),
        (SyntaxError, 451, "4.5.0", "smtp protocol violation"),
        (SyntaxError, 454, "4.5.0", "smtp protocol violation"),
        (SyntaxError, 525, "5.7.10", "smtp protocol violation"),
        (SyntaxError, 501, "5.7.11", "syntax error"),
        (SyntaxError, 501, "5.5.2", "syntax error"),
        (SyntaxError, 555, "5.5.2", "syntax error"),
        (SyntaxError, 502, "5.5.1", "unrecognized command"),
        (SyntaxError, 503, "5.5.1", "bad sequence of commands"),
        (SyntaxError, 503, "5.5.1", "ehlo/helo first"),
        (SyntaxError, 503, "5.5.1", "mail first"),
        (SyntaxError, 503, "5.5.1", "rcpt first"),
        (
            SyntaxError,
            504,
            "5.7.4",
            "unrecognized authentication type",
        ),
        (
            SyntaxError,
            554,
            "5.7.0",
            "too many unauthenticated commands",
        ),
        (SystemError, 421, "4.3.0", "temporary system problem"),
        (SystemError, 421, "4.7.0", "temporary system problem"),
        (SystemError, 421, "4.4.5", "server busy"),
        (
            SystemError,
            451,
            "4.3.0",
            "multiple destination domains per transaction is unsupported",
        ),
        (
            SystemError,
            451,
            "4.3.0",
            "mail server has temporarily rejected this message",
        ),
        (
            SystemError,
            451,
            "4.3.0",
            "mail server temporarily rejected message",
        ),
        (
            SystemError,
            452,
            "4.5.3",
            "domain policy size per transaction exceeded",
        ),
        (
            SystemError,
            454,
            "4.7.0",
            "cannot authenticate due to temporary system problem",
        ),
        (
            TooManyConn,
            452,
            "4.5.3",
            "your message has too many recipients",
        ),
        (
            TooManyConn,
            550,
            "5.5.3",
            "too many recipients for this sender",
        ),
        (
            UserUnknown,
            550,
            "5.1.1",
            "the email account that you tried to reach does not exist",
        ),
        (
            UserUnknown,
            553,
            "5.1.2",
            "we weren't able to find the recipient domain",
        ),
        (UserUnknown, 553, "5.1.3", "is not a valid rfc 5321 address"),
    ];
    let tail = &status[1..];
    for (r, rc, st, w) in T {
        if rc % 100 == reply % 100 && &st[1..] == tail && d.contains(w) {
            return Some(*r);
        }
    }
    None
}

fn gsuite(f: &Facts, d: &str) -> Option<Reason> {
    let s = f.status.and_then(|s| s.bytes().next());
    let r = f.reply.map(|r| (r / 100) as u8 + b'0');
    if d.contains("because the address couldn't be found. check for typos or unnecessary spaces and try again.") {
        return Some(UserUnknown);
    }
    if d.contains("null mx") {
        return Some(NotAccept);
    }
    let dns = d.contains(" responded with code nxdomain") || d.contains("domain name not found");
    if dns && s == Some(b'5') && r == Some(b'5') {
        return Some(HostUnknown);
    }
    if (dns || d.contains(" had no relevant answers.")) && s != Some(b'5') && r != Some(b'5') {
        return Some(NetworkError);
    }
    None
}

fn iua(d: &str) -> Option<Reason> {
    let p = d.find(".i.ua/err/")?;
    let code: String = d[p + 10..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    Some(match code.as_str() {
        "1" | "6" => NoRelaying,
        "2" => UserUnknown,
        "3" => Suspend,
        "4" => MailboxFull,
        "5" => TooManyConn,
        "7" | "9" => Blocked,
        "8" => Rejected,
        "10" => Filtered,
        _ => return None,
    })
}

fn docomo(f: &Facts, d: &str) -> Option<Reason> {
    match f.status {
        Some("5.1.1") => return Some(UserUnknown),
        Some("5.2.0") => return Some(Filtered),
        Some("5.0.0") if f.command == Some("DATA") => return Some(Rejected),
        _ => {}
    }
    if let Some(r) = words(
        d,
        &[
            (MailboxFull, &["552 too much mail data"]),
            (
                SyntaxError,
                &[
                    "503 bad sequence of commands",
                    "504 command parameter not implemented",
                ],
            ),
            (TooManyConn, &["552 too many recipients"]),
            (UserUnknown, &["550 unknown user"]),
        ],
    ) {
        return Some(r);
    }
    if f.status == Some("5.0.0") {
        return match f.command {
            Some("RCPT") => Some(UserUnknown),
            Some("DATA") => Some(Rejected),
            _ => None,
        };
    }
    None
}

fn spectrum(d: &str) -> Option<Reason> {
    let p = d.find("aup#")?;
    let digits: String = d[p + 4..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    if digits.len() != 4 {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    Some(match n {
        1000 => Blocked,
        1010 => Rejected,
        1020..=1080 => Rejected,
        1090 => SystemError,
        1100..=1150 => RequirePtr,
        1160..=1190 => PolicyViolation,
        1200..=1250 => Blocked,
        1260 => NetworkError,
        1300..=1340 => TooManyConn,
        1350..=1490 => Speeding,
        1500 | 1520 => Rejected,
        1530 => MesgTooBig,
        1540 | 1550 | 1580 => Speeding,
        1560 => PolicyViolation,
        _ => return None,
    })
}

fn mimecast(f: &Facts, d: &str) -> Option<Reason> {
    let reply = f.reply?;
    const T: &[(Reason, u16, &str)] = &[
        (AuthFailure, 550, "spf sender invalid - envelope rejected"),
        (AuthFailure, 550, "dkim sender invalid - envelope rejected"),
        (AuthFailure, 550, "dmarc sender invalid - envelope rejected"),
        (
            BadReputation,
            451,
            "internal resources are temporarily unavailable",
        ),
        (BadReputation, 550, "local ct ip reputation - (reject)"),
        (Blocked, 421, "sender address blocked"),
        (Blocked, 451, "recipient temporarily unavailable"),
        (Blocked, 451, "ip temporarily blacklisted"),
        (Expired, 550, "journal messages past the expiration"),
        (FailedStartTls, 553, "this route requires encryption (tls)"),
        (
            FailedStartTls,
            553,
            "this route requires tls version 1.2 or greater",
        ),
        (
            FailedStartTls,
            553,
            "this route requires high-strength ciphers",
        ),
        (
            FailedStartTls,
            554,
            "configuration is invalid for this certificate",
        ),
        (MesgTooBig, 554, "maximum email size exceeded"),
        (
            NetworkError,
            451,
            "the incorrect hostname used for inbounds",
        ),
        (
            NetworkError,
            550,
            "the incorrect hostname used for inbounds",
        ),
        (NetworkError, 554, "mail loop detected"),
        (NoRelaying, 451, "open relay not allowed"),
        (NoRelaying, 451, "open relay is not allowed"),
        (NotAccept, 451, "account inbounds disabled"),
        (OnHold, 451, "account outbounds disabled"),
        (OnHold, 451, "hostname is not authorized"),
        (OnHold, 550, "journal message past expiration"),
        (
            PolicyViolation,
            550,
            "anti-spoofing policy - inbound not allowed",
        ),
        (
            PolicyViolation,
            550,
            "rejected by header-based anti-spoofing policy",
        ),
        (
            PolicyViolation,
            550,
            "message bounced due to content examination policy",
        ),
        (PolicyViolation, 554, "host network not allowed"),
        (PolicyViolation, 554, "host network, not allowed"),
        (Rejected, 550, "administrative prohibition envelope blocked"),
        (Rejected, 550, "envelope blocked - user entry"),
        (Rejected, 550, "envelope blocked - user domain entry"),
        (
            Rejected,
            550,
            "rejected by header-based manually blocked senders - block for manual block",
        ),
        (
            Rejected,
            550,
            "rejected by header-based blocked senders - block policy for header from",
        ),
        (
            Rejected,
            550,
            "envelope rejected - block policy for envelope from address",
        ),
        (SecurityError, 535, "incorrect authentication data"),
        (SecurityError, 550, "submitter failed to disabled"),
        (SecurityError, 550, "submitter failed to authenticate"),
        (
            SystemError,
            451,
            "unable to process connection at this time",
        ),
        (SystemError, 451, "message ended early"),
        (SystemError, 451, "unable to process command"),
        (SystemError, 451, "unable to process an email at this time"),
        (
            TooManyConn,
            451,
            "account service is temporarily unavailable",
        ),
        (TooManyConn, 452, "too many recipients"),
        (TooManyConn, 550, "exceeding outbound thread limit"),
        (UserUnknown, 501, "invalid address"),
        (UserUnknown, 503, "user unknown"),
        (UserUnknown, 550, "invalid recipient"),
        (
            VirusDetected,
            554,
            "email rejected due to security policies",
        ),
    ];
    T.iter()
        .find(|(_, rc, w)| *rc == reply && d.contains(w))
        .map(|(r, _, _)| *r)
}

/// Microsoft: (status or status prefix, detail range, wording).
fn microsoft(f: &Facts, d: &str) -> Option<Reason> {
    let status = f.status?;
    if !is_status(status) {
        return None;
    }
    let detail: u32 = status.rsplit('.').next()?.parse().ok()?;
    const T: &[(Reason, &str, u32, u32, &str)] = &[
        (
            AuthFailure,
            "4.7.26",
            0,
            0,
            "must pass either spf or dkim validation, this message is not signed",
        ),
        (
            AuthFailure,
            "5.7.23",
            0,
            0,
            "the message was rejected because of sender policy framework violation",
        ),
        (
            AuthFailure,
            "5.7.509",
            0,
            0,
            "does not pass dmarc verification",
        ),
        (
            AuthFailure,
            "5.7.515",
            0,
            0,
            "doesn't meet the required authentication level",
        ),
        (
            BadReputation,
            "4.7.650",
            0,
            0,
            "has been temporarily rate limited due to ip reputation",
        ),
        (Blocked, "4.4.2", 0, 0, "connection dropped"),
        (
            Blocked,
            "4.7.",
            850,
            899,
            "access denied, please try again later",
        ),
        (Blocked, "5.7.25", 0, 0, "must have a reverse dns record"),
        (Blocked, "5.7.506", 0, 0, "access denied, bad helo"),
        (
            Blocked,
            "5.7.507",
            0,
            0,
            "access denied, rejected by recipient",
        ),
        (Blocked, "5.7.510", 0, 0, "does not accept email over ipv6"),
        (Blocked, "5.7.511", 0, 0, "access denied, banned sender"),
        (Blocked, "5.7.513", 0, 0, "using customer block list"),
        (
            Blocked,
            "5.7.",
            606,
            649,
            "access denied, banned sending ip ",
        ),
        (
            Blocked,
            "4.7.",
            500,
            699,
            "access denied, please try again later",
        ),
        (Blocked, "5.5.4", 0, 0, "invalid domain name"),
        (
            Blocked,
            "5.7.1",
            0,
            0,
            "part of their network is on our block list (s3150)",
        ),
        (ContentError, "5.3.0", 0, 0, "too many related errors"),
        (ContentError, "5.6.11", 0, 0, "invalid characters"),
        (
            ContentError,
            "5.4.11",
            0,
            0,
            "agent generated message depth exceeded",
        ),
        (ContentError, "5.5.6", 0, 0, "invalid message content"),
        (
            MesgTooBig,
            "5.2.3",
            0,
            0,
            "resolver.rst.recipsizelimit; message too large for this recipient",
        ),
        (
            MesgTooBig,
            "5.3.4",
            0,
            0,
            "message size exceeds fixed maximum message size",
        ),
        (MesgTooBig, "5.3.4", 0, 0, "message too big for system"),
        (Expired, "4.4.1", 0, 0, "connection timed out"),
        (Expired, "4.4.7", 0, 0, "message delayed"),
        (Expired, "4.4.7", 0, 0, "queue expired; message expired"),
        (Expired, "4.4.7", 0, 0, "message expired"),
        (Expired, "5.4.300", 0, 0, "message expired"),
        (Expired, "5.4.316", 0, 0, "message expired"),
        (FailedStartTls, "4.4.8", 0, 0, " failed mta-sts validation"),
        (FailedStartTls, "5.4.8", 0, 0, " failed mta-sts validation"),
        (
            FailedStartTls,
            "4.4.317",
            0,
            0,
            "starttls is required to send mail",
        ),
        (
            FailedStartTls,
            "5.4.317",
            0,
            0,
            "starttls is required to send mail",
        ),
        (
            FailedStartTls,
            "4.7.5",
            0,
            0,
            "remote certificate failed mta-sts validation",
        ),
        (
            FailedStartTls,
            "5.7.5",
            0,
            0,
            "remote certificate failed mta-sts validation",
        ),
        (FailedStartTls, "4.7.321", 0, 0, "starttls-not-supported:"),
        (FailedStartTls, "5.7.321", 0, 0, "starttls-not-supported:"),
        (FailedStartTls, "5.7.322", 0, 0, "certificate-expired:"),
        (MailboxFull, "5.2.2", 0, 0, "mailbox full"),
        (
            NetworkError,
            "5.4.4",
            0,
            0,
            "smtpsend.dns.nonexistentdomain; nonexistent domain",
        ),
        (
            NetworkError,
            "5.4.6",
            0,
            0,
            "hop count exceeded - possible mail loop",
        ),
        (NetworkError, "4.4.312", 0, 0, "dns query failed"),
        (NetworkError, "5.4.312", 0, 0, "dns query failed"),
        (NetworkError, "4.4.316", 0, 0, "connection refused"),
        (NetworkError, "5.4.316", 0, 0, "connection refused"),
        (NetworkError, "5.4.4", 0, 0, "invalid arguments"),
        (NetworkError, "5.4.6", 0, 0, "routing loop detected"),
        (NetworkError, "5.4.14", 0, 0, "routing loop detected"),
        (NoRelaying, "5.7.1", 0, 0, "unable to relay"),
        (NoRelaying, "5.7.1", 0, 0, "client was not authenticated"),
        (NoRelaying, "5.4.1", 0, 0, "relay access denied"),
        (
            NoRelaying,
            "5.7.64",
            0,
            0,
            "tenantattribution; relay access denied",
        ),
        (NoRelaying, "5.4.310", 0, 0, "does not exist"),
        (
            NotAccept,
            "4.3.2",
            0,
            0,
            "system not accepting network messages",
        ),
        (
            NotAccept,
            "4.4.4",
            0,
            0,
            "hosted tenant which has no mail-enabled subscriptions",
        ),
        (
            NotAccept,
            "5.3.2",
            0,
            0,
            "storedrv.deliver: missing or bad storedriver mdb properties",
        ),
        (
            PolicyViolation,
            "5.0.350",
            0,
            0,
            "x-dg-ref header is too long",
        ),
        (
            PolicyViolation,
            "5.0.350",
            0,
            0,
            "requested action not taken: policy violation detected (as345)",
        ),
        (
            PolicyViolation,
            "5.7.",
            900,
            999,
            "delivery not authorized, message refused",
        ),
        (Rejected, "5.1.7", 0, 0, "invalid address"),
        (Rejected, "5.1.7", 0, 0, "unknown sender address"),
        (Rejected, "5.1.0", 0, 0, "sender denied"),
        (
            Rejected,
            "5.1.8",
            0,
            0,
            "access denied, bad outbound sender",
        ),
        (Rejected, "5.7.1", 0, 0, "delivery not authorized"),
        (
            Rejected,
            "5.7.12",
            0,
            0,
            "sender was not authenticated by organization",
        ),
        (
            Rejected,
            "5.7.124",
            0,
            0,
            "sender not in allowed-senders list",
        ),
        (
            Rejected,
            "5.7.133",
            0,
            0,
            "sender not authenticated for group",
        ),
        (
            Rejected,
            "5.7.134",
            0,
            0,
            "sender was not authenticated for mailbox",
        ),
        (
            Rejected,
            "5.7.13",
            0,
            0,
            "sender was not authenticated for public folder",
        ),
        (
            Rejected,
            "5.7.135",
            0,
            0,
            "sender was not authenticated for public folder",
        ),
        (Rejected, "5.7.136", 0, 0, "sender was not authenticated"),
        (
            Rejected,
            "5.7.",
            501,
            503,
            "access denied, spam abuse detected",
        ),
        (
            Rejected,
            "5.7.512",
            0,
            0,
            "access denied, message must be rfc 5322 section 3.6.2 compliant",
        ),
        (
            Rejected,
            "5.7.750",
            0,
            0,
            "service unavailable. client blocked from sending from unregistered domains",
        ),
        (Rejected, "5.7.", 501, 503, "access denied, banned sender"),
        (
            SecurityError,
            "5.7.3",
            0,
            0,
            "cannot achieve exchange server authentication",
        ),
        (SecurityError, "5.7.3", 0, 0, "not authorized"),
        (
            SecurityError,
            "5.7.57",
            0,
            0,
            "client was not authenticated to send anonymous mail during mail from",
        ),
        (
            SpamDetected,
            "5.2.1",
            0,
            0,
            "content filter agent quarantined this message",
        ),
        (TooManyConn, "5.5.3", 0, 0, "too many recipients"),
        (
            TooManyConn,
            "4.3.2",
            0,
            0,
            "storedrv.deliver; recipient thread limit exceeded",
        ),
        (TooManyConn, "4.5.3", 0, 0, "too many recipients"),
        (
            TooManyConn,
            "4.7.652",
            0,
            0,
            "has exceeded the maximum number of connections",
        ),
        (
            Speeding,
            "5.1.90",
            0,
            0,
            "reached your daily limit for message recipients",
        ),
        (Speeding, "5.2.2", 0, 0, "submission quota exceeded"),
        (
            Speeding,
            "5.2.121",
            0,
            0,
            "recipient's per hour message receive limit",
        ),
        (
            Speeding,
            "5.2.122",
            0,
            0,
            "recipient's per hour message receive limit",
        ),
        (
            Speeding,
            "5.2.122",
            0,
            0,
            "the recipient has exceeded their limit for",
        ),
        (
            Speeding,
            "5.7.508",
            0,
            0,
            "has exceeded permitted limits within",
        ),
        (Speeding, "5.7.", 700, 749, "tenant has exceeded threshold"),
        (
            Speeding,
            "5.7.",
            700,
            749,
            "traffic not accepted from this ip",
        ),
        (
            Suspend,
            "5.7.504",
            0,
            0,
            "recipient address rejected: access denied",
        ),
        (Suspend, "5.7.505", 0, 0, "access denied, banned recipient"),
        (Suspend, "5.2.1", 0, 0, "mailbox cannot be accessed"),
        (SyntaxError, "5.3.3", 0, 0, "unrecognized command"),
        (SyntaxError, "5.5.2", 0, 0, "send hello first"),
        (SystemError, "4.3.2", 0, 0, "service not available"),
        (SystemError, "4.3.2", 0, 0, "service not active"),
        (SystemError, "5.3.5", 0, 0, "system incorrectly configured"),
        (
            SystemError,
            "5.3.190",
            0,
            0,
            "when journaling archive is disabled",
        ),
        (
            SystemError,
            "5.0.0",
            0,
            0,
            "helo / ehlo requires domain address",
        ),
        (
            SystemError,
            "5.1.4",
            0,
            0,
            "destination mailbox address ambiguous",
        ),
        (SystemError, "5.2.4", 0, 0, "mailing list expansion problem"),
        (
            SystemError,
            "5.2.14",
            0,
            0,
            "misconfigured forwarding address",
        ),
        (
            SystemError,
            "4.4.",
            22,
            28,
            "message failed to be replicated:",
        ),
        (
            SystemError,
            "4.4.3",
            0,
            0,
            "temporary server error. please try again later attr18",
        ),
        (
            SystemError,
            "4.7.0",
            0,
            0,
            "temporary server error. please try again later. prx4 nexthop:",
        ),
        (
            SystemError,
            "4.4.318",
            0,
            0,
            "(suspiciousremoteservererror)",
        ),
        (
            SystemError,
            "5.4.318",
            0,
            0,
            "(suspiciousremoteservererror)",
        ),
        (
            SystemError,
            "4.7.500",
            0,
            0,
            "server busy. please try again later from ",
        ),
        (
            SystemError,
            "4.7.700",
            0,
            0,
            "pfa agent busy, please try again.",
        ),
        (SystemFull, "4.3.1", 0, 0, "insufficient system resources"),
        (
            UserUnknown,
            "5.1.1",
            0,
            0,
            "resolver.adr.exrecipnotfound; not found",
        ),
        (UserUnknown, "5.1.1", 0, 0, "user unknown"),
        (
            UserUnknown,
            "5.1.3",
            0,
            0,
            "storedrv.submit; invalid recipient address",
        ),
        (
            UserUnknown,
            "5.1.",
            4,
            5,
            "recipient address reserved by rfc 2606",
        ),
        (
            UserUnknown,
            "5.1.6",
            0,
            0,
            "recipient addresses in single label domains not accepted",
        ),
        (
            UserUnknown,
            "5.1.1",
            0,
            0,
            "bad destination mailbox address",
        ),
        (UserUnknown, "5.1.10", 0, 0, "recipient not found"),
        (
            UserUnknown,
            "5.4.1",
            0,
            0,
            "recipient address rejected: access denied",
        ),
        (
            UserUnknown,
            "5.5.0",
            0,
            0,
            "requested action not taken: mailbox unavailable",
        ),
        (UserUnknown, "5.1.2", 0, 0, "invalid x.400 address"),
        (
            UserUnknown,
            "5.1.351",
            0,
            0,
            "remote server returned unknown recipient or mailbox unavailable",
        ),
    ];
    for (r, code, lo, hi, w) in T {
        let hit = if lo == hi {
            status == *code
        } else {
            status.starts_with(code) && (*lo..=*hi).contains(&detail)
        };
        if hit && d.contains(w) {
            return Some(*r);
        }
    }
    const CODES: &[(&str, u16, Reason)] = &[
        ("RP-001", 421, BadReputation),
        ("RP-002", 421, BadReputation),
        ("RP-003", 421, BadReputation),
        ("SC-001", 550, BadReputation),
        ("SC-002", 550, PolicyViolation),
        ("SC-003", 550, Blocked),
        ("SC-004", 550, Blocked),
        ("DY-001", 550, Blocked),
        ("DY-002", 550, VirusDetected),
        ("OU-001", 550, Blocked),
        ("OU-002", 550, BadReputation),
    ];
    CODES
        .iter()
        .find(|(c, rc, _)| f.diagnostic.contains(c) && f.reply == Some(*rc))
        .map(|(_, _, r)| *r)
}
