//! `companies`: one row per normalised company key, with its domain and where the domain came from.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::Result;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Company {
    pub key: String,
    pub name: String,
    pub domain: Option<String>,
    pub domain_source: Option<String>,
    pub domain_note: Option<String>,
    /// From the bundled sample data (`hailer demo`): fictional, looked up only under `.test`.
    pub sample: bool,
}

/// Insert the company when new. A domain given by an import is the user's word, so it is
/// recorded (source `import`) unless the company already has an import-provided domain.
/// `sample`: the import reads the bundled sample data; any other import naming the company
/// makes it a real one.
pub fn upsert(
    tx: &Transaction<'_>,
    key: &str,
    name: &str,
    domain: Option<&str>,
    sample: bool,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO companies (key, name, updated_at, sample) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET sample = sample AND excluded.sample",
    )?
    .execute(params![key, name, now, sample])?;
    if let Some(domain) = domain {
        tx.prepare_cached(
            "UPDATE companies SET domain = ?2, domain_source = 'import', domain_note = 'given in the imported file', updated_at = ?3
             WHERE key = ?1 AND (domain IS NULL OR domain_source IS NOT 'import')",
        )?
        .execute(params![key, domain, now])?;
    }
    Ok(())
}

pub fn get(conn: &Connection, key: &str) -> Result<Option<Company>> {
    Ok(conn
        .query_row(
            "SELECT key, name, domain, domain_source, domain_note, sample FROM companies WHERE key = ?1",
            [key],
            from_row,
        )
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Company>> {
    let mut stmt = conn.prepare(
        "SELECT key, name, domain, domain_source, domain_note, sample FROM companies ORDER BY key",
    )?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM companies", [], |r| r.get(0))?)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Company> {
    Ok(Company {
        key: r.get(0)?,
        name: r.get(1)?,
        domain: r.get(2)?,
        domain_source: r.get(3)?,
        domain_note: r.get(4)?,
        sample: r.get(5)?,
    })
}
