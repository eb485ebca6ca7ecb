//! Paused mailboxes: the sender skips them until the user resumes them. The auto-pause rule
//! (`engine::autopause`) and `hailer mailbox pause` write here.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pause {
    pub mailbox: String,
    pub reason: String,
    pub paused_at: i64,
    /// Paused by the auto-pause rule (else by hand).
    pub auto: bool,
}

/// Why `mailbox` is paused, when it is.
pub fn get(conn: &Connection, mailbox: &str) -> Result<Option<Pause>> {
    Ok(conn
        .prepare_cached(
            "SELECT mailbox, reason, paused_at, auto FROM mailbox_pauses
             WHERE mailbox = ?1 AND paused_at IS NOT NULL",
        )?
        .query_row([mailbox], row)
        .optional()?)
}

/// Every paused mailbox, by name.
pub fn list(conn: &Connection) -> Result<Vec<Pause>> {
    let mut stmt = conn.prepare(
        "SELECT mailbox, reason, paused_at, auto FROM mailbox_pauses
         WHERE paused_at IS NOT NULL ORDER BY mailbox",
    )?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pause> {
    Ok(Pause {
        mailbox: r.get(0)?,
        reason: r.get(1)?,
        paused_at: r.get(2)?,
        auto: r.get(3)?,
    })
}

/// The reason of a pause made by hand without one (`mailbox pause`, `p` on Settings).
pub const BY_HAND: &str = "paused by hand";

/// Pause `mailbox`; `false` when it already was (its first reason is kept).
pub fn pause(conn: &Connection, mailbox: &str, reason: &str, auto: bool, now: i64) -> Result<bool> {
    let changed = conn.execute(
        "INSERT INTO mailbox_pauses (mailbox, paused_at, reason, auto) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (mailbox) DO UPDATE SET paused_at = excluded.paused_at,
             reason = excluded.reason, auto = excluded.auto
         WHERE mailbox_pauses.paused_at IS NULL",
        params![mailbox, now, reason, auto],
    )?;
    Ok(changed > 0)
}

/// Resume `mailbox`; `false` when it was not paused. Its rule window starts afresh at `now`.
pub fn resume(conn: &Connection, mailbox: &str, now: i64) -> Result<bool> {
    // The window counts from the resume's second on, inclusive (times are whole seconds, so
    // `resume && send` must count that send's refusals). A pause in that same second was
    // caused by what happened up to it: the window then starts at the next second, so the
    // sends that paused the mailbox do not pause it again.
    let changed = conn.execute(
        "UPDATE mailbox_pauses
         SET resumed_at = CASE WHEN paused_at >= ?2 THEN paused_at + 1 ELSE ?2 END,
             paused_at = NULL
         WHERE mailbox = ?1 AND paused_at IS NOT NULL",
        params![mailbox, now],
    )?;
    Ok(changed > 0)
}

/// When `mailbox` was last resumed (0: never): what happened before no longer counts.
pub fn resumed_at(conn: &Connection, mailbox: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT resumed_at FROM mailbox_pauses WHERE mailbox = ?1")?
        .query_row([mailbox], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn pause_keeps_the_first_reason_and_resume_records_when() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let c = store.conn();
        assert_eq!(get(c, "a").unwrap(), None);
        assert!(pause(c, "a", "first", true, 10).unwrap());
        assert!(!pause(c, "a", "second", true, 11).unwrap());
        let p = get(c, "a").unwrap().unwrap();
        assert_eq!(
            (p.reason.as_str(), p.paused_at, p.auto),
            ("first", 10, true)
        );
        assert_eq!(list(c).unwrap().len(), 1);
        assert!(resume(c, "a", 20).unwrap());
        assert!(!resume(c, "a", 21).unwrap());
        assert_eq!(get(c, "a").unwrap(), None);
        assert_eq!(resumed_at(c, "a").unwrap(), 20);
        assert_eq!(resumed_at(c, "b").unwrap(), 0);
        // Paused again later, by hand this time.
        assert!(pause(c, "a", "by hand", false, 30).unwrap());
        assert_eq!(get(c, "a").unwrap().unwrap().reason, "by hand");
        assert_eq!(resumed_at(c, "a").unwrap(), 20);
        // Resumed in the second it was paused: the window starts at the next second, past
        // what paused it.
        assert!(resume(c, "a", 30).unwrap());
        assert_eq!(resumed_at(c, "a").unwrap(), 31);
    }
}
