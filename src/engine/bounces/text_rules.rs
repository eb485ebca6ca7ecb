//! Reasons that the wording of particular MTAs' notices tells outright (qmail, Gmail, Google
//! Groups, DragonFly, OpenSMTPD, Exchange, Domino/Notes, Courier, …), before the generic rules
//! look at codes. The phrases are those MTAs' own messages (their sources, as collected by
//! Sisimai); the MTA is recognised by its notice, not by any file name.

use super::codes::{aligned, contains_any};
use super::mime::Flat;
use super::reason::Reason::{self, *};

/// What the notice's format tells about one recipient.
#[derive(Debug, Default, Clone, Copy)]
pub struct Preset {
    pub reason: Option<Reason>,
    pub command: Option<&'static str>,
}

fn first(s: Option<&str>) -> String {
    s.unwrap_or("").to_string()
}

fn is_qmail(flat: &Flat) -> bool {
    let subject = first(flat.header("subject"));
    subject.eq_ignore_ascii_case("failure notice")
        || flat
            .headers_named("received")
            .any(|r| r.contains("(qmail "))
        || contains_any(
            &flat.notice,
            &[
                "Hi. This is the qmail",
                "This is the qmail-send program",
                "--- Below this line is a copy of the message",
                "Sorry, we were unable to deliver your message to the following address",
            ],
        )
}

fn is_exim(flat: &Flat) -> bool {
    let mut score = 0;
    if first(flat.header("from")).contains("Mail Delivery System") {
        score += 1;
    }
    let subject = first(flat.header("subject"));
    if contains_any(
        &subject,
        &[
            "Delivery Status Notification",
            "Mail delivery failed",
            "Mail failure",
            "Message frozen",
            "Warning: message ",
            "error(s) in forwarding or filtering",
        ],
    ) {
        score += 1;
    }
    // Exim's Message-ID: <E1P1YNN-0003AD-Ga@example.org>
    let id = first(flat.header("message-id"));
    if id.find('<') == Some(0) && id.find('-') == Some(8) && id.find('@') == Some(18) {
        score += 1;
    }
    let mxlogic = flat.header("x-mx-bounce").is_some()
        || flat.header("x-mxl-hash").is_some()
        || flat.header("x-mxl-notehash").is_some()
        || id.contains("<mxl~");
    (score >= 2 || mxlogic) && !flat.notice.contains("DragonFly Mail Agent")
}

fn is_gmail(flat: &Flat) -> bool {
    first(flat.header("from"))
        .to_ascii_lowercase()
        .contains("mailer-daemon@googlemail.com")
        && first(flat.header("subject")).contains("Delivery Status Notification")
}

/// Find `key` and return the words up to `end` after it.
fn select<'a>(text: &'a str, key: &str, end: &str) -> Option<&'a str> {
    let p = text.find(key)? + key.len();
    let rest = &text[p..];
    let q = rest.find(end)?;
    Some(&rest[..q])
}

/// The MTA whose notice-wide wording the rules below know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Google Groups, with the number of lines its notice starts with "*" (or " *").
    GoogleGroups {
        starred_lines: usize,
    },
    Gmail,
    Qmail,
    Exim,
    DragonFly,
    OpenSmtpd,
    Other,
}

/// What the rules need to know about the whole message, read once per message: the notice
/// can be megabytes long and list thousands of recipients, each of which gets a [`preset`].
#[derive(Debug, Clone)]
pub struct Notice {
    family: Family,
    subject: String,
}

impl Notice {
    pub fn read(flat: &Flat) -> Self {
        let subject = first(flat.header("subject"));
        let family = if flat.header("x-google-smtp-source").is_some()
            && flat.header("x-failed-recipients").is_some()
            && flat.notice.contains("Google Groups")
        {
            let starred_lines = flat
                .notice
                .matches("\n *")
                .count()
                .max(flat.notice.matches("\n*").count());
            Family::GoogleGroups { starred_lines }
        } else if is_gmail(flat) {
            Family::Gmail
        } else if is_qmail(flat) {
            Family::Qmail
        } else if is_exim(flat) {
            Family::Exim
        } else if flat.notice.contains("This is the DragonFly Mail Agent")
            || flat
                .headers_named("received")
                .any(|r| r.contains("(DragonFly Mail Agent"))
        {
            Family::DragonFly
        } else if flat
            .notice
            .contains("This is the MAILER-DAEMON, please DO NOT REPLY")
            || subject.starts_with("Delivery status notification")
                && flat.notice.contains("OpenSMTPD")
        {
            Family::OpenSmtpd
        } else {
            Family::Other
        };
        Notice { family, subject }
    }
}

pub fn preset(diag: &str, context: &str, notice: &Notice) -> Preset {
    let mut p = Preset::default();
    let subject = &notice.subject;

    // Google Groups: the group does not exist or does not take posts from the sender.
    if let Family::GoogleGroups { starred_lines } = notice.family {
        p.reason = Some(if starred_lines == 4 { Rejected } else { OnHold });
        return p;
    }

    if notice.family == Family::Gmail {
        // "(state N)" is Gmail's SMTP session state at the failure.
        let all = format!("{context} {diag}");
        if let Some(state) = select(&all, " (state ", ")") {
            let (cmd, r) = match state {
                "6" => ("MAIL", Some(FailedStartTls)),
                "8" => ("AUTH", Some(SystemError)),
                "9" => ("AUTH", Some(FailedStartTls)),
                "12" => ("AUTH", Some(NoRelaying)),
                "13" => ("EHLO", Some(Blocked)),
                "14" => ("RCPT", Some(UserUnknown)),
                "15" | "17" | "18" => ("DATA", Some(Filtered)),
                _ => ("", None),
            };
            if r.is_some() {
                p.reason = r;
                p.command = Some(cmd);
            }
        }
        if p.reason.is_none() {
            if contains_any(
                &all,
                &[
                    "DNS Error: Could not contact DNS servers",
                    "Delivery to the following recipient has been delayed",
                    "The recipient server did not accept our requests to connect",
                ],
            ) {
                p.reason = Some(Expired);
            } else if contains_any(
                &all,
                &[
                    "DNS Error: Domain name not found",
                    "DNS Error: DNS server returned answer with no data",
                ],
            ) {
                p.reason = Some(HostUnknown);
            }
        }
        if p.reason.is_some()
            && let Some(s) = super::codes::find_status(diag, None)
            && !s.contains(".0")
            && let Some(r) = super::reason::status_name(&s)
        {
            p.reason = Some(r);
        }
        return p;
    }

    if notice.family == Family::Qmail {
        if diag.contains(" but greeting failed.") {
            p.command = Some("CONN");
        } else if diag.contains(" but my name was rejected.") {
            p.command = Some("EHLO");
            p.reason = Some(Blocked);
            return p;
        } else if diag.contains(" but sender was rejected.") {
            p.command = Some("MAIL");
        } else if diag.contains(" does not like recipient.") {
            p.command = Some("RCPT");
        } else if contains_any(
            diag,
            &[
                " failed on DATA command",
                " failed after I sent the message",
            ],
        ) {
            p.command = Some("DATA");
        }
        if aligned(
            diag,
            &[
                " does not like recipient.",
                "this message has been in the queue too long.",
            ],
        ) {
            p.reason = Some(OnHold);
            return p;
        }
        const QMAIL: &[(Reason, &[&str])] = &[
            (HostUnknown, &["Sorry, I couldn't find any host "]),
            (MailboxFull, &["disk quota exceeded"]),
            (
                MesgTooBig,
                &["Message size exceeds fixed maximum message size:"],
            ),
            (
                NetworkError,
                &[
                    "Sorry, I wasn't able to establish an SMTP connection",
                    "Sorry. Although I'm listed as a best-preference MX or A for that host",
                ],
            ),
            (
                NotAccept,
                &["Sorry, I couldn't find a mail exchanger or IP address"],
            ),
            (
                SystemFull,
                &["Requested action not taken: mailbox unavailable (not enough free space)"],
            ),
            (UserUnknown, &["no mailbox here by that name"]),
            (
                ExceedLimit,
                &["The message exeeded the maximum size the user accepts"],
            ),
            (
                Suspend,
                &[
                    "Mailaddress is administrativly disabled",
                    "Mailaddress is administrativley disabled",
                    "Mailaddress is administratively disabled",
                    "Mailaddress is administrativeley disabled",
                ],
            ),
            (
                SystemError,
                &[
                    "bad interpreter: No such file or directory",
                    "system error",
                    "Unable to",
                    "Automatic homedir creator crashed",
                    "Illegal value in LDAP attribute",
                    "LDAP attribute is not given but mandatory",
                    "Timeout while performing search on LDAP server",
                    "Too many results returned but needs to be unique",
                    "Permanent error while executing qmail-forward",
                    "Temporary error in automatic homedir creation",
                    "Temporary error while executing qmail-forward",
                    "Temporary failure in LDAP lookup",
                ],
            ),
        ];
        // The remote host's own words first, then the whole error.
        let remote = diag
            .find("Remote host said:")
            .map(|i| &diag[i..])
            .unwrap_or("");
        for text in [remote, diag] {
            if text.is_empty() {
                continue;
            }
            if let Some((r, _)) = QMAIL.iter().find(|(_, ws)| contains_any(text, ws)) {
                p.reason = Some(*r);
                return p;
            }
            if text.contains("this message has been in the queue too long.") {
                p.reason = Some(Expired);
                return p;
            }
        }
        return p;
    }

    // Exim.
    if notice.family == Family::Exim {
        let cmd = if contains_any(diag, &["SMTP error from remote ", "LMTP error after "]) {
            super::codes::find_command(diag)
        } else {
            None
        };
        match cmd {
            Some("EHLO" | "HELO") => {
                p.command = cmd;
                p.reason = Some(Blocked);
                return p;
            }
            Some("MAIL") => {
                p.command = cmd;
                p.reason = Some(OnHold);
                return p;
            }
            _ => {}
        }
        const EXIM: &[(Reason, &[&str])] = &[
            (UserUnknown, &["user not found"]),
            (
                HostUnknown,
                &[
                    "all host address lookups failed permanently",
                    "all relevant MX records point to non-existent hosts",
                    "Unrouteable address",
                ],
            ),
            (MailboxFull, &["mailbox is full", "error: quota exceed"]),
            (
                NotAccept,
                &[
                    "an MX or SRV record indicated no SMTP service",
                    "no host found for existing SMTP connection",
                ],
            ),
            (
                SyntaxError,
                &[
                    "angle-brackets nested too deep",
                    "expected word or \"<\"",
                    "domain missing in source-routed address",
                    "malformed address:",
                ],
            ),
            (
                SystemError,
                &[
                    "delivery to file forbidden",
                    "delivery to pipe forbidden",
                    "local delivery failed",
                    "LMTP error after ",
                ],
            ),
            (ContentError, &["Too many \"Received\" headers"]),
        ];
        if let Some((r, _)) = EXIM.iter().find(|(_, ws)| contains_any(diag, ws)) {
            p.reason = Some(*r);
        } else if contains_any(
            diag,
            &[
                "retry timeout exceeded",
                "No action is required on your part",
                "retry time not reached for any host after a long failure period",
                "all hosts have been failing for a long time and were last tried",
                "Delay reason: ",
                "has been frozen",
                "was frozen on arrival by ",
            ],
        ) {
            p.reason = Some(Expired);
        } else if diag.contains("pipe to |") {
            p.reason = Some(MailerError);
        }
        return p;
    }

    // DragonFly Mail Agent.
    if notice.family == Family::DragonFly {
        if diag.contains("Could not deliver for the last ")
            || context.contains("Could not deliver for the last ")
        {
            p.reason = Some(Expired);
        } else if diag.contains("DNS lookup failure: host ")
            || context.contains("DNS lookup failure: host ")
        {
            p.reason = Some(HostUnknown);
        }
        return p;
    }

    // OpenSMTPD.
    if notice.family == Family::OpenSmtpd {
        const OSMTPD: &[(Reason, &[&str])] = &[
            (Expired, &["Envelope expired"]),
            (SecurityError, &["Could not retrieve credentials"]),
            (
                HostUnknown,
                &["Invalid domain name", "Domain does not exist"],
            ),
            (
                NetworkError,
                &[
                    "Address family mismatch on destination MXs",
                    "All routes to destination blocked",
                    "bad DNS lookup error code",
                    "Could not retrieve source address",
                    "Loop detected",
                    "Network error on destination MXs",
                    "No valid route to remote MX",
                    "No valid route to destination",
                    "Temporary failure in MX lookup",
                ],
            ),
            (
                NotAccept,
                &[
                    "Destination seem to reject all mails",
                    "No MX found for domain",
                    "No MX found for destination",
                ],
            ),
        ];
        for text in [diag] {
            if let Some((r, _)) = OSMTPD.iter().find(|(_, ws)| contains_any(text, ws)) {
                p.reason = Some(*r);
                return p;
            }
        }
        return p;
    }

    // Exchange 2003 and older: "MSEXCH:IMS:... (000C05A6) Unknown Recipient".
    if diag.contains("MSEXCH:")
        && let Some(code) = select(diag, "(", ")")
    {
        let r = match code {
            "000C05A6" => Some(UserUnknown),
            "000C0595" => Some(Filtered),
            "00010256" | "000D06B5" => Some(SystemError),
            "00120270" => Some(NetworkError),
            "00050311" | "000502CC" => Some(ContentError),
            "000B0981" => Some(SecurityError),
            "000B099C" | "000B09AA" | "000B09B6" => Some(OnHold),
            _ => None,
        };
        if r.is_some() {
            p.reason = r;
            return p;
        }
    }

    // Lotus Notes / Domino, IMail. Notes writes the reason above the address ("Failure
    // Reasons", then the address), so with no lines of its own the recipient's is the intro.
    let own = if diag.trim().is_empty() {
        context
    } else {
        diag
    };
    if contains_any(
        own,
        &[
            "not listed in public Name & Address Book",
            "not listed in Domino Directory",
            "Invalid final delivery userid",
        ],
    ) {
        p.reason = Some(UserUnknown);
        return p;
    }
    if contains_any(
        diag,
        &[
            "not listed in Domino Directory",
            "not listed in public Name & Address Book",
            "User not listed in",
            "No such user",
        ],
    ) && contains_any(
        &format!("{context} {diag} {subject}"),
        &[
            "Domino",
            "Notes",
            "Name & Address Book",
            "DELIVERY FAILURE",
            "Delivery Failure",
            "Undeliverable message",
        ],
    ) {
        p.reason = Some(UserUnknown);
        return p;
    }

    // Sendmail's local delivery agent: "mail.local: unknown user: NAME" is the local host
    // saying the mailbox does not exist (Sendmail's own line under it is a generic "554 …
    // Service unavailable"); no remote filter is involved.
    if contains_any(diag, &["mail.local: unknown user:"]) {
        p.reason = Some(UserUnknown);
        return p;
    }

    // Courier.
    if contains_any(diag, &["<<< No such domain", "No such domain."])
        && contains_any(context, &["Courier", "courier"])
    {
        p.reason = Some(HostUnknown);
    }
    p
}
