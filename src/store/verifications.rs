//! `verifications`: the latest verification verdict per address, also the cache that lets a
//! run skip addresses checked recently.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// One stored verdict. `status` is one of `engine::verify::Status`'s names (`VALID`, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerificationRow {
    pub email: String,
    pub status: String,
    pub mx: Option<String>,
    pub code: Option<i64>,
    pub enhanced: Option<String>,
    pub detail: String,
    pub checked_at: i64,
}

/// Which prospects a database verification takes: all of them, or those the user points
/// at (ids, a company, a suggestion status). Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Scope {
    /// Prospect ids (the Suggestions rows marked, `hailer verify 3 7`).
    pub ids: Vec<i64>,
    /// A company, by its name as imported or its key (case and accents ignored).
    pub company: Option<String>,
    /// A suggestion status: suggested, accepted, edited, no-domain, … (`pending`: no
    /// suggestion yet).
    pub status: Option<String>,
}

impl Scope {
    pub fn is_all(&self) -> bool {
        self.ids.is_empty() && self.company.is_none() && self.status.is_none()
    }

    /// The SQL condition on `p` (prospects) and `s` (their suggestion, LEFT JOINed) and its
    /// three parameters (ids as JSON, company key, status).
    pub(crate) fn sql(&self) -> (&'static str, [Option<String>; 3]) {
        (
            "(?1 IS NULL OR p.id IN (SELECT value FROM json_each(?1)))
             AND (?2 IS NULL OR p.company_key = ?2)
             AND (?3 IS NULL OR COALESCE(s.status, 'pending') = ?3)",
            [
                (!self.ids.is_empty())
                    .then(|| serde_json::to_string(&self.ids).unwrap_or_default()),
                self.company
                    .as_deref()
                    .map(crate::engine::import::normalize::company_key),
                self.status.clone(),
            ],
        )
    }
}

/// What of `scope` names nothing: "no prospect 999", "no prospect at company Nope". Empty
/// when every id is a prospect and the company has one.
pub fn unknown_in_scope(conn: &Connection, scope: &Scope) -> Result<Vec<String>> {
    let mut unknown = Vec::new();
    let mut prospect = conn.prepare_cached("SELECT 1 FROM prospects WHERE id = ?1")?;
    for id in &scope.ids {
        if !prospect.exists([id])? {
            unknown.push(format!("no prospect {id}"));
        }
    }
    if let Some(company) = &scope.company {
        let key = crate::engine::import::normalize::company_key(company);
        let found = conn
            .prepare_cached("SELECT 1 FROM prospects WHERE company_key = ?1 LIMIT 1")?
            .exists([key])?;
        if !found {
            unknown.push(format!("no prospect at company {company:?}"));
        }
    }
    Ok(unknown)
}

impl std::fmt::Display for Scope {
    /// "prospects 3, 7 of Acme, suggested", or "every prospect".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_all() {
            return write!(f, "every prospect");
        }
        let mut parts = Vec::new();
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().take(5).map(i64::to_string).collect();
            let more = self.ids.len().saturating_sub(ids.len());
            parts.push(format!(
                "prospect{} {}{}",
                if self.ids.len() == 1 { "" } else { "s" },
                ids.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if let Some(c) = &self.company {
            parts.push(format!("company {c}"));
        }
        if let Some(st) = &self.status {
            parts.push(format!("status {st}"));
        }
        write!(f, "{}", parts.join(", "))
    }
}

/// The addresses `hailer verify` checks when given no input: every distinct, non-blank
/// prospect address (imported or suggested), as stored (so `verifications.email` joins
/// `prospects.email` and `suggestions.email`), in the order they were first imported, for
/// the prospects in the scope. A suggestion's alternatives are not here: they are verified
/// only when the address before them is verified dead (see `engine::verify::database`).
fn candidates_sql(scope: &Scope) -> (String, [Option<String>; 3]) {
    let (cond, params) = scope.sql();
    (
        format!(
            "SELECT email FROM (
                SELECT email, min(first_seen) AS first_seen FROM (
                    SELECT p.email AS email, p.id AS first_seen FROM prospects p
                    LEFT JOIN suggestions s ON s.prospect_id = p.id
                    WHERE p.email IS NOT NULL AND trim(p.email) <> '' AND {cond}
                    UNION ALL
                    SELECT s.email AS email, p.id AS first_seen FROM prospects p
                    JOIN suggestions s ON s.prospect_id = p.id
                    WHERE s.email IS NOT NULL AND trim(s.email) <> '' AND {cond}
                )
                GROUP BY email
            )
            ORDER BY first_seen"
        ),
        params,
    )
}

pub fn get(conn: &Connection, email: &str) -> Result<Option<VerificationRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT email, status, mx, code, enhanced, detail, checked_at
             FROM verifications WHERE email = ?1",
        )?
        .query_row([email], from_row)
        .optional()?)
}

/// Insert or replace the verdict for `row.email`, except that an answer that settles nothing
/// (TIMEOUT, TEMPORARY, UNKNOWN, a refused connection: see `Status::is_definitive`) never
/// replaces one that did: a resolver refusing every query, or a server down for an hour,
/// would otherwise turn a stored MAILBOX_NOT_FOUND into a sendable UNKNOWN. The old verdict
/// keeps its date, so it is asked again once it is old.
pub fn upsert(conn: &Connection, row: &VerificationRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO verifications (email, status, mx, code, enhanced, detail, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(email) DO UPDATE SET
            status = excluded.status, mx = excluded.mx, code = excluded.code,
            enhanced = excluded.enhanced, detail = excluded.detail,
            checked_at = excluded.checked_at
         WHERE excluded.status IN (SELECT value FROM json_each(?8))
            OR verifications.status NOT IN (SELECT value FROM json_each(?8))",
    )?
    .execute(params![
        row.email,
        row.status,
        row.mx,
        row.code,
        row.enhanced,
        row.detail,
        row.checked_at,
        definitive_json()
    ])?;
    Ok(())
}

/// The definitive statuses as a JSON array, for SQL.
fn definitive_json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let names: Vec<&str> = crate::engine::verify::Status::ALL
            .iter()
            .filter(|s| s.is_definitive())
            .map(|s| s.as_str())
            .collect();
        serde_json::to_string(&names).unwrap_or_default()
    })
}

/// Visit each candidate address (see [`candidates_sql`]) without loading them all; the visitor
/// returns `false` to stop. A suppressed address is left out: it is never mailed, so its
/// verdict helps no one, and probing an address that bounced or complained spends the
/// sender's standing with that server for nothing.
pub fn for_each_candidate(
    conn: &Connection,
    scope: &Scope,
    mut visit: impl FnMut(String) -> bool,
) -> Result<()> {
    let (sql, params) = candidates_sql(scope);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(r) = rows.next()? {
        let email: String = r.get(0)?;
        if super::suppressions::blocking(conn, &email)?.is_some() {
            continue;
        }
        if !visit(email) {
            break;
        }
    }
    Ok(())
}

/// How many addresses [`for_each_candidate`] visits.
pub fn count_candidates(conn: &Connection, scope: &Scope) -> Result<i64> {
    let mut n = 0;
    for_each_candidate(conn, scope, |_| {
        n += 1;
        true
    })?;
    Ok(n)
}

pub fn list(conn: &Connection) -> Result<Vec<VerificationRow>> {
    let mut stmt = conn.prepare(
        "SELECT email, status, mx, code, enhanced, detail, checked_at
         FROM verifications ORDER BY email",
    )?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VerificationRow> {
    Ok(VerificationRow {
        email: r.get(0)?,
        status: r.get(1)?,
        mx: r.get(2)?,
        code: r.get(3)?,
        enhanced: r.get(4)?,
        detail: r.get(5)?,
        checked_at: r.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn row(email: &str, status: &str, at: i64) -> VerificationRow {
        VerificationRow {
            email: email.into(),
            status: status.into(),
            mx: Some("mx.acme.test".into()),
            code: Some(250),
            enhanced: Some("2.1.5".into()),
            detail: "Ok".into(),
            checked_at: at,
        }
    }

    #[test]
    fn upsert_replaces_the_previous_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let conn = store.conn();
        assert_eq!(get(conn, "jane@acme.test").unwrap(), None);
        upsert(conn, &row("jane@acme.test", "TEMPORARY", 1)).unwrap();
        upsert(conn, &row("jane@acme.test", "VALID", 2)).unwrap();
        let got = get(conn, "jane@acme.test").unwrap().unwrap();
        assert_eq!((got.status.as_str(), got.checked_at), ("VALID", 2));
        assert_eq!(list(conn).unwrap().len(), 1);
        // A definitive verdict is replaced by another one, never by an answer that settles
        // nothing (a resolver refusing, a server timing out).
        upsert(conn, &row("jane@acme.test", "MAILBOX_NOT_FOUND", 3)).unwrap();
        for (status, at) in [("UNKNOWN", 4), ("TEMPORARY", 5), ("TIMEOUT", 6)] {
            upsert(conn, &row("jane@acme.test", status, at)).unwrap();
        }
        let got = get(conn, "jane@acme.test").unwrap().unwrap();
        assert_eq!(
            (got.status.as_str(), got.checked_at),
            ("MAILBOX_NOT_FOUND", 3)
        );
        upsert(conn, &row("jane@acme.test", "TIMEOUT", 7)).unwrap();
        upsert(conn, &row("bob@acme.test", "TIMEOUT", 7)).unwrap();
        upsert(conn, &row("bob@acme.test", "UNKNOWN", 8)).unwrap();
        assert_eq!(get(conn, "bob@acme.test").unwrap().unwrap().checked_at, 8);
    }

    #[test]
    fn candidates_are_distinct_non_empty_prospect_addresses_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
             INSERT INTO prospects (firstname, lastname, company, company_key, person_key, email, created_at) VALUES
               ('B', 'B', 'Acme', 'acme', 'b|b', 'b@acme.test', 0),
               ('A', 'A', 'Acme', 'acme', 'a|a', 'a@acme.test', 0),
               ('C', 'C', 'Acme', 'acme', 'c|c', 'b@acme.test', 0),
               ('D', 'D', 'Acme', 'acme', 'd|d', NULL, 0),
               ('E', 'E', 'Acme', 'acme', 'e|e', '  ', 0);",
        )
        .unwrap();
        let mut seen = Vec::new();
        for_each_candidate(conn, &Scope::default(), |e| {
            seen.push(e);
            true
        })
        .unwrap();
        assert_eq!(seen, ["b@acme.test", "a@acme.test"]);
        assert_eq!(count_candidates(conn, &Scope::default()).unwrap(), 2);
        // A suppressed address (or domain) is not probed, nor counted.
        crate::store::suppressions::add(conn, "b@acme.test", "bounced", None, 1).unwrap();
        let mut seen = Vec::new();
        for_each_candidate(conn, &Scope::default(), |e| {
            seen.push(e);
            true
        })
        .unwrap();
        assert_eq!(seen, ["a@acme.test"]);
        crate::store::suppressions::add(conn, "@acme.test", "manual", None, 1).unwrap();
        assert_eq!(count_candidates(conn, &Scope::default()).unwrap(), 0);
    }
}
