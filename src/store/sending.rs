//! The sender's writes: claiming a row (SENDING, committed before the SMTP transaction, with
//! the mailbox's daily counter bumped in the same transaction), the outcome of each attempt,
//! and start-up recovery of rows left SENDING by a crash.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::outbox::{OutboxRow, Status};

/// Rows found SENDING at start-up: the process died during their SMTP transaction, so the
/// server may or may not have them. They become UNCERTAIN and are never resent automatically.
pub fn mark_interrupted_uncertain(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE outbox SET status = 'UNCERTAIN',
             reason = 'interrupted during the SMTP transaction: may have been delivered',
             updated_at = ?1
         WHERE status = 'SENDING'",
        [now],
    )?)
}

/// An UNCERTAIN row: id, mailbox, Message-ID (without angle brackets).
pub type UncertainRow = (i64, Option<String>, Option<String>);

/// UNCERTAIN rows with what is needed to look for them in a Sent folder.
pub fn uncertain(conn: &Connection) -> Result<Vec<UncertainRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, mailbox, header_message_id FROM outbox WHERE status = 'UNCERTAIN' ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// READY rows with an address that only wait for an approval (`[sending] require_approval`):
/// a run sends none of them, so its summary says how many and what to do.
pub fn awaiting_approval(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE status = 'READY' AND NOT approved AND email IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Ids of the rows a run may send now, in order: READY (approved unless approval is off) and
/// RETRY rows whose next attempt is due.
pub fn eligible_ids(conn: &Connection, require_approval: bool, now: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM outbox
         WHERE (status = 'READY' AND (approved = 1 OR ?1 = 0) AND email IS NOT NULL)
            OR (status = 'RETRY' AND COALESCE(next_attempt_at, 0) <= ?2)
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![require_approval, now], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The earliest future retry time, if any RETRY row waits.
pub fn next_retry_at(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'RETRY'",
        [],
        |r| r.get(0),
    )?)
}

/// How many rows wait for a retry.
pub fn retry_waiting(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE status = 'RETRY'",
        [],
        |r| r.get(0),
    )?)
}

/// `IN (…)` list of the statuses whose address a server has or may have: every locked
/// status (`Status::is_locked`), bounced and replied rows included.
fn locked_statuses() -> String {
    Status::sql_list(Status::is_locked)
}

static ALREADY_SENT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT id FROM outbox WHERE lower(email) = lower(?2) AND id != ?1
           AND status IN ({}) LIMIT 1",
        locked_statuses()
    )
});

/// Another row to the same address that a server has or may have: the last guard against a
/// duplicate (the build checks this too). A soft-bounced row counts: its recipient may well
/// have had the message.
pub fn already_sent_to(conn: &Connection, id: i64, email: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(&ALREADY_SENT_SQL)?
        .query_row(params![id, email], |r| r.get(0))
        .optional()?)
}

/// Lowercased addresses of the rows `already_sent_to` looks for (any id).
pub fn taken_addresses(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT lower(email) FROM outbox WHERE email IS NOT NULL
           AND status IN ({})",
        locked_statuses()
    ))?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When `mailbox` last had a transaction a server saw (a message accepted or refused), unix
/// seconds: a new run waits out the delay from there, not from its own start.
pub fn last_transaction_at(conn: &Connection, mailbox: &str) -> Result<Option<i64>> {
    Ok(conn.query_row(
        // The IS NOT NULL terms let SQLite use the partial indexes (schema 15).
        "SELECT MAX(COALESCE((SELECT MAX(sent_at) FROM outbox
                              WHERE mailbox = ?1 AND sent_at IS NOT NULL), 0),
                    COALESCE((SELECT MAX(refused_at) FROM outbox
                              WHERE mailbox = ?1 AND refused_at IS NOT NULL), 0))",
        [mailbox],
        |r| r.get::<_, i64>(0).map(|t| (t > 0).then_some(t)),
    )?)
}

/// A message the server accepted (its final 250), to be marked SENT.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: i64,
    pub reply: String,
    pub at: i64,
}

/// Mark accepted messages SENT, and forget the kept copies of those now in a Sent folder
/// (`copied`), in one transaction.
pub fn record_accepted(conn: &mut Connection, accepted: &[Accepted], copied: &[i64]) -> Result<()> {
    if accepted.is_empty() && copied.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    mark_accepted(&tx, accepted, copied)?;
    tx.commit()?;
    Ok(())
}

fn mark_accepted(conn: &Connection, accepted: &[Accepted], copied: &[i64]) -> Result<()> {
    for a in accepted {
        mark_sent(conn, a.id, &a.reply, a.at)?;
    }
    forget_copies(conn, copied)
}

/// The kept copies of `ids` are in their Sent folder now: dropped.
pub fn forget_copies(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM sent_copies WHERE outbox_id = ?1")?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// A message whose Sent copy is still to be made: row id, Message-ID (without angle
/// brackets), the message as sent.
pub type PendingCopy = (i64, Option<String>, Vec<u8>);

/// Drop the kept copies of rows that went out no way (refused, requeued, retried later): they
/// are never appended. Copies of UNCERTAIN rows are kept until the user decides
/// (`outbox settle --sent` makes them due in [`pending_copies`]).
pub fn drop_unsent_copies(conn: &Connection) -> Result<usize> {
    Ok(conn.execute(
        &format!(
            "DELETE FROM sent_copies WHERE outbox_id IN (SELECT id FROM outbox
                 WHERE status NOT IN ({}))",
            Status::sql_list(Status::may_have_reached)
        ),
        [],
    )?)
}

/// Kept Sent copies of mailboxes not among `configured` (removed from the config since)
/// that no run has reported yet, per mailbox: (mailbox, copies). They are marked reported
/// and left as they are: appended if the mailbox comes back.
pub fn report_gone_mailbox_copies(
    conn: &Connection,
    configured: &[&str],
) -> Result<Vec<(String, i64)>> {
    let pending: Vec<(String, i64)> = conn
        .prepare_cached(
            "SELECT mailbox, COUNT(*) FROM sent_copies WHERE gone_reported = 0
             GROUP BY mailbox ORDER BY mailbox",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let gone: Vec<(String, i64)> = pending
        .into_iter()
        .filter(|(m, _)| !configured.contains(&m.as_str()))
        .collect();
    for (mailbox, _) in &gone {
        conn.execute(
            "UPDATE sent_copies SET gone_reported = 1 WHERE mailbox = ?1",
            [mailbox],
        )?;
    }
    Ok(gone)
}

/// Up to `limit` messages a server accepted from `mailbox` whose copy may never have reached
/// its Sent folder (the run that sent them stopped first), by row id after `after`: read a
/// page at a time, so a backlog (a Sent folder that kept refusing) is never all in memory.
pub fn pending_copies(
    conn: &Connection,
    mailbox: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<PendingCopy>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.outbox_id, o.header_message_id, c.raw
         FROM sent_copies c JOIN outbox o ON o.id = c.outbox_id
         WHERE c.mailbox = ?1 AND c.outbox_id > ?2 AND o.status IN ({})
         ORDER BY c.outbox_id LIMIT ?3",
        Status::sql_list(Status::was_accepted)
    ))?;
    let rows = stmt.query_map(params![mailbox, after, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One row about to be claimed by a mailbox.
pub struct Claim<'a> {
    pub id: i64,
    pub mailbox: &'a str,
    pub message_id: &'a str,
    /// The mailbox's day (in its time zone) whose counter the message counts against.
    pub day: &'a str,
    pub now: i64,
    /// `[sending] require_approval`: a row unapproved since it was picked is not taken.
    pub require_approval: bool,
    /// The message as it will be sent, when the mailbox keeps a Sent copy: stored with the
    /// claim, until the copy is appended (see [`pending_copies`]).
    pub copy: Option<&'a [u8]>,
}

/// READY/RETRY → SENDING with the mailbox and Message-ID, and the mailbox's counter for `day`
/// bumped, in one IMMEDIATE transaction, which also marks `accepted` SENT (the sender writes
/// the previous message's outcome with the next claim: one commit per message, not two).
/// Returns the row's previous status, or `None` when it is no longer sendable (another
/// process took it, or it was unapproved, skipped or edited meanwhile); `accepted` is
/// written either way.
pub fn claim(
    conn: &mut Connection,
    c: &Claim<'_>,
    accepted: &[Accepted],
    copied: &[i64],
) -> Result<Option<Status>> {
    let (id, mailbox, message_id, day, now) = (c.id, c.mailbox, c.message_id, c.day, c.now);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    mark_accepted(&tx, accepted, copied)?;
    // Cached statements: the sender runs these once per message.
    let prev: Option<String> = tx
        .prepare_cached(
            // The same rule as `eligible_ids`: approval is asked of READY rows; a due RETRY
            // row was already sent once and is taken as it is.
            "SELECT status FROM outbox WHERE id = ?1
                 AND ((status = 'READY' AND (approved OR NOT ?2)) OR status = 'RETRY')",
        )?
        .query_row(params![id, c.require_approval], |r| r.get(0))
        .optional()?;
    let Some(prev) = prev.and_then(|s| Status::parse(&s)) else {
        tx.commit()?;
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE outbox SET status = 'SENDING', mailbox = ?2, header_message_id = ?3,
             attempts = attempts + 1, reason = NULL, updated_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, mailbox, message_id, now])?;
    tx.prepare_cached(
        "INSERT INTO mailbox_days (mailbox, day, sent) VALUES (?1, ?2, 1)
         ON CONFLICT(mailbox, day) DO UPDATE SET sent = sent + 1",
    )?
    .execute(params![mailbox, day])?;
    if let Some(raw) = c.copy {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO sent_copies (outbox_id, mailbox, raw) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![id, mailbox, raw])?;
    }
    tx.commit()?;
    Ok(Some(prev))
}

/// Whether hailer gave one of its messages a Message-ID at `domain` (any case): a Message-ID
/// there that is not in the outbox was written by another program, the user's own mail
/// client. One lookup in a table of a few rows, which a trigger fills as rows get their
/// Message-ID (schema 20).
pub fn sends_from(conn: &Connection, domain: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(SENDS_FROM)?
        .query_row([domain.to_ascii_lowercase()], |_| Ok(()))
        .optional()?
        .is_some())
}

pub const SENDS_FROM: &str = "SELECT 1 FROM message_id_domains WHERE domain = ?1";

/// Nothing left for the server (connection or login failed before MAIL FROM): the row goes
/// back to its previous status and the counter is given back.
pub fn unclaim(
    conn: &mut Connection,
    id: i64,
    prev: Status,
    mailbox: &str,
    day: &str,
    now: i64,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE outbox SET status = ?2, attempts = MAX(attempts - 1, 0), mailbox = NULL,
             updated_at = ?3
         WHERE id = ?1 AND status = 'SENDING'",
        params![id, prev.as_str(), now],
    )?;
    forget_copies(&tx, &[id])?;
    give_back(&tx, mailbox, day)?;
    tx.commit()?;
    Ok(())
}

fn give_back(conn: &Connection, mailbox: &str, day: &str) -> Result<()> {
    conn.execute(
        "UPDATE mailbox_days SET sent = MAX(sent - 1, 0) WHERE mailbox = ?1 AND day = ?2",
        params![mailbox, day],
    )?;
    Ok(())
}

pub fn mark_sent(conn: &Connection, id: i64, reply: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET status = 'SENT', smtp_reply = ?2, reason = NULL, sent_at = ?3,
             next_attempt_at = NULL, updated_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, reply, now])?;
    Ok(())
}

/// A definite refusal (5xx, or 4xx after the last attempt): ERROR with the server's text, and
/// the message does not count against the cap.
pub fn mark_error(
    conn: &Connection,
    id: i64,
    text: &str,
    mailbox: Option<(&str, &str)>,
    now: i64,
) -> Result<()> {
    set_error(conn, id, text, mailbox, None, now)
}

/// The server refused the message with a 5xx during the transaction: ERROR as
/// [`mark_error`], and the refusal counts like a hard bounce for auto-pause.
pub fn mark_refused(
    conn: &Connection,
    id: i64,
    text: &str,
    mailbox: (&str, &str),
    now: i64,
) -> Result<()> {
    set_error(conn, id, text, Some(mailbox), Some(now), now)
}

/// ERROR with the server's text (and, for a refusal, when it happened, in the same
/// statement); the claimed slot goes back to the mailbox's day.
fn set_error(
    conn: &Connection,
    id: i64,
    text: &str,
    mailbox: Option<(&str, &str)>,
    refused_at: Option<i64>,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'ERROR', reason = ?2, smtp_reply = ?2,
             next_attempt_at = NULL, refused_at = COALESCE(?4, refused_at), updated_at = ?3
         WHERE id = ?1",
        params![id, text, now, refused_at],
    )?;
    if let Some((mb, day)) = mailbox {
        give_back(conn, mb, day)?;
    }
    Ok(())
}

pub fn mark_retry(
    conn: &Connection,
    id: i64,
    text: &str,
    next_at: i64,
    mailbox: (&str, &str),
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'RETRY', reason = ?2, smtp_reply = ?2,
             next_attempt_at = ?3, updated_at = ?4
         WHERE id = ?1",
        params![id, text, next_at, now],
    )?;
    give_back(conn, mailbox.0, mailbox.1)
}

pub fn mark_uncertain(conn: &Connection, id: i64, text: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'UNCERTAIN', reason = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, text, now],
    )?;
    Ok(())
}

/// An UNCERTAIN row whose copy was found in the Sent folder (or that the user says went
/// out). `false` when the row was no longer UNCERTAIN: settled meanwhile, nothing changed.
pub fn resolve_sent(conn: &Connection, id: i64, note: &str, now: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE outbox SET status = 'SENT', reason = NULL, smtp_reply = ?2,
             sent_at = COALESCE(sent_at, ?3), updated_at = ?3
         WHERE id = ?1 AND status = 'UNCERTAIN'",
        params![id, note, now],
    )? == 1)
}

/// An UNCERTAIN row the user decided did not go out: READY again, unapproved, so it is sent
/// only after a new approval. The day counter keeps its claim (counting high never exceeds
/// a cap).
pub fn requeue_uncertain(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn.execute(
        // A fresh start: the user decided it did not go out, so it gets the whole retry
        // budget (max_attempts) again, not what the interrupted tries left of it.
        "UPDATE outbox SET status = 'READY', approved = 0, attempts = 0,
             reason = 'requeued by hand after UNCERTAIN', next_attempt_at = NULL, updated_at = ?2
         WHERE id = ?1 AND status = 'UNCERTAIN'",
        params![id, now],
    )? == 1)
}

/// The prefixes of the reason of a row a bounce came back for (written by
/// [`crate::engine::inbox`]): `soft: mailboxfull 4.2.2`, `hard: userunknown 5.1.1`.
pub const SOFT_BOUNCE_PREFIX: &str = "soft: ";
pub const HARD_BOUNCE_PREFIX: &str = "hard: ";

/// Why `outbox resend` / the Outbox's `u` leaves a row BOUNCED: the CLI and the TUI word it
/// each their own way (the CLI names `--force`, the TUI its `f` key) from this, and only
/// [`ResendRefusal::RepeatedSoftBounce`] is lifted by `force`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendRefusal {
    NoRow {
        id: i64,
    },
    /// Not a soft-bounced row (a hard bounce, or not BOUNCED at all).
    NotSoftBounced {
        id: i64,
        status: Status,
        reason: Option<String>,
    },
    NoAddress {
        id: i64,
    },
    /// On the suppression list: `entry` is what `suppress remove` takes, `what` says why.
    Suppressed {
        id: i64,
        what: String,
        entry: String,
    },
    /// `count` of its messages soft-bounced the same way (`why`: `norelaying 5.7.1`) after
    /// it was sent again: it did not clear.
    RepeatedSoftBounce {
        id: i64,
        count: i64,
        why: String,
    },
    /// Its bounce reason changed between the check and the update (a report came in).
    ChangedMeanwhile {
        id: i64,
    },
}

impl ResendRefusal {
    /// Whether sending it anyway (`--force`, the TUI's `f`) would send it.
    pub fn forcible(&self) -> bool {
        matches!(self, ResendRefusal::RepeatedSoftBounce { .. })
    }

    /// The outbox row refused.
    pub fn id(&self) -> i64 {
        match self {
            ResendRefusal::NoRow { id }
            | ResendRefusal::NotSoftBounced { id, .. }
            | ResendRefusal::NoAddress { id }
            | ResendRefusal::Suppressed { id, .. }
            | ResendRefusal::RepeatedSoftBounce { id, .. }
            | ResendRefusal::ChangedMeanwhile { id } => *id,
        }
    }
}

/// The refusal in words, without saying how to force it (each interface names its own way).
impl std::fmt::Display for ResendRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResendRefusal::NoRow { id } => write!(f, "no outbox row {id}"),
            ResendRefusal::NotSoftBounced { id, status, reason } => write!(
                f,
                "row {id} is {status}{}; only a soft-bounced row is sent again",
                reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            ResendRefusal::NoAddress { id } => write!(f, "row {id} has no address"),
            ResendRefusal::Suppressed { id, what, entry } => write!(
                f,
                "row {id}: suppressed: {what}; `hailer suppress remove {entry}` first if it \
                 should be mailed"
            ),
            ResendRefusal::RepeatedSoftBounce { id, count, why } => write!(
                f,
                "row {id}: {count} of its messages soft-bounced the same way ({why}): sent \
                 again, it did not clear"
            ),
            ResendRefusal::ChangedMeanwhile { id } => write!(f, "row {id} changed meanwhile"),
        }
    }
}

/// Why a row cannot be sent again after its bounce, or `None` when it can: only a soft bounce
/// may clear (a full mailbox emptied, a server back up), and an address on the suppression
/// list (a hard bounce, a reply, an unsubscribe, or soft bounces repeated until they
/// suppressed it) is never mailed. A row sent again that soft-bounced the same way once more
/// (a domain whose host refuses relay, a server down until the queue gave up) did not clear:
/// it is refused unless `force` (`outbox resend --force`). A mailbox's own state (full, over
/// its quota, suspended) is the exception: its owner may clear it any day, and the third
/// soft-bounced message suppresses the address anyway.
pub fn resend_problem(
    conn: &Connection,
    row: &OutboxRow,
    force: bool,
) -> Result<Option<ResendRefusal>> {
    let id = row.id;
    let reason = row.reason.as_deref().unwrap_or("");
    if row.status != Status::Bounced || !reason.starts_with(SOFT_BOUNCE_PREFIX) {
        return Ok(Some(ResendRefusal::NotSoftBounced {
            id,
            status: row.status,
            reason: row.reason.clone(),
        }));
    }
    let Some(email) = row.email.as_deref() else {
        return Ok(Some(ResendRefusal::NoAddress { id }));
    };
    if let Some(s) = super::suppressions::blocking(conn, email)? {
        return Ok(Some(ResendRefusal::Suppressed {
            id,
            what: s.describe(),
            entry: s.entry,
        }));
    }
    if force {
        return Ok(None);
    }
    let why = reason.strip_prefix(SOFT_BOUNCE_PREFIX).unwrap_or(reason);
    let name = why.split_whitespace().next().unwrap_or("");
    // A full mailbox may clear at any time; a cause on our side (a block) is fixed by us,
    // after which sending again is the point: only a repeat about the address is refused.
    if crate::engine::bounces::Reason::from_name(name)
        .is_some_and(|r| r.is_mailbox_state() || r.is_about_sender())
    {
        return Ok(None);
    }
    let count = same_soft_bounces(conn, id, name)?;
    Ok((count >= 2).then(|| ResendRefusal::RepeatedSoftBounce {
        id,
        count,
        why: why.to_string(),
    }))
}

/// Messages of row `id` that soft-bounced for `reason` (`norelaying`): by Message-ID, as
/// a relay and the final server may both report one message.
fn same_soft_bounces(conn: &Connection, id: i64, reason: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(DISTINCT COALESCE(message_id, 'row ' || outbox_id)) FROM bounces
             WHERE outbox_id = ?1 AND kind = 'bounce' AND action = 'failed' AND hard = 0
               AND reason = ?2",
        )?
        .query_row(params![id, reason], |r| r.get(0))?)
}

/// A soft-bounced row the user sends again (`outbox resend`, `u` on the Outbox tab), unless
/// [`resend_problem`] says why not: `Some(refusal)` when the row stays BOUNCED.
pub fn resend(conn: &Connection, id: i64, now: i64, force: bool) -> Result<Option<ResendRefusal>> {
    let Some(row) = super::outbox::get(conn, id)? else {
        return Ok(Some(ResendRefusal::NoRow { id }));
    };
    if let Some(problem) = resend_problem(conn, &row, force)? {
        return Ok(Some(problem));
    }
    // READY, unapproved (a new approval sends it), with the whole retry budget. The bounce
    // stays on record, and the row keeps its Message-ID until the next claim gives it a new
    // one, so a late report about the first message still matches (as an earlier attempt).
    // The reason read above must still be there: else a report came in meanwhile.
    let bounced = row.reason.unwrap_or_default();
    let why = bounced.strip_prefix(SOFT_BOUNCE_PREFIX).unwrap_or(&bounced);
    let changed = conn.execute(
        "UPDATE outbox SET status = 'READY', approved = 0, attempts = 0, next_attempt_at = NULL,
             reason = ?3, updated_at = ?2
         WHERE id = ?1 AND status = 'BOUNCED' AND reason = ?4",
        params![
            id,
            now,
            format!("sent again by hand after a soft bounce ({why})"),
            bounced
        ],
    )?;
    Ok((changed == 0).then_some(ResendRefusal::ChangedMeanwhile { id }))
}

/// A row the send-time checks refused (suppressed since the build, duplicate, no address).
pub fn refuse(conn: &Connection, id: i64, reason: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'ERROR', reason = ?2, approved = 0, updated_at = ?3
         WHERE id = ?1 AND status IN ('READY', 'RETRY')",
        params![id, reason, now],
    )?;
    Ok(())
}

pub fn sent_on(conn: &Connection, mailbox: &str, day: &str) -> Result<u32> {
    Ok(conn
        .query_row(
            "SELECT sent FROM mailbox_days WHERE mailbox = ?1 AND day = ?2",
            params![mailbox, day],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0)
        .max(0) as u32)
}

pub fn first_day(conn: &Connection, mailbox: &str) -> Result<Option<String>> {
    Ok(conn.query_row(
        "SELECT MIN(day) FROM mailbox_days WHERE mailbox = ?1 AND sent > 0",
        [mailbox],
        |r| r.get(0),
    )?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<OutboxRow>> {
    super::outbox::get(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with READY rows 1..=n (one prospect each).
    fn store_with_ready(n: i64) -> (tempfile::TempDir, crate::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        c.execute(
            "INSERT INTO companies VALUES ('k', 'K', NULL, NULL, NULL, 0, 0)",
            [],
        )
        .unwrap();
        for id in 1..=n {
            c.execute(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (?1, 'f', 'l', 'K', 'k', ?1, 0)",
                [id],
            )
            .unwrap();
            c.execute(
                "INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at, updated_at)
                 VALUES (?1, ?1, 'p' || ?1 || '@acme.test', 'k', 'READY', 0, 0)",
                [id],
            )
            .unwrap();
        }
        (dir, store)
    }

    /// `resend` refuses a row whose messages soft-bounced twice the same way about the
    /// address, but not for a cause on our side (a block, fixed by us) or a full mailbox:
    /// sending again after those is the point.
    #[test]
    fn a_second_resend_is_refused_only_for_a_repeat_about_the_address() {
        for (reason, refused) in [
            ("norelaying", true),
            ("blocked", false),
            ("rejected", false),
            ("mailboxfull", false),
        ] {
            let (_dir, store) = store_with_ready(1);
            let c = store.conn();
            c.execute_batch(&format!(
                "UPDATE outbox SET status = 'BOUNCED', reason = 'soft: {reason} 5.7.1' WHERE id = 1;
                 INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key,
                                             kind, processed_at)
                 VALUES (1, 'm', 'INBOX', 1, 1, 'a', 'bounce', 0),
                        (2, 'm', 'INBOX', 1, 2, 'b', 'bounce', 0);
                 INSERT INTO bounces (kind, date, mailbox, outbox_id, recipient, domain, action,
                                      reason, hard, inbox_message_id, created_at, message_id)
                 VALUES ('bounce', 0, 'm', 1, 'p1@acme.test', 'acme.test', 'failed', '{reason}',
                         0, 1, 0, 'first@sender.test'),
                        ('bounce', 0, 'm', 1, 'p1@acme.test', 'acme.test', 'failed', '{reason}',
                         0, 2, 0, 'second@sender.test');"
            ))
            .unwrap();
            let problem = resend(c, 1, 10, false).unwrap();
            assert_eq!(problem.is_some(), refused, "{reason}: {problem:?}");
        }
    }

    /// What a send run writes per message: the claim of one row and the SENT mark of the
    /// one before it, one commit. Every page it changes is a 4 kB frame in the log, written,
    /// synced and later copied into the database by the checkpoint, so the indexes a claim
    /// touches are a cost per message (the sender's largest after the network).
    #[test]
    fn a_claim_and_the_previous_sent_mark_write_few_pages() {
        let (dir, mut store) = store_with_ready(2000);
        // Rows as the sender finds them: a rendered body of about 2 kB each.
        store
            .conn()
            .execute_batch(
                "UPDATE outbox SET body = printf('%.2000c', 'x'), approved = 1;
                 PRAGMA wal_autocheckpoint = 0; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .unwrap();
        let wal = dir.path().join(format!("{}-wal", crate::store::DB_FILE));
        let frames = || std::fs::metadata(&wal).map_or(0, |m| m.len()) / (4096 + 24);
        let mut accepted = Vec::new();
        let mut claim_rows = |ids: std::ops::RangeInclusive<i64>, accepted: &mut Vec<Accepted>| {
            for id in ids {
                let message_id = format!("<{id}.r@sender.test>");
                let row = Claim {
                    id,
                    mailbox: "m0",
                    message_id: &message_id,
                    day: "2026-12-06",
                    now: 1_000 + id,
                    require_approval: true,
                    copy: None,
                };
                assert!(
                    claim(store.conn_mut(), &row, accepted, &[])
                        .unwrap()
                        .is_some()
                );
                *accepted = vec![Accepted {
                    id,
                    reply: "250 2.0.0 Ok: queued".into(),
                    at: 1_000 + id,
                }];
            }
        };
        // The first claims touch each index's pages for the first time; measure after. Before
        // schema 15 this was 12.6 pages a claim, 8.8 after.
        claim_rows(1..=100, &mut accepted);
        let before = frames();
        claim_rows(101..=600, &mut accepted);
        let per_claim = (frames() - before) as f64 / 500.0;
        assert!(per_claim <= 10.0, "{per_claim:.1} pages written per claim");
    }

    /// The bounce matcher's "is this Message-ID at a domain hailer sends from" is one
    /// primary-key lookup (not a scan of the outbox, as its `LIKE '%@…'` was), kept up to
    /// date by the claims, in any case.
    #[test]
    fn sends_from_is_a_lookup_filled_by_the_claims() {
        let (_dir, mut store) = store_with_ready(2);
        let plan: String = store
            .conn()
            .query_row(&format!("EXPLAIN QUERY PLAN {SENDS_FROM}"), ["x"], |r| {
                r.get(3)
            })
            .unwrap();
        assert!(
            plan.contains("USING PRIMARY KEY") && !plan.contains("SCAN"),
            "{plan}"
        );
        assert!(!sends_from(store.conn(), "sender.test").unwrap());
        let row = Claim {
            id: 1,
            mailbox: "m0",
            message_id: "1.0123456789abcdef@Sender.TEST",
            day: "2026-12-06",
            now: 1_000,
            require_approval: false,
            copy: None,
        };
        claim(store.conn_mut(), &row, &[], &[]).unwrap().unwrap();
        for domain in ["sender.test", "SENDER.test"] {
            assert!(sends_from(store.conn(), domain).unwrap(), "{domain}");
        }
        assert!(!sends_from(store.conn(), "other.test").unwrap());
        assert!(!sends_from(store.conn(), "test").unwrap());
    }

    /// The duplicate guard is an index lookup, not a scan of the sent rows: the S
    /// confirmation and `send --dry-run` ask it once per row to send (with 50,000 rows sent
    /// and 50,000 to send, a scan each made the confirmation take minutes).
    #[test]
    fn the_duplicate_guard_is_an_index_lookup() {
        let (_dir, store) = store_with_ready(2);
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {}", *ALREADY_SENT_SQL))
            .unwrap()
            .query_map(params![1, "P2@acme.test"], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(
            plan.contains("USING INDEX outbox_email_lower") && !plan.contains("SCAN"),
            "{plan}"
        );
    }

    /// A row to an address that went out and then bounced (soft), or was answered, still
    /// blocks a second message to it: only never-sent statuses leave the address free.
    #[test]
    fn an_address_that_bounced_or_replied_is_still_taken() {
        let (_dir, store) = store_with_ready(3);
        let c = store.conn();
        c.execute_batch("UPDATE outbox SET email = 'same@acme.test'")
            .unwrap();
        assert_eq!(already_sent_to(c, 1, "same@acme.test").unwrap(), None);
        for (status, taken) in [
            ("ERROR", false),
            ("SKIPPED", false),
            ("BOUNCED", true),
            ("REPLIED", true),
            ("INVALID", true),
            ("SENT", true),
        ] {
            c.execute("UPDATE outbox SET status = ?1 WHERE id = 2", [status])
                .unwrap();
            assert_eq!(
                already_sent_to(c, 1, "SAME@acme.test").unwrap().is_some(),
                taken,
                "{status}"
            );
            assert_eq!(
                taken_addresses(c)
                    .unwrap()
                    .contains(&"same@acme.test".to_string()),
                taken,
                "{status}"
            );
        }
    }

    fn accepted(id: i64, reply: &str, at: i64) -> Accepted {
        Accepted {
            id,
            reply: reply.into(),
            at,
        }
    }

    fn status(store: &crate::store::Store, id: i64) -> (String, Option<String>) {
        store
            .conn()
            .query_row(
                "SELECT status, smtp_reply FROM outbox WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    /// A claim by mailbox "m" on 2026-12-04, approval not required.
    fn of(id: i64, message_id: &str, now: i64) -> Claim<'_> {
        Claim {
            id,
            mailbox: "m",
            message_id,
            day: "2026-12-04",
            now,
            require_approval: false,
            copy: None,
        }
    }

    #[test]
    fn a_claim_writes_the_previous_acceptance_in_its_transaction() {
        let (_dir, mut store) = store_with_ready(3);
        let c = store.conn_mut();
        assert_eq!(
            claim(c, &of(1, "<1.a@x.test>", 5), &[], &[]).unwrap(),
            Some(Status::Ready)
        );
        let accepted = [accepted(1, "250 2.0.0 Ok: queued as A", 6)];
        assert_eq!(
            claim(c, &of(2, "<2.b@x.test>", 6), &accepted, &[]).unwrap(),
            Some(Status::Ready)
        );
        assert_eq!(
            status(&store, 1),
            ("SENT".into(), Some("250 2.0.0 Ok: queued as A".into()))
        );
        assert_eq!(status(&store, 2).0, "SENDING");
        let sent: i64 = store
            .conn()
            .query_row(
                "SELECT sent FROM mailbox_days WHERE mailbox = 'm'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sent, 2);
    }

    /// A row unapproved after the sender picked it (it was about to be edited, say) is not
    /// taken when approval is required; without that rule READY is enough.
    #[test]
    fn an_unapproved_row_is_not_claimed_when_approval_is_required() {
        let (_dir, mut store) = store_with_ready(1);
        let c = store.conn_mut();
        c.execute("UPDATE outbox SET approved = 0 WHERE id = 1", [])
            .unwrap();
        let mut claim_1 = Claim {
            id: 1,
            mailbox: "m",
            message_id: "<1.a@x.test>",
            day: "2026-12-04",
            now: 5,
            require_approval: true,
            copy: None,
        };
        assert_eq!(claim(c, &claim_1, &[], &[]).unwrap(), None);
        assert_eq!(status(&store, 1).0, "READY");
        claim_1.require_approval = false;
        let c = store.conn_mut();
        assert_eq!(claim(c, &claim_1, &[], &[]).unwrap(), Some(Status::Ready));
        // A RETRY row is eligible whatever its approval (it went out once): a claim that
        // refused it would leave the sender picking it again and again.
        c.execute(
            "UPDATE outbox SET status = 'RETRY', approved = 0 WHERE id = 1",
            [],
        )
        .unwrap();
        claim_1.require_approval = true;
        assert_eq!(
            eligible_ids(store.conn(), true, 10).unwrap(),
            vec![1],
            "eligible"
        );
        let c = store.conn_mut();
        assert_eq!(claim(c, &claim_1, &[], &[]).unwrap(), Some(Status::Retry));
    }

    #[test]
    fn acceptances_are_written_even_when_the_claim_finds_the_row_taken() {
        let (_dir, mut store) = store_with_ready(2);
        let c = store.conn_mut();
        claim(c, &of(1, "<1.a@x.test>", 5), &[], &[]).unwrap();
        c.execute("UPDATE outbox SET status = 'SKIPPED' WHERE id = 2", [])
            .unwrap();
        let accepted = [accepted(1, "250 ok", 6)];
        assert_eq!(
            claim(c, &of(2, "<2.b@x.test>", 6), &accepted, &[]).unwrap(),
            None
        );
        assert_eq!(status(&store, 1).0, "SENT");
        assert_eq!(status(&store, 2).0, "SKIPPED");
    }

    #[test]
    fn recorded_acceptances_become_sent_together() {
        let (_dir, mut store) = store_with_ready(3);
        let c = store.conn_mut();
        for id in 1..=3 {
            let message_id = format!("<{id}.a@x.test>");
            claim(
                c,
                &Claim {
                    id,
                    mailbox: "m",
                    message_id: &message_id,
                    day: "2026-12-04",
                    now: 5,
                    require_approval: false,
                    copy: None,
                },
                &[],
                &[],
            )
            .unwrap();
        }
        let both = [
            accepted(1, "250 queued 1", 7),
            accepted(2, "250 queued 2", 7),
        ];
        record_accepted(c, &both, &[]).unwrap();
        record_accepted(c, &[], &[]).unwrap();
        assert_eq!(
            status(&store, 1),
            ("SENT".into(), Some("250 queued 1".into()))
        );
        assert_eq!(
            status(&store, 2),
            ("SENT".into(), Some("250 queued 2".into()))
        );
        assert_eq!(status(&store, 3).0, "SENDING");
    }

    /// The message is kept from its claim until its Sent copy is made: a SENT row whose copy
    /// is still kept is due for the next run; one copied is forgotten with the next write;
    /// an UNCERTAIN row's waits for the user's decision; a row that went out no way drops
    /// its copy.
    #[test]
    fn kept_copies_wait_for_the_sent_folder() {
        let (_dir, mut store) = store_with_ready(4);
        let c = store.conn_mut();
        for id in 1..=4 {
            let message_id = format!("{id}.a@x.test");
            let raw = format!("Subject: {id}\r\n\r\nbody\r\n");
            let row = Claim {
                id,
                mailbox: "m",
                message_id: &message_id,
                day: "2026-12-04",
                now: 5,
                require_approval: false,
                copy: Some(raw.as_bytes()),
            };
            assert!(claim(c, &row, &[], &[]).unwrap().is_some());
        }
        // 1 and 2 accepted, 2's copy made; 3 left UNCERTAIN; 4 refused (5xx → ERROR).
        record_accepted(c, &[accepted(1, "250 a", 7), accepted(2, "250 b", 7)], &[2]).unwrap();
        mark_uncertain(c, 3, "connection lost", 8).unwrap();
        c.execute("UPDATE outbox SET status = 'ERROR' WHERE id = 4", [])
            .unwrap();
        drop_unsent_copies(c).unwrap();
        let due = pending_copies(c, "m", 0, 10).unwrap();
        assert_eq!(
            due,
            [(
                1,
                Some("1.a@x.test".to_string()),
                b"Subject: 1\r\n\r\nbody\r\n".to_vec()
            )]
        );
        assert!(pending_copies(c, "other", 0, 10).unwrap().is_empty());
        // A page at a time.
        assert!(pending_copies(c, "m", 1, 10).unwrap().is_empty());
        let kept: Vec<i64> = c
            .prepare("SELECT outbox_id FROM sent_copies ORDER BY outbox_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            kept,
            [1, 3],
            "4's copy is dropped, 3's kept for the decision"
        );
        // Decided SENT by hand: due with the next run.
        resolve_sent(c, 3, "settled", 9).unwrap();
        assert_eq!(pending_copies(c, "m", 0, 10).unwrap().len(), 2);
        assert_eq!(pending_copies(c, "m", 0, 1).unwrap().len(), 1);
        forget_copies(c, &[1, 3]).unwrap();
        assert!(pending_copies(c, "m", 0, 10).unwrap().is_empty());
    }
}
