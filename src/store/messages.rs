//! `messages`: one subject and body per company key, the templates the outbox fills in.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub company: String,
    pub company_key: String,
    pub subject: String,
    pub body: String,
    pub extra: String,
    pub source_row: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub company: String,
    pub company_key: String,
    pub subject: String,
    pub body: String,
    pub extra: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// Same company key, same subject and body: nothing to do.
    Duplicate,
    /// Same company key, new text: the newer import wins.
    Replaced,
}

pub fn upsert(tx: &Transaction<'_>, m: &NewMessage, import_id: i64, now: i64) -> Result<Stored> {
    let existing: Option<(String, String)> = tx
        .prepare_cached("SELECT subject, body FROM messages WHERE company_key = ?1")?
        .query_row([&m.company_key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((s, b)) if s == m.subject && b == m.body => Ok(Stored::Duplicate),
        Some(_) => {
            tx.prepare_cached(
                "UPDATE messages SET company = ?2, subject = ?3, body = ?4, extra = ?5,
                        import_id = ?6, source_row = ?7, updated_at = ?8
                 WHERE company_key = ?1",
            )?
            .execute(params![
                m.company_key,
                m.company,
                m.subject,
                m.body,
                m.extra,
                import_id,
                m.source_row,
                now
            ])?;
            Ok(Stored::Replaced)
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO messages (company, company_key, subject, body, extra, import_id,
                                       source_row, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )?
            .execute(params![
                m.company,
                m.company_key,
                m.subject,
                m.body,
                m.extra,
                import_id,
                m.source_row,
                now
            ])?;
            Ok(Stored::New)
        }
    }
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?)
}

pub fn list(conn: &Connection) -> Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, company, company_key, subject, body, extra FROM messages ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(MessageRow {
            id: r.get(0)?,
            company: r.get(1)?,
            company_key: r.get(2)?,
            subject: r.get(3)?,
            body: r.get(4)?,
            extra: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
