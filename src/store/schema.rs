//! Versioned migrations, tracked with `PRAGMA user_version`.
//!
//! Each entry runs once, in order, inside one transaction. Later features append entries;
//! an entry is never edited once released, because existing databases already ran it.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};

pub const MIGRATIONS: &[&str] = &[
    // 1: companies, prospects, messages, and an import audit log.
    "CREATE TABLE companies (
        key           TEXT PRIMARY KEY,        -- normalised company key (import::company_key)
        name          TEXT NOT NULL,           -- display name, as first imported
        domain        TEXT,                    -- registrable domain, lowercase
        domain_source TEXT,                    -- import | search | guess | manual
        domain_note   TEXT,                    -- evidence for the domain
        updated_at    INTEGER NOT NULL
    );
    CREATE TABLE imports (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,             -- prospects | messages
        file        TEXT NOT NULL,
        sheet       TEXT,
        imported    INTEGER NOT NULL,
        duplicates  INTEGER NOT NULL,
        rejected    INTEGER NOT NULL,
        replaced    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE prospects (
        id          INTEGER PRIMARY KEY,
        firstname   TEXT NOT NULL,
        lastname    TEXT NOT NULL,
        company     TEXT NOT NULL,
        company_key TEXT NOT NULL REFERENCES companies(key),
        person_key  TEXT NOT NULL,             -- folded 'first|last' for duplicate detection
        email       TEXT,
        title       TEXT,
        domain      TEXT,
        extra       TEXT NOT NULL DEFAULT '{}', -- other columns, JSON object header -> value
        import_id   INTEGER REFERENCES imports(id),
        source_row  INTEGER,
        created_at  INTEGER NOT NULL,
        UNIQUE (person_key, company_key)
    );
    CREATE INDEX prospects_company ON prospects(company_key);
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        company     TEXT NOT NULL,
        company_key TEXT NOT NULL UNIQUE REFERENCES companies(key),
        subject     TEXT NOT NULL,
        body        TEXT NOT NULL,
        extra       TEXT NOT NULL DEFAULT '{}',
        import_id   INTEGER REFERENCES imports(id),
        source_row  INTEGER,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );",
    // 2: find emails: one suggestion per prospect, and caches with their own timestamps.
    "CREATE TABLE suggestions (
        prospect_id  INTEGER PRIMARY KEY REFERENCES prospects(id) ON DELETE CASCADE,
        email        TEXT,                     -- suggested address (NULL when none could be made)
        alternatives TEXT NOT NULL DEFAULT '[]', -- JSON array of up to 3 addresses
        pattern      TEXT,                     -- first.last, flast, ... (pattern::Pattern::name)
        confidence   INTEGER NOT NULL DEFAULT 0, -- 0..100
        evidence     TEXT NOT NULL DEFAULT '[]', -- JSON array of human-readable lines
        status       TEXT NOT NULL,            -- suggested | accepted | edited | no-domain | no-mail | failed
        reason       TEXT,                     -- why there is no (good) suggestion
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE find_domains (
        company_key  TEXT PRIMARY KEY,
        domain       TEXT,                     -- NULL: none found
        source       TEXT,                     -- import | search | guess | manual
        note         TEXT NOT NULL,
        mail_dns     TEXT NOT NULL,            -- what DNS said (MX hosts, null MX, ...)
        accepts_mail INTEGER NOT NULL,
        checked_at   INTEGER NOT NULL
    );
    CREATE TABLE find_sites (
        domain      TEXT PRIMARY KEY,
        report      TEXT NOT NULL,             -- JSON site::SiteReport: pages and addresses seen
        fetched_at  INTEGER NOT NULL
    );
    CREATE TABLE find_patterns (
        domain      TEXT PRIMARY KEY,
        pattern     TEXT NOT NULL,
        confidence  INTEGER NOT NULL,
        evidence    TEXT NOT NULL,             -- JSON array
        updated_at  INTEGER NOT NULL
    );",
];

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        migrate(&mut conn, &path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        let err = migrate(&mut conn, &path).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
