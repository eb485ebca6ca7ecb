//! The imports log: one row per import that went through (a failed or cancelled import
//! leaves none), with its file, sheet, kind and counts.

use rusqlite::Connection;

use super::Result;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportLogEntry {
    pub id: i64,
    /// A Unix time.
    pub created_at: i64,
    /// `prospects` or `messages`.
    pub kind: String,
    pub file: String,
    /// The sheet read (`None` for a CSV, which has none, and when not logged).
    pub sheet: Option<String>,
    pub imported: i64,
    /// `None` for imports logged before this count was kept (schema migration 13).
    pub updated: Option<i64>,
    pub duplicates: i64,
    pub replaced: i64,
    pub rejected: i64,
}

/// Every import, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<ImportLogEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, created_at, kind, file, sheet, imported, updated, duplicates, replaced,
                rejected
         FROM imports ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ImportLogEntry {
            id: r.get(0)?,
            created_at: r.get(1)?,
            kind: r.get(2)?,
            file: r.get(3)?,
            sheet: r.get(4)?,
            imported: r.get(5)?,
            updated: r.get(6)?,
            duplicates: r.get(7)?,
            replaced: r.get(8)?,
            rejected: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
