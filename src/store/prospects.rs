//! `prospects`: the people to write to.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

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
    /// The address a message would go to: the accepted or edited suggestion, else the
    /// imported one ([`ADDRESS_IN_USE`]).
    pub address: Option<String>,
    /// Where [`ProspectRow::address`] comes from ([`ADDRESS_SOURCE`]): `imported`,
    /// `accepted` or `edited`.
    pub address_source: Option<String>,
}

/// SQL for the address a prospect `p` is written to, as the outbox build chooses it: the
/// suggestion the user accepted or edited, else the address the import gave. Every view
/// that shows "the" address of a prospect reads it through here, so none shows one and
/// sends to another.
pub const ADDRESS_IN_USE: &str = "COALESCE((SELECT s.email FROM suggestions s \
     WHERE s.prospect_id = p.id AND s.status IN ('accepted', 'edited') AND s.email IS NOT NULL), \
     p.email)";

/// SQL for where [`ADDRESS_IN_USE`] comes from: the suggestion's status (`accepted`,
/// `edited`), `imported`, or NULL when the prospect has no address.
pub const ADDRESS_SOURCE: &str = "COALESCE((SELECT s.status FROM suggestions s \
     WHERE s.prospect_id = p.id AND s.status IN ('accepted', 'edited') AND s.email IS NOT NULL), \
     CASE WHEN p.email IS NOT NULL THEN 'imported' END)";

/// What storing one prospect did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// Already stored; the row filled fields the stored one had empty.
    Updated,
    /// Already stored, and the row added nothing.
    Duplicate,
}

/// Inserts the prospects of one import through prepared statements.
pub struct Inserter<'t> {
    insert: rusqlite::Statement<'t>,
    fill: rusqlite::Statement<'t>,
    stored_email: rusqlite::Statement<'t>,
    import_id: i64,
    now: i64,
}

impl<'t> Inserter<'t> {
    pub fn new(tx: &'t Transaction<'_>, import_id: i64, now: i64) -> Result<Inserter<'t>> {
        let insert = tx.prepare(
            "INSERT INTO prospects (firstname, lastname, company, company_key, person_key, email,
                                    title, domain, extra, import_id, source_row, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT(person_key, company_key) DO NOTHING",
        )?;
        // A person already stored gets what a later row knows and the stored one lacks (an
        // email found since, a title); a value already stored is never overwritten. Extra
        // columns are merged the same way: new names added, existing values kept.
        let fill = tx.prepare(
            "UPDATE prospects SET
                 email = COALESCE(email, ?3),
                 title = COALESCE(title, ?4),
                 domain = COALESCE(domain, ?5),
                 extra = json_patch(?6, extra)
             WHERE person_key = ?1 AND company_key = ?2
               AND ((email IS NULL AND ?3 IS NOT NULL)
                    OR (title IS NULL AND ?4 IS NOT NULL)
                    OR (domain IS NULL AND ?5 IS NOT NULL)
                    OR EXISTS (SELECT 1 FROM json_each(?6) AS new
                               WHERE new.key NOT IN (SELECT key FROM json_each(prospects.extra))))",
        )?;
        let stored_email =
            tx.prepare("SELECT email FROM prospects WHERE person_key = ?1 AND company_key = ?2")?;
        Ok(Inserter {
            insert,
            fill,
            stored_email,
            import_id,
            now,
        })
    }

    /// Insert one prospect, or fill the empty fields of the same person at the same company.
    pub fn insert(&mut self, p: &NewProspect) -> Result<Stored> {
        let inserted = self.insert.execute(params![
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
        if inserted == 1 {
            return Ok(Stored::New);
        }
        let filled = self.fill.execute(params![
            p.person_key,
            p.company_key,
            p.email,
            p.title,
            p.domain,
            p.extra
        ])?;
        Ok(if filled == 1 {
            Stored::Updated
        } else {
            Stored::Duplicate
        })
    }
}

impl Inserter<'_> {
    /// The address already stored for the same person when `p` brings another one, which
    /// [`Inserter::insert`] does not overwrite: the import says so on the row.
    pub fn kept_email(&mut self, p: &NewProspect) -> Result<Option<String>> {
        let Some(new) = &p.email else {
            return Ok(None);
        };
        let stored: Option<Option<String>> = self
            .stored_email
            .query_row(params![p.person_key, p.company_key], |r| r.get(0))
            .optional()?;
        Ok(stored
            .flatten()
            .filter(|old| !old.eq_ignore_ascii_case(new)))
    }
}

/// Insert one prospect (tests and one-off writes; imports use an [`Inserter`]); `false` when
/// the same person at the same company is already stored (its empty fields are filled).
pub fn insert(tx: &Transaction<'_>, p: &NewProspect, import_id: i64, now: i64) -> Result<bool> {
    Ok(Inserter::new(tx, import_id, now)?.insert(p)? == Stored::New)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM prospects", [], |r| r.get(0))?)
}

/// The address the outbox would use for prospect `id` now ([`ADDRESS_IN_USE`]); `None` when
/// it has none (or there is no such prospect).
pub fn address_in_use(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ADDRESS_IN_USE} FROM prospects p WHERE p.id = ?1"
        ))?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Visit every prospect in id order without holding them all in memory.
pub fn for_each(
    conn: &Connection,
    mut visit: impl FnMut(ProspectRow) -> std::result::Result<(), String>,
) -> Result<std::result::Result<(), String>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT p.id, p.firstname, p.lastname, p.company, p.company_key, p.email, p.title,
                p.domain, p.extra, {ADDRESS_IN_USE}, {ADDRESS_SOURCE}
         FROM prospects p ORDER BY p.id"
    ))?;
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
        address: r.get(9)?,
        address_source: r.get(10)?,
    })
}
