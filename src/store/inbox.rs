//! `inbox_folders` and `inbox_messages`: how far the IMAP watcher read each folder, and every
//! message it read. A message is handled once: by (mailbox, folder, UIDVALIDITY, UID), and by its
//! Message-ID across folders, mailboxes and UIDVALIDITY changes.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// Where a folder was read up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderState {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

pub fn folder_state(conn: &Connection, mailbox: &str, folder: &str) -> Result<Option<FolderState>> {
    Ok(conn
        .query_row(
            "SELECT uidvalidity, last_uid FROM inbox_folders WHERE mailbox = ?1 AND folder = ?2",
            params![mailbox, folder],
            |r| {
                Ok(FolderState {
                    uidvalidity: r.get(0)?,
                    last_uid: r.get(1)?,
                })
            },
        )
        .optional()?)
}

pub fn set_folder_state(
    conn: &Connection,
    mailbox: &str,
    folder: &str,
    state: FolderState,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO inbox_folders (mailbox, folder, uidvalidity, last_uid, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(mailbox, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
             last_uid = excluded.last_uid, synced_at = excluded.synced_at",
    )?
    .execute(params![
        mailbox,
        folder,
        state.uidvalidity,
        state.last_uid,
        now
    ])?;
    Ok(())
}

/// True when this exact message (folder, UIDVALIDITY, UID) was already read.
pub fn seen_uid(
    conn: &Connection,
    mailbox: &str,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM inbox_messages WHERE mailbox = ?1 AND folder = ?2 AND uidvalidity = ?3 AND uid = ?4",
        )?
        .query_row(params![mailbox, folder, uidvalidity, uid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// True when a message with this key (Message-ID) was already handled anywhere.
pub fn seen_key(conn: &Connection, key: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM inbox_messages WHERE message_key = ?1 AND kind != 'duplicate' LIMIT 1",
        )?
        .query_row([key], |_| Ok(()))
        .optional()?
        .is_some())
}

/// One message read.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub mailbox: &'a str,
    pub folder: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
    pub message_key: &'a str,
    pub kind: &'a str,
    pub outbox_id: Option<i64>,
    pub from_addr: Option<&'a str>,
    pub subject: &'a str,
    /// What a reply says ([`SNIPPET_CHARS`] at most); empty for reports.
    pub snippet: &'a str,
    /// How it was matched to `outbox_id`, or why nothing matched; empty when not looked up.
    pub matched_by: &'a str,
}

/// The longest snippet of a reply kept: enough to read a short answer in full.
pub const SNIPPET_CHARS: usize = 1000;

/// `text` cut to [`SNIPPET_CHARS`] (on a character boundary, "…" when cut), blank-line runs
/// made one.
pub fn snippet(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        blank = if line.is_empty() { blank + 1 } else { 0 };
        if blank < 2 {
            out.push_str(line);
            out.push('\n');
        }
    }
    let out = out.trim_end();
    match out.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out.to_string(),
    }
}

/// Record a message; returns its row id.
pub fn insert_message(conn: &Connection, m: &NewMessage<'_>, now: i64) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO inbox_messages (mailbox, folder, uidvalidity, uid, message_key, kind,
             outbox_id, from_addr, subject, processed_at, snippet, matched_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        m.mailbox,
        m.folder,
        m.uidvalidity,
        m.uid,
        m.message_key,
        m.kind,
        m.outbox_id,
        m.from_addr,
        m.subject,
        now,
        m.snippet,
        m.matched_by
    ])?;
    Ok(conn.last_insert_rowid())
}

pub fn set_moved(conn: &Connection, id: i64, folder: &str) -> Result<()> {
    conn.prepare_cached("UPDATE inbox_messages SET moved_to = ?2 WHERE id = ?1")?
        .execute(params![id, folder])?;
    Ok(())
}

/// A person's answer to a sent row, as read: a reply, an unsubscribe request, an auto-reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRead {
    pub processed_at: i64,
    pub kind: String,
    pub from_addr: Option<String>,
    pub subject: String,
    pub snippet: String,
    pub matched_by: String,
}

/// The kinds of message a person (or their auto-responder) sent in answer to a row.
pub const ANSWER_KINDS: &str = "('reply', 'unsubscribe', 'autoreply')";

/// The answers read for outbox row `outbox_id`, oldest first.
pub fn replies_to(conn: &Connection, outbox_id: i64) -> Result<Vec<ReplyRead>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT processed_at, kind, from_addr, subject, snippet, matched_by FROM inbox_messages
         WHERE outbox_id = ?1 AND kind IN {ANSWER_KINDS} ORDER BY id"
    ))?;
    let rows = stmt.query_map([outbox_id], |r| {
        Ok(ReplyRead {
            processed_at: r.get(0)?,
            kind: r.get(1)?,
            from_addr: r.get(2)?,
            subject: r.get(3)?,
            snippet: r.get(4)?,
            matched_by: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Per outbox row, the snippet of the latest reply or unsubscribe request that has one.
pub fn latest_snippets(conn: &Connection) -> Result<std::collections::HashMap<i64, String>> {
    let mut stmt = conn.prepare(
        "SELECT outbox_id, snippet FROM inbox_messages
         WHERE outbox_id IS NOT NULL AND kind IN ('reply', 'unsubscribe') AND snippet != ''
         ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // Later rows overwrite earlier ones: the latest stays.
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many messages of each kind were read (all mailboxes).
pub fn kind_counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt =
        conn.prepare("SELECT kind, COUNT(*) FROM inbox_messages GROUP BY kind ORDER BY kind")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
