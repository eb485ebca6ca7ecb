//! One message read from a watched folder: what it is, which sent row it is about, and what that
//! changes (outbox status, suppression list, `bounces` rows). Runs inside the caller's
//! transaction, so a message's effects and its "read" mark commit together.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::engine::bounces::{self, Action, Kind, ParsedMessage};
use crate::store::bounces::{KIND_BOUNCE, KIND_COMPLAINT, KIND_FEEDBACK, NewBounce};
use crate::store::inbox::{self, NewMessage};
use crate::store::outbox::Status;
use crate::store::{self, sending, suppressions};

/// Where a message goes once read, when `[inbox]` names folders for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    /// A bounce, complaint or auto-reply hailer handled.
    Processed,
    /// Mail that is none of hailer's business.
    Skipped,
    /// A bounce or complaint that matches nothing hailer sent, or a delivery report that says
    /// a delivery failed but names no recipient that could be read.
    Problem,
    /// Left where it is (replies, for a person to read, and messages already handled).
    Keep,
}

/// What handling one message did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Effects {
    pub bounces: u32,
    pub complaints: u32,
    pub bounced: u32,
    pub invalid: u32,
    pub replied: u32,
    pub suppressed: u32,
}

impl Effects {
    pub fn add(&mut self, o: &Effects) {
        self.bounces += o.bounces;
        self.complaints += o.complaints;
        self.bounced += o.bounced;
        self.invalid += o.invalid;
        self.replied += o.replied;
        self.suppressed += o.suppressed;
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// `bounce delayed autoreply feedback reply unsubscribe other duplicate`.
    pub kind: &'static str,
    pub inbox_message_id: i64,
    pub disposition: Disposition,
    pub effects: Effects,
}

/// Where a message was found.
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    pub mailbox: &'a str,
    pub folder: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
    /// The configured mailboxes' own addresses (lower-cased): mail from them is never a reply.
    pub own_addresses: &'a [String],
}

/// The sent row a message is about.
#[derive(Debug, Clone)]
struct SentRow {
    id: i64,
    email: Option<String>,
    status: Status,
    /// The Message-ID of the message the report is about: the row's own, or an earlier
    /// attempt's (a row sent again after a soft bounce or an UNCERTAIN requeue). Reports are
    /// counted per message by it, not per row.
    attempt: Option<String>,
    /// The report is about an earlier message of the row (sent again since, so the row's
    /// Message-ID is another): it says nothing of the message the row stands for now.
    earlier: bool,
    /// Matched by the sender's name (the prospect writing from another address, see
    /// [`by_name_and_quoted_subject`]), not by its threading or its address.
    by_name: bool,
}

/// Reads `id, email, status, header_message_id`.
fn sent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SentRow> {
    let status: String = r.get(2)?;
    Ok(SentRow {
        id: r.get(0)?,
        email: r.get(1)?,
        status: Status::parse(&status).unwrap_or(Status::Error),
        attempt: r.get(3)?,
        earlier: false,
        by_name: false,
    })
}

fn by_message_id(conn: &Connection, mid: &str) -> store::Result<Option<SentRow>> {
    let mid = mid.trim().trim_start_matches('<').trim_end_matches('>');
    if mid.is_empty() {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(
            "SELECT id, email, status, header_message_id FROM outbox WHERE header_message_id = ?1",
        )?
        .query_row([mid], sent_row)
        .optional()?)
}

/// How much earlier than our send a bounce or reply may be dated and still be about it: the
/// clocks of the remote server and of this machine may disagree by a few minutes.
const CLOCK_SKEW_SECS: i64 = 600;

/// The latest row sent to `address` before the message dated `date` (a bounce or a reply
/// cannot come before the send; an older one is about some other message), from `mailbox`
/// first. The exact address uses the index; only when it finds nothing is the whole outbox
/// compared without case.
fn by_recipient(
    conn: &Connection,
    address: &str,
    mailbox: &str,
    date: i64,
) -> store::Result<Option<SentRow>> {
    for sql in [
        "SELECT id, email, status, header_message_id FROM outbox
         WHERE email = ?1 AND sent_at IS NOT NULL AND sent_at <= ?3
         ORDER BY (mailbox = ?2) DESC, sent_at DESC LIMIT 1",
        "SELECT id, email, status, header_message_id FROM outbox
         WHERE email = ?1 COLLATE NOCASE AND sent_at IS NOT NULL AND sent_at <= ?3
         ORDER BY (mailbox = ?2) DESC, sent_at DESC LIMIT 1",
    ] {
        let row = conn
            .prepare_cached(sql)?
            .query_row(
                params![address, mailbox, date.saturating_add(CLOCK_SKEW_SECS)],
                sent_row,
            )
            .optional()?;
        if row.is_some() {
            return Ok(row);
        }
    }
    Ok(None)
}

/// The sent row a delivery report or complaint is about, and how it was found, as the bounce
/// row shows it: by the Message-ID the report returns, else by the message the report itself
/// answers (`In-Reply-To`/`References`: some servers thread their notice to the message),
/// else by recipient (the latest message sent to it before the report). The last is a guess:
/// relays that rewrite Message-ID (some ESPs do) make it the only way, but it can also pick
/// our row for a report about the user's own mail to that address, so the evidence says which
/// it was, and a returned Message-ID at a domain hailer sends from, but not one hailer sent,
/// is the user's own mail: never matched by recipient.
fn report_row(
    conn: &Connection,
    message_id: Option<&str>,
    references: &[String],
    recipients: &[&str],
    mailbox: &str,
    date: i64,
) -> store::Result<(Option<SentRow>, String)> {
    let shown = message_id
        .map(|m| m.trim().trim_start_matches('<').trim_end_matches('>'))
        .filter(|m| !m.is_empty());
    if let Some(m) = shown
        && let Some(row) = by_message_id(conn, m)?
    {
        return Ok((Some(row), format!("by Message-ID <{m}>")));
    }
    for r in references {
        if let Some(row) = by_message_id(conn, r)? {
            let r = r.trim().trim_start_matches('<').trim_end_matches('>');
            return Ok((
                Some(row),
                format!("by the report's In-Reply-To/References <{r}>"),
            ));
        }
    }
    // A Message-ID this database gave an earlier attempt of a row (sent, then settled
    // UNCERTAIN and requeued, or sent again after a soft bounce: the row has a new one now).
    if let Some(m) = shown
        && let Some(row) = earlier_attempt(conn, m)?
    {
        let how = format!("by Message-ID <{m}>, an earlier attempt of row {}", row.id);
        return Ok((Some(row), how));
    }
    if let Some(m) = shown
        && let Some((_, domain)) = m.rsplit_once('@')
        && sending::sends_from(conn, domain)?
    {
        return Ok((
            None,
            format!(
                "no match: the report returns Message-ID <{m}>, at {domain} where hailer sends \
                 from, but not a message this database sent (the user's own mail, or another \
                 database's?)"
            ),
        ));
    }
    let returned = match shown {
        Some(m) => format!("the report returns Message-ID <{m}>, not one of ours"),
        None => "the report returns no Message-ID".to_string(),
    };
    for r in recipients {
        if let Some(row) = by_recipient(conn, r, mailbox, date)? {
            // Counted under the row's latest message, not the ID the report returns (a
            // relay's rewrite, not ours): a relay and the final server may both report one
            // message, one by our ID and one by a rewritten one, and two IDs would count it
            // twice toward the soft-bounce suppression and the resend refusal.
            return Ok((
                Some(row),
                format!(
                    "by recipient {r}, the latest message sent to it before the report ({returned})"
                ),
            ));
        }
    }
    Ok((
        None,
        format!(
            "no match: nothing was sent to {} before the report ({returned})",
            if recipients.is_empty() {
                "its recipients".to_string()
            } else {
                recipients.join(", ")
            }
        ),
    ))
}

/// The row an earlier message of which had `message_id`, from the Message-IDs this database
/// gave its messages (schema 24). Not the row id a Message-ID of hailer's form
/// (`<row id>.<16 hex>@domain`) spells: another database sending through the same mailboxes
/// (a previous campaign, a test) writes the same form, and its row 4 is not ours.
fn earlier_attempt(conn: &Connection, message_id: &str) -> store::Result<Option<SentRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT o.id, o.email, o.status, o.header_message_id
             FROM sent_message_ids s JOIN outbox o ON o.id = s.outbox_id
             WHERE s.message_id = ?1",
        )?
        .query_row([message_id], sent_row)
        .optional()?
        .map(|row| SentRow {
            attempt: Some(message_id.to_string()),
            earlier: true,
            ..row
        }))
}

/// The sent row a message answers, and how it was found (the evidence stored with it): by its
/// In-Reply-To/References, else by its sender being the address we wrote to (the latest
/// message sent to it before this one, from `mailbox` first): some clients answer without
/// threading headers, or with ones of their own.
fn answered_row(
    conn: &Connection,
    parsed: &ParsedMessage,
    mailbox: &str,
    date: i64,
) -> store::Result<Option<(SentRow, String)>> {
    for r in &parsed.references {
        if let Some(row) = by_message_id(conn, r)? {
            let r = r.trim().trim_start_matches('<').trim_end_matches('>');
            return Ok(Some((row, format!("by In-Reply-To/References <{r}>"))));
        }
    }
    if let Some(f) = &parsed.from
        && let Some(row) = by_recipient(conn, f, mailbox, date)?
    {
        let how = format!(
            "by sender address {f}: no In-Reply-To/References of ours; the latest message \
             sent to {} before this one",
            row.email.as_deref().unwrap_or(f)
        );
        return Ok(Some((row, how)));
    }
    by_name_and_quoted_subject(conn, parsed, date)
}

/// An answer without threading headers of ours, from an address we never wrote to (the
/// prospect writing from a personal mailbox): the row of the one prospect whose first and
/// last name are the sender's display name and whose message's subject is the answer's own
/// (Re:/AW:/TR: aside) or stands in a quoted `Subject:` line. A subject's words found
/// anywhere in the text are not enough: a namesake writing "quick question" would be taken
/// for the prospect, and the prospect suppressed. When two prospects fit, neither is taken.
fn by_name_and_quoted_subject(
    conn: &Connection,
    parsed: &ParsedMessage,
    date: i64,
) -> store::Result<Option<(SentRow, String)>> {
    let Some(name) = parsed.from_name.as_deref() else {
        return Ok(None);
    };
    let splits = name_splits(name);
    if splits.is_empty() {
        return Ok(None);
    }
    let own = unquoted_words(&crate::engine::bounces::strip_reply_prefixes(&parsed.subject).0);
    // Quote marks and line breaks out: a quoted header wraps like any other line.
    let text = unquoted_words(&parsed.full_text);
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.email, o.status, o.header_message_id, o.subject
         FROM prospects p JOIN outbox o ON o.prospect_id = p.id
         WHERE p.lastname = ?1 COLLATE NOCASE AND p.firstname = ?2 COLLATE NOCASE
           AND o.sent_at IS NOT NULL AND o.sent_at <= ?3",
    )?;
    let mut found: Vec<SentRow> = Vec::new();
    for (first, last) in &splits {
        let rows = stmt.query_map(
            params![last, first, date.saturating_add(CLOCK_SKEW_SECS)],
            |r| Ok((sent_row(r)?, r.get::<_, Option<String>>(4)?)),
        )?;
        for row in rows {
            let (row, subject) = row?;
            let subject = unquoted_words(subject.as_deref().unwrap_or(""));
            if !subject.is_empty()
                && (own == subject || quotes_subject(&text, &subject))
                && !found.iter().any(|f| f.id == row.id)
            {
                found.push(row);
            }
        }
    }
    if found.len() != 1 {
        return Ok(None);
    }
    let mut row = found.remove(0);
    row.by_name = true;
    let how = format!(
        "by sender name \"{name}\" (the prospect's first and last name) and the subject of the \
         message sent to {}, which it answers: no In-Reply-To/References of ours, from {}, \
         an address hailer never wrote to",
        row.email.as_deref().unwrap_or("?"),
        parsed.from.as_deref().unwrap_or("an unknown address")
    );
    Ok(Some((row, how)))
}

/// The (first name, last name) a display name may be: `Jane Doe` → (Jane, Doe) and
/// (Doe, Jane); `Doe, Jane` → (Jane, Doe); `Jane van Berg` is split at each space, both ways.
fn name_splits(name: &str) -> Vec<(String, String)> {
    if let Some((last, first)) = name.split_once(',') {
        let (first, last) = (first.trim(), last.trim());
        return if first.is_empty() || last.is_empty() {
            Vec::new()
        } else {
            vec![(first.to_string(), last.to_string())]
        };
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut out = Vec::new();
    for k in 1..words.len() {
        let (a, b) = (words[..k].join(" "), words[k..].join(" "));
        out.push((a.clone(), b.clone()));
        out.push((b, a));
    }
    out
}

/// `text` without quote marks at line starts, its words joined by single spaces, lower
/// case: a subject quoted in a reply ("> Subject: …", wrapped) is found in it.
/// `text` (as [`unquoted_words`] gives it) quotes a header giving `subject` ("Subject: …",
/// "Objet : …", "Betreff: …"), as mail clients write the message they answer.
fn quotes_subject(text: &str, subject: &str) -> bool {
    const NAMES: &[&str] = &[
        "subject",
        "objet",
        "betreff",
        "asunto",
        "oggetto",
        "onderwerp",
        "assunto",
    ];
    NAMES.iter().any(|n| {
        text.contains(&format!("{n}: {subject}")) || text.contains(&format!("{n} : {subject}"))
    })
}

fn unquoted_words(text: &str) -> String {
    text.lines()
        .map(|l| l.trim_start_matches(|c: char| c == '>' || c.is_whitespace()))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A person answered `row`: REPLIED, unless it stands where an answer does not move it
/// (already REPLIED, INVALID, …).
fn mark_replied(conn: &Connection, row: &SentRow, now: i64, fx: &mut Effects) -> store::Result<()> {
    if matches!(
        row.status,
        Status::Sent | Status::Uncertain | Status::Bounced
    ) && set_status(conn, row, Status::Replied, "replied", now)?
    {
        fx.replied += 1;
    }
    Ok(())
}

/// Suppress as `unsubscribed` the sender of a request to be taken off the list, and the
/// address the answered row wrote to (they differ when the person answers from another
/// address): every address suppressed for the first time counts in `fx`.
fn unsubscribe_addresses(
    conn: &Connection,
    from: Option<&str>,
    row: Option<&SentRow>,
    note: &str,
    now: i64,
    fx: &mut Effects,
) -> store::Result<()> {
    let mut addresses: Vec<String> = from.iter().map(|f| f.to_lowercase()).collect();
    if let Some(e) = row.and_then(|r| r.email.as_ref())
        && !addresses.contains(&e.to_lowercase())
    {
        addresses.push(e.to_lowercase());
    }
    for a in &addresses {
        if suppressions::unsubscribe(conn, a, note, now)? {
            fx.suppressed += 1;
        }
    }
    Ok(())
}

/// `Message-ID`, else a digest of the bytes: the same message read twice has the same key.
pub fn message_key(parsed: &ParsedMessage, bytes: &[u8]) -> String {
    match parsed.message_id.as_deref().map(str::trim) {
        Some(mid) if !mid.is_empty() => format!("mid:{mid}"),
        _ => {
            let digest = Sha256::digest(bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        }
    }
}

/// The message's `Date`, in Unix seconds.
fn message_date(bytes: &[u8]) -> Option<i64> {
    use mailparse::MailHeaderMap;
    let (headers, _) = mailparse::parse_headers(bytes).ok()?;
    let date = headers.get_first_value("Date")?;
    mailparse::dateparse(&date).ok()
}

fn set_status(
    conn: &Connection,
    row: &SentRow,
    status: Status,
    reason: &str,
    now: i64,
) -> store::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET status = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1 AND status = ?5",
        )?
        .execute(params![
            row.id,
            status.as_str(),
            reason,
            now,
            row.status.as_str()
        ])?
        == 1)
}

/// Read one message: classify it, match it, apply its effects, record it as read.
pub fn handle(
    conn: &Connection,
    at: Location<'_>,
    bytes: &[u8],
    now: i64,
) -> store::Result<Outcome> {
    let (parsed, report) = bounces::parse_with_report(bytes);
    let key = message_key(&parsed, bytes);
    let date = message_date(bytes).unwrap_or(now);
    let from = parsed.from.clone();
    // What a person wrote is kept to be read; a report's text is in its `bounces` rows.
    let snippet = inbox::snippet(&parsed.fresh_text);
    let record = |kind: &str, outbox_id: Option<i64>, matched_by: &str| -> store::Result<i64> {
        // Only answers to our messages: unrelated mail (a password reset, a login code) is
        // none of hailer's business to keep.
        let person =
            matches!(kind, "reply" | "unsubscribe" | "autoreply") && !parsed.delivery_report;
        inbox::insert_message(
            conn,
            &NewMessage {
                mailbox: at.mailbox,
                folder: at.folder,
                uidvalidity: at.uidvalidity,
                uid: at.uid,
                message_key: &key,
                kind,
                outbox_id,
                from_addr: from.as_deref(),
                subject: &parsed.subject,
                snippet: if person { &snippet } else { "" },
                matched_by,
            },
            now,
        )
    };
    // Handled before (another folder, another UIDVALIDITY, another mailbox): read, no effects.
    if inbox::seen_key(conn, &key)? {
        let id = record("duplicate", None, "")?;
        return Ok(Outcome {
            kind: "duplicate",
            inbox_message_id: id,
            disposition: Disposition::Keep,
            effects: Effects::default(),
        });
    }
    let mut fx = Effects::default();
    let (kind, disposition, id) = match parsed.kind {
        Kind::Bounce => {
            let mut matched = Vec::new();
            let mut how = Vec::new();
            for r in &parsed.records {
                let mid = r
                    .original_message_id
                    .as_deref()
                    .or(parsed.original_message_id.as_deref());
                let mut recipients = vec![r.recipient.as_str()];
                recipients.extend(r.original_recipient.as_deref());
                let (row, why) =
                    report_row(conn, mid, &parsed.references, &recipients, at.mailbox, date)?;
                matched.push(row);
                how.push(why);
            }
            let first = matched.iter().flatten().next().map(|r| r.id);
            // A report that only says delivery is delayed (the server is still trying) is not
            // a bounce: counted apart, so a sync summary does not report one that is not.
            let kind = if parsed.records.iter().all(|r| r.action == Action::Delayed) {
                "delayed"
            } else {
                "bounce"
            };
            let id = record(kind, first, "")?;
            for ((r, row), matched_by) in parsed.records.iter().zip(&matched).zip(&how) {
                bounces_insert(
                    conn,
                    &NewBounce {
                        kind: KIND_BOUNCE,
                        date,
                        mailbox: at.mailbox,
                        outbox_id: row.as_ref().map(|r| r.id),
                        recipient: &r.recipient,
                        action: Some(r.action.as_str()),
                        status_code: r.status.as_deref(),
                        reply_code: r.reply_code,
                        reason: r.reason.as_str(),
                        hard: r.hard,
                        diagnostic: &r.diagnostic,
                        remote_mta: r.remote_mta.as_deref(),
                        raw: &report,
                        inbox_message_id: id,
                        matched_by,
                        message_id: row.as_ref().and_then(|r| r.attempt.as_deref()),
                    },
                    now,
                )?;
                let Some(row) = row else {
                    fx.bounces += u32::from(r.action != Action::Delayed);
                    continue;
                };
                if r.action != Action::Failed {
                    continue; // a delay report: the server is still trying
                }
                fx.bounces += 1;
                let code = r.status.as_deref().unwrap_or("");
                // A mailbox that does not exist is an invalid address whatever the code
                // (a generic 5.0.0 "User unknown" is as final as a 5.1.1).
                let invalid = r.hard
                    && (code.starts_with("5.1.") || r.reason == bounces::Reason::UserUnknown);
                let reason = format!(
                    "{}{}{}",
                    if r.hard {
                        sending::HARD_BOUNCE_PREFIX
                    } else {
                        sending::SOFT_BOUNCE_PREFIX
                    },
                    r.reason.as_str(),
                    if code.is_empty() {
                        String::new()
                    } else {
                        format!(" {code}")
                    }
                );
                // Never downgrade: a soft bounce does not overwrite a hard one or a reply.
                let target = if invalid {
                    Status::Invalid
                } else {
                    Status::Bounced
                };
                // A soft bounce of an earlier message (the row was sent again since) is not the
                // fate of the message in flight now: stored and counted, the row left alone.
                // One about an earlier message to another address (the row was given a new
                // one since): that address bounced, not the one the row writes to now.
                let elsewhere = row.earlier
                    && row
                        .email
                        .as_deref()
                        .is_some_and(|e| !e.eq_ignore_ascii_case(&r.recipient));
                let allowed = match row.status {
                    _ if elsewhere => false,
                    _ if row.earlier && !r.hard => false,
                    Status::Sent | Status::Uncertain => true,
                    Status::Bounced => r.hard,
                    _ => false,
                };
                if allowed && set_status(conn, row, target, &reason, now)? {
                    if invalid {
                        fx.invalid += 1;
                    } else {
                        fx.bounced += 1;
                    }
                }
                let address = match &row.email {
                    Some(e) if !elsewhere => e.clone(),
                    _ => r.recipient.clone(),
                };
                let note = if r.hard {
                    Some(format!("{} {}", r.reason.as_str(), code).trim().to_string())
                } else {
                    persistent_soft_bounce(conn, &address, r.reason, code)?
                };
                if let Some(note) = note
                    && suppressions::add(
                        conn,
                        &address.to_lowercase(),
                        "bounced",
                        Some(&note),
                        now,
                    )?
                {
                    fx.suppressed += 1;
                }
            }
            let disposition = if first.is_some() {
                Disposition::Processed
            } else {
                Disposition::Problem
            };
            (kind, disposition, id)
        }
        Kind::Feedback => {
            let fb = parsed.feedback.clone().unwrap_or_default();
            let listed: Vec<&str> = fb.recipients.iter().map(String::as_str).collect();
            let (row, matched_by) = report_row(
                conn,
                parsed.original_message_id.as_deref(),
                &parsed.references,
                &listed,
                at.mailbox,
                date,
            )?;
            let id = record("feedback", row.as_ref().map(|r| r.id), &matched_by)?;
            // One report is one complaint about one message. Matched to a row, it is about the
            // address that row wrote to: the report's own addresses may be the ISP's redaction
            // placeholder (`To: redacted@…`). Unmatched, a placeholder is still recorded (the
            // complaint counts toward the mailbox's auto-pause) but never suppressed.
            let from_row = row.as_ref().and_then(|r| r.email.clone());
            // The row's own address is real (`xx@acme.test` may be someone's): only an
            // address read from the report can be a placeholder.
            let from_report = from_row.is_none();
            let recipients: Vec<String> = match from_row {
                Some(e) => vec![e],
                None => fb.recipients.clone(),
            };
            let feedback_type = if fb.feedback_type.is_empty() {
                "abuse".to_string()
            } else {
                fb.feedback_type.to_ascii_lowercase()
            };
            // `not-spam` (the person took our mail out of their junk folder) and
            // `auth-failure` (a DMARC/SPF failure report about our domain) are no one's
            // complaint: recorded, but they neither suppress the address nor count toward a
            // mailbox's auto-pause.
            let complaint = is_complaint(&feedback_type);
            for r in &recipients {
                bounces_insert(
                    conn,
                    &NewBounce {
                        kind: if complaint {
                            KIND_COMPLAINT
                        } else {
                            KIND_FEEDBACK
                        },
                        date,
                        mailbox: at.mailbox,
                        outbox_id: row.as_ref().map(|r| r.id),
                        recipient: r,
                        action: None,
                        status_code: None,
                        reply_code: None,
                        reason: &feedback_type,
                        hard: false,
                        diagnostic: &parsed.subject,
                        remote_mta: None,
                        raw: &report,
                        inbox_message_id: id,
                        matched_by: &matched_by,
                        message_id: row.as_ref().and_then(|r| r.attempt.as_deref()),
                    },
                    now,
                )?;
                if !complaint {
                    continue;
                }
                fx.complaints += 1;
                let note = format!("feedback-type {feedback_type}");
                if !(from_report && is_redacted(r))
                    && suppressions::add(conn, &r.to_lowercase(), "complained", Some(&note), now)?
                {
                    fx.suppressed += 1;
                }
            }
            let disposition = if row.is_some() {
                Disposition::Processed
            } else {
                Disposition::Problem
            };
            ("feedback", disposition, id)
        }
        // The user's own mail (a copy to self, a message sent from another client, threaded
        // to ours): never a reply nor a request to unsubscribe; left where it is.
        Kind::AutoReply | Kind::Reply | Kind::Other
            if from
                .as_deref()
                .is_some_and(|f| at.own_addresses.iter().any(|o| o.eq_ignore_ascii_case(f))) =>
        {
            let id = record("other", None, "")?;
            ("other", Disposition::Keep, id)
        }
        // A delivery report hailer could not read a failure from: never a reply, even when
        // threaded to our message. One that says something failed but names no recipient
        // that could be read is not mail to pass over: it goes where unmatched bounces go.
        Kind::Other if parsed.delivery_report => {
            let id = record("other", None, "")?;
            let disposition = if parsed.unreadable_report {
                Disposition::Problem
            } else {
                Disposition::Skipped
            };
            ("other", disposition, id)
        }
        // The List-Unsubscribe mailto (subject "unsubscribe") or a person writing "remove me":
        // the sender is suppressed at once, matched to a sent row or not.
        // A client that sends the mailto on the user's click may mark it Auto-Submitted: it
        // is still the person's request.
        Kind::AutoReply | Kind::Reply | Kind::Other if asks_to_unsubscribe(&parsed.subject) => {
            let (row, how) = answered_row(conn, &parsed, at.mailbox, date)?.unzip();
            let id = record(
                "unsubscribe",
                row.as_ref().map(|r| r.id),
                how.as_deref().unwrap_or(""),
            )?;
            let note = format!(
                "email: {}",
                parsed.subject.chars().take(100).collect::<String>()
            );
            unsubscribe_addresses(conn, from.as_deref(), row.as_ref(), &note, now, &mut fx)?;
            ("unsubscribe", Disposition::Processed, id)
        }
        // By its threading headers, else by its sender being someone we wrote to before it
        // was sent: some clients answer without In-Reply-To or References.
        Kind::AutoReply => {
            let (row, how) = answered_row(conn, &parsed, at.mailbox, date)?.unzip();
            let id = record(
                "autoreply",
                row.as_ref().map(|r| r.id),
                how.as_deref().unwrap_or(""),
            )?;
            let disposition = if row.is_some() {
                Disposition::Processed
            } else {
                Disposition::Skipped
            };
            ("autoreply", disposition, id)
        }
        Kind::Reply | Kind::Other => match answered_row(conn, &parsed, at.mailbox, date)? {
            // An answer whose own text asks to be taken off the list ("please remove me",
            // "STOP"): an unsubscribe request, whatever its subject. Read only in answers to
            // our messages: a newsletter's "unsubscribe" footer is no one's request.
            // It is still a person's answer: the row is REPLIED and the message stays where
            // they can read it (a reading of free text can be wrong; the evidence says why).
            Some((row, how)) if let Some(phrase) = unsubscribe_phrase(&parsed.fresh_text) => {
                let id = record("unsubscribe", Some(row.id), &how)?;
                let note = format!("reply: \"{phrase}\"");
                unsubscribe_addresses(conn, from.as_deref(), Some(&row), &note, now, &mut fx)?;
                mark_replied(conn, &row, now, &mut fx)?;
                ("unsubscribe", Disposition::Keep, id)
            }
            // A person answered one of our messages: it is theirs to read, so it stays put.
            Some((row, mut how)) => {
                // A colleague answering on the thread (threaded, from another address): the
                // conversation is a person's now all the same, so the address written to is
                // suppressed as for the prospect's own answer, saying who answered.
                // (Matched by name, it is the prospect from another address.)
                let colleague = from.as_deref().filter(|f| {
                    !row.by_name
                        && row
                            .email
                            .as_deref()
                            .is_none_or(|e| !e.eq_ignore_ascii_case(f))
                });
                if let Some(f) = colleague {
                    how.push_str(&format!("; answered by {f}, not the address written to"));
                }
                let id = record("reply", Some(row.id), &how)?;
                mark_replied(conn, &row, now, &mut fx)?;
                // The suppression list is what the outbox build and the sender check, so the
                // prospect gets nothing more from any campaign.
                if let Some(e) = &row.email {
                    let mut note = parsed.subject.chars().take(120).collect::<String>();
                    if let Some(f) = colleague {
                        note.push_str(&format!(" (answered by {f})"));
                    }
                    if suppressions::add(conn, &e.to_lowercase(), "replied", Some(&note), now)? {
                        fx.suppressed += 1;
                    }
                }
                ("reply", Disposition::Keep, id)
            }
            None => {
                let id = record(
                    "other",
                    None,
                    "no match: not threaded to a message hailer sent, and nothing was sent to its sender before it",
                )?;
                ("other", Disposition::Skipped, id)
            }
        },
    };
    Ok(Outcome {
        kind,
        inbox_message_id: id,
        disposition,
        effects: fx,
    })
}

/// Soft bounces to one address (matched to our sends) that suppress it: a soft bounce may
/// clear (a full mailbox is emptied), but an address that keeps bouncing costs reputation
/// with every message.
pub const SOFT_BOUNCE_LIMIT: i64 = 3;

/// Why a soft bounce (already stored) suppresses `address` for good, or `None`: the account is
/// disabled or suspended for good (a 5.x.x `suspend`: a 4.x.x "temporarily suspended" may
/// clear), or [`SOFT_BOUNCE_LIMIT`] of our messages to it soft-bounced for reasons that are not
/// about our side ([`bounces::Reason::is_about_sender`]). Every other reason counts, the
/// unknown ones too: a domain whose host refuses relay (`norelaying`), a server refusing
/// connections until the queue gave up (`expired`), a full mailbox.
fn persistent_soft_bounce(
    conn: &Connection,
    address: &str,
    reason: bounces::Reason,
    status: &str,
) -> store::Result<Option<String>> {
    if reason.is_about_sender() {
        return Ok(None);
    }
    if reason == bounces::Reason::Suspend && status.starts_with('5') {
        return Ok(Some(format!(
            "suspend {status}: {} (a soft bounce, but one that rarely clears)",
            reason.describe()
        )));
    }
    let excluded = bounces::Reason::ALL
        .iter()
        .filter(|r| r.is_about_sender())
        .map(|r| format!("'{}'", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    // Messages, not reports: a relay and the final server may both report one message.
    let n: i64 = conn
        .prepare_cached(&format!(
            // By the address we wrote to (a report may name an alias it forwarded to).
            // A report read before schema 17 has no Message-ID: one per row, as then.
            "SELECT COUNT(DISTINCT COALESCE(b.message_id, 'row ' || b.outbox_id)) FROM bounces b
             JOIN outbox o ON o.id = b.outbox_id
             WHERE b.kind = 'bounce' AND b.action = 'failed' AND b.hard = 0
               AND b.reason NOT IN ({excluded}) AND o.email = ?1 COLLATE NOCASE"
        ))?
        .query_row([address], |r| r.get(0))?;
    Ok((n >= SOFT_BOUNCE_LIMIT).then(|| {
        format!(
            "{n} messages soft-bounced (the last: {} {status})",
            reason.as_str()
        )
    }))
}

/// An address a feedback loop wrote in place of the real one (`redacted@…`, `xxxxxx@…`,
/// `***@…`): RFC 6650 lets ISPs hide the complaining recipient.
fn is_redacted(address: &str) -> bool {
    let local = address
        .rsplit_once('@')
        .map_or(address, |(l, _)| l)
        .to_ascii_lowercase();
    local.is_empty()
        || local.contains("redacted")
        || local
            .chars()
            .all(|c| matches!(c, 'x' | '*' | '.' | '-' | '_'))
}

/// A feedback report (RFC 5965) a person's complaint: `abuse`, `fraud`, `virus`, and `other`
/// (kept as one, to be safe). `not-spam` and `auth-failure` (RFC 6591) are not.
fn is_complaint(feedback_type: &str) -> bool {
    !matches!(feedback_type, "not-spam" | "auth-failure")
}

/// The subject is a request to be taken off the list and nothing else, in the words people
/// and mail clients use (the List-Unsubscribe mailto puts "unsubscribe"), after any
/// Re:/TR:/Fwd: prefixes: "unsubscribe", "STOP!", "Remove me from your list", "Désinscription
/// svp". A subject that merely starts with such a word ("Re: Stop losing leads") is a reply.
pub fn asks_to_unsubscribe(subject: &str) -> bool {
    let (s, _) = crate::engine::bounces::strip_reply_prefixes(subject);
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || ".,;!?()[]\"'".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    // Politeness and "me/us/from your list" around the request do not change it.
    const FILLER: &[&str] = &[
        "please", "pls", "plz", "me", "us", "from", "your", "the", "this", "list", "mailing",
        "emails", "svp", "merci", "thanks", "thank", "you", "bitte", "por", "favor", "moi",
    ];
    const ASKS: &[&[&str]] = &[
        &["unsubscribe"],
        &["désinscription"],
        &["desinscription"],
        &["désabonnement"],
        &["desabonnement"],
        &["désinscrire"],
        &["desinscrire"],
        &["se", "désinscrire"],
        &["se", "desinscrire"],
        &["se", "désabonner"],
        &["se", "desabonner"],
        &["remove"],
        &["opt", "out"],
        &["opt-out"],
        &["optout"],
        &["abmelden"],
        &["darse", "de", "baja"],
        &["baja"],
        &["stop"],
    ];
    let rest: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !FILLER.contains(w))
        .collect();
    !rest.is_empty() && ASKS.iter().any(|a| rest == *a)
}

/// What in a reply's own text (quoted text left out by the caller) asks to be taken off the
/// list, as evidence, or `None`: a line that is only the request ("STOP", "Unsubscribe
/// please", the words [`asks_to_unsubscribe`] reads in a subject), or a request in so many
/// words ("please remove me from your list", "stop emailing me", "merci de me désinscrire",
/// "je ne souhaite plus recevoir vos messages"), as whole words, unless a negation comes
/// before it in its clause ("don't unsubscribe me").
///
/// Read in the first lines only: a request is made at the top, while signatures, legal
/// footers ("you may opt out at any time") and a quote the client did not mark come later,
/// and a wrong reading suppresses a prospect who said yes. Phrases that ordinary business
/// sentences use ("opt-out", "stop sending", "remove users") are not requests.
pub fn unsubscribe_phrase(text: &str) -> Option<String> {
    /// How many non-blank lines of a reply are read for a request.
    const HEAD_LINES: usize = 6;
    let head: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(HEAD_LINES)
        .collect();
    for line in &head {
        if line.chars().count() <= 60 && asks_to_unsubscribe(line) {
            return Some(line.to_string());
        }
    }
    const PHRASES: &[&str] = &[
        "unsubscribe me",
        "unsubscribe us",
        "please unsubscribe",
        "remove me",
        "remove us from",
        "remove my address",
        "remove my email",
        "remove our address",
        "take me off",
        "take us off",
        "stop emailing me",
        "stop emailing us",
        "stop e-mailing me",
        "stop mailing me",
        "stop contacting me",
        "stop contacting us",
        "stop sending me",
        "stop sending us",
        "no more emails",
        "no more e-mails",
        "opt me out",
        "don't email me",
        "do not email me",
        "don't contact me",
        "do not contact me",
        "me désinscrire",
        "me desinscrire",
        "désinscrivez-moi",
        "desinscrivez-moi",
        "me désabonner",
        "me desabonner",
        "désabonnez-moi",
        "desabonnez-moi",
        "retirez-moi",
        "retirez moi",
        "me retirer de vos",
        "me retirer de votre",
        "supprimez-moi",
        "supprimez moi",
        "plus recevoir vos",
        "ne plus recevoir",
        "ne plus m'envoyer",
        "ne plus me contacter",
        "ne plus me solliciter",
        "darme de baja",
    ];
    const NEGATIONS: &[&str] = &[
        "not",
        "don't",
        "dont",
        "never",
        "no",
        "doesn't",
        "didn't",
        "won't",
        "wouldn't",
        "shouldn't",
        "can't",
        "cannot",
        "without",
        "pas",
        "jamais",
    ];
    let lower = head.join("\n").to_lowercase().replace('\u{2019}', "'");
    for phrase in PHRASES {
        for (at, _) in lower.match_indices(phrase) {
            let before = &lower[..at];
            let after = &lower[at + phrase.len()..];
            // Whole words: not the end of another ("bunsubscribe") nor the start of one
            // ("remove merchandise").
            if before
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
                || after.chars().next().is_some_and(char::is_alphanumeric)
            {
                continue;
            }
            // "Not interested, remove me" is no negation of the request.
            let clause = before
                .rsplit(|c: char| ".!?;,:\n()".contains(c))
                .next()
                .unwrap_or("")
                .replace("not interested", "");
            let negated = clause.split_whitespace().rev().take(4).any(|w| {
                NEGATIONS.contains(&w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
            });
            if !negated {
                return Some(phrase.to_string());
            }
        }
    }
    None
}

fn bounces_insert(conn: &Connection, b: &NewBounce<'_>, now: i64) -> store::Result<()> {
    store::bounces::insert(conn, b, now).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    const DELAYED: &[u8] = include_bytes!("../../../tests/data/rig-dsn/dsn-delayed-warning.eml");
    const SOFT: &[u8] = include_bytes!("../../../tests/data/rig-dsn/dsn-greylisted-expired.eml");
    const HARD: &[u8] = include_bytes!("../../../tests/data/rig-dsn/dsn-unknown-user.eml");

    /// One SENT row per (id, email, Message-ID).
    fn store(rows: &[(i64, &str, &str)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        c.execute(
            "INSERT INTO companies VALUES ('k', 'K', NULL, NULL, NULL, 0, 0)",
            [],
        )
        .unwrap();
        for (id, email, mid) in rows {
            c.execute(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (?1, 'f', 'l', 'K', 'k', ?1, 0)",
                [id],
            )
            .unwrap();
            c.execute(
                "INSERT INTO outbox (id, prospect_id, email, company_key, status, mailbox,
                     header_message_id, sent_at, created_at, updated_at)
                 VALUES (?1, ?1, ?2, 'k', 'SENT', 'sender', ?3, 1, 0, 0)",
                params![id, email, mid],
            )
            .unwrap();
        }
        (dir, store)
    }

    fn at(uid: u32) -> Location<'static> {
        Location {
            mailbox: "sender",
            folder: "INBOX",
            uidvalidity: 7,
            uid,
            own_addresses: &[],
        }
    }

    fn status(store: &Store, id: i64) -> String {
        store
            .conn()
            .query_row("SELECT status FROM outbox WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    }

    /// An ARF report of `feedback_type` about the message `<mid>` sent to `email`.
    fn arf(feedback_type: &str, email: &str, mid: &str) -> Vec<u8> {
        format!(
            "From: fbl@isp.test\r\nTo: sender@sender.test\r\nSubject: FW: Hello\r\n\
             Date: Sun, 22 Nov 2026 11:00:00 +0000\r\nMessage-ID: <arf.{feedback_type}@isp.test>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\r\n\
             --b1\r\nContent-Type: text/plain\r\n\r\nA feedback report.\r\n\r\n\
             --b1\r\nContent-Type: message/feedback-report\r\n\r\n\
             Feedback-Type: {feedback_type}\r\nUser-Agent: isp-fbl/1.0\r\nVersion: 1\r\n\
             Original-Rcpt-To: <{email}>\r\n\r\n\
             --b1\r\nContent-Type: message/rfc822\r\n\r\n\
             From: Sam Sender <sender@sender.test>\r\nTo: {email}\r\nSubject: Hello\r\n\
             Message-ID: <{mid}>\r\n\r\nBonjour\r\n\r\n--b1--\r\n"
        )
        .into_bytes()
    }

    /// `not-spam` (taken out of junk) and `auth-failure` (a DMARC report) are kept as
    /// feedback, but suppress nothing and never pause the mailbox; `abuse` does both.
    #[test]
    fn only_a_complaint_feedback_suppresses_and_counts_as_a_complaint() {
        let (_d, store) = store(&[
            (1, "a@acme.test", "1.x@sender.test"),
            (2, "b@acme.test", "2.x@sender.test"),
            (3, "c@acme.test", "3.x@sender.test"),
        ]);
        let c = store.conn();
        let not_spam = handle(
            c,
            at(1),
            &arf("not-spam", "a@acme.test", "1.x@sender.test"),
            9,
        )
        .unwrap();
        let auth = handle(
            c,
            at(2),
            &arf("auth-failure", "b@acme.test", "2.x@sender.test"),
            9,
        )
        .unwrap();
        let abuse = handle(c, at(3), &arf("abuse", "c@acme.test", "3.x@sender.test"), 9).unwrap();
        assert_eq!(
            (not_spam.effects.complaints, not_spam.effects.suppressed),
            (0, 0)
        );
        assert_eq!((auth.effects.complaints, auth.effects.suppressed), (0, 0));
        assert_eq!((abuse.effects.complaints, abuse.effects.suppressed), (1, 1));
        let kinds: Vec<(String, String)> = c
            .prepare("SELECT kind, reason FROM bounces ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            kinds,
            [
                ("feedback".to_string(), "not-spam".to_string()),
                ("feedback".to_string(), "auth-failure".to_string()),
                ("complaint".to_string(), "abuse".to_string()),
            ]
        );
        assert!(suppressions::blocking(c, "a@acme.test").unwrap().is_none());
        assert!(suppressions::blocking(c, "c@acme.test").unwrap().is_some());
    }

    /// Mail from a configured mailbox's own address, threaded to one of our messages, is the
    /// user's own: the row stays SENT and nothing is suppressed.
    #[test]
    fn own_mail_is_never_a_reply() {
        let (_d, store) = store(&[(29, "pat9@catchall.test", "29.abcd@sender.test")]);
        let c = store.conn();
        let own = vec!["sender@sender.test".to_string()];
        let mail = b"From: Sam <Sender@sender.test>\r\nTo: pat9@catchall.test\r\n\
                     Subject: Re: Hello\r\nMessage-ID: <own1@sender.test>\r\n\
                     In-Reply-To: <29.abcd@sender.test>\r\n\r\nFollowing up.\r\n";
        let out = handle(
            c,
            Location {
                own_addresses: &own,
                ..at(1)
            },
            mail,
            9,
        )
        .unwrap();
        assert_eq!((out.kind, out.disposition), ("other", Disposition::Keep));
        assert_eq!(out.effects, Effects::default());
        assert_eq!(status(&store, 29), "SENT");
        assert!(
            suppressions::blocking(c, "pat9@catchall.test")
                .unwrap()
                .is_none()
        );
        // The same message from someone else is a reply.
        let theirs = String::from_utf8_lossy(mail)
            .replace("Sam <Sender@sender.test>", "pat9@catchall.test")
            .replace("own1@", "theirs1@");
        let out = handle(c, at(2), theirs.as_bytes(), 9).unwrap();
        assert_eq!(out.kind, "reply");
    }

    /// A redacted complaint (no Original-Rcpt-To, the returned `To: redacted@…`) matched by
    /// its returned Message-ID is one complaint about that row's address. The placeholder is
    /// never suppressed; it is recorded only when nothing matched (the complaint still counts).
    #[test]
    fn a_redacted_complaint_is_one_complaint_about_the_matched_row() {
        let (_d, store) = store(&[(15, "pat3@catchall.test", "15.abcd@sender.test")]);
        let c = store.conn();
        let redacted = |mid: &str, n: u32| {
            String::from_utf8_lossy(&arf("abuse", "redacted@catchall.test", mid))
                .replace("Original-Rcpt-To: <redacted@catchall.test>\r\n", "")
                .replace("<arf.abuse@isp.test>", &format!("<arf{n}@isp.test>"))
        };
        let out = handle(c, at(1), redacted("15.abcd@sender.test", 1).as_bytes(), 9).unwrap();
        assert_eq!((out.effects.complaints, out.effects.suppressed), (1, 1));
        let rows: Vec<(String, Option<i64>)> = c
            .prepare("SELECT recipient, outbox_id FROM bounces ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [("pat3@catchall.test".to_string(), Some(15))]);
        assert!(
            suppressions::blocking(c, "pat3@catchall.test")
                .unwrap()
                .is_some()
        );
        assert!(
            suppressions::blocking(c, "redacted@catchall.test")
                .unwrap()
                .is_none()
        );
        // Unmatched: still a complaint (for the auto-pause), but the placeholder is no one.
        let out = handle(
            c,
            at(2),
            redacted("99.ffff@elsewhere.test", 2).as_bytes(),
            9,
        )
        .unwrap();
        assert_eq!((out.effects.complaints, out.effects.suppressed), (1, 0));
        assert!(
            suppressions::blocking(c, "redacted@catchall.test")
                .unwrap()
                .is_none()
        );
    }

    /// A soft-bounced row sent again (`outbox resend`) is one row with several messages:
    /// repeated soft bounces are counted per message, so its third one suppresses the
    /// address; two reports about one message (a relay and the final server) count once.
    #[test]
    fn a_row_sent_again_counts_each_message_it_soft_bounced() {
        let (_d, store) = store(&[(1, "full@greylist.test", "1.aaaa@sender.test")]);
        let c = store.conn();
        let report = |n: u32, mid: &str| {
            String::from_utf8_lossy(SOFT)
                .replace("20261122015955.DAECB99C199", &format!("soft{n}"))
                .replace("019b2b20-3430-4c4b-9a21-b3beacf0fe2e@sender.test", mid)
                .replace("someone@greylist.test", "full@greylist.test")
                .replace("Status: 4.7.1", "Status: 4.2.2")
                .replace("450 4.7.1", "452 4.2.2")
                .replace("Greylisted, please try again later", "Mailbox full")
        };
        let row = |c: &Connection| crate::store::outbox::get(c, 1).unwrap().unwrap();
        // Sent again by hand, then a new claim gives the row a new Message-ID.
        let send_again = |c: &Connection, mid: &str| {
            assert_eq!(sending::resend(c, 1, 200, false).unwrap(), None);
            let r = row(c);
            assert_eq!((r.status, r.approved), (Status::Ready, false));
            assert_eq!(
                r.reason.as_deref(),
                Some("sent again by hand after a soft bounce (mailboxfull 4.2.2)")
            );
            c.execute(
                "UPDATE outbox SET status = 'SENT', header_message_id = ?1 WHERE id = 1",
                [mid],
            )
            .unwrap();
        };
        let first = handle(c, at(1), report(1, "1.aaaa@sender.test").as_bytes(), 100).unwrap();
        assert_eq!((first.effects.bounced, first.effects.suppressed), (1, 0));
        assert_eq!(row(c).reason.as_deref(), Some("soft: mailboxfull 4.2.2"));
        // The same message reported again (another server's report): still one message.
        let again = handle(c, at(2), report(2, "1.aaaa@sender.test").as_bytes(), 100).unwrap();
        assert_eq!(again.effects.suppressed, 0);
        send_again(c, "1.bbbb@sender.test");
        let second = handle(c, at(3), report(3, "1.bbbb@sender.test").as_bytes(), 100).unwrap();
        assert_eq!((second.effects.bounced, second.effects.suppressed), (1, 0));
        send_again(c, "1.cccc@sender.test");
        let third = handle(c, at(4), report(4, "1.cccc@sender.test").as_bytes(), 100).unwrap();
        assert_eq!(third.effects.suppressed, 1);
        let s = suppressions::blocking(c, "full@greylist.test")
            .unwrap()
            .unwrap();
        assert_eq!(
            s.note.as_deref(),
            Some("3 messages soft-bounced (the last: mailboxfull 4.2.2)")
        );
        // Suppressed now: not sent again, and the reason names the entry.
        let problem = sending::resend_problem(c, &row(c), false)
            .unwrap()
            .unwrap()
            .to_string();
        assert!(
            problem.contains("suppressed: full@greylist.test (bounced: 3 messages soft-bounced"),
            "{problem}"
        );
    }

    /// A soft bounce may clear, so one does not suppress; the third of our messages to the same
    /// address bouncing for its mailbox (full) does, and says why. Soft bounces about our side
    /// or the path (greylisting that outlived the queue) never count.
    #[test]
    fn repeated_soft_bounces_suppress_the_address() {
        let rows = [
            (1, "someone@greylist.test", "1.s@sender.test"),
            (2, "Someone@greylist.test", "2.s@sender.test"),
            (3, "someone@greylist.test", "3.s@sender.test"),
        ];
        let soft_for = |id: i64, status: &str, text: &str| {
            String::from_utf8_lossy(SOFT)
                .replace("20261122015955.DAECB99C199", &format!("soft{id}"))
                .replace(
                    "019b2b20-3430-4c4b-9a21-b3beacf0fe2e@sender.test",
                    &format!("{id}.s@sender.test"),
                )
                .replace("Status: 4.7.1", &format!("Status: {status}"))
                .replace(
                    "450 4.7.1",
                    &format!(
                        "{} {status}",
                        if status.starts_with('4') { 452 } else { 552 }
                    ),
                )
                .replace("Greylisted, please try again later", text)
        };
        let (_d, store) = store(&rows);
        let c = store.conn();
        for id in 1..=2 {
            let out = handle(
                c,
                at(id as u32),
                soft_for(id, "4.2.2", "Mailbox full").as_bytes(),
                100,
            )
            .unwrap();
            assert_eq!(
                (out.effects.bounced, out.effects.suppressed),
                (1, 0),
                "{id}"
            );
        }
        let third = handle(
            c,
            at(3),
            soft_for(3, "4.2.2", "Mailbox full").as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(third.effects.suppressed, 1);
        let s = suppressions::blocking(c, "someone@greylist.test")
            .unwrap()
            .unwrap();
        assert_eq!(s.cause, "bounced");
        assert_eq!(
            s.note.as_deref(),
            Some("3 messages soft-bounced (the last: mailboxfull 4.2.2)")
        );
        // Greylisting that outlived the queue, three times: about the path, not the address.
        let (_d2, store) = self::store(&rows);
        for id in 1..=3 {
            let out = handle(
                store.conn(),
                at(id as u32),
                soft_for(id, "4.7.1", "Greylisted, please try again later").as_bytes(),
                100,
            )
            .unwrap();
            assert_eq!(out.effects.suppressed, 0, "{id}");
        }
        // A disabled account (5.2.1, "suspend": soft) suppresses at the first report; one
        // "temporarily suspended" (4.2.1) does not.
        let (_d3, store) = self::store(&rows);
        let temporary = handle(
            store.conn(),
            at(1),
            soft_for(1, "4.2.1", "this account has been temporarily suspended").as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(temporary.effects.suppressed, 0);
        let reason: String = store
            .conn()
            .query_row("SELECT reason FROM bounces", [], |r| r.get(0))
            .unwrap();
        assert_eq!(reason, "suspend", "a 4.x.x suspend, kept soft");
        let disabled = handle(
            store.conn(),
            at(2),
            soft_for(2, "5.2.1", "mailbox disabled").as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(disabled.effects.suppressed, 1);
        let s = suppressions::blocking(store.conn(), "someone@greylist.test")
            .unwrap()
            .unwrap();
        assert!(
            s.note
                .as_deref()
                .unwrap_or("")
                .starts_with("suspend 5.2.1: "),
            "{s:?}"
        );
    }

    /// A delivery report that says a delivery failed but names no recipient that can be read
    /// goes where unmatched bounces go (someone should look), not with mail to pass over; one
    /// that reports only deliveries is passed over.
    #[test]
    fn an_unreadable_failure_report_is_a_problem() {
        let (_d, store) = store(&[(1, "a@acme.test", "1.x@sender.test")]);
        // Threaded to our message, as some servers do: still not a reply.
        let report = |action: &str| {
            format!(
                "From: Mail Delivery System <MAILER-DAEMON@mx.broken.test>\r\n\
                 To: sender@sender.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
                 Message-ID: <r.{action}@mx.broken.test>\r\nMIME-Version: 1.0\r\n\
                 In-Reply-To: <1.x@sender.test>\r\n\
                 Content-Type: multipart/report; report-type=delivery-status; boundary=\"zz\"\r\n\
                 \r\n--zz\r\nContent-Type: text/plain\r\n\r\ndelivery report\r\n\
                 --zz\r\nContent-Type: message/delivery-status\r\n\r\n\
                 Reporting-MTA: dns; mx.broken.test\r\n\r\n\
                 Final-Recipient: rfc822; not an address at all\r\nAction: {action}\r\n\
                 Status: 5.1.1\r\n--zz--\r\n"
            )
        };
        let failed = handle(store.conn(), at(1), report("failed").as_bytes(), 9).unwrap();
        assert_eq!(
            (failed.kind, failed.disposition),
            ("other", Disposition::Problem)
        );
        let delivered = handle(store.conn(), at(2), report("delivered").as_bytes(), 9).unwrap();
        assert_eq!(
            (delivered.kind, delivered.disposition),
            ("other", Disposition::Skipped)
        );
        assert_eq!(status(&store, 1), "SENT", "a report is no reply");
        assert!(
            suppressions::blocking(store.conn(), "a@acme.test")
                .unwrap()
                .is_none()
        );
    }

    /// A report returning an earlier Message-ID of one of our rows (sent, settled UNCERTAIN,
    /// requeued: the row has a new one now) is matched to that row, not taken for the user's
    /// own mail.
    #[test]
    fn a_report_on_an_earlier_attempt_of_a_row_is_matched_to_it() {
        let (_d, store) = store(&[(7, "nobody@acme.test", "7.fedcba9876543210@sender.test")]);
        // Sent again: a claim gives the row a new Message-ID.
        store
            .conn()
            .execute(
                "UPDATE outbox SET header_message_id = '7.0123456789abcdef@sender.test'",
                [],
            )
            .unwrap();
        let earlier = String::from_utf8_lossy(HARD).replace(
            "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
            "7.fedcba9876543210@sender.test",
        );
        let out = handle(store.conn(), at(1), earlier.as_bytes(), 100).unwrap();
        assert_eq!(out.effects.invalid, 1);
        let how: String = store
            .conn()
            .query_row("SELECT matched_by FROM bounces", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            how,
            "by Message-ID <7.fedcba9876543210@sender.test>, an earlier attempt of row 7"
        );
    }

    /// A report returning a Message-ID of hailer's shape that this database never gave a
    /// message (another database sent it through the same mailbox: a previous campaign, a
    /// test) says nothing of the row that has the id it spells: neither a sent row nor one
    /// never sent gets the bounce, its status or a suppression.
    #[test]
    fn a_report_on_another_databases_message_is_not_put_on_the_row_with_its_id() {
        let (_d, store) = store(&[(7, "nobody@acme.test", "7.0123456789abcdef@sender.test")]);
        store
            .conn()
            .execute(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (8, 'f', 'l', 'K', 'k', 8, 0)",
                [],
            )
            .unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at, updated_at)
                 VALUES (8, 8, NULL, 'k', 'ERROR', 0, 0)",
                [],
            )
            .unwrap();
        for (uid, id) in [(1, 7), (2, 8)] {
            let other = String::from_utf8_lossy(HARD)
                .replace(
                    "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
                    &format!("{id}.fedcba9876543210@sender.test"),
                )
                .replace("20261122015955.86C8E99C194", &format!("dsn{id}"));
            let out = handle(store.conn(), at(uid), other.as_bytes(), 100).unwrap();
            assert_eq!(out.effects.invalid, 0, "row {id}");
            assert_eq!(out.effects.bounced, 0, "row {id}");
        }
        assert_eq!(status(&store, 7), "SENT");
        assert_eq!(status(&store, 8), "ERROR");
        let matched: Vec<(Option<i64>, String)> = store
            .conn()
            .prepare("SELECT outbox_id, matched_by FROM bounces ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(matched.len(), 2, "{matched:?}");
        for (outbox_id, how) in &matched {
            assert_eq!(*outbox_id, None, "{how}");
            assert!(how.contains("not a message this database sent"), "{how}");
        }
        assert!(
            suppressions::blocking(store.conn(), "nobody@acme.test")
                .unwrap()
                .is_none()
        );
    }

    /// A notice that returns no Message-ID but answers our message (In-Reply-To) is matched by
    /// it, not guessed by recipient.
    #[test]
    fn a_report_threaded_to_our_message_is_matched_by_it() {
        let (_d, store) = store(&[(1, "alias@acme.test", "1.x@sender.test")]);
        let notice = b"From: postmaster@acme.test\r\nTo: sender@sender.test\r\n\
            Subject: Undeliverable: Hello\r\nDate: Sun, 22 Nov 2026 11:00:00 +0000\r\n\
            Message-ID: <ndr.1@acme.test>\r\nIn-Reply-To: <1.x@sender.test>\r\n\r\n\
            Your message to jane@acme.test could not be delivered.\r\n\
            550 5.1.1 <jane@acme.test>: Recipient address rejected: User unknown\r\n";
        let out = handle(store.conn(), at(1), notice, 9).unwrap();
        let matched: (Option<i64>, String) = store
            .conn()
            .query_row("SELECT outbox_id, matched_by FROM bounces", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(out.kind, "bounce");
        assert_eq!(
            matched,
            (
                Some(1),
                "by the report's In-Reply-To/References <1.x@sender.test>".to_string()
            )
        );
    }

    #[test]
    fn unsubscribe_subjects() {
        for yes in [
            "unsubscribe",
            "Unsubscribe",
            "RE: unsubscribe",
            "Re: TR: Désinscription",
            "STOP",
            "STOP!",
            "remove me from your list",
            "Please remove me",
            "Opt-out please",
            "Opt out",
            "Abmelden",
            "Désinscription svp",
        ] {
            assert!(asks_to_unsubscribe(yes), "{yes}");
        }
        for no in [
            "Re: your offer",
            "stopping by next week",
            "Unsubscribed users report",
            "Re: quick question",
            "Re: Stop losing leads",
            "Stop by our booth",
            "Baja California offsite",
            "Re: remove the old contact",
            "please",
            "",
        ] {
            assert!(!asks_to_unsubscribe(no), "{no}");
        }
    }

    #[test]
    fn an_unsubscribe_email_suppresses_its_sender_and_the_sent_address() {
        let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let conn = store.conn();
        // Answered from a personal address, In-Reply-To names our message.
        let msg = b"From: Jean Dupont <Jean@Perso.test>\r\nTo: claire@sender.test\r\n\
Subject: Re: unsubscribe\r\nIn-Reply-To: <1.abc@sender.test>\r\n\
Message-ID: <u1@perso.test>\r\n\r\nPlease remove me.\r\n";
        let out = handle(conn, at(7), msg, 100).unwrap();
        assert_eq!(out.kind, "unsubscribe");
        assert_eq!(out.disposition, Disposition::Processed);
        assert_eq!(out.effects.suppressed, 2);
        let causes: Vec<(String, String)> = conn
            .prepare("SELECT entry, cause FROM suppressions ORDER BY entry")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            causes,
            [
                ("jdupont@acme.test".to_string(), "unsubscribed".to_string()),
                ("jean@perso.test".to_string(), "unsubscribed".to_string())
            ]
        );
        // It is not a reply: the row keeps its status.
        assert_eq!(status(&store, 1), "SENT");
    }

    /// A person answering in German ("AW:") a subject that happens to hold an out-of-office
    /// word is a reply, not an auto-reply; the real auto-reply to it is still one.
    #[test]
    fn a_reply_with_a_foreign_prefix_is_not_an_auto_reply() {
        let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let conn = store.conn();
        let msg = b"From: Jean Dupont <jdupont@acme.test>\r\nTo: claire@sender.test\r\n\
Subject: AW: Cutting employee absence costs\r\nIn-Reply-To: <1.abc@sender.test>\r\n\
Message-ID: <r1@acme.test>\r\n\r\nHallo, gerne, rufen Sie mich an.\r\n";
        let out = handle(conn, at(8), msg, 100).unwrap();
        assert_eq!(out.kind, "reply");
        assert_eq!(status(&store, 1), "REPLIED");

        let (_d, store) = self::store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let msg = b"From: Jean Dupont <jdupont@acme.test>\r\nTo: claire@sender.test\r\n\
Subject: Abwesenheitsnotiz: Cutting employee absence costs\r\n\
In-Reply-To: <1.abc@sender.test>\r\nMessage-ID: <r2@acme.test>\r\n\r\n\
Ich bin bis Montag nicht im Buero.\r\n";
        let out = handle(store.conn(), at(9), msg, 100).unwrap();
        assert_eq!(out.kind, "autoreply");
        assert_eq!(status(&store, 1), "SENT");
    }

    /// The List-Unsubscribe mailto sent by a client that marks it Auto-Submitted is still an
    /// unsubscribe, not an auto-reply to ignore.
    #[test]
    fn an_auto_submitted_unsubscribe_still_suppresses() {
        let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let msg = b"From: jdupont@acme.test\r\nTo: claire@sender.test\r\nSubject: unsubscribe\r\n\
Auto-Submitted: auto-generated\r\nMessage-ID: <u9@acme.test>\r\n\r\nunsubscribe\r\n";
        let out = handle(store.conn(), at(11), msg, 100).unwrap();
        assert_eq!(out.kind, "unsubscribe");
        assert!(
            suppressions::blocking(store.conn(), "jdupont@acme.test")
                .unwrap()
                .is_some()
        );
    }

    /// A reply without In-Reply-To or References is matched by its sender, as long as we
    /// wrote to that address before it was sent.
    #[test]
    fn a_reply_without_threading_headers_is_matched_by_its_sender() {
        let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let msg = b"From: Jean Dupont <JDupont@acme.test>\r\nTo: claire@sender.test\r\n\
Subject: Re: our offer\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <r3@acme.test>\r\n\r\nInteresting, call me.\r\n";
        let out = handle(store.conn(), at(10), msg, 100).unwrap();
        assert_eq!(out.kind, "reply");
        assert_eq!(status(&store, 1), "REPLIED");
        let (outbox_id, how): (Option<i64>, String) = store
            .conn()
            .query_row(
                "SELECT outbox_id, matched_by FROM inbox_messages",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(outbox_id, Some(1));
        assert_eq!(
            how,
            "by sender address JDupont@acme.test: no In-Reply-To/References of ours; the \
             latest message sent to jdupont@acme.test before this one"
        );
    }

    /// The prospect answering from a personal address, unthreaded: matched to their row when
    /// the display name is their first and last name and the text quotes our subject, and
    /// the evidence says so; the same name without our subject quoted, or a name two
    /// prospects share, stays `other`.
    #[test]
    fn an_unthreaded_reply_from_a_personal_address_is_matched_by_name_and_quoted_subject() {
        let (_d, store) = store(&[
            (1, "jane.doe@acme.test", "1.abc@sender.test"),
            (2, "john.roe@beta.test", "2.abc@sender.test"),
        ]);
        let c = store.conn();
        c.execute_batch(
            "UPDATE prospects SET firstname = 'Jane', lastname = 'Doe' WHERE id = 1;
             UPDATE prospects SET firstname = 'John', lastname = 'Roe' WHERE id = 2;
             UPDATE outbox SET subject = 'A faster way to close the books at Acme' WHERE id = 1;
             UPDATE outbox SET subject = 'A faster way to close the books at Beta' WHERE id = 2;",
        )
        .unwrap();
        let reply = |uid: u32, from: &str, quoted: &str| {
            let msg = format!(
                "From: {from}\r\nTo: claire@sender.test\r\nSubject: Re: your mail\r\n\
                 Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <p{uid}@gmail.test>\r\n\r\n\
                 Happy to talk next week.\r\n\r\n-----Original Message-----\r\n\
                 From: Claire <claire@sender.test>\r\n{quoted}\r\n> Hi Jane,\r\n"
            );
            let out = handle(c, at(uid), msg.as_bytes(), 100).unwrap();
            let (outbox_id, how): (Option<i64>, String) = c
                .query_row(
                    "SELECT outbox_id, matched_by FROM inbox_messages WHERE uid = ?1",
                    [uid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            (out.kind, outbox_id, how)
        };
        // The name, but not our subject: left as before.
        let (kind, row, _) = reply(
            1,
            "Jane Doe <jane.doe.home@gmail.test>",
            "Subject: something else",
        );
        assert_eq!((kind, row), ("other", None));
        assert_eq!(status(&store, 1), "SENT");
        // Another name quoting Jane's subject: left as before.
        let (kind, row, _) = reply(
            2,
            "Joan Dee <joan@gmail.test>",
            "Subject: A faster way to close the books at Acme",
        );
        assert_eq!((kind, row), ("other", None));
        // Her name (another case, "Last, First") and her subject, wrapped and quoted.
        let (kind, row, how) = reply(
            3,
            "\"DOE, Jane\" <jane.doe.home@gmail.test>",
            "> Subject: A faster way to close\r\n> the books at Acme",
        );
        assert_eq!((kind, row), ("reply", Some(1)));
        assert_eq!(status(&store, 1), "REPLIED");
        assert!(
            how.starts_with("by sender name \"DOE, Jane\" (the prospect's first and last name)")
                && how.contains("jane.doe@acme.test")
                && how.contains("from jane.doe.home@gmail.test, an address hailer never wrote to"),
            "{how}"
        );
        // Her subject's words in a namesake's text, not as a quoted subject: left alone (the
        // prospect would be suppressed for an answer she never wrote).
        c.execute("UPDATE outbox SET status = 'SENT' WHERE id = 1", [])
            .unwrap();
        let (kind, row, _) = reply(
            5,
            "Jane Doe <jane.doe@namesake.test>",
            "We need a faster way to close the books at Acme, can you help?",
        );
        assert_eq!((kind, row), ("other", None));
        // Her subject as the answer's own (Re: aside), nothing quoted: hers, and not said to be
        // a colleague's answer.
        let msg = "From: Jane Doe <jane.doe.home@gmail.test>\r\nTo: claire@sender.test\r\n\
                   Subject: RE: A faster way to close the books at Acme\r\n\
                   Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <p6@gmail.test>\r\n\r\n\
                   Call me.\r\n";
        assert_eq!(handle(c, at(6), msg.as_bytes(), 100).unwrap().kind, "reply");
        let note: String = c
            .query_row(
                "SELECT note FROM suppressions WHERE entry = 'jane.doe@acme.test'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!note.contains("answered by"), "{note}");
        // Two prospects with that name whose subjects are both quoted: neither is taken.
        c.execute_batch("UPDATE prospects SET firstname = 'Jane', lastname = 'Doe' WHERE id = 2;")
            .unwrap();
        let (kind, row, _) = reply(
            4,
            "Jane Doe <jd@gmail.test>",
            "Subject: A faster way to close the books at Acme\r\n\
             > Subject: A faster way to close the books at Beta",
        );
        assert_eq!((kind, row), ("other", None));
    }

    /// The same, threaded to a message that is not ours (the person's own earlier mail):
    /// matched by its sender all the same, to the row sent to it most recently.
    #[test]
    fn a_reply_threaded_elsewhere_is_matched_by_its_sender_to_the_latest_row() {
        let (_d, store) = store(&[
            (1, "jdupont@acme.test", "1.abc@sender.test"),
            (2, "jdupont@acme.test", "2.abc@sender.test"),
        ]);
        let c = store.conn();
        c.execute("UPDATE outbox SET sent_at = 50 WHERE id = 2", [])
            .unwrap();
        let msg = b"From: jdupont@acme.test\r\nTo: claire@sender.test\r\n\
Subject: About your mail\r\nIn-Reply-To: <own.1@acme.test>\r\n\
Message-ID: <r4@acme.test>\r\n\r\nLet's talk.\r\n";
        let out = handle(c, at(10), msg, 100).unwrap();
        assert_eq!(out.kind, "reply");
        assert_eq!(
            (status(&store, 1), status(&store, 2)),
            ("SENT".into(), "REPLIED".into())
        );
        let how: String = c
            .query_row("SELECT matched_by FROM inbox_messages", [], |r| r.get(0))
            .unwrap();
        assert!(
            how.starts_with("by sender address jdupont@acme.test"),
            "{how}"
        );
    }

    /// A colleague answering on the thread: the conversation is a person's now, so the
    /// address written to is suppressed as for the prospect's own answer, and the entry and
    /// the message say who answered.
    #[test]
    fn a_colleague_answering_on_the_thread_suppresses_the_row_and_says_who() {
        let (_d, store) = store(&[(1, "x@fallback.test", "1.abc@sender.test")]);
        let c = store.conn();
        let msg = b"From: Boss <boss@fallback.test>\r\nTo: claire@sender.test\r\n\
Subject: Re: Hello\r\nIn-Reply-To: <1.abc@sender.test>\r\n\
Message-ID: <r5@fallback.test>\r\n\r\nX is away; I handle this. Call me.\r\n";
        let out = handle(c, at(10), msg, 100).unwrap();
        assert_eq!(
            (out.kind, out.effects.replied, out.effects.suppressed),
            ("reply", 1, 1)
        );
        let s = suppressions::blocking(c, "x@fallback.test")
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.cause.as_str(), s.note.as_deref()),
            (
                "replied",
                Some("Re: Hello (answered by boss@fallback.test)")
            )
        );
        let how: String = c
            .query_row("SELECT matched_by FROM inbox_messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            how,
            "by In-Reply-To/References <1.abc@sender.test>; answered by boss@fallback.test, \
             not the address written to"
        );
    }

    /// What a reply says is kept (its writer's text, not what it quotes nor the signature);
    /// a report keeps none.
    #[test]
    fn a_reply_keeps_a_snippet_of_its_own_text() {
        let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let c = store.conn();
        let msg = b"From: jdupont@acme.test\r\nTo: claire@sender.test\r\n\
Subject: Re: Hello\r\nIn-Reply-To: <1.abc@sender.test>\r\n\
Message-ID: <r6@acme.test>\r\n\r\nHello Claire,\r\n\r\n\r\n\r\nYes, Tuesday at 10.\r\n\
-- \r\nJean Dupont, CFO\r\n\r\nOn Mon, 7 Dec 2026, Claire <claire@sender.test> wrote:\r\n\
> Would Tuesday suit you?\r\n";
        handle(c, at(1), msg, 100).unwrap();
        handle(c, at(2), HARD, 100).unwrap();
        let snippets: Vec<(String, String)> = c
            .prepare("SELECT kind, snippet FROM inbox_messages ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            snippets,
            [
                (
                    "reply".to_string(),
                    "Hello Claire,\n\nYes, Tuesday at 10.".to_string()
                ),
                ("bounce".to_string(), String::new())
            ]
        );
    }

    /// An answer whose own text asks to be taken off the list is an unsubscribe request:
    /// the address is suppressed as `unsubscribed`, the phrase as evidence. Negated, or only
    /// in the quoted text, it is a reply.
    #[test]
    fn an_answer_asking_in_its_text_to_unsubscribe_is_an_unsubscribe() {
        let answer = |n: u32, body: &str| {
            format!(
                "From: jdupont@acme.test\r\nTo: claire@sender.test\r\nSubject: Re: Hello\r\n\
                 In-Reply-To: <1.abc@sender.test>\r\nMessage-ID: <u{n}@acme.test>\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            )
        };
        for (n, body, phrase) in [
            (1, "Please take me off your list.", "take me off"),
            (2, "STOP", "STOP"),
            (
                3,
                "Bonjour,\r\nMerci de me désinscrire.\r\nJean",
                "me désinscrire",
            ),
            (
                4,
                "Je ne souhaite plus recevoir vos messages.",
                "plus recevoir vos",
            ),
            (
                5,
                "Not interested, please stop emailing me.",
                "stop emailing me",
            ),
            (6, "Retirez-moi de vos listes", "retirez-moi"),
        ] {
            let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
            let c = store.conn();
            let out = handle(c, at(n), answer(n, body).as_bytes(), 100).unwrap();
            assert_eq!(
                (out.kind, out.effects.suppressed),
                ("unsubscribe", 1),
                "{body}"
            );
            let s = suppressions::blocking(c, "jdupont@acme.test")
                .unwrap()
                .unwrap();
            assert_eq!(s.cause, "unsubscribed", "{body}");
            assert_eq!(s.note.unwrap(), format!("reply: \"{phrase}\""), "{body}");
            // A person's answer all the same: REPLIED, and left where they read it.
            assert_eq!(status(&store, 1), "REPLIED", "{body}");
            assert_eq!(out.disposition, Disposition::Keep, "{body}");
        }
        for (n, body) in [
            (7, "Please don't unsubscribe me, I like these."),
            (
                8,
                "Sounds good, call me.\r\n\r\n> To unsubscribe, reply STOP\r\n> remove me",
            ),
            (9, "I do not want to opt out."),
            (10, "Yes.\r\n\r\nOn Mon, Claire wrote:\r\nunsubscribe here"),
            // Business sentences that contain a request's words are not one.
            (
                11,
                "Yes, interested. We need to remove users manually today.",
            ),
            (12, "Sounds good. We want to stop sending paper invoices."),
            (13, "Interesting. Our users can opt-out today, can yours?"),
            // A footer below the first lines, and a quote under a French or German header.
            (
                14,
                "Let's talk Tuesday.\r\nBest,\r\nJean Dupont\r\nCEO\r\nAcme\r\n+33 1 00 00 00 00\r\n\
                 Acme SAS, 1 rue de la Paix\r\nTo stop emailing me, remove me from your list.",
            ),
            (
                15,
                "Oui, appelez-moi.\r\n\r\nDe : Claire <claire@sender.test>\r\nEnvoyé : lundi\r\n\
                 Reply STOP to opt out. Merci de me désinscrire ici.",
            ),
            (
                16,
                "Gerne.\r\n\r\nAm Montag, 7. Dezember 2026 schrieb Claire:\r\nremove me: reply STOP",
            ),
        ] {
            let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
            let c = store.conn();
            let out = handle(c, at(n), answer(n, body).as_bytes(), 100).unwrap();
            assert_eq!(out.kind, "reply", "{body}");
            assert_eq!(
                suppressions::blocking(c, "jdupont@acme.test")
                    .unwrap()
                    .unwrap()
                    .cause,
                "replied",
                "{body}"
            );
        }
    }

    /// The same words in mail that answers nothing of ours (a newsletter's footer) are no
    /// one's request.
    #[test]
    fn unsubscribe_words_in_unmatched_mail_suppress_nothing() {
        let (_d, store) = store(&[(1, "jdupont@acme.test", "1.abc@sender.test")]);
        let c = store.conn();
        let msg = b"From: news@shop.test\r\nTo: claire@sender.test\r\nSubject: Deals\r\n\
Message-ID: <n1@shop.test>\r\n\r\nBig savings. To unsubscribe click here.\r\n";
        let out = handle(c, at(1), msg, 100).unwrap();
        assert_eq!((out.kind, out.effects.suppressed), ("other", 0));
    }

    /// Relayed, expanded and delivered DSN records, unmatched or not, are no bounces: none is
    /// stored or counted, beside a failed record of the same report or alone.
    #[test]
    fn relayed_and_expanded_records_are_not_bounces() {
        let (_d, store) = store(&[(1, "jane@acme.test", "1.abc@sender.test")]);
        let c = store.conn();
        let report = |uid: u32, records: &str| {
            format!(
                "From: MAILER-DAEMON@mx.acme.test\r\nTo: claire@sender.test\r\n\
                 Subject: Delivery Status Notification\r\nMessage-ID: <d{uid}@mx.acme.test>\r\n\
                 MIME-Version: 1.0\r\nContent-Type: multipart/report; \
                 report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\n\
                 Content-Type: text/plain\r\n\r\nA report.\r\n--B\r\n\
                 Content-Type: message/delivery-status\r\n\r\n\
                 Reporting-MTA: dns; mx.acme.test\r\n\r\n{records}--B--\r\n"
            )
        };
        let record = |to: &str, action: &str, status: &str| {
            format!("Final-Recipient: rfc822; {to}\r\nAction: {action}\r\nStatus: {status}\r\n\r\n")
        };
        let alone = report(
            1,
            &[
                record("nobody@other.test", "relayed", "2.0.0"),
                record("list@other.test", "expanded", "2.0.0"),
                record("jane@acme.test", "delivered", "2.0.0"),
            ]
            .concat(),
        );
        let out = handle(c, at(1), alone.as_bytes(), 100).unwrap();
        assert_eq!((out.kind, out.effects.bounces), ("other", 0));
        let mixed = report(
            2,
            &[
                record("nobody@other.test", "relayed", "2.0.0"),
                record("list@other.test", "expanded", "2.0.0"),
                record("gone@other.test", "failed", "5.1.1"),
            ]
            .concat(),
        );
        let out = handle(c, at(2), mixed.as_bytes(), 100).unwrap();
        assert_eq!((out.kind, out.effects.bounces), ("bounce", 1));
        let stored: Vec<(String, String)> = c
            .prepare("SELECT recipient, action FROM bounces")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(stored, [("gone@other.test".into(), "failed".into())]);
        assert_eq!(status(&store, 1), "SENT");
    }

    #[test]
    fn a_delay_is_stored_but_changes_nothing() {
        let (_d, store) = store(&[(
            1,
            "someone@deadmx.test",
            "20261122015232.768C399A480@mail.sender.test",
        )]);
        let out = handle(store.conn(), at(1), DELAYED, 100).unwrap();
        assert_eq!(out.kind, "delayed");
        // Stored (the Bounces tab shows it as a delay), but no bounce in the effects.
        assert_eq!(out.effects.bounces, 0);
        let stored: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM bounces WHERE action = 'delayed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 1);
        assert_eq!(out.effects.suppressed, 0);
        assert_eq!(status(&store, 1), "SENT");
    }

    /// A bounce dated before the row was sent is about some earlier message to that address
    /// (another run, the user's own mail): matched by recipient, it must not touch the row.
    #[test]
    fn a_bounce_older_than_the_send_is_not_matched_by_recipient() {
        let (_d, store) = store(&[(1, "someone@greylist.test", "1.a@hailer.test")]);
        let c = store.conn();
        let dsn_date = message_date(SOFT).unwrap();
        c.execute(
            "UPDATE outbox SET sent_at = ?1 WHERE id = 1",
            [dsn_date + 3600],
        )
        .unwrap();
        let out = handle(c, at(1), SOFT, dsn_date + 7200).unwrap();
        assert_eq!(out.kind, "bounce");
        assert_eq!(out.effects.bounced, 0);
        assert_eq!(status(&store, 1), "SENT");
        // Within the clock skew allowed, it still matches (a fresh store: the same message
        // read twice is a duplicate).
        let (_d2, fresh) = self::store(&[(1, "someone@greylist.test", "1.a@hailer.test")]);
        let c = fresh.conn();
        c.execute(
            "UPDATE outbox SET sent_at = ?1 WHERE id = 1",
            [dsn_date + CLOCK_SKEW_SECS - 1],
        )
        .unwrap();
        let out = handle(c, at(1), SOFT, dsn_date + 7200).unwrap();
        assert_eq!(out.effects.bounced, 1);
        assert_eq!(status(&fresh, 1), "BOUNCED");
    }

    #[test]
    fn soft_then_hard_upgrades_and_hard_is_never_downgraded() {
        // Both DSNs matched by recipient (their returned Message-IDs are not ours, and at a
        // domain these rows were not sent from).
        let (_d, store) = store(&[
            (1, "someone@greylist.test", "1.a@hailer.test"),
            (2, "nobody@acme.test", "2.b@hailer.test"),
        ]);
        let c = store.conn();
        let soft = handle(c, at(1), SOFT, 100).unwrap();
        assert_eq!((soft.effects.bounced, soft.effects.suppressed), (1, 0));
        assert_eq!(status(&store, 1), "BOUNCED");
        let reason: String = c
            .query_row("SELECT reason FROM outbox WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert!(reason.starts_with("soft: "), "{reason}");
        assert!(
            suppressions::blocking(c, "someone@greylist.test")
                .unwrap()
                .is_none()
        );

        let hard = handle(c, at(2), HARD, 100).unwrap();
        assert_eq!((hard.effects.invalid, hard.effects.suppressed), (1, 1));
        assert_eq!(status(&store, 2), "INVALID");
        // The same DSN again (another UID): a duplicate, no effect.
        let again = handle(c, at(3), HARD, 100).unwrap();
        assert_eq!(again.kind, "duplicate");
        assert_eq!(again.effects, Effects::default());
        // A soft bounce for the INVALID row does not bring it back to BOUNCED.
        let soft_for_2 = String::from_utf8_lossy(SOFT)
            .replace("someone@greylist.test", "nobody@acme.test")
            .replace("20261122015955.DAECB99C199", "other");
        handle(c, at(4), soft_for_2.as_bytes(), 100).unwrap();
        assert_eq!(status(&store, 2), "INVALID");
    }

    /// A DSN with the generic status 5.0.0 whose text says the mailbox does not exist is a
    /// hard bounce: the row is INVALID and the address suppressed, not a soft `filtered`.
    #[test]
    fn a_generic_status_user_unknown_is_a_hard_bounce() {
        let (_d, store) = store(&[(1, "x@catchall.test", "a@sender.test")]);
        let c = store.conn();
        let dsn = "From: MAILER-DAEMON@mx.catchall.test\r\nTo: sender@sender.test\r\n\
                   Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <d2@mx.catchall.test>\r\n\
                   MIME-Version: 1.0\r\n\
                   Content-Type: multipart/report; report-type=delivery-status; boundary=\"C\"\r\n\r\n\
                   --C\r\nContent-Type: text/plain\r\n\r\nfailed\r\n\r\n\
                   --C\r\nContent-Type: message/delivery-status\r\n\r\n\
                   Reporting-MTA: dns; mx.catchall.test\r\n\r\n\
                   Final-Recipient: rfc822; x@catchall.test\r\nAction: failed\r\nStatus: 5.0.0\r\n\
                   Diagnostic-Code: smtp; 550 5.0.0 <x@catchall.test>... User unknown\r\n\r\n\
                   --C\r\nContent-Type: text/rfc822-headers\r\n\r\n\
                   Message-ID: <a@sender.test>\r\nFrom: sender@sender.test\r\nTo: x@catchall.test\r\n\r\n\
                   --C--\r\n";
        let out = handle(c, at(1), dsn.as_bytes(), 100).unwrap();
        assert_eq!((out.effects.invalid, out.effects.suppressed), (1, 1));
        assert_eq!(status(&store, 1), "INVALID");
        let reason: String = c
            .query_row("SELECT reason FROM outbox WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(reason, "hard: userunknown 5.0.0");
    }

    /// A domain whose host refuses relay (`norelaying`) or a server refusing connections until
    /// the queue gave up (`expired`) says something of the address too: such soft bounces
    /// count toward the limit. A row sent again that bounced the same way again is refused
    /// by `outbox resend` unless forced.
    #[test]
    fn repeated_relay_and_expired_soft_bounces_count_and_block_a_second_resend() {
        const RELAY: &[u8] = include_bytes!("../../../tests/data/rig-dsn/dsn-relay-denied.eml");
        const REFUSED: &[u8] =
            include_bytes!("../../../tests/data/rig-dsn/dsn-mx-connection-refused.eml");
        for (fixture, address, first_mid, why) in [
            (
                RELAY,
                "someone@nomx.test",
                "0f09611f-75e5-4d37-ad45-8dcc284603db@sender.test",
                "norelaying 5.7.1",
            ),
            (
                REFUSED,
                "someone@deadmx.test",
                "937cd299-7b59-4065-a047-e4319d1fd45e@sender.test",
                "expired 4.4.1",
            ),
        ] {
            let (_d, store) = store(&[(1, address, "1.aaaa@sender.test")]);
            let c = store.conn();
            let report = |n: u32, mid: &str| {
                let text = String::from_utf8_lossy(fixture).replace(first_mid, mid);
                // A new report's own Message-ID, so it is not a duplicate.
                text.replacen("Message-Id: <", &format!("Message-Id: <r{n}."), 1)
            };
            let row = |c: &Connection| crate::store::outbox::get(c, 1).unwrap().unwrap();
            let sent_as = |c: &Connection, mid: &str| {
                c.execute(
                    "UPDATE outbox SET status = 'SENT', header_message_id = ?1 WHERE id = 1",
                    [mid],
                )
                .unwrap();
            };
            let first = handle(c, at(1), report(1, "1.aaaa@sender.test").as_bytes(), 100).unwrap();
            assert_eq!(
                (first.effects.bounced, first.effects.suppressed),
                (1, 0),
                "{why}"
            );
            assert_eq!(row(c).reason.unwrap(), format!("soft: {why}"));
            assert_eq!(sending::resend(c, 1, 200, false).unwrap(), None, "{why}");
            sent_as(c, "1.bbbb@sender.test");
            let second = handle(c, at(2), report(2, "1.bbbb@sender.test").as_bytes(), 100).unwrap();
            assert_eq!(second.effects.suppressed, 0, "{why}");
            // The same bounce again: refused, saying so, unless forced.
            let problem = sending::resend(c, 1, 200, false)
                .unwrap()
                .unwrap()
                .to_string();
            assert!(
                problem.contains("2 of its messages soft-bounced the same way"),
                "{problem}"
            );
            assert_eq!(row(c).status, Status::Bounced);
            assert_eq!(sending::resend(c, 1, 200, true).unwrap(), None, "{why}");
            sent_as(c, "1.cccc@sender.test");
            // The third message: the address is suppressed, forced or not.
            let third = handle(c, at(3), report(3, "1.cccc@sender.test").as_bytes(), 100).unwrap();
            assert_eq!(third.effects.suppressed, 1, "{why}");
            let problem = sending::resend(c, 1, 200, true).unwrap().unwrap();
            assert!(
                matches!(problem, sending::ResendRefusal::Suppressed { .. }),
                "{problem}"
            );
        }
    }

    /// Every bounce row says how it was matched: by the returned Message-ID when it is ours,
    /// by recipient (a guess, saying why) when it is not, or why nothing matched.
    #[test]
    fn a_bounce_says_how_it_was_matched() {
        let ours = "7.f00d@sender.test";
        let (_d, store) = store(&[(1, "nobody@acme.test", ours)]);
        let c = store.conn();
        let by_id = String::from_utf8_lossy(HARD)
            .replace("a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test", ours);
        handle(c, at(1), by_id.as_bytes(), 100).unwrap();
        // Another Message-ID at a domain hailer sends from: the user's own mail, never ours.
        let own_mail = String::from_utf8_lossy(HARD).replace("20261122015955.86C8E99C194", "x2");
        handle(c, at(2), own_mail.as_bytes(), 100).unwrap();
        // One at another domain (a relay that rewrites it): matched by recipient, said so.
        let rewritten = String::from_utf8_lossy(HARD)
            .replace("20261122015955.86C8E99C194", "x3")
            .replace(
                "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
                "a49e2c80@relay.test",
            );
        handle(c, at(3), rewritten.as_bytes(), 100).unwrap();
        let (_d2, empty) = self::store(&[]);
        handle(empty.conn(), at(3), HARD, 100).unwrap();
        let how = |s: &Store| -> Vec<(Option<i64>, String)> {
            s.conn()
                .prepare("SELECT outbox_id, matched_by FROM bounces ORDER BY id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(
            how(&store),
            [
                (Some(1), format!("by Message-ID <{ours}>")),
                (
                    None,
                    "no match: the report returns Message-ID \
                     <a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test>, at sender.test where \
                     hailer sends from, but not a message this database sent (the user's own \
                     mail, or another database's?)"
                        .to_string()
                ),
                (
                    Some(1),
                    "by recipient nobody@acme.test, the latest message sent to it before the \
                     report (the report returns Message-ID <a49e2c80@relay.test>, not one of \
                     ours)"
                        .to_string()
                )
            ]
        );
        assert_eq!(
            how(&empty),
            [(
                None,
                "no match: nothing was sent to nobody@acme.test before the report (the report \
                 returns Message-ID <a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test>, not one \
                 of ours)"
                    .to_string()
            )]
        );
    }

    /// A redacted complaint matched to a row whose own address looks like a placeholder
    /// (`xxx@…`, `redacted@…`): that address is the row's, written by hailer, so it is
    /// suppressed; only an address read from the report can be the ISP's placeholder.
    #[test]
    fn a_redacted_complaint_suppresses_the_rows_own_address_even_when_it_looks_redacted() {
        for address in ["xxx@catchall.test", "redacted.team@catchall.test"] {
            let (_d, store) = store(&[(15, address, "15.abcd@sender.test")]);
            let c = store.conn();
            let report = String::from_utf8_lossy(&arf("abuse", address, "15.abcd@sender.test"))
                .replace(&format!("Original-Rcpt-To: <{address}>\r\n"), "")
                .replace(&format!("To: {address}"), "To: redacted@catchall.test");
            let out = handle(c, at(1), report.as_bytes(), 9).unwrap();
            assert_eq!(
                (out.effects.complaints, out.effects.suppressed),
                (1, 1),
                "{address}"
            );
            let s = suppressions::blocking(c, address).unwrap().unwrap();
            assert_eq!(s.cause, "complained", "{address}");
        }
    }

    /// A late report about an earlier message of a row (sent again since from a mailbox at
    /// another domain, so the row has a new Message-ID) is matched to the row but stored with
    /// the Message-ID it names: it does not count as a bounce of the new message, which keeps
    /// its status, and a resend is not refused for it.
    #[test]
    fn a_late_report_about_an_earlier_message_keeps_its_message_id() {
        const RELAY: &[u8] = include_bytes!("../../../tests/data/rig-dsn/dsn-relay-denied.eml");
        let first_mid = "0f09611f-75e5-4d37-ad45-8dcc284603db@sender.test";
        let (_d, store) = store(&[
            (1, "someone@nomx.test", "1.aaaaaaaaaaaaaaaa@sender.test"),
            (2, "other@acme.test", "2.bbbbbbbbbbbbbbbb@sender.test"),
        ]);
        let c = store.conn();
        let report = |n: u32, mid: &str| {
            String::from_utf8_lossy(RELAY)
                .replace(first_mid, mid)
                .replacen("Message-Id: <", &format!("Message-Id: <r{n}."), 1)
        };
        handle(
            c,
            at(1),
            report(1, "1.aaaaaaaaaaaaaaaa@sender.test").as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(status(&store, 1), "BOUNCED");
        assert_eq!(sending::resend(c, 1, 200, false).unwrap(), None);
        // Sent again from a mailbox at another domain.
        c.execute(
            "UPDATE outbox SET status = 'SENT', header_message_id = '1.cccccccccccccccc@other.test'
             WHERE id = 1",
            [],
        )
        .unwrap();
        // The second server's report about the first message comes in late.
        let late = handle(
            c,
            at(2),
            report(2, "1.aaaaaaaaaaaaaaaa@sender.test").as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(late.effects.bounced, 0);
        assert_eq!(status(&store, 1), "SENT", "the new message did not bounce");
        let stored: Vec<(Option<i64>, Option<String>)> = c
            .prepare("SELECT outbox_id, message_id FROM bounces ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            stored,
            [
                (Some(1), Some("1.aaaaaaaaaaaaaaaa@sender.test".to_string())),
                (Some(1), Some("1.aaaaaaaaaaaaaaaa@sender.test".to_string()))
            ]
        );
        // The new message bounces the same way: the first time for it, so one message of
        // the row before it, and a resend is refused only now that two did.
        handle(
            c,
            at(3),
            report(3, "1.cccccccccccccccc@other.test").as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(status(&store, 1), "BOUNCED");
        let problem = sending::resend(c, 1, 300, false).unwrap().unwrap();
        assert!(
            matches!(
                problem,
                sending::ResendRefusal::RepeatedSoftBounce { count: 2, .. }
            ),
            "{problem}"
        );
    }

    /// Matched by recipient, a report is stored with the Message-ID it returns (rewritten by a
    /// relay), not the row's current one: two reports about two messages count as two.
    #[test]
    fn a_report_matched_by_recipient_counts_under_the_rows_message() {
        let (_d, store) = store(&[(1, "nobody@acme.test", "1.f00d@sender.test")]);
        let c = store.conn();
        let rewritten = String::from_utf8_lossy(HARD).replace(
            "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
            "a49e2c80@relay.test",
        );
        handle(c, at(1), rewritten.as_bytes(), 100).unwrap();
        // The same message reported again by our own ID (the final server after a relay):
        // one message, so both reports count under one Message-ID.
        let ours = String::from_utf8_lossy(HARD)
            .replace(
                "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
                "1.f00d@sender.test",
            )
            .replace("86C8E99C194@mail", "86C8E99C195@mail");
        handle(c, at(2), ours.as_bytes(), 100).unwrap();
        let mids: Vec<Option<String>> = c
            .prepare("SELECT DISTINCT message_id FROM bounces")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(mids, [Some("1.f00d@sender.test".to_string())]);
    }

    /// The row wrote to nobody@, was given a new address since and sent again from another
    /// domain; the late hard bounce about the first message is nobody@'s, not the new one's.
    #[test]
    fn a_late_hard_bounce_for_the_rows_old_address_leaves_the_new_one_alone() {
        let (_d, store) = store(&[
            (1, "nobody@acme.test", "1.aaaaaaaaaaaaaaaa@sender.test"),
            (2, "other@acme.test", "2.bbbbbbbbbbbbbbbb@sender.test"),
        ]);
        let c = store.conn();
        c.execute(
            "UPDATE outbox SET email = 'new@acme.test',
             header_message_id = '1.cccccccccccccccc@other.test' WHERE id = 1",
            [],
        )
        .unwrap();
        let late = String::from_utf8_lossy(HARD).replace(
            "a49e2c80-2444-4fa5-bcd1-5a9381d67cc1@sender.test",
            "1.aaaaaaaaaaaaaaaa@sender.test",
        );
        let out = handle(c, at(1), late.as_bytes(), 100).unwrap();
        assert_eq!((out.effects.invalid, out.effects.bounced), (0, 0));
        assert_eq!(status(&store, 1), "SENT");
        assert!(
            suppressions::blocking(c, "new@acme.test")
                .unwrap()
                .is_none()
        );
        assert_eq!(
            suppressions::blocking(c, "nobody@acme.test")
                .unwrap()
                .map(|s| s.cause),
            Some("bounced".to_string())
        );
    }

    #[test]
    fn an_unmatched_bounce_is_a_problem_and_suppresses_nothing() {
        let (_d, store) = store(&[(1, "jane@acme.test", "1.a@sender.test")]);
        let out = handle(store.conn(), at(1), HARD, 100).unwrap();
        assert_eq!(out.disposition, Disposition::Problem);
        assert_eq!(out.effects.suppressed, 0);
        let n: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM bounces WHERE outbox_id IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
    }
}
