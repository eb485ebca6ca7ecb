//! `outbox`: one row per prospect, from READY/ERROR through SENDING to SENT. The status
//! column is the crash-safety record: SENDING is committed before the SMTP transaction starts.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "UPPERCASE")]
#[value(rename_all = "UPPERCASE")]
pub enum Status {
    Ready,
    Error,
    Skipped,
    Sending,
    Sent,
    Retry,
    Uncertain,
    /// A bounce came back (hard or soft, the reason says which).
    Bounced,
    /// A hard bounce with a 5.1.x status: the address does not exist.
    Invalid,
    /// The prospect answered: nothing more is sent to them.
    Replied,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Ready,
        Status::Error,
        Status::Skipped,
        Status::Sending,
        Status::Sent,
        Status::Retry,
        Status::Uncertain,
        Status::Bounced,
        Status::Invalid,
        Status::Replied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "READY",
            Status::Error => "ERROR",
            Status::Skipped => "SKIPPED",
            Status::Sending => "SENDING",
            Status::Sent => "SENT",
            Status::Retry => "RETRY",
            Status::Uncertain => "UNCERTAIN",
            Status::Bounced => "BOUNCED",
            Status::Invalid => "INVALID",
            Status::Replied => "REPLIED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// A server accepted the message: sent, then perhaps bounced or answered. The campaign
    /// counts these as sent (`notify::summary::buckets`); opens and clicks count for them only.
    pub fn was_accepted(self) -> bool {
        matches!(
            self,
            Status::Sent | Status::Replied | Status::Bounced | Status::Invalid
        )
    }

    /// Accepted, or possibly: in its SMTP transaction (SENDING) or cut off during it
    /// (UNCERTAIN). An unsubscribe from such a row is honoured.
    pub fn may_have_reached(self) -> bool {
        self.was_accepted() || matches!(self, Status::Sending | Status::Uncertain)
    }

    /// The statuses for which `pick` holds, as the inside of an SQL `IN (…)`: `'SENT', …`.
    pub fn sql_list(pick: impl Fn(Status) -> bool) -> String {
        Status::ALL
            .into_iter()
            .filter(|s| pick(*s))
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Rows a rebuild must never touch: handed to a server, or possibly.
    pub fn is_locked(self) -> bool {
        matches!(
            self,
            Status::Sending
                | Status::Sent
                | Status::Retry
                | Status::Uncertain
                | Status::Bounced
                | Status::Invalid
                | Status::Replied
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub prospect_id: i64,
    pub firstname: String,
    pub lastname: String,
    pub company: String,
    pub company_key: String,
    pub email: Option<String>,
    pub subject: String,
    pub body: String,
    pub status: Status,
    pub reason: Option<String>,
    pub approved: bool,
    pub edited: bool,
    pub mailbox: Option<String>,
    pub header_message_id: Option<String>,
    pub attempts: i64,
    pub smtp_reply: Option<String>,
    pub sent_at: Option<i64>,
}

const SELECT: &str =
    "SELECT o.id, o.prospect_id, p.firstname, p.lastname, p.company, o.company_key,
        o.email, o.subject, o.body, o.status, o.reason, o.approved, o.edited, o.mailbox,
        o.header_message_id, o.attempts, o.smtp_reply, o.sent_at
     FROM outbox o JOIN prospects p ON p.id = o.prospect_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let status: String = r.get(9)?;
    Ok(OutboxRow {
        id: r.get(0)?,
        prospect_id: r.get(1)?,
        firstname: r.get(2)?,
        lastname: r.get(3)?,
        company: r.get(4)?,
        company_key: r.get(5)?,
        email: r.get(6)?,
        subject: r.get(7)?,
        body: r.get(8)?,
        status: Status::parse(&status).unwrap_or(Status::Error),
        reason: r.get(10)?,
        approved: r.get(11)?,
        edited: r.get(12)?,
        mailbox: r.get(13)?,
        header_message_id: r.get(14)?,
        attempts: r.get(15)?,
        smtp_reply: r.get(16)?,
        sent_at: r.get(17)?,
    })
}

pub fn list(conn: &Connection, status: Option<Status>) -> Result<Vec<OutboxRow>> {
    let (sql, filter) = match status {
        Some(s) => (
            format!("{SELECT} WHERE o.status = ?1 ORDER BY o.id"),
            Some(s.as_str()),
        ),
        None => (format!("{SELECT} WHERE ?1 IS NULL ORDER BY o.id"), None),
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([filter], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<OutboxRow>> {
    // Cached: the sender reads one row per message. `+?1`, not `?1`: with a bare parameter
    // in this join, SQLite (built with STAT4) marks the plan as depending on the bound value
    // and prepares the statement again on every run; the unary plus keeps the same plan
    // (rowid lookups on both tables) without that.
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE o.id = +?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// What a build decided for one prospect.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub prospect_id: i64,
    pub message_id: Option<i64>,
    pub email: Option<String>,
    pub company_key: String,
    pub subject: String,
    pub body: String,
    pub status: Status,
    pub reason: Option<String>,
    pub approved: bool,
}

/// A row a server refused: the sender's `set_error` writes the server's text to both `reason`
/// and `smtp_reply`; the send-time checks write `reason` only. Still so once skipped: skipping
/// keeps both, and un-skipping such a row gives ERROR again. A rebuild leaves such a row alone
/// while its address is the same (a 550 must not become sendable again).
pub const SERVER_REFUSED: &str =
    "(status IN ('ERROR', 'SKIPPED') AND smtp_reply IS NOT NULL AND reason IS smtp_reply)";

/// In DO UPDATE's WHERE and SET, bare column names are the stored row's, `excluded.` the new
/// one's. The attempts (and the server's last reply) count tries at an address: a withdrawn
/// RETRY row (READY unapproved or SKIPPED) keeps them across a rebuild, or its next run would
/// start over at attempt 1 and exceed `max_attempts`; only a new address starts from zero.
static UPSERT_BUILT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO outbox (prospect_id, message_id, email, company_key, subject, body, status,
                             reason, approved, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
         ON CONFLICT(prospect_id) DO UPDATE SET
             message_id = excluded.message_id, email = excluded.email,
             company_key = excluded.company_key, subject = excluded.subject, body = excluded.body,
             status = excluded.status, reason = excluded.reason, approved = excluded.approved,
             attempts = CASE WHEN {SAME_ADDRESS} THEN attempts ELSE 0 END,
             smtp_reply = CASE WHEN {SAME_ADDRESS} THEN smtp_reply ELSE NULL END,
             updated_at = excluded.updated_at
         WHERE status NOT IN ('SENDING', 'SENT', 'RETRY', 'UNCERTAIN', 'BOUNCED', 'INVALID', 'REPLIED')
           AND NOT ({SERVER_REFUSED} AND {SAME_ADDRESS})"
    )
});

/// In [`UPSERT_BUILT`]: the stored row's address is the build's (case aside).
const SAME_ADDRESS: &str = "lower(email) IS lower(excluded.email)";

pub fn upsert_built(tx: &Transaction<'_>, b: &Built, now: i64) -> Result<()> {
    tx.prepare_cached(&UPSERT_BUILT)?.execute(params![
        b.prospect_id,
        b.message_id,
        b.email,
        b.company_key,
        b.subject,
        b.body,
        b.status.as_str(),
        b.reason,
        b.approved,
        now
    ])?;
    Ok(())
}

/// Approve or unapprove READY rows; returns how many changed.
pub fn set_approved(conn: &Connection, ids: &[i64], approved: bool, now: i64) -> Result<usize> {
    let mut n = 0;
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET approved = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'READY' AND approved != ?2",
    )?;
    for id in ids {
        n += stmt.execute(params![id, approved, now])?;
    }
    Ok(n)
}

/// `outbox unapprove` and `a` on the Outbox tab: approval withdrawn from READY rows, and
/// RETRY rows withdrawn as `held` says, in one transaction. Returns the rows changed and,
/// of them, the RETRY rows withdrawn.
pub fn unapprove(conn: &Connection, ids: &[i64], now: i64, held: Held) -> Result<(usize, usize)> {
    let tx = conn.unchecked_transaction()?;
    let withdrawn = withdraw_retries(&tx, ids, now, held)?;
    let unapproved = set_approved(&tx, ids, false, now)?;
    tx.commit()?;
    Ok((unapproved + withdrawn, withdrawn))
}

/// Withdraw RETRY rows, held as `held` says, so no run sends them until they are put back
/// (a RETRY row goes out whatever its approval). The attempts made are kept,
/// as is the server's last reply in `smtp_reply`; the reply leaves `reason`, where it would
/// read as a refusal (see [`SERVER_REFUSED`]). Returns how many changed.
///
/// `held` is how it is kept from the sender: READY unapproved (`Held::Unapproved`) holds a
/// row only while `[sending] require_approval` is on; with approval off the sender takes
/// every READY row, so the row is SKIPPED (`Held::Skipped`) instead.
pub fn withdraw_retries(conn: &Connection, ids: &[i64], now: i64, held: Held) -> Result<usize> {
    let status = match held {
        Held::Unapproved => "READY",
        Held::Skipped => "SKIPPED",
    };
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET status = ?3, approved = 0, reason = NULL, next_attempt_at = NULL,
             updated_at = ?2
         WHERE id = ?1 AND status = 'RETRY'",
    )?;
    let mut n = 0;
    for id in ids {
        n += stmt.execute(params![id, now, status])?;
    }
    Ok(n)
}

/// A RETRY row withdrawn (SKIPPED) for an edit that changed it: READY and unapproved, as
/// an edit leaves a row, or ERROR with `problem` when the new text has one.
pub fn return_edited(conn: &Connection, id: i64, problem: Option<&str>, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET status = CASE WHEN ?2 IS NULL THEN 'READY' ELSE 'ERROR' END,
             reason = ?2, approved = 0, updated_at = ?3
         WHERE id = ?1 AND status = 'SKIPPED'",
        params![id, problem, now],
    )?;
    Ok(())
}

/// Why a row built for `built_for` must not go out: prospect `prospect_id`'s address has
/// changed since the build (its suggestion was accepted, reset, set or found anew), so the
/// row, and its rendered text (`{email}`), are for an address the user no longer uses.
/// `None` while it is the same address (case aside).
pub fn address_changed(
    conn: &Connection,
    prospect_id: i64,
    built_for: &str,
) -> Result<Option<String>> {
    // The build's normal form, so `Jane@Acme.test` as imported is the row's address.
    let now = super::prospects::address_in_use(conn, prospect_id)?
        .and_then(|a| crate::engine::import::normalize::normalize_email(&a));
    if now
        .as_deref()
        .is_some_and(|a| a.to_lowercase() == built_for.to_lowercase())
    {
        return Ok(None);
    }
    let now = match now {
        Some(a) => format!("the prospect's address is now {a}"),
        None => "the prospect has no address now".into(),
    };
    Ok(Some(format!(
        "address changed: built for {built_for}, {now} (rebuild the outbox)"
    )))
}

/// After a change of the address in use for `prospect_ids`: each one's READY or RETRY row
/// built for another address becomes ERROR with [`address_changed`]'s reason, unapproved,
/// so an approval given for the old address never sends to it; the next build makes the
/// row anew for the new one. Returns the ids of the rows held.
pub fn hold_changed_addresses(
    conn: &Connection,
    prospect_ids: &[i64],
    now: i64,
) -> Result<Vec<i64>> {
    let mut rows = conn.prepare_cached(
        "SELECT id, email FROM outbox
         WHERE prospect_id = ?1 AND status IN ('READY', 'RETRY') AND email IS NOT NULL",
    )?;
    let mut hold = conn.prepare_cached(
        "UPDATE outbox SET status = 'ERROR', reason = ?2, approved = 0, next_attempt_at = NULL,
             updated_at = ?3
         WHERE id = ?1 AND status IN ('READY', 'RETRY')",
    )?;
    let mut held = Vec::new();
    for &prospect_id in prospect_ids {
        let found: Option<(i64, String)> = rows
            .query_row([prospect_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((id, built_for)) = found else {
            continue;
        };
        if let Some(reason) = address_changed(conn, prospect_id, &built_for)?
            && hold.execute(params![id, reason, now])? == 1
        {
            held.push(id);
        }
    }
    Ok(held)
}

/// "; 2 outbox rows built for the old address are ERROR until the outbox is rebuilt", or
/// nothing when none was held: what a change of address says of [`hold_changed_addresses`].
pub fn held_note(held: &[i64]) -> String {
    match held.len() {
        0 => String::new(),
        1 => format!(
            "; outbox row #{} was built for the old address: ERROR until the outbox is rebuilt",
            held[0]
        ),
        n => format!(
            "; {n} outbox rows were built for the old addresses: ERROR until the outbox is rebuilt"
        ),
    }
}

/// How a withdrawn RETRY row is kept from the sender (see [`withdraw_retries`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Unapproved,
    Skipped,
}

impl Held {
    /// The way that holds a row under this `require_approval`.
    pub fn for_approval(require_approval: bool) -> Held {
        if require_approval {
            Held::Unapproved
        } else {
            Held::Skipped
        }
    }
}

/// When a RETRY row's next attempt is due (`None` for another row, or one due at once).
pub fn next_attempt_at(conn: &Connection, id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT next_attempt_at FROM outbox WHERE id = ?1 AND status = 'RETRY'",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Put a row withdrawn for an edit ([`withdraw_retries`], [`set_skipped`]) back as `row`
/// was: its status (READY or RETRY), approval and reason, due at `next_at`, unless it
/// changed meanwhile (an edit that changed nothing gives it back to the sender).
/// `withdrawn_at` is the withdrawal's time: a row written since (a rebuild) is left alone.
pub fn restore_withdrawn(
    conn: &Connection,
    row: &OutboxRow,
    next_at: Option<i64>,
    withdrawn_at: i64,
    now: i64,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE outbox SET status = ?7, approved = ?2, reason = ?3, next_attempt_at = ?4,
             updated_at = ?5
         WHERE id = ?1 AND status IN ('READY', 'SKIPPED') AND approved = 0
           AND updated_at = ?6",
        params![
            row.id,
            row.approved,
            row.reason,
            next_at,
            now,
            withdrawn_at,
            row.status.as_str()
        ],
    )? == 1)
}

/// Skip (or un-skip, see [`unskip`]) rows that are not locked, and RETRY rows (withdrawn as
/// [`withdraw_retries`] does: un-skipped, they come back READY with their attempts).
pub fn set_skipped(conn: &Connection, ids: &[i64], skipped: bool, now: i64) -> Result<usize> {
    if !skipped {
        return unskip(conn, ids, now).map(|(ready, error)| ready + error);
    }
    // A RETRY row is withdrawn exactly as `unapprove` withdraws it with approval off.
    let tx = conn.unchecked_transaction()?;
    let mut n = withdraw_retries(&tx, ids, now, Held::Skipped)?;
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE outbox SET status = 'SKIPPED', approved = 0, updated_at = ?2
             WHERE id = ?1 AND status IN ('READY', 'ERROR')",
        )?;
        for id in ids {
            n += stmt.execute(params![id, now])?;
        }
    }
    tx.commit()?;
    Ok(n)
}

/// Un-skip rows and say where they went: `(to READY, to ERROR)`. Back to READY, or to ERROR
/// when the row was skipped with (or has since got) a reason that blocks it.
pub fn unskip(conn: &Connection, ids: &[i64], now: i64) -> Result<(usize, usize)> {
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET status = CASE WHEN email IS NOT NULL AND (reason IS NULL OR reason LIKE 'risky:%')
                                    THEN 'READY' ELSE 'ERROR' END,
             updated_at = ?2
         WHERE id = ?1 AND status = 'SKIPPED'
         RETURNING status",
    )?;
    let (mut ready, mut error) = (0, 0);
    for id in ids {
        match stmt
            .query_row(params![id, now], |r| r.get::<_, String>(0))
            .optional()?
            .as_deref()
        {
            Some("READY") => ready += 1,
            Some(_) => error += 1,
            None => {}
        }
    }
    Ok((ready, error))
}

/// "1 row", "2 rows": for the messages that count outbox rows.
pub fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// "2 rows back to READY", "1 row back to READY, 1 back to ERROR (…)".
pub fn unskip_summary((ready, error): (usize, usize)) -> String {
    if error == 0 {
        format!("{} back to READY", rows(ready))
    } else {
        format!(
            "{} back to READY, {error} back to ERROR (a reason still blocks them)",
            rows(ready)
        )
    }
}

/// Replace subject and body by hand; the row keeps them across rebuilds and needs a new approval.
/// Store a hand edit (approval withdrawn). `problem` is what still keeps the edited text
/// from going out (`template::edited_text_problem`): a READY row becomes ERROR with it, and
/// a row that was ERROR only for such a problem is READY again once the edit has none.
pub fn edit(
    conn: &Connection,
    id: i64,
    subject: &str,
    body: &str,
    problem: Option<&str>,
    now: i64,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE outbox SET subject = ?2, body = ?3, edited = 1, approved = 0, updated_at = ?4,
             status = CASE
                 WHEN status = 'READY' AND ?5 IS NOT NULL THEN 'ERROR'
                 WHEN status = 'ERROR' AND ?5 IS NULL AND reason LIKE 'unresolved placeholder:%'
                     THEN 'READY'
                 ELSE status END,
             reason = CASE
                 WHEN status = 'READY' AND ?5 IS NOT NULL THEN ?5
                 WHEN status = 'ERROR' AND reason LIKE 'unresolved placeholder:%' THEN ?5
                 ELSE reason END
         WHERE id = ?1 AND status IN ('READY', 'ERROR', 'SKIPPED')",
        params![id, subject, body, now, problem],
    )? == 1)
}

pub fn counts(conn: &Connection) -> Result<Vec<(Status, i64)>> {
    let mut stmt = conn.prepare("SELECT status, COUNT(*) FROM outbox GROUP BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (s, n) = row?;
        if let Some(s) = Status::parse(&s) {
            out.push((s, n));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Status;

    /// Each set of statuses holds the one before: what a server accepted may have reached
    /// someone, and a rebuild never touches either.
    #[test]
    fn status_sets_nest() {
        for s in Status::ALL {
            assert!(!s.was_accepted() || s.may_have_reached(), "{s}");
            assert!(!s.may_have_reached() || s.is_locked(), "{s}");
        }
        assert_eq!(
            Status::sql_list(Status::was_accepted),
            "'SENT', 'BOUNCED', 'INVALID', 'REPLIED'"
        );
        assert!(Status::sql_list(Status::may_have_reached).contains("'UNCERTAIN'"));
        assert!(!Status::sql_list(Status::may_have_reached).contains("'RETRY'"));
    }
}
