//! Campaign figures: the Outbox tab's summary line and the daily Telegram summary.
//!
//! Outbox statuses are read as text and sorted into buckets by [`buckets`], so statuses added
//! by later work (bounces, replies) are counted by adding one match arm there.

use rusqlite::Connection;

use crate::store::StoreError;

/// What an outbox status counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Handed to the provider (every later outcome implies it).
    Sent,
    /// Not bounced (so far).
    Delivered,
    BouncedHard,
    BouncedSoft,
    Replied,
}

/// The buckets an outbox status belongs to. Extend here when statuses are added.
pub fn buckets(status: &str) -> &'static [Bucket] {
    use Bucket::*;
    match status {
        "SENT" => &[Sent, Delivered],
        "REPLIED" => &[Sent, Delivered, Replied],
        "BOUNCED" | "BOUNCED_HARD" | "HARD_BOUNCE" => &[Sent, BouncedHard],
        "SOFT_BOUNCED" | "BOUNCED_SOFT" | "SOFT_BOUNCE" | "DEFERRED" => &[Sent, BouncedSoft],
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
    pub clicked: i64,
    pub replied: i64,
    pub bounced_hard: i64,
    pub bounced_soft: i64,
    pub unsubscribed: i64,
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
                Bucket::BouncedHard => c.bounced_hard += n,
                Bucket::BouncedSoft => c.bounced_soft += n,
                Bucket::Replied => c.replied += n,
            }
        }
    }
    let (opened, opened_human, clicked, unsub_events): (i64, i64, i64, i64) = conn.query_row(
        "SELECT COUNT(DISTINCT CASE WHEN kind = 'OPEN' THEN outbox_id END),
                COUNT(DISTINCT CASE WHEN kind = 'OPEN' AND machine = 0 THEN outbox_id END),
                COUNT(DISTINCT CASE WHEN kind = 'CLICK' THEN outbox_id END),
                COUNT(DISTINCT CASE WHEN kind = 'UNSUBSCRIBE' THEN outbox_id END)
         FROM tracking_events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    c.opened = opened;
    c.opened_human = opened_human;
    c.clicked = clicked;
    // One-click unsubscribes and any other (mailto, manual "unsubscribed" entries).
    let suppressed: i64 = conn.query_row(
        "SELECT COUNT(*) FROM suppressions WHERE cause = 'unsubscribed'",
        [],
        |r| r.get(0),
    )?;
    c.unsubscribed = suppressed.max(unsub_events);
    Ok(c)
}

impl Campaign {
    /// One line for the Outbox tab, in `width` columns: labelled when it fits, else compact
    /// (S sent, D delivered, O opened (h: by people), C clicked, R replied, B bounced, U unsub).
    pub fn line(&self, width: usize) -> String {
        let long = format!(
            "sent {} · dlv {} · open {} ({} human) · click {} · reply {} · bounce {}h/{}s · unsub {}",
            self.sent,
            self.delivered,
            self.opened,
            self.opened_human,
            self.clicked,
            self.replied,
            self.bounced_hard,
            self.bounced_soft,
            self.unsubscribed
        );
        if long.chars().count() <= width {
            return long;
        }
        format!(
            "S{} D{} O{}({}h) C{} R{} B{}h/{}s U{}",
            self.sent,
            self.delivered,
            self.opened,
            self.opened_human,
            self.clicked,
            self.replied,
            self.bounced_hard,
            self.bounced_soft,
            self.unsubscribed
        )
    }
}

/// Domains with the most bounced rows: rows in a bounce bucket, and rows refused with a 5xx
/// at submission (a synchronous bounce).
pub fn top_bouncing_domains(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT status, smtp_reply, email FROM outbox
         WHERE email IS NOT NULL AND status NOT IN ('READY', 'SENT', 'SKIPPED', 'SENDING', 'RETRY')",
    )?;
    let mut by_domain: std::collections::HashMap<String, i64> = Default::default();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (status, reply, email) = row?;
        let bounced = buckets(&status)
            .iter()
            .any(|b| matches!(b, Bucket::BouncedHard | Bucket::BouncedSoft))
            || (status == "ERROR" && reply.as_deref().is_some_and(|r| r.starts_with('5')));
        if bounced && let Some((_, domain)) = email.rsplit_once('@') {
            *by_domain.entry(domain.to_lowercase()).or_default() += 1;
        }
    }
    let mut out: Vec<(String, i64)> = by_domain.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(limit);
    Ok(out)
}

/// The daily summary's text.
pub fn daily_text(conn: &Connection) -> Result<String, StoreError> {
    let mut out = String::from("hailer daily summary\n");
    let by_status = counts_by_status(conn)?;
    if by_status.is_empty() {
        out.push_str("outbox: empty\n");
    } else {
        let parts: Vec<String> = by_status.iter().map(|(s, n)| format!("{s} {n}")).collect();
        out.push_str(&format!("outbox: {}\n", parts.join(", ")));
    }
    let c = campaign(conn)?;
    out.push_str(&format!(
        "opened {} ({} without machine opens), clicked {}, replied {}, bounced {} hard / {} soft, unsubscribed {}\n",
        c.opened, c.opened_human, c.clicked, c.replied, c.bounced_hard, c.bounced_soft, c.unsubscribed
    ));
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
               (1, 'CLICK', 0, 0), (1, 'CLICK', 0, 0), (2, 'UNSUBSCRIBE', 0, 0);",
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
                clicked: 1,
                replied: 0,
                bounced_hard: 0,
                bounced_soft: 0,
                unsubscribed: 1,
            }
        );
        assert!(
            c.line(80).starts_with("sent 2 · dlv 2 · open 2 (1 human)"),
            "{}",
            c.line(80)
        );
        let big = Campaign {
            sent: 100_000,
            delivered: 99_000,
            opened: 52_000,
            opened_human: 45_000,
            clicked: 3_000,
            replied: 900,
            bounced_hard: 1_000,
            bounced_soft: 200,
            unsubscribed: 300,
        };
        assert_eq!(
            big.line(78),
            "S100000 D99000 O52000(45000h) C3000 R900 B1000h/200s U300"
        );
        assert_eq!(
            top_bouncing_domains(store.conn(), 5).unwrap(),
            [("bad.test".to_string(), 2)]
        );
        let text = daily_text(store.conn()).unwrap();
        assert!(text.contains("ERROR 3, READY 1, SENT 2"), "{text}");
        assert!(text.contains("top bouncing domains: bad.test 2"), "{text}");
    }

    #[test]
    fn later_statuses_have_buckets() {
        assert_eq!(buckets("BOUNCED"), [Bucket::Sent, Bucket::BouncedHard]);
        assert!(buckets("REPLIED").contains(&Bucket::Replied));
        assert!(buckets("READY").is_empty());
    }
}
