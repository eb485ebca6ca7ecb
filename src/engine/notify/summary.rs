//! Campaign figures: the Outbox tab's summary line and the daily Telegram summary.
//!
//! Outbox statuses are read as text and sorted into buckets by [`buckets`]; hard and soft
//! bounces are counted per row by `store::bounces::BOUNCE_PER_ROW`: the `bounces` table the
//! IMAP watcher fills (a row's BOUNCED status alone does not say which), plus rows the
//! receiving server refused with a 5xx during the SMTP transaction.

use rusqlite::Connection;

use crate::store::StoreError;

/// What an outbox status counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Handed to the provider (every later outcome implies it).
    Sent,
    /// Not bounced (so far).
    Delivered,
    Replied,
}

/// The buckets an outbox status belongs to. Extend here when statuses are added.
pub fn buckets(status: &str) -> &'static [Bucket] {
    use crate::store::outbox::Status;
    match Status::parse(status) {
        Some(Status::Sent) => &[Bucket::Sent, Bucket::Delivered],
        Some(Status::Replied) => &[Bucket::Sent, Bucket::Delivered, Bucket::Replied],
        // Sent, then a bounce came back (INVALID: a hard 5.1.x, the address does not exist).
        Some(s) if s.was_accepted() => &[Bucket::Sent],
        _ => &[],
    }
}

/// The campaign summary (distinct outbox rows for opens and clicks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Campaign {
    pub sent: i64,
    pub delivered: i64,
    /// Rows with an open, proxies and scanners included.
    pub opened: i64,
    /// Rows with an open by a person (machine opens left out).
    pub opened_human: i64,
    /// Rows with a click, link scanners (Mimecast, Proofpoint, …) included.
    pub clicked: i64,
    /// Rows with a click by a person: a scanner follows every link of a message it lets
    /// through, so a click rate without this split is the scanners' as much as the people's.
    pub clicked_human: i64,
    pub replied: i64,
    pub bounced_hard: i64,
    pub bounced_soft: i64,
    pub unsubscribed: i64,
    /// Addresses that complained (a feedback report of abuse, fraud, virus or other about
    /// one of our sends): each paused its mailbox.
    pub complained: i64,
}

/// Outbox rows by status, as stored (statuses this build does not know included).
pub fn counts_by_status(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Two aggregate queries (outbox by status, one pass over tracking_events) and a count of
/// unsubscribes: cheap on 100k rows, so the TUI can run it on every refresh.
pub fn campaign(conn: &Connection) -> Result<Campaign, StoreError> {
    let mut c = Campaign::default();
    for (status, n) in counts_by_status(conn)? {
        for b in buckets(&status) {
            match b {
                Bucket::Sent => c.sent += n,
                Bucket::Delivered => c.delivered += n,
                Bucket::Replied => c.replied += n,
            }
        }
    }
    let (opened, opened_human, clicked, clicked_human, unsub_events): (i64, i64, i64, i64, i64) =
        conn.query_row(
            "SELECT COUNT(DISTINCT CASE WHEN kind = 'OPEN' THEN outbox_id END),
                    COUNT(DISTINCT CASE WHEN kind = 'OPEN' AND machine = 0 THEN outbox_id END),
                    COUNT(DISTINCT CASE WHEN kind = 'CLICK' THEN outbox_id END),
                    COUNT(DISTINCT CASE WHEN kind = 'CLICK' AND machine = 0 THEN outbox_id END),
                    COUNT(DISTINCT CASE WHEN kind = 'UNSUBSCRIBE' THEN outbox_id END)
             FROM tracking_events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    // Per bounced row, hard or soft, as the auto-pause rule counts them.
    let (hard, soft): (i64, i64) = conn.query_row(
        &format!(
            "SELECT COALESCE(SUM(hard), 0), COALESCE(SUM(1 - hard), 0) FROM ({})",
            crate::store::bounces::BOUNCE_PER_ROW
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    c.bounced_hard = hard;
    c.bounced_soft = soft;
    c.opened = opened;
    c.opened_human = opened_human;
    c.clicked = clicked;
    c.clicked_human = clicked_human;
    // One-click unsubscribes and any other (mailto, manual "unsubscribed" entries).
    let suppressed: i64 = conn.query_row(
        "SELECT COUNT(*) FROM suppressions WHERE cause = 'unsubscribed'",
        [],
        |r| r.get(0),
    )?;
    c.unsubscribed = suppressed.max(unsub_events);
    c.complained = conn.query_row(
        "SELECT COUNT(DISTINCT lower(recipient)) FROM bounces
         WHERE kind = 'complaint' AND outbox_id IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(c)
}

/// What happened since `since` (unix seconds), for the daily summary's "last 24 h" line:
/// messages sent, rows first opened or clicked, replies and bounce reports read, complaints
/// and unsubscribes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recent {
    pub sent: i64,
    pub opened: i64,
    pub clicked: i64,
    /// Rows first clicked by a person in the window (link scanners' clicks left out).
    pub clicked_human: i64,
    pub replied: i64,
    pub bounced_hard: i64,
    pub bounced_soft: i64,
    pub complained: i64,
    pub unsubscribed: i64,
}

pub fn recent(conn: &Connection, since: i64) -> Result<Recent, StoreError> {
    let count =
        |sql: &str| -> Result<i64, StoreError> { Ok(conn.query_row(sql, [since], |r| r.get(0))?) };
    Ok(Recent {
        sent: count("SELECT COUNT(*) FROM outbox WHERE sent_at >= ?1")?,
        // A row counts the day of its first open or click, not every reload of the pixel.
        opened: count(
            "SELECT COUNT(*) FROM (SELECT outbox_id FROM tracking_events WHERE kind = 'OPEN'
             GROUP BY outbox_id HAVING MIN(created_at) >= ?1)",
        )?,
        clicked: count(
            "SELECT COUNT(*) FROM (SELECT outbox_id FROM tracking_events WHERE kind = 'CLICK'
             GROUP BY outbox_id HAVING MIN(created_at) >= ?1)",
        )?,
        clicked_human: count(
            "SELECT COUNT(*) FROM (SELECT outbox_id FROM tracking_events
             WHERE kind = 'CLICK' AND machine = 0
             GROUP BY outbox_id HAVING MIN(created_at) >= ?1)",
        )?,
        replied: count(
            "SELECT COUNT(*) FROM inbox_messages WHERE kind = 'reply' AND processed_at >= ?1",
        )?,
        bounced_hard: count(
            "SELECT COUNT(DISTINCT lower(recipient)) FROM bounces
             WHERE kind = 'bounce' AND action = 'failed' AND hard = 1 AND outbox_id IS NOT NULL
               AND created_at >= ?1",
        )?,
        bounced_soft: count(
            "SELECT COUNT(DISTINCT lower(recipient)) FROM bounces
             WHERE kind = 'bounce' AND action = 'failed' AND hard = 0 AND outbox_id IS NOT NULL
               AND created_at >= ?1",
        )?,
        complained: count(
            "SELECT COUNT(DISTINCT lower(recipient)) FROM bounces
             WHERE kind = 'complaint' AND outbox_id IS NOT NULL AND created_at >= ?1",
        )?,
        // By address: a new `unsubscribed` entry, a one-click on a row, an unsubscribe email
        // about one of our messages (a stranger's "unsubscribe" mail is no campaign's). The
        // last two also for an address already on the list for another cause (it replied
        // earlier): its entry becomes `unsubscribed` but keeps its first date.
        unsubscribed: count(
            "SELECT COUNT(DISTINCT address) FROM (
                 SELECT lower(entry) AS address FROM suppressions
                 WHERE cause = 'unsubscribed' AND created_at >= ?1
                 UNION ALL
                 SELECT lower(o.email) FROM tracking_events e JOIN outbox o ON o.id = e.outbox_id
                 WHERE e.kind = 'UNSUBSCRIBE' AND e.created_at >= ?1 AND o.email IS NOT NULL
                 UNION ALL
                 SELECT lower(o.email) FROM inbox_messages m
                 JOIN outbox o ON o.id = m.outbox_id
                 WHERE m.kind = 'unsubscribe' AND m.processed_at >= ?1
                   AND o.email IS NOT NULL)",
        )?,
    })
}

impl Campaign {
    /// One line for the Outbox tab, in `width` columns, in words ("35 sent · 21 delivered ·
    /// …"). When it does not fit, the least useful parts go first: the split of bounces,
    /// the delivered count (sent less bounces, near enough), the opens by people (after
    /// unsubscribes when there are none), unsubscribes, clicks, opens. What is left may still be wider (sent, replied, bounced): the
    /// caller cuts it.
    pub fn line(&self, width: usize) -> String {
        use unicode_width::UnicodeWidthStr;
        // (the part, its shorter form or `None` to drop it), in the order shown.
        let sent = (format!("{} sent", self.sent), None);
        let delivered = (format!("{} delivered", self.delivered), None);
        let opened = (
            format!("{} opened ({} by people)", self.opened, self.opened_human),
            Some(format!("{} opened", self.opened)),
        );
        let clicked = (
            format!(
                "{} clicked ({} by people)",
                self.clicked, self.clicked_human
            ),
            Some(format!("{} clicked", self.clicked)),
        );
        let replied = (format!("{} replied", self.replied), None);
        let bounced = (
            format!(
                "{} bounced ({} hard, {} soft)",
                self.bounced_hard + self.bounced_soft,
                self.bounced_hard,
                self.bounced_soft
            ),
            Some(format!("{} bounced", self.bounced_hard + self.bounced_soft)),
        );
        let unsubscribed = (format!("{} unsubscribed", self.unsubscribed), None);
        let mut parts: Vec<Option<String>> = [
            &sent,
            &delivered,
            &opened,
            &clicked,
            &replied,
            &bounced,
            &unsubscribed,
        ]
        .iter()
        .map(|(long, _)| Some(long.clone()))
        .collect();
        // Index into `parts`, and what it becomes: shortened, or dropped. Unsubscribes go
        // before the opens by people when there are none, after when there are some.
        let mut steps: Vec<(usize, &Option<String>)> = vec![
            (5, &bounced.1),
            (1, &None),
            (3, &clicked.1),
            (2, &opened.1),
            (3, &None),
            (2, &None),
        ];
        steps.insert(if self.unsubscribed == 0 { 2 } else { 4 }, (6, &None));
        for (at, to) in steps {
            if crate::text::join_present(&parts).width() <= width {
                break;
            }
            parts[at] = to.clone();
        }
        crate::text::join_present(&parts)
    }
}

/// Domains with the most bounced addresses: bounce reports read by the IMAP watcher and
/// matched to one of our sends (delay notices left out; a shared inbox's other mail is not
/// the campaign's), and rows refused with a 5xx at submission (a synchronous bounce).
pub fn top_bouncing_domains(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT lower(substr(addr, instr(addr, '@') + 1)) AS domain, COUNT(DISTINCT addr) AS n
         FROM (
            SELECT lower(recipient) AS addr FROM bounces
            WHERE kind = 'bounce' AND COALESCE(action, '') <> 'delayed'
              AND outbox_id IS NOT NULL
            UNION
            SELECT lower(email) FROM outbox
            WHERE status = 'ERROR' AND email IS NOT NULL AND smtp_reply LIKE '5%')
         WHERE instr(addr, '@') > 0
         GROUP BY domain ORDER BY n DESC, domain LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The daily summary's text: the last 24 hours before `now` (unix seconds), then the
/// campaign so far, paused mailboxes and the domains that bounce most.
pub fn daily_text(conn: &Connection, now: i64) -> Result<String, StoreError> {
    let mut out = String::from("hailer daily summary\n");
    let r = recent(conn, now - 86_400)?;
    out.push_str(&format!(
        "last 24 h: sent {}, opened {}, clicked {} ({} by people), replied {}, bounced {} hard / \
         {} soft, complaints {}, unsubscribed {}\n",
        r.sent,
        r.opened,
        r.clicked,
        r.clicked_human,
        r.replied,
        r.bounced_hard,
        r.bounced_soft,
        r.complained,
        r.unsubscribed
    ));
    let by_status = counts_by_status(conn)?;
    if by_status.is_empty() {
        out.push_str("outbox: empty\n");
    } else {
        let parts: Vec<String> = by_status.iter().map(|(s, n)| format!("{s} {n}")).collect();
        out.push_str(&format!("outbox: {}\n", parts.join(", ")));
    }
    let c = campaign(conn)?;
    out.push_str(&format!(
        "so far: opened {} ({} without machine opens), clicked {} ({} without link scanners), replied {}, bounced {} hard / {} soft, complaints {}, unsubscribed {}\n",
        c.opened, c.opened_human, c.clicked, c.clicked_human, c.replied, c.bounced_hard, c.bounced_soft, c.complained, c.unsubscribed
    ));
    for p in crate::store::pauses::list(conn)? {
        out.push_str(&format!("PAUSED mailbox {}: {}\n", p.mailbox, p.reason));
    }
    let top = top_bouncing_domains(conn, 5)?;
    if top.is_empty() {
        out.push_str("no bouncing domains\n");
    } else {
        let parts: Vec<String> = top.iter().map(|(d, n)| format!("{d} {n}")).collect();
        out.push_str(&format!("top bouncing domains: {}\n", parts.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn figures_from_statuses_and_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let mut sql = String::from(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
",
        );
        let rows = [
            (1, "SENT", "a@one.test", None),
            (2, "SENT", "b@one.test", None),
            (3, "ERROR", "c@bad.test", Some("550 5.1.1 unknown")),
            (4, "ERROR", "d@bad.test", Some("550 5.1.1 unknown")),
            (5, "ERROR", "e@two.test", Some("suppressed")),
            (6, "READY", "f@one.test", None),
        ];
        for (id, status, email, reply) in rows {
            sql.push_str(&format!(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES ({id}, 'J', 'D', 'Acme', 'acme', 'j|d{id}', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, smtp_reply, created_at, updated_at)
                 VALUES ({id}, {id}, '{email}', 'acme', '{status}', {}, 0, 0);",
                reply.map_or("NULL".to_string(), |r| format!("'{r}'"))
            ));
        }
        sql.push_str(
            "INSERT INTO tracking_events (outbox_id, kind, machine, created_at) VALUES
               (1, 'OPEN', 1, 0), (1, 'OPEN', 0, 0), (2, 'OPEN', 1, 0), (2, 'OPEN', 1, 0),
               (1, 'CLICK', 0, 0), (1, 'CLICK', 0, 0), (2, 'CLICK', 1, 0),
               (2, 'UNSUBSCRIBE', 0, 0);",
        );
        store.conn().execute_batch(&sql).unwrap();
        let c = campaign(store.conn()).unwrap();
        assert_eq!(
            c,
            Campaign {
                sent: 2,
                delivered: 2,
                opened: 2,
                opened_human: 1,
                clicked: 2,
                clicked_human: 1,
                replied: 0,
                bounced_hard: 0,
                bounced_soft: 0,
                unsubscribed: 1,
                complained: 0,
            }
        );
        assert_eq!(
            c.line(140),
            "2 sent · 2 delivered · 2 opened (1 by people) · 2 clicked (1 by people) · \
             0 replied · 0 bounced (0 hard, 0 soft) · 1 unsubscribed"
        );
        let big = Campaign {
            sent: 100_000,
            delivered: 99_000,
            opened: 52_000,
            opened_human: 45_000,
            clicked: 3_000,
            clicked_human: 1_100,
            replied: 900,
            bounced_hard: 1_000,
            bounced_soft: 200,
            unsubscribed: 300,
            complained: 0,
        };
        // Narrower, the least useful parts go first; the rest stays in words.
        assert_eq!(
            big.line(124),
            "100000 sent · 52000 opened (45000 by people) · 3000 clicked (1100 by people) · \
             900 replied · 1200 bounced · 300 unsubscribed"
        );
        assert_eq!(
            big.line(110),
            "100000 sent · 52000 opened (45000 by people) · 3000 clicked · 900 replied · \
             1200 bounced · 300 unsubscribed"
        );
        assert_eq!(
            big.line(78),
            "100000 sent · 52000 opened · 3000 clicked · 900 replied · 1200 bounced"
        );
        assert_eq!(
            big.line(60),
            "100000 sent · 52000 opened · 900 replied · 1200 bounced"
        );
        assert_eq!(big.line(50), "100000 sent · 900 replied · 1200 bounced");
        assert_eq!(
            big.line(10),
            big.line(50),
            "what is left: the caller cuts it"
        );
        assert_eq!(
            top_bouncing_domains(store.conn(), 5).unwrap(),
            [("bad.test".to_string(), 2)]
        );
        let text = daily_text(store.conn(), 100_000).unwrap();
        assert!(text.contains("ERROR 3, READY 1, SENT 2"), "{text}");
        assert!(
            text.contains("clicked 2 (1 without link scanners)"),
            "{text}"
        );
        assert!(text.contains("top bouncing domains: bad.test 2"), "{text}");
    }

    #[test]
    fn bounces_are_counted_from_the_reports_per_sent_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let mut sql = String::from(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
             INSERT INTO inbox_messages (id, mailbox, folder, uidvalidity, uid, message_key, kind, processed_at)
             VALUES (1, 'm', 'INBOX', 1, 1, 'k', 'bounce', 0);",
        );
        let rows = [
            (1, "INVALID", "a@gone.test"),
            (2, "BOUNCED", "b@full.test"),
            (3, "BOUNCED", "c@gone.test"),
            (4, "SENT", "d@slow.test"),
            (5, "REPLIED", "e@ok.test"),
        ];
        for (id, status, email) in rows {
            sql.push_str(&format!(
                "INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
                 VALUES ({id}, 'J', 'D', 'Acme', 'acme', 'j|d{id}', 0);
                 INSERT INTO outbox (id, prospect_id, email, company_key, status, created_at, updated_at)
                 VALUES ({id}, {id}, '{email}', 'acme', '{status}', 0, 0);"
            ));
        }
        // Row 3 had a soft bounce first, then a hard one: it counts once, as hard. Row 4 only
        // got a delay notice: not a bounce.
        for (outbox_id, rcpt, action, hard) in [
            (1, "a@gone.test", "failed", 1),
            (2, "b@full.test", "failed", 0),
            (3, "c@gone.test", "failed", 0),
            (3, "c@gone.test", "failed", 1),
            (4, "d@slow.test", "delayed", 0),
        ] {
            let domain = rcpt.split('@').nth(1).unwrap();
            sql.push_str(&format!(
                "INSERT INTO bounces (kind, date, mailbox, outbox_id, recipient, domain, action, reason, hard, inbox_message_id, created_at)
                 VALUES ('bounce', 0, 'm', {outbox_id}, '{rcpt}', '{domain}', '{action}', 'x', {hard}, 1, 0);"
            ));
        }
        // A bounce of mail hailer did not send (a shared inbox) is no campaign domain's; a
        // complaint about row 5 came yesterday, the bounces long ago.
        sql.push_str(
            "INSERT INTO bounces (kind, date, mailbox, outbox_id, recipient, domain, action, reason, hard, inbox_message_id, created_at)
             VALUES ('bounce', 0, 'm', NULL, 'x@shared.test', 'shared.test', 'failed', 'x', 1, 1, 0),
                    ('complaint', 0, 'm', 5, 'e@ok.test', 'ok.test', NULL, 'abuse', 0, 1, 50000);
             INSERT INTO mailbox_pauses (mailbox, reason, paused_at, auto)
             VALUES ('m', 'complaint (abuse) from e@ok.test', 50000, 1);",
        );
        store.conn().execute_batch(&sql).unwrap();
        let c = campaign(store.conn()).unwrap();
        assert_eq!((c.sent, c.delivered, c.replied), (5, 2, 1));
        assert_eq!((c.bounced_hard, c.bounced_soft), (2, 1));
        assert_eq!(c.complained, 1);
        assert_eq!(
            top_bouncing_domains(store.conn(), 5).unwrap(),
            [("gone.test".to_string(), 2), ("full.test".to_string(), 1)]
        );
        let text = daily_text(store.conn(), 100_000).unwrap();
        assert!(
            text.contains(
                "last 24 h: sent 0, opened 0, clicked 0 (0 by people), replied 0, bounced 0 hard / \
                 0 soft, complaints 1, unsubscribed 0"
            ),
            "{text}"
        );
        assert!(
            text.contains("so far: ") && text.contains("complaints 1"),
            "{text}"
        );
        assert!(
            text.contains("PAUSED mailbox m: complaint (abuse) from e@ok.test"),
            "{text}"
        );
    }

    #[test]
    fn later_statuses_have_buckets() {
        assert_eq!(buckets("BOUNCED"), [Bucket::Sent]);
        assert_eq!(buckets("INVALID"), [Bucket::Sent]);
        assert!(buckets("REPLIED").contains(&Bucket::Replied));
        assert!(buckets("READY").is_empty());
    }
}
