//! `prospects`: the people to write to.

use rusqlite::{Connection, Transaction, params};

use super::Result;

/// A validated, normalised prospect ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProspect {
    pub firstname: String,
    pub lastname: String,
    pub company: String,
    pub company_key: String,
    pub person_key: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub domain: Option<String>,
    /// JSON object of the columns hailer has no field for.
    pub extra: String,
    pub source_row: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProspectRow {
    pub id: i64,
    pub firstname: String,
    pub lastname: String,
    pub company: String,
    pub company_key: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub domain: Option<String>,
    pub extra: String,
}

/// Inserts the prospects of one import through one prepared statement.
pub struct Inserter<'t> {
    stmt: rusqlite::Statement<'t>,
    import_id: i64,
    now: i64,
}

impl<'t> Inserter<'t> {
    pub fn new(tx: &'t Transaction<'_>, import_id: i64, now: i64) -> Result<Inserter<'t>> {
        let stmt = tx.prepare(
            "INSERT INTO prospects (firstname, lastname, company, company_key, person_key, email,
                                    title, domain, extra, import_id, source_row, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT(person_key, company_key) DO NOTHING",
        )?;
        Ok(Inserter {
            stmt,
            import_id,
            now,
        })
    }

    /// Insert one prospect; `false` when the same person at the same company is already stored.
    pub fn insert(&mut self, p: &NewProspect) -> Result<bool> {
        let changed = self.stmt.execute(params![
            p.firstname,
            p.lastname,
            p.company,
            p.company_key,
            p.person_key,
            p.email,
            p.title,
            p.domain,
            p.extra,
            self.import_id,
            p.source_row,
            self.now
        ])?;
        Ok(changed == 1)
    }
}

/// Insert one prospect (tests and one-off writes; imports use an [`Inserter`]); `false` when
/// the same person at the same company is already stored.
pub fn insert(tx: &Transaction<'_>, p: &NewProspect, import_id: i64, now: i64) -> Result<bool> {
    Inserter::new(tx, import_id, now)?.insert(p)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM prospects", [], |r| r.get(0))?)
}

/// Visit every prospect in id order without holding them all in memory.
pub fn for_each(
    conn: &Connection,
    mut visit: impl FnMut(ProspectRow) -> std::result::Result<(), String>,
) -> Result<std::result::Result<(), String>> {
    let mut stmt = conn.prepare(
        "SELECT id, firstname, lastname, company, company_key, email, title, domain, extra
         FROM prospects ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Err(e) = visit(from_row(r)?) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

pub fn list(conn: &Connection) -> Result<Vec<ProspectRow>> {
    let mut out = Vec::new();
    for_each(conn, |p| {
        out.push(p);
        Ok(())
    })?
    .ok();
    Ok(out)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProspectRow> {
    Ok(ProspectRow {
        id: r.get(0)?,
        firstname: r.get(1)?,
        lastname: r.get(2)?,
        company: r.get(3)?,
        company_key: r.get(4)?,
        email: r.get(5)?,
        title: r.get(6)?,
        domain: r.get(7)?,
        extra: r.get(8)?,
    })
}
