//! What came back from each sent row: opens and clicks (`tracking_events`) and replies the
//! watcher matched (`inbox_messages`). Aggregate queries only, one pass each, so the Outbox
//! tab and the outbox export stay cheap at 100k rows.

use std::collections::HashMap;

use rusqlite::Connection;

use super::Result;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Every open, those of image proxies and security gateways (Apple Mail Privacy
    /// Protection opens every message it receives) included.
    pub opens: i64,
    pub clicks: i64,
    /// Opens and clicks by people: without those flagged as a machine's (see
    /// `engine::tracking::server::is_machine` and the timing rules of its event writer).
    pub opens_human: i64,
    pub clicks_human: i64,
    pub replies: i64,
}

/// Counts per outbox row id; rows with nothing recorded are absent.
pub fn per_row(conn: &Connection) -> Result<HashMap<i64, RowCounts>> {
    let mut per_row: HashMap<i64, RowCounts> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT outbox_id, SUM(kind = 'OPEN'), SUM(kind = 'CLICK'),
                SUM(kind = 'OPEN' AND machine = 0), SUM(kind = 'CLICK' AND machine = 0)
         FROM tracking_events GROUP BY outbox_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            RowCounts {
                opens: r.get(1)?,
                clicks: r.get(2)?,
                opens_human: r.get(3)?,
                clicks_human: r.get(4)?,
                replies: 0,
            },
        ))
    })?;
    for row in rows {
        let (id, c) = row?;
        per_row.insert(id, c);
    }
    // Replies are the messages the watcher read and matched to a row (every one, also after
    // the row's status moved on).
    let mut stmt = conn.prepare(
        "SELECT outbox_id, COUNT(*) FROM inbox_messages
         WHERE kind = 'reply' AND outbox_id IS NOT NULL GROUP BY outbox_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (id, n) = row?;
        per_row.entry(id).or_default().replies = n;
    }
    Ok(per_row)
}
