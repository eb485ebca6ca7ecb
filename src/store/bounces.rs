//! `bounces`: one row per failed (or delayed) recipient of a delivery report, one per
//! complaint (`kind = 'complaint'`), and one per other feedback report (`kind = 'feedback'`:
//! not-spam, auth-failure), as the IMAP watcher found them. Indexed by (mailbox, date)
//! so per-mailbox rates over a period or over the last N sends stay cheap.

use rusqlite::{Connection, params};

use super::Result;

pub const KIND_BOUNCE: &str = "bounce";
pub const KIND_COMPLAINT: &str = "complaint";
/// A feedback report that is no complaint (`not-spam`, `auth-failure`): kept, but it
/// suppresses nothing and pauses nothing.
pub const KIND_FEEDBACK: &str = "feedback";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BounceRow {
    pub id: i64,
    pub kind: String,
    pub date: i64,
    pub mailbox: String,
    pub outbox_id: Option<i64>,
    pub recipient: String,
    pub domain: String,
    pub action: Option<String>,
    pub status_code: Option<String>,
    pub reply_code: Option<i64>,
    pub reason: String,
    pub hard: bool,
    pub diagnostic: String,
    pub remote_mta: Option<String>,
    pub raw: String,
    /// Subject of the campaign message that bounced (from the outbox), when matched.
    pub subject: Option<String>,
    /// How the report was matched to the sent row, or why it matched none.
    pub matched_by: String,
}

/// A row to insert (no id, no subject).
#[derive(Debug, Clone)]
pub struct NewBounce<'a> {
    pub kind: &'a str,
    pub date: i64,
    pub mailbox: &'a str,
    pub outbox_id: Option<i64>,
    pub recipient: &'a str,
    pub action: Option<&'a str>,
    pub status_code: Option<&'a str>,
    pub reply_code: Option<u16>,
    pub reason: &'a str,
    pub hard: bool,
    pub diagnostic: &'a str,
    pub remote_mta: Option<&'a str>,
    pub raw: &'a str,
    pub inbox_message_id: i64,
    /// How the report was matched to `outbox_id`, or why it matched none.
    pub matched_by: &'a str,
    /// The Message-ID of the message (the attempt of `outbox_id`) the report is about.
    pub message_id: Option<&'a str>,
}

pub fn insert(conn: &Connection, b: &NewBounce<'_>, now: i64) -> Result<i64> {
    let domain = b
        .recipient
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    conn.prepare_cached(
        "INSERT INTO bounces (kind, date, mailbox, outbox_id, recipient, domain, action,
             status_code, reply_code, reason, hard, diagnostic, remote_mta, raw, inbox_message_id,
             created_at, matched_by, message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18)",
    )?
    .execute(params![
        b.kind,
        b.date,
        b.mailbox,
        b.outbox_id,
        b.recipient,
        domain,
        b.action,
        b.status_code,
        b.reply_code,
        b.reason,
        b.hard,
        b.diagnostic,
        b.remote_mta,
        b.raw,
        b.inbox_message_id,
        now,
        b.matched_by,
        b.message_id
    ])?;
    Ok(conn.last_insert_rowid())
}

/// What to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    /// Recipient domain, exact (lower-case).
    pub domain: Option<String>,
    /// Reason, exact (`userunknown`, or a feedback type for complaints).
    pub reason: Option<String>,
    /// `bounce` or `complaint`.
    pub kind: Option<String>,
}

/// Rows matching `filter`, newest first.
pub fn list(conn: &Connection, filter: &Filter) -> Result<Vec<BounceRow>> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.kind, b.date, b.mailbox, b.outbox_id, b.recipient, b.domain, b.action,
                b.status_code, b.reply_code, b.reason, b.hard, b.diagnostic, b.remote_mta, b.raw,
                o.subject, b.matched_by
         FROM bounces b LEFT JOIN outbox o ON o.id = b.outbox_id
         WHERE (?1 IS NULL OR b.date >= ?1) AND (?2 IS NULL OR b.date < ?2)
           AND (?3 IS NULL OR b.domain = ?3) AND (?4 IS NULL OR b.reason = ?4)
           AND (?5 IS NULL OR b.kind = ?5)
         ORDER BY b.date DESC, b.id DESC",
    )?;
    let rows = stmt.query_map(
        params![
            filter.since,
            filter.until,
            filter.domain.as_deref().map(str::to_ascii_lowercase),
            filter.reason,
            filter.kind
        ],
        |r| {
            Ok(BounceRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                date: r.get(2)?,
                mailbox: r.get(3)?,
                outbox_id: r.get(4)?,
                recipient: r.get(5)?,
                domain: r.get(6)?,
                action: r.get(7)?,
                status_code: r.get(8)?,
                reply_code: r.get(9)?,
                reason: r.get(10)?,
                hard: r.get(11)?,
                diagnostic: r.get(12)?,
                remote_mta: r.get(13)?,
                raw: r.get(14)?,
                subject: r.get(15)?,
                matched_by: r.get(16)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The one definition of a bounced message, used by the auto-pause rule (and `mailbox
/// status`), the Bounces tab's per-mailbox rates, the campaign summary and `/api/stats`: one
/// row per outbox row that bounced (`outbox_id`, `hard` 1 or 0). Hard when the receiving
/// server refused it with a 5xx during the SMTP transaction (after its last send: no report
/// ever comes back for it) or a failed report for it is hard; soft when only failed soft
/// reports came back. Delay notices and other report actions are not bounces. Cheap: it reads
/// the bounces table and the refused rows (indexed), not the whole outbox.
pub const BOUNCE_PER_ROW: &str = "SELECT outbox_id, MAX(hard) AS hard FROM (
         SELECT outbox_id, hard FROM bounces
         WHERE kind = 'bounce' AND action = 'failed' AND outbox_id IS NOT NULL
         UNION ALL
         SELECT id, 1 FROM outbox
         WHERE refused_at IS NOT NULL AND (sent_at IS NULL OR refused_at > sent_at))
     GROUP BY outbox_id";

/// Per mailbox: messages sent or refused at send time, those that bounced, of which hard (as
/// [`BOUNCE_PER_ROW`] says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRate {
    pub mailbox: String,
    pub sent: i64,
    pub bounced: i64,
    pub hard: i64,
}

impl MailboxRate {
    /// Bounced share of sent messages, in percent.
    pub fn percent(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            self.bounced as f64 * 100.0 / self.sent as f64
        }
    }
}

/// Bounce rate of every mailbox that sent something, over all its messages (the auto-pause
/// rule judges the last ones the same way).
pub fn rate_per_mailbox(conn: &Connection) -> Result<Vec<MailboxRate>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT o.mailbox, COUNT(*), COUNT(w.outbox_id), COALESCE(SUM(w.hard), 0)
         FROM outbox o LEFT JOIN ({BOUNCE_PER_ROW}) w ON w.outbox_id = o.id
         WHERE (o.sent_at IS NOT NULL OR o.refused_at IS NOT NULL) AND o.mailbox IS NOT NULL
         GROUP BY o.mailbox ORDER BY o.mailbox"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(MailboxRate {
            mailbox: r.get(0)?,
            sent: r.get(1)?,
            bounced: r.get(2)?,
            hard: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Hard bounces among the last `n` messages `mailbox` sent or had refused with a 5xx during
/// the transaction (a refusal counts as a hard bounce): (messages considered, hard).
pub fn hard_bounces_in_last_sends(conn: &Connection, mailbox: &str, n: i64) -> Result<(i64, i64)> {
    hard_bounces_in_last_sends_since(conn, mailbox, n, 0)
}

/// [`hard_bounces_in_last_sends`] over messages sent or refused at or after `since` (the
/// auto-pause rule counts only what happened since the mailbox was last resumed). Times are
/// whole seconds, so a send in the same second as the resume counts: `hailer mailbox resume
/// X && hailer send` must not get a window that misses its first refusals. Hard as
/// [`BOUNCE_PER_ROW`] says.
pub fn hard_bounces_in_last_sends_since(
    conn: &Connection,
    mailbox: &str,
    n: i64,
    since: i64,
) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        &format!(
            "WITH recent AS (
                 SELECT id FROM outbox
                 WHERE mailbox = ?1 AND (sent_at >= ?3 OR refused_at >= ?3)
                 ORDER BY MAX(COALESCE(sent_at, 0), COALESCE(refused_at, 0)) DESC, id DESC LIMIT ?2)
             SELECT COUNT(*), COALESCE(SUM(w.hard), 0)
             FROM recent r LEFT JOIN ({BOUNCE_PER_ROW}) w ON w.outbox_id = r.id"
        ),
        params![mailbox, n, since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// The `limit` domains with the most bounce rows matching `filter` (complaints excluded).
pub fn top_domains(conn: &Connection, filter: &Filter, limit: usize) -> Result<Vec<(String, i64)>> {
    let mut counts: std::collections::HashMap<String, i64> = Default::default();
    let mut f = filter.clone();
    f.kind = Some(KIND_BOUNCE.into());
    for r in list(conn, &f)? {
        *counts.entry(r.domain).or_default() += 1;
    }
    let mut v: Vec<(String, i64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounce<'a>(recipient: &'a str, mailbox: &'a str, outbox: i64, hard: bool) -> NewBounce<'a> {
        NewBounce {
            kind: KIND_BOUNCE,
            date: 100,
            mailbox,
            outbox_id: Some(outbox),
            recipient,
            action: Some("failed"),
            status_code: Some(if hard { "5.1.1" } else { "4.2.2" }),
            reply_code: Some(550),
            reason: if hard { "userunknown" } else { "mailboxfull" },
            hard,
            diagnostic: "x",
            remote_mta: None,
            raw: "",
            inbox_message_id: 1,
            matched_by: "",
            message_id: None,
        }
    }

    #[test]
    fn rates_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        c.execute_batch(
            "INSERT INTO companies VALUES ('k', 'K', NULL, NULL, NULL, 0, 0);
             INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key, kind, processed_at)
                 VALUES (1, 'a', 'INBOX', 1, 1, 'm', 'bounce', 0);",
        )
        .unwrap();
        // Row `i` of mailbox a: SENT at time i, or refused (5xx during the transaction) at i.
        let add_row = |i: i64, refused: bool| {
            c.execute(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES (?1, 'f', 'l', 'K', 'k', ?1, 0)",
                [i],
            )
            .unwrap();
            c.execute(
                "INSERT INTO outbox (id, prospect_id, company_key, status, mailbox, sent_at, refused_at,
                                     created_at, updated_at)
                 VALUES (?1, ?1, 'k', CASE WHEN ?2 THEN 'ERROR' ELSE 'SENT' END, 'a',
                         CASE WHEN ?2 THEN NULL ELSE ?1 END, CASE WHEN ?2 THEN ?1 END, 0, 0)",
                rusqlite::params![i, refused],
            )
            .unwrap();
        };
        for i in 1..=4 {
            add_row(i, false);
        }
        insert(c, &bounce("x@one.test", "a", 1, true), 0).unwrap();
        insert(c, &bounce("x@one.test", "a", 1, true), 0).unwrap();
        insert(c, &bounce("y@two.test", "a", 4, false), 0).unwrap();
        let rates = rate_per_mailbox(c).unwrap();
        assert_eq!(
            rates,
            vec![MailboxRate {
                mailbox: "a".into(),
                sent: 4,
                bounced: 2,
                hard: 1
            }]
        );
        assert_eq!(hard_bounces_in_last_sends(c, "a", 2).unwrap(), (2, 0));
        assert_eq!(hard_bounces_in_last_sends(c, "a", 10).unwrap(), (4, 1));
        // Two messages refused with a 5xx at send time, the latest activity: each counts as
        // a hard bounce within the window.
        for i in 5..=6 {
            add_row(i, true);
        }
        assert_eq!(hard_bounces_in_last_sends(c, "a", 3).unwrap(), (3, 2));
        assert_eq!(hard_bounces_in_last_sends(c, "a", 10).unwrap(), (6, 3));
        // From second 5 on: rows 5 and 6, the one in the same second as `since` included.
        assert_eq!(
            hard_bounces_in_last_sends_since(c, "a", 10, 5).unwrap(),
            (2, 2)
        );
        assert_eq!(
            hard_bounces_in_last_sends_since(c, "a", 10, 6).unwrap(),
            (1, 1)
        );
        let f = Filter {
            domain: Some("ONE.test".into()),
            ..Default::default()
        };
        assert_eq!(list(c, &f).unwrap().len(), 2);
        assert_eq!(
            top_domains(c, &Filter::default(), 5).unwrap(),
            vec![("one.test".into(), 2), ("two.test".into(), 1)]
        );
        // A delay report is not a failure, however it is classed: it never counts.
        add_row(7, false);
        let mut delayed = bounce("z@three.test", "a", 7, true);
        delayed.action = Some("delayed");
        insert(c, &delayed, 0).unwrap();
        assert_eq!(hard_bounces_in_last_sends(c, "a", 1).unwrap(), (1, 0));
    }
}
